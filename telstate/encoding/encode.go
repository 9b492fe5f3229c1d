package encoding

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/pyval/msgpack"
	"github.com/sdpkit/sdpkit/pyval/npy"
)

// encoder is immutable after package initialisation.
var encoder = msgpack.NewEncoder(msgpack.WithEncodeHook(encodeExt))

// Encode returns the stored form of v: 0xFF followed by its msgpack
// encoding. Values katsdptelstate cannot encode (object dtypes, invalid
// UTF-8 strs, ints outside -2**63 … 2**64-1, nil) fail with an error
// wrapping ErrEncode; for such an int it also wraps msgpack.ErrIntOverflow.
func Encode(v pyval.Value) ([]byte, error) {
	if a, ok := v.(*pyval.NDArray); ok {
		if out, ok := encodeArray(a); ok {
			return out, nil
		}
	}
	return AppendEncoded(make([]byte, 0, sizeHint(v)), v)
}

// encodeArray is Encode for an array, in one allocation of exactly the
// encoded size that is not zeroed first (bytes.Join does not): the marker,
// ext header and .npy header are formatted on the stack. It reports false
// for anything the general path must handle or refuse.
func encodeArray(a *pyval.NDArray) ([]byte, bool) {
	if a == nil || a.DType.HasObject() {
		return nil, false
	}
	var hb [256]byte
	hdr, err := npy.AppendHeader(hb[:0], a)
	if err != nil {
		return nil, false
	}
	var pb [8]byte
	pre, err := msgpack.AppendExtHeader(append(pb[:0], MarkerMsgpack), ExtNDArray, len(hdr)+len(a.Data))
	if err != nil {
		return nil, false
	}
	return bytes.Join([][]byte{pre, hdr, a.Data}, nil), true
}

// sizeHint guesses the encoded size so that Encode usually allocates once.
func sizeHint(v pyval.Value) int {
	switch x := v.(type) {
	case pyval.Str:
		return len(x) + 8
	case pyval.Bytes:
		return len(x) + 8
	case *pyval.NDArray:
		if x != nil {
			return len(x.Data) + 200
		}
	}
	return 32
}

// AppendEncoded appends the stored form of v to dst, for callers that reuse
// buffers. On error dst is returned unchanged.
func AppendEncoded(dst []byte, v pyval.Value) ([]byte, error) {
	start := len(dst)
	out, err := encoder.Append(append(dst, MarkerMsgpack), v)
	if err != nil {
		return dst[:start], fmt.Errorf("%w: %w", ErrEncode, err)
	}
	return out, nil
}

// EncodeSubKey returns the stored form of an indexed key's sub-key. Like
// katsdptelstate it always uses msgpack, and it first checks that the
// sub-key is hashable (Python raises TypeError before writing anything), so
// a list or dict sub-key fails with pyval.ErrUnhashable.
func EncodeSubKey(subKey pyval.Value) ([]byte, error) {
	if _, err := pyval.HashKey(subKey); err != nil {
		return nil, fmt.Errorf("telstate: sub-key %s: %w", safeRepr(subKey), err)
	}
	return Encode(subKey)
}

func safeRepr(v pyval.Value) string {
	if v == nil {
		return "<nil>"
	}
	return pyval.Repr(v)
}

// encodeExt is the msgpack hook for values without a native form, as
// katsdptelstate's _msgpack_default.
func encodeExt(dst []byte, v pyval.Value, sub msgpack.SubEncoder) ([]byte, error) {
	switch x := v.(type) {
	case pyval.Tuple:
		start := len(dst)
		dst, err := sub.AppendArray(dst, x)
		if err != nil {
			return dst[:start], err
		}
		return msgpack.InsertExtHeader(dst, start, ExtTuple)
	case pyval.Complex:
		var p [16]byte
		binary.BigEndian.PutUint64(p[:8], math.Float64bits(real(x)))
		binary.BigEndian.PutUint64(p[8:], math.Float64bits(imag(x)))
		return msgpack.AppendExt(dst, ExtComplex, p[:])
	case *pyval.NDArray:
		if x == nil {
			return dst, fmt.Errorf("do not know how to encode a nil *NDArray")
		}
		if x.DType.HasObject() {
			return dst, fmt.Errorf("cannot encode array of dtype %s as it contains objects", x.DType)
		}
		// Header and data are appended separately so that a large array is
		// copied once, straight into dst.
		var hb [256]byte // the header of every array of up to 4 dimensions
		hdr, err := npy.AppendHeader(hb[:0], x)
		if err != nil {
			return dst, err
		}
		dst, err = msgpack.AppendExtHeader(dst, ExtNDArray, len(hdr)+len(x.Data))
		if err != nil {
			return dst, err
		}
		return append(append(dst, hdr...), x.Data...), nil
	case *pyval.Scalar:
		if x == nil {
			return dst, fmt.Errorf("do not know how to encode a nil *Scalar")
		}
		dt := x.DType
		if dt.HasObject() {
			return dst, fmt.Errorf("cannot encode dtype %s as it contains objects", dt)
		}
		size := dt.ItemSize()
		if len(x.Data) < size {
			return dst, fmt.Errorf("numpy scalar of dtype %s needs %d bytes, has %d", dt, size, len(x.Data))
		}
		start := len(dst)
		var err error
		var buf [32]byte
		if dt.IsStructured() {
			// A list of (name, descr[, shape]) tuples: ext-1 tuples again.
			dst, err = sub.Append(dst, dt.Descr())
		} else if s := appendDTypeStr(buf[:0], dt); len(s) <= 31 && utf8.Valid(s) {
			// The fixstr msgpack.AppendStr would write, without the
			// allocation of dt.String(). (Objects were refused above.)
			dst = append(dst, 0xa0|byte(len(s)))
			dst = append(dst, s...)
		} else {
			dst, err = msgpack.AppendStr(dst, dt.String())
		}
		if err != nil {
			return dst[:start], err
		}
		dst = append(dst, x.Data[:size]...)
		return msgpack.InsertExtHeader(dst, start, ExtScalar)
	case pyval.Int:
		// Only ints beyond msgpack's range get here. Python's packer hands
		// them to katsdptelstate's default hook, which refuses them.
		return dst, fmt.Errorf("%w: %w: do not know how to encode type int (%d bits)", msgpack.ErrUnsupportedType, msgpack.ErrIntOverflow, x.BitLen())
	}
	return dst, fmt.Errorf("%w: do not know how to encode type %s", msgpack.ErrUnsupportedType, v.Kind())
}
