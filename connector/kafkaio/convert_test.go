package kafkaio_test

import (
	"errors"
	"testing"

	"github.com/sdpkit/sdpkit/connector/descriptor"
	"github.com/sdpkit/sdpkit/connector/kafkaio"
	"github.com/sdpkit/sdpkit/pyval"
)

func TestConvert(t *testing.T) {
	f8 := pyval.DTypeOf[float64]()
	f4 := pyval.DTypeOf[float32]()
	i4 := pyval.DTypeOf[int32]()
	pt := pointingDType(t)
	rec := pointing(t, "SKA001", pointingBase, 1, 2)
	tests := []struct {
		name  string
		v     pyval.Value
		dtype pyval.DType
		shape []int
		want  pyval.Value
	}{
		{"float stays", pyval.Float(1.5), f8, nil, pyval.Float(1.5)},
		{"int to float", pyval.IntOf(2), f8, nil, pyval.Float(2)},
		{"float32 rounds", pyval.Float(0.1), f4, nil, pyval.Float(float64(float32(0.1)))},
		{"numpy scalar of the dtype stays", pyval.ScalarOf(float32(0.5)), f4, nil, pyval.ScalarOf(float32(0.5))},
		{"0-d array of another dtype", &pyval.NDArray{DType: i4, Shape: []int{}, Data: []byte{7, 0, 0, 0}}, f8, nil, pyval.Float(7)},
		{"0-d array of the dtype stays", &pyval.NDArray{DType: f8, Shape: []int{}, Data: make([]byte, 8)}, f8, nil, &pyval.NDArray{DType: f8, Shape: []int{}, Data: make([]byte, 8)}},
		{"str stays", pyval.Str("a"), descriptor.MustDType("str").NumPy, nil, pyval.Str("a")},
		{"str() of a number", pyval.IntOf(3), descriptor.MustDType("str").NumPy, nil, pyval.Str("3")},
		{"object passes anything", pyval.StrDict("a", pyval.IntOf(1)), descriptor.MustDType("object").NumPy, nil, pyval.StrDict("a", pyval.IntOf(1))},
		{"list to array", pyval.List{pyval.IntOf(1), pyval.IntOf(2), pyval.IntOf(3)}, f8, []int{3}, pyval.ArrayOf([]float64{1, 2, 3})},
		{"array cast", pyval.ArrayOf([]int32{1, 2}), f8, []int{2}, pyval.ArrayOf([]float64{1, 2})},
		{"array of the dtype stays", pyval.ArrayOf([]int32{1, 2, 3, 4}, 2, 2), i4, []int{2, 2}, pyval.ArrayOf([]int32{1, 2, 3, 4}, 2, 2)},
		{"variable axis", pyval.ArrayOf([]int32{1, 2, 3}), i4, []int{-1}, pyval.ArrayOf([]int32{1, 2, 3})},
		{"structured record stays", rec, pt, nil, rec},
		{"structured 0-d array stays", &pyval.NDArray{DType: pt, Shape: []int{}, Data: rec.Data}, pt, nil, &pyval.NDArray{DType: pt, Shape: []int{}, Data: rec.Data}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := kafkaio.Convert(tc.v, tc.dtype, tc.shape)
			if err != nil {
				t.Fatal(err)
			}
			if !pyval.Equal(got, tc.want) {
				t.Fatalf("got %s, want %s", pyval.Repr(got), pyval.Repr(tc.want))
			}
			if a, ok := tc.want.(*pyval.NDArray); ok {
				if g, ok := got.(*pyval.NDArray); !ok || !g.DType.Equal(a.DType) {
					t.Fatalf("got %s, want an array of %s", pyval.Repr(got), a.DType)
				}
			}
		})
	}
}

func TestConvertErrors(t *testing.T) {
	f8 := pyval.DTypeOf[float64]()
	tests := []struct {
		name  string
		v     pyval.Value
		dtype pyval.DType
		shape []int
	}{
		{"wrong shape", pyval.ArrayOf([]float64{1, 2}), f8, []int{3}},
		{"wrong rank", pyval.ArrayOf([]float64{1, 2}), f8, []int{2, 1}},
		{"array for a scalar", pyval.ArrayOf([]float64{1, 2}), f8, nil},
		{"str for a float", pyval.Str("x"), f8, nil},
		{"dict for an array", pyval.StrDict("a", pyval.IntOf(1)), f8, []int{1}},
		{"float for a struct", pyval.Float(1), pointingDType(t), nil},
		{"ragged", pyval.List{pyval.List{pyval.IntOf(1)}, pyval.IntOf(2)}, f8, []int{2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := kafkaio.Convert(tc.v, tc.dtype, tc.shape)
			if !errors.Is(err, kafkaio.ErrConvert) {
				t.Fatalf("got %v, %v; want an ErrConvert error", got, err)
			}
		})
	}
}
