package pyval

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sdpkit/sdpkit/internal/vectors"
)

func TestParseDTypeRoundTrip(t *testing.T) {
	for _, s := range []string{"|b1", "|i1", "<i2", ">i2", "<i4", "<i8", ">i8", "|u1", "<u2", ">u4", "<u8",
		"<f2", "<f4", ">f4", "<f8", ">f8", "<f16", "<c8", "<c16", ">c16", "<c32", "<U3", ">U1", "<U0", "|S3", "|S0", "|V4", "|V0",
		"<M8[D]", "<m8[s]", ">M8[ns]", "<M8", "<m8", "<M8[10ms]", "|O"} {
		d, err := ParseDType(s)
		if err != nil {
			t.Errorf("ParseDType(%q): %v", s, err)
			continue
		}
		if d.String() != s || d.Descr() != Str(s) {
			t.Errorf("ParseDType(%q).String() = %q", s, d.String())
		}
	}
}

func TestParseDTypeAliases(t *testing.T) {
	cases := map[string]string{
		"=i4": "<i4", "=f8": "<f8", "|f8": "<f8", ">u1": "|u1", "<i1": "|i1", ">b1": "|b1", "<S3": "|S3", ">V2": "|V2",
		"|U2": "<U2", "f8": "<f8", "i2": "<i2", "U": "<U0", "S": "|S0", "V": "|V0", "M": "<M8", "m8": "<m8", "?": "|b1", "b1": "|b1",
		"O": "|O", "O8": "|O", "bool": "|b1", "int8": "|i1", "int": "<i8", "uint16": "<u2", "float": "<f8", "double": "<f8",
		"half": "<f2", "single": "<f4", "complex": "<c16", "complex64": "<c8", "b": "|i1", "B": "|u1", "h": "<i2", "H": "<u2",
		"i": "<i4", "I": "<u4", "l": "<i8", "L": "<u8", "q": "<i8", "Q": "<u8", "e": "<f2", "f": "<f4", "d": "<f8", "F": "<c8", "D": "<c16",
		// numpy's spelling of datetime units
		"M8[μs]": "<M8[us]", "M8[3μs]": "<M8[3us]", "M8[1s]": "<M8[s]", "M8[01s]": "<M8[s]", "M8[0s]": "<M8[0s]",
		"M8[generic]": "<M8", "m8[2generic]": "<m8", "M8[2W]": "<M8[2W]", ">m8[as]": ">m8[as]",
	}
	for in, want := range cases {
		d, err := ParseDType(in)
		if err != nil || d.String() != want {
			t.Errorf("ParseDType(%q) = %q, %v; want %q", in, d.String(), err, want)
		}
	}
	if d, _ := ParseDType(">f8"); !d.BigEndian() || d.ItemSize() != 8 {
		t.Errorf(">f8: %+v", d)
	}
	if d, _ := ParseDType("<U3"); d.ItemSize() != 12 || d.Size != 3 || d.BigEndian() {
		t.Errorf("<U3: %+v", d)
	}
}

func TestParseDTypeErrors(t *testing.T) {
	for _, s := range []string{"", "<", "<x4", "<i3", "<f3", "<c4", "<b2", "<M4", "<M8[", "<M8[]", "<M8[q]", "<M8[s0]", "<M8[s",
		"<i-1", "<U99999999999", "<U1073741824", "|S2147483648", "float128x", "<M8[99999999999s]", "i8 "} {
		if d, err := ParseDType(s); err == nil {
			t.Errorf("ParseDType(%q) = %s, want error", s, d)
		} else if !errors.Is(err, ErrDType) {
			t.Errorf("ParseDType(%q): %v does not wrap ErrDType", s, err)
		}
	}
}

// descrsInVectors returns every descr in the telstate vectors (arrays,
// scalars and sub-arrays), as JSON.
func descrsInVectors(t *testing.T) []json.RawMessage {
	f, err := os.Open(filepath.Join(vectors.Dir(t, "telstate"), "encoding.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []json.RawMessage
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if k == "descr" {
					b, _ := json.Marshal(e)
					out = append(out, b)
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var v any
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatal(err)
		}
		walk(v)
	}
	return out
}

// descrValue converts a vector descr to numpy's form (lists of tuples).
func descrValue(v any) Value {
	switch x := v.(type) {
	case string:
		return Str(x)
	case []any:
		l := List{}
		for _, f := range x {
			p := f.([]any)
			tup := Tuple{Str(p[0].(string)), descrValue(p[1])}
			if len(p) == 3 {
				sh := Tuple{}
				for _, n := range p[2].([]any) {
					sh = append(sh, IntOf(int64(n.(float64))))
				}
				tup = append(tup, sh)
			}
			l = append(l, tup)
		}
		return l
	}
	return nil
}

func TestDTypeVectors(t *testing.T) {
	descrs := descrsInVectors(t)
	if len(descrs) < 50 {
		t.Fatalf("only %d descrs found", len(descrs))
	}
	for _, raw := range descrs {
		var v any
		_ = json.Unmarshal(raw, &v)
		want := descrValue(v)
		d, err := DTypeFromDescr(want)
		if err != nil {
			t.Errorf("DTypeFromDescr(%s): %v", raw, err)
			continue
		}
		if !Equal(d.Descr(), want) || Repr(d.Descr()) != Repr(want) {
			t.Errorf("%s: Descr() = %s", raw, Repr(d.Descr()))
		}
		if s, ok := v.(string); ok && d.String() != s {
			t.Errorf("%s: String() = %s", raw, d.String())
		}
		if d.IsStructured() != (d.Kind == 'V' && d.Fields != nil) {
			t.Errorf("%s: IsStructured", raw)
		}
	}
}

func TestStructuredDType(t *testing.T) {
	descr := List{
		Tuple{Str("a"), Str("|u1")},
		Tuple{Str(""), Str("|V3")},
		Tuple{Str("b"), Str("<i2"), Tuple{IntOf(3), IntOf(3)}},
		Tuple{Str("c"), List{Tuple{Str("x"), Str(">f8")}, Tuple{Str("y"), Str("<U2")}}, IntOf(2)},
		Tuple{Str("d"), Str("<f4"), IntOf(1)}, // numpy: (dtype, 1) is a plain field
		Tuple{Str("e"), Str("<f4"), Tuple{}},
	}
	d, err := DTypeFromDescr(descr)
	if err != nil {
		t.Fatal(err)
	}
	want := "[('a', '|u1'), ('', '|V3'), ('b', '<i2', (3, 3)), ('c', [('x', '>f8'), ('y', '<U2')], (2,)), ('d', '<f4'), ('e', '<f4')]"
	if d.String() != want || Repr(d.Descr()) != want {
		t.Errorf("String() = %s\nwant       %s", d.String(), want)
	}
	if n := d.ItemSize(); n != 1+3+18+2*16+4+4 || d.Size != n {
		t.Errorf("ItemSize = %d, Size = %d", n, d.Size)
	}
	if got := strings.Join(d.Names(), ","); got != "a,b,c,d,e" {
		t.Errorf("Names = %s", got)
	}
	for name, off := range map[string]int{"a": 0, "b": 4, "c": 22, "d": 54, "e": 58} {
		if o, _, ok := d.FieldOffset(name); !ok || o != off {
			t.Errorf("FieldOffset(%s) = %d, %v; want %d", name, o, ok, off)
		}
	}
	if _, _, ok := d.FieldOffset(""); ok {
		t.Error("FieldOffset of padding")
	}
	if _, _, ok := d.FieldOffset("zz"); ok {
		t.Error("FieldOffset of a missing field")
	}
	if d.HasObject() || !d.IsStructured() {
		t.Error("HasObject / IsStructured")
	}
	obj, err := DTypeFromDescr(List{Tuple{Str("o"), Str("|O")}})
	if err != nil || !obj.HasObject() {
		t.Errorf("object field: %v", err)
	}
	e, _ := DTypeFromDescr(descr)
	if !d.Equal(e) || d.Equal(Float64) || Float64.Equal(d) || Float64.Equal(Float32) {
		t.Error("Equal")
	}
	e.Fields[0].Name = "z"
	if d.Equal(e) {
		t.Error("Equal ignores names")
	}
}

func TestDTypeFromDescrErrors(t *testing.T) {
	cases := []Value{
		IntOf(1), None, Str("<i3"), Tuple{Str("<i4"), IntOf(2)},
		List{List{Str("a"), Str("<i4")}},                               // numpy.dtype wants tuples
		List{Tuple{Str("a")}},                                          // too short
		List{Tuple{Str("a"), Str("<i4"), IntOf(2), IntOf(3)}},          // too long
		List{Tuple{Bytes("a"), Str("<i4")}},                            // name not str
		List{Tuple{Str("a"), Str("<i4")}, Tuple{Str("a"), Str("<i2")}}, // duplicate
		List{Tuple{Str("a"), Str("<i4"), IntOf(-1)}},
		List{Tuple{Str("a"), Str("<i4"), Tuple{Str("3")}}},
		List{Tuple{Str("a"), Str("<i4"), Float(2)}},
		List{Tuple{Str("a"), List{Tuple{Str("b"), Str("<x4")}}}},
		List{Tuple{Str("a"), Str("|V2147483647")}, Tuple{Str("b"), Str("|V2")}}, // > 2**31-1 bytes
		List{Tuple{Str("a"), Str("<i8"), Tuple{IntOf(1 << 30), IntOf(1 << 30)}}},
	}
	var deep Value = Str("<i4")
	for i := 0; i < 40; i++ {
		deep = List{Tuple{Str("x"), deep}}
	}
	cases = append(cases, deep)
	for _, c := range cases {
		if d, err := DTypeFromDescr(c); err == nil {
			t.Errorf("DTypeFromDescr(%s) = %s, want error", Repr(c), d)
		} else if !errors.Is(err, ErrDType) {
			t.Errorf("DTypeFromDescr(%s): %v does not wrap ErrDType", Repr(c), err)
		}
	}
}
