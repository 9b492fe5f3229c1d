//go:build tango

package tango

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/sdpkit/sdpkit/connector/attribute"
	"github.com/sdpkit/sdpkit/pyval"
)

// wire is a value as the shim exchanges it: numeric and boolean elements
// little-endian in C order, strings NUL-separated, DevEncoded as the format
// in strs and the payload in data.
type wire struct {
	dimX, dimY int
	data       []byte
	strs       []byte
	nstrs      int
	none       bool // no value (quality INVALID)
}

// toWire converts v to type t and format f. Scalars accept Python and
// numpy scalars (and 0-d arrays); spectra and images accept ndarrays of
// 1 and 2 dimensions (any numeric dtype converts to the attribute's) and,
// for DevString, str arrays or lists of str; DevEncoded accepts a
// (str, bytes) tuple.
func toWire(t Type, f attribute.Format, v pyval.Value) (wire, error) {
	if v == nil {
		v = pyval.None
	}
	if _, ok := v.(pyval.NoneType); ok {
		return wire{none: true}, nil
	}
	switch t {
	case DevEncoded:
		if f != attribute.Scalar {
			return wire{}, fmt.Errorf("tango: DevEncoded must be SCALAR, not %s: %w", f, ErrType)
		}
		tup, ok := v.(pyval.Tuple)
		if !ok {
			if l, ok2 := v.(pyval.List); ok2 {
				tup, ok = pyval.Tuple(l), true
			}
		}
		if !ok || len(tup) != 2 {
			return wire{}, fmt.Errorf("tango: DevEncoded value must be an (encoding, bytes) pair, not %s: %w", pyval.Repr(v), ErrType)
		}
		enc, err := pyval.AsString(tup[0])
		if err != nil {
			return wire{}, fmt.Errorf("tango: DevEncoded encoding: %w", err)
		}
		var payload []byte
		if s, ok := tup[1].(pyval.Str); ok {
			payload = []byte(s)
		} else if payload, err = pyval.AsBytes(tup[1]); err != nil {
			return wire{}, fmt.Errorf("tango: DevEncoded payload: %w", err)
		}
		return wire{dimX: 1, data: payload, strs: append([]byte(enc), 0), nstrs: 1}, nil
	case DevString:
		var strs []string
		w := wire{dimX: 1}
		if f == attribute.Scalar {
			s, err := scalarString(v)
			if err != nil {
				return wire{}, err
			}
			strs = []string{s}
		} else {
			var shape []int
			switch x := v.(type) {
			case pyval.List, pyval.Tuple:
				var items []pyval.Value
				if l, ok := x.(pyval.List); ok {
					items = l
				} else {
					items = x.(pyval.Tuple)
				}
				for _, it := range items {
					s, err := pyval.AsString(it)
					if err != nil {
						return wire{}, fmt.Errorf("tango: DevString element: %w", err)
					}
					strs = append(strs, s)
				}
				shape = []int{len(strs)}
			default:
				a, err := pyval.AsNDArray(v)
				if err != nil {
					return wire{}, fmt.Errorf("tango: DevString %s needs a str array: %w", f, err)
				}
				if strs, err = a.Strings(); err != nil {
					return wire{}, fmt.Errorf("tango: DevString %s: %w", f, err)
				}
				shape = a.Shape
			}
			if err := setDims(&w, f, shape); err != nil {
				return wire{}, err
			}
		}
		var b bytes.Buffer
		for _, s := range strs {
			b.WriteString(s)
			b.WriteByte(0)
		}
		w.strs, w.nstrs = b.Bytes(), len(strs)
		return w, nil
	}
	if t.size() == 0 {
		return wire{}, fmt.Errorf("tango: type %s: %w", t, ErrType)
	}
	if f == attribute.Scalar {
		a, err := scalarArray(t, v)
		if err != nil {
			return wire{}, err
		}
		return wire{dimX: 1, data: a}, nil
	}
	a, err := pyval.AsNDArray(v)
	if err != nil {
		return wire{}, fmt.Errorf("tango: %s %s needs an ndarray, not %s: %w", t, f, pyval.Repr(v), ErrType)
	}
	w := wire{}
	if err := setDims(&w, f, a.Shape); err != nil {
		return wire{}, err
	}
	if w.data, err = elements(t, a); err != nil {
		return wire{}, err
	}
	return w, nil
}

func setDims(w *wire, f attribute.Format, shape []int) error {
	switch {
	case f == attribute.Spectrum && len(shape) == 1:
		w.dimX = shape[0]
	case f == attribute.Image && len(shape) == 2:
		w.dimY, w.dimX = shape[0], shape[1]
	default:
		return fmt.Errorf("tango: shape %v does not fit %s: %w", shape, f, ErrType)
	}
	return nil
}

func scalarString(v pyval.Value) (string, error) {
	if a, ok := v.(*pyval.NDArray); ok && a.Ndim() == 0 {
		ss, err := a.Strings()
		if err == nil && len(ss) == 1 {
			return ss[0], nil
		}
	}
	s, err := pyval.AsString(v)
	if err != nil {
		return "", fmt.Errorf("tango: DevString scalar: %w", err)
	}
	return s, nil
}

// scalarArray converts a scalar to one element of t.
func scalarArray(t Type, v pyval.Value) ([]byte, error) {
	if a, ok := v.(*pyval.NDArray); ok {
		if a.Len() != 1 {
			return nil, fmt.Errorf("tango: %s SCALAR needs one value, not an array of shape %v: %w", t, a.Shape, ErrType)
		}
		return elements(t, a)
	}
	if s, ok := v.(*pyval.Scalar); ok {
		a, err := pyval.NewNDArray(s.DType, nil, false, s.Data)
		if err != nil {
			return nil, err
		}
		return elements(t, a)
	}
	if b, ok := scalarFast(t, v); ok {
		return b, nil
	}
	a := numberArray(v)
	if a == nil {
		return nil, fmt.Errorf("tango: %s SCALAR needs a number, not %s: %w", t, pyval.Repr(v), ErrType)
	}
	return elements(t, a)
}

// numberArray is a Python bool, int or float as a one-element array of its
// numpy dtype; nil for anything else.
func numberArray(v pyval.Value) *pyval.NDArray {
	switch x := v.(type) {
	case pyval.Bool:
		return pyval.ArrayOf([]bool{bool(x)})
	case pyval.Int:
		if i, ok := x.Int64(); ok {
			return pyval.ArrayOf([]int64{i})
		} else if u, ok := x.Uint64(); ok {
			return pyval.ArrayOf([]uint64{u})
		}
	case pyval.Float:
		return pyval.ArrayOf([]float64{float64(x)})
	}
	return nil
}

// scalarFast converts a Python bool, int or float exactly as the general
// path (a one-element array through elements) would, without building the
// array: Server.Set of a scalar is the connector's hot path. It declines
// (ok false) what the general path must handle or reject.
func scalarFast(t Type, v pyval.Value) (b []byte, ok bool) {
	var u uint64
	var f float64
	switch x := v.(type) {
	case pyval.Bool:
		if x {
			u, f = 1, 1
		}
	case pyval.Int:
		i, fits := x.Int64()
		if !fits {
			return nil, false
		}
		if t == DevBoolean {
			i = b2i(i != 0)
		}
		u, f = uint64(i), float64(i)
	case pyval.Float:
		if t != DevFloat && t != DevDouble {
			return nil, false
		}
		f = float64(x)
	default:
		return nil, false
	}
	b = make([]byte, t.size())
	putUint(t, b, 0, u, f)
	return b, true
}

// elements converts an array's elements to t's little-endian layout.
func elements(t Type, a *pyval.NDArray) ([]byte, error) {
	want, _ := t.DType()
	if a.DType.Equal(want) {
		return a.CData(), nil
	}
	n := a.Len()
	out := make([]byte, n*t.size())
	switch a.DType.Kind {
	case 'b':
		bs, err := a.Bools()
		if err != nil {
			return nil, err
		}
		for i, b := range bs {
			var x uint64
			if b {
				x = 1
			}
			putUint(t, out, i, x, float64(x))
		}
	case 'i':
		is, err := a.Int64s()
		if err != nil {
			return nil, err
		}
		for i, x := range is {
			if t == DevBoolean {
				x = b2i(x != 0)
			}
			putUint(t, out, i, uint64(x), float64(x))
		}
	case 'u':
		us, err := a.Uint64s()
		if err != nil {
			return nil, err
		}
		for i, x := range us {
			if t == DevBoolean {
				x = uint64(b2i(x != 0))
			}
			putUint(t, out, i, x, float64(x))
		}
	case 'f':
		if t != DevFloat && t != DevDouble {
			return nil, fmt.Errorf("tango: %s from a %s array would lose the fraction: %w", t, a.DType, ErrType)
		}
		fs, err := a.Float64s()
		if err != nil {
			return nil, err
		}
		for i, x := range fs {
			putUint(t, out, i, 0, x)
		}
	default:
		return nil, fmt.Errorf("tango: %s from a %s array: %w", t, a.DType, ErrType)
	}
	return out, nil
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// putUint stores element i: integers from u (two's complement, truncated
// to the width, as numpy's astype does), floats from f.
func putUint(t Type, out []byte, i int, u uint64, f float64) {
	switch t {
	case DevBoolean, DevUChar:
		out[i] = byte(u)
	case DevShort, DevUShort:
		binary.LittleEndian.PutUint16(out[2*i:], uint16(u))
	case DevLong, DevULong:
		binary.LittleEndian.PutUint32(out[4*i:], uint32(u))
	case DevLong64, DevULong64:
		binary.LittleEndian.PutUint64(out[8*i:], u)
	case DevFloat:
		binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(float32(f)))
	case DevDouble:
		binary.LittleEndian.PutUint64(out[8*i:], math.Float64bits(f))
	}
}

// fromWire converts a value from the shim to pyval: Python scalars (bool,
// int, float, str) for SCALAR, ndarrays of the type's dtype for SPECTRUM
// ([x]) and IMAGE ([y, x]), str arrays for DevString, and an (encoding,
// bytes) tuple for DevEncoded.
func fromWire(t Type, f attribute.Format, w wire) (pyval.Value, error) {
	if w.none {
		return pyval.None, nil
	}
	switch t {
	case DevEncoded:
		strs := splitStrs(w.strs, 1)
		return pyval.Tuple{pyval.Str(strs[0]), pyval.Bytes(w.data)}, nil
	case DevString:
		strs := splitStrs(w.strs, w.nstrs)
		if f == attribute.Scalar {
			if len(strs) == 0 {
				return pyval.Str(""), nil
			}
			return pyval.Str(strs[0]), nil
		}
		if f == attribute.Image {
			if w.dimX*w.dimY != len(strs) {
				return nil, fmt.Errorf("tango: DevString image %dx%d with %d strings: %w", w.dimY, w.dimX, len(strs), ErrType)
			}
			return pyval.StringArray(strs, w.dimY, w.dimX), nil
		}
		return pyval.StringArray(strs, len(strs)), nil
	}
	dt, ok := t.DType()
	if !ok || t.size() == 0 {
		return nil, fmt.Errorf("tango: type %s: %w", t, ErrType)
	}
	if f == attribute.Scalar {
		if len(w.data) < t.size() {
			return nil, fmt.Errorf("tango: %s scalar of %d bytes: %w", t, len(w.data), ErrType)
		}
		return scalarValue(t, w.data), nil
	}
	shape := []int{len(w.data) / t.size()}
	if f == attribute.Image {
		if w.dimX*w.dimY != shape[0] {
			return nil, fmt.Errorf("tango: %s image %dx%d with %d elements: %w", t, w.dimY, w.dimX, shape[0], ErrType)
		}
		shape = []int{w.dimY, w.dimX}
	}
	return pyval.NewNDArray(dt, shape, false, w.data)
}

func scalarValue(t Type, b []byte) pyval.Value {
	le := binary.LittleEndian
	switch t {
	case DevBoolean:
		return pyval.Bool(b[0] != 0)
	case DevUChar:
		return pyval.IntOf(int64(b[0]))
	case DevShort:
		return pyval.IntOf(int64(int16(le.Uint16(b))))
	case DevUShort:
		return pyval.IntOf(int64(le.Uint16(b)))
	case DevLong:
		return pyval.IntOf(int64(int32(le.Uint32(b))))
	case DevULong:
		return pyval.IntOf(int64(le.Uint32(b)))
	case DevLong64:
		return pyval.IntOf(int64(le.Uint64(b)))
	case DevULong64:
		return pyval.UintOf(le.Uint64(b))
	case DevFloat:
		return pyval.Float(math.Float32frombits(le.Uint32(b)))
	default:
		return pyval.Float(math.Float64frombits(le.Uint64(b)))
	}
}

func splitStrs(b []byte, n int) []string {
	out := make([]string, 0, n)
	for len(out) < n {
		i := bytes.IndexByte(b, 0)
		if i < 0 {
			out = append(out, string(b))
			b = nil
			continue
		}
		out = append(out, string(b[:i]))
		b = b[i+1:]
	}
	return out
}
