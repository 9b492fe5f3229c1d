package bench

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sdpkit/sdpkit/dataqueue"
	"github.com/sdpkit/sdpkit/pyval"
)

// QueueModes are the workloads of Queue.
var QueueModes = []string{"produce", "consume", "roundtrip"}

// QueueConfig describes one data-queue benchmark run.
type QueueConfig struct {
	Brokers  []string
	Mode     string // produce, consume or roundtrip
	N        int    // records
	Size     int    // payload bytes per record
	Encoding string // "" sends raw bytes
	Clients  int    // producers (produce) or group members (consume)
	Topic    string // default: a fresh sdp-bench-<mode>-<time> topic, deleted afterwards
	Acks     dataqueue.Acks
	Linger   time.Duration
}

// QueueResult is one run's figures, the JSON object `sdp bench queue`
// prints; the aiokafka and Java perf-tool runners print the same fields.
type QueueResult struct {
	Tool      string  `json:"tool"`
	Mode      string  `json:"mode"`
	N         int     `json:"n"`
	Size      int     `json:"size"`
	Encoding  string  `json:"encoding"`
	Clients   int     `json:"clients"`
	Acks      string  `json:"acks"`
	MsgsPerS  float64 `json:"msgs_per_s"`
	MBPerS    float64 `json:"mb_per_s"`
	P50us     float64 `json:"p50_us"`
	P99us     float64 `json:"p99_us"`
	ElapsedS  float64 `json:"elapsed_s"`
	Latencies string  `json:"latency"`
}

// AcksName is the Kafka spelling of a (all, 1, 0).
func AcksName(a dataqueue.Acks) string {
	switch a {
	case dataqueue.AcksLeader:
		return "1"
	case dataqueue.AcksNone:
		return "0"
	}
	return "all"
}

// Queue runs one data-queue workload:
//
//   - produce: Clients producers send N records (Size bytes, random, so
//     nothing compresses) as fast as they are accepted, SendAsync;
//     latency is per record, from SendAsync to the broker's ack; msgs_per_s
//     runs until the last ack.
//   - consume: N records are produced first (not timed), then Clients
//     consumers in one group (one plain consumer when Clients is 1) read
//     them all; latency is not measured (p50/p99 are 0).
//   - roundtrip: one record at a time is sent and waited for by a consumer
//     assigned the partition; latency is send to receipt.
//
// Acks defaults to all, as Kafka's producer (and so its perf tool) since
// 3.0 and this package's producer; aiokafka's default is 1.
func Queue(ctx context.Context, cfg QueueConfig) (QueueResult, error) {
	if cfg.N < 1 || cfg.Size < 0 || cfg.Clients < 1 {
		return QueueResult{}, fmt.Errorf("bench: need n ≥ 1, size ≥ 0, clients ≥ 1 (got n=%d, size=%d, clients=%d)", cfg.N, cfg.Size, cfg.Clients)
	}
	if !slices.Contains(QueueModes, cfg.Mode) {
		return QueueResult{}, fmt.Errorf("bench: unknown queue mode %q (want one of %v)", cfg.Mode, QueueModes)
	}
	admin, err := dataqueue.NewAdmin(cfg.Brokers, dataqueue.WithClientID("sdp-bench"))
	if err != nil {
		return QueueResult{}, err
	}
	defer admin.Close()
	if cfg.Topic == "" {
		cfg.Topic = "sdp-bench-" + cfg.Mode + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
		defer admin.DeleteTopics(context.WithoutCancel(ctx), cfg.Topic)
	}
	if err := admin.CreateTopics(ctx, dataqueue.TopicSpec{Name: cfg.Topic, MinPartitions: int32(cfg.Clients)}); err != nil {
		return QueueResult{}, err
	}
	// A real broker answers CreateTopics before the new partitions have a
	// leader; the first send would wait for it (hundreds of ms) on the clock.
	if err := waitLeaders(ctx, admin, cfg.Topic); err != nil {
		return QueueResult{}, err
	}
	value, err := queueValue(cfg)
	if err != nil {
		return QueueResult{}, err
	}
	popts := []dataqueue.ProducerOption{
		dataqueue.WithTopic(cfg.Topic), dataqueue.WithEncoding(cfg.Encoding),
		dataqueue.WithAcks(cfg.Acks), dataqueue.WithLinger(cfg.Linger), dataqueue.WithClientID("sdp-bench"),
		dataqueue.WithMaxMessageBytes(int32(max(cfg.Size+1024, 1000012))),
	}
	res := QueueResult{Tool: "sdpkit", Mode: cfg.Mode, N: cfg.N, Size: cfg.Size, Encoding: cfg.Encoding, Clients: cfg.Clients, Acks: AcksName(cfg.Acks)}
	var lat []time.Duration
	var elapsed time.Duration
	switch cfg.Mode {
	case "produce":
		lat, elapsed, err = queueProduce(ctx, cfg, value, popts)
		res.Latencies = "send to ack"
	case "consume":
		elapsed, err = queueConsume(ctx, cfg, value, popts)
		res.Latencies = "not measured"
	case "roundtrip":
		lat, elapsed, err = queueRoundtrip(ctx, cfg, value, popts)
		res.Latencies = "send to receipt, one record at a time"
	}
	if err != nil {
		return QueueResult{}, err
	}
	slices.Sort(lat)
	res.MsgsPerS = round(float64(cfg.N) / elapsed.Seconds())
	res.MBPerS = roundSig(float64(cfg.N) * float64(cfg.Size) / 1e6 / elapsed.Seconds())
	res.P50us = round(percentile(lat, 0.50))
	res.P99us = round(percentile(lat, 0.99))
	res.ElapsedS = round(elapsed.Seconds())
	return res, nil
}

// queueValue is the payload: random bytes, or random letters for the text
// encodings (so it is valid str), as a pyval value for the encoding.
func queueValue(cfg QueueConfig) (pyval.Value, error) {
	b := make([]byte, cfg.Size)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	switch cfg.Encoding {
	case "":
		return pyval.Bytes(b), nil
	case "utf-8", "ascii", "json":
		for i := range b {
			b[i] = 'a' + b[i]%26
		}
		return pyval.Str(b), nil
	}
	return pyval.Bytes(b), nil
}

func queueProduce(ctx context.Context, cfg QueueConfig, v pyval.Value, popts []dataqueue.ProducerOption) ([]time.Duration, time.Duration, error) {
	producers := make([]*dataqueue.Producer, cfg.Clients)
	for i := range producers {
		p, err := dataqueue.NewProducer(cfg.Brokers, popts...)
		if err != nil {
			return nil, 0, err
		}
		defer p.Close(context.WithoutCancel(ctx))
		producers[i] = p
		// Connect and learn the topic before the clock starts.
		if err := p.Client().Ping(ctx); err != nil {
			return nil, 0, err
		}
	}
	lat := make([][]time.Duration, cfg.Clients)
	errs := make([]error, cfg.Clients)
	var wg sync.WaitGroup
	start := time.Now()
	for c, p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := cfg.N / cfg.Clients
			if c < cfg.N%cfg.Clients {
				n++
			}
			l := make([]time.Duration, n)
			var mu sync.Mutex
			var firstErr error
			for i := range n {
				t0 := time.Now()
				err := p.SendAsync(ctx, v, func(_ dataqueue.RecordMetadata, err error) {
					l[i] = time.Since(t0)
					if err != nil {
						mu.Lock()
						firstErr = cmp(firstErr, err)
						mu.Unlock()
					}
				})
				if err != nil {
					errs[c] = err
					return
				}
			}
			if err := p.Flush(ctx); err != nil {
				errs[c] = err
				return
			}
			errs[c], lat[c] = firstErr, l
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return nil, 0, err
	}
	return slices.Concat(lat...), elapsed, nil
}

func cmp(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

func queueConsume(ctx context.Context, cfg QueueConfig, v pyval.Value, popts []dataqueue.ProducerOption) (time.Duration, error) {
	p, err := dataqueue.NewProducer(cfg.Brokers, append(popts, dataqueue.WithLinger(5*time.Millisecond))...)
	if err != nil {
		return 0, err
	}
	for i := range cfg.N {
		if err := p.SendAsync(ctx, v, nil, dataqueue.WithKey([]byte(strconv.Itoa(i)))); err != nil {
			p.Close(ctx)
			return 0, err
		}
	}
	if err := p.Close(ctx); err != nil {
		return 0, err
	}
	copts := []dataqueue.ConsumerOption{dataqueue.WithTopics(cfg.Topic), dataqueue.WithEncoding(cfg.Encoding), dataqueue.WithClientID("sdp-bench")}
	if cfg.Clients > 1 {
		copts = append(copts, dataqueue.WithGroup(cfg.Topic+"-group"), dataqueue.WithCommitInterval(0))
	}
	var total sync.WaitGroup
	var mu sync.Mutex
	got := 0
	done := make(chan struct{})
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, cfg.Clients)
	start := time.Now()
	var elapsed time.Duration
	for c := range cfg.Clients {
		cons, err := dataqueue.NewConsumer(cfg.Brokers, copts...)
		if err != nil {
			return 0, err
		}
		defer cons.Close(context.WithoutCancel(ctx))
		total.Add(1)
		go func() {
			defer total.Done()
			for _, err := range cons.Messages(cctx) {
				if err != nil {
					errs[c] = err
					cancel()
					return
				}
				mu.Lock()
				got++
				if got == cfg.N {
					elapsed = time.Since(start)
					close(done)
				}
				mu.Unlock()
			}
		}()
	}
	select {
	case <-done:
	case <-cctx.Done():
	}
	cancel()
	total.Wait()
	if err := errors.Join(errs...); err != nil {
		return 0, err
	}
	if got < cfg.N {
		return 0, fmt.Errorf("bench: consumed %d of %d records: %w", got, cfg.N, ctx.Err())
	}
	return elapsed, nil
}

func queueRoundtrip(ctx context.Context, cfg QueueConfig, v pyval.Value, popts []dataqueue.ProducerOption) ([]time.Duration, time.Duration, error) {
	p, err := dataqueue.NewProducer(cfg.Brokers, popts...)
	if err != nil {
		return nil, 0, err
	}
	defer p.Close(context.WithoutCancel(ctx))
	cons, err := dataqueue.NewConsumer(cfg.Brokers, dataqueue.WithEncoding(cfg.Encoding), dataqueue.WithClientID("sdp-bench"),
		dataqueue.WithAssignment(dataqueue.TopicPartition{Topic: cfg.Topic, Partition: 0}),
		dataqueue.WithKgoOptions(kgo.FetchMaxWait(5*time.Second))) // long-poll: a record is answered at once
	if err != nil {
		return nil, 0, err
	}
	defer cons.Close(context.WithoutCancel(ctx))
	next, stop := iter.Pull2(cons.Messages(ctx))
	defer stop()
	// One record off the clock: the consumer's first fetch sets up its
	// connection and position.
	if _, err := p.Send(ctx, v, dataqueue.WithKey([]byte("warm-up"))); err != nil {
		return nil, 0, err
	}
	if _, err, ok := next(); !ok || err != nil {
		return nil, 0, fmt.Errorf("bench: warm-up record not received: %v %w", err, ctx.Err())
	}
	lat := make([]time.Duration, 0, cfg.N)
	start := time.Now()
	for i := range cfg.N {
		t0 := time.Now()
		if _, err := p.Send(ctx, v, dataqueue.WithKey([]byte(strconv.Itoa(i)))); err != nil {
			return nil, 0, err
		}
		m, err, ok := next()
		if !ok {
			return nil, 0, fmt.Errorf("bench: consumer stopped after %d records: %w", i, ctx.Err())
		}
		if err != nil {
			return nil, 0, err
		}
		if string(m.Key) != strconv.Itoa(i) {
			return nil, 0, fmt.Errorf("bench: record %d came back as %q", i, m.Key)
		}
		lat = append(lat, time.Since(t0))
	}
	return lat, time.Since(start), nil
}

// waitLeaders waits until every partition of topic has a leader.
func waitLeaders(ctx context.Context, admin *dataqueue.Admin, topic string) error {
	for {
		ti, err := admin.DescribeTopics(ctx, topic)
		ready := err == nil && len(ti) == 1 && len(ti[0].Partitions) > 0
		if ready {
			for _, p := range ti[0].Partitions {
				ready = ready && p.Leader >= 0
			}
		}
		if ready {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("bench: topic %s has no leader yet: %v: %w", topic, err, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
