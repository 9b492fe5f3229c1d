package dqvalue

import (
	"bytes"
	"math"
	"testing"

	"github.com/sdpkit/sdpkit/pyval"
)

func TestParse(t *testing.T) {
	cases := []struct {
		in   string
		want pyval.Value
	}{
		{`null`, pyval.None},
		{`18446744073709551615`, pyval.UintOf(math.MaxUint64)},
		{`{"$float": "-inf"}`, pyval.Float(math.Inf(-1))},
		{`{"$complex": [1.5, "inf"]}`, pyval.Complex(complex(1.5, math.Inf(1)))},
		{`{"$tuple": [1, "a"]}`, pyval.Tuple{pyval.IntOf(1), pyval.Str("a")}},
		{`{"$map": [[{"$bytes": "6e64"}, true]]}`, func() pyval.Value {
			d := &pyval.Dict{}
			d.Set(pyval.Bytes("nd"), pyval.Bool(true))
			return d
		}()},
		{`{"$npscalar": {"dtype": "<f4", "data_hex": "0000c03f", "value": 1.5}}`, pyval.ScalarOf(float32(1.5))},
	}
	for _, c := range cases {
		got, err := Parse([]byte(c.in))
		if err != nil || !pyval.Equal(got, c.want) || got.Kind() != c.want.Kind() {
			t.Errorf("Parse(%s) = %s, %v; want %s", c.in, pyval.Repr(got), err, pyval.Repr(c.want))
		}
	}
	for _, in := range []string{`{"$float": "x"}`, `{"a": 1, "b": 2}`, `{"$ndarray": {"dtype": "<i4", "shape": [2], "data_hex_c_order": "00"}}`} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("Parse(%s) succeeded", in)
		}
	}
}

func TestFortran(t *testing.T) {
	v, err := Parse([]byte(`{"$ndarray": {"dtype": "|u1", "shape": [2, 3], "order": "F", "data_hex_c_order": "000102030405"}}`))
	if err != nil {
		t.Fatal(err)
	}
	a := v.(*pyval.NDArray)
	if !a.FortranOrder || !bytes.Equal(a.Data, []byte{0, 3, 1, 4, 2, 5}) || !bytes.Equal(a.CData(), []byte{0, 1, 2, 3, 4, 5}) {
		t.Errorf("fortran array %v data %x", a.FortranOrder, a.Data)
	}
}
