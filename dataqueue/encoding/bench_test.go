package encoding

import (
	"testing"

	"github.com/sdpkit/sdpkit/pyval"
)

// bigArray is a 1 MiB float64 array (131072 elements).
func bigArray() *pyval.NDArray {
	x := make([]float64, 1<<17)
	for i := range x {
		x[i] = float64(i) * 0.5
	}
	return pyval.ArrayOf(x)
}

// pointingRecord is one element of the pointing pipeline's structured
// dtype (antenna_name U8 and 13 float64 fields, 136 bytes).
func pointingRecord() *pyval.NDArray {
	fields := pyval.List{pyval.Tuple{pyval.Str("antenna_name"), pyval.Str("<U8")}}
	for _, n := range []string{"last_scan_index", "xel_offset", "xel_offset_std", "el_offset", "el_offset_std",
		"expected_width_h", "expected_width_v", "fitted_width_h", "fitted_width_h_std", "fitted_width_v",
		"fitted_width_v_std", "fitted_height", "fitted_height_std"} {
		fields = append(fields, pyval.Tuple{pyval.Str(n), pyval.Str("<f8")})
	}
	dt, err := pyval.DTypeFromDescr(fields)
	if err != nil {
		panic(err)
	}
	return &pyval.NDArray{DType: dt, Shape: []int{1}, Data: make([]byte, dt.ItemSize())}
}

// smallMetrics is a small dict message with an array, as the signal
// display metrics carry.
func smallMetrics() pyval.Value {
	return pyval.StrDict("baseline", pyval.Str("SKA001_SKA002"), "polarisation", pyval.Str("XX"),
		"timestamp", pyval.Float(1.7e9), "data", pyval.ArrayOf(make([]float32, 64)))
}

func benchEncode(b *testing.B, c Codec, v pyval.Value) {
	enc, err := c.Encode(v)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Encode(v); err != nil {
			b.Fatal(err)
		}
	}
}

func benchAppend(b *testing.B, c Codec, v pyval.Value) {
	buf, err := AppendEncode(c, nil, v)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		if buf, err = AppendEncode(c, buf[:0], v); err != nil {
			b.Fatal(err)
		}
	}
}

func benchDecode(b *testing.B, c Codec, v pyval.Value) {
	enc, err := c.Encode(v)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Decode(enc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMsgpackNumpy(b *testing.B) {
	c := MsgpackNumpyCodec{}
	for _, m := range []struct {
		name string
		v    pyval.Value
	}{{"1MiB", bigArray()}, {"pointing", pointingRecord()}, {"metrics", smallMetrics()}} {
		b.Run("Encode/"+m.name, func(b *testing.B) { benchEncode(b, c, m.v) })
		b.Run("AppendEncode/"+m.name, func(b *testing.B) { benchAppend(b, c, m.v) })
		b.Run("Decode/"+m.name, func(b *testing.B) { benchDecode(b, c, m.v) })
	}
}

func BenchmarkNPY(b *testing.B) {
	c := NPYCodec{}
	for _, m := range []struct {
		name string
		v    pyval.Value
	}{{"1MiB", bigArray()}, {"pointing", pointingRecord()}, {"scalar", pyval.Float(1.5)}} {
		b.Run("Encode/"+m.name, func(b *testing.B) { benchEncode(b, c, m.v) })
		b.Run("AppendEncode/"+m.name, func(b *testing.B) { benchAppend(b, c, m.v) })
		b.Run("Decode/"+m.name, func(b *testing.B) { benchDecode(b, c, m.v) })
	}
}

func BenchmarkJSON(b *testing.B) {
	v := pyval.StrDict("baseline", pyval.Str("SKA001_SKA002"), "polarisation", pyval.Str("XX"),
		"data", pyval.List{pyval.Float(0.25), pyval.Float(0.5), pyval.Float(1e-7)})
	b.Run("Encode", func(b *testing.B) { benchEncode(b, JSONCodec{}, v) })
	b.Run("AppendEncode", func(b *testing.B) { benchAppend(b, JSONCodec{}, v) })
	b.Run("Decode", func(b *testing.B) { benchDecode(b, JSONCodec{}, v) })
}
