package pyjson

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/sdpkit/sdpkit/pyval"
)

// SyntaxError is an error from Unmarshal at a place in the input. Line and
// Column are 1-based and count characters as Python's JSONDecodeError does
// (Column is the character position in the line); Offset is the byte offset.
type SyntaxError struct {
	Msg    string // what was expected or found, in Python's words
	Line   int
	Column int
	Offset int
	Err    error // the sentinel: ErrSyntax, ErrRange, ErrSurrogate, ErrInvalidUTF8, ErrDepth or ErrNaN
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("pyjson: %s: line %d column %d (byte %d)", e.Msg, e.Line, e.Column, e.Offset)
}

// Unwrap returns the sentinel error.
func (e *SyntaxError) Unwrap() error { return e.Err }

// Unmarshal parses one JSON document as Python's json.loads does (see the
// package documentation for the value mapping). Whitespace around the value
// is allowed (space, tab, CR, LF, as in Python); anything else after it
// fails ("Extra data"). A leading UTF-8 byte order mark is skipped, as
// json.loads does for bytes. The input must be UTF-8; Python would also
// detect UTF-16 and UTF-32, which this does not. Options: AllowNaN,
// MaxDepth, BigIntsAsFloat.
//
// Unmarshal never panics, and allocates in proportion to the input.
func Unmarshal(data []byte, opts ...Option) (pyval.Value, error) {
	d := decoder{data: data, o: newOptions(opts)}
	if bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
		d.pos = 3
	}
	d.skipSpace()
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	d.skipSpace()
	if d.pos != len(d.data) {
		return nil, d.errorf(d.pos, ErrSyntax, "Extra data")
	}
	return v, nil
}

type decoder struct {
	data []byte
	pos  int
	o    options
}

func (d *decoder) errorf(off int, sentinel error, format string, args ...any) error {
	e := &SyntaxError{Msg: fmt.Sprintf(format, args...), Offset: off, Err: sentinel}
	before := d.data[:off]
	e.Line = bytes.Count(before, []byte{'\n'}) + 1
	lineStart := bytes.LastIndexByte(before, '\n') + 1
	e.Column = utf8.RuneCount(before[lineStart:]) + 1
	return e
}

func (d *decoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *decoder) hasPrefix(s string) bool {
	return len(d.data)-d.pos >= len(s) && string(d.data[d.pos:d.pos+len(s)]) == s
}

// value parses the value starting at d.pos (whitespace already skipped).
func (d *decoder) value(depth int) (pyval.Value, error) {
	if d.pos >= len(d.data) {
		return nil, d.errorf(d.pos, ErrSyntax, "Expecting value")
	}
	switch c := d.data[d.pos]; c {
	case '"':
		s, err := d.str()
		if err != nil {
			return nil, err
		}
		return pyval.Str(s), nil
	case '{':
		return d.object(depth)
	case '[':
		return d.array(depth)
	case 'n':
		if d.hasPrefix("null") {
			d.pos += 4
			return pyval.None, nil
		}
	case 't':
		if d.hasPrefix("true") {
			d.pos += 4
			return pyval.Bool(true), nil
		}
	case 'f':
		if d.hasPrefix("false") {
			d.pos += 5
			return pyval.Bool(false), nil
		}
	case 'N':
		if d.hasPrefix("NaN") {
			return d.constant(3, math.NaN())
		}
	case 'I':
		if d.hasPrefix("Infinity") {
			return d.constant(8, math.Inf(1))
		}
	case '-':
		if d.hasPrefix("-Infinity") {
			return d.constant(9, math.Inf(-1))
		}
		return d.number()
	default:
		if c >= '0' && c <= '9' {
			return d.number()
		}
	}
	return nil, d.errorf(d.pos, ErrSyntax, "Expecting value")
}

func (d *decoder) constant(n int, f float64) (pyval.Value, error) {
	if !d.o.allowNaN {
		return nil, d.errorf(d.pos, ErrNaN, "%s is not allowed", d.data[d.pos:d.pos+n])
	}
	d.pos += n
	return pyval.Float(f), nil
}

// number parses -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)? — the longest
// such prefix, as Python's scanner does; whatever follows is the caller's
// problem ("1." is the number 1 followed by extra data).
func (d *decoder) number() (pyval.Value, error) {
	start := d.pos
	p := d.pos
	if d.data[p] == '-' {
		p++
	}
	digits := func(p int) int {
		for p < len(d.data) && d.data[p] >= '0' && d.data[p] <= '9' {
			p++
		}
		return p
	}
	switch {
	case p < len(d.data) && d.data[p] == '0':
		p++
	case p < len(d.data) && d.data[p] >= '1' && d.data[p] <= '9':
		p = digits(p)
	default:
		return nil, d.errorf(start, ErrSyntax, "Expecting value")
	}
	isFloat := false
	if p+1 < len(d.data) && d.data[p] == '.' && isDigit(d.data[p+1]) {
		p = digits(p + 1)
		isFloat = true
	}
	if p < len(d.data) && (d.data[p] == 'e' || d.data[p] == 'E') {
		q := p + 1
		if q < len(d.data) && (d.data[q] == '+' || d.data[q] == '-') {
			q++
		}
		if q < len(d.data) && isDigit(d.data[q]) {
			p = digits(q)
			isFloat = true
		}
	}
	text := string(d.data[start:p])
	if !isFloat {
		i, err := pyval.ParseInt(text)
		if err != nil {
			// Only the digit limit can fail: the text is a valid integer.
			return nil, d.errorf(start, ErrRange, "integer %s exceeds the limit (%d digits) for integer string conversion", abbreviate(text), pyval.MaxIntDigits)
		}
		if i.IsBig() && d.o.bigFloat {
			f, _ := i.Float()
			d.pos = p
			return pyval.Float(f), nil
		}
		d.pos = p
		return i, nil
	}
	// Python's float() rounds huge values to ±inf and tiny ones to 0, and
	// so does ParseFloat apart from reporting ErrRange, which is ignored.
	f, err := strconv.ParseFloat(text, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return nil, d.errorf(start, ErrSyntax, "invalid number %s", abbreviate(text))
	}
	d.pos = p
	return pyval.Float(f), nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func abbreviate(s string) string {
	if len(s) > 40 {
		return s[:20] + "…" + s[len(s)-10:] + fmt.Sprintf(" (%d digits)", len(s))
	}
	return s
}

func (d *decoder) array(depth int) (pyval.Value, error) {
	if depth >= d.o.maxDepth {
		return nil, d.errorf(d.pos, ErrDepth, "nested more than %d levels", d.o.maxDepth)
	}
	d.pos++ // '['
	d.skipSpace()
	list := pyval.List{}
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		return list, nil
	}
	for {
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		list = append(list, v)
		d.skipSpace()
		if d.pos < len(d.data) {
			switch d.data[d.pos] {
			case ']':
				d.pos++
				return list, nil
			case ',':
				d.pos++
				d.skipSpace()
				continue
			}
		}
		return nil, d.errorf(d.pos, ErrSyntax, "Expecting ',' delimiter")
	}
}

func (d *decoder) object(depth int) (pyval.Value, error) {
	if depth >= d.o.maxDepth {
		return nil, d.errorf(d.pos, ErrDepth, "nested more than %d levels", d.o.maxDepth)
	}
	d.pos++ // '{'
	d.skipSpace()
	dict := &pyval.Dict{}
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		return dict, nil
	}
	for {
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return nil, d.errorf(d.pos, ErrSyntax, "Expecting property name enclosed in double quotes")
		}
		key, err := d.str()
		if err != nil {
			return nil, err
		}
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return nil, d.errorf(d.pos, ErrSyntax, "Expecting ':' delimiter")
		}
		d.pos++
		d.skipSpace()
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		// A repeated key keeps its first position and takes the new value,
		// as assigning into a Python dict does.
		dict.SetStr(key, v)
		d.skipSpace()
		if d.pos < len(d.data) {
			switch d.data[d.pos] {
			case '}':
				d.pos++
				return dict, nil
			case ',':
				d.pos++
				d.skipSpace()
				continue
			}
		}
		return nil, d.errorf(d.pos, ErrSyntax, "Expecting ',' delimiter")
	}
}

// str parses the string starting at the '"' at d.pos.
func (d *decoder) str() (string, error) {
	start := d.pos
	p := d.pos + 1
	// Fast path: no escapes, only printable ASCII or valid UTF-8.
	ascii := true
	for p < len(d.data) {
		c := d.data[p]
		if c == '"' {
			raw := d.data[start+1 : p]
			if !ascii && !utf8.Valid(raw) {
				break // let the slow path find the bad byte
			}
			d.pos = p + 1
			return string(raw), nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
		if c >= utf8.RuneSelf {
			ascii = false
		}
		p++
	}
	var buf []byte
	buf = append(buf, d.data[start+1:p]...)
	// The fast path may stop after an invalid UTF-8 run; restart the
	// careful scan where it began to stay simple.
	if !ascii {
		buf = buf[:0]
		p = start + 1
	}
	for {
		if p >= len(d.data) {
			return "", d.errorf(start, ErrSyntax, "Unterminated string starting at")
		}
		c := d.data[p]
		switch {
		case c == '"':
			d.pos = p + 1
			return string(buf), nil
		case c < 0x20:
			return "", d.errorf(p, ErrSyntax, "Invalid control character at")
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(d.data[p:])
			if r == utf8.RuneError && size == 1 {
				return "", d.errorf(p, ErrInvalidUTF8, "invalid UTF-8 byte %#x in string", c)
			}
			buf = append(buf, d.data[p:p+size]...)
			p += size
		case c != '\\':
			buf = append(buf, c)
			p++
		default:
			if p+1 >= len(d.data) {
				return "", d.errorf(start, ErrSyntax, "Unterminated string starting at")
			}
			esc := d.data[p+1]
			var out byte
			switch esc {
			case '"', '\\', '/':
				out = esc
			case 'b':
				out = '\b'
			case 'f':
				out = '\f'
			case 'n':
				out = '\n'
			case 'r':
				out = '\r'
			case 't':
				out = '\t'
			case 'u':
				r, n, err := d.unicodeEscape(p)
				if err != nil {
					return "", err
				}
				buf = utf8.AppendRune(buf, r)
				p += n
				continue
			default:
				return "", d.errorf(p, ErrSyntax, "Invalid \\escape")
			}
			buf = append(buf, out)
			p += 2
		}
	}
}

// unicodeEscape reads \uXXXX at p (and a following low-surrogate escape if
// the first is a high surrogate) and returns the rune and bytes consumed.
func (d *decoder) unicodeEscape(p int) (rune, int, error) {
	r, ok := hex4(d.data, p+2)
	if !ok {
		return 0, 0, d.errorf(p+1, ErrSyntax, "Invalid \\uXXXX escape")
	}
	if !utf16.IsSurrogate(r) {
		return r, 6, nil
	}
	if r < 0xdc00 && p+7 < len(d.data) && d.data[p+6] == '\\' && d.data[p+7] == 'u' {
		lo, ok := hex4(d.data, p+8)
		if !ok {
			return 0, 0, d.errorf(p+7, ErrSyntax, "Invalid \\uXXXX escape")
		}
		if lo >= 0xdc00 && lo <= 0xdfff {
			return utf16.DecodeRune(r, lo), 12, nil
		}
	}
	return 0, 0, d.errorf(p, ErrSurrogate, "lone surrogate \\u%04x cannot be held in UTF-8", r)
}

func hex4(b []byte, p int) (rune, bool) {
	if p+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[p : p+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
