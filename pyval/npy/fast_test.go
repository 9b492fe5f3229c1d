package npy

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/sdpkit/sdpkit/pyval"
)

// checkSimpleHeader fails unless parseSimpleHeader either declines raw or
// returns exactly what the general parser returns for it.
func checkSimpleHeader(t *testing.T, raw []byte, v Version) (fast bool) {
	t.Helper()
	h, ok := parseSimpleHeader(raw)
	if !ok {
		return false
	}
	want, err := parseHeaderBytes(raw, v)
	if err != nil {
		t.Fatalf("fast path accepted %q, general parser: %v", raw, err)
	}
	if !reflect.DeepEqual(h, want) {
		t.Fatalf("fast path and general parser differ on %q:\n%#v\n%#v", raw, h, want)
	}
	return true
}

func TestCommonDTypes(t *testing.T) {
	for _, s := range []string{"<f8", "<f4", "<f2", "<i8", "<i4", "<i2", "|i1", "<u8", "<u4", "<u2", "|u1", "|b1", "<c8", "<c16", ">f8", ">f4", ">i8", ">i4"} {
		got, ok := commonDType([]byte(s))
		want, err := pyval.ParseDType(s)
		if !ok || err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("commonDType(%q) = %#v, %v; ParseDType: %#v, %v", s, got, ok, want, err)
		}
		if !isCommon(want) || want.String() != s {
			t.Errorf("isCommon(%s) false or String() not %q", want, s)
		}
		var buf [24]byte
		if a := appendDTypeStr(buf[:0], want); string(a) != s {
			t.Errorf("appendDTypeStr = %q, want %q", a, s)
		}
	}
	for _, s := range []string{"<M8[10ms]", "<m8", "|S5", "<U3", "|V16", ">c32", "<f16"} {
		dt, err := pyval.ParseDType(s)
		if err != nil {
			t.Fatal(err)
		}
		var buf [24]byte
		if a := appendDTypeStr(buf[:0], dt); string(a) != dt.String() {
			t.Errorf("appendDTypeStr = %q, want %q", a, dt.String())
		}
	}
}

// TestSimpleHeaderAgrees runs headers through both parsers: those the
// fast path must take, and near misses it must leave alone or get right.
func TestSimpleHeaderAgrees(t *testing.T) {
	fast := []string{
		"{'descr': '<f8', 'fortran_order': False, 'shape': (1000,), }" + "                    \n",
		"{'descr': '<f8', 'fortran_order': False, 'shape': (), }\n",
		"{'descr': '|u1', 'fortran_order': True, 'shape': (2, 3), }\n",
		"{'descr': '<U7', 'fortran_order': False, 'shape': (2, 3, 4)}",
		`{"descr": ">i2", "fortran_order": False, "shape": (0,)}`,
		"\n {'descr':'<M8[ms]','fortran_order':True,'shape':(5,6,),}\t\f\r\n",
		"{ 'descr' : '<c16' ,\n 'fortran_order' : False ,\r\n 'shape' : ( 1 , 0 ) , }",
		"{'descr': 'float64', 'fortran_order': False, 'shape': (0, 123456789012345678)}",
		"{'descr': '<f8', 'fortran_order': False, 'shape': (3,)}",
		"{'descr': 'L', 'fortran_order': False, 'shape': (3,)}",
	}
	for _, h := range fast {
		for _, v := range []Version{Version1, Version3} {
			if !checkSimpleHeader(t, []byte(h), v) {
				t.Errorf("fast path declined %q", h)
			}
		}
	}
	slow := []string{
		"{'descr': '<f8', 'fortran_order': False, 'shape': (3L,), }",
		"{'descr': '<f8', 'fortran_order': False, 'shape': (3 L,), }",
		"{'descr': '<f8', 'fortran_order': False, 'shape': (3), }",
		"{'descr': '<f8', 'fortran_order': False, 'shape': (03,), }",
		"{'descr': '<f8', 'fortran_order': False, 'shape': (00,), }",
		"{'descr': '<f8', 'fortran_order': False, 'shape': (1_0,), }",
		"{'descr': '<f8', 'fortran_order': False, 'shape': (3.0,), }",
		"{'descr': '<f8', 'fortran_order': False, 'shape': (-3,), }",
		"{'descr': '<f8', 'fortran_order': False, 'shape': (+3,), }",
		"{'descr': '<f8', 'fortran_order': False, 'shape': (1234567890123456789,), }",
		"{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,), }",
		"{'descr': '<f8', 'fortran_order': False, 'shape': (,), }",
		"{'descr': '<f8', 'fortran_order': False, 'shape': (3,,), }",
		"{'descr': '<f8', 'fortran_order': False, 'shape': (3,), ,}",
		"{'descr': '<f8', 'fortran_order': False, 'shape': [3], }",
		"{'descr': '<f8', 'fortran_order': 0, 'shape': (3,), }",
		"{'descr': '<f8', 'fortran_order': Falsey, 'shape': (3,), }",
		"{'descr': '<f8', 'shape': (3,), 'fortran_order': False}",
		"{'descr': '<f8', 'fortran_order': False, 'shape': (3,), 'x': 1}",
		"{'descr': '<f8', 'fortran_order': False, 'shape': (3,)} # comment",
		"{'descr': '<f8', 'fortran_order': False, \\\n 'shape': (3,)}",
		"{'descr': u'<f8', 'fortran_order': False, 'shape': (3,)}",
		"{'descr': '<f' '8', 'fortran_order': False, 'shape': (3,)}",
		"{'descr': '''<f8''', 'fortran_order': False, 'shape': (3,)}",
		"{'descr': '\\x3cf8', 'fortran_order': False, 'shape': (3,)}",
		"{'descr': '|O', 'fortran_order': False, 'shape': (3,)}",
		"{'descr': '<f7', 'fortran_order': False, 'shape': (3,)}",
		"{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (3,)}",
		"{'descr': 'é', 'fortran_order': False, 'shape': (3,)}",
		"{'descr': '<f8', 'fortran_order': False, 'shape': (3,)}x",
		"{'descr': '<f8', 'fortran_order': False, 'shape': (3,)}\x00",
		"{'descr': '<f8', 'fortran_order': False, 'shape': (3,)",
		"{'descr': '<f8', 'fortran_order': False, 'descr': '<f8', 'shape': (3,)}",
		"{'descr': '<f8', 'fortran_order': False, 'shape': (3j,)}",
		"{'descr': '<f8', 'fortran_order': False, 'shape': (0x3,)}",
	}
	for _, h := range slow {
		for _, v := range []Version{Version1, Version2, Version3} {
			if checkSimpleHeader(t, []byte(h), v) {
				t.Errorf("fast path took %q", h)
			}
		}
	}
}

// Every array Encode writes for a simple dtype goes down the fast path
// when decoded, and the header fits the bound Encode allocates for.
func TestEncodeSimpleFast(t *testing.T) {
	for _, a := range []*pyval.NDArray{
		pyval.ArrayOf([]float64{1, 2, 3}),
		pyval.ArrayOf([]int16{1, 2, 3, 4, 5, 6}, 2, 3),
		pyval.ArrayOf([]bool{true}, 1, 1, 1, 1),
		pyval.ArrayOf(make([]complex128, 0), 0, 7),
		pyval.StringArray([]string{"ab", "c"}),
		{DType: pyval.Float32, Shape: []int{2, 2}, FortranOrder: true, Data: make([]byte, 16)},
		{DType: pyval.Int64, Shape: []int{}, Data: make([]byte, 8)},
		{DType: pyval.DType{Kind: 'M', ByteOrder: '<', Size: 8, Unit: "10ms"}, Shape: []int{1}, Data: make([]byte, 8)},
		{DType: pyval.DType{Kind: 'S', ByteOrder: '|', Size: 0}, Shape: []int{1 << 40, 1 << 20}},
	} {
		enc, err := Encode(a)
		if err != nil {
			t.Fatal(err)
		}
		hdr, err := EncodeHeader(a)
		if err != nil || !bytes.Equal(hdr, enc[:len(hdr)]) {
			t.Fatalf("EncodeHeader %q, %v; Encode %q", hdr, err, enc)
		}
		if len(hdr) > headerBound(a) || len(hdr)%64 != 0 {
			t.Errorf("header of %d bytes, bound %d: %q", len(hdr), headerBound(a), hdr)
		}
		if !checkSimpleHeader(t, hdr[10:], Version1) {
			t.Errorf("fast path declined %q", hdr)
		}
		var w bytes.Buffer
		if err := Write(&w, a); err != nil || !bytes.Equal(w.Bytes(), enc) {
			t.Errorf("Write differs from Encode: %v", err)
		}
	}
}

// fuzzSimpleHeader is FuzzDecode's differential check: wherever b holds a
// complete header, both parsers must agree on it.
func fuzzSimpleHeader(t *testing.T, b []byte) {
	if len(b) < len(Magic)+2 {
		return
	}
	v, err := checkMagic(b)
	if err != nil {
		return
	}
	pre := len(Magic) + 2 + v.lengthFieldSize()
	if len(b) < pre {
		return
	}
	hlen, err := headerLength(b, v)
	if err != nil || len(b)-pre < hlen {
		return
	}
	checkSimpleHeader(t, b[pre:pre+hlen], v)
	// And the bare bytes as a header of their own.
	checkSimpleHeader(t, b, Version1)
}
