// Package pyval is sdpkit's model of the Python values that the SDP's Python
// tools store and send: None, bool, int, float, complex, str, bytes, tuple,
// list, dict, numpy arrays and numpy scalars. Every subsystem speaks it, so a
// value decoded from a Kafka message, a telstate sensor or a config entry is
// the same Go value.
//
// Values are plain Go types that implement Value:
//
//	None, Bool, Int, Float, Complex, Str, Bytes, Tuple, List, *Dict,
//	*NDArray, *Scalar, Timestamp
//
// Use a type switch when the kind matters, or the typed accessors (AsFloat64,
// AsInt64, AsString, (*NDArray).Float64s, …) when the caller knows what it
// expects. Equal compares with Python's == semantics.
package pyval

import (
	"strconv"
	"unicode/utf8"
)

// Kind names the Python type of a Value.
type Kind int

// The kinds of Value.
const (
	KindNone Kind = iota
	KindBool
	KindInt
	KindFloat
	KindComplex
	KindStr
	KindBytes
	KindTuple
	KindList
	KindDict
	KindNDArray
	KindScalar
	KindTimestamp
)

var kindNames = [...]string{"NoneType", "bool", "int", "float", "complex", "str", "bytes", "tuple", "list", "dict", "numpy.ndarray", "numpy scalar", "msgpack.Timestamp"}

// String returns the Python type name of the kind.
func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is a Python value. The method set is closed: only this package's
// types implement it.
type Value interface {
	// Kind reports the Python type.
	Kind() Kind
	isValue()
}

// NoneType is the type of None.
type NoneType struct{}

// None is Python's None.
var None = NoneType{}

// Bool is a Python bool.
type Bool bool

// Float is a Python float (IEEE-754 double).
type Float float64

// Complex is a Python complex.
type Complex complex128

// Str is a Python str. It holds UTF-8 text; encoders refuse invalid UTF-8
// as Python refuses strings with lone surrogates.
type Str string

// Bytes is a Python bytes (or bytearray).
type Bytes []byte

// Tuple is a Python tuple.
type Tuple []Value

// List is a Python list.
type List []Value

// Timestamp is a msgpack timestamp (ext type -1), which Python's msgpack
// decodes to msgpack.Timestamp.
type Timestamp struct {
	Seconds     int64
	Nanoseconds uint32
}

func (NoneType) Kind() Kind  { return KindNone }
func (Bool) Kind() Kind      { return KindBool }
func (Int) Kind() Kind       { return KindInt }
func (Float) Kind() Kind     { return KindFloat }
func (Complex) Kind() Kind   { return KindComplex }
func (Str) Kind() Kind       { return KindStr }
func (Bytes) Kind() Kind     { return KindBytes }
func (Tuple) Kind() Kind     { return KindTuple }
func (List) Kind() Kind      { return KindList }
func (*Dict) Kind() Kind     { return KindDict }
func (*NDArray) Kind() Kind  { return KindNDArray }
func (*Scalar) Kind() Kind   { return KindScalar }
func (Timestamp) Kind() Kind { return KindTimestamp }

func (NoneType) isValue()  {}
func (Bool) isValue()      {}
func (Int) isValue()       {}
func (Float) isValue()     {}
func (Complex) isValue()   {}
func (Str) isValue()       {}
func (Bytes) isValue()     {}
func (Tuple) isValue()     {}
func (List) isValue()      {}
func (*Dict) isValue()     {}
func (*NDArray) isValue()  {}
func (*Scalar) isValue()   {}
func (Timestamp) isValue() {}

// ValidUTF8 reports whether s can be encoded as Python would (Python
// refuses strings with lone surrogates, which Go holds as invalid UTF-8).
func (s Str) ValidUTF8() bool { return utf8.ValidString(string(s)) }
