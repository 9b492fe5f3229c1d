// Package encoding converts pyval values to and from the bytes that
// katsdptelstate stores in Redis (Python's katsdptelstate.encoding), byte
// for byte.
//
// A stored value is the marker byte 0xFF followed by one msgpack object,
// written as msgpack-python's packb(use_bin_type=True, strict_types=True)
// does (see package pyval/msgpack) plus four ext types:
//
//	ext 1  tuple         payload: msgpack array of the items (no marker)
//	ext 2  complex       payload: real, imag as big-endian float64 (fixext 16)
//	ext 3  numpy array   payload: a complete .npy file
//	ext 4  numpy scalar  payload: msgpack of the dtype descr, then the raw bytes
//
// Values whose first byte is 0x80 or less are Python pickles, written by
// old katsdptelstate versions. Decoding them runs arbitrary code in Python,
// so they are refused unless AllowPickle(true) is given; the decision is
// the caller's (see AllowPickleFromEnv). Bytes 0x81–0xFE are reserved for
// future encodings and always refused.
//
// All encoding errors wrap ErrEncode and all decoding errors wrap
// ErrDecode; the underlying cause (a pyval/msgpack sentinel, say) stays in
// the chain for errors.Is.
package encoding

import (
	"errors"
	"fmt"
	"os"
)

// Marker bytes: the first byte of an encoded value says how it was encoded.
const (
	// MarkerMsgpack starts every value this package writes.
	MarkerMsgpack byte = 0xFF
	// MarkerPickle is pickle's PROTO opcode, the first byte of pickles of
	// protocol 2 and later. Every first byte up to and including it is
	// treated as a pickle, since protocol-0 pickles start with ASCII.
	MarkerPickle byte = 0x80
)

// The msgpack ext type codes katsdptelstate defines.
const (
	ExtTuple   int8 = 1
	ExtComplex int8 = 2
	ExtNDArray int8 = 3
	ExtScalar  int8 = 4
)

// PickleEnv is the environment variable that katsdptelstate consults to
// allow pickles: "1" allows them, "0" or unset refuses them.
const PickleEnv = "KATSDPTELSTATE_ALLOW_PICKLE"

var (
	// ErrEncode reports a value that katsdptelstate cannot encode (Python's
	// EncodeError; also a str with invalid UTF-8, which Python reports as
	// UnicodeEncodeError).
	ErrEncode = errors.New("telstate: cannot encode value")
	// ErrDecode reports bytes that are not a valid encoded value (Python's
	// DecodeError).
	ErrDecode = errors.New("telstate: cannot decode value")
	// ErrPickleNotAllowed is wrapped (together with ErrDecode) when a value
	// is a pickle and pickles are not allowed.
	ErrPickleNotAllowed = errors.New("telstate: the value is a pickle and pickles are not allowed")
)

// pickleRefusal explains, as katsdptelstate does, why and how to opt in.
const pickleRefusal = "the telescope state contains pickled values; this is a security risk, " +
	"so it is disabled by default; if you trust the source of the data, allow them by setting " +
	PickleEnv + "=1 in the environment (needed for MeerKAT data from before March 2019)"

// AllowPickleFromEnv reads KATSDPTELSTATE_ALLOW_PICKLE the way
// katsdptelstate does at import: "1" allows pickles, "0" or unset refuses
// them, and any other value refuses them and returns a warning describing
// the unknown value (which the caller should log). Read it once, in a
// constructor, and pass the result on with AllowPickle.
func AllowPickleFromEnv() (allow bool, warn error) {
	env, ok := os.LookupEnv(PickleEnv)
	switch {
	case !ok || env == "0":
		return false, nil
	case env == "1":
		return true, nil
	}
	return false, fmt.Errorf("telstate: unknown value %q for %s (want 1 or 0); pickles stay disallowed", env, PickleEnv)
}
