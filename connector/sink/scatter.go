package sink

import (
	"context"
	"errors"
	"fmt"

	"github.com/sdpkit/sdpkit/connector/attribute"
	"github.com/sdpkit/sdpkit/connector/internal/ndconv"
	"github.com/sdpkit/sdpkit/pyval"
)

// ErrUnevenSplit is numpy.split's "array split does not result in an equal
// division".
var ErrUnevenSplit = errors.New("array split does not result in an equal division")

// Split divides a along axis as numpy.split does. With indices == nil it
// makes sections equal parts and fails with ErrUnevenSplit when the axis
// length is not a multiple of sections. Otherwise indices are the ordered
// split boundaries: N boundaries give N+1 parts a[0:i0], a[i0:i1], …,
// a[iN-1:], each bound read as a Python slice bound (negative counts from
// the end, out of range clamps), so a part may be empty. A negative axis
// counts from the last.
func Split(a *pyval.NDArray, sections int, indices []int, axis int) ([]*pyval.NDArray, error) {
	nd := len(a.Shape)
	if axis < -nd || axis >= nd {
		return nil, fmt.Errorf("axis %d is out of bounds for array of dimension %d", axis, nd)
	}
	if axis < 0 {
		axis += nd
	}
	n := a.Shape[axis]
	var bounds []int
	if indices == nil {
		if sections <= 0 {
			return nil, fmt.Errorf("number sections must be larger than 0")
		}
		if n%sections != 0 {
			return nil, ErrUnevenSplit
		}
		for i := 0; i <= sections; i++ {
			bounds = append(bounds, i*(n/sections))
		}
	} else {
		bounds = append(append([]int{0}, indices...), n)
	}
	outer := 1
	for _, d := range a.Shape[:axis] {
		outer *= d
	}
	inner := a.DType.ItemSize()
	for _, d := range a.Shape[axis+1:] {
		inner *= d
	}
	data := a.CData()
	parts := make([]*pyval.NDArray, len(bounds)-1)
	for p := range parts {
		st, end := sliceBound(bounds[p], n), sliceBound(bounds[p+1], n)
		if end < st {
			end = st
		}
		k := end - st
		buf := make([]byte, 0, outer*k*inner)
		for o := 0; o < outer; o++ {
			base := o * n * inner
			buf = append(buf, data[base+st*inner:base+end*inner]...)
		}
		shape := append([]int(nil), a.Shape...)
		shape[axis] = k
		parts[p] = &pyval.NDArray{DType: a.DType, Shape: shape, Data: buf}
	}
	return parts, nil
}

// sliceBound normalises a Python slice bound for a sequence of length n.
func sliceBound(i, n int) int {
	if i < 0 {
		i += n
		if i < 0 {
			return 0
		}
	}
	return min(i, n)
}

// ScatterOption configures an ArrayScatterSink.
type ScatterOption func(*ArrayScatterSink)

// WithAxis sets the split axis (default 0).
func WithAxis(axis int) ScatterOption { return func(s *ArrayScatterSink) { s.axis = axis } }

// WithIndices sets the split boundaries (numpy.split indices); without them
// the value is split into len(names) equal parts.
func WithIndices(indices []int) ScatterOption {
	return func(s *ArrayScatterSink) { s.indices = append([]int{}, indices...) }
}

// WithShapeNames names one attribute per part that holds the part's shape
// (an int64 spectrum), which readers need when parts vary in size.
func WithShapeNames(names []string) ScatterOption {
	return func(s *ArrayScatterSink) { s.shapeNames = append([]string(nil), names...) }
}

// WithDefault sets the parts' initial value (the descriptor's
// default_value; "" means none).
func WithDefault(v pyval.Value) ScatterOption { return func(s *ArrayScatterSink) { s.def = v } }

// ArrayScatterSink splits every array it receives along one axis and writes
// part i to attribute names[i] (TangoArrayScatterAttributeSink), and the
// part's shape to shape name i when shape names are given.
type ArrayScatterSink struct {
	store      *attribute.Store
	dtype      pyval.DType
	names      []string
	shapeNames []string
	axis       int
	indices    []int
	def        pyval.Value
}

// NewArrayScatterSink checks the configuration against the input dtype and
// shape (the pipe's output), defines the attributes and returns the sink.
// Each part attribute has the input dtype and, as maximum shape, the input
// shape with the split axis replaced by the part's length when it is known
// (-1 otherwise).
func NewArrayScatterSink(store *attribute.Store, dtype pyval.DType, shape []int, names []string, opts ...ScatterOption) (*ArrayScatterSink, error) {
	s := &ArrayScatterSink{store: store, dtype: dtype, names: append([]string(nil), names...)}
	for _, o := range opts {
		o(s)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%w: array scatter sink without attribute names", ErrConfig)
	}
	if dtype.Kind == 'O' || isBytes(dtype) {
		return nil, fmt.Errorf("%w: array scatter sink needs an array dtype, not %s", ErrConfig, dtype)
	}
	if s.indices != nil && len(s.indices)+1 != len(names) {
		return nil, fmt.Errorf("%w: %d indices make %d parts, but there are %d attribute names", ErrConfig, len(s.indices), len(s.indices)+1, len(names))
	}
	if s.shapeNames != nil && len(s.shapeNames) != len(names) {
		return nil, fmt.Errorf("%w: %d attribute_shape_names for %d attribute_names", ErrConfig, len(s.shapeNames), len(names))
	}
	nd := len(shape)
	if nd == 0 {
		return nil, fmt.Errorf("%w: cannot split scalar values", ErrConfig)
	}
	if s.axis < -nd || s.axis >= nd {
		return nil, fmt.Errorf("%w: axis %d is out of bounds for shape %v", ErrConfig, s.axis, shape)
	}
	axis := s.axis
	if axis < 0 {
		axis += nd
	}
	partLen := make([]int, len(names))
	for i := range partLen {
		partLen[i] = -1
	}
	if n := shape[axis]; n >= 0 {
		if s.indices == nil {
			if n%len(names) != 0 {
				return nil, fmt.Errorf("%w: axis length %d: %w", ErrConfig, n, ErrUnevenSplit)
			}
			for i := range partLen {
				partLen[i] = n / len(names)
			}
		} else {
			bounds := append(append([]int{0}, s.indices...), n)
			for i := range partLen {
				st, end := sliceBound(bounds[i], n), sliceBound(bounds[i+1], n)
				partLen[i] = max(end-st, 0)
			}
		}
	}
	var specs []attribute.Spec
	for i, name := range names {
		ps := append([]int(nil), shape...)
		ps[axis] = partLen[i]
		specs = append(specs, attribute.Spec{Name: name, DType: dtype, Shape: ps, Default: partDefault(s.def, ps)})
	}
	for _, name := range s.shapeNames {
		specs = append(specs, attribute.Spec{Name: name, DType: pyval.Int64, Shape: []int{nd}})
	}
	for _, sp := range specs {
		if err := store.Define(sp); err != nil {
			return nil, fmt.Errorf("sink: %w", err)
		}
	}
	return s, nil
}

// Attributes returns the part attributes, then the shape attributes.
func (s *ArrayScatterSink) Attributes() []string {
	return append(append([]string(nil), s.names...), s.shapeNames...)
}

// Start does nothing.
func (s *ArrayScatterSink) Start(context.Context) error { return nil }

// Write splits v and sets every part (and shape) attribute.
func (s *ArrayScatterSink) Write(ctx context.Context, v pyval.Value) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	a, err := ndconv.ToArray(v, s.dtype)
	if err != nil {
		return fmt.Errorf("array scatter: %w", err)
	}
	parts, err := Split(a, len(s.names), s.indices, s.axis)
	if err != nil {
		return fmt.Errorf("array scatter of shape %v: %w", a.Shape, err)
	}
	for i, p := range parts {
		if err := s.store.Set(s.names[i], p); err != nil {
			return err
		}
		if s.shapeNames != nil {
			shape := make([]int64, len(p.Shape))
			for d, n := range p.Shape {
				shape[d] = int64(n)
			}
			if err := s.store.Set(s.shapeNames[i], pyval.ArrayOf(shape)); err != nil {
				return err
			}
		}
	}
	return nil
}

// Stop does nothing; the attributes keep their last values.
func (s *ArrayScatterSink) Stop(context.Context) error { return nil }

// partDefault fits the default value to a part's fixed shape, as numpy
// would fill an attribute of that shape: a number is broadcast to every
// element (example 04 gives default_value 0 for 1-D parts), and a default
// holding exactly as many elements as the part but fewer dimensions is
// reshaped, C order (numpy.split of a [4, 3] array on axis 0 gives [1, 3]
// parts, whose natural default is one row, [0, 0, 0]). Anything else,
// including a str default ("" means none), is left for the attribute store
// to check.
func partDefault(def pyval.Value, shape []int) pyval.Value {
	if def == nil || len(shape) == 0 {
		return def
	}
	size := 1
	for _, n := range shape {
		if n < 0 {
			return def
		}
		size *= n
	}
	switch def.(type) {
	case pyval.Str, pyval.Bytes, pyval.NoneType:
		return def
	}
	got, flat, err := ndconv.Nested(def)
	switch {
	case err != nil:
		return def
	case len(got) == 0:
		fill := make([]pyval.Value, size)
		for i := range fill {
			fill[i] = def
		}
		return nest(fill, shape)
	case len(got) != len(shape) && len(flat) == size:
		return nest(flat, shape)
	}
	return def
}

// nest builds nested lists of shape from flat elements, C order.
func nest(flat []pyval.Value, shape []int) pyval.Value {
	if len(shape) == 1 {
		return pyval.List(append([]pyval.Value(nil), flat...))
	}
	step := len(flat) / max(shape[0], 1)
	out := make(pyval.List, shape[0])
	for i := range out {
		out[i] = nest(flat[i*step:(i+1)*step], shape[1:])
	}
	return out
}
