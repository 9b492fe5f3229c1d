package msgpack

import (
	"encoding/hex"
	"errors"
	"math"
	"testing"

	"github.com/sdpkit/sdpkit/pyval"
)

// The exported header helpers must write what the encoder writes for the
// same lengths and values, so that hooks building objects piecewise match
// Python byte for byte.
func TestHeaderHelpersMatchEncoder(t *testing.T) {
	for _, n := range []int{0, 1, 15, 16, 31, 32, 255, 256, 65535, 65536} {
		bin, err := Marshal(pyval.Bytes(make([]byte, n)))
		if err != nil {
			t.Fatal(err)
		}
		h, err := AppendBinHeader(nil, n)
		if err != nil || hex.EncodeToString(h) != hex.EncodeToString(bin[:len(bin)-n]) {
			t.Errorf("AppendBinHeader(%d) = %x, %v; encoder wrote %x", n, h, err, bin[:len(bin)-n])
		}
		l := make(pyval.List, n)
		d := &pyval.Dict{}
		for i := range l {
			l[i] = pyval.None
			d.Set(pyval.IntOf(int64(i)), pyval.None)
		}
		arr, _ := Marshal(l)
		h, err = AppendArrayHeader(nil, n)
		if err != nil || hex.EncodeToString(h) != hex.EncodeToString(arr[:len(arr)-n]) {
			t.Errorf("AppendArrayHeader(%d) = %x, %v", n, h, err)
		}
		m, _ := Marshal(d)
		h, err = AppendMapHeader(nil, n)
		if err != nil || len(h) > len(m) || hex.EncodeToString(h) != hex.EncodeToString(m[:len(h)]) {
			t.Errorf("AppendMapHeader(%d) = %x, %v", n, h, err)
		}
	}
	for _, n := range []int{-1, math.MaxUint32 + 1} {
		for name, f := range map[string]func([]byte, int) ([]byte, error){
			"bin": AppendBinHeader, "array": AppendArrayHeader, "map": AppendMapHeader,
		} {
			if out, err := f([]byte{1}, n); !errors.Is(err, ErrTooLarge) || len(out) != 1 {
				t.Errorf("%s header of %d: %x, %v; want ErrTooLarge and nothing appended", name, n, out, err)
			}
		}
	}
	for _, i := range []int64{0, 127, 128, 255, 256, 1 << 40, math.MaxInt64, -1, -32, -33, -129, math.MinInt64} {
		want, _ := Marshal(pyval.IntOf(i))
		if got := AppendInt(nil, i); hex.EncodeToString(got) != hex.EncodeToString(want) {
			t.Errorf("AppendInt(%d) = %x, want %x", i, got, want)
		}
	}
}

func TestSingleFloat(t *testing.T) {
	cases := []struct {
		f    float64
		want string
	}{
		{1.5, "ca3fc00000"}, // msgpack.packb(1.5, use_single_float=True)
		{0.1, "ca3dcccccd"}, // rounded to the nearest float32
		{math.Inf(-1), "caff800000"},
	}
	for _, c := range cases {
		got, err := Marshal(pyval.Float(c.f), SingleFloat(true))
		if err != nil || hex.EncodeToString(got) != c.want {
			t.Errorf("SingleFloat %v: %x, %v; want %s", c.f, got, err, c.want)
		}
	}
	if got, _ := Marshal(pyval.Float(1.5), SingleFloat(false)); hex.EncodeToString(got) != "cb3ff8000000000000" {
		t.Errorf("SingleFloat(false) wrote %x", got)
	}
}
