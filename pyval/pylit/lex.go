package pylit

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sdpkit/sdpkit/pyval"
)

type tokKind int

const (
	tEOF     tokKind = iota
	tNewline         // a logical newline outside brackets
	tOp              // one of ( ) [ ] { } , : + - and "..."
	tName
	tInt
	tFloat
	tImag
	tStr
	tBytes
)

type token struct {
	kind tokKind
	off  int
	text string   // operator or name text; source text of numbers
	big  *big.Int // tInt
	f    float64  // tFloat, tImag
	s    string   // tStr, tBytes: the decoded value
}

func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "end of input"
	case tNewline:
		return "a newline"
	case tOp, tName:
		return strconv.Quote(t.text)
	case tInt, tFloat, tImag:
		return "number " + t.text
	case tStr:
		return "a str literal"
	case tBytes:
		return "a bytes literal"
	}
	return "a token"
}

// lexer splits Python source into the tokens a literal can contain. It
// tracks bracket depth because newlines only end a line outside brackets.
type lexer struct {
	src   string
	pos   int
	depth int // open brackets
}

func (lx *lexer) errorf(off int, sentinel error, format string, args ...any) error {
	return &Error{Offset: off, Msg: fmt.Sprintf(format, args...), Err: sentinel}
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentChar(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }

// next returns the next token.
func (lx *lexer) next() (token, error) {
	for {
		if lx.pos >= len(lx.src) {
			return token{kind: tEOF, off: lx.pos}, nil
		}
		c := lx.src[lx.pos]
		switch c {
		case ' ', '\t', '\f':
			lx.pos++
			continue
		case '#':
			for lx.pos < len(lx.src) && lx.src[lx.pos] != '\n' && lx.src[lx.pos] != '\r' {
				lx.pos++
			}
			continue
		case '\\':
			// Explicit line joining: a backslash must end the line.
			if n := newlineLen(lx.src, lx.pos+1); n > 0 {
				lx.pos += 1 + n
				continue
			}
			return token{}, lx.errorf(lx.pos, ErrSyntax, "unexpected character after line continuation character")
		case '\n', '\r':
			off := lx.pos
			lx.pos += newlineLen(lx.src, lx.pos)
			if lx.depth > 0 {
				continue
			}
			return token{kind: tNewline, off: off}, nil
		case 0:
			return token{}, lx.errorf(lx.pos, ErrSyntax, "source cannot contain NUL bytes")
		}
		break
	}
	start := lx.pos
	c := lx.src[start]
	switch {
	case c >= '0' && c <= '9':
		return lx.number()
	case c == '.':
		if start+1 < len(lx.src) && lx.src[start+1] >= '0' && lx.src[start+1] <= '9' {
			return lx.number()
		}
		if strings.HasPrefix(lx.src[start:], "...") {
			lx.pos += 3
			return token{kind: tOp, off: start, text: "..."}, nil
		}
		return token{}, lx.errorf(start, ErrSyntax, "unexpected '.'")
	case c == '\'' || c == '"':
		return lx.str(start, "")
	case isIdentStart(c):
		end := start
		for end < len(lx.src) && isIdentChar(lx.src[end]) {
			end++
		}
		name := lx.src[start:end]
		if end < len(lx.src) && (lx.src[end] == '\'' || lx.src[end] == '"') && isStringPrefix(name) {
			lx.pos = end
			return lx.str(start, strings.ToLower(name))
		}
		lx.pos = end
		return token{kind: tName, off: start, text: name}, nil
	}
	switch c {
	case '(', '[', '{':
		lx.depth++
	case ')', ']', '}':
		if lx.depth > 0 {
			lx.depth--
		}
	case ',', ':', '+', '-':
	default:
		r, _ := utf8.DecodeRuneInString(lx.src[start:])
		if r == utf8.RuneError {
			return token{}, lx.errorf(start, ErrSyntax, "invalid UTF-8 in source")
		}
		return token{}, lx.errorf(start, ErrSyntax, "unexpected character %q", r)
	}
	lx.pos++
	return token{kind: tOp, off: start, text: lx.src[start : start+1]}, nil
}

// newlineLen returns the length of the newline ("\n", "\r\n" or "\r") at
// s[i:], or 0.
func newlineLen(s string, i int) int {
	if i >= len(s) {
		return 0
	}
	switch s[i] {
	case '\n':
		return 1
	case '\r':
		if i+1 < len(s) && s[i+1] == '\n' {
			return 2
		}
		return 1
	}
	return 0
}

func isStringPrefix(p string) bool {
	switch strings.ToLower(p) {
	case "r", "u", "b", "br", "rb", "f", "fr", "rf":
		return true
	}
	return false
}

// digits scans digits of the given base separated by single underscores,
// starting at lx.pos; it returns how many digits it read. An underscore
// must sit between two digits.
func (lx *lexer) digits(isDigit func(byte) bool, leadingUnderscore bool) (int, error) {
	n := 0
	for lx.pos < len(lx.src) {
		c := lx.src[lx.pos]
		if c == '_' && (n > 0 || leadingUnderscore) {
			if lx.pos+1 >= len(lx.src) || !isDigit(lx.src[lx.pos+1]) {
				return n, lx.errorf(lx.pos, ErrSyntax, "invalid number: '_' must be followed by a digit")
			}
			lx.pos++
			continue
		}
		if !isDigit(c) {
			break
		}
		lx.pos++
		n++
	}
	return n, nil
}

func isDec(c byte) bool { return c >= '0' && c <= '9' }
func isHex(c byte) bool {
	return isDec(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}
func isOct(c byte) bool { return c >= '0' && c <= '7' }
func isBin(c byte) bool { return c == '0' || c == '1' }

func (lx *lexer) number() (token, error) {
	start := lx.pos
	src := lx.src
	if src[start] == '0' && start+1 < len(src) {
		var base int
		var isDigit func(byte) bool
		switch src[start+1] {
		case 'x', 'X':
			base, isDigit = 16, isHex
		case 'o', 'O':
			base, isDigit = 8, isOct
		case 'b', 'B':
			base, isDigit = 2, isBin
		}
		if base != 0 {
			lx.pos = start + 2
			n, err := lx.digits(isDigit, true)
			if err != nil {
				return token{}, err
			}
			if n == 0 || (lx.pos < len(src) && isIdentChar(src[lx.pos])) {
				return token{}, lx.errorf(start, ErrSyntax, "invalid base-%d literal %q", base, lx.word(start))
			}
			text := src[start:lx.pos]
			b, ok := new(big.Int).SetString(strings.ReplaceAll(text[2:], "_", ""), base)
			if !ok {
				return token{}, lx.errorf(start, ErrSyntax, "invalid base-%d literal %q", base, text)
			}
			return token{kind: tInt, off: start, text: text, big: b}, nil
		}
	}
	// Decimal int, float or imaginary.
	intDigits, err := lx.digits(isDec, false)
	if err != nil {
		return token{}, err
	}
	isFloat := false
	if lx.pos < len(src) && src[lx.pos] == '.' {
		isFloat = true
		lx.pos++
		if lx.pos < len(src) && isDec(src[lx.pos]) {
			if _, err := lx.digits(isDec, false); err != nil {
				return token{}, err
			}
		} else if intDigits == 0 {
			return token{}, lx.errorf(start, ErrSyntax, "invalid number %q", lx.word(start))
		}
	}
	if lx.pos < len(src) && (src[lx.pos] == 'e' || src[lx.pos] == 'E') {
		isFloat = true
		lx.pos++
		if lx.pos < len(src) && (src[lx.pos] == '+' || src[lx.pos] == '-') {
			lx.pos++
		}
		n, err := lx.digits(isDec, false)
		if err != nil {
			return token{}, err
		}
		if n == 0 {
			return token{}, lx.errorf(start, ErrSyntax, "invalid number %q: exponent has no digits", lx.word(start))
		}
	}
	imag := false
	if lx.pos < len(src) && (src[lx.pos] == 'j' || src[lx.pos] == 'J') {
		imag = true
		lx.pos++
	}
	if lx.pos < len(src) && (isIdentChar(src[lx.pos]) || src[lx.pos] == '.') {
		return token{}, lx.errorf(start, ErrSyntax, "invalid number %q", lx.word(start))
	}
	text := src[start:lx.pos]
	clean := strings.ReplaceAll(text, "_", "")
	if imag || isFloat {
		if imag {
			clean = clean[:len(clean)-1]
		}
		f, err := strconv.ParseFloat(clean, 64)
		if err != nil && !isRangeErr(err) { // overflow gives ±inf, as in Python
			return token{}, lx.errorf(start, ErrSyntax, "invalid number %q", text)
		}
		kind := tFloat
		if imag {
			kind = tImag
		}
		return token{kind: kind, off: start, text: text, f: f}, nil
	}
	if strings.Trim(clean, "0") != "" && clean[0] == '0' {
		return token{}, lx.errorf(start, ErrSyntax, "leading zeros in decimal integer literals are not permitted (use 0o for octal): %q", text)
	}
	if len(clean) > pyval.MaxIntDigits {
		// Python's compiler refuses these too, and decimal conversion of
		// longer ones costs quadratic time.
		return token{}, lx.errorf(start, ErrRange, "int literal of %d digits exceeds the limit (%d digits) for integer string conversion", len(clean), pyval.MaxIntDigits)
	}
	b, ok := new(big.Int).SetString(clean, 10)
	if !ok {
		return token{}, lx.errorf(start, ErrSyntax, "invalid number %q", text)
	}
	return token{kind: tInt, off: start, text: text, big: b}, nil
}

func isRangeErr(err error) bool {
	var ne *strconv.NumError
	return errors.As(err, &ne) && ne.Err == strconv.ErrRange
}

// word returns the identifier-like run at start, for error messages.
func (lx *lexer) word(start int) string {
	end := start
	for end < len(lx.src) && end-start < 40 && (isIdentChar(lx.src[end]) || lx.src[end] == '.') {
		end++
	}
	return lx.src[start:end]
}

// str scans a string literal whose quote is at lx.pos; prefix is its
// lower-cased prefix ("", "r", "b", "rb", …) starting at start.
func (lx *lexer) str(start int, prefix string) (token, error) {
	if strings.Contains(prefix, "f") {
		return token{}, lx.errorf(start, ErrUnsupported, "f-strings are not literals")
	}
	raw := strings.Contains(prefix, "r")
	isBytes := strings.Contains(prefix, "b")
	src := lx.src
	q := src[lx.pos]
	triple := strings.HasPrefix(src[lx.pos:], string([]byte{q, q, q}))
	if triple {
		lx.pos += 3
	} else {
		lx.pos++
	}
	var sb strings.Builder
	for {
		if lx.pos >= len(src) {
			return token{}, lx.errorf(start, ErrSyntax, "unterminated string literal")
		}
		c := src[lx.pos]
		switch {
		case c == q:
			if !triple {
				lx.pos++
				return lx.strToken(start, isBytes, sb.String()), nil
			}
			if strings.HasPrefix(src[lx.pos:], string([]byte{q, q, q})) {
				lx.pos += 3
				return lx.strToken(start, isBytes, sb.String()), nil
			}
			sb.WriteByte(c)
			lx.pos++
		case c == '\n' || c == '\r':
			if !triple {
				return token{}, lx.errorf(start, ErrSyntax, "unterminated string literal (newline inside a single-quoted string)")
			}
			lx.pos += newlineLen(src, lx.pos)
			sb.WriteByte('\n') // Python reads source with universal newlines
		case c == 0:
			return token{}, lx.errorf(lx.pos, ErrSyntax, "source cannot contain NUL bytes")
		case c == '\\':
			if raw {
				// The backslash stays, and protects the next character
				// (even a quote) from ending the literal.
				sb.WriteByte('\\')
				lx.pos++
				if lx.pos >= len(src) {
					continue
				}
				if n := newlineLen(src, lx.pos); n > 0 {
					sb.WriteByte('\n')
					lx.pos += n
					continue
				}
				if err := lx.literalChar(&sb, isBytes); err != nil {
					return token{}, err
				}
				continue
			}
			if err := lx.escape(&sb, isBytes); err != nil {
				return token{}, err
			}
		default:
			if err := lx.literalChar(&sb, isBytes); err != nil {
				return token{}, err
			}
		}
	}
}

func (lx *lexer) strToken(start int, isBytes bool, s string) token {
	if isBytes {
		return token{kind: tBytes, off: start, s: s}
	}
	return token{kind: tStr, off: start, s: s}
}

// literalChar copies one source character into sb.
func (lx *lexer) literalChar(sb *strings.Builder, isBytes bool) error {
	c := lx.src[lx.pos]
	if c < utf8.RuneSelf {
		sb.WriteByte(c)
		lx.pos++
		return nil
	}
	if isBytes {
		return lx.errorf(lx.pos, ErrSyntax, "bytes can only contain ASCII literal characters")
	}
	r, n := utf8.DecodeRuneInString(lx.src[lx.pos:])
	if r == utf8.RuneError && n == 1 {
		return lx.errorf(lx.pos, ErrSyntax, "invalid UTF-8 in string literal")
	}
	sb.WriteString(lx.src[lx.pos : lx.pos+n])
	lx.pos += n
	return nil
}

// escape decodes the backslash escape at lx.pos into sb.
func (lx *lexer) escape(sb *strings.Builder, isBytes bool) error {
	src := lx.src
	at := lx.pos
	lx.pos++ // the backslash
	if lx.pos >= len(src) {
		return lx.errorf(at, ErrSyntax, "unterminated string literal")
	}
	if n := newlineLen(src, lx.pos); n > 0 { // escaped newline: line joining
		lx.pos += n
		return nil
	}
	c := src[lx.pos]
	if v, ok := simpleEscape(c); ok {
		sb.WriteByte(v)
		lx.pos++
		return nil
	}
	switch {
	case isOct(c):
		v := 0
		for i := 0; i < 3 && lx.pos < len(src) && isOct(src[lx.pos]); i++ {
			v = v*8 + int(src[lx.pos]-'0')
			lx.pos++
		}
		if isBytes {
			sb.WriteByte(byte(v)) // Python keeps the low 8 bits of \400 … \777
			return nil
		}
		return lx.writeCodePoint(sb, at, rune(v))
	case c == 'x':
		return lx.hexEscape(sb, at, 2, isBytes)
	case (c == 'u' || c == 'U') && !isBytes:
		n := 4
		if c == 'U' {
			n = 8
		}
		return lx.hexEscape(sb, at, n, false)
	case c == 'N' && !isBytes:
		return lx.errorf(at, ErrUnsupported, `\N{name} escapes are not supported`)
	}
	// Unknown escapes keep the backslash, as Python does (with a warning).
	sb.WriteByte('\\')
	return lx.literalChar(sb, isBytes)
}

func simpleEscape(c byte) (byte, bool) {
	switch c {
	case '\\', '\'', '"':
		return c, true
	case 'a':
		return 7, true
	case 'b':
		return 8, true
	case 'f':
		return 12, true
	case 'n':
		return '\n', true
	case 'r':
		return '\r', true
	case 't':
		return '\t', true
	case 'v':
		return 11, true
	}
	return 0, false
}

func (lx *lexer) hexEscape(sb *strings.Builder, at, n int, isBytes bool) error {
	lx.pos++ // x, u or U
	src := lx.src
	if lx.pos+n > len(src) {
		return lx.errorf(at, ErrSyntax, `truncated \%c escape: expected %d hex digits`, src[at+1], n)
	}
	var v uint64
	for i := 0; i < n; i++ {
		c := src[lx.pos+i]
		if !isHex(c) {
			return lx.errorf(at, ErrSyntax, `truncated \%c escape: expected %d hex digits`, src[at+1], n)
		}
		d, _ := strconv.ParseUint(string(c), 16, 8)
		v = v<<4 | d
	}
	lx.pos += n
	if isBytes {
		sb.WriteByte(byte(v))
		return nil
	}
	if v > utf8.MaxRune {
		return lx.errorf(at, ErrSyntax, `illegal Unicode character in \U escape`)
	}
	return lx.writeCodePoint(sb, at, rune(v))
}

// writeCodePoint appends r as UTF-8. Surrogates cannot be held in a Go
// string; the surrogateescape range U+DC80 … U+DCFF becomes the raw byte
// it stands for, and the rest are refused.
func (lx *lexer) writeCodePoint(sb *strings.Builder, at int, r rune) error {
	if r >= 0xD800 && r < 0xE000 {
		if r >= 0xDC80 && r <= 0xDCFF {
			sb.WriteByte(byte(r - 0xDC00))
			return nil
		}
		return lx.errorf(at, ErrUnsupported, "lone surrogate U+%04X cannot be represented", r)
	}
	sb.WriteRune(r)
	return nil
}
