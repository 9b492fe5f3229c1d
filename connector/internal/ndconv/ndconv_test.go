package ndconv

import (
	"errors"
	"math"
	"testing"

	"github.com/sdpkit/sdpkit/pyval"
)

func dt(t *testing.T, s string) pyval.DType {
	t.Helper()
	d, err := pyval.ParseDType(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestToArray(t *testing.T) {
	l := func(vs ...pyval.Value) pyval.List { return pyval.List(vs) }
	i := pyval.IntOf
	cases := []struct {
		name  string
		in    pyval.Value
		dtype string
		want  pyval.Value // nil: error
	}{
		{"ints to float", l(i(1), i(2)), "<f8", pyval.ArrayOf([]float64{1, 2})},
		{"floats truncate to int", l(pyval.Float(1.7), pyval.Float(-1.7)), "<i4", pyval.ArrayOf([]int32{1, -1})},
		{"nested", l(l(i(1), i(2)), l(i(3), i(4))), "<i8", pyval.ArrayOf([]int64{1, 2, 3, 4}, 2, 2)},
		{"tuple", pyval.Tuple{pyval.Bool(true), i(0)}, "|b1", pyval.ArrayOf([]bool{true, false})},
		{"scalar is 0-d", pyval.Float(2.5), "<f4", &pyval.NDArray{DType: pyval.Float32, Shape: []int{}, Data: pyval.ArrayOf([]float32{2.5}).Data}},
		{"same dtype passes", pyval.ArrayOf([]int16{5, 6}), "<i2", pyval.ArrayOf([]int16{5, 6})},
		{"array recast", pyval.ArrayOf([]int16{5, 6}), "<f8", pyval.ArrayOf([]float64{5, 6})},
		{"big-endian", l(i(1)), ">i2", &pyval.NDArray{DType: pyval.DType{Kind: 'i', ByteOrder: '>', Size: 2}, Shape: []int{1}, Data: []byte{0, 1}}},
		{"strings sized", l(pyval.Str("a"), pyval.Str("bcd")), "U", pyval.StringArray([]string{"a", "bcd"})},
		{"empty list", l(), "<f8", pyval.ArrayOf([]float64{})},
		{"uint range", l(i(256)), "|u1", nil},
		{"negative uint", l(i(-1)), "<u4", nil},
		{"int8 range", l(i(-129)), "|i1", nil},
		{"nan to int", l(pyval.Float(math.NaN())), "<i8", nil},
		{"ragged", l(l(i(1)), l(i(1), i(2))), "<i8", nil},
		{"str to float", l(pyval.Str("x")), "<f8", nil},
		{"object", l(i(1)), "O", nil},
		{"datetime from int", l(i(1)), "<M8[ns]", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ToArray(tc.in, dt(t, tc.dtype))
			if tc.want == nil {
				if err == nil {
					t.Fatalf("no error: %s", pyval.Repr(got))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			w := tc.want.(*pyval.NDArray)
			if !got.DType.Equal(w.DType) || len(got.Shape) != len(w.Shape) || string(got.Data) != string(w.Data) {
				t.Errorf("got %s %v %x, want %s %v %x", got.DType, got.Shape, got.Data, w.DType, w.Shape, w.Data)
			}
		})
	}
}

func TestCoerce(t *testing.T) {
	cases := []struct {
		name  string
		in    pyval.Value
		dtype string
		max   []int
		want  string // Repr; "" = error
	}{
		{"None stays", pyval.None, "<f8", nil, "None"},
		{"object passes", pyval.StrDict("a", pyval.IntOf(1)), "O", nil, "{'a': 1}"},
		{"bool", pyval.IntOf(2), "|b1", nil, "True"},
		{"uint64 large", pyval.UintOf(1 << 63), "<u8", nil, "9223372036854775808"},
		{"float32", pyval.Float(0.1), "<f4", nil, "0.10000000149011612"},
		{"complex", pyval.Float(1), "<c16", nil, "(1+0j)"},
		{"str of float", pyval.Float(1.5), "U", nil, "'1.5'"},
		{"str of bytes", pyval.Bytes("ab"), "U", nil, "'ab'"},
		{"str of list", pyval.List{pyval.IntOf(1)}, "U", nil, "'[1]'"},
		{"one-element array to scalar", pyval.ArrayOf([]float64{4}), "<f8", nil, "4.0"},
		{"list to scalar", pyval.List{pyval.IntOf(1), pyval.IntOf(2)}, "<f8", nil, ""},
		{"devencoded", pyval.Tuple{pyval.Str("json"), pyval.Bytes("{}")}, "S", nil, "('json', b'{}')"},
		{"devencoded wrong", pyval.Str("x"), "S", nil, ""},
		{"spectrum", pyval.List{pyval.IntOf(1)}, "<i4", []int{2}, "array([1], dtype='<i4', shape=(1,))"},
		{"spectrum too long", pyval.List{pyval.IntOf(1), pyval.IntOf(2), pyval.IntOf(3)}, "<i4", []int{2}, ""},
		{"unbounded", pyval.List{pyval.IntOf(1), pyval.IntOf(2), pyval.IntOf(3)}, "<i4", []int{-1}, "array([1, 2, 3], dtype='<i4', shape=(3,))"},
		{"rank mismatch", pyval.IntOf(1), "<i4", []int{2}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Coerce(tc.in, dt(t, tc.dtype), tc.max)
			if tc.want == "" {
				if !errors.Is(err, ErrConvert) {
					t.Fatalf("got %v, %v; want ErrConvert", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r := pyval.Repr(got); r != tc.want {
				t.Errorf("Coerce = %s, want %s", r, tc.want)
			}
		})
	}
}
