//go:build tango

package tango

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/sdpkit/sdpkit/connector/attribute"
	"github.com/sdpkit/sdpkit/pyval"
)

// tcase is one attribute type and format with a value and its plain JSON
// rendering (what client.py prints for it).
type tcase struct {
	typ   Type
	f     attribute.Format
	v     pyval.Value
	plain any
}

func (c tcase) name() string { return fmt.Sprintf("%s_%s", c.typ, c.f) }

// cases returns every type in every format it supports, with distinct
// values (seeded by k so successive values differ).
func cases(k int) []tcase {
	S, P, I := attribute.Scalar, attribute.Spectrum, attribute.Image
	var cs []tcase
	add := func(t Type, f attribute.Format, v pyval.Value, plain any) {
		cs = append(cs, tcase{t, f, v, plain})
	}
	b := k%2 == 0
	add(DevBoolean, S, pyval.Bool(b), b)
	add(DevBoolean, P, pyval.ArrayOf([]bool{b, !b, true}), []any{b, !b, true})
	add(DevBoolean, I, pyval.ArrayOf([]bool{b, !b, true, false, b, b}, 2, 3), [][]any{{b, !b, true}, {false, b, b}})
	ints := func(t Type, vals []int64) {
		dt, _ := t.DType()
		raw := make([]byte, 0)
		for _, v := range vals {
			e := make([]byte, t.size())
			putUint(t, e, 0, uint64(v), 0)
			raw = append(raw, e...)
		}
		var sc pyval.Value = pyval.IntOf(vals[0])
		if t == DevULong64 {
			sc = pyval.UintOf(uint64(vals[0]))
		}
		add(t, S, sc, vals[0])
		a, _ := pyval.NewNDArray(dt, []int{3}, false, raw[:3*t.size()])
		add(t, P, a, vals[:3])
		im, _ := pyval.NewNDArray(dt, []int{2, 3}, false, raw)
		add(t, I, im, [][]int64{vals[:3], vals[3:6]})
	}
	kk := int64(k)
	ints(DevUChar, []int64{200 + kk, 1, 2, 3, 4, 5})
	ints(DevShort, []int64{-300 - kk, 2, 3, 4, 5, 6})
	ints(DevUShort, []int64{60000 + kk, 2, 3, 4, 5, 6})
	ints(DevLong, []int64{-2000000000 - kk, 7, 8, 9, 10, 11})
	ints(DevULong, []int64{4000000000 + kk, 7, 8, 9, 10, 11})
	ints(DevLong64, []int64{-(1 << 62) - kk, 1 << 40, 3, 4, 5, 6})
	// DevULong64 above 2^63 checks unsigned handling end to end.
	{
		big := uint64(1)<<63 + uint64(k)
		add(DevULong64, S, pyval.UintOf(big), big)
		add(DevULong64, P, pyval.ArrayOf([]uint64{big, 1, 2}), []uint64{big, 1, 2})
		add(DevULong64, I, pyval.ArrayOf([]uint64{big, 1, 2, 3, 4, 5}, 2, 3), [][]uint64{{big, 1, 2}, {3, 4, 5}})
	}
	f := 1.5 + float64(k)
	add(DevFloat, S, pyval.Float(f), f)
	add(DevFloat, P, pyval.ArrayOf([]float32{float32(f), -0.25, 3}), []float64{f, -0.25, 3})
	add(DevFloat, I, pyval.ArrayOf([]float32{float32(f), 2, 3, 4, 5, 6.5}, 2, 3), [][]float64{{f, 2, 3}, {4, 5, 6.5}})
	d := math.Pi + float64(k)
	add(DevDouble, S, pyval.Float(d), d)
	add(DevDouble, P, pyval.ArrayOf([]float64{d, -1e300, 0}), []float64{d, -1e300, 0})
	add(DevDouble, I, pyval.ArrayOf([]float64{d, 2, 3, 4, 5, 6}, 2, 3), [][]float64{{d, 2, 3}, {4, 5, 6}})
	s := fmt.Sprintf("héllo %d", k)
	add(DevString, S, pyval.Str(s), s)
	add(DevString, P, pyval.StringArray([]string{s, "", "b"}), []string{s, "", "b"})
	add(DevString, I, pyval.StringArray([]string{s, "a", "b", "c", "d", "e"}, 2, 3), [][]string{{s, "a", "b"}, {"c", "d", "e"}})
	payload := []byte{0, 1, 2, 0xff, byte(k)}
	add(DevEncoded, S, pyval.Tuple{pyval.Str("msgpack_numpy"), pyval.Bytes(payload)},
		[]any{"msgpack_numpy", base64.StdEncoding.EncodeToString(payload)})
	return cs
}

// canon renders a plain value as canonical JSON (numbers as written).
func canon(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return recanon(t, b)
}

func recanon(t testing.TB, raw []byte) string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	b, _ := json.Marshal(normNumbers(x))
	return string(b)
}

// normNumbers prints numbers in one form (integers exactly, other numbers
// through float64), so Python's and Go's renderings compare equal.
func normNumbers(x any) any {
	switch v := x.(type) {
	case json.Number:
		s := v.String()
		if !strings.ContainsAny(s, ".eE") {
			return s
		}
		f, _ := v.Float64()
		if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return fmt.Sprintf("%d", int64(f))
		}
		return fmt.Sprintf("%g", f)
	case []any:
		for i := range v {
			v[i] = normNumbers(v[i])
		}
	}
	return x
}
