// Package pyjson writes pyval values as JSON byte for byte the way Python's
// json module does, and reads JSON (and YAML) into pyval keeping what Python
// keeps.
//
// # Writing
//
// Marshal and Append reproduce json.dumps. The options mirror its keyword
// arguments and default to the same values:
//
//	json.dumps(v)                                 Marshal(v)
//	json.dumps(v, indent=2)                       Marshal(v, Indent(2))
//	json.dumps(v, sort_keys=True)                 Marshal(v, SortKeys())
//	json.dumps(v, ensure_ascii=False)             Marshal(v, EnsureASCII(false))
//	json.dumps(v, separators=(",", ":"))          Marshal(v, Separators(",", ":"))
//	json.dumps(v, allow_nan=False)                Marshal(v, AllowNaN(false))
//	json.dumps(v, skipkeys=True)                  Marshal(v, SkipKeys())
//	json.dumps(v, default=f)                      Marshal(v, Default(f))
//
// Canonical is the SDP configuration database's encoding (ska-sdp-config's
// dict_to_json): json.dumps(v, ensure_ascii=False, indent=2,
// separators=(",", ": "), sort_keys=True).
//
// Values map as in Python: None → null, Bool → true/false, Int → decimal,
// Float → float.__repr__ (21600.0, 1e+16, 1e-07, -0.0; NaN, Infinity and
// -Infinity unless AllowNaN(false)), Str → a JSON string, Tuple and List →
// arrays, *Dict → objects. Dict keys may be str, int, float, bool or None and
// are converted as Python converts them ("1", "1.5", "true", "null"). A numpy
// float64 scalar is a float subclass and a numpy str_ a str subclass in
// Python, so a *Scalar of dtype float64 or unicode is written like a Float or
// Str; every other type (Bytes, Complex, *NDArray, other *Scalar, Timestamp)
// fails with ErrUnsupported, as Python raises TypeError("Object of type bytes
// is not JSON serializable"), unless a Default function converts it.
//
// # Reading
//
// Unmarshal is json.loads: objects become *pyval.Dict in document order
// (a repeated key keeps its first position and takes its last value, as a
// Python dict does), integers without fraction or exponent become pyval.Int,
// every other number a pyval.Float (so 21600.0 stays a float), and the
// non-standard tokens NaN, Infinity and -Infinity are accepted. Integers
// of any size stay exact, as in Python (pyval.Int holds them all); one of
// more than pyval.MaxIntDigits (4300) digits fails with ErrRange, as
// Python's json.loads raises ValueError. A string escape
// that leaves a lone surrogate fails with ErrSurrogate, because a pyval.Str
// must be valid UTF-8. Errors are *SyntaxError values naming the line,
// column and byte offset.
//
// FromYAML reads YAML as PyYAML's yaml.safe_load does (YAML 1.1 scalar
// rules); see its documentation.
//
// Nothing here keeps state between calls; every function is safe for
// concurrent use.
package pyjson

import (
	"errors"

	"github.com/sdpkit/sdpkit/pyval"
)

// Sentinel errors. Every error returned by this package wraps one of them;
// test with errors.Is.
var (
	// ErrUnsupported means a value has a type JSON cannot hold (Python's
	// TypeError "Object of type … is not JSON serializable"), a dict key has
	// a type JSON keys cannot be made from, or a YAML node has a tag that
	// PyYAML's safe loader would not turn into a JSON-compatible value.
	ErrUnsupported = errors.New("pyjson: unsupported type")
	// ErrNaN means AllowNaN(false) met NaN or ±Infinity (Python's
	// ValueError "Out of range float values are not JSON compliant").
	ErrNaN = errors.New("pyjson: out of range float values are not JSON compliant")
	// ErrSortKeys means SortKeys met dict keys that Python cannot order
	// against each other, such as a str and an int (Python's TypeError
	// "'<' not supported between instances of …").
	ErrSortKeys = errors.New("pyjson: dict keys cannot be sorted")
	// ErrCircular means a container contains itself (Python's ValueError
	// "Circular reference detected").
	ErrCircular = errors.New("pyjson: circular reference detected")
	// ErrInvalidUTF8 means a Str holds bytes that are not valid UTF-8 (which
	// includes encoded surrogates), or the input is not valid UTF-8.
	ErrInvalidUTF8 = errors.New("pyjson: invalid UTF-8")
	// ErrDepth means the value or document nests more deeply than MaxDepth.
	ErrDepth = errors.New("pyjson: nested too deeply")
	// ErrSyntax means the input is not JSON (or YAML) as Python reads it.
	ErrSyntax = errors.New("pyjson: syntax error")
	// ErrRange means an integer has more decimal digits than
	// pyval.MaxIntDigits (Python's ValueError "Exceeds the limit (4300
	// digits) for integer string conversion"), in either direction.
	ErrRange = errors.New("pyjson: integer out of range")
	// ErrTooLarge means a YAML document's aliases expand to far more values
	// than the document holds (a "billion laughs" document).
	ErrTooLarge = errors.New("pyjson: document expands too much")
	// ErrSurrogate means a \uXXXX escape leaves a lone surrogate, which
	// Python keeps in a str but UTF-8 (and so pyval.Str) cannot hold.
	ErrSurrogate = errors.New("pyjson: lone surrogate")
)

// DefaultMaxDepth is the nesting limit when MaxDepth is not given. It is
// about where Python's default recursion limit stops json.dumps and
// json.loads.
const DefaultMaxDepth = 1000

// Option configures Marshal, Append, Unmarshal and FromYAML. Each option
// says which of them it affects; the others ignore it.
type Option func(*options)

type options struct {
	indent      string
	hasIndent   bool
	itemSep     string
	keySep      string
	hasSeps     bool
	sortKeys    bool
	ensureASCII bool
	allowNaN    bool
	skipKeys    bool
	def         func(pyval.Value) (pyval.Value, error)
	maxDepth    int
	bigFloat    bool
}

func newOptions(opts []Option) options {
	o := options{ensureASCII: true, allowNaN: true, maxDepth: DefaultMaxDepth}
	for _, f := range opts {
		if f != nil {
			f(&o)
		}
	}
	if !o.hasSeps {
		// json.dumps: with an indent the item separator loses its space,
		// because the newline that follows already separates the items.
		o.itemSep, o.keySep = ", ", ": "
		if o.hasIndent {
			o.itemSep = ","
		}
	}
	return o
}

// Indent pretty-prints with n spaces per nesting level (json.dumps
// indent=n): every array element and object member goes on its own line,
// and empty containers stay [] and {}. As in Python, Indent(0) still breaks
// lines and a negative n counts as 0. Without Indent the output is one line.
// Encoding only.
func Indent(n int) Option {
	if n < 0 {
		n = 0
	}
	return IndentString(spaces(n))
}

// IndentString is Indent with an arbitrary string per level (json.dumps
// indent="\t"). Encoding only.
func IndentString(s string) Option {
	return func(o *options) { o.indent, o.hasIndent = s, true }
}

func spaces(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = ' '
	}
	return string(b)
}

// SortKeys writes object members ordered by their original keys
// (json.dumps sort_keys=True). Keys of different kinds that Python cannot
// compare (str and int, or None and anything) fail with ErrSortKeys; bool,
// int and float keys compare by numeric value. Encoding only.
func SortKeys() Option { return func(o *options) { o.sortKeys = true } }

// EnsureASCII sets json.dumps ensure_ascii (default true): when true every
// character outside printable ASCII, DEL included, is written as a
// lower-case \uXXXX escape, astral characters as a surrogate pair; when false
// only '"', '\\' and control characters below U+0020 are escaped and
// everything else is written as UTF-8. Encoding only.
func EnsureASCII(on bool) Option { return func(o *options) { o.ensureASCII = on } }

// Separators sets json.dumps separators=(item, key). Without it the item
// separator is ", " (or "," with an indent) and the key separator ": ".
// Encoding only.
func Separators(item, key string) Option {
	return func(o *options) { o.itemSep, o.keySep, o.hasSeps = item, key, true }
}

// AllowNaN sets json.dumps allow_nan (default true). When true NaN and
// ±infinity are written as NaN, Infinity and -Infinity (not standard JSON,
// as Python writes them); when false they fail with ErrNaN. For Unmarshal,
// false also rejects those tokens in the input (Python's json.loads always
// accepts them). Encoding and decoding.
func AllowNaN(on bool) Option { return func(o *options) { o.allowNaN = on } }

// SkipKeys drops dict members whose key is not str, int, float, bool or None
// instead of failing (json.dumps skipkeys=True). Encoding only.
func SkipKeys() Option { return func(o *options) { o.skipKeys = true } }

// Default sets a conversion for values JSON cannot hold (json.dumps
// default=f): f gets the value and returns a replacement to encode in its
// place, or an error to stop. It is not called for dict keys. Encoding only.
func Default(f func(pyval.Value) (pyval.Value, error)) Option {
	return func(o *options) { o.def = f }
}

// MaxDepth sets the deepest container nesting accepted (default
// DefaultMaxDepth); deeper values or documents fail with ErrDepth. Encoding
// and decoding.
func MaxDepth(n int) Option { return func(o *options) { o.maxDepth = n } }

// BigIntsAsFloat makes Unmarshal and FromYAML return an integer outside
// -2**63 … 2**64-1 as the nearest Float (±Inf if it is too large for a
// float64) instead of an exact pyval.Int, for callers that need every
// number to fit a machine type. Python keeps such integers exact, so
// re-encoding then differs from Python. It does not lift the
// pyval.MaxIntDigits limit. Decoding only.
func BigIntsAsFloat() Option { return func(o *options) { o.bigFloat = true } }
