package pyval

import (
	"errors"
	"math"
	"testing"
)

func TestEqual(t *testing.T) {
	nan := Float(math.NaN())
	d1 := StrDict("a", IntOf(1), "b", IntOf(2))
	d2 := StrDict("b", Float(2), "a", Bool(true))
	u := &Scalar{DType: DType{Kind: 'U', ByteOrder: '<', Size: 1}, Data: []byte{'x', 0, 0, 0}}
	s := &Scalar{DType: DType{Kind: 'S', ByteOrder: '|', Size: 2}, Data: []byte{'x', 0}}
	ld := &Scalar{DType: DType{Kind: 'f', ByteOrder: '<', Size: 16}, Data: []byte{0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0x3f, 0, 0, 0, 0, 0, 0}}
	dtm := &Scalar{DType: DType{Kind: 'M', ByteOrder: '<', Size: 8, Unit: "s"}, Data: make([]byte, 8)}
	cases := []struct {
		a, b Value
		want bool
	}{
		{IntOf(1), Float(1), true}, {IntOf(1), Bool(true), true}, {Bool(false), Float(0), true}, {Float(0), Float(math.Copysign(0, -1)), true},
		{IntOf(1), Complex(1), true}, {Complex(1 + 1i), Complex(1 + 1i), true}, {Complex(1 + 1i), IntOf(1), false},
		{UintOf(1 << 63), Float(1 << 63), true}, {UintOf(1<<53 + 1), Float(1 << 53), false}, {UintOf(math.MaxUint64), Float(1 << 64), false},
		{IntOf(-1), UintOf(math.MaxUint64), false},
		{nan, nan, false}, {Complex(complex(math.NaN(), 0)), Complex(complex(math.NaN(), 0)), false},
		{ScalarOf(int64(1)), IntOf(1), true}, {IntOf(1), ScalarOf(float32(1)), true}, {ScalarOf(float32(1.5)), ScalarOf(1.5), true},
		{ScalarOf(float32(0.1)), Float(0.1), false}, {ScalarOf(true), Bool(true), true}, {ScalarOf(complex64(1i)), Complex(1i), true},
		{ld, Float(1.5), true}, {dtm, dtm, true}, {dtm, IntOf(0), false},
		{Str("x"), Bytes("x"), false}, {Str("x"), Str("x"), true}, {Str("x"), u, true}, {u, Str("x"), true}, {u, Str("y"), false},
		{Bytes("x"), s, true}, {s, Bytes("x"), true}, {Bytes("x"), Bytes("x"), true}, {Str("1"), IntOf(1), false},
		{None, None, true}, {None, IntOf(0), false}, {None, List{}, false},
		{Tuple{IntOf(1)}, List{IntOf(1)}, false}, {Tuple{IntOf(1), Str("a")}, Tuple{Float(1), Str("a")}, true}, {List{}, List{}, true},
		{List{IntOf(1)}, List{IntOf(1), IntOf(2)}, false}, {List{nan}, List{nan}, false},
		{d1, d2, true}, {d1, StrDict("a", IntOf(1)), false}, {d1, StrDict("a", IntOf(1), "c", IntOf(2)), false}, {d1, List{}, false},
		{Timestamp{1, 2}, Timestamp{1, 2}, true}, {Timestamp{1, 2}, Timestamp{1, 3}, false},
		{ArrayOf([]int32{1, 2}), ArrayOf([]int32{1, 2}), true}, {ArrayOf([]int32{1, 2}), ArrayOf([]float64{1, 2}), true},
		{ArrayOf([]int32{1, 2}), ArrayOf([]int32{1, 3}), false}, {ArrayOf([]int32{1, 2}), ArrayOf([]int32{1, 2}, 2, 1), false},
		{ArrayOf([]float64{math.NaN()}), ArrayOf([]float64{math.NaN()}), false}, {ArrayOf([]int8{1}), IntOf(1), false},
		{StringArray([]string{"a"}), StringArray([]string{"a"}), true},
		{nil, nil, false}, {nil, None, false},
	}
	for _, c := range cases {
		if got := Equal(c.a, c.b); got != c.want {
			t.Errorf("Equal(%s, %s) = %v, want %v", Repr(c.a), Repr(c.b), got, c.want)
		}
	}
}

func TestAsAccessors(t *testing.T) {
	f64 := []struct {
		v    Value
		want float64
		ok   bool
	}{
		{Float(1.5), 1.5, true}, {IntOf(-3), -3, true}, {Bool(true), 1, true}, {Bool(false), 0, true}, {ScalarOf(float32(0.5)), 0.5, true},
		{ScalarOf(uint8(7)), 7, true}, {ArrayOf([]float64{2.5}), 2.5, true}, {ArrayOf([]int16{4}, 1, 1), 4, true},
		{ArrayOf([]float64{1, 2}), 0, false}, {Complex(1), 0, false}, {Str("1"), 0, false}, {None, 0, false}, {nil, 0, false},
		{ScalarOf(complex64(1)), 0, false}, {&Scalar{DType: Float64, Data: []byte{1}}, 0, false},
	}
	for _, c := range f64 {
		got, err := AsFloat64(c.v)
		if (err == nil) != c.ok || got != c.want || (err != nil && !errors.Is(err, ErrType)) {
			t.Errorf("AsFloat64(%s) = %v, %v", Repr(c.v), got, err)
		}
	}
	i64 := []struct {
		v    Value
		want int64
		ok   bool
	}{
		{IntOf(-3), -3, true}, {Bool(true), 1, true}, {Bool(false), 0, true}, {ScalarOf(int16(-9)), -9, true}, {ScalarOf(true), 1, true},
		{UintOf(math.MaxUint64), 0, false}, {ScalarOf(uint64(math.MaxUint64)), 0, false}, {Float(1), 0, false}, {ScalarOf(1.0), 0, false}, {None, 0, false},
	}
	for _, c := range i64 {
		got, err := AsInt64(c.v)
		if (err == nil) != c.ok || got != c.want || (err != nil && !errors.Is(err, ErrType)) {
			t.Errorf("AsInt64(%s) = %v, %v", Repr(c.v), got, err)
		}
	}
	for v, want := range map[Value]complex128{Complex(1 + 2i): 1 + 2i, IntOf(3): 3, Float(0.5): 0.5, Bool(true): 1} {
		if got, err := AsComplex128(v); err != nil || got != want {
			t.Errorf("AsComplex128(%s) = %v, %v", Repr(v), got, err)
		}
	}
	if got, err := AsComplex128(ScalarOf(complex64(1i))); err != nil || got != 1i {
		t.Errorf("AsComplex128(complex64) = %v, %v", got, err)
	}
	if _, err := AsComplex128(Str("x")); !errors.Is(err, ErrType) {
		t.Errorf("AsComplex128(str): %v", err)
	}
	u := &Scalar{DType: DType{Kind: 'U', ByteOrder: '<', Size: 1}, Data: []byte{'x', 0, 0, 0}}
	if got, err := AsString(u); err != nil || got != "x" {
		t.Errorf("AsString(str_) = %q, %v", got, err)
	}
	if got, err := AsString(Str("y")); err != nil || got != "y" {
		t.Errorf("AsString = %q, %v", got, err)
	}
	if _, err := AsString(Bytes("y")); !errors.Is(err, ErrType) {
		t.Errorf("AsString(bytes): %v", err)
	}
	if got, err := AsBytes(&Scalar{DType: DType{Kind: 'S', ByteOrder: '|', Size: 2}, Data: []byte("z\x00")}); err != nil || string(got) != "z" {
		t.Errorf("AsBytes(bytes_) = %q, %v", got, err)
	}
	if got, err := AsBytes(Bytes("b")); err != nil || string(got) != "b" {
		t.Errorf("AsBytes = %q, %v", got, err)
	}
	if _, err := AsBytes(Str("b")); !errors.Is(err, ErrType) {
		t.Errorf("AsBytes(str): %v", err)
	}
	if got, err := AsBool(ScalarOf(true)); err != nil || !got {
		t.Errorf("AsBool(bool_) = %v, %v", got, err)
	}
	if got, err := AsBool(Bool(true)); err != nil || !got {
		t.Errorf("AsBool = %v, %v", got, err)
	}
	if _, err := AsBool(IntOf(1)); !errors.Is(err, ErrType) {
		t.Errorf("AsBool(int): %v", err)
	}
	a := ArrayOf([]int8{1})
	if got, err := AsNDArray(a); err != nil || got != a {
		t.Errorf("AsNDArray = %v, %v", got, err)
	}
	if _, err := AsNDArray(List{}); !errors.Is(err, ErrType) {
		t.Errorf("AsNDArray(list): %v", err)
	}
}
