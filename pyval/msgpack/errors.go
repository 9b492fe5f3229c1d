package msgpack

import "errors"

// Sentinel errors. Returned errors wrap one of these (check with errors.Is)
// and add detail: which value, and for decoding the byte offset.
var (
	// ErrUnsupportedType: the encoder has no form for a value and no hook
	// handled it.
	ErrUnsupportedType = errors.New("msgpack: unsupported type")
	// ErrInvalidUTF8: a Str is not valid UTF-8 (Python: a str with lone
	// surrogates cannot be encoded, and a msgpack str that is not UTF-8
	// cannot be decoded with raw=False).
	ErrInvalidUTF8 = errors.New("msgpack: invalid UTF-8 in str")
	// ErrIntOverflow: an Int outside -2**63 … 2**64-1, which msgpack has no
	// form for, and no EncodeHook took it (Python's OverflowError "Integer
	// value out of range").
	ErrIntOverflow = errors.New("msgpack: integer value out of range")
	// ErrTooLarge: a str, bin, array, map or ext payload has 2^32 or more
	// bytes or elements, beyond msgpack's 32-bit lengths.
	ErrTooLarge = errors.New("msgpack: object too large")
	// ErrTooDeep: containers nest deeper than the configured MaxDepth.
	ErrTooDeep = errors.New("msgpack: nesting too deep")
	// ErrTruncated: the input ends inside an object, or a header claims more
	// bytes or elements than the rest of the input could hold.
	ErrTruncated = errors.New("msgpack: truncated input")
	// ErrExtraData: bytes follow the single top-level object.
	ErrExtraData = errors.New("msgpack: extra data")
	// ErrMalformed: bytes that are not msgpack, such as the reserved type
	// byte 0xc1 or a timestamp of an impossible length.
	ErrMalformed = errors.New("msgpack: malformed input")
	// ErrMapKey: a map key that StrictMapKeys forbids, or one that cannot be
	// a dict key at all (an unhashable list or dict).
	ErrMapKey = errors.New("msgpack: invalid map key")
	// ErrUnknownExt: an ext type that no hook handled.
	ErrUnknownExt = errors.New("msgpack: unknown ext type")
)
