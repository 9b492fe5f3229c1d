package pyval

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// FloatRepr formats f exactly as Python's repr(float): the shortest digits
// that round-trip, fixed notation for exponents -4 … 15 (with ".0" for
// integral values), otherwise scientific with a signed two-digit-minimum
// exponent ("1e+16", "5e-324"), and "inf", "-inf", "nan".
func FloatRepr(f float64) string { return floatRepr(f, true) }

func floatRepr(f float64, forceDot bool) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // e.g. "-1.2345e+06"
	neg := false
	if e[0] == '-' {
		neg = true
		e = e[1:]
	}
	mant, expS, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expS)
	digits := strings.Replace(mant, ".", "", 1)
	var out string
	if exp >= -4 && exp < 16 {
		if exp >= 0 {
			if len(digits) <= exp+1 {
				out = digits + strings.Repeat("0", exp+1-len(digits))
				if forceDot {
					out += ".0"
				}
			} else {
				out = digits[:exp+1] + "." + digits[exp+1:]
			}
		} else {
			out = "0." + strings.Repeat("0", -exp-1) + digits
		}
	} else {
		out = digits[:1]
		if len(digits) > 1 {
			out += "." + digits[1:]
		}
		sign := "+"
		if exp < 0 {
			sign = "-"
			exp = -exp
		}
		out += fmt.Sprintf("e%s%02d", sign, exp)
	}
	if neg {
		out = "-" + out
	}
	return out
}

// ComplexRepr formats c as Python's repr(complex): "(1.5+2j)", "3j",
// "(-0-1j)", "(inf+nanj)".
func ComplexRepr(c complex128) string {
	re, im := real(c), imag(c)
	imS := floatRepr(im, false)
	if re == 0 && !math.Signbit(re) {
		return imS + "j"
	}
	if !strings.HasPrefix(imS, "-") {
		imS = "+" + imS
	}
	return "(" + floatRepr(re, false) + imS + "j)"
}

// Repr returns the Python repr of v: Python literal syntax for None, bools,
// numbers, str, bytes, tuples, lists and dicts (what ast.literal_eval and
// the pylit package read back), and a readable form for numpy values.
func Repr(v Value) string {
	var sb strings.Builder
	writeRepr(&sb, v, 0)
	return sb.String()
}

func writeRepr(sb *strings.Builder, v Value, depth int) {
	if depth > 100 {
		sb.WriteString("...")
		return
	}
	switch x := v.(type) {
	case nil:
		sb.WriteString("<nil>")
	case NoneType:
		sb.WriteString("None")
	case Bool:
		if x {
			sb.WriteString("True")
		} else {
			sb.WriteString("False")
		}
	case Int:
		sb.WriteString(x.String())
	case Float:
		sb.WriteString(FloatRepr(float64(x)))
	case Complex:
		sb.WriteString(ComplexRepr(complex128(x)))
	case Str:
		sb.WriteString(StrRepr(string(x)))
	case Bytes:
		sb.WriteString(BytesRepr(x))
	case Tuple:
		sb.WriteByte('(')
		for i, e := range x {
			if i > 0 {
				sb.WriteString(", ")
			}
			writeRepr(sb, e, depth+1)
		}
		if len(x) == 1 {
			sb.WriteByte(',')
		}
		sb.WriteByte(')')
	case List:
		sb.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				sb.WriteString(", ")
			}
			writeRepr(sb, e, depth+1)
		}
		sb.WriteByte(']')
	case *Dict:
		sb.WriteByte('{')
		for i, it := range x.Items() {
			if i > 0 {
				sb.WriteString(", ")
			}
			writeRepr(sb, it.Key, depth+1)
			sb.WriteString(": ")
			writeRepr(sb, it.Value, depth+1)
		}
		sb.WriteByte('}')
	case *NDArray:
		sb.WriteString("array(")
		if x.DType.Kind == 'M' || x.DType.Kind == 'm' || x.Len() > 1000 {
			fmt.Fprintf(sb, "<%d elements>", x.Len())
		} else if l, err := x.ToList(); err == nil {
			writeRepr(sb, l, depth+1)
		} else {
			sb.WriteString("<unreadable>")
		}
		sb.WriteString(", dtype=")
		if x.DType.Fields != nil {
			sb.WriteString(x.DType.String())
		} else {
			sb.WriteString(StrRepr(x.DType.String()))
		}
		fmt.Fprintf(sb, ", shape=%s)", Repr(shapeTuple(x.Shape)))
	case *Scalar:
		item, err := x.Item()
		if s, ok := item.(*Scalar); err == nil && !ok {
			_ = s
			fmt.Fprintf(sb, "numpy.%s(", scalarTypeName(x.DType))
			writeRepr(sb, item, depth+1)
			sb.WriteByte(')')
		} else {
			fmt.Fprintf(sb, "numpy.%s(%x)", scalarTypeName(x.DType), x.Data)
		}
	case Timestamp:
		fmt.Fprintf(sb, "Timestamp(seconds=%d, nanoseconds=%d)", x.Seconds, x.Nanoseconds)
	default:
		fmt.Fprintf(sb, "<%T>", v)
	}
}

func shapeTuple(shape []int) Tuple {
	t := make(Tuple, len(shape))
	for i, n := range shape {
		t[i] = IntOf(int64(n))
	}
	return t
}

func scalarTypeName(d DType) string {
	if d.Fields != nil {
		return "void"
	}
	switch d.Kind {
	case 'b':
		return "bool_"
	case 'i':
		return fmt.Sprintf("int%d", 8*d.Size)
	case 'u':
		return fmt.Sprintf("uint%d", 8*d.Size)
	case 'f':
		if d.Size > 8 {
			return "longdouble"
		}
		return fmt.Sprintf("float%d", 8*d.Size)
	case 'c':
		if d.Size > 16 {
			return "clongdouble"
		}
		return fmt.Sprintf("complex%d", 8*d.Size)
	case 'U':
		return "str_"
	case 'S':
		return "bytes_"
	case 'V':
		return "void"
	case 'M':
		return "datetime64"
	case 'm':
		return "timedelta64"
	}
	return "generic"
}

// StrRepr quotes s as Python's repr(str) does.
func StrRepr(s string) string {
	quote := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		quote = '"'
	}
	var sb strings.Builder
	sb.WriteByte(quote)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			// Invalid UTF-8: Python would hold a surrogate escape.
			fmt.Fprintf(&sb, "\\udc%02x", s[i])
			i++
			continue
		}
		i += n
		switch {
		case r == '\\' || r == rune(quote):
			sb.WriteByte('\\')
			sb.WriteRune(r)
		case r == '\n':
			sb.WriteString(`\n`)
		case r == '\r':
			sb.WriteString(`\r`)
		case r == '\t':
			sb.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&sb, `\x%02x`, r)
		case r < 0x80 || pyPrintable(r):
			sb.WriteRune(r)
		case r <= 0xff:
			fmt.Fprintf(&sb, `\x%02x`, r)
		case r <= 0xffff:
			fmt.Fprintf(&sb, `\u%04x`, r)
		default:
			fmt.Fprintf(&sb, `\U%08x`, r)
		}
	}
	sb.WriteByte(quote)
	return sb.String()
}

// pyPrintable approximates Python's str.isprintable for one non-ASCII
// character: not in categories Cc, Cf, Cs, Co, Cn, Zl, Zp, Zs.
func pyPrintable(r rune) bool {
	if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Cs, unicode.Co, unicode.Zl, unicode.Zp, unicode.Zs) {
		return false
	}
	return unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S)
}

// BytesRepr quotes b as Python's repr(bytes) does: b'…'.
func BytesRepr(b []byte) string {
	quote := byte('\'')
	if bytesIndex(b, '\'') && !bytesIndex(b, '"') {
		quote = '"'
	}
	var sb strings.Builder
	sb.WriteString("b")
	sb.WriteByte(quote)
	for _, c := range b {
		switch {
		case c == '\\' || c == quote:
			sb.WriteByte('\\')
			sb.WriteByte(c)
		case c == '\n':
			sb.WriteString(`\n`)
		case c == '\r':
			sb.WriteString(`\r`)
		case c == '\t':
			sb.WriteString(`\t`)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&sb, `\x%02x`, c)
		default:
			sb.WriteByte(c)
		}
	}
	sb.WriteByte(quote)
	return sb.String()
}

func bytesIndex(b []byte, c byte) bool {
	for _, x := range b {
		if x == c {
			return true
		}
	}
	return false
}
