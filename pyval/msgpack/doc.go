// Package msgpack is a MessagePack codec for pyval values that writes the
// same bytes as Python's msgpack library (msgpack-python 1.x) and reads what
// it reads.
//
// # Encoding
//
// The encoder follows packb(use_bin_type=True, strict_types=True):
//
//	pyval value      msgpack form (always the smallest header that fits)
//	None             nil (c0)
//	Bool             false / true (c2 / c3), never an int
//	Int >= 0         positive fixint, uint8, uint16, uint32, uint64 (cc…cf)
//	Int < 0          negative fixint, int8, int16, int32, int64 (d0…d3)
//	Float            float64 (cb), never float32
//	Str              str family; lengths count UTF-8 bytes; invalid UTF-8
//	                 (Python's lone surrogates) fails with ErrInvalidUTF8
//	Bytes            bin family (c4…c6)
//	List             array family
//	*Dict            map family, in insertion order
//	Timestamp        ext -1, in the smallest of the 4-, 8- and 12-byte forms
//
// Every other value (Tuple, Complex, *NDArray, *Scalar) goes to the
// EncodeHook given with WithEncodeHook, as Python's packb(default=…) does;
// without a hook such values fail with ErrUnsupportedType. TupleAsArray
// makes tuples native arrays, as Python does without strict_types. An Int
// outside -2**63 … 2**64-1 has no msgpack form: it goes to the hook too,
// as Python hands it to default=, and without a hook fails with
// ErrIntOverflow (Python's OverflowError "Integer value out of range").
//
// Encoder.Append appends to a caller-owned buffer, so a hot path can reuse
// one buffer and encode without allocating.
//
// # Decoding
//
// The decoder follows unpackb(raw=False) with every max_*_len limited by
// the input size: str becomes Str (invalid UTF-8 is an error unless
// AllowInvalidUTF8), bin becomes Bytes, float32 and float64 become Float,
// non-minimal headers are accepted, ext -1 becomes a pyval.Timestamp, and
// other ext types go to the ExtHook given with WithExtHook. StrictMapKeys
// refuses map keys other than str and bytes, as msgpack-python's default
// strict_map_key=True does.
//
// Decoding never panics and never trusts a length: a header that claims
// more elements or bytes than remain in the input fails before anything is
// allocated, so memory use stays proportional to the input size. Nesting
// deeper than MaxDepth fails. Decode refuses bytes after the first object
// (ErrExtraData); DecodeFirst returns how many bytes the first object used.
//
// Encoders and Decoders are immutable once built and safe for concurrent
// use. Errors wrap the sentinel errors of this package and name the byte
// offset at which the problem was found.
package msgpack
