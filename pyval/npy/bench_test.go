package npy

import (
	"fmt"
	"testing"

	"github.com/sdpkit/sdpkit/pyval"
)

func benchArrays() map[string]*pyval.NDArray {
	out := map[string]*pyval.NDArray{}
	for _, n := range []int{1000, 1000000} {
		f := make([]float64, n)
		for i := range f {
			f[i] = float64(i) * 0.5
		}
		out[fmt.Sprintf("f8x%d", n)] = pyval.ArrayOf(f)
	}
	return out
}

func BenchmarkNpyEncode(b *testing.B) {
	for _, name := range []string{"f8x1000", "f8x1000000"} {
		a := benchArrays()[name]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(a.Data)))
			for b.Loop() {
				if _, err := Encode(a); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkNpyDecode(b *testing.B) {
	for _, name := range []string{"f8x1000", "f8x1000000"} {
		enc, err := Encode(benchArrays()[name])
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(enc)))
			for b.Loop() {
				if _, err := Decode(enc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// The header alone: what parsing and formatting cost apart from copying
// the data.
func BenchmarkNpyHeader(b *testing.B) {
	a := benchArrays()["f8x1000"]
	enc, err := Encode(a)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := DecodeHeader(enc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := EncodeHeader(a); err != nil {
				b.Fatal(err)
			}
		}
	})
}
