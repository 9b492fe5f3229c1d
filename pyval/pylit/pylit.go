// Package pylit reads and writes Python literal text: the subset of Python
// expressions that ast.literal_eval evaluates, as far as sdpkit's value
// model (package pyval) can hold it. It is used for .npy headers and for
// values that Python tools print with repr().
//
// Parse accepts:
//
//   - None, True, False;
//   - ints in decimal, hex (0x), octal (0o) and binary (0b), with single
//     underscores between digits, optionally negated, of any size (decimal
//     ones up to pyval.MaxIntDigits digits, as Python's compiler);
//   - floats (1.5, 1., .5, 1e-5, 1_000.5); inf and nan are not literals in
//     Python and are refused, but a literal too large for a float64 gives
//     inf, as in Python;
//   - complex numbers: an imaginary literal (2j, 1.5e3J) optionally added to
//     or subtracted from a real one (1+2j, -1.5-0.5j), with Python's
//     arithmetic (so -0.0+1j has a real part of +0.0);
//   - str literals in single, double or triple quotes with the prefixes u,
//     r, b, rb/br (any case), every Python escape except \N{name}, and
//     adjacent literals concatenated ('a' 'b' == 'ab');
//   - tuples, lists and dicts, nested, with trailing commas, newlines inside
//     brackets, comments, and backslash line continuations.
//
// Python values that pyval cannot hold are refused with ErrUnsupported:
// sets and set(), Ellipsis, f-strings, \N{name} escapes, and lone
// surrogates. The exception is \udc80 … \udcff, which Python's
// surrogateescape error handler uses for undecodable bytes: those become
// the raw bytes 0x80 … 0xff in the Go string, which is how pyval.StrRepr
// prints invalid UTF-8, so Format and Parse round-trip such strings.
//
// Nesting is limited to MaxDepth levels so that hostile input cannot
// exhaust the stack.
package pylit

import (
	"errors"
	"fmt"

	"github.com/sdpkit/sdpkit/pyval"
)

// MaxDepth is the deepest nesting of brackets and unary signs that Parse
// accepts. It matches the depth to which pyval.Repr prints containers, so
// anything Parse returns can be formatted and parsed again.
const MaxDepth = 100

// Sentinel errors; every error from Parse is an *Error wrapping one of them
// (or pyval.ErrUnhashable for a dict key such as a list).
var (
	// ErrSyntax means the text is not a Python literal.
	ErrSyntax = errors.New("invalid Python literal")
	// ErrUnsupported means the text is a Python literal that pyval cannot
	// represent (a set, Ellipsis, a \N{…} escape, a lone surrogate) or a
	// Python expression that ast.literal_eval refuses (f-strings, calls).
	ErrUnsupported = errors.New("unsupported Python literal")
	// ErrRange means a decimal int literal has more than
	// pyval.MaxIntDigits digits, or an int is too large to convert to float
	// in a complex expression.
	ErrRange = errors.New("number out of range")
	// ErrDepth means the literal nests more than MaxDepth levels.
	ErrDepth = errors.New("literal nested too deeply")
)

// Error is a parse error at a byte offset of the input.
type Error struct {
	// Offset is the byte offset in the input where the problem was found.
	Offset int
	// Msg says what was found and what was expected.
	Msg string
	// Err is the sentinel (ErrSyntax, ErrUnsupported, ErrRange, ErrDepth or
	// pyval.ErrUnhashable).
	Err error
}

func (e *Error) Error() string {
	return fmt.Sprintf("pylit: offset %d: %s", e.Offset, e.Msg)
}

// Unwrap returns the sentinel error.
func (e *Error) Unwrap() error { return e.Err }

// Parse evaluates the Python literal s as ast.literal_eval would and
// returns it as a pyval.Value: None, Bool, Int, Float, Complex, Str, Bytes,
// Tuple, List or *pyval.Dict. Leading and trailing whitespace, blank lines
// and comments are allowed around the literal.
func Parse(s string) (pyval.Value, error) {
	p := &parser{lx: lexer{src: s}}
	if err := p.advance(); err != nil {
		return nil, err
	}
	for p.tok.kind == tNewline {
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
	if p.tok.kind == tEOF {
		return nil, p.errorf(p.tok.off, ErrSyntax, "expected a literal, found end of input")
	}
	n, err := p.expr()
	if err != nil {
		return nil, err
	}
	for p.tok.kind == tNewline {
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
	if p.tok.kind != tEOF {
		return nil, p.errorf(p.tok.off, ErrSyntax, "expected end of input after the literal, found %s", p.tok.describe())
	}
	return p.eval(n)
}

// Format returns the Python literal text of v, pyval.Repr(v). For the
// values Parse returns, Parse(Format(v)) is Equal to v, except that floats
// and complex numbers holding inf or nan print as inf/nan, which are not
// literals.
func Format(v pyval.Value) string { return pyval.Repr(v) }
