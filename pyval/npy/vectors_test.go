package npy

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/sdpkit/sdpkit/internal/vectors"
	"github.com/sdpkit/sdpkit/pyval"
)

// vectorRecord is the part of an encoding.jsonl record that matters here.
type vectorRecord struct {
	Name        string          `json:"name"`
	Value       json.RawMessage `json:"value"`
	Decoded     json.RawMessage `json:"decoded"`
	EncodedHex  string          `json:"encoded_hex"`
	DecodeOnly  bool            `json:"decode_only"`
	DecodeError string          `json:"decode_error"`
}

type vectorArray struct {
	Descr        json.RawMessage `json:"descr"`
	Shape        []int           `json:"shape"`
	FortranOrder bool            `json:"fortran_order"`
	DataHex      string          `json:"data_hex"`
}

// ndarrayVector is one .npy payload from the telstate vectors.
type ndarrayVector struct {
	name       string
	payload    []byte
	want       *vectorArray // nil when decoding must fail
	decodeErr  string
	decodeOnly bool
}

// loadNDArrayVectors returns every ext-3 payload of encoding.jsonl whose
// record is a top-level ndarray or a decode_ext_ndarray_* case.
func loadNDArrayVectors(t testing.TB) []ndarrayVector {
	t.Helper()
	var out []ndarrayVector
	for _, rec := range vectors.JSONL[vectorRecord](t, "telstate", "encoding.jsonl") {
		value, decoded := asObject(rec.Value), asObject(rec.Decoded)
		_, isArray := value["ndarray"]
		if !(isArray || strings.HasPrefix(rec.Name, "decode_ext_ndarray")) || rec.EncodedHex == "" {
			continue
		}
		enc, err := hex.DecodeString(rec.EncodedHex)
		if err != nil {
			t.Fatalf("%s: %v", rec.Name, err)
		}
		payload, err := extPayload(enc, 3)
		if err != nil {
			t.Fatalf("%s: %v", rec.Name, err)
		}
		v := ndarrayVector{name: rec.Name, payload: payload, decodeErr: rec.DecodeError, decodeOnly: rec.DecodeOnly}
		src := value
		if decoded != nil {
			src = decoded
		}
		if raw, ok := src["ndarray"]; ok && rec.DecodeError == "" {
			v.want = new(vectorArray)
			if err := json.Unmarshal(raw, v.want); err != nil {
				t.Fatalf("%s: %v", rec.Name, err)
			}
		}
		out = append(out, v)
	}
	return out
}

// asObject returns raw as a JSON object, or nil if it is not one.
func asObject(raw json.RawMessage) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	return m
}

// extPayload returns the payload of the msgpack ext object of the given
// type that follows the 0xff marker in enc.
func extPayload(enc []byte, typ int8) ([]byte, error) {
	if len(enc) < 3 || enc[0] != 0xff {
		return nil, errors.New("not an 0xff-marked msgpack value")
	}
	b := enc[1:]
	var n, hdr int
	switch b[0] {
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8:
		n, hdr = 1<<(b[0]-0xd4), 1
	case 0xc7:
		n, hdr = int(b[1]), 2
	case 0xc8:
		n, hdr = int(binary.BigEndian.Uint16(b[1:])), 3
	case 0xc9:
		n, hdr = int(binary.BigEndian.Uint32(b[1:])), 5
	default:
		return nil, errors.New("not a msgpack ext object")
	}
	if int8(b[hdr]) != typ {
		return nil, errors.New("wrong ext type")
	}
	p := b[hdr+1:]
	if len(p) != n {
		return nil, errors.New("ext length does not match")
	}
	return p, nil
}

// jsonDescr converts a vector descr (a string or a list of [name, D] /
// [name, D, shape] lists) to numpy's descr value.
func jsonDescr(t testing.TB, raw json.RawMessage) pyval.Value {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	var conv func(any) pyval.Value
	conv = func(x any) pyval.Value {
		switch y := x.(type) {
		case string:
			return pyval.Str(y)
		case []any:
			l := pyval.List{}
			for _, f := range y {
				parts := f.([]any)
				tup := pyval.Tuple{pyval.Str(parts[0].(string)), conv(parts[1])}
				if len(parts) == 3 {
					sh := pyval.Tuple{}
					for _, d := range parts[2].([]any) {
						sh = append(sh, pyval.IntOf(int64(d.(float64))))
					}
					tup = append(tup, sh)
				}
				l = append(l, tup)
			}
			return l
		}
		t.Fatalf("bad descr %s", raw)
		return nil
	}
	return conv(v)
}

func TestVectors(t *testing.T) {
	vecs := loadNDArrayVectors(t)
	if len(vecs) < 45 {
		t.Fatalf("found only %d ndarray vectors", len(vecs))
	}
	for _, v := range vecs {
		t.Run(v.name, func(t *testing.T) {
			a, err := Decode(v.payload)
			if v.want == nil {
				if err == nil {
					t.Fatalf("Decode succeeded, want an error (%s)", v.decodeErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			dt, err := pyval.DTypeFromDescr(jsonDescr(t, v.want.Descr))
			if err != nil {
				t.Fatal(err)
			}
			if !a.DType.Equal(dt) {
				t.Errorf("dtype %s, want %s", a.DType, dt)
			}
			if !slices.Equal(a.Shape, v.want.Shape) {
				t.Errorf("shape %v, want %v", a.Shape, v.want.Shape)
			}
			if a.FortranOrder != v.want.FortranOrder {
				t.Errorf("fortran order %v, want %v", a.FortranOrder, v.want.FortranOrder)
			}
			if got := hex.EncodeToString(a.Data); got != v.want.DataHex {
				t.Errorf("data %.80s, want %.80s", got, v.want.DataHex)
			}
			h, n, err := DecodeHeader(v.payload)
			if err != nil || n+len(a.Data) != len(v.payload) || n%64 != 0 {
				t.Errorf("DecodeHeader: %v, %d header bytes of %d", err, n, len(v.payload))
			}
			if h.Version != Version1 && !v.decodeOnly {
				t.Errorf("version %s", h.Version)
			}
			r, err := Read(bytes.NewReader(v.payload))
			if err != nil || !sameArray(r, a) {
				t.Errorf("Read: %v", err)
			}
			if v.decodeOnly {
				return
			}
			enc, err := Encode(a)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(enc, v.payload) {
				t.Errorf("re-encoded\n%q\nwant\n%q", enc, v.payload)
			}
		})
	}
}

// sameArray compares arrays bit for bit (pyval.Equal follows numpy, where
// NaN != NaN).
func sameArray(a, b *pyval.NDArray) bool {
	return a.DType.Equal(b.DType) && slices.Equal(a.Shape, b.Shape) && a.FortranOrder == b.FortranOrder && bytes.Equal(a.Data, b.Data)
}
