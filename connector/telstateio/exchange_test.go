package telstateio

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/sdpkit/sdpkit/connector/descriptor"
	"github.com/sdpkit/sdpkit/connector/exchange"
	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/telstate"
)

// payloads returns n distinct values of assorted kinds.
func payloads(n int) []pyval.Value {
	vs := make([]pyval.Value, n)
	for i := range vs {
		switch i % 4 {
		case 0:
			vs[i] = pyval.IntOf(int64(i))
		case 1:
			vs[i] = pyval.Str(fmt.Sprintf("v%d", i))
		case 2:
			vs[i] = pyval.ArrayOf([]float64{float64(i), -float64(i), 0.5})
		case 3:
			vs[i] = pyval.StrDict("i", pyval.IntOf(int64(i)), "name", pyval.Str("x"))
		}
	}
	return vs
}

func newExchange(t *testing.T, src exchange.Source, sink exchange.Sink) *exchange.Exchange {
	t.Helper()
	x, err := exchange.New([]exchange.Source{src}, exchange.NewDefaultPipe(pyval.Int64, nil), sink)
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return x
}

// runInBackground runs x and returns a function that stops it and returns
// Run's result.
func runInBackground(t *testing.T, x *exchange.Exchange) func() error {
	done := make(chan error, 1)
	go func() { done <- x.Run(context.Background()) }()
	return func() error {
		t.Helper()
		if err := x.Stop(context.Background()); err != nil {
			t.Errorf("Stop: %v", err)
		}
		return <-done
	}
}

// TestExchangeRoundTrip: InMemorySource → exchange → telstate Sink, and
// SensorSource → exchange → InMemorySink, on both backends: every payload
// arrives once, in order, with counted in and out; a second reader copies
// the sensor with its timestamps through EmitTimestamps and
// TimestampedValues.
func TestExchangeRoundTrip(t *testing.T) {
	const n = 2000
	ctx := context.Background()
	for _, st := range stores() {
		t.Run(st.name, func(t *testing.T) {
			ts := st.open(t)
			queues := exchange.NewMemoryQueues()
			want := payloads(n)

			src, err := NewSensorSource(ts, "k")
			if err != nil {
				t.Fatal(err)
			}
			reader := newExchange(t, src, exchange.NewInMemorySink(queues, "out"))
			stopReader := runInBackground(t, reader)

			tsrc, err := NewSensorSource(ts, "k", EmitTimestamps())
			if err != nil {
				t.Fatal(err)
			}
			copySink, err := NewSink(ts, "copy", TimestampedValues())
			if err != nil {
				t.Fatal(err)
			}
			copier := newExchange(t, tsrc, copySink)
			stopCopier := runInBackground(t, copier)

			sink, err := NewSink(ts, "k")
			if err != nil {
				t.Fatal(err)
			}
			writer := newExchange(t, exchange.NewInMemorySource(want, 0), sink)
			if err := writer.Run(ctx); err != nil {
				t.Fatalf("writer Run: %v", err)
			}
			if err := writer.Stop(ctx); err != nil {
				t.Fatal(err)
			}
			if s := writer.Stats(); s.In != n || s.Out != n {
				t.Errorf("writer stats: in %d, out %d, want %d", s.In, s.Out, n)
			}
			// Run returned nil, so everything is stored already.
			stored, err := ts.GetRange(ctx, "k", telstate.Start(0))
			if err != nil {
				t.Fatal(err)
			}
			if len(stored) != n {
				t.Fatalf("%d samples stored after the writer's run, want %d", len(stored), n)
			}

			waitFor(t, "the reader", func() bool { return queues.Len("out") >= n })
			if err := stopReader(); err != nil {
				t.Errorf("reader Run: %v", err)
			}
			sameValues(t, "read back", queues.Values("out"), want)
			if s := reader.Stats(); s.In != n || s.Out != n {
				t.Errorf("reader stats: in %d, out %d, want %d", s.In, s.Out, n)
			}

			waitFor(t, "the copier", func() bool { return copier.Stats().Out >= n })
			if err := stopCopier(); err != nil {
				t.Errorf("copier Run: %v", err)
			}
			copied, err := ts.GetRange(ctx, "copy", telstate.Start(0))
			if err != nil {
				t.Fatal(err)
			}
			if len(copied) != n {
				t.Fatalf("%d samples copied, want %d", len(copied), n)
			}
			for i := range stored {
				if copied[i].Timestamp != stored[i].Timestamp || !pyval.Equal(copied[i].Value, stored[i].Value) {
					t.Fatalf("copy %d: (%v, %s), want (%v, %s)", i, copied[i].Timestamp, pyval.Repr(copied[i].Value),
						stored[i].Timestamp, pyval.Repr(stored[i].Value))
				}
			}
		})
	}
}

// TestExchangeImmutableConflict: a second, different value written by an
// immutable sink fails the exchange's run with ErrImmutableKey.
func TestExchangeImmutableConflict(t *testing.T) {
	ctx := context.Background()
	for _, st := range stores() {
		t.Run(st.name, func(t *testing.T) {
			ts := st.open(t)
			sink, err := NewSink(ts, "attr", Immutable())
			if err != nil {
				t.Fatal(err)
			}
			x := newExchange(t, exchange.NewInMemorySource(strs("a", "a", "b"), 0), sink)
			if err := x.Run(ctx); !errors.Is(err, telstate.ErrImmutableKey) {
				t.Errorf("Run: %v, want ErrImmutableKey", err)
			}
			_ = x.Stop(ctx)
			if v, err := ts.Get(ctx, "attr"); err != nil || !pyval.Equal(v, pyval.Str("a")) {
				t.Errorf("attribute %v, %v; want 'a'", v, err)
			}
		})
	}
}

// TestDescriptors: the descriptor adapters open db through Stores, so a
// "memory" sink and source share one store, and apply the namespace.
func TestDescriptors(t *testing.T) {
	ctx := context.Background()
	stores := NewStores()
	defer stores.Close()
	sink, err := SinkFromDescriptor(ctx, stores, &descriptor.TelstateSink{DB: "memory", Key: "k", Namespace: "ns"})
	if err != nil {
		t.Fatal(err)
	}
	src, err := SourceFromDescriptor(ctx, stores, &descriptor.TelstateSensorSource{DB: "memory", Key: "k", Namespace: "ns"}, FromStart())
	if err != nil {
		t.Fatal(err)
	}
	imm, err := SinkFromDescriptor(ctx, stores, &descriptor.TelstateSink{DB: "memory", Key: "attr", Immutable: true})
	if err != nil {
		t.Fatal(err)
	}
	w := newExchange(t, exchange.NewInMemorySource(ints(0, 10), 0), sink)
	if err := w.Run(ctx); err != nil {
		t.Fatal(err)
	}
	queues := exchange.NewMemoryQueues()
	r := newExchange(t, src, exchange.NewInMemorySink(queues, "out"))
	stop := runInBackground(t, r)
	waitFor(t, "the reader", func() bool { return queues.Len("out") >= 10 })
	if err := stop(); err != nil {
		t.Error(err)
	}
	sameValues(t, "read back", queues.Values("out"), ints(0, 10))

	if err := imm.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := imm.Write(ctx, pyval.Str("x")); err != nil {
		t.Fatal(err)
	}
	ts, err := stores.Open(ctx, "memory")
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]pyval.Value{"ns_k": pyval.IntOf(9), "attr": pyval.Str("x")} {
		if v, err := ts.Get(ctx, key); err != nil || !pyval.Equal(v, want) {
			t.Errorf("%s: %v, %v; want %s", key, v, err, pyval.Repr(want))
		}
	}

	for _, d := range []descriptor.TelstateSink{{DB: "nowhere.rdb", Key: "k"}, {DB: "memory", Key: ""}} {
		if _, err := SinkFromDescriptor(ctx, stores, &d); err == nil {
			t.Errorf("%+v accepted", d)
		}
	}
	if _, err := SourceFromDescriptor(ctx, stores, &descriptor.TelstateSensorSource{DB: "memory"}); err == nil {
		t.Error("source without key accepted")
	}
}
