package bench

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sdpkit/sdpkit/connector/attribute"
	"github.com/sdpkit/sdpkit/connector/descriptor"
	"github.com/sdpkit/sdpkit/connector/exchange"
	"github.com/sdpkit/sdpkit/connector/kafkaio"
	"github.com/sdpkit/sdpkit/connector/sink"
	"github.com/sdpkit/sdpkit/dataqueue"
	"github.com/sdpkit/sdpkit/dataqueue/encoding"
	"github.com/sdpkit/sdpkit/pyval"
)

// ConnectorModes are the variants of Connector.
var ConnectorModes = []string{"engine", "bare"}

// ConnectorSinks are the sinks Connector can measure.
var ConnectorSinks = []string{"kafka", "attribute"}

// ConnectorConfig describes one Kafka → pipe → sink benchmark run.
type ConnectorConfig struct {
	Brokers  []string
	Mode     string // engine or bare
	Sink     string // kafka (default) or attribute
	N        int    // records of the throughput phase
	Elements int    // float64 elements per record (default 16)
	Encoding string // of both topics (default msgpack_numpy)
	// Latency is the number of records of the latency phase (default
	// N/10, between 100 and 5000; negative: no latency phase), sent one
	// every LatencyGap (default 200 µs).
	Latency    int
	LatencyGap time.Duration
}

// ConnectorResult is one Connector run: the throughput of the first phase and
// the latencies of the second.
type ConnectorResult struct {
	Result
	Sink     string `json:"sink"`
	Encoding string `json:"encoding"`
	Elements int    `json:"elements"`
	// LatencyN is the number of records the latencies are taken from.
	LatencyN int `json:"latency_n"`
}

// Connector moves records from a topic through a pipe to a sink and reports
// the records per second and the latency percentiles (Layer is the mode):
//
//   - engine: a queue-connector exchange, KafkaConsumerSource (from the
//     earliest offset) → DefaultPipe → KafkaProducerSink (sink "kafka") or
//     TangoLocalAttributeSink writing an attribute store (sink "attribute");
//   - bare: the same work without the connector: one franz-go client
//     consumes and decodes each record with the same codec, then either
//     encodes it again and produces it asynchronously with another franz-go
//     client (kafka), or stores it in a map under a mutex (attribute).
//
// Phase 1, throughput: N records (float64 arrays of Elements values; element
// 0 is the sequence number) are produced first, not timed; the clock runs
// from the creation of the clients to the last sink write (kafka: the last
// acknowledgement, after a flush). Phase 2, latency: with the pipeline still
// running, Latency more records are sent one at a time, LatencyGap apart;
// a record's latency runs from just before its send to its sink write (for
// kafka, the call to produce, not its acknowledgement, in both modes).
// Both topics are fresh (one partition) and deleted afterwards; with the
// kafka sink the output topic's size is checked.
func Connector(ctx context.Context, cfg ConnectorConfig) (ConnectorResult, error) {
	if cfg.N < 1 {
		return ConnectorResult{}, fmt.Errorf("bench: need n ≥ 1 (got %d)", cfg.N)
	}
	if !slices.Contains(ConnectorModes, cfg.Mode) {
		return ConnectorResult{}, fmt.Errorf("bench: unknown connector mode %q (want one of %v)", cfg.Mode, ConnectorModes)
	}
	if cfg.Sink == "" {
		cfg.Sink = "kafka"
	}
	if !slices.Contains(ConnectorSinks, cfg.Sink) {
		return ConnectorResult{}, fmt.Errorf("bench: unknown connector sink %q (want one of %v)", cfg.Sink, ConnectorSinks)
	}
	if cfg.Elements <= 0 {
		cfg.Elements = 16
	}
	if cfg.Encoding == "" {
		cfg.Encoding = "msgpack_numpy"
	}
	if cfg.Latency == 0 {
		cfg.Latency = min(max(cfg.N/10, 100), 5000)
	}
	cfg.Latency = max(cfg.Latency, 0)
	if cfg.LatencyGap <= 0 {
		cfg.LatencyGap = 200 * time.Microsecond
	}
	dt := descriptor.MustDType("float64")
	shape := []int{cfg.Elements}
	registry := encoding.NewConnectorRegistry(dt.NumPy, shape)
	codec, err := registry.Lookup(cfg.Encoding)
	if err != nil {
		return ConnectorResult{}, err
	}
	admin, err := dataqueue.NewAdmin(cfg.Brokers, dataqueue.WithClientID("sdp-bench"))
	if err != nil {
		return ConnectorResult{}, err
	}
	defer admin.Close()
	stamp := strconv.FormatInt(time.Now().UnixNano(), 36)
	in, out := "sdp-bench-connector-in-"+stamp, "sdp-bench-connector-out-"+stamp
	defer admin.DeleteTopics(context.WithoutCancel(ctx), in, out)
	if err := admin.CreateTopics(ctx, dataqueue.Topic(in), dataqueue.Topic(out)); err != nil {
		return ConnectorResult{}, err
	}

	p, err := dataqueue.NewProducer(cfg.Brokers, dataqueue.WithTopic(in), dataqueue.WithEncoding(cfg.Encoding),
		dataqueue.WithRegistry(registry), dataqueue.WithLinger(5*time.Millisecond), dataqueue.WithClientID("sdp-bench"))
	if err != nil {
		return ConnectorResult{}, err
	}
	defer p.Close(context.WithoutCancel(ctx))
	data := make([]float64, cfg.Elements)
	for i := range cfg.N {
		data[0] = float64(i)
		if err := p.SendAsync(ctx, pyval.ArrayOf(slices.Clone(data)), nil); err != nil {
			return ConnectorResult{}, err
		}
	}
	if err := p.Flush(ctx); err != nil {
		return ConnectorResult{}, err
	}

	total := cfg.N + cfg.Latency
	w := newWrites(total)
	run := connectorRun{cfg: cfg, dt: dt, codec: codec, in: in, out: out, w: w}
	var pl pipeline
	switch cfg.Mode {
	case "engine":
		pl, err = run.engine(ctx)
	case "bare":
		pl, err = run.bare(ctx)
	}
	if err != nil {
		return ConnectorResult{}, err
	}
	elapsed, err := pl.wait(ctx, cfg.N)
	if err != nil {
		pl.stop(context.WithoutCancel(ctx))
		return ConnectorResult{}, err
	}
	// Phase 2: one record at a time, paced, each send time noted; this
	// producer does not linger, so a record leaves at once.
	lp, err := dataqueue.NewProducer(cfg.Brokers, dataqueue.WithTopic(in), dataqueue.WithEncoding(cfg.Encoding),
		dataqueue.WithRegistry(registry), dataqueue.WithClientID("sdp-bench"))
	if err != nil {
		pl.stop(context.WithoutCancel(ctx))
		return ConnectorResult{}, err
	}
	defer lp.Close(context.WithoutCancel(ctx))
	for i := cfg.N; i < total; i++ {
		data[0] = float64(i)
		w.sent[i] = time.Now()
		if err := lp.SendAsync(ctx, pyval.ArrayOf(slices.Clone(data)), nil); err != nil {
			pl.stop(context.WithoutCancel(ctx))
			return ConnectorResult{}, err
		}
		if err := sleepCtx(ctx, cfg.LatencyGap); err != nil {
			pl.stop(context.WithoutCancel(ctx))
			return ConnectorResult{}, err
		}
	}
	if err := lp.Flush(ctx); err != nil {
		pl.stop(context.WithoutCancel(ctx))
		return ConnectorResult{}, err
	}
	if _, err := pl.wait(ctx, total); err != nil {
		pl.stop(context.WithoutCancel(ctx))
		return ConnectorResult{}, err
	}
	if err := pl.stop(ctx); err != nil {
		return ConnectorResult{}, err
	}
	if cfg.Sink == "kafka" {
		ends, err := admin.Kadm().ListEndOffsets(ctx, out)
		if err == nil {
			err = ends.Error()
		}
		if err != nil {
			return ConnectorResult{}, err
		}
		var n int64
		ends.Each(func(o kadm.ListedOffset) { n += o.Offset })
		if n != int64(total) {
			return ConnectorResult{}, fmt.Errorf("bench: %s moved %d records of %d", cfg.Mode, n, total)
		}
	}
	lat := w.latencies(cfg.N, total)
	r := ConnectorResult{
		Result: Result{
			Op: "connector", Layer: cfg.Mode, N: cfg.N, Clients: 1,
			OpsPerS: round(float64(cfg.N) / elapsed.Seconds()),
			Elapsed: roundSig(elapsed.Seconds()), // a short run must not round to 0
		},
		Sink: cfg.Sink, Encoding: cfg.Encoding, Elements: cfg.Elements, LatencyN: len(lat),
	}
	if len(lat) > 0 {
		r.P50us, r.P99us = round(percentile(lat, 0.5)), round(percentile(lat, 0.99))
	}
	return r, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// writes records, by sequence number, when each record was sent (phase 2)
// and written by the sink. Each slot is written by one goroutine and read
// after the writer is done (the count is the happens-before edge).
type writes struct {
	sent    []time.Time
	written []time.Time
	n       atomic.Int64
}

func newWrites(n int) *writes {
	return &writes{sent: make([]time.Time, n), written: make([]time.Time, n)}
}

// note records that the record holding v was written now.
func (w *writes) note(v pyval.Value) error {
	now := time.Now()
	a, ok := v.(*pyval.NDArray)
	if !ok {
		return fmt.Errorf("bench: sink got %T, want an array", v)
	}
	seq, err := a.At(0)
	if err != nil {
		return err
	}
	f, ok := seq.(pyval.Float)
	if !ok || f < 0 || int(f) >= len(w.written) {
		return fmt.Errorf("bench: bad sequence number %v", seq)
	}
	w.written[int(f)] = now
	w.n.Add(1)
	return nil
}

func (w *writes) latencies(from, to int) []time.Duration {
	var out []time.Duration
	for i := from; i < to; i++ {
		if !w.sent[i].IsZero() && !w.written[i].IsZero() {
			out = append(out, w.written[i].Sub(w.sent[i]))
		}
	}
	slices.Sort(out)
	return out
}

// pipeline is a running engine or bare loop.
type pipeline interface {
	// wait returns the time since the pipeline was created once n records
	// are written (flushed, for the kafka sink).
	wait(ctx context.Context, n int) (time.Duration, error)
	stop(ctx context.Context) error
}

type connectorRun struct {
	cfg     ConnectorConfig
	dt      descriptor.DType
	codec   encoding.Codec
	in, out string
	w       *writes
}

// timedSink notes the write time of every record after the wrapped sink
// took it.
type timedSink struct {
	exchange.Sink
	w *writes
}

func (s timedSink) Write(ctx context.Context, v pyval.Value) error {
	if err := s.Sink.Write(ctx, v); err != nil {
		return err
	}
	return s.w.note(v)
}

type enginePipeline struct {
	x     *exchange.Exchange
	done  chan error
	start time.Time
	w     *writes
	flush func(context.Context) error
}

func (r *connectorRun) engine(ctx context.Context) (pipeline, error) {
	cfg := r.cfg
	servers := descriptor.Servers{Addrs: cfg.Brokers}
	ex := &descriptor.Exchange{DType: r.dt, Shape: []int{cfg.Elements}}
	srcDesc := &descriptor.KafkaConsumerSource{Servers: servers, Topic: r.in, Encoding: descriptor.Encoding(cfg.Encoding)}
	ex.Sources = []descriptor.Source{srcDesc}
	start := time.Now()
	src, err := kafkaio.NewSource(ctx, ex, srcDesc, kafkaio.WithStartAtEarliest(), kafkaio.WithClientID("sdp-bench"))
	if err != nil {
		return nil, err
	}
	pipe := exchange.NewDefaultPipe(r.dt.NumPy, ex.Shape)
	var snk exchange.Sink
	var flush func(context.Context) error
	switch cfg.Sink {
	case "kafka":
		sinkDesc := &descriptor.KafkaProducerSink{Servers: servers, Topic: r.out, Encoding: descriptor.Encoding(cfg.Encoding), MessageMaxBytes: 1048576}
		ex.Sink = sinkDesc
		ks, err := kafkaio.NewSink(ctx, ex, sinkDesc, pipe.OutputDType(), pipe.OutputShape(), kafkaio.WithClientID("sdp-bench"))
		if err != nil {
			return nil, err
		}
		snk, flush = ks, ks.Flush
	case "attribute":
		as, err := sink.NewLocalAttributeSink(attribute.NewStore(), "bench", pipe.OutputDType(), pipe.OutputShape(), nil)
		if err != nil {
			return nil, err
		}
		snk = as
	}
	x, err := exchange.New([]exchange.Source{src}, pipe, timedSink{snk, r.w}, exchange.WithName("bench"))
	if err != nil {
		return nil, err
	}
	if err := x.Start(ctx); err != nil {
		return nil, err
	}
	e := &enginePipeline{x: x, done: make(chan error, 1), start: start, w: r.w, flush: flush}
	go func() { e.done <- x.Run(ctx) }()
	return e, nil
}

func (e *enginePipeline) wait(ctx context.Context, n int) (time.Duration, error) {
	tick := time.NewTicker(200 * time.Microsecond)
	defer tick.Stop()
	for e.w.n.Load() < int64(n) {
		select {
		case err := <-e.done:
			return 0, fmt.Errorf("bench: exchange ended after %d records: %w", e.x.Stats().Out, err)
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-tick.C:
		}
	}
	if e.flush != nil {
		if err := e.flush(ctx); err != nil {
			return 0, err
		}
	}
	return time.Since(e.start), nil
}

func (e *enginePipeline) stop(ctx context.Context) error {
	if err := e.x.Stop(ctx); err != nil {
		return err
	}
	return <-e.done
}

// barePipeline is the connector's work without the connector: a franz-go
// consumer goroutine decodes each record and either re-encodes and produces
// it (kafka) or stores it in a map (attribute).
type barePipeline struct {
	cancel context.CancelFunc
	done   chan error
	start  time.Time
	w      *writes
	cons   *kgo.Client
	prod   *kgo.Client // nil for the attribute sink

	mu       sync.Mutex
	firstErr error
	attrs    map[string]pyval.Value
}

func (r *connectorRun) bare(ctx context.Context) (pipeline, error) {
	cfg := r.cfg
	b := &barePipeline{done: make(chan error, 1), start: time.Now(), w: r.w, attrs: map[string]pyval.Value{}}
	cons, err := kgo.NewClient(kgo.SeedBrokers(cfg.Brokers...), kgo.ConsumeTopics(r.in),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(500*time.Millisecond),
		kgo.FetchMaxPartitionBytes(16<<20), kgo.ClientID("sdp-bench"))
	if err != nil {
		return nil, err
	}
	b.cons = cons
	if cfg.Sink == "kafka" {
		if b.prod, err = kgo.NewClient(kgo.SeedBrokers(cfg.Brokers...), kgo.DefaultProduceTopic(r.out), kgo.ClientID("sdp-bench")); err != nil {
			cons.Close()
			return nil, err
		}
	}
	rctx, cancel := context.WithCancel(ctx)
	b.cancel = cancel
	go func() { b.done <- b.loop(rctx, r.codec) }()
	return b, nil
}

func (b *barePipeline) fail(_ *kgo.Record, err error) {
	if err != nil {
		b.mu.Lock()
		if b.firstErr == nil {
			b.firstErr = err
		}
		b.mu.Unlock()
	}
}

func (b *barePipeline) loop(ctx context.Context, codec encoding.Codec) error {
	var buf []byte
	for {
		fetches := b.cons.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if errs := fetches.Errors(); len(errs) > 0 {
			return fmt.Errorf("bench: fetch: %w", errs[0].Err)
		}
		for _, rec := range fetches.Records() {
			v, err := codec.Decode(rec.Value)
			if err != nil {
				return err
			}
			if b.prod != nil {
				if buf, err = encoding.AppendEncode(codec, buf[:0], v); err != nil {
					return err
				}
				b.prod.Produce(ctx, &kgo.Record{Value: slices.Clone(buf)}, b.fail)
			} else {
				b.mu.Lock()
				b.attrs["bench"] = v
				b.mu.Unlock()
			}
			if err := b.w.note(v); err != nil {
				return err
			}
		}
	}
}

func (b *barePipeline) wait(ctx context.Context, n int) (time.Duration, error) {
	tick := time.NewTicker(200 * time.Microsecond)
	defer tick.Stop()
	for b.w.n.Load() < int64(n) {
		select {
		case err := <-b.done:
			b.done <- err
			return 0, fmt.Errorf("bench: bare loop ended after %d records: %v", b.w.n.Load(), err)
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-tick.C:
		}
	}
	if b.prod != nil {
		if err := b.prod.Flush(ctx); err != nil {
			return 0, err
		}
		b.mu.Lock()
		err := b.firstErr
		b.mu.Unlock()
		if err != nil {
			return 0, errors.Join(errors.New("bench: produce"), err)
		}
	}
	return time.Since(b.start), nil
}

func (b *barePipeline) stop(ctx context.Context) error {
	b.cancel()
	err := <-b.done
	b.cons.Close()
	if b.prod != nil {
		b.prod.Close()
	}
	return err
}
