package encoding

import (
	"testing"

	"github.com/sdpkit/sdpkit/pyval"
)

func benchValues() []struct {
	name string
	v    pyval.Value
} {
	floats := func(n int) *pyval.NDArray {
		d := make([]float64, n)
		for i := range d {
			d[i] = float64(i) * 0.5
		}
		return pyval.ArrayOf(d)
	}
	return []struct {
		name string
		v    pyval.Value
	}{
		{"float", pyval.Float(1.5)},
		{"str", pyval.Str("antenna m000")},
		{"npfloat", pyval.ScalarOf(1.5)}, // numpy.float64, as many sensors hold
		{"tuple5", pyval.Tuple{pyval.Str("a str"), pyval.IntOf(3), pyval.Float(4), pyval.Complex(5 + 6i), pyval.ScalarOf(int32(1))}},
		// bench/telstate_micro.py's tuple5: (1, 2.5, "x", b"y", None).
		{"tuple5py", pyval.Tuple{pyval.IntOf(1), pyval.Float(2.5), pyval.Str("x"), pyval.Bytes("y"), pyval.None}},
		{"ndarray1k", floats(1000)},
		{"ndarray1M", floats(1 << 20)},
	}
}

func BenchmarkEncode(b *testing.B) {
	for _, c := range benchValues() {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var n int
			for b.Loop() {
				out, err := Encode(c.v)
				if err != nil {
					b.Fatal(err)
				}
				n = len(out)
			}
			b.SetBytes(int64(n))
		})
	}
}

// BenchmarkAppendEncoded reuses one buffer, as a hot path would.
func BenchmarkAppendEncoded(b *testing.B) {
	for _, c := range benchValues() {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var buf []byte
			for b.Loop() {
				var err error
				if buf, err = AppendEncoded(buf[:0], c.v); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(len(buf)))
		})
	}
}

// BenchmarkDecode decodes each value, and the arrays also with
// AliasInput(true) (the "-alias" cases).
func BenchmarkDecode(b *testing.B) {
	for _, c := range benchValues() {
		in, err := Encode(c.v)
		if err != nil {
			b.Fatal(err)
		}
		bench := func(name string, opts ...DecodeOption) {
			b.Run(name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(in)))
				for b.Loop() {
					if _, err := Decode(in, opts...); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		bench(c.name)
		if _, ok := c.v.(*pyval.NDArray); ok {
			bench(c.name+"-alias", AliasInput(true))
		}
	}
}
