package npy

import (
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/sdpkit/sdpkit/pyval"
)

// Encode returns the .npy file numpy.save would write for a: the header
// followed by a.Data. It refuses object dtypes (ErrObject) and arrays whose
// data length does not match their dtype and shape (ErrInvalidArray).
func Encode(a *pyval.NDArray) ([]byte, error) {
	fortran, err := checkArray(a)
	if err != nil {
		return nil, err
	}
	if a.DType.Fields != nil {
		hdr := appendHeader(nil, a, fortran)
		out := make([]byte, 0, len(hdr)+len(a.Data))
		return append(append(out, hdr...), a.Data...), nil
	}
	// One allocation: the header is formatted straight into the output.
	out := make([]byte, 0, headerBound(a)+len(a.Data))
	out = appendHeader(out, a, fortran)
	return append(out, a.Data...), nil
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

// AppendHeader appends EncodeHeader(a) to dst, for callers that write the
// data themselves into a buffer they own (a stack buffer for the header,
// say). On error dst is returned unchanged.
func AppendHeader(dst []byte, a *pyval.NDArray) ([]byte, error) {
	fortran, err := checkArray(a)
	if err != nil {
		return dst, err
	}
	return appendHeader(dst, a, fortran), nil
}

func encodeHeader(a *pyval.NDArray) ([]byte, error) {
	fortran, err := checkArray(a)
	if err != nil {
		return nil, err
	}
	return appendHeader(make([]byte, 0, headerBound(a)), a, fortran), nil
}

// checkArray validates a for encoding and returns the fortran_order to
// write.
func checkArray(a *pyval.NDArray) (fortran bool, err error) {
	if a == nil {
		return false, fmt.Errorf("%w: nil array", ErrInvalidArray)
	}
	dt := a.DType
	if dt.HasObject() {
		return false, fmt.Errorf("%w: dtype %s", ErrObject, dt)
	}
	if !isCommon(dt) {
		if err := checkDType(dt, 0); err != nil {
			return false, err
		}
	}
	size, ok := dataSize(dt, a.Shape)
	if !ok {
		return false, fmt.Errorf("%w: bad shape %v", ErrInvalidArray, a.Shape)
	}
	if len(a.Data) != size {
		return false, fmt.Errorf("%w: shape %v of dtype %s needs %d data bytes, has %d", ErrInvalidArray, a.Shape, dt, size, len(a.Data))
	}
	return a.FortranOrder && !cContiguous(a.Shape), nil
}

// isCommon reports whether dt is one of commonDType's dtypes, which
// checkDType would accept, without checkDType's allocations.
func isCommon(dt pyval.DType) bool {
	if dt.Fields != nil || dt.Unit != "" {
		return false
	}
	var buf [24]byte
	c, ok := commonDType(appendDTypeStr(buf[:0], dt))
	return ok && c.Equal(dt)
}

// headerBound is an upper bound on the header bytes appendHeader writes
// for a simple dtype (0 for a structured one, whose header is formatted
// separately first): prefix 10, fixed text 53, the dtype string, up to 21
// bytes per dimension, 20 of growth-axis spaces, newline and at most 64 of
// padding.
func headerBound(a *pyval.NDArray) int {
	if a.DType.Fields != nil {
		return 0
	}
	return 10 + 53 + 14 + len(a.DType.Unit) + 21*len(a.Shape) + 20 + 1 + 64
}

// appendHeader appends the magic, version, header length and padded header
// of a, which checkArray has accepted, to dst.
func appendHeader(dst []byte, a *pyval.NDArray, fortran bool) []byte {
	if a.DType.Fields == nil {
		if out, ok := appendSimpleHeader(dst, a, fortran); ok {
			return out
		}
	}
	return appendWrapped(dst, headerText(a, fortran))
}

// appendSimpleHeader formats the header of a simple dtype in place, as
// version 1.0; it reports false (leaving dst as it was) if the header is
// too long for 1.0 or, which checkDType rules out, the dtype string would
// need quoting.
func appendSimpleHeader(dst []byte, a *pyval.NDArray, fortran bool) ([]byte, bool) {
	start := len(dst)
	const prefix = len(Magic) + 4
	dst = append(dst, Magic...)
	dst = append(dst, Version1.Major, Version1.Minor, 0, 0)
	dst = append(dst, "{'descr': '"...)
	ds := len(dst)
	dst = appendDTypeStr(dst, a.DType)
	for _, c := range dst[ds:] {
		if c < ' ' || c > '~' || c == '\\' || c == '\'' {
			return dst[:start], false
		}
	}
	dst = append(dst, "', 'fortran_order': "...)
	if fortran {
		dst = append(dst, "True"...)
	} else {
		dst = append(dst, "False"...)
	}
	dst = append(dst, ", 'shape': ("...)
	for i, n := range a.Shape {
		if i > 0 {
			dst = append(dst, ", "...)
		}
		dst = appendInt(dst, n)
	}
	if len(a.Shape) == 1 {
		dst = append(dst, ',')
	}
	dst = append(dst, "), }"...)
	dst = appendGrowthPad(dst, a.Shape, fortran)
	hlen := len(dst) - start - prefix + 1 // with the final newline
	padlen := 64 - (prefix+hlen)%64
	total := hlen + padlen
	if total > 0xffff {
		return dst[:start], false
	}
	binary.LittleEndian.PutUint16(dst[start+len(Magic)+2:], uint16(total))
	dst = appendSpaces(dst, padlen)
	return append(dst, '\n'), true
}

// appendGrowthPad appends spare room so that the growth axis can be
// rewritten in place with up to 21 digits (numpy >= 1.23).
func appendGrowthPad(dst []byte, shape []int, fortran bool) []byte {
	if len(shape) == 0 {
		return dst
	}
	axis := shape[0]
	if fortran {
		axis = shape[len(shape)-1]
	}
	var buf [24]byte
	if pad := 21 - len(appendInt(buf[:0], axis)); pad > 0 {
		dst = appendSpaces(dst, pad)
	}
	return dst
}

func appendInt(dst []byte, n int) []byte { return strconv.AppendInt(dst, int64(n), 10) }

func appendSpaces(dst []byte, n int) []byte {
	for range n {
		dst = append(dst, ' ')
	}
	return dst
}

// headerText is the header of any array (structured dtypes included),
// without the padding.
func headerText(a *pyval.NDArray, fortran bool) string {
	var sb strings.Builder
	sb.WriteString("{'descr': ")
	sb.WriteString(pyval.Repr(a.DType.Descr()))
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
	return string(appendGrowthPad([]byte(sb.String()), a.Shape, fortran))
}

// appendWrapped picks the oldest version that can hold header and appends
// the prefix, the header and the padding to a multiple of 64 bytes.
func appendWrapped(dst []byte, header string) []byte {
	if latin1, ok := toLatin1(header); ok {
		if out, ok := appendWrap(dst, latin1, Version1); ok {
			return out
		}
		out, _ := appendWrap(dst, latin1, Version2)
		return out
	}
	out, _ := appendWrap(dst, []byte(header), Version3)
	return out
}

func appendWrap(dst, header []byte, v Version) ([]byte, bool) {
	prefix := len(Magic) + 2 + v.lengthFieldSize()
	hlen := len(header) + 1 // the final newline
	padlen := 64 - (prefix+hlen)%64
	total := hlen + padlen
	if v == Version1 && total > 0xffff {
		return dst, false
	}
	dst = slices.Grow(dst, prefix+total)
	dst = append(dst, Magic...)
	dst = append(dst, v.Major, v.Minor)
	if v == Version1 {
		dst = binary.LittleEndian.AppendUint16(dst, uint16(total))
	} else {
		dst = binary.LittleEndian.AppendUint32(dst, uint32(total))
	}
	dst = append(dst, header...)
	dst = appendSpaces(dst, padlen)
	return append(dst, '\n'), true
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
