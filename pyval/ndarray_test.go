package pyval

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

func dt(t *testing.T, s string) DType {
	t.Helper()
	d, err := ParseDType(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// encodeFloats writes vals in a simple dtype's byte layout.
func encodeFloats(t *testing.T, d DType, vals []float64) []byte {
	t.Helper()
	var order binary.ByteOrder = binary.LittleEndian
	if d.BigEndian() {
		order = binary.BigEndian
	}
	var out []byte
	for _, v := range vals {
		b := make([]byte, d.ItemSize())
		switch {
		case d.Kind == 'b':
			if v != 0 {
				b[0] = 1
			}
		case d.Kind == 'i' || d.Kind == 'u':
			u := uint64(int64(v))
			for i := 0; i < d.Size; i++ {
				shift := 8 * i
				if d.BigEndian() {
					shift = 8 * (d.Size - 1 - i)
				}
				b[i] = byte(u >> shift)
			}
		case d.Kind == 'f' && d.Size == 2:
			order.PutUint16(b, FloatToHalf(v))
		case d.Kind == 'f' && d.Size == 4:
			order.PutUint32(b, math.Float32bits(float32(v)))
		case d.Kind == 'f' && d.Size == 8:
			order.PutUint64(b, math.Float64bits(v))
		default:
			t.Fatalf("encodeFloats: %s", d)
		}
		out = append(out, b...)
	}
	return out
}

func TestFloat64sAllDTypes(t *testing.T) {
	vals := []float64{0, 1, -2, 100}
	for _, s := range []string{"|i1", "<i2", ">i2", "<i4", ">i4", "<i8", ">i8", "<f2", ">f2", "<f4", ">f4", "<f8", ">f8"} {
		d := dt(t, s)
		a := &NDArray{DType: d, Shape: []int{4}, Data: encodeFloats(t, d, vals)}
		got, err := a.Float64s()
		if err != nil || !reflect.DeepEqual(got, vals) {
			t.Errorf("%s: Float64s = %v, %v", s, got, err)
		}
		f32, err := a.Float32s()
		if err != nil || f32[2] != -2 {
			t.Errorf("%s: Float32s = %v, %v", s, f32, err)
		}
		c, err := a.Complex128s()
		if err != nil || c[3] != 100 {
			t.Errorf("%s: Complex128s = %v, %v", s, c, err)
		}
	}
	uvals := []float64{0, 1, 200, 255}
	for _, s := range []string{"|u1", "<u2", ">u2", "<u4", ">u4", "<u8", ">u8"} {
		d := dt(t, s)
		a := &NDArray{DType: d, Shape: []int{4}, Data: encodeFloats(t, d, uvals)}
		if got, err := a.Float64s(); err != nil || !reflect.DeepEqual(got, uvals) {
			t.Errorf("%s: Float64s = %v, %v", s, got, err)
		}
	}
	b := &NDArray{DType: Bool_, Shape: []int{3}, Data: []byte{1, 0, 2}}
	if got, _ := b.Float64s(); !reflect.DeepEqual(got, []float64{1, 0, 1}) {
		t.Errorf("bool Float64s = %v", got)
	}
	if got, _ := b.Bools(); !reflect.DeepEqual(got, []bool{true, false, true}) {
		t.Errorf("Bools = %v", got)
	}
	// Extremes as numpy stores them.
	u8 := &NDArray{DType: Uint64, Shape: []int{1}, Data: []byte{255, 255, 255, 255, 255, 255, 255, 255}}
	if got, _ := u8.Float64s(); got[0] != 18446744073709551615 {
		t.Errorf("u8 max = %v", got)
	}
	i8 := &NDArray{DType: dt(t, ">i8"), Shape: []int{1}, Data: []byte{0x80, 0, 0, 0, 0, 0, 0, 0}}
	if got, _ := i8.Float64s(); got[0] != -9223372036854775808 {
		t.Errorf(">i8 min = %v", got)
	}
}

func TestFloat64sSpecial(t *testing.T) {
	// The telstate vectors' float data: [1.5, -2.25, inf, nan, -0.0].
	for s, h := range map[string]string{
		"<f2": "003e80c0007c007e0080",
		"<f4": "0000c03f000010c00000807f0000c07f00000080",
		">f8": "3ff8000000000000c002000000000000" + "7ff00000000000007ff80000000000008000000000000000",
	} {
		data, _ := hex.DecodeString(h)
		a := &NDArray{DType: dt(t, s), Shape: []int{5}, Data: data}
		f, err := a.Float64s()
		if err != nil || f[0] != 1.5 || f[1] != -2.25 || !math.IsInf(f[2], 1) || !math.IsNaN(f[3]) || f[4] != 0 || !math.Signbit(f[4]) {
			t.Errorf("%s: %v, %v", s, f, err)
		}
	}
	// longdouble: x87 80-bit extended in 16 bytes, both byte orders.
	le, _ := hex.DecodeString("00000000000000c0ff3f000000000000" + "000000000000008000c0000000000000")
	a := &NDArray{DType: dt(t, "<f16"), Shape: []int{2}, Data: le}
	if f, err := a.Float64s(); err != nil || f[0] != 1.5 || f[1] != -2 {
		t.Errorf("<f16: %v, %v", f, err)
	}
	be := make([]byte, 32)
	for i := 0; i < 16; i++ {
		be[i], be[16+i] = le[15-i], le[31-i]
	}
	a = &NDArray{DType: dt(t, ">f16"), Shape: []int{2}, Data: be}
	if f, err := a.Float64s(); err != nil || f[0] != 1.5 || f[1] != -2 {
		t.Errorf(">f16: %v, %v", f, err)
	}
	// x87 inf, nan, a value beyond float64 range, and one to round.
	x87 := func(se uint16, m uint64) []byte {
		b := make([]byte, 16)
		binary.LittleEndian.PutUint64(b, m)
		binary.LittleEndian.PutUint16(b[8:], se)
		return b
	}
	var data []byte
	data = append(data, x87(0x7fff, 1<<63)...)
	data = append(data, x87(0xffff, 3<<62)...)
	data = append(data, x87(0x7ffe, 1<<63)...)
	data = append(data, x87(0x3fff, 1<<63|1)...) // 1 + 2**-63 rounds to 1
	data = append(data, x87(0, 0)...)
	a = &NDArray{DType: dt(t, "<f16"), Shape: []int{5}, Data: data}
	f, _ := a.Float64s()
	if !math.IsInf(f[0], 1) || !math.IsNaN(f[1]) || !math.IsInf(f[2], 1) || f[3] != 1 || f[4] != 0 {
		t.Errorf("x87 specials: %v", f)
	}
}

func TestFloatToHalf(t *testing.T) {
	// Every half value survives halfToFloat then FloatToHalf.
	for h := 0; h < 1<<16; h++ {
		f := halfToFloat(uint16(h))
		got := FloatToHalf(f)
		if math.IsNaN(f) {
			if got&0x7c00 != 0x7c00 || got&0x3ff == 0 {
				t.Fatalf("NaN %#04x became %#04x", h, got)
			}
			continue
		}
		if got != uint16(h) {
			t.Fatalf("half %#04x = %v became %#04x", h, f, got)
		}
	}
	cases := map[float64]uint16{
		65504: 0x7bff, 65520: 0x7c00, 1e10: 0x7c00, -1e10: 0xfc00, 1 + 1.0/2048: 0x3c00, 1 + 3.0/2048: 0x3c02,
		5.960464477539063e-08: 0x0001, 2.9802322387695312e-08: 0x0000, 2.98023223876953125e-08 * 1.5: 0x0001,
	}
	for f, want := range cases {
		if got := FloatToHalf(f); got != want {
			t.Errorf("FloatToHalf(%v) = %#04x, want %#04x", f, got, want)
		}
	}
}

func TestFortranOrder(t *testing.T) {
	// 2x3 int32 arange(6) stored column-major.
	a := &NDArray{DType: Int32, Shape: []int{2, 3}, FortranOrder: true, Data: encodeFloats(t, Int32, []float64{0, 3, 1, 4, 2, 5})}
	want := []int64{0, 1, 2, 3, 4, 5}
	if got, err := a.Int64s(); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Int64s = %v, %v", got, err)
	}
	if got := a.CData(); !reflect.DeepEqual(got, encodeFloats(t, Int32, []float64{0, 1, 2, 3, 4, 5})) {
		t.Errorf("CData = %v", got)
	}
	if v, _ := a.At(1); v != IntOf(1) {
		t.Errorf("At(1) = %v", v)
	}
	if l, _ := a.ToList(); Repr(l) != "[[0, 1, 2], [3, 4, 5]]" {
		t.Errorf("ToList = %s", Repr(l))
	}
	// 3-D: 2x3x4 arange(24) column-major.
	c := make([]float64, 24)
	for i := 0; i < 2; i++ {
		for j := 0; j < 3; j++ {
			for k := 0; k < 4; k++ {
				c[i+2*j+6*k] = float64(12*i + 4*j + k)
			}
		}
	}
	b := &NDArray{DType: Float32, Shape: []int{2, 3, 4}, FortranOrder: true, Data: encodeFloats(t, Float32, c)}
	f, _ := b.Float64s()
	for i, v := range f {
		if v != float64(i) {
			t.Fatalf("3-D Fortran Float64s = %v", f)
		}
	}
	if !Equal(b, &NDArray{DType: Float32, Shape: []int{2, 3, 4}, Data: encodeFloats(t, Float32, f)}) {
		t.Error("Fortran array not Equal to its C-order copy")
	}
}

func TestComplexAccessors(t *testing.T) {
	c := ArrayOf([]complex64{1 + 2i, -3.5 + 0.25i})
	if got, err := c.Complex128s(); err != nil || got[0] != 1+2i || got[1] != -3.5+0.25i {
		t.Errorf("c8 Complex128s = %v, %v", got, err)
	}
	if got, err := c.Complex64s(); err != nil || got[1] != -3.5+0.25i {
		t.Errorf("c8 Complex64s = %v, %v", got, err)
	}
	be := &NDArray{DType: dt(t, ">c16"), Shape: []int{1}, Data: make([]byte, 16)}
	binary.BigEndian.PutUint64(be.Data, math.Float64bits(1.5))
	binary.BigEndian.PutUint64(be.Data[8:], math.Float64bits(-2))
	if got, _ := be.Complex64s(); got[0] != 1.5-2i {
		t.Errorf(">c16 = %v", got)
	}
	if _, err := c.Float64s(); !errors.Is(err, ErrType) {
		t.Errorf("Float64s of complex: %v", err)
	}
	if v, _ := c.At(0); v != Complex(1+2i) {
		t.Errorf("At = %v", v)
	}
}

func TestIntAccessors(t *testing.T) {
	u := ArrayOf([]uint64{0, math.MaxUint64})
	if _, err := u.Int64s(); !errors.Is(err, ErrType) || !strings.Contains(err.Error(), "18446744073709551615") {
		t.Errorf("Int64s overflow: %v", err)
	}
	if got, err := u.Uint64s(); err != nil || got[1] != math.MaxUint64 {
		t.Errorf("Uint64s = %v, %v", got, err)
	}
	i := ArrayOf([]int8{-128, 127})
	if got, _ := i.Int64s(); !reflect.DeepEqual(got, []int64{-128, 127}) {
		t.Errorf("Int64s = %v", got)
	}
	if _, err := i.Uint64s(); !errors.Is(err, ErrType) {
		t.Errorf("Uint64s of negative: %v", err)
	}
	m := &NDArray{DType: dt(t, "<M8[D]"), Shape: []int{2}, Data: encodeFloats(t, Int64, []float64{18262, 1})}
	if got, err := m.Int64s(); err != nil || !reflect.DeepEqual(got, []int64{18262, 1}) {
		t.Errorf("datetime Int64s = %v, %v", got, err)
	}
	f := ArrayOf([]float64{1.5})
	for name, fn := range map[string]func() error{
		"Int64s":  func() error { _, err := f.Int64s(); return err },
		"Uint64s": func() error { _, err := f.Uint64s(); return err },
		"Bools":   func() error { _, err := f.Bools(); return err },
		"Strings": func() error { _, err := f.Strings(); return err },
	} {
		if err := fn(); !errors.Is(err, ErrType) {
			t.Errorf("%s of float64: %v", name, err)
		}
	}
	if _, err := m.Float64s(); !errors.Is(err, ErrType) {
		t.Errorf("Float64s of datetime: %v", err)
	}
}

func TestStrings(t *testing.T) {
	u := StringArray([]string{"a", "bcd", "é"})
	if u.DType.String() != "<U3" || hex.EncodeToString(u.Data[12:16]) != "62000000" {
		t.Errorf("StringArray: %s %x", u.DType, u.Data)
	}
	if got, err := u.Strings(); err != nil || !reflect.DeepEqual(got, []string{"a", "bcd", "é"}) {
		t.Errorf("U Strings = %q, %v", got, err)
	}
	be := &NDArray{DType: dt(t, ">U2"), Shape: []int{1}, Data: []byte{0, 0, 0, 'h', 0, 0, 0, 'i'}}
	if got, _ := be.Strings(); got[0] != "hi" {
		t.Errorf(">U2 = %q", got)
	}
	s := &NDArray{DType: dt(t, "|S3"), Shape: []int{3}, Data: []byte("a\x00\x00bcdx\x00y")}
	if got, err := s.Strings(); err != nil || !reflect.DeepEqual(got, []string{"a", "bcd", "x\x00y"}) {
		t.Errorf("S Strings = %q, %v", got, err)
	}
	bad := &NDArray{DType: dt(t, "<U1"), Shape: []int{1}, Data: []byte{0, 0xd8, 0, 0}}
	if _, err := bad.Strings(); !errors.Is(err, ErrType) {
		t.Errorf("surrogate in U array: %v", err)
	}
	grid := StringArray([]string{"a", "b", "c", "d"}, 2, 2)
	if l, _ := grid.ToList(); Repr(l) != "[['a', 'b'], ['c', 'd']]" {
		t.Errorf("2-D StringArray = %s", Repr(l))
	}
}

func TestStructuredField(t *testing.T) {
	d, err := DTypeFromDescr(List{
		Tuple{Str("a"), Str("|u1")},
		Tuple{Str(""), Str("|V1")},
		Tuple{Str("b"), Str(">i2"), Tuple{IntOf(2)}},
		Tuple{Str("s"), List{Tuple{Str("x"), Str("<f4")}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	// Two records: (7, [1, -1], (1.5,)) and (8, [2, -2], (2.5,)).
	rec := func(a byte, b0, b1 int16, x float32) []byte {
		r := []byte{a, 0xee}
		r = binary.BigEndian.AppendUint16(r, uint16(b0))
		r = binary.BigEndian.AppendUint16(r, uint16(b1))
		return binary.LittleEndian.AppendUint32(r, math.Float32bits(x))
	}
	arr, err := NewNDArray(d, []int{2}, false, append(rec(7, 1, -1, 1.5), rec(8, 2, -2, 2.5)...))
	if err != nil {
		t.Fatal(err)
	}
	a, err := arr.Field("a")
	if got, _ := a.Int64s(); err != nil || !reflect.DeepEqual(got, []int64{7, 8}) || a.DType.String() != "|u1" {
		t.Errorf("Field a = %v, %v", got, err)
	}
	b, err := arr.Field("b")
	if err != nil || !reflect.DeepEqual(b.Shape, []int{2, 2}) {
		t.Fatalf("Field b: %v %v", b, err)
	}
	if got, _ := b.Int64s(); !reflect.DeepEqual(got, []int64{1, -1, 2, -2}) {
		t.Errorf("Field b = %v", got)
	}
	s, _ := arr.Field("s")
	x, err := s.Field("x")
	if got, _ := x.Float64s(); err != nil || !reflect.DeepEqual(got, []float64{1.5, 2.5}) {
		t.Errorf("Field s.x = %v, %v", got, err)
	}
	for _, name := range []string{"", "zz"} {
		if _, err := arr.Field(name); err == nil {
			t.Errorf("Field(%q) succeeded", name)
		}
	}
	l, err := arr.ToList()
	if err != nil || Repr(l) != "[(7, array([1, -1], dtype='>i2', shape=(2,)), (1.5,)), (8, array([2, -2], dtype='>i2', shape=(2,)), (2.5,))]" {
		t.Errorf("ToList = %s, %v", Repr(l), err)
	}
	if !Equal(l, List{Tuple{IntOf(7), ArrayOf([]int16{1, -1}), Tuple{Float(1.5)}}, Tuple{IntOf(8), ArrayOf([]int16{2, -2}), Tuple{Float(2.5)}}}) {
		t.Error("ToList not Equal to the expected values")
	}
	sc := &Scalar{DType: d, Data: rec(9, 3, 4, 0.5)}
	if v, err := sc.Field("a"); err != nil || v != IntOf(9) {
		t.Errorf("Scalar.Field a = %v, %v", v, err)
	}
	if v, err := sc.Field("b"); err != nil || !Equal(v, ArrayOf([]int16{3, 4})) {
		t.Errorf("Scalar.Field b = %v, %v", v, err)
	}
	if _, err := sc.Field("nope"); err == nil {
		t.Error("Scalar.Field of a missing name")
	}
	if _, err := (&Scalar{DType: d, Data: []byte{1}}).Field("s"); err == nil {
		t.Error("Scalar.Field with short data")
	}
}

func TestToList(t *testing.T) {
	cases := []struct {
		a    *NDArray
		want string
	}{
		{&NDArray{DType: Float64, Data: encodeFloats(t, Float64, []float64{2.5})}, "2.5"},
		{ArrayOf([]int32{}), "[]"},
		{&NDArray{DType: Int16, Shape: []int{0, 3}}, "[]"},
		{&NDArray{DType: Int16, Shape: []int{3, 0}}, "[[], [], []]"},
		{ArrayOf([]bool{true, false}), "[True, False]"},
		{ArrayOf([]float32{1, 2, 3, 4, 5, 6, 7, 8}, 2, 2, 2), "[[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]]"},
		{&NDArray{DType: dt(t, "|V2"), Shape: []int{1}, Data: []byte{0, 1}}, "[b'\\x00\\x01']"},
	}
	for _, c := range cases {
		l, err := c.a.ToList()
		if err != nil || Repr(l) != c.want {
			t.Errorf("ToList = %s, %v; want %s", Repr(l), err, c.want)
		}
	}
}

func TestScalarItem(t *testing.T) {
	ld := &Scalar{DType: dt(t, "<f16"), Data: make([]byte, 16)}
	cases := []struct {
		s    *Scalar
		want Value
	}{
		{ScalarOf(true), Bool(true)},
		{ScalarOf(int8(-5)), IntOf(-5)},
		{ScalarOf(uint64(math.MaxUint64)), UintOf(math.MaxUint64)},
		{ScalarOf(float32(1.5)), Float(1.5)},
		{ScalarOf(1.25), Float(1.25)},
		{&Scalar{DType: Float16, Data: []byte{0x00, 0x3e}}, Float(1.5)},
		{ScalarOf(complex64(1 + 2i)), Complex(1 + 2i)},
		{ScalarOf(complex(3, -4)), Complex(3 - 4i)},
		{&Scalar{DType: dt(t, "|S3"), Data: []byte("ab\x00")}, Bytes("ab")},
		{&Scalar{DType: dt(t, "<U2"), Data: []byte{'h', 0, 0, 0, 0, 0, 0, 0}}, Str("h")},
		{&Scalar{DType: dt(t, "|V2"), Data: []byte{1, 2}}, Bytes{1, 2}},
	}
	for _, c := range cases {
		v, err := c.s.Item()
		if err != nil || !Equal(v, c.want) || v.Kind() != c.want.Kind() {
			t.Errorf("%s.Item() = %s, %v; want %s", c.s.DType, Repr(v), err, Repr(c.want))
		}
	}
	// Kinds with no Python equivalent stay numpy scalars.
	for _, s := range []*Scalar{ld, {DType: dt(t, "<c32"), Data: make([]byte, 32)}, {DType: dt(t, "<M8[s]"), Data: make([]byte, 8)}} {
		v, err := s.Item()
		if sc, ok := v.(*Scalar); err != nil || !ok || !sc.DType.Equal(s.DType) {
			t.Errorf("%s.Item() = %#v, %v", s.DType, v, err)
		}
	}
	st, _ := DTypeFromDescr(List{Tuple{Str("x"), Str("<i2")}, Tuple{Str(""), Str("|V2")}, Tuple{Str("y"), Str("|b1")}})
	v, err := (&Scalar{DType: st, Data: []byte{5, 0, 9, 9, 1}}).Item()
	if err != nil || Repr(v) != "(5, True)" {
		t.Errorf("structured Item = %s, %v", Repr(v), err)
	}
	if _, err := (&Scalar{DType: Float64, Data: []byte{1}}).Item(); err == nil {
		t.Error("Item with short data")
	}
}

func TestArrayConstructors(t *testing.T) {
	if _, err := NewNDArray(Float64, []int{2}, false, make([]byte, 8)); err == nil {
		t.Error("NewNDArray with short data")
	}
	if _, err := NewNDArray(dt(t, "|O"), []int{1}, false, make([]byte, 8)); !errors.Is(err, ErrDType) {
		t.Errorf("NewNDArray object: %v", err)
	}
	if _, err := NewNDArray(Float64, []int{-1}, false, nil); err == nil {
		t.Error("NewNDArray negative shape")
	}
	a, err := NewNDArray(Int16, []int{2}, true, []byte{1, 0, 2, 0})
	if err != nil || a.FortranOrder || a.Ndim() != 1 || a.Len() != 2 {
		t.Errorf("NewNDArray 1-D fortran: %+v %v", a, err)
	}
	if n, ok := ShapeSize([]int{3, 0, -1}, 100); ok || n != 0 {
		t.Errorf("ShapeSize negative = %d, %v", n, ok)
	}
	if n, ok := ShapeSize([]int{1 << 32, 1 << 32}, math.MaxInt); ok {
		t.Errorf("ShapeSize overflow = %d", n)
	}
	if n, ok := ShapeSize(nil, 10); !ok || n != 1 {
		t.Errorf("ShapeSize(()) = %d", n)
	}
	if n, ok := ShapeSize([]int{0, 1 << 62, 1 << 62}, 10); !ok || n != 0 {
		t.Errorf("ShapeSize with 0 = %d, %v", n, ok)
	}
	for want, got := range map[string]DType{"|b1": DTypeOf[bool](), "|i1": DTypeOf[int8](), "<i2": DTypeOf[int16](), "<i4": DTypeOf[int32](),
		"<i8": DTypeOf[int64](), "|u1": DTypeOf[uint8](), "<u2": DTypeOf[uint16](), "<u4": DTypeOf[uint32](), "<u8": DTypeOf[uint64](),
		"<f4": DTypeOf[float32](), "<f8": DTypeOf[float64](), "<c8": DTypeOf[complex64](), "<c16": DTypeOf[complex128]()} {
		if got.String() != want {
			t.Errorf("DTypeOf = %s, want %s", got, want)
		}
	}
	if s := ScalarOf(uint16(0x0102)); hex.EncodeToString(s.Data) != "0201" {
		t.Errorf("ScalarOf(uint16) = %x", s.Data)
	}
	for _, f := range []func(){
		func() { ArrayOf([]int8{1, 2, 3}, 2, 2) },
		func() { StringArray([]string{"a"}, 2) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("mismatched shape did not panic")
				}
			}()
			f()
		}()
	}
}

// Arrays built by hand with the wrong amount of data fail instead of
// panicking.
func TestInconsistentArray(t *testing.T) {
	a := &NDArray{DType: Float64, Shape: []int{5}, Data: make([]byte, 8)}
	checks := map[string]func() error{
		"Float64s":    func() error { _, err := a.Float64s(); return err },
		"Float32s":    func() error { _, err := a.Float32s(); return err },
		"Int64s":      func() error { _, err := (&NDArray{DType: Int64, Shape: []int{5}}).Int64s(); return err },
		"Uint64s":     func() error { _, err := (&NDArray{DType: Int64, Shape: []int{5}}).Uint64s(); return err },
		"Complex128s": func() error { _, err := (&NDArray{DType: Complex128, Shape: []int{5}}).Complex128s(); return err },
		"Bools":       func() error { _, err := (&NDArray{DType: Bool_, Shape: []int{5}}).Bools(); return err },
		"Strings": func() error {
			_, err := (&NDArray{DType: DType{Kind: 'S', ByteOrder: '|', Size: 2}, Shape: []int{5}}).Strings()
			return err
		},
		"At":     func() error { _, err := a.At(3); return err },
		"ToList": func() error { _, err := a.ToList(); return err },
		"Field":  func() error { _, err := (&NDArray{DType: structField(), Shape: []int{5}}).Field("a"); return err },
	}
	for name, f := range checks {
		if err := f(); err == nil {
			t.Errorf("%s of an inconsistent array succeeded", name)
		}
	}
	if Equal(a, a) {
		t.Error("inconsistent array Equal to itself")
	}
	if _, err := ArrayOf([]int8{1, 2}).At(2); err == nil {
		t.Error("At out of range")
	}
}

func structField() DType {
	d, _ := DTypeFromDescr(List{Tuple{Str("a"), Str("<i4")}})
	return d
}
