package encoding

import (
	"errors"
	"math"
	"strconv"
	"strings"
)

var errComplexSyntax = errors.New("complex() arg is a malformed string")

// parsePyComplex parses s as Python's complex(str) does: optional
// whitespace and one pair of parentheses around a real part, an imaginary
// part ending in j or J, or both joined by + or -; the numbers may be inf,
// infinity or nan in any case. It reads back pyval.ComplexRepr's output.
func parsePyComplex(s string) (complex128, error) {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '(' && s[len(s)-1] == ')' {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	if s == "" {
		return 0, errComplexSyntax
	}
	last := s[len(s)-1]
	if last != 'j' && last != 'J' {
		re, err := pyFloat(s)
		return complex(re, 0), err
	}
	body := s[:len(s)-1]
	// The imaginary part starts at the last sign that is not an exponent's.
	split := -1
	for i := len(body) - 1; i > 0; i-- {
		if (body[i] == '+' || body[i] == '-') && body[i-1] != 'e' && body[i-1] != 'E' {
			split = i
			break
		}
	}
	var re float64
	imText := body
	if split > 0 {
		var err error
		if re, err = pyFloat(body[:split]); err != nil {
			return 0, err
		}
		imText = body[split:]
	}
	var im float64
	switch imText {
	case "", "+":
		im = 1
	case "-":
		im = -1
	default:
		var err error
		if im, err = pyFloat(imText); err != nil {
			return 0, err
		}
	}
	return complex(re, im), nil
}

// pyFloat parses one real number as Python's float() would inside
// complex(): decimal text, inf, infinity, nan; no hex, no underscores, no
// inner whitespace.
func pyFloat(s string) (float64, error) {
	if s == "" || strings.ContainsAny(s, "xXpP_ \t\n") {
		return 0, errComplexSyntax
	}
	if unsigned := strings.TrimLeft(s, "+-"); len(s)-len(unsigned) <= 1 && strings.EqualFold(unsigned, "nan") {
		return math.NaN(), nil // Go's ParseFloat takes no sign on nan
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			return f, nil // Python overflows to inf and underflows to 0 too
		}
		return 0, errComplexSyntax
	}
	return f, nil
}
