package npy

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/sdpkit/sdpkit/pyval"
)

// Encode returns the .npy file numpy.save would write for a: the header
// followed by a.Data. It refuses object dtypes (ErrObject) and arrays whose
// data length does not match their dtype and shape (ErrInvalidArray).
func Encode(a *pyval.NDArray) ([]byte, error) {
	hdr, err := encodeHeader(a)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(hdr)+len(a.Data))
	return append(append(out, hdr...), a.Data...), nil
}

// Write writes the .npy file of a to w (see Encode).
func Write(w io.Writer, a *pyval.NDArray) error {
	hdr, err := encodeHeader(a)
	if err != nil {
		return err
	}
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	_, err = w.Write(a.Data)
	return err
}

// EncodeHeader returns the bytes that precede the data in a's .npy file:
// magic, version, header length and padded header.
func EncodeHeader(a *pyval.NDArray) ([]byte, error) { return encodeHeader(a) }

func encodeHeader(a *pyval.NDArray) ([]byte, error) {
	if a == nil {
		return nil, fmt.Errorf("%w: nil array", ErrInvalidArray)
	}
	dt := a.DType
	if dt.HasObject() {
		return nil, fmt.Errorf("%w: dtype %s", ErrObject, dt)
	}
	if err := checkDType(dt, 0); err != nil {
		return nil, err
	}
	size, ok := dataSize(dt, a.Shape)
	if !ok {
		return nil, fmt.Errorf("%w: bad shape %v", ErrInvalidArray, a.Shape)
	}
	if len(a.Data) != size {
		return nil, fmt.Errorf("%w: shape %v of dtype %s needs %d data bytes, has %d", ErrInvalidArray, a.Shape, dt, size, len(a.Data))
	}
	fortran := a.FortranOrder && !cContiguous(a.Shape)

	var sb strings.Builder
	sb.WriteString("{'descr': ")
	sb.WriteString(pyval.Repr(dt.Descr()))
	sb.WriteString(", 'fortran_order': ")
	if fortran {
		sb.WriteString("True")
	} else {
		sb.WriteString("False")
	}
	sb.WriteString(", 'shape': (")
	for i, n := range a.Shape {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(strconv.Itoa(n))
	}
	if len(a.Shape) == 1 {
		sb.WriteByte(',')
	}
	sb.WriteString("), }")
	// Spare room so that the growth axis can be rewritten in place with up
	// to 21 digits (numpy >= 1.23).
	if len(a.Shape) > 0 {
		axis := a.Shape[0]
		if fortran {
			axis = a.Shape[len(a.Shape)-1]
		}
		if pad := 21 - len(strconv.Itoa(axis)); pad > 0 {
			sb.WriteString(strings.Repeat(" ", pad))
		}
	}
	return wrapHeader(sb.String()), nil
}

// wrapHeader picks the oldest version that can hold header and adds the
// prefix and the padding to a multiple of 64 bytes.
func wrapHeader(header string) []byte {
	if latin1, ok := toLatin1(header); ok {
		if b, ok := wrap(latin1, Version1); ok {
			return b
		}
		b, _ := wrap(latin1, Version2)
		return b
	}
	b, _ := wrap([]byte(header), Version3)
	return b
}

func wrap(header []byte, v Version) ([]byte, bool) {
	prefix := len(Magic) + 2 + v.lengthFieldSize()
	hlen := len(header) + 1 // the final newline
	padlen := 64 - (prefix+hlen)%64
	total := hlen + padlen
	if v == Version1 && total > 0xffff {
		return nil, false
	}
	var buf bytes.Buffer
	buf.Grow(prefix + total)
	buf.WriteString(Magic)
	buf.WriteByte(v.Major)
	buf.WriteByte(v.Minor)
	if v == Version1 {
		_ = binary.Write(&buf, binary.LittleEndian, uint16(total))
	} else {
		_ = binary.Write(&buf, binary.LittleEndian, uint32(total))
	}
	buf.Write(header)
	buf.Write(bytes.Repeat([]byte{' '}, padlen))
	buf.WriteByte('\n')
	return buf.Bytes(), true
}

// toLatin1 encodes s as latin-1, reporting false if it has a character
// above U+00FF.
func toLatin1(s string) ([]byte, bool) {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			return nil, false
		}
		out = append(out, byte(r))
	}
	return out, true
}

// cContiguous reports whether an array of this shape stored column-major
// is also row-major, in which case numpy writes fortran_order False: at
// most one dimension longer than 1, or no elements at all.
func cContiguous(shape []int) bool {
	long := 0
	for _, n := range shape {
		if n == 0 {
			return true
		}
		if n > 1 {
			long++
		}
	}
	return long <= 1
}

// checkDType makes sure every simple dtype in dt prints as a descr that
// numpy (and Decode) reads back as the same dtype.
func checkDType(dt pyval.DType, depth int) error {
	if depth > 32 {
		return fmt.Errorf("%w: dtype nested too deeply", ErrInvalidArray)
	}
	if dt.Fields == nil {
		back, err := pyval.ParseDType(dt.String())
		if err != nil || !back.Equal(dt) {
			return fmt.Errorf("%w: dtype %q is not a valid numpy dtype", ErrInvalidArray, dt.String())
		}
		return nil
	}
	for _, f := range dt.Fields {
		for _, n := range f.Shape {
			if n < 0 {
				return fmt.Errorf("%w: field %q has a negative sub-array shape", ErrInvalidArray, f.Name)
			}
		}
		if err := checkDType(f.DType, depth+1); err != nil {
			return err
		}
	}
	return nil
}
