package exchange

import (
	"context"
	"fmt"
	"time"

	"github.com/sdpkit/sdpkit/connector/internal/ndconv"
	"github.com/sdpkit/sdpkit/pyval"
)

// DefaultPipe passes every value through unchanged: output dtype and shape
// are the input's.
type DefaultPipe struct {
	dtype pyval.DType
	shape []int
}

// NewDefaultPipe returns the identity pipe for values of dtype and shape.
func NewDefaultPipe(dtype pyval.DType, shape []int) *DefaultPipe {
	return &DefaultPipe{dtype: dtype, shape: append([]int{}, shape...)}
}

// OutputDType returns the input dtype.
func (p *DefaultPipe) OutputDType() pyval.DType { return p.dtype }

// OutputShape returns the input shape.
func (p *DefaultPipe) OutputShape() []int { return append([]int{}, p.shape...) }

// Process emits v.
func (p *DefaultPipe) Process(ctx context.Context, v pyval.Value, emit Emit) error {
	return emit(ctx, v)
}

// Flush does nothing: the identity holds nothing back.
func (p *DefaultPipe) Flush(context.Context, Emit) error { return nil }

// BufferWithTimePipe collects the values that arrive during each window of
// timespan and emits them as one batch with a new leading axis: the output
// shape is [-1, *input shape] and the output dtype is the input dtype.
//
// Window policy (the upstream's is undocumented; this is ours): the windows
// follow a periodic timer started with the run, not the first value; a
// window that received nothing emits nothing; the partial window is emitted
// when the exchange flushes the pipe at the end of a run, so buffered values
// are never lost. A timespan of 0 emits every value at once as a batch of
// length 1.
//
// A batch of a numeric, bool, complex, datetime or structured dtype is one
// *pyval.NDArray of the input dtype and shape [n, *input shape] (values are
// converted as numpy.asarray would). A batch of a str, bytes or object dtype
// is a pyval.List of the values as received, because those values are
// Python objects (str, DevEncoded pairs, dicts) rather than fixed-width
// elements.
type BufferWithTimePipe struct {
	dtype    pyval.DType
	shape    []int
	timespan time.Duration
	window   []pyval.Value
}

// NewBufferWithTimePipe returns a buffering pipe for values of dtype and
// shape. A negative timespan is an error.
func NewBufferWithTimePipe(dtype pyval.DType, shape []int, timespan time.Duration) (*BufferWithTimePipe, error) {
	if timespan < 0 {
		return nil, fmt.Errorf("exchange: BufferWithTimePipe timespan %v is negative", timespan)
	}
	return &BufferWithTimePipe{dtype: dtype, shape: append([]int{}, shape...), timespan: timespan}, nil
}

// OutputDType returns the input dtype.
func (p *BufferWithTimePipe) OutputDType() pyval.DType { return p.dtype }

// OutputShape returns [-1, *input shape].
func (p *BufferWithTimePipe) OutputShape() []int { return append([]int{-1}, p.shape...) }

// Interval returns the timespan.
func (p *BufferWithTimePipe) Interval() time.Duration { return p.timespan }

// Process adds v to the current window, or with a zero timespan emits it
// as a batch of one.
func (p *BufferWithTimePipe) Process(ctx context.Context, v pyval.Value, emit Emit) error {
	if p.timespan == 0 {
		batch, err := p.stack([]pyval.Value{v})
		if err != nil {
			return err
		}
		return emit(ctx, batch)
	}
	p.window = append(p.window, v)
	return nil
}

// CloseWindow emits the current window as one batch, unless it is empty.
func (p *BufferWithTimePipe) CloseWindow(ctx context.Context, emit Emit) error {
	if len(p.window) == 0 {
		return nil
	}
	batch, err := p.stack(p.window)
	p.window = nil
	if err != nil {
		return err
	}
	return emit(ctx, batch)
}

// Flush emits the partial window.
func (p *BufferWithTimePipe) Flush(ctx context.Context, emit Emit) error {
	return p.CloseWindow(ctx, emit)
}

// Pending returns the number of values in the current window.
func (p *BufferWithTimePipe) Pending() int { return len(p.window) }

func (p *BufferWithTimePipe) stack(vs []pyval.Value) (pyval.Value, error) {
	return Stack(vs, p.dtype, p.shape)
}

// Stack joins values of dtype and shape along a new leading axis, as
// numpy.stack does, with the list-kind rule of BufferWithTimePipe. A -1 in
// shape accepts any length, but all values must still agree.
func Stack(vs []pyval.Value, dtype pyval.DType, shape []int) (pyval.Value, error) {
	if ndconv.IsListKind(dtype) {
		return append(pyval.List(nil), vs...), nil
	}
	var (
		first []int
		data  []byte
		dt    = dtype
	)
	for i, v := range vs {
		a, err := ndconv.ToArray(v, dtype)
		if err != nil {
			return nil, fmt.Errorf("buffer item %d: %w", i, err)
		}
		if len(a.Shape) != len(shape) {
			return nil, fmt.Errorf("buffer item %d: shape %v, want %v", i, a.Shape, shape)
		}
		for d := range shape {
			if shape[d] >= 0 && a.Shape[d] != shape[d] {
				return nil, fmt.Errorf("buffer item %d: shape %v, want %v", i, a.Shape, shape)
			}
		}
		if i == 0 {
			first = a.Shape
			dt = a.DType
			data = make([]byte, 0, len(a.Data)*len(vs))
		} else if !equalShape(first, a.Shape) {
			return nil, fmt.Errorf("buffer item %d: shape %v differs from item 0's %v", i, a.Shape, first)
		}
		data = append(data, a.CData()...)
	}
	return &pyval.NDArray{DType: dt, Shape: append([]int{len(vs)}, first...), Data: data}, nil
}

func equalShape(a, b []int) bool {
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
