package pyval

import (
	"errors"
	"math"
	"math/big"
	"testing"
)

func TestKindString(t *testing.T) {
	want := map[Value]string{None: "NoneType", Bool(true): "bool", IntOf(1): "int", Float(1): "float", Complex(1): "complex",
		Str(""): "str", Timestamp{}: "msgpack.Timestamp"}
	for v, name := range want {
		if got := v.Kind().String(); got != name {
			t.Errorf("%#v: kind %q, want %q", v, got, name)
		}
	}
	if got := Kind(99).String(); got != "Kind(99)" {
		t.Errorf("Kind(99) = %q", got)
	}
	kinds := []Value{Bytes(nil), Tuple{}, List{}, &Dict{}, &NDArray{}, &Scalar{}}
	for i, v := range kinds {
		if v.Kind() != KindBytes+Kind(i) {
			t.Errorf("%T: kind %v", v, v.Kind())
		}
	}
}

func TestInt(t *testing.T) {
	cases := []struct {
		s       string
		i64     int64
		fitsI64 bool
		u64     uint64
		fitsU64 bool
		f       float64
	}{
		{"0", 0, true, 0, true, 0},
		{"-1", -1, true, 0, false, -1},
		{"9223372036854775807", math.MaxInt64, true, math.MaxInt64, true, 9223372036854775807},
		{"9223372036854775808", 0, false, 1 << 63, true, 9223372036854775808},
		{"18446744073709551615", 0, false, math.MaxUint64, true, 18446744073709551615},
		{"-9223372036854775808", math.MinInt64, true, 0, false, -9223372036854775808},
	}
	for _, c := range cases {
		i, err := ParseInt(c.s)
		if err != nil {
			t.Fatalf("ParseInt(%q): %v", c.s, err)
		}
		if i.String() != c.s || i.Big().String() != c.s {
			t.Errorf("ParseInt(%q) prints as %s / %s", c.s, i, i.Big())
		}
		if v, ok := i.Int64(); ok != c.fitsI64 || (ok && v != c.i64) {
			t.Errorf("%s.Int64() = %d, %v", c.s, v, ok)
		}
		if v, ok := i.Uint64(); ok != c.fitsU64 || (ok && v != c.u64) {
			t.Errorf("%s.Uint64() = %d, %v", c.s, v, ok)
		}
		if i.Float64() != c.f {
			t.Errorf("%s.Float64() = %v", c.s, i.Float64())
		}
		if i.Negative() != (c.s[0] == '-') {
			t.Errorf("%s.Negative() = %v", c.s, i.Negative())
		}
		b, _ := new(big.Int).SetString(c.s, 10)
		if j, err := IntFromBig(b); err != nil || j != i {
			t.Errorf("IntFromBig(%s) = %v, %v", c.s, j, err)
		}
	}
	for _, s := range []string{"18446744073709551616", "-9223372036854775809", "", "1.5", "0x10", "+-1", "1e3"} {
		if _, err := ParseInt(s); err == nil {
			t.Errorf("ParseInt(%q) succeeded", s)
		}
	}
	if _, err := IntFromBig(new(big.Int).Lsh(big.NewInt(1), 64)); err == nil {
		t.Error("IntFromBig(2**64) succeeded")
	}
	if IntOf(math.MinInt64) != (Int{neg: true, mag: 1 << 63}) || IntOf(5) != UintOf(5) || (Int{}) != IntOf(0) {
		t.Error("IntOf/UintOf representation")
	}
}

func TestIntCmp(t *testing.T) {
	ordered := []Int{IntOf(math.MinInt64), IntOf(-2), IntOf(-1), IntOf(0), IntOf(1), UintOf(math.MaxInt64), UintOf(1 << 63), UintOf(math.MaxUint64)}
	for i, a := range ordered {
		for j, b := range ordered {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := a.Cmp(b); got != want {
				t.Errorf("%s.Cmp(%s) = %d, want %d", a, b, got, want)
			}
		}
	}
}

func TestStrValidUTF8(t *testing.T) {
	if !Str("é").ValidUTF8() || Str("\xff").ValidUTF8() {
		t.Error("ValidUTF8")
	}
}

func TestDict(t *testing.T) {
	d := &Dict{}
	if d.Len() != 0 || d.Items() != nil {
		t.Fatal("zero Dict not empty")
	}
	var nilDict *Dict
	if nilDict.Len() != 0 || len(nilDict.Keys()) != 0 {
		t.Error("nil Dict not empty")
	}
	if _, ok := nilDict.Get(IntOf(1)); ok || nilDict.Delete(IntOf(1)) {
		t.Error("nil Dict lookup")
	}
	// 1, 1.0, True and numpy.int64(1) are one key: the first key object and
	// position stay, the value is replaced.
	must(t, d.Set(IntOf(1), Str("int")))
	d.SetStr("x", None)
	must(t, d.Set(Float(1.0), Str("float")))
	must(t, d.Set(Bool(true), Str("bool")))
	must(t, d.Set(ScalarOf(int64(1)), Str("np")))
	must(t, d.Set(Complex(1), Str("complex")))
	if d.Len() != 2 || Repr(d) != "{1: 'complex', 'x': None}" {
		t.Errorf("dict = %s", Repr(d))
	}
	if v, ok := d.Get(Float(1)); !ok || v != Str("complex") {
		t.Errorf("d[1.0] = %v, %v", v, ok)
	}
	// 0, -0.0, False; str vs bytes; numpy.str_ vs str; tuples by content.
	must(t, d.Set(Float(math.Copysign(0, -1)), IntOf(0)))
	must(t, d.Set(Bool(false), IntOf(1)))
	must(t, d.Set(Bytes("x"), IntOf(2)))
	must(t, d.Set(Tuple{IntOf(1), Str("a")}, IntOf(3)))
	if v, ok := d.GetStr("x"); !ok || v != None {
		t.Errorf("d['x'] = %v", v)
	}
	if v, _ := d.Get(Tuple{Float(1), Str("a")}); v != IntOf(3) {
		t.Errorf("tuple key: %v", v)
	}
	u := &Scalar{DType: DType{Kind: 'U', ByteOrder: '<', Size: 1}, Data: []byte{'x', 0, 0, 0}}
	if v, _ := d.Get(u); v != None {
		t.Errorf("numpy.str_('x') key: %v", v)
	}
	if got := Repr(d); got != "{1: 'complex', 'x': None, -0.0: 1, b'x': 2, (1, 'a'): 3}" {
		t.Errorf("dict = %s", got)
	}
	keys := d.Keys()
	if len(keys) != 5 || keys[2] != Float(math.Copysign(0, -1)) {
		t.Errorf("keys %v", keys)
	}
	// Delete keeps the order of the rest and the index consistent.
	if !d.Delete(Str("x")) || d.Delete(Str("x")) {
		t.Error("Delete")
	}
	if v, _ := d.Get(Tuple{IntOf(1), Str("a")}); v != IntOf(3) || Repr(d) != "{1: 'complex', -0.0: 1, b'x': 2, (1, 'a'): 3}" {
		t.Errorf("after delete: %s", Repr(d))
	}
	// Unhashable keys.
	arr := ArrayOf([]int8{1})
	void := &Scalar{DType: DType{Kind: 'V', ByteOrder: '|', Size: 1}, Data: []byte{0}}
	for _, k := range []Value{List{}, &Dict{}, arr, Tuple{List{}}, void, nil} {
		if err := d.Set(k, None); !errors.Is(err, ErrUnhashable) {
			t.Errorf("Set(%s): %v, want ErrUnhashable", Repr(k), err)
		}
		if _, ok := d.Get(k); ok || d.Delete(k) {
			t.Errorf("Get/Delete(%s) found something", Repr(k))
		}
	}
	if _, err := NewDict(Item{Str("a"), None}, Item{List{}, None}); !errors.Is(err, ErrUnhashable) {
		t.Errorf("NewDict with list key: %v", err)
	}
	nd, err := NewDict(Item{Str("a"), IntOf(1)}, Item{Str("a"), IntOf(2)})
	if err != nil || Repr(nd) != "{'a': 2}" {
		t.Errorf("NewDict: %s, %v", Repr(nd), err)
	}
	// NaN keys share one key; longdouble scalars hash by bytes.
	nan := &Dict{}
	must(t, nan.Set(Float(math.NaN()), IntOf(1)))
	must(t, nan.Set(Float(-math.NaN()), IntOf(2)))
	ld := &Scalar{DType: DType{Kind: 'f', ByteOrder: '<', Size: 16}, Data: make([]byte, 16)}
	must(t, nan.Set(ld, IntOf(3)))
	must(t, nan.Set(Timestamp{Seconds: 1}, IntOf(4)))
	if nan.Len() != 3 {
		t.Errorf("NaN dict: %s", Repr(nan))
	}
}

func TestStrDictPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("StrDict with odd arguments did not panic")
		}
	}()
	StrDict("a")
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
