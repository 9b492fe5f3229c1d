package web_test

import (
	"math"
	"testing"

	"github.com/sdpkit/sdpkit/connector/web"
	"github.com/sdpkit/sdpkit/pyval"
)

// BenchmarkMarshalSpectrum renders an 8192-element float64 spectrum, the
// per-event cost of a typical array attribute on the event stream.
func BenchmarkMarshalSpectrum(b *testing.B) {
	data := make([]float64, 8192)
	for i := range data {
		data[i] = math.Sin(float64(i) / 100)
	}
	v := pyval.ArrayOf(data, len(data))
	b.ReportAllocs()
	for b.Loop() {
		out, err := web.MarshalValue(v, 0)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(out)))
	}
}

// BenchmarkMarshalPointing renders a 64-record structured pointing array.
func BenchmarkMarshalPointing(b *testing.B) {
	recs := make([]pointing, 64)
	for i := range recs {
		recs[i] = pointing{"SKA001", 1.7e9 + float64(i), 180 + float64(i)/7, 45 - float64(i)/9}
	}
	v := pointingArray(b, recs)
	b.ReportAllocs()
	for b.Loop() {
		out, err := web.MarshalValue(v, 0)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(out)))
	}
}
