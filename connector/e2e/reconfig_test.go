package e2e

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/sdpkit/sdpkit/config"
	"github.com/sdpkit/sdpkit/config/etcd"
	"github.com/sdpkit/sdpkit/config/kv"
	"github.com/sdpkit/sdpkit/config/memory"
	"github.com/sdpkit/sdpkit/connector"
	"github.com/sdpkit/sdpkit/connector/kafkaio"
	"github.com/sdpkit/sdpkit/dataqueue"
	"github.com/sdpkit/sdpkit/dataqueue/encoding"
	"github.com/sdpkit/sdpkit/internal/testenv"
	"github.com/sdpkit/sdpkit/pyval"
)

// TestReconfigureKafkaUnderLoad reconfigures a device, through the config
// DB, while it moves a numbered stream from one Kafka topic (3 partitions)
// to another, and counts by sequence number.
//
// "Accepted" means emitted by a Kafka source into its exchange (the emit
// returned nil); the exchange's Stats.In counts them, and the final Stats.In
// of every generation is taken after its stop (WithStopped). For every
// generation the engine guarantees that what was accepted reaches the sink
// before the next generation starts (reconfiguration stops, it does not
// abort), so, over the whole run:
//
//   - the output topic holds exactly Σ In records (its end offset), and no
//     sequence number twice: every accepted record reached it exactly once.
//
// Where each generation starts is the difference between the two modes:
//
//   - latest (the connector's default, no group, no commits): each new
//     source starts at the end of the topic, so the records produced while
//     the device reconfigured (after the old source stopped reading, before
//     the new one found the end) are never read: by design, they were not
//     accepted. The test logs how many were skipped.
//   - resume (kafkaio.WithResume): each new source starts where its
//     predecessor stopped, so nothing produced during the reconfigurations
//     is lost: the output holds every number from the first one the first
//     generation read to the last one produced, without a gap.
func TestReconfigureKafkaUnderLoad(t *testing.T) {
	stores := []struct {
		name string
		open func(t *testing.T) kv.KV
	}{
		{"memory", func(t *testing.T) kv.KV { return memory.New() }},
		{"etcd", func(t *testing.T) kv.KV {
			srv := testenv.Etcd(t)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			s, err := etcd.Open(ctx, srv.Endpoints())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}},
	}
	for _, mode := range []string{"latest", "resume"} {
		t.Run(mode, func(t *testing.T) {
			testenv.EachKafka(t, func(t *testing.T, k testenv.KafkaBroker) {
				for _, st := range stores {
					t.Run(st.name, func(t *testing.T) {
						if st.name == "etcd" && (testing.Short() || mode == "latest") {
							t.Skip("etcd: once per broker, in resume mode")
						}
						reconfigureUnderLoad(t, k, config.NewDB(st.open(t)), mode == "resume")
					})
				}
			})
		})
	}
}

func reconfigureUnderLoad(t *testing.T, k testenv.KafkaBroker, db *config.DB, resume bool) {
	in, out := testenv.NewTopic(t, k, 3), testenv.NewTopic(t, k, 1)
	var kopts []kafkaio.Option
	if resume {
		kopts = append(kopts, kafkaio.WithResume(kafkaio.NewPositions()))
	}
	f := connector.DefaultFactories()
	kafkaio.Register(f, kopts...)
	var (
		mu      sync.Mutex
		stopped []uint64 // final In of each stopped generation
	)
	d := connector.NewDevice(connector.WithFactories(f), connector.WithLogger(quietLogger()),
		connector.WithStopTimeout(30*time.Second),
		connector.WithStopped(func(x connector.ExchangeInfo) {
			mu.Lock()
			stopped = append(stopped, x.Stats.In)
			mu.Unlock()
		}))
	t.Cleanup(func() { _ = d.Shutdown(context.Background()) })

	const path = "/component/lmc-queueconnector-01/owner"
	ctx, cancel := context.WithCancel(context.Background())
	watchDone := make(chan error, 1)
	go func() { watchDone <- d.WatchKey(ctx, db, path) }()
	t.Cleanup(func() {
		cancel()
		if err := <-watchDone; err != nil {
			t.Errorf("WatchKey: %v", err)
		}
	})
	waitFor(t, d, "the watch", d.IsMonitoringDB)

	// Generation g differs only in the sink's message_max_bytes: the source
	// stays at the same place, so WithResume hands its position on.
	descriptor := func(g int) string {
		return fmt.Sprintf(`{"exchanges": [{"dtype": "int64", "shape": [],
			"source": {"type": "KafkaConsumerSource", "servers": %q, "topic": %q, "encoding": "msgpack_numpy"},
			"sink": {"type": "KafkaProducerSink", "servers": %q, "topic": %q, "encoding": "msgpack_numpy", "message_max_bytes": %d}}]}`,
			k.Brokers()[0], in, k.Brokers()[0], out, 1<<20+g)
	}
	currentOut := func() uint64 { _, o := outTotal(d, ""); return o }

	// The output, read as it comes.
	seen := newSeqs()
	go seen.read(ctx, t, k, out)

	put(t, db, path, descriptor(0))
	waitFor(t, d, "generation 0 ON", func() bool { return d.State() == connector.On })
	// Give the first source time to find the end of the topic, so that it
	// reads from the first records on (not required: the checks hold anyway).
	time.Sleep(200 * time.Millisecond)

	// The numbered stream: ~20k records/s until told to stop.
	var produced atomic.Int64
	stopProducing := make(chan struct{})
	prodDone := make(chan error, 1)
	go func() { prodDone <- produceStream(ctx, k, in, stopProducing, &produced) }()

	const gens, perGen = 5, 2000
	for g := 1; g < gens; g++ {
		waitFor(t, d, fmt.Sprintf("generation %d to stream", g-1), func() bool {
			return d.State() == connector.On && currentOut() >= perGen
		})
		put(t, db, path, descriptor(g))
		// A reconfiguration replaces the exchanges: wait for the new ones.
		waitFor(t, d, fmt.Sprintf("generation %d", g), func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(stopped) == g
		})
	}
	waitFor(t, d, "the last generation to stream", func() bool { return d.State() == connector.On && currentOut() >= perGen })
	close(stopProducing)
	if err := <-prodDone; err != nil {
		t.Fatal(err)
	}
	n := produced.Load()
	// The last generation was reading before the producer stopped, so the
	// last record produced arrives.
	waitFor(t, d, fmt.Sprintf("record %d on the output", n-1), func() bool { return seen.has(n - 1) })
	if err := db.Delete(context.Background(), path); err != nil {
		t.Fatal(err)
	}
	waitFor(t, d, "STANDBY after the delete", func() bool { return d.State() == connector.Standby })

	mu.Lock()
	var accepted uint64
	for _, s := range stopped {
		accepted += s
	}
	gensStopped := len(stopped)
	mu.Unlock()
	if gensStopped != gens {
		t.Fatalf("%d generations stopped, want %d", gensStopped, gens)
	}
	if end := endOffset(t, k, out); uint64(end) != accepted {
		t.Errorf("output topic holds %d records; the sources accepted %d", end, accepted)
	}
	waitFor(t, d, "the output reader", func() bool { return seen.count() >= int(accepted) })
	nums, dups := seen.result()
	if len(dups) > 0 {
		t.Errorf("%d sequence numbers written more than once, e.g. %v", len(dups), dups[:min(5, len(dups))])
	}
	first := nums[0]
	gaps := int(n-first) - len(nums)
	t.Logf("%d produced, %d accepted over %d generations (per generation %v), first read %d, %d skipped after it",
		n, accepted, gens, stopped, first, gaps)
	if nums[len(nums)-1] != n-1 {
		t.Errorf("last output %d, want %d", nums[len(nums)-1], n-1)
	}
	if resume && gaps != 0 {
		t.Errorf("resume: %d records produced during reconfigurations are missing", gaps)
	}
}

// produceStream sends 0, 1, 2, … (int64, msgpack_numpy) until stop closes.
func produceStream(ctx context.Context, k testenv.KafkaBroker, topic string, stop <-chan struct{}, n *atomic.Int64) error {
	p, err := dataqueue.NewProducer(k.Brokers(), dataqueue.WithTopic(topic), dataqueue.WithEncoding("msgpack_numpy"),
		dataqueue.WithRegistry(encoding.NewConnectorRegistry(pyval.Int64, nil)))
	if err != nil {
		return err
	}
	defer p.Close(context.Background())
	var mu sync.Mutex
	var failed error
	cb := func(_ dataqueue.RecordMetadata, err error) {
		if err != nil {
			mu.Lock()
			failed = err
			mu.Unlock()
		}
	}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for i := int64(0); ; {
		select {
		case <-stop:
			if err := p.Flush(ctx); err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			return failed
		case <-tick.C:
		}
		for range 100 {
			if err := p.SendAsync(ctx, pyval.IntOf(i), cb); err != nil {
				return err
			}
			i++
			n.Store(i)
		}
	}
}

// seqs collects the sequence numbers read from the output topic.
type seqs struct {
	mu  sync.Mutex
	all []int64
	set map[int64]int
}

func newSeqs() *seqs { return &seqs{set: map[int64]int{}} }

func (s *seqs) read(ctx context.Context, t *testing.T, k testenv.KafkaBroker, topic string) {
	c, err := dataqueue.NewConsumer(k.Brokers(), dataqueue.WithTopics(topic), dataqueue.WithEncoding("msgpack_numpy"),
		dataqueue.WithRegistry(encoding.NewConnectorRegistry(pyval.Int64, nil)))
	if err != nil {
		t.Error(err)
		return
	}
	defer c.Close(context.Background())
	for m, err := range c.Messages(ctx) {
		if err != nil {
			if ctx.Err() == nil {
				t.Errorf("reading %s: %v", topic, err)
			}
			return
		}
		v, err := pyval.AsInt64(m.Value)
		if err != nil {
			t.Errorf("output record %s: %v", pyval.Repr(m.Value), err)
			return
		}
		s.mu.Lock()
		s.all = append(s.all, v)
		s.set[v]++
		s.mu.Unlock()
	}
}

func (s *seqs) has(v int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.set[v] > 0
}

func (s *seqs) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.all)
}

// result returns the distinct numbers, sorted, and those seen twice or more.
func (s *seqs) result() (nums, dups []int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for v, c := range s.set {
		nums = append(nums, v)
		if c > 1 {
			dups = append(dups, v)
		}
	}
	slices.Sort(nums)
	slices.Sort(dups)
	return nums, dups
}

// put writes value at path (creating the key if needed).
func put(t *testing.T, db *config.DB, path, value string) {
	t.Helper()
	err := db.Txn(context.Background(), func(tx *config.Txn) error {
		v, err := tx.Get(path)
		if err != nil {
			return err
		}
		if v == nil {
			return tx.Create(path, []byte(value), 0)
		}
		return tx.Update(path, []byte(value))
	})
	if err != nil {
		t.Fatal(err)
	}
}

// endOffset is the number of records in topic (all partitions).
func endOffset(t *testing.T, k testenv.KafkaBroker, topic string) int64 {
	t.Helper()
	adm := kadm.NewClient(testenv.KafkaClient(t, k))
	ends, err := adm.ListEndOffsets(context.Background(), topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	ends.Each(func(o kadm.ListedOffset) { n += o.Offset })
	return n
}
