package encoding

import (
	"bytes"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/pyval/msgpack"
)

// decodeSimple decodes the msgpack body p (after the marker) when it is
// exactly one float, small int, bool, None or short str, the values
// sensors hold most often, without going through the msgpack Decoder. It
// reports false for everything else, including every malformed input,
// which the Decoder then decodes or refuses as before; the results are
// the Decoder's (FuzzDecode compares the two).
func decodeSimple(p []byte) (pyval.Value, bool) {
	if len(p) == 0 {
		return nil, false
	}
	c := p[0]
	switch {
	case c <= 0x7f: // positive fixint
		if len(p) == 1 {
			return msgpack.SmallInt(int64(c))
		}
	case c >= 0xe0: // negative fixint
		if len(p) == 1 {
			return msgpack.SmallInt(int64(int8(c)))
		}
	case c >= 0xa0 && c <= 0xbf: // fixstr
		if s := p[1:]; len(s) == int(c&0x1f) && utf8.Valid(s) {
			return pyval.Str(s), true
		}
	case c == 0xd9: // str 8
		if len(p) >= 2 && len(p)-2 == int(p[1]) && utf8.Valid(p[2:]) {
			return pyval.Str(p[2:]), true
		}
	case c == 0xcb:
		if len(p) == 9 {
			return pyval.Float(math.Float64frombits(be64(p[1:]))), true
		}
	case c == 0xca:
		if len(p) == 5 {
			u := uint32(p[1])<<24 | uint32(p[2])<<16 | uint32(p[3])<<8 | uint32(p[4])
			return pyval.Float(math.Float32frombits(u)), true
		}
	case c == 0xc0:
		if len(p) == 1 {
			return pyval.None, true
		}
	case c == 0xc2 || c == 0xc3:
		if len(p) == 1 {
			return pyval.Bool(c == 0xc3), true
		}
	}
	return nil, false
}

func be64(b []byte) uint64 {
	_ = b[7]
	return uint64(b[0])<<56 | uint64(b[1])<<48 | uint64(b[2])<<40 | uint64(b[3])<<32 |
		uint64(b[4])<<24 | uint64(b[5])<<16 | uint64(b[6])<<8 | uint64(b[7])
}

// scalarDescr reads the descr at the start of a numpy scalar payload when
// it is a fixstr naming one of the usual dtypes, returning the dtype and
// the bytes it used; false sends the payload down the general path
// (msgpack, then pyval.DTypeFromDescr). TestScalarDTypes checks the table
// against pyval.ParseDType.
func scalarDescr(p []byte) (pyval.DType, int, bool) {
	if len(p) == 0 || p[0]&0xe0 != 0xa0 {
		return pyval.DType{}, 0, false
	}
	n := 1 + int(p[0]&0x1f)
	if len(p) < n {
		return pyval.DType{}, 0, false
	}
	var dt pyval.DType
	switch string(p[1:n]) { // no allocation: the compiler compares the bytes
	case "<f8":
		dt = pyval.Float64
	case "<f4":
		dt = pyval.Float32
	case "<f2":
		dt = pyval.Float16
	case "<i8":
		dt = pyval.Int64
	case "<i4":
		dt = pyval.Int32
	case "<i2":
		dt = pyval.Int16
	case "|i1":
		dt = pyval.Int8
	case "<u8":
		dt = pyval.Uint64
	case "<u4":
		dt = pyval.Uint32
	case "<u2":
		dt = pyval.Uint16
	case "|u1":
		dt = pyval.Uint8
	case "|b1":
		dt = pyval.Bool_
	case "<c8":
		dt = pyval.Complex64
	case "<c16":
		dt = pyval.Complex128
	default:
		return pyval.DType{}, 0, false
	}
	return dt, n, true
}

// newScalar returns a Scalar holding a copy of data, or with alias data
// itself when it is longer than 16 bytes. Items of up to 16 bytes (every
// number) share one allocation with the Scalar.
func newScalar(dt pyval.DType, data []byte, alias bool) *pyval.Scalar {
	if len(data) <= 16 {
		sb := &struct {
			s   pyval.Scalar
			buf [16]byte
		}{}
		n := copy(sb.buf[:], data)
		sb.s = pyval.Scalar{DType: dt, Data: sb.buf[:n:n]}
		return &sb.s
	}
	if alias {
		return &pyval.Scalar{DType: dt, Data: data[:len(data):len(data)]}
	}
	return &pyval.Scalar{DType: dt, Data: bytes.Clone(data)}
}

// appendDTypeStr appends dt.String() for a simple dtype that is not
// 'O' (whose size numpy leaves out).
func appendDTypeStr(dst []byte, dt pyval.DType) []byte {
	dst = append(dst, dt.ByteOrder, dt.Kind)
	dst = strconv.AppendInt(dst, int64(dt.Size), 10)
	if (dt.Kind == 'M' || dt.Kind == 'm') && dt.Unit != "" {
		dst = append(dst, '[')
		dst = append(dst, dt.Unit...)
		dst = append(dst, ']')
	}
	return dst
}
