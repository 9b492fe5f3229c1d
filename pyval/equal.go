package pyval

import (
	"bytes"
	"math"
	"slices"
)

// Equal reports whether a == b in Python: numbers compare by value across
// bool, int, float, complex and numeric numpy scalars (1 == 1.0 == True);
// str and bytes are never equal to each other; tuples and lists compare
// element-wise but a tuple never equals a list; dicts compare as mappings,
// ignoring order. Arrays are equal when shapes match and every element is
// equal (numpy.array_equal); NaN is never equal to anything.
func Equal(a, b Value) bool {
	if na, ok := number(a); ok {
		nb, ok := number(b)
		return ok && na == nb
	}
	switch x := a.(type) {
	case NoneType:
		_, ok := b.(NoneType)
		return ok
	case Str:
		switch y := b.(type) {
		case Str:
			return x == y
		case *Scalar:
			if y.DType.Kind == 'U' {
				v, err := y.Item()
				return err == nil && Equal(x, v)
			}
		}
		return false
	case Bytes:
		switch y := b.(type) {
		case Bytes:
			return bytes.Equal(x, y)
		case *Scalar:
			if y.DType.Kind == 'S' {
				v, err := y.Item()
				return err == nil && Equal(x, v)
			}
		}
		return false
	case Tuple:
		y, ok := b.(Tuple)
		return ok && seqEqual(x, y)
	case List:
		y, ok := b.(List)
		return ok && seqEqual(x, y)
	case *Dict:
		y, ok := b.(*Dict)
		if !ok || x.Len() != y.Len() {
			return false
		}
		for _, it := range x.Items() {
			v, ok := y.Get(it.Key)
			if !ok || !Equal(it.Value, v) {
				return false
			}
		}
		return true
	case Timestamp:
		y, ok := b.(Timestamp)
		return ok && x == y
	case *NDArray:
		y, ok := b.(*NDArray)
		if !ok || !slices.Equal(x.Shape, y.Shape) {
			return false
		}
		if x.DType.Equal(y.DType) && x.FortranOrder == y.FortranOrder && !hasFloat(x.DType) {
			return bytes.Equal(x.Data, y.Data)
		}
		n := x.Len()
		for i := 0; i < n; i++ {
			ea, err1 := x.At(i)
			eb, err2 := y.At(i)
			if err1 != nil || err2 != nil || !Equal(ea, eb) {
				return false
			}
		}
		return true
	case *Scalar:
		if _, ok := b.(*Scalar); !ok {
			return Equal(b, a)
		}
		y := b.(*Scalar)
		if x.DType.Equal(y.DType) && !hasFloat(x.DType) {
			n := x.DType.ItemSize()
			return len(x.Data) >= n && len(y.Data) >= n && bytes.Equal(x.Data[:n], y.Data[:n])
		}
		va, err1 := x.Item()
		vb, err2 := y.Item()
		if err1 != nil || err2 != nil {
			return false
		}
		if _, ok := va.(*Scalar); ok {
			return false
		}
		return Equal(va, vb)
	}
	return false
}

func hasFloat(d DType) bool {
	if d.Kind == 'f' || d.Kind == 'c' {
		return true
	}
	for _, f := range d.Fields {
		if hasFloat(f.DType) {
			return true
		}
	}
	return false
}

func seqEqual(a, b []Value) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// num is a number normalised for comparison: exact ints stay exact.
type num struct {
	isInt bool
	i     Int
	re    float64
	im    float64
}

// number converts numeric values; ints that a float represents exactly
// compare exactly, as Python compares int and float exactly.
func number(v Value) (num, bool) {
	switch x := v.(type) {
	case Bool:
		if x {
			return num{isInt: true, i: IntOf(1)}, true
		}
		return num{isInt: true, i: IntOf(0)}, true
	case Int:
		return num{isInt: true, i: x}, true
	case Float:
		return floatNum(float64(x), 0), true
	case Complex:
		return floatNum(real(x), imag(x)), true
	case *Scalar:
		switch x.DType.Kind {
		case 'b', 'i', 'u', 'f', 'c':
			if x.DType.Fields != nil {
				return num{}, false
			}
			item, err := x.Item()
			if err != nil {
				return num{}, false
			}
			if s, ok := item.(*Scalar); ok { // longdouble: compare as float64
				f := realAt(s.DType, s.Data)
				if s.DType.Kind == 'c' {
					return floatNum(math.NaN(), 0), true
				}
				return floatNum(f, 0), true
			}
			return number(item)
		}
	}
	return num{}, false
}

func floatNum(re, im float64) num {
	if im == 0 {
		if i, ok := IntFromFloat(re); ok {
			return num{isInt: true, i: i}
		}
	}
	if math.IsNaN(re) || math.IsNaN(im) {
		// A NaN must compare unequal even to itself; give each a unique
		// impossible shape by leaving isInt false and using NaN fields,
		// which == never matches.
		return num{re: math.NaN(), im: math.NaN()}
	}
	return num{re: re, im: im}
}
