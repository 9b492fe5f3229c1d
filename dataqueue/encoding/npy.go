package encoding

import (
	"errors"
	"fmt"
	"math"

	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/pyval/npy"
)

// NPYCodec is the "npy" encoding: the bytes numpy.save(buf, value,
// allow_pickle=False) writes (numpy 1.24) and numpy.load reads. The header
// is format version 1.0, or 2.0 when it exceeds 65535 bytes, or 3.0 when a
// field name is not latin-1. The data is in C order, except for an array
// that is Fortran-ordered and not also C-contiguous, which is written
// column-major with fortran_order True (numpy's rule; see package npy).
//
// Encode takes an *pyval.NDArray, or a value numpy.save turns into a 0-d
// array: a numpy scalar (*pyval.Scalar) or a Python bool, int (int64, or
// uint64 above 2**63-1; wider ints would be object arrays and fail with
// ErrObjectArray), float, complex, str (<U) or bytes (|S). Lists and
// other containers are refused (ErrUnsupported): numpy would infer a dtype
// for them, which is better made explicit by building an array. Object
// arrays are refused both ways (ErrObjectArray).
//
// Decode returns the array, always an *pyval.NDArray (0-d for a scalar);
// its Data shares memory with the input (numpy.load copies, but the input
// here is a message nobody writes to). Bytes after the array are ignored,
// as numpy.load ignores them.
type NPYCodec struct{}

func (NPYCodec) Name() string { return NPY }

func (c NPYCodec) Encode(v pyval.Value) ([]byte, error) {
	a, err := npyArray(v)
	if err != nil {
		return nil, err
	}
	out, err := npy.Encode(a)
	if err != nil {
		return nil, npyErr(err)
	}
	return out, nil
}

// AppendEncode appends the .npy bytes of v to dst.
func (NPYCodec) AppendEncode(dst []byte, v pyval.Value) ([]byte, error) {
	a, err := npyArray(v)
	if err != nil {
		return dst, err
	}
	out, err := npy.AppendHeader(dst, a)
	if err != nil {
		return dst, npyErr(err)
	}
	return append(out, a.Data...), nil
}

func (NPYCodec) Decode(data []byte) (pyval.Value, error) {
	a, err := npy.DecodeAlias(data)
	if err != nil {
		if errors.Is(err, npy.ErrObject) {
			return nil, fmt.Errorf("%w: %w: encoding %s: %w", ErrInvalidData, ErrObjectArray, NPY, err)
		}
		return nil, fmt.Errorf("%w: encoding %s: %w", ErrInvalidData, NPY, err)
	}
	return a, nil
}

func npyErr(err error) error {
	switch {
	case errors.Is(err, npy.ErrObject):
		return fmt.Errorf("%w: encoding %s: %w", ErrObjectArray, NPY, err)
	case errors.Is(err, npy.ErrInvalidArray):
		return fmt.Errorf("%w: encoding %s: %w", ErrUnsupported, NPY, err)
	}
	return fmt.Errorf("encoding %s: %w", NPY, err)
}

// npyArray returns the array numpy.save would write for v.
func npyArray(v pyval.Value) (*pyval.NDArray, error) {
	switch x := v.(type) {
	case *pyval.NDArray:
		return x, nil
	case *pyval.Scalar:
		return &pyval.NDArray{DType: x.DType, Shape: []int{}, Data: x.Data}, nil
	case pyval.Bool:
		return zeroD(pyval.ArrayOf([]bool{bool(x)})), nil
	case pyval.Int:
		if i, ok := x.Int64(); ok {
			return zeroD(pyval.ArrayOf([]int64{i})), nil
		}
		if u, ok := x.Uint64(); ok {
			return zeroD(pyval.ArrayOf([]uint64{u})), nil
		}
		// numpy.asarray makes an object array of a wider int, which
		// numpy.save(allow_pickle=False) refuses.
		return nil, fmt.Errorf("%w: encoding %s: int of %d bits needs an object array", ErrObjectArray, NPY, x.BitLen())
	case pyval.Float:
		return zeroD(pyval.ArrayOf([]float64{float64(x)})), nil
	case pyval.Complex:
		return zeroD(pyval.ArrayOf([]complex128{complex128(x)})), nil
	case pyval.Str:
		if !x.ValidUTF8() {
			return nil, fmt.Errorf("%w: encoding %s: str is not valid UTF-8", ErrUnicode, NPY)
		}
		if x == "" {
			// numpy.asarray("") is <U1 holding one NUL character.
			return &pyval.NDArray{DType: pyval.DType{Kind: 'U', ByteOrder: '<', Size: 1}, Shape: []int{}, Data: make([]byte, 4)}, nil
		}
		return zeroD(pyval.StringArray([]string{string(x)})), nil
	case pyval.Bytes:
		// numpy.asarray(b"ab\0") is |S3; numpy's S type drops trailing NULs
		// on reading, as for any fixed-width bytes.
		n := len(x)
		if n == 0 {
			return &pyval.NDArray{DType: pyval.DType{Kind: 'S', ByteOrder: '|', Size: 1}, Shape: []int{}, Data: []byte{0}}, nil
		}
		if n > math.MaxInt32 {
			return nil, fmt.Errorf("%w: encoding %s: bytes too long", ErrUnsupported, NPY)
		}
		return &pyval.NDArray{DType: pyval.DType{Kind: 'S', ByteOrder: '|', Size: n}, Shape: []int{}, Data: x}, nil
	}
	return nil, fmt.Errorf("%w: encoding %s: want an ndarray or a scalar, got %s", ErrUnsupported, NPY, v.Kind())
}

// zeroD makes the one-element array a 0-d array.
func zeroD(a *pyval.NDArray) *pyval.NDArray {
	a.Shape = []int{}
	return a
}
