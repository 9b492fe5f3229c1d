package pyval

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"unicode/utf8"
)

// ErrType is returned by typed accessors when a value is not of the kind
// asked for.
var ErrType = errors.New("pyval: wrong type")

// NDArray is a numpy ndarray: a dtype, a shape and the raw element bytes,
// exactly as a .npy file holds them.
type NDArray struct {
	DType DType
	// Shape is the array's shape; empty for a 0-d array.
	Shape []int
	// FortranOrder says Data is column-major. Accessors always return
	// elements in row-major (C) order.
	FortranOrder bool
	// Data holds Len()*DType.ItemSize() bytes in the byte order of DType.
	Data []byte
}

// Scalar is a numpy scalar (numpy.float32(1.5), numpy.str_("a"), a
// structured numpy.void, …): a dtype and the raw bytes of one element.
type Scalar struct {
	DType DType
	Data  []byte
}

// ShapeSize returns the number of elements of shape, and false if a
// dimension is negative or the product overflows limit.
func ShapeSize(shape []int, limit int) (int, bool) {
	n := 1
	for _, s := range shape {
		if s < 0 {
			return 0, false
		}
		if s == 0 {
			n = 0
			continue
		}
		if n > limit/s {
			return 0, false
		}
		n *= s
	}
	return n, n <= limit
}

// NewNDArray returns an array after checking that data has the size that
// dtype and shape require.
func NewNDArray(dt DType, shape []int, fortran bool, data []byte) (*NDArray, error) {
	if dt.HasObject() {
		return nil, fmt.Errorf("%w: object arrays are not supported", ErrDType)
	}
	n, ok := ShapeSize(shape, math.MaxInt32*64)
	if !ok {
		return nil, fmt.Errorf("pyval: invalid array shape %v", shape)
	}
	if want := n * dt.ItemSize(); len(data) != want {
		return nil, fmt.Errorf("pyval: array of shape %v and dtype %s needs %d data bytes, got %d", shape, dt, want, len(data))
	}
	return &NDArray{DType: dt, Shape: append([]int(nil), shape...), FortranOrder: fortran && len(shape) > 1, Data: data}, nil
}

// Elem is a Go type that maps to a numpy dtype.
type Elem interface {
	bool | int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64 |
		float32 | float64 | complex64 | complex128
}

// DTypeOf returns the little-endian dtype of a Go element type.
func DTypeOf[T Elem]() DType {
	var z T
	switch any(z).(type) {
	case bool:
		return Bool_
	case int8:
		return Int8
	case int16:
		return Int16
	case int32:
		return Int32
	case int64:
		return Int64
	case uint8:
		return Uint8
	case uint16:
		return Uint16
	case uint32:
		return Uint32
	case uint64:
		return Uint64
	case float32:
		return Float32
	case float64:
		return Float64
	case complex64:
		return Complex64
	case complex128:
		return Complex128
	}
	panic("unreachable")
}

// ArrayOf returns a little-endian C-order array holding data, with the
// given shape (default: one dimension of len(data)). It panics if the shape
// does not match len(data), like a failed reshape.
func ArrayOf[T Elem](data []T, shape ...int) *NDArray {
	dt := DTypeOf[T]()
	if len(shape) == 0 {
		shape = []int{len(data)}
	}
	if n, ok := ShapeSize(shape, math.MaxInt); !ok || n != len(data) {
		panic(fmt.Sprintf("pyval.ArrayOf: cannot shape %d elements as %v", len(data), shape))
	}
	size := dt.ItemSize()
	buf := make([]byte, len(data)*size)
	for i, v := range data {
		putElem(buf[i*size:], v)
	}
	return &NDArray{DType: dt, Shape: shape, Data: buf}
}

// ScalarOf returns the numpy scalar of a Go value (numpy.float64(v) for a
// float64, and so on), little-endian.
func ScalarOf[T Elem](v T) *Scalar {
	dt := DTypeOf[T]()
	buf := make([]byte, dt.ItemSize())
	putElem(buf, v)
	return &Scalar{DType: dt, Data: buf}
}

func putElem[T Elem](b []byte, v T) {
	le := binary.LittleEndian
	switch x := any(v).(type) {
	case bool:
		if x {
			b[0] = 1
		} else {
			b[0] = 0
		}
	case int8:
		b[0] = byte(x)
	case int16:
		le.PutUint16(b, uint16(x))
	case int32:
		le.PutUint32(b, uint32(x))
	case int64:
		le.PutUint64(b, uint64(x))
	case uint8:
		b[0] = x
	case uint16:
		le.PutUint16(b, x)
	case uint32:
		le.PutUint32(b, x)
	case uint64:
		le.PutUint64(b, x)
	case float32:
		le.PutUint32(b, math.Float32bits(x))
	case float64:
		le.PutUint64(b, math.Float64bits(x))
	case complex64:
		le.PutUint32(b, math.Float32bits(real(x)))
		le.PutUint32(b[4:], math.Float32bits(imag(x)))
	case complex128:
		le.PutUint64(b, math.Float64bits(real(x)))
		le.PutUint64(b[8:], math.Float64bits(imag(x)))
	}
}

// StringArray returns a numpy unicode array ('<U<n>', n the longest
// string in code points) holding strs, with the given shape (default: one
// dimension of len(strs)). It panics if the shape does not match
// len(strs), as ArrayOf does.
func StringArray(strs []string, shape ...int) *NDArray {
	n := 0
	for _, s := range strs {
		if c := utf8.RuneCountInString(s); c > n {
			n = c
		}
	}
	dt := DType{Kind: 'U', ByteOrder: '<', Size: n}
	if len(shape) == 0 {
		shape = []int{len(strs)}
	}
	if m, ok := ShapeSize(shape, math.MaxInt); !ok || m != len(strs) {
		panic(fmt.Sprintf("pyval.StringArray: cannot shape %d elements as %v", len(strs), shape))
	}
	buf := make([]byte, len(strs)*4*n)
	for i, s := range strs {
		off := i * 4 * n
		for _, r := range s {
			binary.LittleEndian.PutUint32(buf[off:], uint32(r))
			off += 4
		}
	}
	return &NDArray{DType: dt, Shape: shape, Data: buf}
}

// Len returns the number of elements.
func (a *NDArray) Len() int {
	n, _ := ShapeSize(a.Shape, math.MaxInt)
	return n
}

// Ndim returns the number of dimensions.
func (a *NDArray) Ndim() int { return len(a.Shape) }

// CData returns the element bytes in C (row-major) order: Data itself
// unless the array is Fortran-ordered with more than one dimension.
func (a *NDArray) CData() []byte {
	if !a.FortranOrder || len(a.Shape) < 2 {
		return a.Data
	}
	size := a.DType.ItemSize()
	n := a.Len()
	out := make([]byte, len(a.Data))
	idx := make([]int, len(a.Shape))
	// Walk C order; compute the Fortran offset of each index.
	for i := 0; i < n; i++ {
		off, stride := 0, 1
		for d := 0; d < len(a.Shape); d++ {
			off += idx[d] * stride
			stride *= a.Shape[d]
		}
		copy(out[i*size:(i+1)*size], a.Data[off*size:(off+1)*size])
		for d := len(a.Shape) - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < a.Shape[d] {
				break
			}
			idx[d] = 0
		}
	}
	return out
}

// checkData reports an array whose Data does not hold Len()*ItemSize()
// bytes (possible only for arrays built by hand rather than by NewNDArray),
// so that accessors fail instead of panicking.
func (a *NDArray) checkData() error {
	n, ok := ShapeSize(a.Shape, math.MaxInt)
	size := a.DType.ItemSize()
	if !ok || size < 0 || (size > 0 && n > math.MaxInt/size) || len(a.Data) != n*size {
		return fmt.Errorf("pyval: array of shape %v and dtype %s cannot hold %d data bytes", a.Shape, a.DType, len(a.Data))
	}
	return nil
}

func (a *NDArray) typeErr(want string) error {
	return fmt.Errorf("%w: array of dtype %s cannot be read as %s", ErrType, a.DType, want)
}

// Float64s returns the elements, in C order, as float64: for bool, integer
// and float dtypes of any byte order.
func (a *NDArray) Float64s() ([]float64, error) {
	if err := a.checkData(); err != nil {
		return nil, err
	}
	dt := a.DType
	if dt.Fields != nil || !(dt.Kind == 'b' || dt.Kind == 'i' || dt.Kind == 'u' || dt.Kind == 'f') {
		return nil, a.typeErr("float64")
	}
	data, size := a.CData(), dt.ItemSize()
	out := make([]float64, a.Len())
	for i := range out {
		out[i] = realAt(dt, data[i*size:(i+1)*size])
	}
	return out, nil
}

// Float32s returns the elements as float32 (see Float64s).
func (a *NDArray) Float32s() ([]float32, error) {
	f, err := a.Float64s()
	if err != nil {
		return nil, a.typeErr("float32")
	}
	out := make([]float32, len(f))
	for i, v := range f {
		out[i] = float32(v)
	}
	return out, nil
}

// Int64s returns the elements of a bool or integer array as int64; uint64
// values above 2^63-1 are an error.
func (a *NDArray) Int64s() ([]int64, error) {
	if err := a.checkData(); err != nil {
		return nil, err
	}
	dt := a.DType
	if dt.Fields != nil || !(dt.Kind == 'b' || dt.Kind == 'i' || dt.Kind == 'u' || dt.Kind == 'M' || dt.Kind == 'm') {
		return nil, a.typeErr("int64")
	}
	data, size := a.CData(), dt.ItemSize()
	out := make([]int64, a.Len())
	for i := range out {
		v := intAt(dt, data[i*size:(i+1)*size])
		n, ok := v.Int64()
		if !ok {
			return nil, fmt.Errorf("%w: element %d (%s) overflows int64", ErrType, i, v)
		}
		out[i] = n
	}
	return out, nil
}

// Uint64s returns the elements of a bool or integer array as uint64;
// negative values are an error.
func (a *NDArray) Uint64s() ([]uint64, error) {
	if err := a.checkData(); err != nil {
		return nil, err
	}
	dt := a.DType
	if dt.Fields != nil || !(dt.Kind == 'b' || dt.Kind == 'i' || dt.Kind == 'u') {
		return nil, a.typeErr("uint64")
	}
	data, size := a.CData(), dt.ItemSize()
	out := make([]uint64, a.Len())
	for i := range out {
		v := intAt(dt, data[i*size:(i+1)*size])
		n, ok := v.Uint64()
		if !ok {
			return nil, fmt.Errorf("%w: element %d (%s) is negative", ErrType, i, v)
		}
		out[i] = n
	}
	return out, nil
}

// Complex128s returns the elements as complex128: for complex dtypes and
// every dtype Float64s accepts.
func (a *NDArray) Complex128s() ([]complex128, error) {
	dt := a.DType
	if dt.Fields == nil && dt.Kind == 'c' {
		if err := a.checkData(); err != nil {
			return nil, err
		}
		data, size := a.CData(), dt.ItemSize()
		out := make([]complex128, a.Len())
		for i := range out {
			out[i] = complexAt(dt, data[i*size:(i+1)*size])
		}
		return out, nil
	}
	f, err := a.Float64s()
	if err != nil {
		return nil, a.typeErr("complex128")
	}
	out := make([]complex128, len(f))
	for i, v := range f {
		out[i] = complex(v, 0)
	}
	return out, nil
}

// Complex64s returns the elements as complex64 (see Complex128s).
func (a *NDArray) Complex64s() ([]complex64, error) {
	c, err := a.Complex128s()
	if err != nil {
		return nil, a.typeErr("complex64")
	}
	out := make([]complex64, len(c))
	for i, v := range c {
		out[i] = complex64(v)
	}
	return out, nil
}

// Bools returns the elements of a bool array.
func (a *NDArray) Bools() ([]bool, error) {
	if err := a.checkData(); err != nil {
		return nil, err
	}
	if a.DType.Fields != nil || a.DType.Kind != 'b' {
		return nil, a.typeErr("bool")
	}
	data := a.CData()
	out := make([]bool, len(data))
	for i, b := range data {
		out[i] = b != 0
	}
	return out, nil
}

// Strings returns the elements of a unicode ('U') or bytes ('S') array as
// Go strings, trailing NULs removed as numpy does.
func (a *NDArray) Strings() ([]string, error) {
	if err := a.checkData(); err != nil {
		return nil, err
	}
	dt := a.DType
	if dt.Fields != nil || (dt.Kind != 'U' && dt.Kind != 'S') {
		return nil, a.typeErr("str")
	}
	data, size := a.CData(), dt.ItemSize()
	out := make([]string, a.Len())
	for i := range out {
		v, err := elemAt(dt, data[i*size:(i+1)*size])
		if err != nil {
			return nil, err
		}
		switch s := v.(type) {
		case Str:
			out[i] = string(s)
		case Bytes:
			out[i] = string(s)
		}
	}
	return out, nil
}

// At returns element i (in C order) as Python's item() would: a Float, Int,
// Bool, Complex, Str, Bytes, Tuple (structured), or a *Scalar for dtypes
// with no Python equivalent (datetime64, longdouble).
func (a *NDArray) At(i int) (Value, error) {
	if err := a.checkData(); err != nil {
		return nil, err
	}
	n, size := a.Len(), a.DType.ItemSize()
	if i < 0 || i >= n {
		return nil, fmt.Errorf("pyval: index %d out of range for array of %d elements", i, n)
	}
	data := a.Data
	if a.FortranOrder && len(a.Shape) > 1 {
		data = a.CData()
	}
	return elemAt(a.DType, data[i*size:(i+1)*size])
}

// ToList returns the array as nested Lists of items, as numpy's tolist():
// a 0-d array gives its single item.
func (a *NDArray) ToList() (Value, error) {
	if err := a.checkData(); err != nil {
		return nil, err
	}
	data, size := a.CData(), a.DType.ItemSize()
	if len(a.Shape) == 0 {
		return elemAt(a.DType, data[:size])
	}
	pos := 0
	var build func(dim int) (Value, error)
	build = func(dim int) (Value, error) {
		l := make(List, a.Shape[dim])
		for j := range l {
			if dim == len(a.Shape)-1 {
				v, err := elemAt(a.DType, data[pos*size:(pos+1)*size])
				if err != nil {
					return nil, err
				}
				pos++
				l[j] = v
			} else {
				v, err := build(dim + 1)
				if err != nil {
					return nil, err
				}
				l[j] = v
			}
		}
		return l, nil
	}
	return build(0)
}

// Field returns a copy of one field of a structured array as an array of
// the array's shape (plus the field's sub-array shape).
func (a *NDArray) Field(name string) (*NDArray, error) {
	if err := a.checkData(); err != nil {
		return nil, err
	}
	off, f, ok := a.DType.FieldOffset(name)
	if !ok {
		return nil, fmt.Errorf("pyval: no field %q in dtype %s", name, a.DType)
	}
	size := a.DType.ItemSize()
	fsize := f.DType.ItemSize() * shapeLen(f.Shape)
	data := a.CData()
	n := a.Len()
	out := make([]byte, n*fsize)
	for i := 0; i < n; i++ {
		copy(out[i*fsize:], data[i*size+off:i*size+off+fsize])
	}
	shape := append(append([]int(nil), a.Shape...), f.Shape...)
	return &NDArray{DType: f.DType, Shape: shape, Data: out}, nil
}

// Item returns the scalar as Python's item() would (see NDArray.At).
func (s *Scalar) Item() (Value, error) {
	if len(s.Data) < s.DType.ItemSize() {
		return nil, fmt.Errorf("pyval: scalar of dtype %s needs %d bytes, has %d", s.DType, s.DType.ItemSize(), len(s.Data))
	}
	return elemAt(s.DType, s.Data[:s.DType.ItemSize()])
}

// Field returns one field of a structured scalar.
func (s *Scalar) Field(name string) (Value, error) {
	off, f, ok := s.DType.FieldOffset(name)
	if !ok {
		return nil, fmt.Errorf("pyval: no field %q in dtype %s", name, s.DType)
	}
	if len(s.Data) < s.DType.ItemSize() {
		return nil, fmt.Errorf("pyval: scalar of dtype %s needs %d bytes, has %d", s.DType, s.DType.ItemSize(), len(s.Data))
	}
	return fieldValue(f, s.Data[off:])
}

func elemAt(dt DType, b []byte) (Value, error) {
	if dt.Fields != nil {
		t := make(Tuple, 0, len(dt.Fields))
		off := 0
		for _, f := range dt.Fields {
			fsize := f.DType.ItemSize() * shapeLen(f.Shape)
			if f.Name != "" {
				v, err := fieldValue(f, b[off:off+fsize])
				if err != nil {
					return nil, err
				}
				t = append(t, v)
			}
			off += fsize
		}
		return t, nil
	}
	switch dt.Kind {
	case 'b':
		return Bool(b[0] != 0), nil
	case 'i', 'u':
		return intAt(dt, b), nil
	case 'f':
		if dt.Size > 8 {
			return &Scalar{DType: dt, Data: append([]byte(nil), b...)}, nil
		}
		return Float(realAt(dt, b)), nil
	case 'c':
		if dt.Size > 16 {
			return &Scalar{DType: dt, Data: append([]byte(nil), b...)}, nil
		}
		return Complex(complexAt(dt, b)), nil
	case 'S':
		n := len(b)
		for n > 0 && b[n-1] == 0 {
			n--
		}
		return Bytes(append([]byte(nil), b[:n]...)), nil
	case 'V':
		return Bytes(append([]byte(nil), b...)), nil
	case 'U':
		runes := make([]rune, 0, len(b)/4)
		for i := 0; i+4 <= len(b); i += 4 {
			var r uint32
			if dt.ByteOrder == '>' {
				r = binary.BigEndian.Uint32(b[i:])
			} else {
				r = binary.LittleEndian.Uint32(b[i:])
			}
			runes = append(runes, rune(r))
		}
		for len(runes) > 0 && runes[len(runes)-1] == 0 {
			runes = runes[:len(runes)-1]
		}
		for _, r := range runes {
			if r > utf8.MaxRune || (r >= 0xD800 && r < 0xE000) {
				return nil, fmt.Errorf("%w: invalid code point %#x in unicode element", ErrType, uint32(r))
			}
		}
		return Str(string(runes)), nil
	case 'M', 'm':
		return &Scalar{DType: dt, Data: append([]byte(nil), b...)}, nil
	}
	return nil, fmt.Errorf("%w: cannot read elements of dtype %s", ErrDType, dt)
}

func fieldValue(f Field, b []byte) (Value, error) {
	if f.Shape == nil {
		return elemAt(f.DType, b[:f.DType.ItemSize()])
	}
	n := shapeLen(f.Shape) * f.DType.ItemSize()
	return &NDArray{DType: f.DType, Shape: append([]int(nil), f.Shape...), Data: append([]byte(nil), b[:n]...)}, nil
}

func uintAt(order byte, b []byte) uint64 {
	var v uint64
	if order == '>' {
		for _, c := range b {
			v = v<<8 | uint64(c)
		}
	} else {
		for i := len(b) - 1; i >= 0; i-- {
			v = v<<8 | uint64(b[i])
		}
	}
	return v
}

func intAt(dt DType, b []byte) Int {
	u := uintAt(dt.ByteOrder, b)
	if dt.Kind == 'u' || dt.Kind == 'b' {
		return UintOf(u)
	}
	shift := 64 - 8*uint(len(b))
	return IntOf(int64(u<<shift) >> shift)
}

func realAt(dt DType, b []byte) float64 {
	switch dt.Kind {
	case 'b':
		if b[0] != 0 {
			return 1
		}
		return 0
	case 'i', 'u':
		return intAt(dt, b).Float64()
	}
	switch len(b) {
	case 2:
		return halfToFloat(uint16(uintAt(dt.ByteOrder, b)))
	case 4:
		return float64(math.Float32frombits(uint32(uintAt(dt.ByteOrder, b))))
	case 8:
		return math.Float64frombits(uintAt(dt.ByteOrder, b))
	case 12, 16:
		return x87ToFloat(dt.ByteOrder, b)
	}
	return math.NaN()
}

func complexAt(dt DType, b []byte) complex128 {
	h := len(b) / 2
	part := DType{Kind: 'f', ByteOrder: dt.ByteOrder, Size: h}
	return complex(realAt(part, b[:h]), realAt(part, b[h:]))
}

// halfToFloat converts IEEE-754 binary16 bits.
func halfToFloat(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	frac := float64(h & 0x3ff)
	switch exp {
	case 0:
		return sign * math.Ldexp(frac, -24)
	case 0x1f:
		if frac == 0 {
			return math.Inf(int(sign))
		}
		return math.NaN()
	}
	return sign * math.Ldexp(1+frac/1024, exp-15)
}

// FloatToHalf converts to IEEE-754 binary16 bits, rounding to nearest even.
func FloatToHalf(f float64) uint16 {
	b := math.Float32bits(float32(f))
	sign := uint16(b>>16) & 0x8000
	if math.IsNaN(f) {
		return sign | 0x7e00
	}
	exp := int(b>>23&0xff) - 127 + 15
	mant := b & 0x7fffff
	switch {
	case exp >= 0x1f:
		return sign | 0x7c00
	case exp <= 0:
		if exp < -10 {
			return sign
		}
		mant |= 0x800000
		shift := uint(14 - exp)
		h := mant >> shift
		rem := mant & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rem > half || (rem == half && h&1 == 1) {
			h++
		}
		return sign | uint16(h)
	}
	h := uint32(exp)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && h&1 == 1) {
		h++
	}
	return sign | uint16(h)
}

// x87ToFloat converts an x86 80-bit extended float (numpy's longdouble,
// stored in 12 or 16 bytes) to the nearest float64.
func x87ToFloat(order byte, b []byte) float64 {
	var m uint64
	var se uint16
	if order == '>' {
		// Big-endian longdouble: the 10 significant bytes come last.
		b = b[len(b)-10:]
		se = binary.BigEndian.Uint16(b[0:2])
		m = binary.BigEndian.Uint64(b[2:10])
	} else {
		m = binary.LittleEndian.Uint64(b[0:8])
		se = binary.LittleEndian.Uint16(b[8:10])
	}
	neg := se&0x8000 != 0
	exp := int(se & 0x7fff)
	var f float64
	switch {
	case exp == 0x7fff:
		if m<<1 == 0 {
			f = math.Inf(1)
		} else {
			f = math.NaN()
		}
	case m == 0:
		f = 0
	default:
		bf := new(big.Float).SetUint64(m)
		bf.SetMantExp(bf, exp-16383-63)
		f, _ = bf.Float64()
	}
	if neg {
		f = -f
	}
	return f
}
