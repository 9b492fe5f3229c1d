package pylit

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/sdpkit/sdpkit/pyval"
)

// The expected reprs come from Python 3.11: repr(ast.literal_eval(in)).
var parseCases = []struct{ in, repr string }{
	{"None", "None"}, {"True", "True"}, {"False", "False"},
	{"0", "0"}, {"-1", "-1"}, {"+1", "1"}, {"000", "0"}, {"0_0", "0"}, {"1_000", "1000"},
	{"0x_1f", "31"}, {"0XFF", "255"}, {"0o17", "15"}, {"0b101", "5"}, {"-0x10", "-16"},
	{"18446744073709551615", "18446744073709551615"},
	{"-9223372036854775808", "-9223372036854775808"},
	{"18446744073709551616", "18446744073709551616"}, {"-9223372036854775809", "-9223372036854775809"},
	{"0x10000000000000000000000000000000000000000", "1461501637330902918203684832716283019655932542976"},
	{"-0b10000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000", "-1267650600228229401496703205376"},
	{"{18446744073709551616: 1, 18446744073709551616.0: 2}", "{18446744073709551616: 2}"},
	{"[1_000000000000000000000000000000]", "[1000000000000000000000000000000]"},
	{"1.5", "1.5"}, {"1.", "1.0"}, {"-.5", "-0.5"}, {".5e3", "500.0"}, {"1E+5", "100000.0"},
	{"1e400", "inf"}, {"-1e400", "-inf"}, {"1e-400", "0.0"}, {"5e-324", "5e-324"}, {"1e16", "1e+16"},
	{"1_000.5_0", "1000.5"}, {"00.5", "0.5"}, {"09.5", "9.5"}, {"0e0", "0.0"}, {"-0.0", "-0.0"},
	{"1.5j", "1.5j"}, {"2J", "2j"}, {"1E5J", "100000j"}, {".5j", "0.5j"}, {"-1j", "(-0-1j)"},
	{"1+2j", "(1+2j)"}, {"1-2j", "(1-2j)"}, {"-0.0+1j", "1j"}, {"-0.0-1j", "(-0-1j)"},
	{"(1)+(2j)", "(1+2j)"}, {"-1.5-0.5j", "(-1.5-0.5j)"}, {"1 \\\n+ 2j", "(1+2j)"},
	{"'a'", "'a'"}, {`"b"`, "'b'"}, {"'''x\ny'''", `'x\ny'`}, {"'''a\r\nb'''", `'a\nb'`}, {`"""q"""`, "'q'"},
	{`r'\n'`, `'\\n'`}, {`r'\''`, `"\\'"`}, {`b'\xff'`, `b'\xff'`}, {"B'a'", "b'a'"}, {`rb'\x'`, `b'\\x'`}, {`Rb'x'`, `b'x'`},
	{"u'é'", "'é'"}, {"U'x'", "'x'"}, {`'\x41\u00e9\U0001F600'`, "'Aé😀'"}, {`'\777'`, "'ǿ'"}, {`b'\777'`, `b'\xff'`},
	{`'\q'`, `'\\q'`}, {`b'\u1234'`, `b'\\u1234'`}, {`'\udcff'`, `'\udcff'`}, {"'a' 'b'", "'ab'"}, {"('a' \"b\"\n'c')", "'abc'"},
	{`'\0'`, `'\x00'`}, {`'\a\b\f\v'`, `'\x07\x08\x0c\x0b'`}, {"'a\\\nb'", "'ab'"}, {`"'"`, `"'"`}, {`'\''`, `"'"`},
	{`b'\n\t\r\x00'`, `b'\n\t\r\x00'`},
	{"[]", "[]"}, {"()", "()"}, {"{}", "{}"}, {"(1,)", "(1,)"}, {"[1,]", "[1]"}, {"{1:2,}", "{1: 2}"},
	{"((1))", "1"}, {"-(1)", "-1"}, {"(1, 'a', [b'', ()], {'k': None})", "(1, 'a', [b'', ()], {'k': None})"},
	{"{1: 'a', 1.0: 'b', True: 'c'}", "{1: 'c'}"}, {"{'b': 1, 'a': 2}", "{'b': 1, 'a': 2}"},
	{"\\\n1", "1"}, {"1 #c\n", "1"}, {"\n1\n", "1"}, {" \t1", "1"}, {"\f1", "1"}, {"[1,\n2]", "[1, 2]"},
	{"[ # comment\n 1 , ]", "[1]"},
	{"{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }     \n", "{'descr': '<f8', 'fortran_order': False, 'shape': (3,)}"},
}

func TestParse(t *testing.T) {
	for _, c := range parseCases {
		v, err := Parse(c.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		if got := Format(v); got != c.repr {
			t.Errorf("Parse(%q) = %s, want %s", c.in, got, c.repr)
		}
	}
}

func TestParseTypes(t *testing.T) {
	v, err := Parse("(1, 1.0, 1j, 'a', b'a', [None], {})")
	if err != nil {
		t.Fatal(err)
	}
	tup, ok := v.(pyval.Tuple)
	if !ok || len(tup) != 7 {
		t.Fatalf("got %#v", v)
	}
	kinds := []pyval.Kind{pyval.KindInt, pyval.KindFloat, pyval.KindComplex, pyval.KindStr, pyval.KindBytes, pyval.KindList, pyval.KindDict}
	for i, k := range kinds {
		if tup[i].Kind() != k {
			t.Errorf("item %d: kind %v, want %v", i, tup[i].Kind(), k)
		}
	}
	// Python's complex arithmetic keeps signed zeros.
	c, _ := Parse("-0.0-1j")
	if re := real(complex128(c.(pyval.Complex))); !math.Signbit(re) {
		t.Errorf("-0.0-1j: real part %v, want -0.0", re)
	}
	c, _ = Parse("-0.0+1j")
	if re := real(complex128(c.(pyval.Complex))); math.Signbit(re) {
		t.Errorf("-0.0+1j: real part %v, want +0.0", re)
	}
	// \udcXX stands for the raw byte, as pyval.StrRepr prints it.
	s, _ := Parse(`'a\udcff'`)
	if s != pyval.Str("a\xff") {
		t.Errorf(`'a\udcff' = %q`, s)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		in     string
		err    error
		offset int
		msg    string
	}{
		{"", ErrSyntax, 0, "expected a literal"},
		{"   ", ErrSyntax, 3, "expected a literal"},
		{"[1 2]", ErrSyntax, 3, "expected ',' or ']'"},
		{"(,)", ErrSyntax, 1, "expected a literal"},
		{"{1:}", ErrSyntax, 3, "expected a literal"},
		{"{1: 2 3}", ErrSyntax, 6, "expected ',' or '}'"},
		{"{'a' 1}", ErrSyntax, 5, "expected ':'"},
		{"1\n2", ErrSyntax, 2, "expected end of input"},
		{"1 2", ErrSyntax, 2, "expected end of input"},
		{"'a'\n'b'", ErrSyntax, 4, "expected end of input"},
		{"x", ErrSyntax, 0, "name x"},
		{"inf", ErrSyntax, 0, "not a Python literal"},
		{"[1, nan]", ErrSyntax, 4, "not a Python literal"},
		{"--1", ErrSyntax, 0, "unary"},
		{"1+2", ErrSyntax, 1, "imaginary"},
		{"1+-2j", ErrSyntax, 1, "imaginary"},
		{"1j+2j", ErrSyntax, 0, "int or float"},
		{"True+1j", ErrSyntax, 0, "int or float"},
		{"1+2j+3j", ErrSyntax, 4, "only one"},
		{"-'a'", ErrSyntax, 0, "unary"},
		{"007", ErrSyntax, 0, "leading zeros"},
		{"09", ErrSyntax, 0, "leading zeros"},
		{"1__0", ErrSyntax, 1, "'_'"},
		{"1_", ErrSyntax, 1, "'_'"},
		{"0x", ErrSyntax, 0, "base-16"},
		{"0b2", ErrSyntax, 0, "base-2"},
		{"0o8", ErrSyntax, 0, "base-8"},
		{"0x1j", ErrSyntax, 0, "base-16"},
		{"1e", ErrSyntax, 0, "exponent"},
		{"1e+", ErrSyntax, 0, "exponent"},
		{"1j_", ErrSyntax, 0, "invalid number"},
		{"1if", ErrSyntax, 0, "invalid number"},
		{"1..5", ErrSyntax, 0, "invalid number"},
		{"'abc", ErrSyntax, 0, "unterminated"},
		{"'a\nb'", ErrSyntax, 0, "unterminated"},
		{`r'\'`, ErrSyntax, 0, "unterminated"},
		{"'''abc''", ErrSyntax, 0, "unterminated"},
		{`'\x4'`, ErrSyntax, 1, `\x`},
		{`'\u12'`, ErrSyntax, 1, `\u`},
		{`'\U00110000'`, ErrSyntax, 1, "illegal Unicode"},
		{"b'é'", ErrSyntax, 2, "ASCII"},
		{"'a' b'b'", ErrSyntax, 4, "cannot mix"},
		{"'\xff'", ErrSyntax, 1, "UTF-8"},
		{"\x001", ErrSyntax, 0, "NUL"},
		{"é", ErrSyntax, 0, "unexpected character"},
		{"1 \\ 2", ErrSyntax, 2, "continuation"},
		{"[1", ErrSyntax, 2, "expected ',' or ']'"},
		{"1*2", ErrSyntax, 1, "unexpected character"},
		{"[" + strings.Repeat("1", pyval.MaxIntDigits+1) + "]", ErrRange, 1, "exceeds the limit"},
		{"-1_" + strings.Repeat("0", pyval.MaxIntDigits), ErrRange, 1, "exceeds the limit"},
		{"[0, " + strings.Repeat("1", 400) + "+1j]", ErrRange, 4, "too large"},
		{"{1, 2}", ErrUnsupported, 0, "sets"},
		{"{1}", ErrUnsupported, 0, "sets"},
		{"set()", ErrUnsupported, 0, "sets"},
		{"frozenset([1])", ErrUnsupported, 0, "sets"},
		{"dict(a=1)", ErrUnsupported, 0, "function call"},
		{"...", ErrUnsupported, 0, "Ellipsis"},
		{"f'x'", ErrUnsupported, 0, "f-strings"},
		{`'\N{DASH}'`, ErrUnsupported, 1, `\N`},
		{`'\ud800'`, ErrUnsupported, 1, "surrogate"},
		{"{[1]: 2}", pyval.ErrUnhashable, 1, "unhashable"},
		{"{{}: 2}", pyval.ErrUnhashable, 1, "unhashable"},
		{strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1), ErrDepth, MaxDepth, "nesting"},
		{strings.Repeat("-", MaxDepth+1) + "1", ErrDepth, MaxDepth, "nesting"},
	}
	for _, c := range cases {
		v, err := Parse(c.in)
		if err == nil {
			t.Errorf("Parse(%q) = %s, want error", c.in, Format(v))
			continue
		}
		var pe *Error
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%q): error %v is not a *pylit.Error", c.in, err)
			continue
		}
		if !errors.Is(err, c.err) {
			t.Errorf("Parse(%q): error %v, want %v", c.in, err, c.err)
		}
		if pe.Offset != c.offset {
			t.Errorf("Parse(%q): offset %d, want %d (%v)", c.in, pe.Offset, c.offset, err)
		}
		if !strings.Contains(err.Error(), c.msg) || !strings.HasPrefix(err.Error(), "pylit: offset ") {
			t.Errorf("Parse(%q): error %q, want it to mention %q", c.in, err, c.msg)
		}
	}
}

func TestDepthLimit(t *testing.T) {
	// MaxDepth levels parse, and Format prints them back in full.
	in := strings.Repeat("[", MaxDepth) + "1" + strings.Repeat("]", MaxDepth)
	v, err := Parse(in)
	if err != nil {
		t.Fatal(err)
	}
	if got := Format(v); got != in {
		t.Errorf("Format of %d nested lists = %.40s…, want the input back", MaxDepth, got)
	}
	// Deep input far beyond the limit fails fast instead of overflowing.
	if _, err := Parse(strings.Repeat("(", 1_000_000)); !errors.Is(err, ErrDepth) {
		t.Errorf("a million '(' gave %v, want ErrDepth", err)
	}
}

func TestFormatRoundTrip(t *testing.T) {
	d := pyval.StrDict("a", pyval.IntOf(-3), "b", pyval.List{pyval.Float(0.1), pyval.Complex(complex(-1.5, 2))})
	_ = d.Set(pyval.Tuple{pyval.Bytes("\x00'\""), pyval.None}, pyval.Str("é\n\"'\\\x7f\u2028\U0001F600\xfe"))
	vals := []pyval.Value{
		pyval.None, pyval.Bool(true), pyval.UintOf(math.MaxUint64), pyval.IntOf(math.MinInt64),
		pyval.Float(5e-324), pyval.Float(math.Copysign(0, -1)), pyval.Float(1e22), pyval.Complex(complex(0, -1)),
		pyval.Tuple{}, pyval.Tuple{pyval.IntOf(1)}, pyval.List{}, d,
	}
	for _, v := range vals {
		s := Format(v)
		w, err := Parse(s)
		if err != nil {
			t.Errorf("Parse(Format(%#v)) = Parse(%s): %v", v, s, err)
			continue
		}
		if !pyval.Equal(v, w) {
			t.Errorf("round trip of %s gave %s", s, Format(w))
		}
	}
}

// hasNonFinite reports whether v holds an inf or nan, which Python prints
// as names that are not literals.
func hasNonFinite(v pyval.Value) bool {
	switch x := v.(type) {
	case pyval.Float:
		return math.IsInf(float64(x), 0) || math.IsNaN(float64(x))
	case pyval.Complex:
		return hasNonFinite(pyval.Float(real(x))) || hasNonFinite(pyval.Float(imag(x)))
	case pyval.Tuple:
		for _, e := range x {
			if hasNonFinite(e) {
				return true
			}
		}
	case pyval.List:
		for _, e := range x {
			if hasNonFinite(e) {
				return true
			}
		}
	case *pyval.Dict:
		for _, it := range x.Items() {
			if hasNonFinite(it.Key) || hasNonFinite(it.Value) {
				return true
			}
		}
	}
	return false
}

func FuzzParse(f *testing.F) {
	for _, c := range parseCases {
		f.Add(c.in)
	}
	f.Add(`{'descr': [('a', '|u1'), ('', '|V3'), ('b', '<i4', (3, 3))], 'fortran_order': True, 'shape': (2, 3), }`)
	f.Add("[(1, 2.5e-3, -3j, 'x\\u1234', b'\\x00'), {None: [True, False]}]")
	f.Fuzz(func(t *testing.T, s string) {
		v, err := Parse(s)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || pe.Offset < 0 || pe.Offset > len(s) {
				t.Fatalf("Parse(%q): bad error %v", s, err)
			}
			return
		}
		if hasNonFinite(v) {
			return
		}
		out := Format(v)
		w, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(%q) = %s, which does not parse: %v", s, out, err)
		}
		if !pyval.Equal(v, w) {
			t.Fatalf("Parse(%q) = %s, re-parsed as %s", s, out, Format(w))
		}
	})
}
