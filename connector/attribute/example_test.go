package attribute_test

import (
	"context"
	"fmt"

	"github.com/sdpkit/sdpkit/connector/attribute"
	"github.com/sdpkit/sdpkit/pyval"
)

func ExampleStore() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store := attribute.NewStore()
	_ = store.Define(attribute.Spec{Name: "pointing_offset", DType: pyval.Float64, Shape: []int{3}})
	events := store.Subscribe(ctx, "pointing_offset")
	first := <-events // the current value, as Tango sends on subscription
	_ = store.Set("pointing_offset", pyval.ArrayOf([]float64{9, 3.5, 2.8}))
	next := <-events
	snap, _ := store.Get("pointing_offset")
	fmt.Println(snap.Spec.Format(), snap.Spec.TangoType(), snap.Spec.MaxDimX())
	fmt.Println(first.Quality, next.Quality, pyval.Repr(next.Value))
	// Output:
	// SPECTRUM DevDouble 3
	// ATTR_INVALID ATTR_VALID array([9.0, 3.5, 2.8], dtype='<f8', shape=(3,))
}
