package dqvalue

import (
	"bytes"
	"math"
	"slices"
	"strings"

	"github.com/sdpkit/sdpkit/pyval"
)

// Same is a stricter pyval.Equal for checking decoded vectors: the same
// Python types, floats equal bit for bit (NaN equals NaN), dicts in the
// same order, arrays and numpy scalars with the same dtype, shape and
// C-order bytes.
func Same(a, b pyval.Value) bool {
	if a == nil || b == nil || a.Kind() != b.Kind() {
		return false
	}
	switch x := a.(type) {
	case pyval.Float:
		return sameFloat(float64(x), float64(b.(pyval.Float)))
	case pyval.Complex:
		y := b.(pyval.Complex)
		return sameFloat(real(x), real(y)) && sameFloat(imag(x), imag(y))
	case pyval.List:
		return slices.EqualFunc(x, b.(pyval.List), Same)
	case pyval.Tuple:
		return slices.EqualFunc(x, b.(pyval.Tuple), Same)
	case *pyval.Dict:
		y := b.(*pyval.Dict)
		return slices.EqualFunc(x.Items(), y.Items(), func(p, q pyval.Item) bool {
			return Same(p.Key, q.Key) && Same(p.Value, q.Value)
		})
	case *pyval.NDArray:
		y := b.(*pyval.NDArray)
		return x.DType.Equal(y.DType) && slices.Equal(x.Shape, y.Shape) && bytes.Equal(x.CData(), y.CData())
	case *pyval.Scalar:
		y := b.(*pyval.Scalar)
		return x.DType.Equal(y.DType) && bytes.Equal(x.Data, y.Data)
	case pyval.Bytes:
		return bytes.Equal(x, b.(pyval.Bytes))
	}
	return pyval.Equal(a, b)
}

func sameFloat(a, b float64) bool {
	return math.Float64bits(a) == math.Float64bits(b) || (math.IsNaN(a) && math.IsNaN(b))
}

// PythonDecoded is what Python's decoder for encoding returns for value,
// for vectors without a "decoded" field: msgpack has no tuples (they come
// back as lists), and numpy.load returns a numpy scalar as a 0-d array.
func PythonDecoded(encoding string, value pyval.Value) pyval.Value {
	switch {
	case strings.HasPrefix(encoding, "msgpack"):
		return tuplesAsLists(value)
	case encoding == "npy":
		if s, ok := value.(*pyval.Scalar); ok {
			return &pyval.NDArray{DType: s.DType, Shape: []int{}, Data: s.Data}
		}
	}
	return value
}

func tuplesAsLists(v pyval.Value) pyval.Value {
	switch x := v.(type) {
	case pyval.Tuple:
		return tuplesAsLists(pyval.List(x))
	case pyval.List:
		out := make(pyval.List, len(x))
		for i, e := range x {
			out[i] = tuplesAsLists(e)
		}
		return out
	case *pyval.Dict:
		out := &pyval.Dict{}
		for _, it := range x.Items() {
			out.Set(it.Key, tuplesAsLists(it.Value))
		}
		return out
	}
	return v
}
