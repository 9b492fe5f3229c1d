// Package npy reads and writes numpy's .npy array format, byte for byte as
// numpy 1.24's numpy.save and numpy.load do. katsdptelstate stores every
// ndarray as a complete .npy file (msgpack ext type 3), so a value written
// here is indistinguishable from one written by Python.
//
// A .npy file is a magic string and version, a little-endian header length,
// a header that is a Python dict literal
//
//	{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }
//
// padded with spaces and a newline to a multiple of 64 bytes, and then the
// raw element bytes (column-major when fortran_order is True).
//
// Encode and Write produce exactly numpy's bytes: format version 1.0 unless
// the header needs 2.0 (longer than 65535 bytes) or 3.0 (a field name that
// is not latin-1), the same key order, reprs, growth-axis spaces and
// padding. Decode and Read accept anything numpy.load(allow_pickle=False)
// accepts, including other writers' padding and Python 2 'L' integer
// suffixes, and refuse what it refuses: object arrays, and headers longer
// than MaxHeaderSize characters.
//
// The decoder is written for untrusted input: it never panics and never
// allocates much more than the input it is given, whatever the header
// claims.
package npy

import (
	"errors"
	"fmt"
	"math"

	"github.com/sdpkit/sdpkit/pyval"
)

// MaxHeaderSize is the longest header, in characters, that Decode and Read
// accept: numpy 1.24's default max_header_size for allow_pickle=False.
// Encode can write longer headers (a structured dtype with some 600 fields),
// which numpy then refuses to load, as does this package.
const MaxHeaderSize = 10000

// Magic is the first six bytes of every .npy file.
const Magic = "\x93NUMPY"

// Errors returned by the decoder (wrapped with details) and the encoder.
var (
	// ErrFormat means the input is not a well-formed .npy file: bad magic,
	// unknown version, or a header that is not the expected dict.
	ErrFormat = errors.New("npy: invalid .npy data")
	// ErrHeaderTooLarge means the header is longer than MaxHeaderSize.
	ErrHeaderTooLarge = errors.New("npy: header too large")
	// ErrTruncated means the input ends before the header or the array
	// data that the header announces.
	ErrTruncated = errors.New("npy: truncated .npy data")
	// ErrObject means the dtype holds Python objects, which numpy stores as
	// a pickle and which neither numpy (with allow_pickle=False) nor this
	// package reads or writes.
	ErrObject = errors.New("npy: object arrays are not supported")
	// ErrInvalidArray means Encode was given an array whose dtype, shape
	// and data do not fit together.
	ErrInvalidArray = errors.New("npy: invalid array")
)

// Version is a .npy format version: 1.0, 2.0 or 3.0.
type Version struct {
	Major, Minor uint8
}

func (v Version) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// The format versions numpy 1.24 reads and writes.
var (
	Version1 = Version{1, 0} // uint16 header length, latin-1 header
	Version2 = Version{2, 0} // uint32 header length, latin-1 header
	Version3 = Version{3, 0} // uint32 header length, UTF-8 header
)

// lengthFieldSize returns the size of the header length field, or 0 for an
// unsupported version.
func (v Version) lengthFieldSize() int {
	switch v {
	case Version1:
		return 2
	case Version2, Version3:
		return 4
	}
	return 0
}

// Header is the decoded header of a .npy file.
type Header struct {
	// DType is the array's dtype.
	DType pyval.DType
	// Shape is the array's shape; empty for a 0-d array.
	Shape []int
	// FortranOrder says the data is stored column-major.
	FortranOrder bool
	// Version is the file's format version.
	Version Version
}

// DataSize returns the number of data bytes the header announces, and
// false if that overflows an int.
func (h Header) DataSize() (int, bool) {
	return dataSize(h.DType, h.Shape)
}

func dataSize(dt pyval.DType, shape []int) (int, bool) {
	n, ok := pyval.ShapeSize(shape, math.MaxInt)
	if !ok {
		return 0, false
	}
	size := dt.ItemSize()
	if size < 0 || (size > 0 && n > math.MaxInt/size) {
		return 0, false
	}
	return n * size, true
}
