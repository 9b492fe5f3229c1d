package msgpack

import (
	"encoding/binary"
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/sdpkit/sdpkit/pyval"
)

// maxLen is the largest length a msgpack header can carry.
const maxLen = math.MaxUint32

// Encoder writes pyval values as msgpack. Build one with NewEncoder; it is
// immutable and safe for concurrent use.
type Encoder struct {
	hook         EncodeHook
	tupleAsArray bool
	singleFloat  bool
	maxDepth     int
}

// NewEncoder returns an Encoder with the given options.
func NewEncoder(opts ...EncodeOption) *Encoder {
	e := &Encoder{}
	for _, o := range opts {
		o.applyEncode(e)
	}
	if e.maxDepth <= 0 {
		e.maxDepth = DefaultMaxDepth
	}
	return e
}

// defaultEncoder serves Append and Marshal without options. It is never
// modified.
var defaultEncoder = NewEncoder()

// Append appends the msgpack encoding of v to dst using an Encoder built
// from opts (see Encoder.Append). Without options it does not allocate
// beyond growing dst; with options, build the Encoder once with NewEncoder
// on hot paths.
func Append(dst []byte, v pyval.Value, opts ...EncodeOption) ([]byte, error) {
	if len(opts) == 0 {
		return defaultEncoder.Append(dst, v)
	}
	return NewEncoder(opts...).Append(dst, v)
}

// Marshal encodes v with a one-off Encoder built from opts.
func Marshal(v pyval.Value, opts ...EncodeOption) ([]byte, error) {
	return Append(nil, v, opts...)
}

// Encode returns the msgpack encoding of v in a new slice.
func (e *Encoder) Encode(v pyval.Value) ([]byte, error) { return e.Append(nil, v) }

// Append appends the msgpack encoding of v to dst and returns the extended
// slice. On error it returns dst with nothing appended (its spare capacity
// may have been written to).
func (e *Encoder) Append(dst []byte, v pyval.Value) ([]byte, error) {
	start := len(dst)
	out, err := e.append(dst, v, 0)
	if err != nil {
		return dst[:start], err
	}
	return out, nil
}

// SubEncoder encodes values nested inside a value that an EncodeHook is
// encoding, one level deeper.
type SubEncoder struct {
	e     *Encoder
	depth int
}

// Append appends the encoding of v, nested one level below the value the
// hook was given.
func (s SubEncoder) Append(dst []byte, v pyval.Value) ([]byte, error) {
	return s.e.append(dst, v, s.depth+1)
}

// AppendArray appends items as a msgpack array one level below the hook's
// value (the items themselves two levels below), without boxing the slice
// in a Value.
func (s SubEncoder) AppendArray(dst []byte, items []pyval.Value) ([]byte, error) {
	if s.depth+1 > s.e.maxDepth {
		return dst, fmt.Errorf("%w: more than %d levels", ErrTooDeep, s.e.maxDepth)
	}
	return s.e.appendArray(dst, items, s.depth+1)
}

func (e *Encoder) append(dst []byte, v pyval.Value, depth int) ([]byte, error) {
	if depth > e.maxDepth {
		return dst, fmt.Errorf("%w: more than %d levels", ErrTooDeep, e.maxDepth)
	}
	switch x := v.(type) {
	case pyval.NoneType:
		return append(dst, 0xc0), nil
	case pyval.Bool:
		if x {
			return append(dst, 0xc3), nil
		}
		return append(dst, 0xc2), nil
	case pyval.Int:
		if u, ok := x.Uint64(); ok {
			return appendUint(dst, u), nil
		}
		if i, ok := x.Int64(); ok {
			return appendNegInt(dst, i), nil
		}
		// Beyond msgpack's range Python's packer hands the int to default=
		// once, and raises OverflowError without one.
		if e.hook == nil {
			return dst, intOverflow(x)
		}
	case pyval.Float:
		if e.singleFloat {
			return binary.BigEndian.AppendUint32(append(dst, 0xca), math.Float32bits(float32(x))), nil
		}
		return appendFloat64(dst, float64(x)), nil
	case pyval.Str:
		return AppendStr(dst, string(x))
	case pyval.Bytes:
		if len(x) > maxLen {
			return dst, fmt.Errorf("%w: bytes of length %d", ErrTooLarge, len(x))
		}
		dst = appendBinHeader(dst, len(x))
		return append(dst, x...), nil
	case pyval.List:
		return e.appendArray(dst, x, depth)
	case pyval.Tuple:
		if e.tupleAsArray {
			return e.appendArray(dst, x, depth)
		}
	case *pyval.Dict:
		items := x.Items()
		if len(items) > maxLen {
			return dst, fmt.Errorf("%w: dict of %d items", ErrTooLarge, len(items))
		}
		dst = appendMapHeader(dst, len(items))
		var err error
		for _, it := range items {
			if dst, err = e.append(dst, it.Key, depth+1); err != nil {
				return dst, err
			}
			if dst, err = e.append(dst, it.Value, depth+1); err != nil {
				return dst, err
			}
		}
		return dst, nil
	case pyval.Timestamp:
		if x.Nanoseconds >= 1e9 {
			// Python's Timestamp refuses this too.
			return dst, fmt.Errorf("%w: Timestamp with nanoseconds=%d (must be below 10**9)", ErrUnsupportedType, x.Nanoseconds)
		}
		return AppendTimestamp(dst, x), nil
	case nil:
		return dst, fmt.Errorf("%w: nil Value", ErrUnsupportedType)
	}
	if e.hook == nil {
		return dst, fmt.Errorf("%w: cannot encode %s", ErrUnsupportedType, v.Kind())
	}
	return e.hook(dst, v, SubEncoder{e: e, depth: depth})
}

// intOverflow is the error for an Int beyond msgpack's range; kept out of
// line so that the hot encoding switch stays small.
//
//go:noinline
func intOverflow(i pyval.Int) error {
	return fmt.Errorf("%w: int of %d bits", ErrIntOverflow, i.BitLen())
}

func (e *Encoder) appendArray(dst []byte, l []pyval.Value, depth int) ([]byte, error) {
	if len(l) > maxLen {
		return dst, fmt.Errorf("%w: sequence of %d items", ErrTooLarge, len(l))
	}
	dst = appendArrayHeader(dst, len(l))
	var err error
	for _, item := range l {
		if dst, err = e.append(dst, item, depth+1); err != nil {
			return dst, err
		}
	}
	return dst, nil
}

func appendUint(dst []byte, u uint64) []byte {
	switch {
	case u <= 0x7f:
		return append(dst, byte(u))
	case u <= math.MaxUint8:
		return append(dst, 0xcc, byte(u))
	case u <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(dst, 0xcd), uint16(u))
	case u <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(dst, 0xce), uint32(u))
	}
	return binary.BigEndian.AppendUint64(append(dst, 0xcf), u)
}

// appendNegInt writes i < 0 in the smallest signed form.
func appendNegInt(dst []byte, i int64) []byte {
	switch {
	case i >= -32:
		return append(dst, byte(i))
	case i >= math.MinInt8:
		return append(dst, 0xd0, byte(i))
	case i >= math.MinInt16:
		return binary.BigEndian.AppendUint16(append(dst, 0xd1), uint16(i))
	case i >= math.MinInt32:
		return binary.BigEndian.AppendUint32(append(dst, 0xd2), uint32(i))
	}
	return binary.BigEndian.AppendUint64(append(dst, 0xd3), uint64(i))
}

func appendFloat64(dst []byte, f float64) []byte {
	return binary.BigEndian.AppendUint64(append(dst, 0xcb), math.Float64bits(f))
}

// appendLenHeader writes the header of a str/bin/array/map family whose
// 8/16/32-bit forms start with codes c8, c8+1, c8+2 (c8 == 0 when the
// family has no 8-bit form).
func appendLenHeader(dst []byte, n int, fixBase byte, fixMax int, c8 byte, c16 byte) []byte {
	switch {
	case fixMax >= 0 && n <= fixMax:
		return append(dst, fixBase|byte(n))
	case c8 != 0 && n <= math.MaxUint8:
		return append(dst, c8, byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(dst, c16), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(dst, c16+1), uint32(n))
}

func appendStrHeader(dst []byte, n int) []byte {
	return appendLenHeader(dst, n, 0xa0, 31, 0xd9, 0xda)
}

func appendBinHeader(dst []byte, n int) []byte {
	return appendLenHeader(dst, n, 0, -1, 0xc4, 0xc5)
}

func appendArrayHeader(dst []byte, n int) []byte {
	return appendLenHeader(dst, n, 0x90, 15, 0, 0xdc)
}

func appendMapHeader(dst []byte, n int) []byte {
	return appendLenHeader(dst, n, 0x80, 15, 0, 0xde)
}

// extHeaderLen returns the size of the ext header for an n-byte payload.
func extHeaderLen(n int) int {
	switch {
	case n == 1 || n == 2 || n == 4 || n == 8 || n == 16:
		return 2
	case n <= math.MaxUint8:
		return 3
	case n <= math.MaxUint16:
		return 4
	}
	return 6
}

// putExtHeader writes the ext header for an n-byte payload of type typ into
// h, which has extHeaderLen(n) bytes.
func putExtHeader(h []byte, typ int8, n int) {
	switch n {
	case 1, 2, 4, 8, 16:
		// fixext 1/2/4/8/16 are d4…d8.
		h[0] = 0xd4 + byte(bitsLen(n))
		h[1] = byte(typ)
		return
	}
	switch len(h) {
	case 3:
		h[0], h[1], h[2] = 0xc7, byte(n), byte(typ)
	case 4:
		h[0] = 0xc8
		binary.BigEndian.PutUint16(h[1:], uint16(n))
		h[3] = byte(typ)
	default:
		h[0] = 0xc9
		binary.BigEndian.PutUint32(h[1:], uint32(n))
		h[5] = byte(typ)
	}
}

// bitsLen returns log2(n) for n in {1, 2, 4, 8, 16}.
func bitsLen(n int) int {
	k := 0
	for n > 1 {
		n >>= 1
		k++
	}
	return k
}

// AppendExt appends an ext object of type typ carrying payload, with the
// header Python writes: fixext for 1, 2, 4, 8 and 16 bytes, else ext 8,
// 16 or 32. It fails with ErrTooLarge for payloads of 2^32 bytes or more.
func AppendExt(dst []byte, typ int8, payload []byte) ([]byte, error) {
	n := len(payload)
	if n > maxLen {
		return dst, fmt.Errorf("%w: ext payload of %d bytes", ErrTooLarge, n)
	}
	dst, _ = AppendExtHeader(dst, typ, n)
	return append(dst, payload...), nil
}

// AppendExtHeader appends the header of an ext object of type typ with an
// n-byte payload, which the caller appends next. It fails with ErrTooLarge
// for n of 2^32 or more (or negative).
func AppendExtHeader(dst []byte, typ int8, n int) ([]byte, error) {
	if n < 0 || n > maxLen {
		return dst, fmt.Errorf("%w: ext payload of %d bytes", ErrTooLarge, n)
	}
	start := len(dst)
	var pad [6]byte
	hl := extHeaderLen(n)
	dst = append(dst, pad[:hl]...)
	putExtHeader(dst[start:], typ, n)
	return dst, nil
}

// AppendExtFunc appends an ext object of type typ whose payload is written
// by payload, which must append to the slice it is given and return the
// result. The payload is built in place and then moved up behind the
// header, so no temporary buffer is needed even when the payload length is
// not known in advance. On error dst is returned with nothing appended.
func AppendExtFunc(dst []byte, typ int8, payload func(dst []byte) ([]byte, error)) ([]byte, error) {
	start := len(dst)
	out, err := payload(dst)
	if err != nil {
		return dst[:start], err
	}
	if len(out) < start {
		return dst[:start], fmt.Errorf("msgpack: ext payload writer shrank the buffer")
	}
	return InsertExtHeader(out, start, typ)
}

// InsertExtHeader turns buf[start:], a payload the caller has already
// appended, into an ext object of type typ by inserting the header at
// start (moving the payload up by a few bytes). It is AppendExtFunc
// without the closure, for hot paths:
//
//	start := len(dst)
//	dst = appendPayload(dst)
//	dst, err = msgpack.InsertExtHeader(dst, start, typ)
//
// On error it returns buf[:start].
func InsertExtHeader(buf []byte, start int, typ int8) ([]byte, error) {
	if start < 0 || start > len(buf) {
		return buf, fmt.Errorf("msgpack: ext payload start %d outside buffer of %d bytes", start, len(buf))
	}
	n := len(buf) - start
	if n > maxLen {
		return buf[:start], fmt.Errorf("%w: ext payload of %d bytes", ErrTooLarge, n)
	}
	hl := extHeaderLen(n)
	var pad [6]byte
	buf = append(buf, pad[:hl]...)
	copy(buf[start+hl:], buf[start:start+n])
	putExtHeader(buf[start:start+hl], typ, n)
	return buf, nil
}

// AppendStr appends s as a msgpack str, failing on invalid UTF-8 and on
// strings of 2^32 bytes or more.
func AppendStr(dst []byte, s string) ([]byte, error) {
	if !utf8.ValidString(s) {
		return dst, fmt.Errorf("%w: cannot encode %s", ErrInvalidUTF8, pyval.StrRepr(s))
	}
	if len(s) > maxLen {
		return dst, fmt.Errorf("%w: str of %d bytes", ErrTooLarge, len(s))
	}
	return append(appendStrHeader(dst, len(s)), s...), nil
}

// AppendTimestamp appends t as ext type -1 in the smallest form that holds
// it, as Python's packer does: 4 bytes (seconds only, fitting 32 bits), 8
// bytes (30-bit nanoseconds, 34-bit seconds) or 12 bytes. Valid timestamps
// have Nanoseconds below 10^9; larger ones are written in the 12-byte form
// rather than truncated.
func AppendTimestamp(dst []byte, t pyval.Timestamp) []byte {
	if t.Seconds>>34 == 0 && t.Nanoseconds < 1<<30 {
		data64 := uint64(t.Nanoseconds)<<34 | uint64(t.Seconds)
		if data64&0xffffffff00000000 == 0 {
			return binary.BigEndian.AppendUint32(append(dst, 0xd6, 0xff), uint32(data64))
		}
		return binary.BigEndian.AppendUint64(append(dst, 0xd7, 0xff), data64)
	}
	dst = append(dst, 0xc7, 12, 0xff)
	dst = binary.BigEndian.AppendUint32(dst, t.Nanoseconds)
	return binary.BigEndian.AppendUint64(dst, uint64(t.Seconds))
}

// AppendBinHeader appends the header of a bin object of n bytes (bin 8, 16
// or 32, the smallest that fits), which the caller appends next. Hooks use
// it to write large byte payloads straight from their own buffers. It fails
// with ErrTooLarge for n of 2^32 or more (or negative).
func AppendBinHeader(dst []byte, n int) ([]byte, error) {
	if n < 0 || n > maxLen {
		return dst, fmt.Errorf("%w: bin of %d bytes", ErrTooLarge, n)
	}
	return appendBinHeader(dst, n), nil
}

// AppendArrayHeader appends the header of an array of n items (fixarray,
// array 16 or 32), which the caller appends next. It fails with
// ErrTooLarge for n of 2^32 or more (or negative).
func AppendArrayHeader(dst []byte, n int) ([]byte, error) {
	if n < 0 || n > maxLen {
		return dst, fmt.Errorf("%w: array of %d items", ErrTooLarge, n)
	}
	return appendArrayHeader(dst, n), nil
}

// AppendMapHeader appends the header of a map of n key/value pairs
// (fixmap, map 16 or 32), which the caller appends next. It fails with
// ErrTooLarge for n of 2^32 or more (or negative).
func AppendMapHeader(dst []byte, n int) ([]byte, error) {
	if n < 0 || n > maxLen {
		return dst, fmt.Errorf("%w: map of %d pairs", ErrTooLarge, n)
	}
	return appendMapHeader(dst, n), nil
}

// AppendInt appends i in the smallest form, as the encoder writes an Int:
// fixint or uint 8…64 for i >= 0, negative fixint or int 8…64 below.
func AppendInt(dst []byte, i int64) []byte {
	if i >= 0 {
		return appendUint(dst, uint64(i))
	}
	return appendNegInt(dst, i)
}
