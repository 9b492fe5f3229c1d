package pyjson

import (
	"cmp"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/sdpkit/sdpkit/pyval"
)

// Marshal returns the JSON text of v exactly as Python's json.dumps writes
// it with the corresponding options (see the package documentation). There
// is no trailing newline.
func Marshal(v pyval.Value, opts ...Option) ([]byte, error) {
	return Append(nil, v, opts...)
}

// Append appends the JSON text of v (as Marshal) to dst and returns the
// extended slice. On error it returns dst unchanged in length.
func Append(dst []byte, v pyval.Value, opts ...Option) ([]byte, error) {
	e := encoder{o: newOptions(opts), buf: dst}
	if err := e.value(v, 0); err != nil {
		return dst, err
	}
	return e.buf, nil
}

// Canonical returns v in the SDP configuration database's encoding, as
// ska-sdp-config's dict_to_json writes every stored entity:
// json.dumps(v, ensure_ascii=False, indent=2, separators=(",", ": "),
// sort_keys=True), without trailing newline. (dict_to_json also asserts that
// v is a dict; that check belongs to the caller.)
func Canonical(v pyval.Value) ([]byte, error) {
	return Marshal(v, canonicalOpts...)
}

// canonicalOpts is read-only; the options only set fields.
var canonicalOpts = []Option{EnsureASCII(false), Indent(2), Separators(",", ": "), SortKeys()}

type encoder struct {
	o   options
	buf []byte
	// open holds the identity of every container being written, from the
	// outermost in, so a container that contains itself is reported rather
	// than recursing until the depth limit.
	open []uintptr
}

func (e *encoder) value(v pyval.Value, depth int) error {
	switch x := v.(type) {
	case pyval.Str:
		return e.str(string(x))
	case pyval.Int:
		if x.IsBig() {
			return e.bigInt(x)
		}
		e.buf = appendInt(e.buf, x)
	case pyval.Float:
		return e.float(float64(x))
	case pyval.Bool:
		if x {
			e.buf = append(e.buf, "true"...)
		} else {
			e.buf = append(e.buf, "false"...)
		}
	case pyval.NoneType:
		e.buf = append(e.buf, "null"...)
	case *pyval.Dict:
		if x == nil {
			return e.unsupported(v, depth)
		}
		return e.dict(x, depth)
	case pyval.List:
		return e.seq(x, depth)
	case pyval.Tuple:
		return e.seq(x, depth)
	case *pyval.Scalar:
		if s, ok := scalarAsBuiltin(x); ok {
			return e.value(s, depth)
		}
		return e.unsupported(v, depth)
	default:
		return e.unsupported(v, depth)
	}
	return nil
}

// unsupported hands v to the Default function, or fails as Python does.
func (e *encoder) unsupported(v pyval.Value, depth int) error {
	if e.o.def == nil {
		return fmt.Errorf("%w: Object of type %s is not JSON serializable", ErrUnsupported, typeName(v))
	}
	if depth >= e.o.maxDepth {
		return fmt.Errorf("%w: Default conversions nest more than %d levels", ErrDepth, e.o.maxDepth)
	}
	r, err := e.o.def(v)
	if err != nil {
		return fmt.Errorf("pyjson: Default for %s: %w", typeName(v), err)
	}
	return e.value(r, depth+1)
}

// scalarAsBuiltin returns the Python builtin a numpy scalar behaves as in
// json.dumps: numpy.float64 subclasses float and numpy.str_ subclasses str.
func scalarAsBuiltin(s *pyval.Scalar) (pyval.Value, bool) {
	dt := s.DType
	if dt.IsStructured() || !((dt.Kind == 'f' && dt.Size == 8) || dt.Kind == 'U') {
		return nil, false
	}
	v, err := s.Item()
	if err != nil {
		return nil, false
	}
	switch v.(type) {
	case pyval.Float, pyval.Str:
		return v, true
	}
	return nil, false
}

// typeName is the name Python's error messages give the type of v.
func typeName(v pyval.Value) string {
	switch x := v.(type) {
	case nil:
		return "nil Value"
	case *pyval.Dict:
		return "nil *pyval.Dict"
	case *pyval.NDArray:
		return "ndarray"
	case pyval.Timestamp:
		return "Timestamp"
	case *pyval.Scalar:
		return numpyScalarName(x.DType)
	}
	return v.Kind().String()
}

func numpyScalarName(dt pyval.DType) string {
	if dt.IsStructured() {
		return "void"
	}
	bits := strconv.Itoa(dt.Size * 8)
	switch dt.Kind {
	case 'b':
		return "bool"
	case 'i':
		return "int" + bits
	case 'u':
		return "uint" + bits
	case 'f':
		return "float" + bits
	case 'c':
		return "complex" + bits
	case 'U':
		return "str_"
	case 'S':
		return "bytes_"
	case 'M':
		return "datetime64"
	case 'm':
		return "timedelta64"
	}
	return "void"
}

func appendInt(b []byte, i pyval.Int) []byte {
	if n, ok := i.Int64(); ok {
		return strconv.AppendInt(b, n, 10)
	}
	u, _ := i.Uint64()
	return strconv.AppendUint(b, u, 10)
}

// bigInt writes an int outside the 64-bit range, which Python writes
// exactly up to its int-to-str digit limit.
func (e *encoder) bigInt(i pyval.Int) error {
	s, err := bigIntText(i)
	if err != nil {
		return err
	}
	e.buf = append(e.buf, s...)
	return nil
}

func bigIntText(i pyval.Int) (string, error) {
	// 10**4300 has 14285 bits: far longer ints fail before the costly
	// formatting.
	s := ""
	if i.BitLen() <= 14400 {
		s = i.String()
	}
	if digits := strings.TrimPrefix(s, "-"); s == "" || len(digits) > pyval.MaxIntDigits {
		return "", fmt.Errorf("%w: int of %d bits exceeds the limit (%d digits) for integer string conversion", ErrRange, i.BitLen(), pyval.MaxIntDigits)
	}
	return s, nil
}

func (e *encoder) float(f float64) error {
	s, err := e.floatText(f)
	if err != nil {
		return err
	}
	e.buf = append(e.buf, s...)
	return nil
}

func (e *encoder) floatText(f float64) (string, error) {
	switch {
	case math.IsNaN(f):
		if !e.o.allowNaN {
			return "", fmt.Errorf("%w: nan", ErrNaN)
		}
		return "NaN", nil
	case math.IsInf(f, 1):
		if !e.o.allowNaN {
			return "", fmt.Errorf("%w: inf", ErrNaN)
		}
		return "Infinity", nil
	case math.IsInf(f, -1):
		if !e.o.allowNaN {
			return "", fmt.Errorf("%w: -inf", ErrNaN)
		}
		return "-Infinity", nil
	}
	return pyval.FloatRepr(f), nil
}

// enter records a container as open, failing on depth or a cycle.
func (e *encoder) enter(id uintptr, depth int) error {
	if depth >= e.o.maxDepth {
		return fmt.Errorf("%w: more than %d levels", ErrDepth, e.o.maxDepth)
	}
	if id != 0 && slices.Contains(e.open, id) {
		return ErrCircular
	}
	e.open = append(e.open, id)
	return nil
}

func (e *encoder) leave() { e.open = e.open[:len(e.open)-1] }

// newline starts a new line indented to level, when indenting.
func (e *encoder) newline(level int) {
	e.buf = append(e.buf, '\n')
	for range level {
		e.buf = append(e.buf, e.o.indent...)
	}
}

func (e *encoder) seq(items []pyval.Value, depth int) error {
	if len(items) == 0 {
		e.buf = append(e.buf, "[]"...)
		return nil
	}
	if err := e.enter(uintptr(unsafe.Pointer(unsafe.SliceData(items))), depth); err != nil {
		return err
	}
	e.buf = append(e.buf, '[')
	for i, it := range items {
		if i > 0 {
			e.buf = append(e.buf, e.o.itemSep...)
		}
		if e.o.hasIndent {
			e.newline(depth + 1)
		}
		if err := e.value(it, depth+1); err != nil {
			return fmt.Errorf("%w (in list item %d)", err, i)
		}
	}
	if e.o.hasIndent {
		e.newline(depth)
	}
	e.buf = append(e.buf, ']')
	e.leave()
	return nil
}

// member is a dict item whose key has been turned into JSON key text.
type member struct {
	key   string
	orig  pyval.Value
	value pyval.Value
}

func (e *encoder) dict(d *pyval.Dict, depth int) error {
	items := d.Items()
	if len(items) == 0 {
		e.buf = append(e.buf, "{}"...)
		return nil
	}
	if err := e.enter(uintptr(unsafe.Pointer(d)), depth); err != nil {
		return err
	}
	if e.o.sortKeys {
		sorted, err := sortItems(items)
		if err != nil {
			return err
		}
		items = sorted
	}
	e.buf = append(e.buf, '{')
	first := true
	for _, it := range items {
		key, ok, err := e.keyText(it.Key)
		if err != nil {
			return err
		}
		if !ok {
			continue // SkipKeys
		}
		if !first {
			e.buf = append(e.buf, e.o.itemSep...)
		}
		first = false
		if e.o.hasIndent {
			e.newline(depth + 1)
		}
		if err := e.str(key); err != nil {
			return err
		}
		e.buf = append(e.buf, e.o.keySep...)
		if err := e.value(it.Value, depth+1); err != nil {
			return fmt.Errorf("%w (in value of key %q)", err, key)
		}
	}
	if e.o.hasIndent {
		if first {
			// Every key was skipped: Python has already written the first
			// member's line break and indent, and keeps them.
			e.newline(depth + 1)
		}
		e.newline(depth)
	}
	e.buf = append(e.buf, '}')
	e.leave()
	return nil
}

// keyText converts a dict key as json.dumps does; ok is false for a key
// that SkipKeys drops.
func (e *encoder) keyText(k pyval.Value) (string, bool, error) {
	if s, isScalar := k.(*pyval.Scalar); isScalar {
		if b, ok := scalarAsBuiltin(s); ok {
			k = b
		}
	}
	switch x := k.(type) {
	case pyval.Str:
		return string(x), true, nil
	case pyval.Float:
		s, err := e.floatText(float64(x))
		return s, err == nil, err
	case pyval.Bool:
		if x {
			return "true", true, nil
		}
		return "false", true, nil
	case pyval.NoneType:
		return "null", true, nil
	case pyval.Int:
		s, err := bigIntText(x)
		return s, err == nil, err
	}
	if e.o.skipKeys {
		return "", false, nil
	}
	return "", false, fmt.Errorf("%w: keys must be str, int, float, bool or None, not %s", ErrUnsupported, typeName(k))
}

// sortItems orders dict items by key as Python's sorted(d.items()) does.
// Keys in a dict are distinct, so the values never take part.
func sortItems(items []pyval.Item) ([]pyval.Item, error) {
	out := slices.Clone(items)
	kind := sortClass(out[0].Key)
	for _, it := range out[1:] {
		if k := sortClass(it.Key); k != kind || k == classOther {
			return nil, fmt.Errorf("%w: '<' not supported between instances of '%s' and '%s'",
				ErrSortKeys, typeName(it.Key), typeName(out[0].Key))
		}
	}
	switch kind {
	case classStr:
		slices.SortFunc(out, func(a, b pyval.Item) int {
			// Python orders str by code point, which is UTF-8 byte order.
			return cmp.Compare(keyStr(a.Key), keyStr(b.Key))
		})
	case classNumber:
		slices.SortStableFunc(out, func(a, b pyval.Item) int {
			return compareNumbers(a.Key, b.Key)
		})
	}
	return out, nil
}

const (
	classStr = iota
	classNumber
	classOther
)

// sortClass groups keys that Python can order against each other.
func sortClass(k pyval.Value) int {
	if s, ok := k.(*pyval.Scalar); ok {
		if b, ok := scalarAsBuiltin(s); ok {
			k = b
		}
	}
	switch k.(type) {
	case pyval.Str:
		return classStr
	case pyval.Int, pyval.Float, pyval.Bool:
		return classNumber
	}
	return classOther
}

func keyStr(k pyval.Value) string {
	if s, ok := k.(*pyval.Scalar); ok {
		k, _ = scalarAsBuiltin(s)
	}
	s, _ := k.(pyval.Str)
	return string(s)
}

// compareNumbers compares bool, int and float keys exactly, as Python does
// (no rounding of large ints to float). NaN compares false both ways in
// Python, which makes its place depend on CPython's sort algorithm; here it
// sorts after every number.
func compareNumbers(a, b pyval.Value) int {
	fa, ia, aIsFloat := numberOf(a)
	fb, ib, bIsFloat := numberOf(b)
	if aIsFloat && math.IsNaN(fa) || bIsFloat && math.IsNaN(fb) {
		return cmp.Compare(boolInt(aIsFloat && math.IsNaN(fa)), boolInt(bIsFloat && math.IsNaN(fb)))
	}
	switch {
	case !aIsFloat && !bIsFloat:
		return ia.Cmp(ib)
	case aIsFloat && bIsFloat:
		return cmp.Compare(fa, fb)
	}
	x, y := exact(fa, ia, aIsFloat), exact(fb, ib, bIsFloat)
	return x.Cmp(y)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func numberOf(v pyval.Value) (float64, pyval.Int, bool) {
	if s, ok := v.(*pyval.Scalar); ok {
		v, _ = scalarAsBuiltin(s)
	}
	switch x := v.(type) {
	case pyval.Float:
		return float64(x), pyval.Int{}, true
	case pyval.Int:
		return 0, x, false
	case pyval.Bool:
		if x {
			return 0, pyval.IntOf(1), false
		}
	}
	return 0, pyval.IntOf(0), false
}

func exact(f float64, i pyval.Int, isFloat bool) *big.Float {
	if isFloat {
		return new(big.Float).SetFloat64(f) // ±Inf is fine; NaN handled by the caller
	}
	return new(big.Float).SetInt(i.Big())
}

// str writes s as a JSON string, escaping as Python does.
func (e *encoder) str(s string) error {
	b := append(e.buf, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && (c != 0x7f || !e.o.ensureASCII) {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"':
				b = append(b, '\\', '"')
			case '\\':
				b = append(b, '\\', '\\')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = appendU(b, rune(c))
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return fmt.Errorf("%w: byte %#x at offset %d of a str", ErrInvalidUTF8, c, i)
		}
		if e.o.ensureASCII {
			b = append(b, s[start:i]...)
			if r >= 0x10000 {
				r -= 0x10000
				b = appendU(b, 0xd800+(r>>10))
				b = appendU(b, 0xdc00+(r&0x3ff))
			} else {
				b = appendU(b, r)
			}
			start = i + size
		}
		i += size
	}
	b = append(b, s[start:]...)
	e.buf = append(b, '"')
	return nil
}

// appendU writes a \uXXXX escape with lower-case hex, as Python does.
func appendU(b []byte, r rune) []byte {
	const hex = "0123456789abcdef"
	return append(b, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
}
