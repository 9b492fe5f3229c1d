package encoding

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/pyval/msgpack"
	"github.com/sdpkit/sdpkit/pyval/pyjson"
)

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRegistryNames(t *testing.T) {
	want := []string{ASCII, JSON, Msgpack, MsgpackNumpy, NPY, UTF8}
	slices.Sort(want)
	if got := NewRegistry().Names(); !slices.Equal(got, want) {
		t.Errorf("NewRegistry names %v, want %v", got, want)
	}
	r := NewConnectorRegistry(pyval.Float64, []int{2})
	for _, n := range []string{CArray, Python, MsgpackNumpy} {
		if _, err := r.Lookup(n); err != nil {
			t.Errorf("connector registry: %v", err)
		}
	}
	if _, err := NewRegistry().Lookup(CArray); !errors.Is(err, ErrUnknownEncoding) {
		t.Errorf("carray in the data-queue registry: %v", err)
	}
	for _, c := range append(builtins(), ConnectorCodecs(pyval.Float64, nil)...) {
		if _, ok := c.(Appender); !ok {
			t.Errorf("%s is not an Appender", c.Name())
		}
	}
}

// datetimeArray returns a 2x3 datetime64[ns] array in the given order.
func datetimeArray(shape []int, fortran bool) *pyval.NDArray {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return &pyval.NDArray{DType: pyval.DType{Kind: 'M', ByteOrder: '<', Size: 8, Unit: "ns"}, Shape: shape, FortranOrder: fortran, Data: make([]byte, 8*n)}
}

func TestMsgpackNumpyEncodeRules(t *testing.T) {
	structM8, _ := pyval.DTypeFromDescr(pyval.List{pyval.Tuple{pyval.Str("t"), pyval.Str("<M8[us]")}, pyval.Tuple{pyval.Str("x"), pyval.Str("<f8")}})
	cases := []struct {
		name string
		v    pyval.Value
		err  error // nil: must encode
	}{
		{"M8 C order", datetimeArray([]int{2, 3}, false), ErrDatetimeArray},
		{"M8 Fortran 2x3 (not C-contiguous in numpy)", datetimeArray([]int{2, 3}, true), nil},
		{"M8 Fortran 1x3 (also C-contiguous)", datetimeArray([]int{1, 3}, true), ErrDatetimeArray},
		{"M8 Fortran empty", datetimeArray([]int{0, 3}, true), ErrDatetimeArray},
		{"struct holding M8", &pyval.NDArray{DType: structM8, Shape: []int{1}, Data: make([]byte, 16)}, ErrDatetimeArray},
		{"object array", &pyval.NDArray{DType: pyval.DType{Kind: 'O', ByteOrder: '|', Size: 8}, Shape: []int{1}, Data: make([]byte, 8)}, ErrObjectArray},
		{"short data", &pyval.NDArray{DType: pyval.Float64, Shape: []int{2}, Data: make([]byte, 8)}, ErrUnsupported},
		{"datetime64 scalar", &pyval.Scalar{DType: pyval.DType{Kind: 'M', ByteOrder: '<', Size: 8, Unit: "s"}, Data: make([]byte, 8)}, ErrUnsupported},
		{"void scalar", &pyval.Scalar{DType: pyval.DType{Kind: 'V', ByteOrder: '|', Size: 2}, Data: make([]byte, 2)}, ErrUnsupported},
		{"timestamp", pyval.Timestamp{Seconds: 1}, nil},
		{"invalid UTF-8 str", pyval.Str("\xff"), ErrUnicode},
	}
	for _, c := range cases {
		_, err := MsgpackNumpyCodec{}.Encode(c.v)
		if c.err == nil && err != nil || c.err != nil && !errors.Is(err, c.err) {
			t.Errorf("%s: Encode error %v, want %v", c.name, err, c.err)
		}
	}
	// AllowDatetime sends C-order datetime arrays as Python sends views.
	a := datetimeArray([]int{2, 3}, false)
	b, err := MsgpackNumpyCodec{AllowDatetime: true}.Encode(a)
	if err != nil {
		t.Fatal(err)
	}
	back, err := MsgpackNumpyCodec{}.Decode(b)
	if err != nil || !sameValue(back, a) {
		t.Errorf("AllowDatetime round trip: %s, %v", pyval.Repr(back), err)
	}
}

func TestMsgpackNumpyPlainVoid(t *testing.T) {
	a := &pyval.NDArray{DType: pyval.DType{Kind: 'V', ByteOrder: '|', Size: 2}, Shape: []int{1}, Data: []byte{1, 2}}
	b, err := MsgpackNumpyCodec{}.Encode(a)
	if err != nil {
		t.Fatal(err)
	}
	// numpy: type [['', '|V2']], kind b'V'; decoding names the field f0.
	want := "85 c4026e64c3 c40474797065 9192a0a37c5632 c4046b696e64c40156 c4057368617065 9101 c40464617461c4020102"
	if hex.EncodeToString(b) != strings.ReplaceAll(want, " ", "") {
		t.Errorf("plain void: %x", b)
	}
	v, err := MsgpackNumpyCodec{}.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if got := v.(*pyval.NDArray).DType; got.Fields == nil || got.Fields[0].Name != "f0" {
		t.Errorf("decoded dtype %s", got)
	}
}

func TestMsgpackNumpyDecodeTolerance(t *testing.T) {
	d := func(s string) (pyval.Value, error) { return MsgpackNumpyCodec{}.Decode(mustHex(t, s)) }
	isMap := func(v pyval.Value) bool { _, ok := v.(*pyval.Dict); return ok }

	// bin keys: Python semantics, errors are errors.
	if _, err := d("85 c4026e64c3 c40474797065a33c7a39 c4046b696e64c400 c40573686170659101 c40464617461c40100"); !errors.Is(err, ErrInvalidData) {
		t.Errorf("bad dtype: %v", err)
	}
	if _, err := d("85 c4026e64c3 c40474797065a33c6938 c4046b696e64c400 c40573686170659101 c40464617461c40100"); !errors.Is(err, ErrInvalidData) {
		t.Errorf("data too short: %v", err)
	}
	if _, err := d("85 c4026e64c3 c40474797065a17c c4046b696e64c4014f c40573686170659101 c40464617461c40100"); !errors.Is(err, ErrObjectArray) {
		t.Errorf("pickled array: %v", err)
	}
	if _, err := d("82 c407636f6d706c6578c3 c40464617461a378797a"); !errors.Is(err, ErrInvalidData) {
		t.Errorf("bad complex text: %v", err)
	}
	// Longer data: numpy views the first bytes.
	v, err := d("85 c4026e64c3 c40474797065a37c7531 c4046b696e64c400 c40573686170659101 c40464617461c4020708")
	if a, ok := v.(*pyval.NDArray); err != nil || !ok || !bytes.Equal(a.Data, []byte{7}) {
		t.Errorf("long data: %s, %v", pyval.Repr(v), err)
	}
	// nd that is not True: the scalar branch.
	v, err = d("83 c4026e6401 c40474797065a37c7531 c40464617461c40105")
	if s, ok := v.(*pyval.Scalar); err != nil || !ok || s.Data[0] != 5 {
		t.Errorf("nd=1: %s, %v", pyval.Repr(v), err)
	}
	// complex key with any value, data as bin: complex(b.decode()).
	v, err = d("82 c407636f6d706c6578c2 c40464617461c40628312b326a29")
	if err != nil || !sameValue(v, pyval.Complex(complex(1, 2))) {
		t.Errorf("complex from bin: %s, %v", pyval.Repr(v), err)
	}
	// str keys (old writers): a map when it cannot be an array.
	v, err = d("85 a26e64c3 a474797065a33c7a39 a46b696e64a0 a573686170659101 a464617461a100")
	if err != nil || !isMap(v) {
		t.Errorf("str-keyed map with a bad dtype: %s, %v", pyval.Repr(v), err)
	}
	v, err = d("82 a7636f6d706c6578c3 a464617461a378797a")
	if err != nil || !isMap(v) {
		t.Errorf("str-keyed user map {complex, data}: %s, %v", pyval.Repr(v), err)
	}
	// Raw (non-UTF-8) str is tolerated only as array data.
	if _, err := d("92 a1ff 85a26e64c3a474797065a37c7531a46b696e64a0a573686170659101a464617461a1ff"); !errors.Is(err, msgpack.ErrInvalidUTF8) {
		t.Errorf("raw str outside array data: %v", err)
	}
	v, err = d("92 a178 85a26e64c3a474797065a37c7531a46b696e64a0a573686170659101a464617461a1ff")
	if l, ok := v.(pyval.List); err != nil || !ok || len(l) != 2 || !bytes.Equal(l[1].(*pyval.NDArray).Data, []byte{0xff}) {
		t.Errorf("raw str array data: %s, %v", pyval.Repr(v), err)
	}
	// Python's strict_map_key.
	if _, err := d("8101a0"); !errors.Is(err, msgpack.ErrMapKey) {
		t.Errorf("int key: %v", err)
	}
}

func TestDecodeAliasesInput(t *testing.T) {
	a := pyval.ArrayOf([]float64{1, 2, 3})
	for _, c := range []Codec{MsgpackNumpyCodec{}, NPYCodec{}, CArrayCodec{DType: pyval.Float64, Shape: []int{3}}} {
		b, err := c.Encode(a)
		if err != nil {
			t.Fatal(err)
		}
		v, err := c.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		got := v.(*pyval.NDArray)
		if &got.Data[0] != &b[len(b)-24] || cap(got.Data) != 24 {
			t.Errorf("%s: decoded data does not alias the input's last 24 bytes", c.Name())
		}
	}
}

func TestParsePyComplex(t *testing.T) {
	vals := []complex128{1 + 2i, 3i, complex(math.Copysign(0, -1), -1), complex(-0.5, math.Inf(-1)),
		complex(math.Inf(1), math.NaN()), 1e-7 + 1e16i, complex(1.5, 0), complex(0, math.Copysign(0, -1))}
	for _, c := range vals {
		s := pyval.ComplexRepr(c)
		got, err := parsePyComplex(s)
		if err != nil || !sameValue(pyval.Complex(got), pyval.Complex(c)) {
			t.Errorf("parsePyComplex(%q) = %v, %v; want %v", s, got, err, c)
		}
	}
	ok := map[string]complex128{" ( 1-2J ) ": 1 - 2i, "j": 1i, "-j": -1i, "2": 2, "1e-05j": 1e-5i, "(-1e-05+1E+3j)": -1e-5 + 1e3i, "INFINITYj": complex(0, math.Inf(1))}
	for s, want := range ok {
		if got, err := parsePyComplex(s); err != nil || got != want {
			t.Errorf("parsePyComplex(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "()", "1+", "1+2", "xj", "0x1p3j", "1_0j", "1 + 2j", "(1+2j", "1+2jj"} {
		if got, err := parsePyComplex(s); err == nil {
			t.Errorf("parsePyComplex(%q) = %v, want an error", s, got)
		}
	}
}

func TestCArray(t *testing.T) {
	data := make([]byte, 24)
	cases := []struct {
		shape []int
		want  []int // nil: error
	}{
		{[]int{2, 3}, []int{2, 3}},
		{[]int{-1, 3}, []int{2, 3}},
		{[]int{-1}, []int{6}},
		{[]int{4}, nil},
		{[]int{-1, -1}, nil},
		{[]int{}, nil},
		{[]int{-1, 0}, nil},
	}
	for _, c := range cases {
		v, err := CArrayCodec{DType: pyval.Int32, Shape: c.shape}.Decode(data)
		if c.want == nil {
			if err == nil {
				t.Errorf("shape %v: decoded %s", c.shape, pyval.Repr(v))
			}
			continue
		}
		if err != nil || !slices.Equal(v.(*pyval.NDArray).Shape, c.want) {
			t.Errorf("shape %v: %v, %v", c.shape, v, err)
		}
	}
	if v, err := (CArrayCodec{DType: pyval.Int32}).Decode(data[:4]); err != nil || v.(*pyval.NDArray).Ndim() != 0 {
		t.Errorf("0-d: %v, %v", v, err)
	}
	for _, bad := range [][]byte{data[:5]} {
		if _, err := (CArrayCodec{DType: pyval.Int32, Shape: []int{-1}}).Decode(bad); !errors.Is(err, ErrInvalidData) {
			t.Errorf("ragged data: %v", err)
		}
	}
	if _, err := (CArrayCodec{}).Decode(data); !errors.Is(err, ErrInvalidData) {
		t.Errorf("no dtype: %v", err)
	}
	if _, err := (CArrayCodec{DType: pyval.Float64}).Encode(pyval.ArrayOf([]int32{1})); !errors.Is(err, ErrUnsupported) {
		t.Errorf("dtype mismatch: %v", err)
	}
	if b, err := (CArrayCodec{}).Encode(pyval.ScalarOf(int16(-2))); err != nil || hex.EncodeToString(b) != "feff" {
		t.Errorf("scalar: %x, %v", b, err)
	}
}

func TestPythonCodec(t *testing.T) {
	if b, err := (PythonCodec{}).Encode(pyval.List{pyval.ScalarOf(int64(3)), pyval.Tuple{pyval.Str("a")}}); err != nil || string(b) != "[3, ('a',)]" {
		t.Errorf("Encode: %q, %v", b, err)
	}
	if _, err := (PythonCodec{}).Encode(pyval.ArrayOf([]int8{1})); !errors.Is(err, ErrUnsupported) {
		t.Errorf("array: %v", err)
	}
	if _, err := (PythonCodec{}).Decode([]byte("hello")); !errors.Is(err, ErrInvalidData) {
		t.Errorf("bare text: %v", err)
	}
	if v, err := (PythonCodec{TextFallback: true}).Decode([]byte("hello")); err != nil || v != pyval.Str("hello") {
		t.Errorf("TextFallback: %v, %v", v, err)
	}
	if _, err := (PythonCodec{TextFallback: true}).Decode([]byte{0xff}); !errors.Is(err, ErrUnicode) {
		t.Errorf("invalid UTF-8: %v", err)
	}
}

func TestJSONCodec(t *testing.T) {
	v := pyval.StrDict("a", pyval.Float(math.Inf(1)), "é", pyval.List{pyval.IntOf(1)})
	cases := []struct {
		c    JSONCodec
		want string
		err  error
	}{
		{JSONCodec{}, `{"a": Infinity, "\u00e9": [1]}`, nil},
		{NewJSONCodec(pyjson.Separators(",", ":"), pyjson.EnsureASCII(false)), `{"a":Infinity,"é":[1]}`, nil},
		{NewJSONCodec(pyjson.AllowNaN(false)), "", pyjson.ErrNaN},
	}
	for _, c := range cases {
		b, err := c.c.Encode(v)
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("Encode error %v, want %v", err, c.err)
			}
			continue
		}
		if err != nil || string(b) != c.want {
			t.Errorf("Encode = %s, %v; want %s", b, err, c.want)
		}
		back, err := c.c.Decode(b)
		if err != nil || !sameValue(back, v) {
			t.Errorf("Decode(%s) = %s, %v", b, pyval.Repr(back), err)
		}
	}
	if _, err := (JSONCodec{}).Encode(pyval.Bytes("x")); !errors.Is(err, ErrUnsupported) {
		t.Errorf("bytes: %v", err)
	}
	if v, err := (JSONCodec{}).Decode([]byte("[NaN, -Infinity]")); err != nil || len(v.(pyval.List)) != 2 {
		t.Errorf("NaN tokens: %v, %v", v, err)
	}
	if _, err := (JSONCodec{}).Decode([]byte("{")); !errors.Is(err, ErrInvalidData) || !errors.Is(err, pyjson.ErrSyntax) {
		t.Errorf("syntax: %v", err)
	}
}

func TestNPYScalars(t *testing.T) {
	cases := []struct {
		v     pyval.Value
		descr string
	}{
		{pyval.Float(1.5), "<f8"},
		{pyval.IntOf(-1), "<i8"},
		{pyval.UintOf(math.MaxUint64), "<u8"},
		{pyval.Bool(true), "|b1"},
		{pyval.Complex(1i), "<c16"},
		{pyval.Str("é"), "<U1"},
		{pyval.Str(""), "<U1"},
		{pyval.Bytes("ab"), "|S2"},
		{pyval.ScalarOf(float32(2)), "<f4"},
	}
	for _, c := range cases {
		b, err := NPYCodec{}.Encode(c.v)
		if err != nil {
			t.Errorf("%s: %v", pyval.Repr(c.v), err)
			continue
		}
		if !bytes.Contains(b, []byte("'descr': '"+c.descr+"', 'fortran_order': False, 'shape': (), }")) {
			t.Errorf("%s: header %q", pyval.Repr(c.v), b[10:min(len(b), 80)])
		}
		back, err := NPYCodec{}.Decode(b)
		if err != nil || back.(*pyval.NDArray).Ndim() != 0 {
			t.Errorf("%s: decoded %s, %v", pyval.Repr(c.v), pyval.Repr(back), err)
		}
	}
	for _, v := range []pyval.Value{pyval.List{pyval.IntOf(1)}, pyval.None, &pyval.NDArray{DType: pyval.DType{Kind: 'O', ByteOrder: '|', Size: 8}, Shape: []int{1}, Data: make([]byte, 8)}} {
		if _, err := (NPYCodec{}).Encode(v); !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrObjectArray) {
			t.Errorf("%s: %v", pyval.Repr(v), err)
		}
	}
}

func TestTextErrors(t *testing.T) {
	if _, err := (UTF8Codec{}).Decode([]byte{'a', 0xff}); !errors.Is(err, ErrUnicode) || !errors.Is(err, ErrInvalidData) {
		t.Errorf("utf-8 decode: %v", err)
	}
	if _, err := (UTF8Codec{}).Encode(pyval.Str("\xed\xa0\x80")); !errors.Is(err, ErrUnicode) {
		t.Errorf("utf-8 surrogate: %v", err)
	}
	if _, err := (ASCIICodec{}).Decode([]byte{0x80}); !errors.Is(err, ErrUnicode) {
		t.Errorf("ascii decode: %v", err)
	}
	if _, err := (UTF8Codec{}).Encode(pyval.IntOf(1)); !errors.Is(err, ErrUnsupported) {
		t.Errorf("utf-8 int: %v", err)
	}
}

// TestBigInts: ints beyond -2**63 … 2**64-1 travel exactly where Python's
// encoding carries them (json, python) and fail clearly where it raises
// (msgpack and msgpack_numpy: OverflowError; npy: an object array).
func TestBigInts(t *testing.T) {
	var ints []pyval.Value
	for _, s := range []string{"18446744073709551616", "-9223372036854775809", "-1" + strings.Repeat("0", 50)} {
		i, err := pyval.ParseInt(s)
		if err != nil {
			t.Fatal(err)
		}
		ints = append(ints, i, pyval.List{pyval.IntOf(1), pyval.StrDict("k", i)})
	}
	for _, v := range ints {
		for _, c := range []Codec{JSONCodec{}, PythonCodec{}} {
			b, err := c.Encode(v)
			if err != nil {
				t.Errorf("%s: Encode(%s): %v", c.Name(), pyval.Repr(v), err)
				continue
			}
			back, err := c.Decode(b)
			if err != nil || !pyval.Equal(back, v) {
				t.Errorf("%s: %s came back as %v, %v", c.Name(), pyval.Repr(v), back, err)
			}
		}
		for _, c := range []Codec{MsgpackCodec{}, MsgpackNumpyCodec{}} {
			if _, err := c.Encode(v); !errors.Is(err, ErrUnsupported) || !errors.Is(err, msgpack.ErrIntOverflow) {
				t.Errorf("%s: Encode(%s): %v; want ErrUnsupported, msgpack.ErrIntOverflow", c.Name(), pyval.Repr(v), err)
			}
		}
		if _, ok := v.(pyval.Int); ok {
			if _, err := (NPYCodec{}).Encode(v); !errors.Is(err, ErrObjectArray) {
				t.Errorf("npy: Encode(%s): %v; want ErrObjectArray", pyval.Repr(v), err)
			}
		}
	}
	// The edges of the 64-bit range still encode natively.
	for _, v := range []pyval.Value{pyval.UintOf(math.MaxUint64), pyval.IntOf(math.MinInt64)} {
		for _, c := range []Codec{MsgpackCodec{}, MsgpackNumpyCodec{}, NPYCodec{}} {
			if _, err := c.Encode(v); err != nil {
				t.Errorf("%s: Encode(%s): %v", c.Name(), pyval.Repr(v), err)
			}
		}
	}
}
