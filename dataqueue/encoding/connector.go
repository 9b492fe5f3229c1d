package encoding

import (
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/pyval/pylit"
)

// The queue connector (ska-sdp-lmc-queue-connector) reads and writes Kafka
// with the same encodings as ska-sdp-dataqueues except xarray, plus two of
// its own, "carray" and "python". Their implementation has not been seen:
// both codecs below encode our reading of the documentation (the vectors
// mark them inferred), so treat their bytes as a proposal until a Python
// peer confirms them. They are not in NewRegistry; ConnectorCodecs and
// NewConnectorRegistry provide them.

// ConnectorCodecs returns the connector's own codecs for an exchange whose
// descriptor gives dtype dt and shape shape (see CArrayCodec): carray and
// python.
func ConnectorCodecs(dt pyval.DType, shape []int) []Codec {
	return []Codec{CArrayCodec{DType: dt, Shape: shape}, PythonCodec{}}
}

// NewConnectorRegistry returns a registry with the built-in codecs and the
// connector's (ConnectorCodecs), for an exchange of dtype dt and shape
// shape.
func NewConnectorRegistry(dt pyval.DType, shape []int) *Registry {
	r := NewRegistry()
	for _, c := range ConnectorCodecs(dt, shape) {
		if err := r.Register(c); err != nil {
			panic(err) // the connector names differ from the built-in ones
		}
	}
	return r
}

// CArrayCodec is the connector's "carray" encoding [inferred]: an array's
// raw element bytes in C order (ndarray.tobytes()), with no header. The
// receiver rebuilds the array from the exchange's dtype and shape, as
// numpy.frombuffer(data, dtype).reshape(shape); byte order is the dtype's.
//
// Shape is taken literally: empty means a 0-d array (one element), and one
// dimension may be -1 to be inferred from the data length, as in numpy's
// reshape. Encode accepts an array or numpy scalar of exactly DType (when
// DType is set; the zero DType accepts any) and writes its C-order bytes;
// it does not check the shape, as Python's tobytes does not. Decoded
// arrays share memory with the input.
type CArrayCodec struct {
	DType pyval.DType
	Shape []int
}

func (CArrayCodec) Name() string { return CArray }

func (c CArrayCodec) Encode(v pyval.Value) ([]byte, error) { return c.AppendEncode(nil, v) }

// AppendEncode appends the raw C-order bytes of v to dst.
func (c CArrayCodec) AppendEncode(dst []byte, v pyval.Value) ([]byte, error) {
	var dt pyval.DType
	var data []byte
	switch x := v.(type) {
	case *pyval.NDArray:
		dt, data = x.DType, x.CData()
		n, ok := pyval.ShapeSize(x.Shape, math.MaxInt)
		if !ok || len(x.Data) != n*dt.ItemSize() {
			return dst, fmt.Errorf("%w: encoding %s: array of shape %v and dtype %s with %d data bytes", ErrUnsupported, CArray, x.Shape, dt, len(x.Data))
		}
	case *pyval.Scalar:
		dt, data = x.DType, x.Data
	default:
		return dst, fmt.Errorf("%w: encoding %s: want an ndarray or numpy scalar, got %s", ErrUnsupported, CArray, v.Kind())
	}
	if dt.HasObject() {
		return dst, fmt.Errorf("%w: encoding %s", ErrObjectArray, CArray)
	}
	if c.DType.Kind != 0 && !dt.Equal(c.DType) {
		return dst, fmt.Errorf("%w: encoding %s: dtype %s, the exchange's is %s", ErrUnsupported, CArray, dt, c.DType)
	}
	return append(dst, data...), nil
}

func (c CArrayCodec) Decode(data []byte) (pyval.Value, error) {
	size := c.DType.ItemSize()
	if c.DType.Kind == 0 || size <= 0 {
		return nil, fmt.Errorf("%w: encoding %s: the codec has no dtype (the exchange's dtype and shape are needed)", ErrInvalidData, CArray)
	}
	if c.DType.HasObject() {
		return nil, fmt.Errorf("%w: encoding %s", ErrObjectArray, CArray)
	}
	if len(data)%size != 0 {
		return nil, fmt.Errorf("%w: encoding %s: %d bytes is not a multiple of the item size %d of %s", ErrInvalidData, CArray, len(data), size, c.DType)
	}
	count := len(data) / size
	shape := make([]int, len(c.Shape))
	known, infer := 1, -1
	for i, d := range c.Shape {
		switch {
		case d == -1 && infer < 0:
			infer = i
			continue
		case d < 0:
			return nil, fmt.Errorf("%w: encoding %s: bad shape %v", ErrInvalidData, CArray, c.Shape)
		}
		shape[i] = d
		if d != 0 && known > math.MaxInt/d {
			return nil, fmt.Errorf("%w: encoding %s: shape %v too large", ErrInvalidData, CArray, c.Shape)
		}
		known *= d
	}
	if infer >= 0 {
		if known == 0 || count%known != 0 {
			return nil, fmt.Errorf("%w: encoding %s: cannot reshape %d elements into %v", ErrInvalidData, CArray, count, c.Shape)
		}
		shape[infer] = count / known
		known = count
	}
	if known != count {
		return nil, fmt.Errorf("%w: encoding %s: cannot reshape %d elements into %v", ErrInvalidData, CArray, count, c.Shape)
	}
	return &pyval.NDArray{DType: c.DType, Shape: shape, Data: data[:len(data):len(data)]}, nil
}

// PythonCodec is the connector's "python" encoding [inferred], which the
// connector documentation names as its default: the Python literal text
// of the value (repr(value) as UTF-8) and ast.literal_eval to read it.
// It carries None, bool, int, float, complex, str, bytes, tuple, list and
// dict; numpy scalars are written as their Python item (numpy 1.24 prints
// them that way); arrays are refused (numpy's repr is not a literal).
// Floats that are inf or nan are written as Python writes them (inf, nan)
// though literal_eval cannot read them back.
//
// Python would also send a str bare via str(value); TextFallback accepts
// such text on decode, returning it as a str when it is not a literal.
// Avoid this encoding for new topics shared with other languages.
type PythonCodec struct {
	TextFallback bool
}

func (PythonCodec) Name() string { return Python }

func (c PythonCodec) Encode(v pyval.Value) ([]byte, error) { return c.AppendEncode(nil, v) }

// AppendEncode appends the Python literal text of v to dst.
func (PythonCodec) AppendEncode(dst []byte, v pyval.Value) ([]byte, error) {
	lv, err := literalValue(v, 0)
	if err != nil {
		return dst, err
	}
	return append(dst, pylit.Format(lv)...), nil
}

func (c PythonCodec) Decode(data []byte) (pyval.Value, error) {
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("%w: %w: encoding %s: invalid UTF-8 at byte %d", ErrInvalidData, ErrUnicode, Python, invalidAt(data))
	}
	v, err := pylit.Parse(string(data))
	if err != nil {
		if c.TextFallback {
			return pyval.Str(data), nil
		}
		return nil, fmt.Errorf("%w: encoding %s: %w", ErrInvalidData, Python, err)
	}
	return v, nil
}

// literalValue returns v with numpy scalars replaced by their items,
// refusing what has no literal form.
func literalValue(v pyval.Value, depth int) (pyval.Value, error) {
	if depth > pylit.MaxDepth {
		return nil, fmt.Errorf("%w: encoding %s: nested more than %d levels", ErrUnsupported, Python, pylit.MaxDepth)
	}
	switch x := v.(type) {
	case pyval.NoneType, pyval.Bool, pyval.Int, pyval.Float, pyval.Complex, pyval.Bytes:
		return v, nil
	case pyval.Str:
		if !x.ValidUTF8() {
			return nil, fmt.Errorf("%w: encoding %s: str is not valid UTF-8", ErrUnicode, Python)
		}
		return v, nil
	case *pyval.Scalar:
		item, err := x.Item()
		if _, still := item.(*pyval.Scalar); err != nil || still {
			return nil, fmt.Errorf("%w: encoding %s: numpy scalar of dtype %s has no literal", ErrUnsupported, Python, x.DType)
		}
		return literalValue(item, depth)
	case pyval.List:
		out := make(pyval.List, len(x))
		for i, e := range x {
			var err error
			if out[i], err = literalValue(e, depth+1); err != nil {
				return nil, err
			}
		}
		return out, nil
	case pyval.Tuple:
		out := make(pyval.Tuple, len(x))
		for i, e := range x {
			var err error
			if out[i], err = literalValue(e, depth+1); err != nil {
				return nil, err
			}
		}
		return out, nil
	case *pyval.Dict:
		out := &pyval.Dict{}
		for _, it := range x.Items() {
			k, err := literalValue(it.Key, depth+1)
			if err != nil {
				return nil, err
			}
			val, err := literalValue(it.Value, depth+1)
			if err != nil {
				return nil, err
			}
			if err := out.Set(k, val); err != nil {
				return nil, fmt.Errorf("%w: encoding %s: %w", ErrUnsupported, Python, err)
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: encoding %s: %s has no Python literal", ErrUnsupported, Python, v.Kind())
}
