package pyval

import (
	"errors"
	"math"
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
