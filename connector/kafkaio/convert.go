package kafkaio

import (
	"errors"
	"fmt"

	"github.com/sdpkit/sdpkit/connector/internal/ndconv"
	"github.com/sdpkit/sdpkit/pyval"
)

// ErrConvert marks a decoded value that does not fit the exchange's dtype
// and shape.
var ErrConvert = errors.New("kafkaio: value does not fit the exchange dtype and shape")

// Convert turns a decoded message value into a value of the exchange's
// dtype and shape, converting only where the decoded form differs:
//
//   - object dtype: the value as decoded (any Python container);
//   - scalar shape ([]), bool/int/uint/float/complex/str dtypes: the Python
//     value a scalar of that dtype reads as (ints become floats for a float
//     dtype, float32 rounds, str() for str), except that a numpy scalar or
//     0-d array of exactly the dtype is kept, so it re-encodes unchanged;
//   - scalar shape, other dtypes (datetime64, structured, sized strings):
//     a numpy scalar of the dtype;
//   - other shapes: an ndarray of the dtype (numpy.asarray(value, dtype)),
//     whose shape must equal the exchange's (-1 matches any length).
//
// A value that cannot take the dtype or shape is an ErrConvert error.
func Convert(v pyval.Value, dt pyval.DType, shape []int) (pyval.Value, error) {
	if dt.Kind == 'O' && !dt.IsStructured() {
		return v, nil
	}
	if len(shape) == 0 {
		return convertScalar(v, dt)
	}
	a, err := ndconv.ToArray(v, dt)
	if err != nil {
		return nil, fmt.Errorf("%w: %s to %s%v: %w", ErrConvert, kindName(v), dt, shape, err)
	}
	if !shapeFits(a.Shape, shape) {
		return nil, fmt.Errorf("%w: shape %v is not %v", ErrConvert, a.Shape, shape)
	}
	return a, nil
}

func convertScalar(v pyval.Value, dt pyval.DType) (pyval.Value, error) {
	switch x := v.(type) {
	case *pyval.Scalar:
		if x.DType.Equal(dt) {
			return v, nil
		}
	case *pyval.NDArray:
		if len(x.Shape) != 0 {
			return nil, fmt.Errorf("%w: an array of shape %v for a scalar exchange", ErrConvert, x.Shape)
		}
		if x.DType.Equal(dt) {
			return v, nil
		}
		item, err := x.At(0)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConvert, err)
		}
		v = item
	}
	if !dt.IsStructured() {
		switch dt.Kind {
		case 'b', 'i', 'u', 'f', 'c':
			out, err := ndconv.Native(v, dt)
			if err != nil {
				return nil, fmt.Errorf("%w: %s to %s: %w", ErrConvert, kindName(v), dt, err)
			}
			return out, nil
		case 'U':
			if _, ok := v.(pyval.Str); ok {
				return v, nil
			}
			if dt.Size == 0 {
				out, err := ndconv.Native(v, dt)
				if err != nil {
					return nil, fmt.Errorf("%w: %s to str: %w", ErrConvert, kindName(v), err)
				}
				return out, nil
			}
		}
	}
	a, err := ndconv.ToArray(v, dt)
	if err != nil {
		return nil, fmt.Errorf("%w: %s to %s: %w", ErrConvert, kindName(v), dt, err)
	}
	if len(a.Shape) != 0 {
		return nil, fmt.Errorf("%w: shape %v for a scalar exchange", ErrConvert, a.Shape)
	}
	return &pyval.Scalar{DType: a.DType, Data: a.CData()}, nil
}

// shapeFits reports whether got matches want, where -1 in want matches any
// length.
func shapeFits(got, want []int) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if want[i] >= 0 && got[i] != want[i] {
			return false
		}
	}
	return true
}

func kindName(v pyval.Value) string {
	switch x := v.(type) {
	case nil:
		return "nothing"
	case *pyval.NDArray:
		return fmt.Sprintf("an array of %s%v", x.DType, x.Shape)
	case *pyval.Scalar:
		return "a numpy " + x.DType.String() + " scalar"
	}
	return fmt.Sprintf("%T", v)
}
