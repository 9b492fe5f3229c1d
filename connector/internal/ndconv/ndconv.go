// Package ndconv converts pyval values to a dtype and shape the way the
// queue connector needs it: numpy.asarray-like array building for pipes and
// scatter sinks, and the coercion of attribute values to a declared dtype
// and maximum shape.
//
// The rules are a deliberate subset of numpy's casting: numbers convert
// between numeric kinds (float to int truncates toward zero, as
// numpy.asarray(1.5, dtype=int64) does; NaN, infinities and out-of-range
// values are errors instead of numpy's undefined results), bool is a number's
// truth, str converts from anything by Python's str(). Structured, datetime
// and timedelta dtypes accept only values of exactly that dtype.
package ndconv

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/sdpkit/sdpkit/pyval"
)

// ErrConvert marks a value that cannot take the requested dtype or shape.
var ErrConvert = errors.New("ndconv: cannot convert")

// IsListKind reports whether values of dt are kept as Python objects in a
// pyval.List rather than packed into an ndarray: str (unicode), bytes and
// object dtypes. The connector carries str values as Python str objects and
// bytes values as DevEncoded (encoding, payload) tuples, so packing them into
// fixed-width numpy arrays would lose information.
func IsListKind(dt pyval.DType) bool {
	if dt.Fields != nil {
		return false
	}
	switch dt.Kind {
	case 'U', 'S', 'O':
		return true
	}
	return false
}

// Nested returns the shape of v read as numpy reads nested sequences, and
// its leaf elements in C order. Lists and tuples nest; an ndarray
// contributes its shape and its items; anything else is a leaf (a 0-d
// value). Ragged nesting is an error.
func Nested(v pyval.Value) ([]int, []pyval.Value, error) {
	switch x := v.(type) {
	case *pyval.NDArray:
		n := x.Len()
		out := make([]pyval.Value, n)
		for i := range out {
			e, err := x.At(i)
			if err != nil {
				return nil, nil, err
			}
			out[i] = e
		}
		return append([]int(nil), x.Shape...), out, nil
	case pyval.List:
		return nestedSeq([]pyval.Value(x))
	case pyval.Tuple:
		return nestedSeq([]pyval.Value(x))
	}
	return []int{}, []pyval.Value{v}, nil
}

func nestedSeq(items []pyval.Value) ([]int, []pyval.Value, error) {
	if len(items) == 0 {
		return []int{0}, nil, nil
	}
	var shape []int
	var out []pyval.Value
	for i, it := range items {
		s, leaves, err := Nested(it)
		if err != nil {
			return nil, nil, err
		}
		if i == 0 {
			shape = s
		} else if !equalInts(shape, s) {
			return nil, nil, fmt.Errorf("%w: ragged nested sequence (item 0 has shape %v, item %d has %v)", ErrConvert, shape, i, s)
		}
		out = append(out, leaves...)
	}
	return append([]int{len(items)}, shape...), out, nil
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// ToArray returns v as an ndarray of dtype dt (numpy.asarray(v, dt)). An
// ndarray of exactly dt is returned as is (in C order); anything else is
// converted element by element. dt must not be a list kind (IsListKind)
// except for sized 'U' and 'S' dtypes, which pack strings as numpy does.
func ToArray(v pyval.Value, dt pyval.DType) (*pyval.NDArray, error) {
	if a, ok := v.(*pyval.NDArray); ok && a.DType.Equal(dt) {
		if a.FortranOrder && len(a.Shape) > 1 {
			return &pyval.NDArray{DType: a.DType, Shape: a.Shape, Data: a.CData()}, nil
		}
		return a, nil
	}
	if s, ok := v.(*pyval.Scalar); ok && s.DType.Equal(dt) {
		return &pyval.NDArray{DType: dt, Shape: []int{}, Data: s.Data[:dt.ItemSize()]}, nil
	}
	if dt.Kind == 'O' {
		return nil, fmt.Errorf("%w: object dtype has no array form", ErrConvert)
	}
	shape, leaves, err := Nested(v)
	if err != nil {
		return nil, err
	}
	if (dt.Kind == 'U' || dt.Kind == 'S') && dt.Size == 0 {
		// numpy sizes an unsized string dtype to the longest item.
		for _, l := range leaves {
			s, err := toStr(l)
			if err != nil {
				return nil, err
			}
			n := len(s)
			if dt.Kind == 'U' {
				n = utf8.RuneCountInString(s)
			}
			dt.Size = max(dt.Size, n)
		}
	}
	size := dt.ItemSize()
	buf := make([]byte, len(leaves)*size)
	for i, l := range leaves {
		if err := PutElem(buf[i*size:(i+1)*size], dt, l); err != nil {
			return nil, fmt.Errorf("element %d: %w", i, err)
		}
	}
	return &pyval.NDArray{DType: dt, Shape: shape, Data: buf}, nil
}

// PutElem writes one element v of dtype dt into b (len(b) == dt.ItemSize()).
func PutElem(b []byte, dt pyval.DType, v pyval.Value) error {
	var order binary.ByteOrder = binary.LittleEndian
	if dt.BigEndian() {
		order = binary.BigEndian
	}
	if s, ok := v.(*pyval.Scalar); ok && s.DType.Equal(dt) {
		copy(b, s.Data)
		return nil
	}
	if dt.Fields != nil || dt.Kind == 'M' || dt.Kind == 'm' || dt.Kind == 'V' {
		return fmt.Errorf("%w: %s to dtype %s (only values of that exact dtype)", ErrConvert, describe(v), dt)
	}
	switch dt.Kind {
	case 'b':
		t, err := truth(v)
		if err != nil {
			return err
		}
		b[0] = 0
		if t {
			b[0] = 1
		}
	case 'i', 'u':
		if dt.Kind == 'u' {
			u, err := toUint(v, dt.Size)
			if err != nil {
				return err
			}
			putUint(b, order, dt.Size, u)
		} else {
			i, err := toInt(v, dt.Size)
			if err != nil {
				return err
			}
			putUint(b, order, dt.Size, uint64(i))
		}
	case 'f':
		f, err := toFloat(v)
		if err != nil {
			return err
		}
		switch dt.Size {
		case 2:
			order.PutUint16(b, pyval.FloatToHalf(f))
		case 4:
			order.PutUint32(b, math.Float32bits(float32(f)))
		case 8:
			order.PutUint64(b, math.Float64bits(f))
		default:
			return fmt.Errorf("%w: float size %d", ErrConvert, dt.Size)
		}
	case 'c':
		c, err := pyval.AsComplex128(v)
		if err != nil {
			return fmt.Errorf("%w: %s to complex", ErrConvert, describe(v))
		}
		switch dt.Size {
		case 8:
			order.PutUint32(b, math.Float32bits(float32(real(c))))
			order.PutUint32(b[4:], math.Float32bits(float32(imag(c))))
		case 16:
			order.PutUint64(b, math.Float64bits(real(c)))
			order.PutUint64(b[8:], math.Float64bits(imag(c)))
		default:
			return fmt.Errorf("%w: complex size %d", ErrConvert, dt.Size)
		}
	case 'U':
		s, err := toStr(v)
		if err != nil {
			return err
		}
		clear(b)
		off := 0
		for _, r := range s {
			if off+4 > len(b) {
				break // numpy truncates to the dtype's width
			}
			order.PutUint32(b[off:], uint32(r))
			off += 4
		}
	case 'S':
		var raw []byte
		switch x := v.(type) {
		case pyval.Bytes:
			raw = x
		case pyval.Str:
			raw = []byte(x)
		default:
			return fmt.Errorf("%w: %s to bytes", ErrConvert, describe(v))
		}
		clear(b)
		copy(b, raw)
	default:
		return fmt.Errorf("%w: dtype %s", ErrConvert, dt)
	}
	return nil
}

func putUint(b []byte, order binary.ByteOrder, size int, u uint64) {
	switch size {
	case 1:
		b[0] = byte(u)
	case 2:
		order.PutUint16(b, uint16(u))
	case 4:
		order.PutUint32(b, uint32(u))
	case 8:
		order.PutUint64(b, u)
	}
}

func describe(v pyval.Value) string {
	if v == nil {
		return "nil"
	}
	return v.Kind().String()
}

func truth(v pyval.Value) (bool, error) {
	switch x := v.(type) {
	case pyval.Bool:
		return bool(x), nil
	case pyval.Int:
		return x.Cmp(pyval.IntOf(0)) != 0, nil
	}
	if b, err := pyval.AsBool(v); err == nil {
		return b, nil
	}
	if c, err := pyval.AsComplex128(v); err == nil {
		return c != 0, nil
	}
	return false, fmt.Errorf("%w: %s to bool", ErrConvert, describe(v))
}

func toFloat(v pyval.Value) (float64, error) {
	if s, ok := v.(pyval.Str); ok {
		f, err := strconv.ParseFloat(string(s), 64)
		if err != nil {
			return 0, fmt.Errorf("%w: str %q to float", ErrConvert, string(s))
		}
		return f, nil
	}
	f, err := pyval.AsFloat64(v)
	if err != nil {
		return 0, fmt.Errorf("%w: %s to float", ErrConvert, describe(v))
	}
	return f, nil
}

// integral returns v as a Python int, truncating floats toward zero.
func integral(v pyval.Value) (pyval.Int, error) {
	switch x := v.(type) {
	case pyval.Int:
		return x, nil
	case pyval.Bool:
		if x {
			return pyval.IntOf(1), nil
		}
		return pyval.IntOf(0), nil
	case pyval.Str:
		i, err := pyval.ParseInt(string(x))
		if err != nil {
			return pyval.Int{}, fmt.Errorf("%w: str %q to int", ErrConvert, string(x))
		}
		return i, nil
	}
	if i, err := pyval.AsInt64(v); err == nil {
		return pyval.IntOf(i), nil
	}
	if s, ok := v.(*pyval.Scalar); ok && s.DType.Kind == 'u' {
		it, err := s.Item()
		if err == nil {
			if i, ok := it.(pyval.Int); ok {
				return i, nil
			}
		}
	}
	f, err := pyval.AsFloat64(v)
	if err != nil {
		return pyval.Int{}, fmt.Errorf("%w: %s to int", ErrConvert, describe(v))
	}
	if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) >= 1<<63 {
		return pyval.Int{}, fmt.Errorf("%w: float %v to int", ErrConvert, f)
	}
	return pyval.IntOf(int64(f)), nil
}

func toInt(v pyval.Value, size int) (int64, error) {
	i, err := integral(v)
	if err != nil {
		return 0, err
	}
	n, ok := i.Int64()
	lim := int64(1) << (8*size - 1)
	if !ok || (size < 8 && (n < -lim || n >= lim)) {
		return 0, fmt.Errorf("%w: %s out of range for int%d", ErrConvert, i, 8*size)
	}
	return n, nil
}

func toUint(v pyval.Value, size int) (uint64, error) {
	i, err := integral(v)
	if err != nil {
		return 0, err
	}
	u, ok := i.Uint64()
	if !ok || (size < 8 && u >= uint64(1)<<(8*size)) {
		return 0, fmt.Errorf("%w: %s out of range for uint%d", ErrConvert, i, 8*size)
	}
	return u, nil
}

// toStr is Python's str(v) for what the connector meets: str as is, bytes
// decoded as UTF-8 when valid, numpy str scalars, and Python's repr for the
// rest (str() and repr() agree for numbers, bools, None and containers).
func toStr(v pyval.Value) (string, error) {
	switch x := v.(type) {
	case pyval.Str:
		return string(x), nil
	case nil:
		return "", fmt.Errorf("%w: nil to str", ErrConvert)
	}
	if s, err := pyval.AsString(v); err == nil {
		return s, nil
	}
	if b, err := pyval.AsBytes(v); err == nil && utf8.Valid(b) {
		return string(b), nil
	}
	return pyval.Repr(v), nil
}

// Native returns one element of dtype dt as the Python value a Tango client
// reads for a SCALAR attribute: Bool, Int, Float (float32 rounded), Complex
// or Str. Other dtypes (datetime, structured) keep a *pyval.Scalar.
func Native(v pyval.Value, dt pyval.DType) (pyval.Value, error) {
	if dt.Fields == nil {
		switch dt.Kind {
		case 'b':
			t, err := truth(v)
			return pyval.Bool(t), err
		case 'i':
			i, err := toInt(v, dt.Size)
			return pyval.IntOf(i), err
		case 'u':
			u, err := toUint(v, dt.Size)
			return pyval.UintOf(u), err
		case 'f':
			f, err := toFloat(v)
			if dt.Size == 4 {
				f = float64(float32(f))
			}
			return pyval.Float(f), err
		case 'c':
			c, err := pyval.AsComplex128(v)
			if err != nil {
				return nil, fmt.Errorf("%w: %s to complex", ErrConvert, describe(v))
			}
			return pyval.Complex(c), nil
		case 'U':
			s, err := toStr(v)
			return pyval.Str(s), err
		case 'O':
			return v, nil
		}
	}
	b := make([]byte, dt.ItemSize())
	if err := PutElem(b, dt, v); err != nil {
		return nil, err
	}
	return &pyval.Scalar{DType: dt, Data: b}, nil
}

// CheckShape reports whether shape fits max: the same number of dimensions,
// and each dimension at most the maximum (a negative maximum is unbounded).
func CheckShape(shape, max []int) error {
	if len(shape) != len(max) {
		return fmt.Errorf("%w: shape %v has %d dimensions, want %d (maximum shape %v)", ErrConvert, shape, len(shape), len(max), max)
	}
	for i := range shape {
		if max[i] >= 0 && shape[i] > max[i] {
			return fmt.Errorf("%w: shape %v exceeds maximum shape %v in dimension %d", ErrConvert, shape, max, i)
		}
	}
	return nil
}

// Coerce converts v to an attribute value of dtype dt and maximum shape
// max, in the representation the attribute store holds:
//
//   - None stays None (an attribute with no valid value);
//   - object dtype ('O'): v unchanged;
//   - bytes dtype ('S' of size 0, the DevEncoded kind): a Tuple
//     (Str encoding, Bytes payload), from a 2-tuple or 2-list whose
//     encoding is str or bytes;
//   - scalar shape (len(max) == 0): a Python native from Native;
//   - str dtype with dimensions: a unicode ndarray;
//   - other dtypes with dimensions: an ndarray of dt whose shape fits max.
func Coerce(v pyval.Value, dt pyval.DType, max []int) (pyval.Value, error) {
	if v == nil {
		return nil, fmt.Errorf("%w: nil value", ErrConvert)
	}
	if _, ok := v.(pyval.NoneType); ok {
		return pyval.None, nil
	}
	if dt.Fields == nil && dt.Kind == 'O' {
		return v, nil
	}
	if dt.Fields == nil && dt.Kind == 'S' && dt.Size == 0 {
		return DevEncoded(v)
	}
	if len(max) == 0 {
		if a, ok := v.(*pyval.NDArray); ok && a.Len() == 1 {
			e, err := a.At(0)
			if err != nil {
				return nil, err
			}
			v = e
		}
		if _, _, err := Nested(v); err != nil {
			return nil, err
		}
		switch v.(type) {
		case pyval.List, pyval.Tuple, *pyval.NDArray, *pyval.Dict:
			if dt.Kind != 'U' {
				return nil, fmt.Errorf("%w: %s to scalar %s", ErrConvert, describe(v), dt)
			}
		}
		return Native(v, dt)
	}
	a, err := ToArray(v, dt)
	if err != nil {
		return nil, err
	}
	if err := CheckShape(a.Shape, max); err != nil {
		return nil, err
	}
	return a, nil
}

// DevEncoded returns v as a Tango DevEncoded value: the Tuple
// (Str encoding, Bytes payload).
func DevEncoded(v pyval.Value) (pyval.Value, error) {
	var items []pyval.Value
	switch x := v.(type) {
	case pyval.Tuple:
		items = x
	case pyval.List:
		items = x
	}
	if len(items) != 2 {
		return nil, fmt.Errorf("%w: DevEncoded needs an (encoding, payload) pair, got %s", ErrConvert, describe(v))
	}
	var enc pyval.Str
	switch e := items[0].(type) {
	case pyval.Str:
		enc = e
	case pyval.Bytes:
		enc = pyval.Str(e)
	default:
		return nil, fmt.Errorf("%w: DevEncoded encoding must be str, got %s", ErrConvert, describe(items[0]))
	}
	var payload pyval.Bytes
	switch p := items[1].(type) {
	case pyval.Bytes:
		payload = p
	case pyval.Str:
		payload = pyval.Bytes(p)
	default:
		return nil, fmt.Errorf("%w: DevEncoded payload must be bytes, got %s", ErrConvert, describe(items[1]))
	}
	return pyval.Tuple{enc, payload}, nil
}
