package connector

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/config"
	"github.com/sdpkit/sdpkit/config/etcd"
	"github.com/sdpkit/sdpkit/config/kv"
	"github.com/sdpkit/sdpkit/config/memory"
	"github.com/sdpkit/sdpkit/connector/descriptor"
	"github.com/sdpkit/sdpkit/connector/exchange"
	"github.com/sdpkit/sdpkit/internal/testenv"
	"github.com/sdpkit/sdpkit/pyval"
)

type storeKind struct {
	name string
	open func(t *testing.T) kv.KV
}

func stores() []storeKind {
	return []storeKind{
		{"memory", func(t *testing.T) kv.KV { return memory.New() }},
		{"etcd", func(t *testing.T) kv.KV {
			if testing.Short() {
				t.Skip("starts etcd")
			}
			srv := testenv.Etcd(t)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			s, err := etcd.Open(ctx, srv.Endpoints())
			if err != nil {
				t.Fatal(err)
			}
			return s
		}},
	}
}

// watchKey runs d.WatchKey in the background until the test ends.
func watchKey(t *testing.T, d *Device, db *config.DB, path string) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.WatchKey(ctx, db, path) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("WatchKey: %v", err)
		}
	})
	waitFor(t, "the watch", d.IsMonitoringDB)
}

func put(t *testing.T, db *config.DB, path, value string) {
	t.Helper()
	ctx := context.Background()
	err := db.Txn(ctx, func(tx *config.Txn) error {
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

// loadConfig is generation gen of the reconfiguration test: one group
// named gen-<gen> with two exchanges streaming 0..n-1 slowly, one straight
// into queue direct-<gen>, one through a buffering pipe whose window never
// closes by itself into queue buffered-<gen> (so everything it holds is
// delivered only by the flush at stop).
func loadConfig(gen, n int) string {
	var data strings.Builder
	for i := range n {
		if i > 0 {
			data.WriteByte(',')
		}
		fmt.Fprint(&data, i)
	}
	src := `{"type": "InMemorySource", "data": [` + data.String() + `], "delay": 0.0001}`
	return fmt.Sprintf(`{"exchanges": {"gen-%d": [
		{"dtype": "int64", "source": %s, "sink": {"type": "InMemorySink", "key": "direct-%d"}},
		{"dtype": "int64", "source": %s, "pipe": {"type": "BufferWithTimePipe", "timespan": 3600}, "sink": {"type": "InMemorySink", "key": "buffered-%d"}}
	]}}`, gen, src, gen, src, gen)
}

// Reconfiguration under load through the configuration database: while
// in-memory streams run, the descriptor at the key is replaced several
// times and finally deleted. Counted, for every exchange of every
// generation: the values its sources had accepted when it was stopped
// (Stats.In, taken after the stop, so it is final) must all be in its
// sink's queue, exactly once and in order (0..In-1): the reconfiguration
// drained every accepted value, including those the buffering pipe held.
// Values a source had not yet emitted are not counted: a stop ends the
// stream there, as upstream.
func TestReconfigureUnderLoad(t *testing.T) {
	for _, sk := range stores() {
		t.Run(sk.name, func(t *testing.T) {
			db := config.NewDB(sk.open(t))
			var mu sync.Mutex
			stopped := map[string]exchange.Stats{}
			d := newTestDevice(t, WithStopped(func(x ExchangeInfo) {
				mu.Lock()
				stopped[x.Group+"/"+x.Name] = x.Stats
				mu.Unlock()
			}))
			path := TemplatePath("/component/lmc-queueconnector-{}/owner", "01")
			const n, gens = 20000, 4
			watchKey(t, d, db, path)
			for gen := range gens {
				put(t, db, path, loadConfig(gen, n))
				waitFor(t, fmt.Sprintf("generation %d to stream", gen), func() bool {
					return d.State() == On && d.Queues().Len(fmt.Sprintf("direct-%d", gen)) >= 1000
				})
			}
			ctx := context.Background()
			if err := db.Delete(ctx, path); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "STANDBY after the delete", func() bool { return d.State() == Standby })
			mu.Lock()
			defer mu.Unlock()
			for gen := range gens {
				for i, kind := range []string{"direct", "buffered"} {
					st, ok := stopped[fmt.Sprintf("gen-%d/exchanges[\"gen-%d\"][%d]", gen, gen, i)]
					if !ok {
						t.Fatalf("generation %d exchange %d never reported stopped", gen, i)
					}
					var got []pyval.Value
					for _, v := range d.Queues().Values(fmt.Sprintf("%s-%d", kind, gen)) {
						if kind == "buffered" {
							a := v.(*pyval.NDArray)
							xs, _ := a.Int64s()
							for _, x := range xs {
								got = append(got, pyval.IntOf(x))
							}
							continue
						}
						got = append(got, v)
					}
					if st.In == 0 || st.Err != nil {
						t.Errorf("gen %d %s: in %d, err %v", gen, kind, st.In, st.Err)
					}
					if uint64(len(got)) != st.In {
						t.Errorf("gen %d %s: %d values accepted, %d delivered", gen, kind, st.In, len(got))
					}
					for j, v := range got {
						if !pyval.Equal(v, pyval.IntOf(int64(j))) {
							t.Errorf("gen %d %s: value %d is %s", gen, kind, j, pyval.Repr(v))
							break
						}
					}
					t.Logf("gen %d %s: %d accepted and delivered", gen, kind, st.In)
				}
			}
		})
	}
}

// A bad descriptor written to the database puts the device in FAULT with
// the error in Status; the next good one recovers it without a Reset; a
// deleted key means STANDBY. Reset of a device watching the database
// applies the database's configuration again.
func TestDatabaseBadConfig(t *testing.T) {
	for _, sk := range stores() {
		t.Run(sk.name, func(t *testing.T) {
			db := config.NewDB(sk.open(t))
			d := newTestDevice(t)
			const path = "/component/lmc-queueconnector-01/owner"
			watchKey(t, d, db, path)
			waitFor(t, "STANDBY without a key", func() bool { return d.State() == Standby })
			put(t, db, path, badConfig)
			waitFor(t, "FAULT", func() bool { return d.State() == Fault })
			if st := d.Status(); !strings.Contains(st, "KafkaConsumerSource: not available in this build") {
				t.Errorf("status %q", st)
			}
			put(t, db, path, `{"exchanges": [`)
			waitFor(t, "a status naming the key", func() bool { return strings.Contains(d.Status(), "config key "+path) })
			if d.State() != Fault {
				t.Errorf("state %s after invalid JSON", d.State())
			}
			put(t, db, path, goodConfig)
			waitFor(t, "ON after a good config", func() bool { return d.State() == On })
			// Commands still work on a watched device; the next change
			// in the database replaces what they did.
			if err := d.Abort(context.Background(), ""); err != nil {
				t.Fatal(err)
			}
			if err := d.Standby(context.Background()); err != nil {
				t.Fatal(err)
			}
			put(t, db, path, badConfig)
			waitFor(t, "FAULT again", func() bool { return d.State() == Fault })
			if err := d.Reset(context.Background(), ""); err != nil {
				t.Fatal(err)
			}
			// Reset re-applies the (still bad) database configuration.
			waitFor(t, "FAULT after Reset re-applied the database", func() bool { return d.State() == Fault })
			if err := db.Delete(context.Background(), path); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "STANDBY after the delete", func() bool { return d.State() == Standby })
		})
	}
}

// WatchFlows configures the device from a processing block's flows and
// follows them: added, and removed.
func TestWatchFlows(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg, err := config.New(memory.New())
	if err != nil {
		t.Fatal(err)
	}
	defer cfg.Close()
	f := testFactories()
	// A stand-in for Kafka: yields the topic name once.
	f.RegisterSource("KafkaConsumerSource", func(_ context.Context, _ *descriptor.Exchange, s descriptor.Source, _ *Env) (exchange.Source, error) {
		return exchange.NewInMemorySource([]pyval.Value{pyval.Str(s.(*descriptor.KafkaConsumerSource).Topic)}, 0), nil
	})
	d := newTestDevice(t, WithFactories(f))
	const pb = "pb-test-20260101-00000"
	done := make(chan error, 1)
	go func() { done <- d.WatchFlows(ctx, cfg, pb) }()
	waitFor(t, "the watch", d.IsMonitoringDB)
	in := config.FlowKey{PBID: pb, Kind: "data-queue", Name: "in"}
	out := config.FlowKey{PBID: pb, Kind: "tango", Name: "status"}
	err = cfg.Txn(ctx, func(tx *config.Txn) error {
		if err := tx.Flows().Create(&config.Flow{Key: in, Sink: &config.DataQueue{Host: "kafka://k:9092", Topics: "news", Format: "json"}, Sources: []config.FlowSource{}}); err != nil {
			return err
		}
		return tx.Flows().Create(&config.Flow{
			Key:       out,
			Sink:      &config.TangoAttribute{AttributeTRL: "tango://mid-sdp/queueconnector/01/status", DType: "DevString", MaxDimX: 1},
			Sources:   []config.FlowSource{{URI: config.FlowURI{Key: &in}, Function: config.QueueConnectorFunction}},
			DataModel: "str",
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the attribute", func() bool {
		s, err := d.Attributes().Get("status")
		return err == nil && pyval.Equal(s.Reading.Value, pyval.Str("news"))
	})
	if d.State() != On || d.Groups()[0] != pb {
		t.Errorf("state %s, groups %v", d.State(), d.Groups())
	}
	if err := cfg.Txn(ctx, func(tx *config.Txn) error { return tx.Flows().Delete(out) }); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "STANDBY without the exchange flow", func() bool { return d.State() == Standby })
	cancel()
	if err := <-done; err != nil {
		t.Errorf("WatchFlows: %v", err)
	}
	if d.IsMonitoringDB() {
		t.Error("still monitoring after the watch ended")
	}
}
