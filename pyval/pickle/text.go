package pickle

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sdpkit/sdpkit/pyval"
)

// Protocol 0 writes numbers and strings as text lines. These helpers parse
// them the way CPython's unpickler does.

// parseDecimal parses an optionally signed decimal integer. tooBig reports
// a well-formed integer of more than pyval.MaxIntDigits digits, which
// Python's int() refuses.
func parseDecimal(b []byte) (v pyval.Int, tooBig, ok bool) {
	s := string(b)
	digits := strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+")
	if digits == "" {
		return pyval.Int{}, false, false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return pyval.Int{}, false, false
		}
	}
	s = strings.TrimPrefix(s, "+")
	v, err := pyval.ParseInt(s)
	if err != nil {
		return pyval.Int{}, true, false
	}
	return v, false, true
}

// parseFloat parses a FLOAT argument: Python's repr of a float, including
// inf and nan. Overflow is an error, as in Python.
func parseFloat(b []byte) (float64, error) {
	s := string(b)
	// strconv also takes hex floats and underscores, which Python's parser
	// here does not.
	body := strings.TrimLeft(s, "+-")
	switch strings.ToLower(body) {
	case "inf", "infinity":
		if strings.HasPrefix(s, "-") {
			return math.Inf(-1), nil
		}
		return math.Inf(1), nil
	case "nan":
		return math.NaN(), nil
	}
	if len(s)-len(body) > 1 || body == "" {
		return 0, fmt.Errorf("invalid float literal %.40q", s)
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !(c >= '0' && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
			return 0, fmt.Errorf("invalid float literal %.40q", s)
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) && math.IsInf(f, 0) {
			return 0, fmt.Errorf("float %.40q too large", s)
		}
		if !errors.Is(err, strconv.ErrRange) {
			return 0, fmt.Errorf("invalid float literal %.40q", s)
		}
	}
	return f, nil
}

// unquoteString decodes a STRING argument: a quoted Python 2 str literal
// with backslash escapes (codecs.escape_decode).
func unquoteString(b []byte) ([]byte, error) {
	if len(b) < 2 || b[0] != b[len(b)-1] || (b[0] != '\'' && b[0] != '"') {
		return nil, errors.New("the STRING opcode argument must be quoted")
	}
	b = b[1 : len(b)-1]
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i >= len(b) {
			return nil, errors.New("trailing \\ in string")
		}
		switch c = b[i]; c {
		case '\n':
		case '\\', '\'', '"':
			out = append(out, c)
		case 'a':
			out = append(out, '\a')
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'v':
			out = append(out, '\v')
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v := int(c - '0')
			for k := 0; k < 2 && i+1 < len(b) && b[i+1] >= '0' && b[i+1] <= '7'; k++ {
				i++
				v = v*8 + int(b[i]-'0')
			}
			out = append(out, byte(v)) // like Python, \777 wraps to one byte
		case 'x':
			if i+2 >= len(b) {
				return nil, fmt.Errorf("invalid \\x escape at position %d", i-1)
			}
			hi, ok1 := unhex(b[i+1])
			lo, ok2 := unhex(b[i+2])
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("invalid \\x escape at position %d", i-1)
			}
			out = append(out, hi<<4|lo)
			i += 2
		default:
			// Unknown escapes stay as written.
			out = append(out, '\\', c)
		}
	}
	return out, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// rawUnicodeEscape decodes an UNICODE argument (Python's
// raw-unicode-escape codec): bytes are latin1 code points, and \uXXXX or
// \UXXXXXXXX after an odd number of backslashes is an escape.
func rawUnicodeEscape(b []byte) (string, error) {
	var sb strings.Builder
	sb.Grow(len(b))
	for i := 0; i < len(b); {
		c := b[i]
		if c != '\\' {
			sb.WriteRune(rune(c))
			i++
			continue
		}
		j := i
		for j < len(b) && b[j] == '\\' {
			j++
		}
		run := j - i
		if run%2 == 0 || j >= len(b) || (b[j] != 'u' && b[j] != 'U') {
			sb.WriteString(strings.Repeat("\\", run))
			i = j
			continue
		}
		sb.WriteString(strings.Repeat("\\", run-1))
		n := 4
		if b[j] == 'U' {
			n = 8
		}
		if j+1+n > len(b) {
			return "", fmt.Errorf("%w: truncated \\uXXXX escape", ErrInvalid)
		}
		var r rune
		for _, h := range b[j+1 : j+1+n] {
			d, ok := unhex(h)
			if !ok {
				return "", fmt.Errorf("%w: truncated \\uXXXX escape", ErrInvalid)
			}
			r = r<<4 | rune(d)
		}
		if r > utf8.MaxRune || r < 0 {
			return "", fmt.Errorf("%w: \\Uxxxxxxxx out of range", ErrInvalid)
		}
		if err := appendCodePoint(&sb, r); err != nil {
			return "", err
		}
		i = j + 1 + n
	}
	return sb.String(), nil
}

// appendCodePoint writes r as UTF-8. pyval.Str holds a Python str the way
// Python's "surrogateescape" encodes it, so a lone surrogate U+DC80…U+DCFF
// becomes the single byte it escapes; other lone surrogates have no such
// form and are refused.
func appendCodePoint(sb *strings.Builder, r rune) error {
	if r >= 0xD800 && r <= 0xDFFF {
		if r < 0xDC80 || r > 0xDCFF {
			return fmt.Errorf("%w: str with lone surrogate U+%04X cannot be held by pyval.Str", ErrUnsupported, r)
		}
		sb.WriteByte(byte(r - 0xDC00))
		return nil
	}
	sb.WriteRune(r)
	return nil
}

// decodeUTF8 decodes a BINUNICODE argument as Python does, with the
// "surrogatepass" error handler: UTF-8 in which lone surrogates may appear
// in their three-byte form (held as by appendCodePoint).
func decodeUTF8(b []byte) (string, error) {
	if utf8.Valid(b) {
		return string(b), nil
	}
	var sb strings.Builder
	sb.Grow(len(b))
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			if i+2 < len(b) && b[i] == 0xED && b[i+1] >= 0xA0 && b[i+1] <= 0xBF && b[i+2] >= 0x80 && b[i+2] <= 0xBF {
				r = 0xD000 | rune(b[i+1]&0x3F)<<6 | rune(b[i+2]&0x3F)
				if err := appendCodePoint(&sb, r); err != nil {
					return "", err
				}
				i += 3
				continue
			}
			return "", fmt.Errorf("%w: invalid UTF-8 in string at byte %d", ErrInvalid, i)
		}
		sb.WriteRune(r)
		i += n
	}
	return sb.String(), nil
}

// latin1String decodes latin1 bytes.
func latin1String(b []byte) string {
	ascii := true
	for _, c := range b {
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return string(b)
	}
	buf := make([]byte, 0, len(b)*2)
	for _, c := range b {
		buf = utf8.AppendRune(buf, rune(c))
	}
	return string(buf)
}

// latin1Bytes encodes a str as latin1, failing on code points above 255
// (and on the invalid UTF-8 that stands for a surrogate escape). Code points
// up to 255 are one byte, or two bytes starting 0xC2 or 0xC3, in UTF-8.
func latin1Bytes(s string) ([]byte, bool) {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c < utf8.RuneSelf:
			out = append(out, c)
		case (c == 0xC2 || c == 0xC3) && i+1 < len(s) && s[i+1]&0xC0 == 0x80:
			out = append(out, c<<6|s[i+1]&0x3F)
			i++
		default:
			return nil, false
		}
	}
	return out, true
}
