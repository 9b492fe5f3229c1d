package pyjson

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/sdpkit/sdpkit/pyval"
)

func TestAppendKeepsPrefix(t *testing.T) {
	dst := []byte("x=")
	out, err := Append(dst, pyval.List{pyval.IntOf(1), pyval.Str("é")})
	if err != nil || string(out) != `x=[1, "\u00e9"]` {
		t.Fatalf("got %q, %v", out, err)
	}
	out, err = Append(dst, pyval.Bytes("b"))
	if !errors.Is(err, ErrUnsupported) || len(out) != 2 {
		t.Fatalf("got %q, %v", out, err)
	}
}

func TestUnsupportedTypes(t *testing.T) {
	for _, c := range []struct {
		v    pyval.Value
		name string
	}{
		{pyval.Bytes("x"), "bytes"},
		{pyval.Complex(1i), "complex"},
		{pyval.ArrayOf([]float64{1}), "ndarray"},
		{pyval.ScalarOf(int64(1)), "int64"},
		{pyval.ScalarOf(true), "bool"},
		{pyval.Timestamp{}, "Timestamp"},
		{nil, "nil Value"},
		{(*pyval.Dict)(nil), "nil *pyval.Dict"},
	} {
		_, err := Marshal(pyval.List{c.v})
		if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "Object of type "+c.name+" is not JSON serializable") {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

func TestNumpySubclasses(t *testing.T) {
	// numpy.float64 subclasses float, numpy.str_ subclasses str.
	d := &pyval.Dict{}
	_ = d.Set(pyval.ScalarOf(2.5), pyval.ScalarOf(21600.0))
	dt, err := pyval.ParseDType("<U2")
	if err != nil {
		t.Fatal(err)
	}
	// numpy.str_("xé"): UTF-32LE code points.
	_ = d.Set(pyval.Str("a"), &pyval.Scalar{DType: dt, Data: []byte{'x', 0, 0, 0, 0xe9, 0, 0, 0}})
	got, err := Marshal(d)
	if err != nil || string(got) != `{"2.5": 21600.0, "a": "x\u00e9"}` {
		t.Fatalf("got %s, %v", got, err)
	}
}

func TestDefault(t *testing.T) {
	hexBytes := func(v pyval.Value) (pyval.Value, error) {
		if b, ok := v.(pyval.Bytes); ok {
			return pyval.Str(strings.ToUpper(string(b))), nil
		}
		return nil, errors.New("cannot convert")
	}
	got, err := Marshal(pyval.List{pyval.Bytes("ab"), pyval.IntOf(1)}, Default(hexBytes))
	if err != nil || string(got) != `["AB", 1]` {
		t.Fatalf("got %s, %v", got, err)
	}
	_, err = Marshal(pyval.Complex(1), Default(hexBytes))
	if err == nil || !strings.Contains(err.Error(), "cannot convert") {
		t.Fatalf("got %v", err)
	}
	// A default that never converts stops at the depth limit.
	loop := func(v pyval.Value) (pyval.Value, error) { return v, nil }
	if _, err := Marshal(pyval.Bytes("x"), Default(loop), MaxDepth(10)); !errors.Is(err, ErrDepth) {
		t.Fatalf("got %v", err)
	}
}

func TestCircular(t *testing.T) {
	d := &pyval.Dict{}
	d.SetStr("self", d)
	if _, err := Marshal(d); !errors.Is(err, ErrCircular) {
		t.Fatalf("dict: %v", err)
	}
	l := make(pyval.List, 1)
	l[0] = l
	if _, err := Marshal(l); !errors.Is(err, ErrCircular) {
		t.Fatalf("list: %v", err)
	}
	// Shared but not circular is fine, as in Python.
	shared := pyval.List{pyval.IntOf(1)}
	got, err := Marshal(pyval.List{shared, shared})
	if err != nil || string(got) != "[[1], [1]]" {
		t.Fatalf("shared: %s, %v", got, err)
	}
}

func TestInvalidUTF8(t *testing.T) {
	for _, s := range []string{"a\xffb", "\xed\xa0\x80", "\xc3"} {
		for _, ascii := range []bool{true, false} {
			if _, err := Marshal(pyval.Str(s), EnsureASCII(ascii)); !errors.Is(err, ErrInvalidUTF8) {
				t.Errorf("%q ascii=%v: %v", s, ascii, err)
			}
		}
		d := &pyval.Dict{}
		d.SetStr(s, pyval.None)
		if _, err := Canonical(d); !errors.Is(err, ErrInvalidUTF8) {
			t.Errorf("key %q: %v", s, err)
		}
	}
	if _, err := Unmarshal([]byte("\"a\xffb\"")); !errors.Is(err, ErrInvalidUTF8) {
		t.Errorf("decode: %v", err)
	}
}

func TestDepth(t *testing.T) {
	deep := strings.Repeat("[", 5) + strings.Repeat("]", 5)
	if _, err := Unmarshal([]byte(deep), MaxDepth(5)); err != nil {
		t.Fatal(err)
	}
	if _, err := Unmarshal([]byte(deep), MaxDepth(4)); !errors.Is(err, ErrDepth) {
		t.Fatalf("got %v", err)
	}
	huge := strings.Repeat("[", 100000)
	if _, err := Unmarshal([]byte(huge)); !errors.Is(err, ErrDepth) {
		t.Fatalf("got %v", err)
	}
	var v pyval.Value = pyval.List{}
	for range 6 {
		v = pyval.List{v}
	}
	if _, err := Marshal(v, MaxDepth(5)); !errors.Is(err, ErrDepth) {
		t.Fatalf("got %v", err)
	}
}

func TestDecodeOptions(t *testing.T) {
	if _, err := Unmarshal([]byte("[1, NaN]"), AllowNaN(false)); !errors.Is(err, ErrNaN) {
		t.Errorf("NaN: %v", err)
	}
	v, err := Unmarshal([]byte("[18446744073709551616, -9223372036854775809]"), BigIntsAsFloat())
	if err != nil {
		t.Fatal(err)
	}
	if got := pyval.Repr(v); got != "[1.8446744073709552e+19, -9.223372036854776e+18]" {
		t.Errorf("got %s", got)
	}
	v, err = Unmarshal([]byte("\xef\xbb\xbf {\"a\": 1}"))
	if err != nil || pyval.Repr(v) != "{'a': 1}" {
		t.Errorf("BOM: %v, %v", v, err)
	}
}

func TestDecodeErrorPosition(t *testing.T) {
	_, err := Unmarshal([]byte("{\n  \"é\": [1,\n  @]}"))
	var se *SyntaxError
	if !errors.As(err, &se) || !errors.Is(err, ErrSyntax) {
		t.Fatalf("got %v", err)
	}
	if se.Line != 3 || se.Column != 3 || se.Offset != 16 {
		t.Errorf("got %+v", se)
	}
	if want := "pyjson: Expecting value: line 3 column 3 (byte 16)"; err.Error() != want {
		t.Errorf("got %q, want %q", err, want)
	}
}

func TestRoundTripTypes(t *testing.T) {
	in := `{"f": 21600.0, "i": 21600, "neg0": -0.0, "big": 1e+16, "u": 18446744073709551615, "n": -9223372036854775808, "inf": Infinity, "s": "\u00e9\ud83d\ude00\u2028"}`
	v, err := Unmarshal([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	d := v.(*pyval.Dict)
	if f, _ := d.GetStr("f"); f != pyval.Float(21600) {
		t.Errorf("f = %#v", f)
	}
	if i, _ := d.GetStr("i"); i != pyval.IntOf(21600) {
		t.Errorf("i = %#v", i)
	}
	if z, _ := d.GetStr("neg0"); !math.Signbit(float64(z.(pyval.Float))) {
		t.Errorf("neg0 = %#v", z)
	}
	out, err := Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != in {
		t.Errorf("\n got %s\nwant %s", out, in)
	}
}

func TestCanonicalSortsNestedAndKeepsInput(t *testing.T) {
	v := pyval.StrDict("b", pyval.IntOf(1), "a", pyval.StrDict("y", pyval.None, "x", pyval.List{}))
	got, err := Canonical(v)
	want := "{\n  \"a\": {\n    \"x\": [],\n    \"y\": null\n  },\n  \"b\": 1\n}"
	if err != nil || string(got) != want {
		t.Fatalf("got %q, %v", got, err)
	}
	if k := v.Keys(); k[0] != pyval.Str("b") {
		t.Errorf("Canonical reordered its input: %v", k)
	}
}

func TestYAMLOptionsAndLimits(t *testing.T) {
	if v, err := FromYAML([]byte("[18446744073709551616]"), BigIntsAsFloat()); err != nil || pyval.Repr(v) != "[1.8446744073709552e+19]" {
		t.Errorf("got %v, %v", v, err)
	}
	// A billion-laughs document: aliases share values instead of copying.
	doc := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for i := range 20 {
		name := string(rune('b' + i))
		doc += name + ": &" + name + " [" + strings.Repeat("*"+prev+", ", 9) + "*" + prev + "]\n"
		prev = name
	}
	if _, err := FromYAML([]byte(doc)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("billion laughs: %v", err)
	}
	merges := "a: &a {x: 1, y: 2}\n"
	prev = "a"
	for i := range 20 {
		name := string(rune('b' + i))
		merges += name + ": &" + name + " {<<: [" + strings.Repeat("*"+prev+", ", 9) + "*" + prev + "]}\n"
		prev = name
	}
	if _, err := FromYAML([]byte(merges)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("merge laughs: %v", err)
	}
	if _, err := FromYAML([]byte(strings.Repeat("[", 50)+strings.Repeat("]", 50)), MaxDepth(10)); !errors.Is(err, ErrDepth) {
		t.Errorf("depth: %v", err)
	}
	if _, err := FromYAML([]byte("a: !foo x")); !errors.Is(err, ErrUnsupported) {
		t.Errorf("local tag: %v", err)
	}
}
