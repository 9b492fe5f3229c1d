package pyval

import (
	"errors"
	"fmt"
)

// AsFloat64 returns v as a float64 if it is a real number: Float, Int,
// Bool, a numeric numpy scalar, or a one-element real array. An Int too
// large for a float64 fails with ErrOverflow, as Python's float(i).
func AsFloat64(v Value) (float64, error) {
	switch x := v.(type) {
	case Float:
		return float64(x), nil
	case Int:
		return x.Float()
	case Bool:
		if x {
			return 1, nil
		}
		return 0, nil
	case *Scalar:
		switch x.DType.Kind {
		case 'b', 'i', 'u', 'f':
			if x.DType.Fields == nil && len(x.Data) >= x.DType.ItemSize() {
				return realAt(x.DType, x.Data[:x.DType.ItemSize()]), nil
			}
		}
	case *NDArray:
		if x.Len() == 1 {
			if f, err := x.Float64s(); err == nil {
				return f[0], nil
			}
		}
	}
	return 0, typeErr(v, "float")
}

// AsInt64 returns v as an int64 if it is an integer (Int, Bool, or an
// integer numpy scalar) that fits.
func AsInt64(v Value) (int64, error) {
	var i Int
	switch x := v.(type) {
	case Int:
		i = x
	case Bool:
		if x {
			return 1, nil
		}
		return 0, nil
	case *Scalar:
		if x.DType.Fields != nil || (x.DType.Kind != 'i' && x.DType.Kind != 'u' && x.DType.Kind != 'b') || len(x.Data) < x.DType.ItemSize() {
			return 0, typeErr(v, "int")
		}
		i = intAt(x.DType, x.Data[:x.DType.ItemSize()])
	default:
		return 0, typeErr(v, "int")
	}
	n, ok := i.Int64()
	if !ok {
		return 0, fmt.Errorf("%w: %s overflows int64", ErrType, i)
	}
	return n, nil
}

// AsComplex128 returns v as a complex128 if it is any number.
func AsComplex128(v Value) (complex128, error) {
	switch x := v.(type) {
	case Complex:
		return complex128(x), nil
	case *Scalar:
		if x.DType.Kind == 'c' && x.DType.Fields == nil && len(x.Data) >= x.DType.ItemSize() {
			return complexAt(x.DType, x.Data[:x.DType.ItemSize()]), nil
		}
	}
	f, err := AsFloat64(v)
	if err != nil {
		if errors.Is(err, ErrOverflow) {
			return 0, err
		}
		return 0, typeErr(v, "complex")
	}
	return complex(f, 0), nil
}

// AsString returns v as a Go string if it is a Str or a numpy str_ scalar.
func AsString(v Value) (string, error) {
	switch x := v.(type) {
	case Str:
		return string(x), nil
	case *Scalar:
		if x.DType.Kind == 'U' {
			item, err := x.Item()
			if err != nil {
				return "", err
			}
			return string(item.(Str)), nil
		}
	}
	return "", typeErr(v, "str")
}

// AsBytes returns v as a byte slice if it is Bytes or a numpy bytes_
// scalar.
func AsBytes(v Value) ([]byte, error) {
	switch x := v.(type) {
	case Bytes:
		return x, nil
	case *Scalar:
		if x.DType.Kind == 'S' {
			item, err := x.Item()
			if err != nil {
				return nil, err
			}
			return item.(Bytes), nil
		}
	}
	return nil, typeErr(v, "bytes")
}

// AsBool returns v as a bool if it is a Bool or a numpy bool_ scalar.
func AsBool(v Value) (bool, error) {
	switch x := v.(type) {
	case Bool:
		return bool(x), nil
	case *Scalar:
		if x.DType.Kind == 'b' && x.DType.Fields == nil && len(x.Data) >= 1 {
			return x.Data[0] != 0, nil
		}
	}
	return false, typeErr(v, "bool")
}

// AsNDArray returns v as an array if it is one.
func AsNDArray(v Value) (*NDArray, error) {
	if a, ok := v.(*NDArray); ok {
		return a, nil
	}
	return nil, typeErr(v, "numpy.ndarray")
}

func typeErr(v Value, want string) error {
	got := "nil"
	if v != nil {
		got = v.Kind().String()
	}
	return fmt.Errorf("%w: want %s, got %s", ErrType, want, got)
}
