package encoding

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/pyval/msgpack"
	"github.com/sdpkit/sdpkit/pyval/npy"
	"github.com/sdpkit/sdpkit/pyval/pickle"
)

// decoder is immutable after package initialisation. Strict map keys
// because msgpack-python 1.x refuses other keys by default, so a dict with
// an int key written by Python cannot be read back by Python either.
var decoder = msgpack.NewDecoder(msgpack.WithExtHook(decodeExt), msgpack.StrictMapKeys(true))

// aliasDecoder is decoder with msgpack.AliasInput, for AliasInput(true).
var aliasDecoder = msgpack.NewDecoder(msgpack.WithExtHook(decodeExt), msgpack.StrictMapKeys(true), msgpack.AliasInput(true))

// DecodeOption configures Decode and EqualEncoded.
type DecodeOption func(decodeConfig) decodeConfig

type decodeConfig struct {
	allowPickle bool
	alias       bool
}

// AllowPickle decides whether pickled values (first byte 0x80 or less) are
// decoded (true) or refused with ErrPickleNotAllowed (false, the default).
// Only allow pickles from trusted sources; see AllowPickleFromEnv.
func AllowPickle(allow bool) DecodeOption {
	return func(c decodeConfig) decodeConfig {
		c.allowPickle = allow
		return c
	}
}

// AliasInput(true) lets the decoded value share memory with the input
// instead of copying from it: an ndarray's Data, a bytes value and a numpy
// scalar's Data (of more than 16 bytes; smaller ones are copied, which
// costs nothing extra) may then be parts of the input, which must not be
// modified or reused while the value is in use; modifying those parts of
// the value modifies the input, and a small value keeps the whole input
// reachable. Worth it only for large arrays and bytes, and only when the
// input is the caller's own (a buffer just read and not kept, say).
// Decoded values are otherwise the same (FuzzDecode checks). Strs are
// always copied (Go strings are immutable), and so is everything in a
// pickle. The default is false.
func AliasInput(alias bool) DecodeOption {
	return func(c decodeConfig) decodeConfig {
		c.alias = alias
		return c
	}
}

// Decode decodes a stored value, choosing the format from its first byte
// as katsdptelstate's decode_value does:
//
//	empty      error
//	0xFF       msgpack (the rest must be exactly one msgpack object)
//	<= 0x80    pickle: refused unless AllowPickle(true)
//	otherwise  error: an encoding from a newer katsdptelstate
//
// Every failure wraps ErrDecode.
func Decode(b []byte, opts ...DecodeOption) (pyval.Value, error) {
	return decode(b, configure(opts))
}

func configure(opts []DecodeOption) decodeConfig {
	var cfg decodeConfig
	for _, o := range opts {
		cfg = o(cfg) // by value, so the config stays on the stack
	}
	return cfg
}

func decode(b []byte, cfg decodeConfig) (pyval.Value, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: empty value", ErrDecode)
	}
	switch h := b[0]; {
	case h == MarkerMsgpack:
		if v, ok := decodeSimple(b[1:]); ok {
			return v, nil
		}
		d := decoder
		if cfg.alias {
			d = aliasDecoder
		}
		v, err := d.Decode(b[1:])
		if err != nil {
			// msgpack offsets count from the byte after the marker.
			return nil, fmt.Errorf("%w: msgpack body after the 0xff marker: %w", ErrDecode, err)
		}
		return v, nil
	case h <= MarkerPickle:
		if !cfg.allowPickle {
			return nil, fmt.Errorf("%w: %w: %s", ErrDecode, ErrPickleNotAllowed, pickleRefusal)
		}
		v, err := pickle.Decode(b)
		if err != nil {
			return nil, fmt.Errorf("%w: pickle: %w", ErrDecode, err)
		}
		return v, nil
	default:
		return nil, fmt.Errorf("%w: value starts with unrecognised header byte 0x%02x (katsdptelstate may need to be updated)", ErrDecode, h)
	}
}

// EqualEncoded reports whether two stored values stand for the same value,
// as katsdptelstate's equal_encoded_values decides when an immutable key is
// set again: true if the bytes are identical; otherwise only if both decode
// to a str or bytes (numpy str_ and bytes_ scalars included, as they are
// Python str and bytes subclasses) with the same bytes, a str counting as
// its UTF-8 encoding with surrogateescape (so a numpy str_ holding U+DCFF
// equals the bytes 0xff). Nothing else is compared by value, not even
// inside containers, so 1 and 1.0, or a dict in another insertion order,
// are different. A value that does not decode makes the result false
// (Python raises DecodeError there).
func EqualEncoded(a, b []byte, opts ...DecodeOption) bool {
	if bytes.Equal(a, b) {
		return true
	}
	// The decoded values are compared and dropped before returning, so
	// they may share memory with a and b (which must not change during
	// the call anyway): an ndarray is then not copied only to be
	// discarded.
	cfg := configure(opts)
	cfg.alias = true
	va, err := decode(a, cfg)
	if err != nil {
		return false
	}
	vb, err := decode(b, cfg)
	if err != nil {
		return false
	}
	ba, ok := textBytes(va)
	if !ok {
		return false
	}
	bb, ok := textBytes(vb)
	return ok && bytes.Equal(ba, bb)
}

// textBytes is six.ensure_binary: str (and numpy str_) as UTF-8, bytes
// (and numpy bytes_) as is; anything else is not text.
func textBytes(v pyval.Value) ([]byte, bool) {
	switch x := v.(type) {
	case pyval.Str:
		return []byte(x), true
	case pyval.Bytes:
		return x, true
	case *pyval.Scalar:
		if x.DType.IsStructured() {
			return nil, false
		}
		switch x.DType.Kind {
		case 'U':
			return ucs4SurrogateEscape(x)
		case 'S':
			b, err := pyval.AsBytes(x)
			return b, err == nil
		}
	}
	return nil, false
}

// ucs4SurrogateEscape encodes a numpy str_ scalar as Python's
// str.encode('utf-8', 'surrogateescape'): trailing NULs dropped (numpy
// drops them), lone surrogates U+DC80…U+DCFF become the bytes 0x80…0xFF,
// and any other surrogate or out-of-range code point is unencodable.
func ucs4SurrogateEscape(s *pyval.Scalar) ([]byte, bool) {
	size := s.DType.ItemSize()
	if len(s.Data) < size {
		return nil, false
	}
	cps := make([]uint32, 0, size/4)
	for i := 0; i+4 <= size; i += 4 {
		if s.DType.BigEndian() {
			cps = append(cps, binary.BigEndian.Uint32(s.Data[i:]))
		} else {
			cps = append(cps, binary.LittleEndian.Uint32(s.Data[i:]))
		}
	}
	for len(cps) > 0 && cps[len(cps)-1] == 0 {
		cps = cps[:len(cps)-1]
	}
	var out []byte
	for _, c := range cps {
		switch {
		case c >= 0xdc80 && c <= 0xdcff:
			out = append(out, byte(c-0xdc00))
		case c >= 0xd800 && c <= 0xdfff, c > utf8.MaxRune:
			return nil, false
		default:
			out = utf8.AppendRune(out, rune(c))
		}
	}
	return out, true
}

// decodeExt is the msgpack ext hook, as katsdptelstate's _msgpack_ext_hook.
func decodeExt(typ int8, p []byte, sub msgpack.SubDecoder) (pyval.Value, error) {
	return decodeExtFast(typ, p, sub, true)
}

// decodeExtFast is decodeExt, with the fast path for common numpy scalars
// (fast true) or without it, for tests that compare the two.
func decodeExtFast(typ int8, p []byte, sub msgpack.SubDecoder, fast bool) (pyval.Value, error) {
	switch typ {
	case ExtTuple:
		// The items go straight into the Tuple, with no List in between.
		items, v, err := sub.DecodeArray(p)
		if err != nil {
			return nil, err // located already; see msgpack.ExtHook
		}
		if v != nil {
			return nil, fmt.Errorf("incorrectly encoded tuple: payload is a %s, not an array", v.Kind())
		}
		return pyval.Tuple(items), nil
	case ExtComplex:
		if len(p) != 16 {
			return nil, fmt.Errorf("wrong length for complex128: %d bytes, want 16", len(p))
		}
		re := math.Float64frombits(binary.BigEndian.Uint64(p[:8]))
		im := math.Float64frombits(binary.BigEndian.Uint64(p[8:]))
		return pyval.Complex(complex(re, im)), nil
	case ExtNDArray:
		dec := npy.Decode
		if sub.AliasInput() {
			dec = npy.DecodeAlias
		}
		a, err := dec(p)
		if err != nil {
			return nil, fmt.Errorf("ndarray: %w", err)
		}
		if a.DType.HasObject() {
			return nil, fmt.Errorf("ndarray: object arrays cannot be loaded without pickle")
		}
		return a, nil
	case ExtScalar:
		return decodeScalar(p, sub, fast)
	}
	return nil, fmt.Errorf("%w: unknown extension type %d", msgpack.ErrUnknownExt, typ)
}

// nestedNone is a msgpack None. Decoding it with a SubDecoder allocates
// nothing and fails exactly when the descr, which sits one level deeper
// than the scalar, would be too deep; so the fast path of decodeScalar
// still refuses a scalar nested at the depth limit, as the general path
// does.
var nestedNone = []byte{0xc0} // never modified

func roomForDescr(sub msgpack.SubDecoder) bool {
	_, _, err := sub.DecodeFirst(nestedNone)
	return err == nil
}

// decodeScalar reads msgpack(descr) followed by at least one element's raw
// bytes; extra bytes are ignored, as numpy.frombuffer(raw, dtype, 1) does.
func decodeScalar(p []byte, sub msgpack.SubDecoder, fast bool) (pyval.Value, error) {
	if dt, n, ok := scalarDescr(p); fast && ok && roomForDescr(sub) {
		if raw := p[n:]; len(raw) >= dt.ItemSize() {
			return newScalar(dt, raw[:dt.ItemSize()], sub.AliasInput()), nil
		}
	}
	descr, n, err := sub.DecodeFirst(p)
	if err != nil {
		return nil, err // located already; see msgpack.ExtHook
	}
	dt, err := pyval.DTypeFromDescr(descr)
	if err != nil {
		return nil, fmt.Errorf("numpy scalar: %w", err)
	}
	if dt.HasObject() {
		return nil, fmt.Errorf("numpy scalar: cannot decode dtype %s as it contains objects", dt)
	}
	size := dt.ItemSize()
	if size == 0 {
		return nil, fmt.Errorf("numpy scalar: dtype %s has itemsize 0", dt)
	}
	raw := p[n:]
	if len(raw) < size {
		return nil, fmt.Errorf("numpy scalar: dtype %s needs %d bytes, payload has %d after the descr", dt, size, len(raw))
	}
	return newScalar(dt, raw[:size], sub.AliasInput()), nil
}
