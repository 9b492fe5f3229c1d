package msgpack

import "github.com/sdpkit/sdpkit/pyval"

// DefaultMaxDepth is the nesting limit used unless MaxDepth says otherwise.
// Python's packer refuses objects nested deeper than 511 levels and its
// unpacker keeps a stack of 1024 containers; 1024 accepts everything Python
// writes while keeping recursion bounded.
const DefaultMaxDepth = 1024

// EncodeOption configures an Encoder.
type EncodeOption interface{ applyEncode(*Encoder) }

// DecodeOption configures a Decoder.
type DecodeOption interface{ applyDecode(*Decoder) }

// Option configures both Encoders and Decoders.
type Option interface {
	EncodeOption
	DecodeOption
}

type encodeOptionFunc func(*Encoder)

func (f encodeOptionFunc) applyEncode(e *Encoder) { f(e) }

type decodeOptionFunc func(*Decoder)

func (f decodeOptionFunc) applyDecode(d *Decoder) { f(d) }

type maxDepthOption int

func (n maxDepthOption) applyEncode(e *Encoder) { e.maxDepth = int(n) }
func (n maxDepthOption) applyDecode(d *Decoder) { d.maxDepth = int(n) }

// MaxDepth limits how deeply containers (lists, dicts, and whatever hooks
// nest, such as tuples) may nest. The top-level value is at depth 0. A
// value nested deeper fails with ErrTooDeep. n <= 0 means DefaultMaxDepth.
func MaxDepth(n int) Option { return maxDepthOption(n) }

// An EncodeHook encodes a value that has no native msgpack form (Tuple,
// Complex, *NDArray, *Scalar, an Int outside -2**63 … 2**64-1; Tuple only
// without TupleAsArray), like the default= function of Python's packb. It appends the encoding of v to dst
// and returns the extended slice, usually through AppendExt or
// AppendExtFunc. Nested values are encoded with sub, which keeps the
// encoder's options and depth accounting. A hook that cannot encode v
// should return an error wrapping ErrUnsupportedType, or for an Int one
// wrapping ErrIntOverflow (what Python raises when default= returns the
// int unchanged).
type EncodeHook func(dst []byte, v pyval.Value, sub SubEncoder) ([]byte, error)

// WithEncodeHook sets the hook for values without a native form.
func WithEncodeHook(h EncodeHook) EncodeOption {
	return encodeOptionFunc(func(e *Encoder) { e.hook = h })
}

// TupleAsArray encodes tuples as msgpack arrays, as Python's packb does
// without strict_types (msgpack_numpy, plain msgpack.packb). By default
// tuples go to the EncodeHook.
func TupleAsArray(on bool) EncodeOption {
	return encodeOptionFunc(func(e *Encoder) { e.tupleAsArray = on })
}

// SingleFloat writes every Float as float32 (ca), rounding to the nearest
// float32, as Python's packb(use_single_float=True) does. The default, as in
// Python, is float64 (cb), which keeps the value exactly.
func SingleFloat(on bool) EncodeOption {
	return encodeOptionFunc(func(e *Encoder) { e.singleFloat = on })
}

// An ExtHook decodes an ext object whose type is not -1 (timestamps are
// always decoded natively, as Python's library does), like unpackb's
// ext_hook. payload aliases the input: copy it to keep it beyond the call.
// Values nested inside the payload are decoded with sub, which keeps the
// decoder's options, depth accounting and byte offsets. Errors the hook
// makes are returned wrapped with the ext type and offset; errors from sub
// (which name their own offset) are passed on as they are, even when the
// hook wraps them, so return them without adding text: deeply nested
// payloads would otherwise build ever longer messages. Return an error
// wrapping ErrUnknownExt for unrecognised types.
type ExtHook func(typ int8, payload []byte, sub SubDecoder) (pyval.Value, error)

// WithExtHook sets the hook for ext types other than -1. Without a hook
// they fail with ErrUnknownExt.
func WithExtHook(h ExtHook) DecodeOption {
	return decodeOptionFunc(func(d *Decoder) { d.extHook = h })
}

// A MapHook replaces every decoded map by another value, like unpackb's
// object_hook (msgpack_numpy uses it to rebuild arrays).
type MapHook func(m *pyval.Dict) (pyval.Value, error)

// WithMapHook sets a hook called with every decoded map.
func WithMapHook(h MapHook) DecodeOption {
	return decodeOptionFunc(func(d *Decoder) { d.mapHook = h })
}

// StrictMapKeys accepts only str and bin map keys, as msgpack-python 1.x
// does by default (strict_map_key=True). Without it any hashable key is
// accepted (lists and dicts never are: Python cannot hash them).
func StrictMapKeys(on bool) DecodeOption {
	return decodeOptionFunc(func(d *Decoder) { d.strictMapKeys = on })
}

// AllowInvalidUTF8 decodes str objects that are not valid UTF-8 to a Str
// holding the raw bytes instead of failing; old writers (use_bin_type=False)
// stored binary data as str.
func AllowInvalidUTF8(on bool) DecodeOption {
	return decodeOptionFunc(func(d *Decoder) { d.allowInvalidUTF8 = on })
}

// AliasInput makes decoded Bytes share memory with the input instead of
// copying, and lets ext hooks do the same with what they build (see
// SubDecoder.AliasInput). Use it only when the input outlives the values
// and is never modified.
func AliasInput(on bool) DecodeOption {
	return decodeOptionFunc(func(d *Decoder) { d.alias = on })
}
