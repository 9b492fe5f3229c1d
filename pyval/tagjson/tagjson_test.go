package tagjson_test

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/sdpkit/sdpkit/internal/vectors"
	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/pyval/tagjson"
)

// TestVectorRoundTrip parses every rendered value of the telstate vectors
// and renders it back to the same JSON.
func TestVectorRoundTrip(t *testing.T) {
	n := 0
	for _, rec := range vectors.JSONL[map[string]json.RawMessage](t, "telstate", "encoding.jsonl") {
		var name string
		_ = json.Unmarshal(rec["name"], &name)
		raw, ok := rec["value"]
		if _, unencodable := rec["encode_error"]; !ok || unencodable || strings.Contains(string(raw), "python_repr") {
			continue
		}
		t.Run(name, func(t *testing.T) {
			v, err := tagjson.Parse(raw)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			out, err := tagjson.Render(v)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			var want, got any
			_ = json.Unmarshal(raw, &want)
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("Render wrote invalid JSON: %v", err)
			}
			if name == "ndarray_f16_longdouble" || name == "ndarray_masked" {
				// Python's rendering of longdouble items recurses, and a
				// masked array renders its mask; only the array fields
				// are meaningful.
				delete(want.(map[string]any)["ndarray"].(map[string]any), "values")
				delete(got.(map[string]any)["ndarray"].(map[string]any), "values")
			}
			if !reflect.DeepEqual(want, got) {
				t.Errorf("round trip differs:\n got %s\nwant %s", out, raw)
			}
		})
		n++
	}
	if n < 140 {
		t.Errorf("only %d values checked", n)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct{ in, want string }{
		{`{"int": "1` + strings.Repeat("0", pyval.MaxIntDigits) + `"}`, "$.int"},
		{`{"int": "+1"}`, "$.int"},
		{`{"float": "x"}`, "bad float"},
		{`{"bytes": "0"}`, "bad hex"},
		{`{"a": 1, "b": 2}`, "exactly one key"},
		{`{"what": 1}`, "unknown tag"},
		{`{"dict": [[{"list": []}, 1]]}`, "unhashable"},
		{`{"ndarray": {"descr": "<f8", "shape": [2], "fortran_order": false, "data_hex": "00"}}`, "needs 16 data bytes"},
		{`{"npscalar": {"descr": "<f8", "data_hex": "00"}}`, "needs 8 bytes"},
		{`{"list": [1, {"tuple": [{"str": 5}]}]}`, "$.list[1].tuple[0].str"},
	}
	for _, c := range cases {
		_, err := tagjson.Parse([]byte(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%s) = %v, want error containing %q", c.in, err, c.want)
		}
	}
}

func TestPlainJSON(t *testing.T) {
	v, err := tagjson.Parse([]byte(`[1, 2.5, "x", null, true, 18446744073709551615]`))
	if err != nil {
		t.Fatal(err)
	}
	want := pyval.List{pyval.IntOf(1), pyval.Float(2.5), pyval.Str("x"), pyval.None, pyval.Bool(true), pyval.UintOf(1<<64 - 1)}
	if !pyval.Equal(v, want) {
		t.Errorf("got %s", pyval.Repr(v))
	}
	if _, ok := v.(pyval.List)[0].(pyval.Int); !ok {
		t.Errorf("1 parsed as %T, want Int", v.(pyval.List)[0])
	}
}

// TestBigInts checks that ints of any size survive Parse and Render
// exactly, tagged or as bare JSON numbers.
func TestBigInts(t *testing.T) {
	texts := []string{"18446744073709551616", "-9223372036854775809", "-1" + strings.Repeat("0", 100), strings.Repeat("9", pyval.MaxIntDigits)}
	for _, s := range texts {
		want, err := pyval.ParseInt(s)
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range []string{`{"int": "` + s + `"}`, s, "[" + s + "]"} {
			v, err := tagjson.Parse([]byte(in))
			if err != nil {
				t.Fatalf("Parse(%.60s): %v", in, err)
			}
			if l, ok := v.(pyval.List); ok {
				v = l[0]
			}
			if v != pyval.Value(want) {
				t.Errorf("Parse(%.60s) = %.60s", in, pyval.Repr(v))
			}
		}
		out, err := tagjson.Render(want)
		if err != nil || string(out) != `{"int": "`+s+`"}` {
			t.Errorf("Render(%.60s) = %.80s, %v", s, out, err)
		}
	}
}

func ExampleParse() {
	v, _ := tagjson.Parse([]byte(`{"tuple": [{"int": "1"}, {"float": "2.5"}, {"str": "x"}]}`))
	fmt.Println(pyval.Repr(v))
	out, _ := tagjson.Render(pyval.List{pyval.Float(1e16), pyval.Bytes("\x00\xff")})
	fmt.Println(string(out))
	// Output:
	// (1, 2.5, 'x')
	// {"list": [{"float": "1e+16"}, {"bytes": "00ff"}]}
}

func TestNaNBitsArePython(t *testing.T) {
	v, err := tagjson.Parse([]byte(`{"float": "nan"}`))
	if err != nil {
		t.Fatal(err)
	}
	if bits := math.Float64bits(float64(v.(pyval.Float))); bits != 0x7ff8000000000000 {
		t.Errorf("nan parsed with bits %#x, want Python's 0x7ff8000000000000", bits)
	}
}
