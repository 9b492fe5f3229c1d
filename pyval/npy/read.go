package npy

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/pyval/pylit"
)

// Decode reads the .npy file in b. Bytes after the array data are ignored,
// as numpy.load ignores them. The returned array's Data is a copy, so b
// may be reused.
func Decode(b []byte) (*pyval.NDArray, error) { return decode(b, false) }

// DecodeAlias is Decode without the copy: the returned array's Data is the
// part of b that holds the elements (its capacity ends with them, so an
// append cannot reach the bytes after). b must then not be modified or
// reused while the array is in use, and modifying the array's Data
// modifies b. The header is parsed into values of the array's own.
func DecodeAlias(b []byte) (*pyval.NDArray, error) { return decode(b, true) }

func decode(b []byte, alias bool) (*pyval.NDArray, error) {
	h, n, err := DecodeHeader(b)
	if err != nil {
		return nil, err
	}
	size, err := checkedSize(h)
	if err != nil {
		return nil, err
	}
	// Compare with what is there before allocating anything.
	if avail := len(b) - n; avail < size {
		return nil, fmt.Errorf("%w: reading array data, expected %d bytes got %d", ErrTruncated, size, avail)
	}
	// The make-and-copy idiom compiles to one call that skips zeroing.
	src := b[n : n+size : n+size]
	if alias {
		return newArray(h, src)
	}
	data := make([]byte, len(src))
	copy(data, src)
	return newArray(h, data)
}

// Read reads one .npy file from r, consuming exactly its bytes, so that
// several arrays written one after another can be read in turn. The data is
// read in bounded chunks: a header that announces more data than r holds
// costs at most about twice the bytes r actually delivers.
func Read(r io.Reader) (*pyval.NDArray, error) {
	pre := make([]byte, len(Magic)+2, len(Magic)+2+4)
	if _, err := io.ReadFull(r, pre); err != nil {
		return nil, readErr(err, "magic string")
	}
	v, err := checkMagic(pre)
	if err != nil {
		return nil, err
	}
	pre = pre[:len(pre)+v.lengthFieldSize()]
	if _, err := io.ReadFull(r, pre[len(Magic)+2:]); err != nil {
		return nil, readErr(err, "array header length")
	}
	hlen, err := headerLength(pre, v)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, len(pre)+hlen)
	copy(buf, pre)
	if _, err := io.ReadFull(r, buf[len(pre):]); err != nil {
		return nil, readErr(err, "array header")
	}
	h, _, err := DecodeHeader(buf)
	if err != nil {
		return nil, err
	}
	size, err := checkedSize(h)
	if err != nil {
		return nil, err
	}
	const chunk = 1 << 20
	data := make([]byte, 0, min(size, chunk))
	for len(data) < size {
		n := min(size-len(data), chunk)
		data = slices.Grow(data, n)
		m, err := io.ReadFull(r, data[len(data):len(data)+n])
		data = data[:len(data)+m]
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, fmt.Errorf("%w: reading array data, expected %d bytes got %d", ErrTruncated, size, len(data))
			}
			return nil, err
		}
	}
	return newArray(h, data)
}

func readErr(err error, what string) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: EOF reading %s", ErrTruncated, what)
	}
	return err
}

func checkedSize(h Header) (int, error) {
	size, ok := h.DataSize()
	if !ok {
		return 0, fmt.Errorf("%w: shape %v of dtype %s is too large", ErrFormat, h.Shape, h.DType)
	}
	return size, nil
}

func newArray(h Header, data []byte) (*pyval.NDArray, error) {
	// h.Shape is ours alone, so when pyval.NewNDArray's checks pass
	// build the array around it rather than have NewNDArray copy it.
	// (NewNDArray returns a nil Shape for a 0-d array; so does this.)
	if n, ok := pyval.ShapeSize(h.Shape, math.MaxInt32*64); ok && !h.DType.HasObject() && n*h.DType.ItemSize() == len(data) {
		shape := h.Shape
		if len(shape) == 0 {
			shape = nil
		}
		return &pyval.NDArray{DType: h.DType, Shape: shape, FortranOrder: h.FortranOrder && len(shape) > 1, Data: data}, nil
	}
	a, err := pyval.NewNDArray(h.DType, h.Shape, h.FortranOrder, data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	return a, nil
}

func checkMagic(b []byte) (Version, error) {
	if string(b[:len(Magic)]) != Magic {
		return Version{}, fmt.Errorf("%w: the magic string is not correct; expected %q, got %q", ErrFormat, Magic, b[:len(Magic)])
	}
	v := Version{b[len(Magic)], b[len(Magic)+1]}
	if v.lengthFieldSize() == 0 {
		return Version{}, fmt.Errorf("%w: unsupported format version %s (want 1.0, 2.0 or 3.0)", ErrFormat, v)
	}
	return v, nil
}

// headerLength reads the header length field from the prefix b and checks
// it against MaxHeaderSize (in bytes: a UTF-8 header may take 4 per
// character; the exact character count is checked after decoding).
func headerLength(b []byte, v Version) (int, error) {
	var n uint64
	limit := uint64(MaxHeaderSize)
	if v == Version1 {
		n = uint64(binary.LittleEndian.Uint16(b[len(Magic)+2:]))
	} else {
		n = uint64(binary.LittleEndian.Uint32(b[len(Magic)+2:]))
	}
	if v == Version3 {
		limit *= utf8.UTFMax
	}
	if n > limit {
		return 0, fmt.Errorf("%w: header info length (%d) is larger than %d", ErrHeaderTooLarge, n, MaxHeaderSize)
	}
	return int(n), nil
}

// DecodeHeader reads the header of the .npy file in b and returns it with
// the offset of the array data in b.
func DecodeHeader(b []byte) (h Header, headerLen int, err error) {
	if len(b) < len(Magic)+2 {
		return Header{}, 0, fmt.Errorf("%w: EOF reading magic string", ErrTruncated)
	}
	v, err := checkMagic(b)
	if err != nil {
		return Header{}, 0, err
	}
	pre := len(Magic) + 2 + v.lengthFieldSize()
	if len(b) < pre {
		return Header{}, 0, fmt.Errorf("%w: EOF reading array header length", ErrTruncated)
	}
	hlen, err := headerLength(b, v)
	if err != nil {
		return Header{}, 0, err
	}
	if len(b)-pre < hlen {
		return Header{}, 0, fmt.Errorf("%w: EOF reading array header, expected %d bytes got %d", ErrTruncated, hlen, len(b)-pre)
	}
	raw := b[pre : pre+hlen]
	// The fast path reads only ASCII, for which every version's text is
	// the bytes themselves, and it refuses the 'L' suffixes that
	// dropLongSuffixes would remove. A version 3.0 header may hold more
	// than MaxHeaderSize bytes; leave the character count to the general
	// path.
	if hlen <= MaxHeaderSize {
		if h, ok := parseSimpleHeader(raw); ok {
			h.Version = v
			return h, pre + hlen, nil
		}
	}
	h, err = parseHeaderBytes(raw, v)
	if err != nil {
		return Header{}, 0, err
	}
	h.Version = v
	return h, pre + hlen, nil
}

// parseHeaderBytes is the general header parser, for any header text
// numpy.load accepts.
func parseHeaderBytes(raw []byte, v Version) (Header, error) {
	var text string
	if v == Version3 {
		if !utf8.Valid(raw) {
			return Header{}, fmt.Errorf("%w: version 3.0 header is not valid UTF-8", ErrFormat)
		}
		text = string(raw)
		if n := utf8.RuneCountInString(text); n > MaxHeaderSize {
			return Header{}, fmt.Errorf("%w: header info length (%d) is larger than %d", ErrHeaderTooLarge, n, MaxHeaderSize)
		}
	} else {
		text = fromLatin1(raw)
		// Python 2 wrote longs such as (3L,) in shapes.
		text = dropLongSuffixes(text)
	}
	return parseHeader(text)
}

func fromLatin1(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b))
	for _, c := range b {
		sb.WriteRune(rune(c))
	}
	return sb.String()
}

func parseHeader(text string) (Header, error) {
	v, err := pylit.Parse(text)
	if err != nil {
		return Header{}, fmt.Errorf("%w: cannot parse header: %w", ErrFormat, err)
	}
	d, ok := v.(*pyval.Dict)
	if !ok {
		return Header{}, fmt.Errorf("%w: header is not a dictionary: %s", ErrFormat, clip(pyval.Repr(v)))
	}
	descr, ok1 := d.GetStr("descr")
	fortran, ok2 := d.GetStr("fortran_order")
	shape, ok3 := d.GetStr("shape")
	if !ok1 || !ok2 || !ok3 || d.Len() != 3 {
		keys := make([]string, 0, d.Len())
		for _, k := range d.Keys() {
			keys = append(keys, pyval.Repr(k))
		}
		return Header{}, fmt.Errorf("%w: header does not contain the correct keys: [%s]", ErrFormat, clip(strings.Join(keys, ", ")))
	}
	var h Header
	st, ok := shape.(pyval.Tuple)
	if !ok {
		return Header{}, fmt.Errorf("%w: shape is not valid: %s", ErrFormat, clip(pyval.Repr(shape)))
	}
	h.Shape = make([]int, len(st))
	for i, e := range st {
		n, ok := e.(pyval.Int) // not Bool: numpy cannot make an array of shape (True,)
		if !ok {
			return Header{}, fmt.Errorf("%w: shape is not valid: %s", ErrFormat, clip(pyval.Repr(shape)))
		}
		x, fits := n.Int64()
		if !fits || x < 0 || x > math.MaxInt {
			return Header{}, fmt.Errorf("%w: invalid dimension %s in shape %s", ErrFormat, n, clip(pyval.Repr(shape)))
		}
		h.Shape[i] = int(x)
	}
	fo, ok := fortran.(pyval.Bool)
	if !ok {
		return Header{}, fmt.Errorf("%w: fortran_order is not a valid bool: %s", ErrFormat, clip(pyval.Repr(fortran)))
	}
	h.FortranOrder = bool(fo)
	h.DType, err = DescrToDType(descr)
	if err != nil {
		return Header{}, fmt.Errorf("%w: descr is not a valid dtype descriptor: %w", ErrFormat, err)
	}
	if h.DType.HasObject() {
		return Header{}, fmt.Errorf("%w: object arrays cannot be loaded when allow_pickle=False", ErrObject)
	}
	return h, nil
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

// dropLongSuffixes removes the L that Python 2 appended to long integers
// ("(3L, 4L)" → "(3, 4)"), as numpy's header filter does for format
// versions 1.0 and 2.0: an L right after a number, outside string
// literals.
func dropLongSuffixes(s string) string {
	if !strings.ContainsRune(s, 'L') {
		return s
	}
	var sb strings.Builder
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == '\'' || c == '"':
			j := skipString(s, i)
			sb.WriteString(s[i:j])
			i = j
		case isDigit(c) || (c == '.' && i+1 < len(s) && isDigit(s[i+1])):
			if i > 0 && isIdentChar(s[i-1]) { // part of a name, not a number
				sb.WriteByte(c)
				i++
				continue
			}
			j := i
			for j < len(s) {
				d := s[j]
				if (d == '+' || d == '-') && (s[j-1] == 'e' || s[j-1] == 'E') && !strings.ContainsAny(s[i:j], "xX") {
					j++
					continue
				}
				if !(isIdentChar(d) || d == '.') || d == 'L' || d == 'l' {
					break
				}
				j++
			}
			k := j
			for k < len(s) && (s[k] == ' ' || s[k] == '\t' || s[k] == '\f') {
				k++
			}
			sb.WriteString(s[i:j])
			if k < len(s) && s[k] == 'L' && (k+1 == len(s) || !isIdentChar(s[k+1])) {
				sb.WriteString(s[j:k])
				i = k + 1
			} else {
				i = j
			}
		default:
			sb.WriteByte(c)
			i++
		}
	}
	return sb.String()
}

// skipString returns the index after the string literal starting with the
// quote at s[i] (or len(s) if it is unterminated).
func skipString(s string, i int) int {
	q := s[i]
	triple := strings.HasPrefix(s[i:], string([]byte{q, q, q}))
	j := i + 1
	if triple {
		j = i + 3
	}
	for j < len(s) {
		switch {
		case s[j] == '\\':
			j += 2
		case triple && strings.HasPrefix(s[j:], string([]byte{q, q, q})):
			return j + 3
		case !triple && s[j] == q:
			return j + 1
		default:
			j++
		}
	}
	return len(s)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isIdentChar(c byte) bool {
	return c == '_' || isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}
