package sink

import (
	"context"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/connector/attribute"
	"github.com/sdpkit/sdpkit/connector/exchange"
	"github.com/sdpkit/sdpkit/pyval"
)

// Pieces together: two sources of float scalars, a buffering pipe whose
// only window is flushed at the end, and a local attribute sink built for
// the pipe's output ([-1] float64: a SPECTRUM of any length).
func TestExchangeIntoLocalAttribute(t *testing.T) {
	ctx := context.Background()
	store := attribute.NewStore()
	pipe, err := exchange.NewBufferWithTimePipe(pyval.Float64, nil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewLocalAttributeSink(store, "batch", pipe.OutputDType(), pipe.OutputShape(), pyval.Str(""))
	if err != nil {
		t.Fatal(err)
	}
	a := exchange.NewInMemorySource([]pyval.Value{pyval.Float(1), pyval.Float(2)}, 0)
	b := exchange.NewInMemorySource([]pyval.Value{pyval.IntOf(3)}, 0)
	x, err := exchange.New([]exchange.Source{a, b}, pipe, s)
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := x.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if err := x.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	snap, _ := store.Get("batch")
	if snap.Spec.Format() != attribute.Spectrum || snap.Spec.TangoType() != "DevDouble" {
		t.Errorf("spec %+v", snap.Spec)
	}
	arr, ok := snap.Reading.Value.(*pyval.NDArray)
	if !ok {
		t.Fatalf("value %s", pyval.Repr(snap.Reading.Value))
	}
	got, _ := arr.Float64s()
	sum := 0.0
	for _, f := range got {
		sum += f
	}
	if len(got) != 3 || sum != 6 {
		t.Errorf("batch %v, want the three values in one window", got)
	}
}
