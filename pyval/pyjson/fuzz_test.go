package pyjson

import (
	"bytes"
	"math"
	"testing"

	"github.com/sdpkit/sdpkit/pyval"
)

// FuzzRoundTrip: whatever Unmarshal accepts, Canonical writes, Unmarshal
// reads back as the same value (same kinds, so Int stays Int and Float
// Float; NaN equal to NaN), and Canonical of that is byte for byte the
// first canonical text: canonical input is reproduced exactly.
func FuzzRoundTrip(f *testing.F) {
	for _, s := range []string{
		`{}`, `[]`, `{"b": 1, "a": {"d": [], "c": {}}}`,
		`{"float": 21600.0, "int": 21600, "tiny": 1e-07, "neg0": -0.0, "big": 1e16}`,
		`{"s": "quote\" backslash\\ nl\n tab\t ctl\u0001 del\u007f \u2028 \ud83d\ude00"}`,
		`[NaN, Infinity, -Infinity, 1e400, 18446744073709551615, -9223372036854775808]`,
		`{"a": 1, "a": 2}`, `"x"`, `null`, ` [1 , 2 ] `, "\xef\xbb\xbf[]",
		`{"a": [1, [2, [3, {}]]]}`, `1.5e-300`, `-0`, `[true, false, null]`,
		`{"bigint": 18446744073709551616, "neg": [-9223372036854775809, -1000000000000000000000000000000000000001]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v1, err := Unmarshal(data)
		if err != nil {
			return
		}
		c1, err := Canonical(v1)
		if err != nil {
			t.Fatalf("Canonical(Unmarshal(%q)): %v", data, err)
		}
		v2, err := Unmarshal(c1)
		if err != nil {
			t.Fatalf("Unmarshal(%q): %v", c1, err)
		}
		if !same(v1, v2) {
			t.Fatalf("round trip changed %s into %s", pyval.Repr(v1), pyval.Repr(v2))
		}
		c2, err := Canonical(v2)
		if err != nil || !bytes.Equal(c1, c2) {
			t.Fatalf("canonical text not reproduced:\n%q\n%q (%v)", c1, c2, err)
		}
		// The default json.dumps form round-trips too.
		d, err := Marshal(v1)
		if err != nil {
			t.Fatal(err)
		}
		if v3, err := Unmarshal(d); err != nil || !same(v1, v3) {
			t.Fatalf("Marshal round trip of %q via %q: %v", data, d, err)
		}
	})
}

// same is strict equality for decoded JSON: equal kinds and values, dicts
// equal as mappings (Canonical reorders them), NaN equal to NaN, and the
// sign of zero kept.
func same(a, b pyval.Value) bool {
	switch x := a.(type) {
	case pyval.Float:
		y, ok := b.(pyval.Float)
		if !ok {
			return false
		}
		if math.IsNaN(float64(x)) {
			return math.IsNaN(float64(y))
		}
		return x == y && math.Signbit(float64(x)) == math.Signbit(float64(y))
	case pyval.List:
		y, ok := b.(pyval.List)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !same(x[i], y[i]) {
				return false
			}
		}
		return true
	case *pyval.Dict:
		y, ok := b.(*pyval.Dict)
		if !ok || x.Len() != y.Len() {
			return false
		}
		for _, it := range x.Items() {
			w, ok := y.Get(it.Key)
			if !ok || !same(it.Value, w) {
				return false
			}
		}
		return true
	}
	return a.Kind() == b.Kind() && pyval.Equal(a, b)
}

// FuzzFromYAML: FromYAML never panics, and whatever it returns that JSON
// can hold survives Canonical and Unmarshal.
func FuzzFromYAML(f *testing.F) {
	for _, s := range []string{
		"a: 1\nb: [yes, 0x1f, 1:30, .inf, ~]\n", "base: &b {x: 1}\nm:\n  <<: *b\n  y: 2\n",
		`{"a": [1, 2.5, "x"]}`, "!!binary aGk=", "- !!int '12'\n- !!float 1\n", "? [1]\n: x\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := FromYAML(data, MaxDepth(200))
		if err != nil {
			return
		}
		c, err := Canonical(v)
		if err != nil {
			return // bytes, mixed keys to sort, aliases nested too deeply…
		}
		if _, err := Unmarshal(c); err != nil {
			t.Fatalf("Unmarshal(Canonical(FromYAML(%q))) = %v", data, err)
		}
	})
}
