package bench

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sdpkit/sdpkit/connector/descriptor"
	"github.com/sdpkit/sdpkit/connector/exchange"
	"github.com/sdpkit/sdpkit/connector/kafkaio"
	"github.com/sdpkit/sdpkit/dataqueue"
	"github.com/sdpkit/sdpkit/dataqueue/encoding"
	"github.com/sdpkit/sdpkit/pyval"
)

// ConnectorModes are the variants of Connector.
var ConnectorModes = []string{"engine", "bare"}

// ConnectorConfig describes one Kafka → pipe → Kafka benchmark run.
type ConnectorConfig struct {
	Brokers  []string
	Mode     string // engine or bare
	N        int    // records
	Elements int    // float64 elements per record (default 16)
	Encoding string // of both topics (default msgpack_numpy)
}

// Connector moves N records from one topic to another and reports the
// records per second (Layer is the mode; latency is not measured):
//
//   - engine: a queue-connector exchange, KafkaConsumerSource (from the
//     earliest offset) → DefaultPipe → KafkaProducerSink, stopped (so
//     flushed) once the sink has written every record;
//   - bare: the same work without the connector: one franz-go client
//     consumes, each record is decoded and encoded again with the same
//     codec, and another franz-go client produces it asynchronously,
//     flushed at the end.
//
// The records (float64 arrays of Elements values) are produced first, not
// timed; the clock runs from the creation of the clients to the last
// acknowledgement. Both topics are fresh (one partition) and deleted
// afterwards; the output topic's size is checked.
func Connector(ctx context.Context, cfg ConnectorConfig) (Result, error) {
	if cfg.N < 1 {
		return Result{}, fmt.Errorf("bench: need n ≥ 1 (got %d)", cfg.N)
	}
	if !slices.Contains(ConnectorModes, cfg.Mode) {
		return Result{}, fmt.Errorf("bench: unknown connector mode %q (want one of %v)", cfg.Mode, ConnectorModes)
	}
	if cfg.Elements <= 0 {
		cfg.Elements = 16
	}
	if cfg.Encoding == "" {
		cfg.Encoding = "msgpack_numpy"
	}
	dt := descriptor.MustDType("float64")
	shape := []int{cfg.Elements}
	registry := encoding.NewConnectorRegistry(dt.NumPy, shape)
	codec, err := registry.Lookup(cfg.Encoding)
	if err != nil {
		return Result{}, err
	}
	admin, err := dataqueue.NewAdmin(cfg.Brokers, dataqueue.WithClientID("sdp-bench"))
	if err != nil {
		return Result{}, err
	}
	defer admin.Close()
	stamp := strconv.FormatInt(time.Now().UnixNano(), 36)
	in, out := "sdp-bench-connector-in-"+stamp, "sdp-bench-connector-out-"+stamp
	defer admin.DeleteTopics(context.WithoutCancel(ctx), in, out)
	if err := admin.CreateTopics(ctx, dataqueue.Topic(in), dataqueue.Topic(out)); err != nil {
		return Result{}, err
	}

	p, err := dataqueue.NewProducer(cfg.Brokers, dataqueue.WithTopic(in), dataqueue.WithEncoding(cfg.Encoding),
		dataqueue.WithRegistry(registry), dataqueue.WithLinger(5*time.Millisecond), dataqueue.WithClientID("sdp-bench"))
	if err != nil {
		return Result{}, err
	}
	data := make([]float64, cfg.Elements)
	for i := range cfg.N {
		data[0] = float64(i)
		if err := p.SendAsync(ctx, pyval.ArrayOf(slices.Clone(data)), nil); err != nil {
			p.Close(ctx)
			return Result{}, err
		}
	}
	if err := p.Close(ctx); err != nil {
		return Result{}, err
	}

	var elapsed time.Duration
	switch cfg.Mode {
	case "engine":
		elapsed, err = connectorEngine(ctx, cfg, dt, in, out)
	case "bare":
		elapsed, err = connectorBare(ctx, cfg, codec, in, out)
	}
	if err != nil {
		return Result{}, err
	}
	ends, err := admin.Kadm().ListEndOffsets(ctx, out)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return Result{}, err
	}
	var n int64
	ends.Each(func(o kadm.ListedOffset) { n += o.Offset })
	if n != int64(cfg.N) {
		return Result{}, fmt.Errorf("bench: %s moved %d records of %d", cfg.Mode, n, cfg.N)
	}
	return Result{
		Op: "connector", Layer: cfg.Mode, N: cfg.N, Clients: 1,
		OpsPerS: round(float64(cfg.N) / elapsed.Seconds()),
		Elapsed: roundSig(elapsed.Seconds()), // a short run must not round to 0
	}, nil
}

func connectorEngine(ctx context.Context, cfg ConnectorConfig, dt descriptor.DType, in, out string) (time.Duration, error) {
	servers := descriptor.Servers{Addrs: cfg.Brokers}
	ex := &descriptor.Exchange{DType: dt, Shape: []int{cfg.Elements}}
	srcDesc := &descriptor.KafkaConsumerSource{Servers: servers, Topic: in, Encoding: descriptor.Encoding(cfg.Encoding)}
	sinkDesc := &descriptor.KafkaProducerSink{Servers: servers, Topic: out, Encoding: descriptor.Encoding(cfg.Encoding), MessageMaxBytes: 1048576}
	ex.Sources = []descriptor.Source{srcDesc}
	ex.Sink = sinkDesc
	start := time.Now()
	src, err := kafkaio.NewSource(ctx, ex, srcDesc, kafkaio.WithStartAtEarliest(), kafkaio.WithClientID("sdp-bench"))
	if err != nil {
		return 0, err
	}
	pipe := exchange.NewDefaultPipe(dt.NumPy, ex.Shape)
	snk, err := kafkaio.NewSink(ctx, ex, sinkDesc, pipe.OutputDType(), pipe.OutputShape(), kafkaio.WithClientID("sdp-bench"))
	if err != nil {
		return 0, err
	}
	x, err := exchange.New([]exchange.Source{src}, pipe, snk, exchange.WithName("bench"))
	if err != nil {
		return 0, err
	}
	if err := x.Start(ctx); err != nil {
		return 0, err
	}
	done := make(chan error, 1)
	go func() { done <- x.Run(ctx) }()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for x.Stats().Out < uint64(cfg.N) {
		select {
		case err := <-done:
			x.Stop(ctx)
			return 0, fmt.Errorf("bench: exchange ended after %d records: %w", x.Stats().Out, err)
		case <-ctx.Done():
			x.Stop(context.WithoutCancel(ctx))
			return 0, ctx.Err()
		case <-tick.C:
		}
	}
	if err := x.Stop(ctx); err != nil {
		return 0, err
	}
	if err := <-done; err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

func connectorBare(ctx context.Context, cfg ConnectorConfig, codec encoding.Codec, in, out string) (time.Duration, error) {
	start := time.Now()
	cons, err := kgo.NewClient(kgo.SeedBrokers(cfg.Brokers...), kgo.ConsumeTopics(in),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(500*time.Millisecond), kgo.ClientID("sdp-bench"))
	if err != nil {
		return 0, err
	}
	defer cons.Close()
	prod, err := kgo.NewClient(kgo.SeedBrokers(cfg.Brokers...), kgo.DefaultProduceTopic(out), kgo.ClientID("sdp-bench"))
	if err != nil {
		return 0, err
	}
	defer prod.Close()
	var (
		mu       sync.Mutex
		firstErr error
	)
	cb := func(_ *kgo.Record, err error) {
		if err != nil {
			mu.Lock()
			if firstErr == nil {
				firstErr = err
			}
			mu.Unlock()
		}
	}
	var buf []byte
	for moved := 0; moved < cfg.N; {
		fetches := cons.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		if errs := fetches.Errors(); len(errs) > 0 {
			return 0, fmt.Errorf("bench: fetch: %w", errs[0].Err)
		}
		for _, r := range fetches.Records() {
			v, err := codec.Decode(r.Value)
			if err != nil {
				return 0, err
			}
			if buf, err = encoding.AppendEncode(codec, buf[:0], v); err != nil {
				return 0, err
			}
			prod.Produce(ctx, &kgo.Record{Value: slices.Clone(buf)}, cb)
			moved++
		}
	}
	if err := prod.Flush(ctx); err != nil {
		return 0, err
	}
	mu.Lock()
	defer mu.Unlock()
	if firstErr != nil {
		return 0, errors.Join(errors.New("bench: produce"), firstErr)
	}
	return time.Since(start), nil
}
