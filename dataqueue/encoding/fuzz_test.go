package encoding

import (
	"encoding/hex"
	"testing"

	"github.com/sdpkit/sdpkit/internal/vectors"
	"github.com/sdpkit/sdpkit/pyval"
)

// addVectorSeeds adds the encoded bytes of every vector of the given
// encodings as fuzz seeds.
func addVectorSeeds(f *testing.F, encodings ...string) {
	for _, file := range vectorFiles {
		for _, v := range vectors.JSONL[vector](f, "dataqueues", file.name) {
			if v.EncodedHex == nil {
				continue
			}
			for _, e := range encodings {
				if v.Encoding == e {
					b, err := hex.DecodeString(*v.EncodedHex)
					if err != nil {
						f.Fatal(err)
					}
					f.Add(b)
				}
			}
		}
	}
}

// fuzzCodec decodes data and, when that works, encodes the result again:
// neither may panic, and a decoded value must be encodable unless the
// codec refuses it with one of its documented errors.
func fuzzCodec(t *testing.T, c Codec, data []byte) {
	v, err := c.Decode(data)
	if err != nil {
		return
	}
	if _, err := c.Encode(v); err != nil {
		t.Logf("re-encoding %s: %v", pyval.Repr(v), err)
	}
}

func FuzzMsgpackNumpyDecode(f *testing.F) {
	addVectorSeeds(f, MsgpackNumpy, Msgpack)
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzCodec(t, MsgpackNumpyCodec{AllowDatetime: true}, data)
	})
}

func FuzzMsgpackDecode(f *testing.F) {
	addVectorSeeds(f, Msgpack)
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzCodec(t, MsgpackCodec{}, data)
	})
}

func FuzzNPYDecode(f *testing.F) {
	addVectorSeeds(f, NPY)
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzCodec(t, NPYCodec{}, data)
	})
}

func FuzzJSONDecode(f *testing.F) {
	addVectorSeeds(f, JSON)
	f.Add([]byte(`{"a": [NaN, -Infinity, 1e400, "\ud83d\ude00"]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzCodec(t, JSONCodec{}, data)
	})
}

func FuzzPythonDecode(f *testing.F) {
	addVectorSeeds(f, Python)
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzCodec(t, PythonCodec{TextFallback: true}, data)
	})
}

func FuzzCArrayDecode(f *testing.F) {
	f.Add([]byte("0123456789ab"), "<i4", -1)
	f.Add([]byte("0123456789ab"), "[('a', '<i2'), ('b', '|S2')]", 3)
	f.Fuzz(func(t *testing.T, data []byte, descr string, dim int) {
		dt, err := pyval.ParseDType(descr)
		if err != nil {
			return
		}
		fuzzCodec(t, CArrayCodec{DType: dt, Shape: []int{dim}}, data)
	})
}

func FuzzParsePyComplex(f *testing.F) {
	for _, s := range []string{"(1+2j)", "-infj", "(nan-0j)", "1e-05", " ( 1E+3J ) "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := parsePyComplex(s)
		if err != nil {
			return
		}
		// What parses must print and parse back to the same number.
		again, err := parsePyComplex(pyval.ComplexRepr(c))
		if err != nil || !sameValue(pyval.Complex(again), pyval.Complex(c)) {
			t.Fatalf("%q -> %v -> %q -> %v, %v", s, c, pyval.ComplexRepr(c), again, err)
		}
	})
}
