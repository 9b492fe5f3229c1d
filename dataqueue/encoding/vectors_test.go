package encoding

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/sdpkit/sdpkit/internal/vectors"
	"github.com/sdpkit/sdpkit/internal/vectors/dqvalue"
	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/pyval/npy"
)

// vector is one record of shared/vectors/dataqueues/*.jsonl.
type vector struct {
	Name           string          `json:"name"`
	Desc           string          `json:"desc"`
	Encoding       string          `json:"encoding"`
	Value          json.RawMessage `json:"value"`
	EncodedHex     *string         `json:"encoded_hex"`
	Error          string          `json:"error"`
	Decoded        json.RawMessage `json:"decoded"`
	Direction      string          `json:"direction"`
	Inferred       bool            `json:"inferred"`
	UnpackbOK      *bool           `json:"python_unpackb_default_ok"`
	EncodedText    *string         `json:"encoded_text"`
	RoundtripExact *bool           `json:"roundtrip_exact"`
	NPY            *struct {
		HeaderLen int `json:"header_len"`
	} `json:"npy"`
}

// vectorFiles lists every vector file and the number of records it holds
// today, so that a file that loses records fails the test.
var vectorFiles = []struct {
	name string
	min  int
}{
	{"msgpack_numpy.jsonl", 61},
	{"npy.jsonl", 46},
	{"msgpack.jsonl", 47},
	{"text_json.jsonl", 11},
	{"decode_only.jsonl", 4},
	{"connector_raw_inferred.jsonl", 48},
}

// noncontigViews names vectors whose value is a non-contiguous numpy view.
// A pyval array is always contiguous; what Python sends for such a view
// is what MsgpackNumpyCodec{AllowDatetime: true} sends (see its doc).
var noncontigViews = map[string]bool{"M8_ns_noncontig": true}

// pythonErrors maps the Python exception a vector records to the error
// the Go codec must return instead.
func pythonError(t *testing.T, text string) error {
	switch {
	case strings.HasPrefix(text, "UnicodeEncodeError"):
		return ErrUnicode
	case strings.HasPrefix(text, "ValueError: cannot include dtype"):
		return ErrDatetimeArray
	case strings.HasPrefix(text, "TypeError: can not serialize"):
		return ErrUnsupported
	}
	t.Fatalf("no Go error is mapped to the Python error %q", text)
	return nil
}

// codecFor returns the codec a vector exercises.
func codecFor(t *testing.T, v vector, value pyval.Value) Codec {
	t.Helper()
	switch v.Encoding {
	case MsgpackNumpy:
		return MsgpackNumpyCodec{AllowDatetime: noncontigViews[v.Name]}
	case "msgpack(use_single_float=True)":
		return MsgpackCodec{SingleFloat: true}
	case CArray:
		a, ok := value.(*pyval.NDArray)
		if !ok {
			t.Fatalf("carray vector with a %s value", value.Kind())
		}
		return CArrayCodec{DType: a.DType, Shape: a.Shape}
	case Python:
		return PythonCodec{}
	}
	c, err := NewRegistry().Lookup(v.Encoding)
	if err != nil {
		t.Fatalf("vector encoding: %v", err)
	}
	return c
}

func TestVectors(t *testing.T) {
	for _, f := range vectorFiles {
		recs := vectors.JSONL[vector](t, "dataqueues", f.name)
		if len(recs) < f.min {
			t.Fatalf("%s: %d records, want at least %d", f.name, len(recs), f.min)
		}
		for _, v := range recs {
			t.Run(strings.TrimSuffix(f.name, ".jsonl")+"/"+v.Name, func(t *testing.T) { checkVector(t, v) })
		}
	}
}

func checkVector(t *testing.T, v vector) {
	value, err := dqvalue.Parse(v.Value)
	if err != nil {
		t.Fatalf("value: %v", err)
	}
	if v.Inferred != (v.Encoding == CArray || v.Encoding == Python) {
		// Only the connector's own encodings are our inference; the codecs
		// and docs say so, and this keeps them honest.
		t.Fatalf("vector of encoding %s has inferred=%v", v.Encoding, v.Inferred)
	}
	c := codecFor(t, v, value)
	var want []byte
	if v.EncodedHex != nil {
		if want, err = hex.DecodeString(*v.EncodedHex); err != nil {
			t.Fatal(err)
		}
		if v.EncodedText != nil && string(want) != *v.EncodedText {
			t.Fatalf("encoded_text %q disagrees with encoded_hex", *v.EncodedText)
		}
	}

	if v.Direction != "decode" {
		got, err := c.Encode(value)
		switch {
		case v.EncodedHex == nil:
			wantErr := pythonError(t, v.Error)
			if !errors.Is(err, wantErr) {
				t.Errorf("Encode = %x, %v; want an error wrapping %v (Python: %s)", got, err, wantErr, v.Error)
			}
		case err != nil:
			t.Errorf("Encode: %v", err)
		case !bytes.Equal(got, want):
			t.Errorf("Encode =\n%x\nwant\n%x", got, want)
		default:
			prefix := []byte("prefix")
			out, err := AppendEncode(c, prefix, value)
			if err != nil || !bytes.Equal(out[:len(prefix)], []byte("prefix")) || !bytes.Equal(out[len(prefix):], want) {
				t.Errorf("AppendEncode = %x, %v", out, err)
			}
		}
	}
	if v.EncodedHex == nil {
		return
	}

	expect := value
	if len(v.Decoded) > 0 {
		if expect, err = dqvalue.Parse(v.Decoded); err != nil {
			t.Fatalf("decoded: %v", err)
		}
	} else {
		expect = pythonDecoded(v.Encoding, value)
	}
	got, err := c.Decode(want)
	if v.NPY != nil && v.NPY.HeaderLen > npy.MaxHeaderSize {
		// numpy.load(allow_pickle=False) refuses headers longer than its
		// max_header_size (ValueError), and so does the codec.
		if !errors.Is(err, npy.ErrHeaderTooLarge) || !errors.Is(err, ErrInvalidData) {
			t.Errorf("Decode = %v; want npy.ErrHeaderTooLarge as numpy.load raises", err)
		}
		return
	}
	if v.UnpackbOK != nil && !*v.UnpackbOK {
		// Python's unpackb refuses these bytes with its default options.
		if err == nil || !errors.Is(err, ErrInvalidData) {
			t.Errorf("Decode = %s, %v; want an error as Python's (%s)", pyval.Repr(got), err, "strict_map_key")
		}
		loose, err := MsgpackCodec{AllowAnyMapKey: true}.Decode(want)
		if err != nil || !sameValue(loose, expect) {
			t.Errorf("AllowAnyMapKey Decode = %s, %v; want %s", pyval.Repr(loose), err, pyval.Repr(expect))
		}
		return
	}
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if !sameValue(got, expect) {
		t.Errorf("Decode =\n%s\nwant\n%s", pyval.Repr(got), pyval.Repr(expect))
	}
	// Plain msgpack values must mean the same to msgpack_numpy.
	if v.Encoding == Msgpack {
		got, err := MsgpackNumpyCodec{}.Decode(want)
		if err == nil && !sameValue(got, expect) {
			t.Errorf("msgpack_numpy Decode = %s, want %s", pyval.Repr(got), pyval.Repr(expect))
		}
		enc, err := MsgpackNumpyCodec{}.Encode(value)
		if err != nil || !bytes.Equal(enc, want) {
			t.Errorf("msgpack_numpy Encode = %x, %v; want %x", enc, err, want)
		}
	}
}

// pythonDecoded is what Python's decoder returns for value's encoding,
// for vectors without a "decoded" field.
func pythonDecoded(encoding string, value pyval.Value) pyval.Value {
	return dqvalue.PythonDecoded(encoding, value)
}

// sameValue is a stricter pyval.Equal (dqvalue.Same).
func sameValue(a, b pyval.Value) bool { return dqvalue.Same(a, b) }
