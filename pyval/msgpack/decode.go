package msgpack

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/sdpkit/sdpkit/pyval"
)

// Decoder reads msgpack into pyval values. Build one with NewDecoder; it is
// immutable and safe for concurrent use.
type Decoder struct {
	extHook          ExtHook
	mapHook          MapHook
	strictMapKeys    bool
	allowInvalidUTF8 bool
	alias            bool
	maxDepth         int
}

// NewDecoder returns a Decoder with the given options.
func NewDecoder(opts ...DecodeOption) *Decoder {
	d := &Decoder{}
	for _, o := range opts {
		o.applyDecode(d)
	}
	if d.maxDepth <= 0 {
		d.maxDepth = DefaultMaxDepth
	}
	return d
}

// Unmarshal decodes the single msgpack object in b with a one-off Decoder
// built from opts.
func Unmarshal(b []byte, opts ...DecodeOption) (pyval.Value, error) {
	return NewDecoder(opts...).Decode(b)
}

// Decode decodes the single msgpack object that b holds. Bytes after it
// fail with ErrExtraData, as Python's unpackb raises ExtraData.
func (d *Decoder) Decode(b []byte) (pyval.Value, error) {
	return d.decode(b, 0, 0)
}

// DecodeFirst decodes the first msgpack object in b and returns it with the
// number of bytes it used; the rest of b is not examined.
func (d *Decoder) DecodeFirst(b []byte) (pyval.Value, int, error) {
	r := reader{d: d, b: b}
	v, err := r.value(0)
	if err != nil {
		return nil, 0, locate(err)
	}
	return v, r.pos, nil
}

func (d *Decoder) decode(b []byte, base, depth int) (pyval.Value, error) {
	r := reader{d: d, b: b, base: base}
	v, err := r.value(depth)
	if err != nil {
		return nil, locate(err)
	}
	if r.pos != len(b) {
		return nil, locate(fmt.Errorf("%w: %d bytes after the object, at offset %d", ErrExtraData, len(b)-r.pos, base+r.pos))
	}
	return v, nil
}

// SubDecoder decodes msgpack nested inside an ext payload that an ExtHook
// is decoding, one level deeper and with offsets counted from the start of
// the outermost input.
type SubDecoder struct {
	d     *Decoder
	base  int
	depth int
}

// Offset returns the offset of the ext payload in the outermost input.
func (s SubDecoder) Offset() int { return s.base }

// Decode decodes the single object that b holds (b normally being the
// payload, or a suffix of it: offsets in errors assume b starts at the
// payload's first byte).
func (s SubDecoder) Decode(b []byte) (pyval.Value, error) {
	return s.d.decode(b, s.base, s.depth+1)
}

// DecodeFirst decodes the first object in b and reports the bytes it used.
func (s SubDecoder) DecodeFirst(b []byte) (pyval.Value, int, error) {
	r := reader{d: s.d, b: b, base: s.base}
	v, err := r.value(s.depth + 1)
	if err != nil {
		return nil, 0, locate(err)
	}
	return v, r.pos, nil
}

// DecodeArray decodes the single object that b holds, as Decode does, but
// when it is an array it returns the items without boxing them in a
// pyval.List, so that a hook can wrap them in another sequence type (a
// pyval.Tuple, say) without a second allocation; the slice is the
// caller's. For any other object it returns nil items and the object as
// other. Errors are Decode's.
func (s SubDecoder) DecodeArray(b []byte) (items []pyval.Value, other pyval.Value, err error) {
	depth := s.depth + 1
	if depth > s.d.maxDepth || len(b) == 0 || !isArrayHeader(b[0]) {
		v, err := s.Decode(b)
		return nil, v, err
	}
	r := reader{d: s.d, b: b, base: s.base, pos: 1}
	n := uint64(b[0] & 0x0f)
	if c := b[0]; c == 0xdc || c == 0xdd {
		if n, err = r.length(2<<(c-0xdc), "array length"); err != nil {
			return nil, nil, locate(err)
		}
	}
	if items, err = r.arrayItems(n, s.base, depth); err != nil {
		return nil, nil, locate(err)
	}
	if r.pos != len(b) {
		return nil, nil, locate(fmt.Errorf("%w: %d bytes after the object, at offset %d", ErrExtraData, len(b)-r.pos, s.base+r.pos))
	}
	return items, nil, nil
}

// AliasInput reports whether the decoder was built with AliasInput(true),
// so that a hook may let the values it builds share memory with the
// payload instead of copying it.
func (s SubDecoder) AliasInput() bool { return s.d.alias }

func isArrayHeader(c byte) bool { return c&0xf0 == 0x90 || c == 0xdc || c == 0xdd }

// smallInts holds the boxed Ints -32 … 255 (every fixint and uint8), so
// that decoding them allocates nothing. Read-only: an interface value's
// contents cannot be modified through it.
var smallInts = func() (t [32 + 256]pyval.Value) {
	for i := range t {
		t[i] = pyval.IntOf(int64(i) - 32)
	}
	return t
}()

// intValue boxes v, from smallInts when it is there.
func intValue(v int64) pyval.Value {
	if v >= -32 && v < 256 {
		return smallInts[v+32]
	}
	return pyval.IntOf(v)
}

// SmallInt returns the boxed pyval.Int for v in -32 … 255 from a shared
// read-only table, without allocating, and false for other values.
func SmallInt(v int64) (pyval.Value, bool) {
	if v >= -32 && v < 256 {
		return smallInts[v+32], true
	}
	return nil, false
}

// reader walks one input buffer.
type reader struct {
	d    *Decoder
	b    []byte
	pos  int
	base int // offset of b[0] in the outermost input, for messages
}

func (r *reader) off() int { return r.base + r.pos }

// take returns the next n bytes, failing if fewer remain. Every length read
// from the input passes through here (or through need) before anything is
// allocated.
func (r *reader) take(n uint64, what string) ([]byte, error) {
	if rem := uint64(len(r.b) - r.pos); n > rem {
		return nil, fmt.Errorf("%w: %s needs %d bytes at offset %d, %d remain", ErrTruncated, what, n, r.off(), rem)
	}
	p := r.b[r.pos : r.pos+int(n)]
	r.pos += int(n)
	return p, nil
}

func (r *reader) u8(what string) (uint64, error) {
	p, err := r.take(1, what)
	if err != nil {
		return 0, err
	}
	return uint64(p[0]), nil
}

func (r *reader) u16(what string) (uint64, error) {
	p, err := r.take(2, what)
	if err != nil {
		return 0, err
	}
	return uint64(binary.BigEndian.Uint16(p)), nil
}

func (r *reader) u32(what string) (uint64, error) {
	p, err := r.take(4, what)
	if err != nil {
		return 0, err
	}
	return uint64(binary.BigEndian.Uint32(p)), nil
}

func (r *reader) u64(what string) (uint64, error) {
	p, err := r.take(8, what)
	if err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint64(p), nil
}

// length reads a big-endian length of size bytes (1, 2 or 4).
func (r *reader) length(size int, what string) (uint64, error) {
	switch size {
	case 1:
		return r.u8(what)
	case 2:
		return r.u16(what)
	}
	return r.u32(what)
}

func (r *reader) value(depth int) (pyval.Value, error) {
	if depth > r.d.maxDepth {
		return nil, fmt.Errorf("%w: more than %d levels at offset %d", ErrTooDeep, r.d.maxDepth, r.off())
	}
	start := r.off()
	if r.pos >= len(r.b) {
		return nil, fmt.Errorf("%w: expected an object at offset %d", ErrTruncated, start)
	}
	c := r.b[r.pos]
	r.pos++
	switch {
	case c <= 0x7f:
		return smallInts[int(c)+32], nil
	case c <= 0x8f:
		return r.mapBody(uint64(c&0x0f), start, depth)
	case c <= 0x9f:
		return r.arrayBody(uint64(c&0x0f), start, depth)
	case c <= 0xbf:
		return r.strBody(uint64(c&0x1f), start)
	case c >= 0xe0:
		return smallInts[int(int8(c))+32], nil
	}
	switch c {
	case 0xc0:
		return pyval.None, nil
	case 0xc2:
		return pyval.Bool(false), nil
	case 0xc3:
		return pyval.Bool(true), nil
	case 0xc4, 0xc5, 0xc6:
		n, err := r.length(1<<(c-0xc4), "bin length")
		if err != nil {
			return nil, err
		}
		p, err := r.take(n, "bin")
		if err != nil {
			return nil, err
		}
		if r.d.alias {
			return pyval.Bytes(p[:len(p):len(p)]), nil
		}
		return pyval.Bytes(append([]byte{}, p...)), nil
	case 0xc7, 0xc8, 0xc9:
		n, err := r.length(1<<(c-0xc7), "ext length")
		if err != nil {
			return nil, err
		}
		return r.extBody(n, start, depth)
	case 0xca:
		u, err := r.u32("float32")
		if err != nil {
			return nil, err
		}
		return pyval.Float(math.Float32frombits(uint32(u))), nil
	case 0xcb:
		u, err := r.u64("float64")
		if err != nil {
			return nil, err
		}
		return pyval.Float(math.Float64frombits(u)), nil
	case 0xcc, 0xcd, 0xce, 0xcf:
		var u uint64
		var err error
		switch c {
		case 0xcc:
			u, err = r.u8("uint8")
		case 0xcd:
			u, err = r.u16("uint16")
		case 0xce:
			u, err = r.u32("uint32")
		default:
			u, err = r.u64("uint64")
		}
		if err != nil {
			return nil, err
		}
		if u < 256 {
			return smallInts[u+32], nil
		}
		return pyval.UintOf(u), nil
	case 0xd0:
		u, err := r.u8("int8")
		if err != nil {
			return nil, err
		}
		return intValue(int64(int8(u))), nil
	case 0xd1:
		u, err := r.u16("int16")
		if err != nil {
			return nil, err
		}
		return intValue(int64(int16(u))), nil
	case 0xd2:
		u, err := r.u32("int32")
		if err != nil {
			return nil, err
		}
		return intValue(int64(int32(u))), nil
	case 0xd3:
		u, err := r.u64("int64")
		if err != nil {
			return nil, err
		}
		return intValue(int64(u)), nil
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8:
		return r.extBody(1<<(c-0xd4), start, depth)
	case 0xd9, 0xda, 0xdb:
		n, err := r.length(1<<(c-0xd9), "str length")
		if err != nil {
			return nil, err
		}
		return r.strBody(n, start)
	case 0xdc, 0xdd:
		n, err := r.length(2<<(c-0xdc), "array length")
		if err != nil {
			return nil, err
		}
		return r.arrayBody(n, start, depth)
	case 0xde, 0xdf:
		n, err := r.length(2<<(c-0xde), "map length")
		if err != nil {
			return nil, err
		}
		return r.mapBody(n, start, depth)
	}
	// Only 0xc1 is left: reserved, never used.
	return nil, fmt.Errorf("%w: reserved type byte 0x%02x at offset %d", ErrMalformed, c, start)
}

func (r *reader) strBody(n uint64, start int) (pyval.Value, error) {
	p, err := r.take(n, "str")
	if err != nil {
		return nil, err
	}
	if !r.d.allowInvalidUTF8 && !utf8.Valid(p) {
		return nil, fmt.Errorf("%w: str at offset %d", ErrInvalidUTF8, start)
	}
	return pyval.Str(p), nil
}

// need fails unless n items of at least per bytes each could still fit, so
// that a forged length cannot make us allocate beyond the input size.
func (r *reader) need(n, per uint64, what string, start int) error {
	rem := uint64(len(r.b) - r.pos)
	if n > rem/per {
		return fmt.Errorf("%w: %s at offset %d claims %d elements, only %d bytes remain", ErrTruncated, what, start, n, rem)
	}
	return nil
}

func (r *reader) arrayBody(n uint64, start, depth int) (pyval.Value, error) {
	l, err := r.arrayItems(n, start, depth)
	if err != nil {
		return nil, err
	}
	return pyval.List(l), nil
}

// arrayItems reads the n items of an array that starts at offset start
// and is at depth depth.
func (r *reader) arrayItems(n uint64, start, depth int) ([]pyval.Value, error) {
	if err := r.need(n, 1, "array", start); err != nil {
		return nil, err
	}
	l := make([]pyval.Value, n)
	for i := range l {
		v, err := r.value(depth + 1)
		if err != nil {
			return nil, err
		}
		l[i] = v
	}
	return l, nil
}

func (r *reader) mapBody(n uint64, start, depth int) (pyval.Value, error) {
	if err := r.need(n, 2, "map", start); err != nil {
		return nil, err
	}
	m := &pyval.Dict{}
	for i := uint64(0); i < n; i++ {
		keyOff := r.off()
		k, err := r.value(depth + 1)
		if err != nil {
			return nil, err
		}
		if r.d.strictMapKeys {
			if kind := k.Kind(); kind != pyval.KindStr && kind != pyval.KindBytes {
				return nil, fmt.Errorf("%w: %s key at offset %d (only str and bytes keys are allowed)", ErrMapKey, kind, keyOff)
			}
		}
		v, err := r.value(depth + 1)
		if err != nil {
			return nil, err
		}
		if err := m.Set(k, v); err != nil {
			return nil, fmt.Errorf("%w: key at offset %d: %w", ErrMapKey, keyOff, err)
		}
	}
	if r.d.mapHook != nil {
		v, err := r.d.mapHook(m)
		if err != nil {
			return nil, fmt.Errorf("msgpack: map at offset %d: %w", start, err)
		}
		return v, nil
	}
	return m, nil
}

func (r *reader) extBody(n uint64, start, depth int) (pyval.Value, error) {
	t, err := r.u8("ext type")
	if err != nil {
		return nil, err
	}
	typ := int8(t)
	payOff := r.off()
	p, err := r.take(n, "ext payload")
	if err != nil {
		return nil, err
	}
	if typ == -1 {
		ts, err := decodeTimestamp(p)
		if err != nil {
			return nil, fmt.Errorf("%w at offset %d", err, start)
		}
		return ts, nil
	}
	if r.d.extHook == nil {
		return nil, fmt.Errorf("%w: type %d at offset %d", ErrUnknownExt, typ, start)
	}
	v, err := r.d.extHook(typ, p[:len(p):len(p)], SubDecoder{d: r.d, base: payOff, depth: depth})
	if err != nil {
		if located(err) {
			// From nested decoding: it names its offset already, and
			// wrapping it again at every level of nested ext objects would
			// make building the error quadratic in the nesting depth.
			return nil, err
		}
		return nil, fmt.Errorf("msgpack: ext type %d at offset %d: %w", typ, start, err)
	}
	if v == nil {
		return nil, fmt.Errorf("msgpack: ext type %d at offset %d: hook returned no value", typ, start)
	}
	return v, nil
}

// locatedError marks an error that already names the byte offset of the
// problem: every error that leaves a Decoder or SubDecoder carries it, so
// that extBody can tell its hook's own errors (which it wraps with the ext
// type and offset) from errors of nested decoding (passed on as they are).
type locatedError struct{ err error }

func (e *locatedError) Error() string { return e.err.Error() }
func (e *locatedError) Unwrap() error { return e.err }

func located(err error) bool {
	var le *locatedError
	return errors.As(err, &le)
}

func locate(err error) error {
	if err == nil || located(err) {
		return err
	}
	return &locatedError{err}
}

// decodeTimestamp reads the three timestamp layouts of the msgpack spec,
// with Python's range check on nanoseconds.
func decodeTimestamp(p []byte) (pyval.Timestamp, error) {
	var ts pyval.Timestamp
	switch len(p) {
	case 4:
		ts.Seconds = int64(binary.BigEndian.Uint32(p))
	case 8:
		v := binary.BigEndian.Uint64(p)
		ts.Nanoseconds = uint32(v >> 34)
		ts.Seconds = int64(v & (1<<34 - 1))
	case 12:
		ts.Nanoseconds = binary.BigEndian.Uint32(p)
		ts.Seconds = int64(binary.BigEndian.Uint64(p[4:]))
	default:
		return ts, fmt.Errorf("%w: timestamp of %d bytes (must be 4, 8 or 12)", ErrMalformed, len(p))
	}
	if ts.Nanoseconds >= 1e9 {
		return ts, fmt.Errorf("%w: timestamp nanoseconds %d out of range", ErrMalformed, ts.Nanoseconds)
	}
	return ts, nil
}
