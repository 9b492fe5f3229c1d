package sink_test

import (
	"context"
	"fmt"

	"github.com/sdpkit/sdpkit/connector/attribute"
	"github.com/sdpkit/sdpkit/connector/exchange"
	"github.com/sdpkit/sdpkit/connector/sink"
	"github.com/sdpkit/sdpkit/pyval"
)

// Pointing offsets arrive as dicts; each dish's attribute takes the values
// of its own records only.
func ExampleObjectScatterSink() {
	ctx := context.Background()
	store := attribute.NewStore()
	var attrs []sink.ObjectAttribute
	for _, dish := range []string{"SKA001", "SKA002"} {
		attrs = append(attrs, sink.ObjectAttribute{
			Name:   "pointing_offset_" + dish,
			DType:  pyval.Float64,
			Shape:  []int{3},
			Filter: fmt.Sprintf("antenna_name == '%s'", dish),
			Path:   "[last_scan_index, xel_offset, el_offset]",
		})
	}
	s, err := sink.NewObjectScatterSink(store, attrs)
	if err != nil {
		panic(err)
	}
	src := exchange.NewInMemorySource([]pyval.Value{
		pyval.StrDict("antenna_name", pyval.Str("SKA001"), "last_scan_index", pyval.Float(9),
			"xel_offset", pyval.Float(3.5), "el_offset", pyval.Float(2.8)),
	}, 0)
	x, _ := exchange.New([]exchange.Source{src}, nil, s)
	_ = x.Start(ctx)
	if err := x.Run(ctx); err != nil {
		panic(err)
	}
	_ = x.Stop(ctx)
	for _, a := range store.Snapshot() {
		fmt.Println(a.Spec.Name, a.Reading.Quality, pyval.Repr(a.Reading.Value))
	}
	// Output:
	// pointing_offset_SKA001 ATTR_VALID array([9.0, 3.5, 2.8], dtype='<f8', shape=(3,))
	// pointing_offset_SKA002 ATTR_INVALID None
}

// A 4×3 array is split into two 2×3 halves along axis 0.
func ExampleArrayScatterSink() {
	store := attribute.NewStore()
	s, err := sink.NewArrayScatterSink(store, pyval.Int32, []int{4, 3}, []string{"top", "bottom"},
		sink.WithShapeNames([]string{"top_shape", "bottom_shape"}))
	if err != nil {
		panic(err)
	}
	v := pyval.ArrayOf([]int32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 4, 3)
	if err := s.Write(context.Background(), v); err != nil {
		panic(err)
	}
	for _, name := range s.Attributes() {
		snap, _ := store.Get(name)
		l, _ := snap.Reading.Value.(*pyval.NDArray).ToList()
		fmt.Println(name, snap.Spec.Format(), pyval.Repr(l))
	}
	// Output:
	// top IMAGE [[0, 1, 2], [3, 4, 5]]
	// bottom IMAGE [[6, 7, 8], [9, 10, 11]]
	// top_shape SPECTRUM [2, 3]
	// bottom_shape SPECTRUM [2, 3]
}
