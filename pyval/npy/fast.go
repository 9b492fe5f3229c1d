package npy

import (
	"math"

	"github.com/sdpkit/sdpkit/pyval"
)

// The general header parser (package pylit, then DescrToDType) handles
// every Python literal numpy.load accepts, but building a generic
// pyval.Dict and converting it back costs dozens of allocations. Nearly
// every header in practice is the one numpy writes for a simple dtype,
//
//	{'descr': '<f8', 'fortran_order': False, 'shape': (1000,), }
//
// so parseSimpleHeader recognises exactly that form directly from the
// bytes and leaves everything else (structured descrs, comments, string
// prefixes or escapes, reordered keys, Python 2 'L' suffixes, non-ASCII,
// and every error) to the general parser. It only ever reports success for
// text that the general parser reads to the same Header; FuzzDecode checks
// the two against each other.

// maxFastDims bounds the dimensions parseSimpleHeader collects on the
// stack; numpy itself allows at most 64.
const maxFastDims = 64

// parseSimpleHeader parses the header text b (without prefix) if it has
// the common form, reporting false otherwise. The grammar, with ws any of
// the blanks Python skips inside brackets (space, tab, form feed, CR, LF):
//
//	ws '{' ws KEY'descr' ws ':' ws STR ws ',' ws KEY'fortran_order' ws ':'
//	ws ('True'|'False') ws ',' ws KEY'shape' ws ':' ws '(' DIMS ')' ws
//	[',' ws] '}' ws
//
// where a KEY or STR is one quoted run of printable ASCII without a
// backslash, and DIMS is empty, one decimal int followed by a comma, or
// several separated by commas with an optional trailing one.
func parseSimpleHeader(b []byte) (Header, bool) {
	s := scanner{b: b}
	if !s.op('{') || !s.key("descr") {
		return Header{}, false
	}
	descr, ok := s.str()
	if !ok || !s.op(',') || !s.key("fortran_order") {
		return Header{}, false
	}
	var h Header
	switch {
	case s.name("False"):
	case s.name("True"):
		h.FortranOrder = true
	default:
		return Header{}, false
	}
	if !s.op(',') || !s.key("shape") || !s.op('(') {
		return Header{}, false
	}
	var dims [maxFastDims]int
	n := 0
	comma := false // whether the last dimension was followed by a comma
	for !s.op(')') {
		if n > 0 && !comma {
			return Header{}, false
		}
		if n == len(dims) {
			return Header{}, false
		}
		d, ok := s.dim()
		if !ok {
			return Header{}, false
		}
		dims[n] = d
		n++
		comma = s.op(',')
	}
	if n == 1 && !comma { // (3) is an int, not a tuple
		return Header{}, false
	}
	s.op(',') // the optional trailing comma of the dict
	if !s.op('}') {
		return Header{}, false
	}
	s.space()
	if s.pos != len(s.b) {
		return Header{}, false
	}
	dt, ok := simpleDType(descr)
	if !ok {
		return Header{}, false
	}
	// As parseHeader: non-nil even when empty.
	h.Shape = make([]int, n)
	copy(h.Shape, dims[:n])
	h.DType = dt
	return h, true
}

type scanner struct {
	b   []byte
	pos int
}

// space skips the blanks Python's tokenizer skips inside brackets (and,
// for the leading and trailing ones, around the literal).
func (s *scanner) space() {
	for s.pos < len(s.b) {
		switch s.b[s.pos] {
		case ' ', '\t', '\f', '\r', '\n':
			s.pos++
		default:
			return
		}
	}
}

// op skips blanks and the byte c if it comes next, reporting whether it
// did.
func (s *scanner) op(c byte) bool {
	s.space()
	if s.pos < len(s.b) && s.b[s.pos] == c {
		s.pos++
		return true
	}
	return false
}

// str reads a quoted string without escapes: ASCII from ' ' to '~' other
// than the quote and the backslash.
func (s *scanner) str() ([]byte, bool) {
	s.space()
	if s.pos >= len(s.b) {
		return nil, false
	}
	q := s.b[s.pos]
	if q != '\'' && q != '"' {
		return nil, false
	}
	start := s.pos + 1
	for i := start; i < len(s.b); i++ {
		switch c := s.b[i]; {
		case c == q:
			s.pos = i + 1
			return s.b[start:i], true
		case c < ' ' || c > '~' || c == '\\':
			return nil, false
		}
	}
	return nil, false
}

// key reads the dict key k and the colon after it.
func (s *scanner) key(k string) bool {
	got, ok := s.str()
	return ok && string(got) == k && s.op(':')
}

// name reads the identifier n, which must not run on into more identifier
// characters.
func (s *scanner) name(n string) bool {
	s.space()
	end := s.pos + len(n)
	if end > len(s.b) || string(s.b[s.pos:end]) != n || (end < len(s.b) && isIdentChar(s.b[end])) {
		return false
	}
	s.pos = end
	return true
}

// dim reads a decimal int: no sign, underscores or leading zeros (which
// Python refuses or the general parser handles), and at most 18 digits so
// that it cannot overflow. It must end the token: a following '.', 'L',
// 'j' or the like is left to the general parser.
func (s *scanner) dim() (int, bool) {
	s.space()
	start := s.pos
	var n uint64
	for s.pos < len(s.b) && isDigit(s.b[s.pos]) {
		n = n*10 + uint64(s.b[s.pos]-'0')
		s.pos++
	}
	digits := s.pos - start
	if digits == 0 || digits > 18 || (digits > 1 && s.b[start] == '0') || n > math.MaxInt {
		return 0, false
	}
	if s.pos < len(s.b) && (isIdentChar(s.b[s.pos]) || s.b[s.pos] == '.') {
		return 0, false
	}
	return int(n), true
}

// simpleDType is pyval.ParseDType for a descr read from a header, refusing
// what the general path must report (invalid dtypes, objects). The common
// dtypes come from a fixed table, avoiding the string conversion.
func simpleDType(descr []byte) (pyval.DType, bool) {
	if dt, ok := commonDType(descr); ok {
		return dt, true
	}
	dt, err := pyval.ParseDType(string(descr))
	if err != nil || dt.HasObject() {
		return pyval.DType{}, false
	}
	return dt, true
}

// commonDType looks up the dtype strings numpy writes for the usual
// numeric types on a little-endian machine (and a few big-endian ones);
// TestCommonDTypes checks each against pyval.ParseDType.
func commonDType(s []byte) (pyval.DType, bool) {
	switch string(s) { // no allocation: the compiler compares the bytes
	case "<f8":
		return pyval.Float64, true
	case "<f4":
		return pyval.Float32, true
	case "<f2":
		return pyval.Float16, true
	case "<i8":
		return pyval.Int64, true
	case "<i4":
		return pyval.Int32, true
	case "<i2":
		return pyval.Int16, true
	case "|i1":
		return pyval.Int8, true
	case "<u8":
		return pyval.Uint64, true
	case "<u4":
		return pyval.Uint32, true
	case "<u2":
		return pyval.Uint16, true
	case "|u1":
		return pyval.Uint8, true
	case "|b1":
		return pyval.Bool_, true
	case "<c8":
		return pyval.Complex64, true
	case "<c16":
		return pyval.Complex128, true
	case ">f8":
		return pyval.DType{Kind: 'f', ByteOrder: '>', Size: 8}, true
	case ">f4":
		return pyval.DType{Kind: 'f', ByteOrder: '>', Size: 4}, true
	case ">i8":
		return pyval.DType{Kind: 'i', ByteOrder: '>', Size: 8}, true
	case ">i4":
		return pyval.DType{Kind: 'i', ByteOrder: '>', Size: 4}, true
	}
	return pyval.DType{}, false
}

// appendDTypeStr appends d.String() for a simple, non-object dtype.
func appendDTypeStr(dst []byte, d pyval.DType) []byte {
	dst = append(dst, d.ByteOrder, d.Kind)
	dst = appendInt(dst, d.Size)
	if (d.Kind == 'M' || d.Kind == 'm') && d.Unit != "" {
		dst = append(dst, '[')
		dst = append(dst, d.Unit...)
		dst = append(dst, ']')
	}
	return dst
}
