package encoding

import (
	"errors"
	"fmt"

	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/pyval/pyjson"
)

// JSONCodec is the "json" encoding: json.dumps(v).encode("utf-8") and
// json.loads, with Python's defaults byte for byte. The zero value writes
// exactly what json.dumps writes with no arguments: ", " and ": "
// separators, ensure_ascii (every non-ASCII character as \uXXXX, astral
// ones as surrogate pairs), float repr text (1e-07, 1e+16, 1.0), the bare
// NaN, Infinity and -Infinity tokens, dicts in insertion order. Decoding
// accepts any JSON plus those three tokens, as json.loads does.
//
// ska-sdp-dataqueues does not document its json encoding; the Python
// defaults are the assumption the golden vectors make. NewJSONCodec takes
// pyjson options for other styles, for example compact output
// (pyjson.Separators(",", ":")), UTF-8 output (pyjson.EnsureASCII(false))
// or strict RFC 8259 numbers (pyjson.AllowNaN(false), which also refuses
// the NaN tokens when decoding). Only the zero value matches a Python peer
// using the defaults.
//
// Like the standard library, the codec refuses bytes, complex numbers,
// arrays and numpy scalars other than float64 and str_ (ErrUnsupported).
type JSONCodec struct {
	opts []pyjson.Option
}

// NewJSONCodec returns a json codec that passes opts to pyjson.Append and
// pyjson.Unmarshal.
func NewJSONCodec(opts ...pyjson.Option) JSONCodec {
	return JSONCodec{opts: append([]pyjson.Option(nil), opts...)}
}

func (JSONCodec) Name() string { return JSON }

func (c JSONCodec) Encode(v pyval.Value) ([]byte, error) { return c.AppendEncode(nil, v) }

// AppendEncode appends the JSON text of v to dst.
func (c JSONCodec) AppendEncode(dst []byte, v pyval.Value) ([]byte, error) {
	out, err := pyjson.Append(dst, v, c.opts...)
	if err != nil {
		if errors.Is(err, pyjson.ErrUnsupported) {
			return dst, fmt.Errorf("%w: encoding %s: %w", ErrUnsupported, JSON, err)
		}
		if errors.Is(err, pyjson.ErrInvalidUTF8) {
			return dst, fmt.Errorf("%w: encoding %s: %w", ErrUnicode, JSON, err)
		}
		return dst, fmt.Errorf("encoding %s: %w", JSON, err)
	}
	return out, nil
}

func (c JSONCodec) Decode(data []byte) (pyval.Value, error) {
	v, err := pyjson.Unmarshal(data, c.opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: encoding %s: %w", ErrInvalidData, JSON, err)
	}
	return v, nil
}
