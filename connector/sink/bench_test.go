package sink

import (
	"context"
	"fmt"
	"testing"

	"github.com/sdpkit/sdpkit/connector/attribute"
	"github.com/sdpkit/sdpkit/pyval"
)

// BenchmarkObjectScatterWrite: one pointing-offset dict scattered over 4
// dish attributes (filter + multiselect path each).
func BenchmarkObjectScatterWrite(b *testing.B) {
	store := attribute.NewStore()
	var attrs []ObjectAttribute
	for i := 1; i <= 4; i++ {
		attrs = append(attrs, ObjectAttribute{
			Name: fmt.Sprint("off", i), DType: pyval.Float64, Shape: []int{3},
			Filter: fmt.Sprintf("antenna_name == 'SKA00%d'", i),
			Path:   "[last_scan_index, xel_offset, el_offset]",
		})
	}
	s, err := NewObjectScatterSink(store, attrs)
	if err != nil {
		b.Fatal(err)
	}
	v := pyval.StrDict("antenna_name", pyval.Str("SKA001"), "last_scan_index", pyval.Float(9),
		"xel_offset", pyval.Float(3.5), "el_offset", pyval.Float(2.8))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Write(ctx, v); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkArrayScatterWrite: a 64×1024 float64 array split into 4 parts
// along axis 0 and along axis 1.
func BenchmarkArrayScatterWrite(b *testing.B) {
	for _, axis := range []int{0, 1} {
		b.Run(fmt.Sprint("axis", axis), func(b *testing.B) {
			store := attribute.NewStore()
			s, err := NewArrayScatterSink(store, pyval.Float64, []int{64, 1024}, []string{"a", "b", "c", "d"}, WithAxis(axis))
			if err != nil {
				b.Fatal(err)
			}
			v := pyval.ArrayOf(make([]float64, 64*1024), 64, 1024)
			ctx := context.Background()
			b.SetBytes(int64(len(v.Data)))
			for b.Loop() {
				if err := s.Write(ctx, v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
