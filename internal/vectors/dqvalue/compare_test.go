package dqvalue

import (
	"math"
	"testing"

	"github.com/sdpkit/sdpkit/pyval"
)

func TestSame(t *testing.T) {
	dict := func(kv ...pyval.Value) *pyval.Dict {
		d := &pyval.Dict{}
		for i := 0; i < len(kv); i += 2 {
			d.Set(kv[i], kv[i+1])
		}
		return d
	}
	nan := pyval.Float(math.NaN())
	cases := []struct {
		name string
		a, b pyval.Value
		want bool
	}{
		{"NaN equals NaN", pyval.List{nan}, pyval.List{nan}, true},
		{"-0.0 is not 0.0", pyval.Float(math.Copysign(0, -1)), pyval.Float(0), false},
		{"int is not float", pyval.IntOf(1), pyval.Float(1), false},
		{"tuple is not list", pyval.Tuple{pyval.IntOf(1)}, pyval.List{pyval.IntOf(1)}, false},
		{"dict order counts", dict(pyval.Str("a"), pyval.IntOf(1), pyval.Str("b"), pyval.IntOf(2)),
			dict(pyval.Str("b"), pyval.IntOf(2), pyval.Str("a"), pyval.IntOf(1)), false},
		{"same dict", dict(pyval.Str("a"), nan), dict(pyval.Str("a"), nan), true},
		{"array dtype counts", pyval.ArrayOf([]int32{1, 2}), pyval.ArrayOf([]int64{1, 2}), false},
		{"array shape counts", pyval.ArrayOf([]int32{1, 2}, 2, 1), pyval.ArrayOf([]int32{1, 2}, 1, 2), false},
		{"same array", pyval.ArrayOf([]float64{1, math.NaN()}), pyval.ArrayOf([]float64{1, math.NaN()}), true},
		{"scalar is not float", pyval.ScalarOf(float32(1.5)), pyval.Float(1.5), false},
		{"nil", nil, pyval.None, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Same(c.a, c.b); got != c.want {
				t.Errorf("Same(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
			}
		})
	}
}

func TestPythonDecoded(t *testing.T) {
	got := PythonDecoded("msgpack_numpy", pyval.Tuple{pyval.Tuple{pyval.IntOf(1)}})
	if !Same(got, pyval.List{pyval.List{pyval.IntOf(1)}}) {
		t.Errorf("msgpack: tuples not made lists: %s", pyval.Repr(got))
	}
	s := pyval.ScalarOf(int16(3))
	if a, ok := PythonDecoded("npy", s).(*pyval.NDArray); !ok || len(a.Shape) != 0 || !a.DType.Equal(s.DType) {
		t.Errorf("npy: scalar not made a 0-d array")
	}
	v := pyval.Tuple{pyval.IntOf(1)}
	if !Same(PythonDecoded("json", v), v) {
		t.Errorf("json: value changed")
	}
}
