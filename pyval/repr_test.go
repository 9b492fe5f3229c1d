package pyval

import (
	"math"
	"testing"
)

func TestFloatRepr(t *testing.T) {
	cases := []struct {
		f    float64
		want string
	}{
		{0, "0.0"}, {math.Copysign(0, -1), "-0.0"}, {1, "1.0"}, {-1, "-1.0"}, {1.5, "1.5"}, {0.1, "0.1"},
		{1e16, "1e+16"}, {1e15, "1000000000000000.0"}, {9999999999999998, "9999999999999998.0"},
		{0.0001, "0.0001"}, {1e-05, "1e-05"}, {0.00012345, "0.00012345"}, {5e-324, "5e-324"},
		{1.2345678890123457, "1.2345678890123457"}, {1556112474.453495, "1556112474.453495"},
		{123456789012345680.0, "1.2345678901234568e+17"}, {1e22, "1e+22"}, {1.5e300, "1.5e+300"},
		{math.MaxFloat64, "1.7976931348623157e+308"}, {2.5e-7, "2.5e-07"}, {-1.5e-100, "-1.5e-100"},
		{math.Inf(1), "inf"}, {math.Inf(-1), "-inf"}, {math.NaN(), "nan"}, {-math.NaN(), "nan"},
	}
	for _, c := range cases {
		if got := FloatRepr(c.f); got != c.want {
			t.Errorf("FloatRepr(%v) = %q, want %q", c.f, got, c.want)
		}
		if got := Repr(Float(c.f)); got != c.want {
			t.Errorf("Repr(Float(%v)) = %q, want %q", c.f, got, c.want)
		}
	}
}

func TestComplexRepr(t *testing.T) {
	negZero := math.Copysign(0, -1)
	cases := []struct {
		c    complex128
		want string
	}{
		{complex(1.2, 3.4), "(1.2+3.4j)"}, {0, "0j"}, {complex(-1.5, negZero), "(-1.5-0j)"},
		{complex(math.Inf(1), math.NaN()), "(inf+nanj)"}, {3i, "3j"}, {complex(1, 0), "(1+0j)"},
		{complex(negZero, 0), "(-0+0j)"}, {complex(0, negZero), "-0j"}, {complex(1e16, 1e-5), "(1e+16+1e-05j)"},
		{complex(negZero, -1), "(-0-1j)"}, {complex(2, math.Inf(-1)), "(2-infj)"},
	}
	for _, c := range cases {
		if got := ComplexRepr(c.c); got != c.want {
			t.Errorf("ComplexRepr(%v) = %q, want %q", c.c, got, c.want)
		}
	}
}

func TestStrRepr(t *testing.T) {
	// Expected values are Python 3.11's repr().
	cases := []struct{ s, want string }{
		{"", "''"}, {"a", "'a'"}, {"it's", `"it's"`}, {`say "hi"`, `'say "hi"'`},
		{`both ' and "`, `'both \' and "'`}, {`back\slash`, `'back\\slash'`},
		{"tab\tnl\ncr\r", `'tab\tnl\ncr\r'`}, {"\x00\x1f\x7f", `'\x00\x1f\x7f'`},
		{"\u0080\u009f\u00a0\u00ad\u00e9\u00ff", `'\x80\x9f\xa0\xadéÿ'`},
		{"\u2028\u200b\ue000\U0001F600\U000E0001", `'\u2028\u200b\ue000😀\U000e0001'`},
		{"ж日本", "'ж日本'"}, {"\u3000x", `'\u3000x'`},
		{"a\xffb", `'a\udcffb'`}, // invalid UTF-8: Python's surrogateescape
	}
	for _, c := range cases {
		if got := StrRepr(c.s); got != c.want {
			t.Errorf("StrRepr(%q) = %s, want %s", c.s, got, c.want)
		}
	}
}

func TestBytesRepr(t *testing.T) {
	cases := []struct{ b, want string }{
		{"", "b''"}, {"a", "b'a'"}, {"it's", `b"it's"`}, {`"`, `b'"'`}, {`both ' and "`, `b'both \' and "'`},
		{`\`, `b'\\'`}, {"\t\n\r\x00\x7f\x80\xff", `b'\t\n\r\x00\x7f\x80\xff'`},
	}
	for _, c := range cases {
		if got := BytesRepr([]byte(c.b)); got != c.want {
			t.Errorf("BytesRepr(%q) = %s, want %s", c.b, got, c.want)
		}
	}
}

func TestRepr(t *testing.T) {
	d := StrDict("a", IntOf(1), "b", List{None, Bool(true)})
	_ = d.Set(Tuple{IntOf(1), Bytes("x")}, Float(2.5))
	cases := []struct {
		v    Value
		want string
	}{
		{nil, "<nil>"}, {None, "None"}, {Bool(false), "False"}, {IntOf(-42), "-42"}, {UintOf(math.MaxUint64), "18446744073709551615"},
		{Complex(1i), "1j"}, {Str("x"), "'x'"}, {Bytes("y"), "b'y'"},
		{Tuple{}, "()"}, {Tuple{IntOf(1)}, "(1,)"}, {Tuple{IntOf(1), IntOf(2)}, "(1, 2)"},
		{List{}, "[]"}, {List{Tuple{}, List{Str("a")}}, "[(), ['a']]"},
		{&Dict{}, "{}"}, {d, "{'a': 1, 'b': [None, True], (1, b'x'): 2.5}"},
		{Timestamp{Seconds: 1, Nanoseconds: 2}, "Timestamp(seconds=1, nanoseconds=2)"},
		{ArrayOf([]int16{1, 2, 3, 4}, 2, 2), "array([[1, 2], [3, 4]], dtype='<i2', shape=(2, 2))"},
		{ScalarOf(float32(1.5)), "numpy.float32(1.5)"},
		{ScalarOf(true), "numpy.bool_(True)"},
		{&Scalar{DType: DType{Kind: 'M', ByteOrder: '<', Size: 8, Unit: "s"}, Data: []byte{1, 0, 0, 0, 0, 0, 0, 0}}, "numpy.datetime64(0100000000000000)"},
	}
	for _, c := range cases {
		if got := Repr(c.v); got != c.want {
			t.Errorf("Repr(%#v) = %s, want %s", c.v, got, c.want)
		}
	}
	// Deep nesting is cut off rather than recursing without bound.
	var v Value = IntOf(1)
	for i := 0; i < 200; i++ {
		v = List{v}
	}
	if got := Repr(v); len(got) > 300 {
		t.Errorf("Repr of 200 nested lists has %d bytes", len(got))
	}
}
