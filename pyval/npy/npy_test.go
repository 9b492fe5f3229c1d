package npy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/sdpkit/sdpkit/pyval"
)

// npyFile builds a .npy file around a header text, as another writer might.
func npyFile(v Version, header string, data []byte) []byte {
	b := []byte(Magic)
	b = append(b, v.Major, v.Minor)
	if v == Version1 {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(header)))
	} else {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(header)))
	}
	b = append(b, header...)
	return append(b, data...)
}

func TestEncodeExact(t *testing.T) {
	cases := []struct {
		a      *pyval.NDArray
		header string // without the final padding
	}{
		{pyval.ArrayOf([]int64{1, 2, 3}), "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }" + strings.Repeat(" ", 20)},
		{&pyval.NDArray{DType: pyval.Float64, Data: make([]byte, 8)}, "{'descr': '<f8', 'fortran_order': False, 'shape': (), }"},
		{&pyval.NDArray{DType: pyval.Int32, Shape: []int{2, 300}, FortranOrder: true, Data: make([]byte, 2400)},
			"{'descr': '<i4', 'fortran_order': True, 'shape': (2, 300), }" + strings.Repeat(" ", 18)},
		{&pyval.NDArray{DType: pyval.Int32, Shape: []int{1, 300}, FortranOrder: true, Data: make([]byte, 1200)},
			"{'descr': '<i4', 'fortran_order': False, 'shape': (1, 300), }" + strings.Repeat(" ", 20)},
		{&pyval.NDArray{DType: pyval.Int16, Shape: []int{0, 3}, FortranOrder: true},
			"{'descr': '<i2', 'fortran_order': False, 'shape': (0, 3), }" + strings.Repeat(" ", 20)},
		{&pyval.NDArray{DType: pyval.Uint8, Shape: []int{123456789012345678, 0}},
			"{'descr': '|u1', 'fortran_order': False, 'shape': (123456789012345678, 0), }   "},
		{&pyval.NDArray{DType: pyval.Uint8, Shape: []int{0, 1234567890123456789}, FortranOrder: true},
			"{'descr': '|u1', 'fortran_order': False, 'shape': (0, 1234567890123456789), }" + strings.Repeat(" ", 20)},
	}
	for _, c := range cases {
		got, err := Encode(c.a)
		if err != nil {
			t.Fatal(err)
		}
		want := append([]byte(Magic+"\x01\x00\x00\x00"), c.header...)
		for (len(want)+1)%64 != 0 {
			want = append(want, ' ')
		}
		want = append(want, '\n')
		binary.LittleEndian.PutUint16(want[8:], uint16(len(want)-10))
		want = append(want, c.a.Data...)
		if !bytes.Equal(got, want) {
			t.Errorf("Encode:\n%q\nwant\n%q", got, want)
		}
		var buf bytes.Buffer
		if err := Write(&buf, c.a); err != nil || !bytes.Equal(buf.Bytes(), got) {
			t.Errorf("Write differs from Encode: %v", err)
		}
	}
}

func TestEncodeStructured(t *testing.T) {
	dt, err := pyval.DTypeFromDescr(pyval.List{
		pyval.Tuple{pyval.Str("a"), pyval.Str("|u1")},
		pyval.Tuple{pyval.Str(""), pyval.Str("|V3")},
		pyval.Tuple{pyval.Str("b"), pyval.Str("<i4"), pyval.Tuple{pyval.IntOf(3), pyval.IntOf(3)}},
		pyval.Tuple{pyval.Str("c"), pyval.List{pyval.Tuple{pyval.Str("x"), pyval.Str(">f8")}}, pyval.Tuple{pyval.IntOf(2)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	a := &pyval.NDArray{DType: dt, Shape: []int{2}, Data: make([]byte, 2*dt.ItemSize())}
	b, err := Encode(a)
	if err != nil {
		t.Fatal(err)
	}
	want := "{'descr': [('a', '|u1'), ('', '|V3'), ('b', '<i4', (3, 3)), ('c', [('x', '>f8')], (2,))], 'fortran_order': False, 'shape': (2,), }"
	if !bytes.Contains(b, []byte(want+strings.Repeat(" ", 20)+" ")) {
		t.Errorf("header %q, want it to start %q", b[10:], want)
	}
	back, err := Decode(b)
	if err != nil || !sameArray(a, back) {
		t.Errorf("Decode(Encode) = %v, %v", back, err)
	}
}

func structOf(names ...string) pyval.DType {
	var fs []pyval.Field
	for _, n := range names {
		fs = append(fs, pyval.Field{Name: n, DType: pyval.Uint8})
	}
	return pyval.DType{Kind: 'V', ByteOrder: '|', Fields: fs, Size: len(fs)}
}

func TestEncodeVersions(t *testing.T) {
	many := make([]string, 5000)
	for i := range many {
		many[i] = fmt.Sprintf("f%05d", i)
	}
	cases := []struct {
		dt      pyval.DType
		version Version
		text    string // must appear in the header bytes
	}{
		{structOf("é"), Version1, "[('\xe9', '|u1')]"}, // latin-1
		{structOf("ж", "b"), Version3, "[('ж', '|u1'), ('b', '|u1')]"},
		{structOf(many...), Version2, "('f04999', '|u1')]"},
		{structOf("a'b\"\\\n"), Version1, `[('a\'b"\\\n', '|u1')]`},
	}
	for _, c := range cases {
		a := &pyval.NDArray{DType: c.dt, Shape: []int{1}, Data: make([]byte, c.dt.ItemSize())}
		b, err := Encode(a)
		if err != nil {
			t.Fatal(err)
		}
		_, n, err := DecodeHeader(b)
		n = len(b) - len(a.Data)
		if v := (Version{b[6], b[7]}); v != c.version || n%64 != 0 || b[n-1] != '\n' {
			t.Errorf("%s: version %s, data at %d", c.text, v, n)
		}
		if !bytes.Contains(b[:n], []byte(c.text)) {
			t.Errorf("header does not contain %q", c.text)
		}
		if err != nil {
			if !errors.Is(err, ErrHeaderTooLarge) || c.version != Version2 {
				t.Errorf("%s: DecodeHeader: %v", c.text, err)
			}
			continue
		}
		if back, err := Decode(b); err != nil || !back.DType.Equal(c.dt) {
			t.Errorf("%s: Decode: %v", c.text, err)
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	obj := pyval.DType{Kind: 'O', ByteOrder: '|', Size: 8}
	cases := []struct {
		a   *pyval.NDArray
		err error
	}{
		{nil, ErrInvalidArray},
		{&pyval.NDArray{DType: obj, Shape: []int{1}, Data: make([]byte, 8)}, ErrObject},
		{&pyval.NDArray{DType: structOf("a"), Shape: []int{1}, Data: make([]byte, 1)}, nil},
		{&pyval.NDArray{DType: pyval.Float64, Shape: []int{2}, Data: make([]byte, 8)}, ErrInvalidArray},
		{&pyval.NDArray{DType: pyval.Float64, Shape: []int{-1}}, ErrInvalidArray},
		{&pyval.NDArray{DType: pyval.DType{}, Shape: []int{0}}, ErrInvalidArray},
		{&pyval.NDArray{DType: pyval.DType{Kind: 'f', ByteOrder: '<', Size: 3}, Shape: []int{0}}, ErrInvalidArray},
		{&pyval.NDArray{DType: pyval.Float64, Shape: []int{1 << 40, 1 << 40}}, ErrInvalidArray},
	}
	for i, c := range cases {
		_, err := Encode(c.a)
		if c.err == nil {
			if err != nil {
				t.Errorf("case %d: %v", i, err)
			}
			continue
		}
		if !errors.Is(err, c.err) {
			t.Errorf("case %d: error %v, want %v", i, err, c.err)
		}
		if err := Write(io.Discard, c.a); !errors.Is(err, c.err) {
			t.Errorf("case %d: Write error %v, want %v", i, err, c.err)
		}
	}
}

func TestDecodeHeaders(t *testing.T) {
	i2 := []byte{1, 0, 2, 0}
	cases := []struct {
		name   string
		file   []byte
		err    error  // nil: must decode to want
		msg    string // part of the error message
		want   string // descr of the result
		fort   bool
		nshape int
	}{
		{"old padding", npyFile(Version1, "{'descr': '<i2', 'fortran_order': False, 'shape': (2,), }\n", i2), nil, "", "<i2", false, 1},
		{"no padding", npyFile(Version1, "{'descr': '<i2', 'fortran_order': False, 'shape': (2,)}", i2), nil, "", "<i2", false, 1},
		{"key order", npyFile(Version1, "{'shape': (2,), 'fortran_order': False, 'descr': '<i2'}", i2), nil, "", "<i2", false, 1},
		{"python 2 long", npyFile(Version1, "{'descr': '<i2', 'fortran_order': False, 'shape': (2L,)}", i2), nil, "", "<i2", false, 1},
		{"python 2 long 2-d", npyFile(Version2, "{'descr': '<i2', 'fortran_order': False, 'shape': (1L, 2 L)}", i2), nil, "", "<i2", false, 2},
		{"u prefix", npyFile(Version1, "{u'descr': u'<i2', 'fortran_order': False, 'shape': (0x2,)}", i2), nil, "", "<i2", false, 1},
		{"1-d fortran", npyFile(Version1, "{'descr': '<i2', 'fortran_order': True, 'shape': (2,)}", i2), nil, "", "<i2", false, 1},
		{"2-d fortran", npyFile(Version1, "{'descr': '<i2', 'fortran_order': True, 'shape': (2, 1)}", i2), nil, "", "<i2", true, 2},
		{"list fields", npyFile(Version1, "{'descr': [['a', '<i2']], 'fortran_order': False, 'shape': (2,)}", i2), nil, "", "[('a', '<i2')]", false, 1},
		{"merged padding", npyFile(Version1, "{'descr': [('', '|V1'), ('', '|V0'), ('', '|V1', (1,)), ('a', '|u1'), ('', '|V0')], 'fortran_order': False, 'shape': (1,)}", []byte{0, 0, 1}),
			nil, "", "[('', '|V2'), ('a', '|u1')]", false, 1},
		{"shape int 1", npyFile(Version1, "{'descr': [('a', '<i2', 1)], 'fortran_order': False, 'shape': (2,)}", i2), nil, "", "[('a', '<i2')]", false, 1},
		{"trailing bytes", npyFile(Version1, "{'descr': '<i2', 'fortran_order': False, 'shape': (1,)}", i2), nil, "", "<i2", false, 1},
		{"v3", npyFile(Version3, "{'descr': [('ж', '<i2')], 'fortran_order': False, 'shape': (2,)}", i2), nil, "", "[('ж', '<i2')]", false, 1},
		{"latin-1", npyFile(Version1, "{'descr': [('\xe9', '<i2')], 'fortran_order': False, 'shape': (2,)}", i2), nil, "", "[('é', '<i2')]", false, 1},

		{"empty", nil, ErrTruncated, "magic", "", false, 0},
		{"bad magic", []byte("hello world!"), ErrFormat, "magic string is not correct", "", false, 0},
		{"version 4", npyFile(Version{4, 0}, "", nil), ErrFormat, "version 4.0", "", false, 0},
		{"version 1.1", npyFile(Version{1, 1}, "", nil), ErrFormat, "version 1.1", "", false, 0},
		{"short length", []byte(Magic + "\x02\x00\x10\x00"), ErrTruncated, "header length", "", false, 0},
		{"short header", []byte(Magic + "\x01\x00\x10\x00{}"), ErrTruncated, "expected 16 bytes got 2", "", false, 0},
		{"huge v2 header", []byte(Magic + "\x02\x00\xff\xff\xff\xff"), ErrHeaderTooLarge, "4294967295", "", false, 0},
		{"long header", npyFile(Version1, "{'descr': '<i2', 'fortran_order': False, 'shape': (2,)}"+strings.Repeat(" ", 10000), i2), ErrHeaderTooLarge, "", "", false, 0},
		{"v3 long header", npyFile(Version3, "{'descr': [('"+strings.Repeat("ж", 9990)+"', '<i2')], 'fortran_order': False, 'shape': (2,)}", i2), ErrHeaderTooLarge, "", "", false, 0},
		{"v3 invalid utf-8", npyFile(Version3, "{'descr': '<i2', 'fortran_order': False, 'shape': (2,)}\xff", i2), ErrFormat, "UTF-8", "", false, 0},
		{"syntax", npyFile(Version1, "{'descr': '<i2', 'fortran_order': False, 'shape': (2,)}junk", i2), ErrFormat, "cannot parse header", "", false, 0},
		{"not a dict", npyFile(Version1, "['descr', '<i2']", i2), ErrFormat, "not a dictionary", "", false, 0},
		{"extra key", npyFile(Version1, "{'descr': '<i2', 'fortran_order': False, 'shape': (2,), 'x': 1}", i2), ErrFormat, "correct keys", "", false, 0},
		{"missing key", npyFile(Version1, "{'descr': '<i2', 'shape': (2,)}", i2), ErrFormat, "correct keys", "", false, 0},
		{"shape list", npyFile(Version1, "{'descr': '<i2', 'fortran_order': False, 'shape': [2]}", i2), ErrFormat, "shape is not valid", "", false, 0},
		{"shape bool", npyFile(Version1, "{'descr': '<i2', 'fortran_order': False, 'shape': (True,)}", i2), ErrFormat, "shape is not valid", "", false, 0},
		{"shape negative", npyFile(Version1, "{'descr': '<i2', 'fortran_order': False, 'shape': (-1,)}", i2), ErrFormat, "invalid dimension", "", false, 0},
		{"shape overflow", npyFile(Version1, "{'descr': '<i2', 'fortran_order': False, 'shape': (4294967296, 4294967296)}", i2), ErrFormat, "too large", "", false, 0},
		{"fortran int", npyFile(Version1, "{'descr': '<i2', 'fortran_order': 0, 'shape': (2,)}", i2), ErrFormat, "fortran_order", "", false, 0},
		{"bad descr", npyFile(Version1, "{'descr': '<i3', 'fortran_order': False, 'shape': (2,)}", i2), ErrFormat, "descr", "", false, 0},
		{"tuple descr", npyFile(Version1, "{'descr': ('<i2', (2,)), 'fortran_order': False, 'shape': (1,)}", i2), ErrFormat, "descr", "", false, 0},
		{"title field", npyFile(Version1, "{'descr': [(('t', 'a'), '<i2')], 'fortran_order': False, 'shape': (2,)}", i2), ErrFormat, "descr", "", false, 0},
		{"object", npyFile(Version1, "{'descr': '|O', 'fortran_order': False, 'shape': (2,)}", i2), ErrObject, "allow_pickle", "", false, 0},
		{"object field", npyFile(Version1, "{'descr': [('a', '|O')], 'fortran_order': False, 'shape': (2,)}", i2), ErrObject, "", "", false, 0},
		{"truncated data", npyFile(Version1, "{'descr': '<i4', 'fortran_order': False, 'shape': (4,)}", make([]byte, 8)), ErrTruncated, "expected 16 bytes got 8", "", false, 0},
		{"lying shape", npyFile(Version1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,)}", i2), ErrTruncated, "expected 8000000000000 bytes got 4", "", false, 0},
	}
	for _, c := range cases {
		a, err := Decode(c.file)
		r, rerr := Read(bytes.NewReader(c.file))
		if c.err != nil {
			if !errors.Is(err, c.err) || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("%s: Decode error %v, want %v mentioning %q", c.name, err, c.err, c.msg)
			}
			if !errors.Is(rerr, c.err) {
				t.Errorf("%s: Read error %v, want %v", c.name, rerr, c.err)
			}
			continue
		}
		if err != nil || rerr != nil {
			t.Errorf("%s: Decode: %v; Read: %v", c.name, err, rerr)
			continue
		}
		if a.DType.String() != c.want || a.FortranOrder != c.fort || len(a.Shape) != c.nshape {
			t.Errorf("%s: got dtype %s fortran %v shape %v", c.name, a.DType, a.FortranOrder, a.Shape)
		}
		if !sameArray(a, r) {
			t.Errorf("%s: Read and Decode differ", c.name)
		}
		if _, err := Encode(a); err != nil {
			t.Errorf("%s: re-encode: %v", c.name, err)
		}
	}
}

func TestDropLongSuffixes(t *testing.T) {
	cases := map[string]string{
		"(3L,)":                   "(3,)",
		"(3L, 4 L, 0x1fL)":        "(3, 4 , 0x1f)",
		"'3L' \"5L\" '''6L'''":    "'3L' \"5L\" '''6L'''",
		"(3Lx, x3L, 1e+5L)":       "(3Lx, x3L, 1e+5)",
		"'\\'3L' 3L":              "'\\'3L' 3",
		"no longs here":           "no longs here",
		"{'shape': (10L, 20L), }": "{'shape': (10, 20), }",
	}
	for in, want := range cases {
		if got := dropLongSuffixes(in); got != want {
			t.Errorf("dropLongSuffixes(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReadSequence(t *testing.T) {
	a := pyval.ArrayOf([]float64{1, 2, 3})
	b := pyval.ArrayOf([]int16{1, 2, 3, 4}, 2, 2)
	var buf bytes.Buffer
	for _, x := range []*pyval.NDArray{a, b} {
		if err := Write(&buf, x); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []*pyval.NDArray{a, b} {
		got, err := Read(&buf)
		if err != nil || !sameArray(got, want) {
			t.Fatalf("Read = %v, %v; want %v", got, err, want)
		}
	}
	if _, err := Read(&buf); !errors.Is(err, ErrTruncated) {
		t.Errorf("Read at end: %v", err)
	}
}

type failingReader struct{ n int }

var errBoom = errors.New("boom")

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, errBoom
	}
	if len(p) > r.n {
		p = p[:r.n]
	}
	r.n -= len(p)
	return len(p), nil
}

func TestReadErrors(t *testing.T) {
	file, _ := Encode(pyval.ArrayOf(make([]float64, 1000)))
	for _, n := range []int{0, 5, 9, 50, 200} {
		_, err := Read(io.MultiReader(bytes.NewReader(file[:n]), &failingReader{}))
		if !errors.Is(err, errBoom) {
			t.Errorf("reader failing after %d bytes: %v", n, err)
		}
	}
}

// A header that claims terabytes must not make Read allocate them.
func TestReadLyingHeaderBoundedAllocation(t *testing.T) {
	file := npyFile(Version1, "{'descr': '|u1', 'fortran_order': False, 'shape': (1099511627776,)}", make([]byte, 3<<20))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := Read(bytes.NewReader(file))
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), fmt.Sprintf("got %d", 3<<20)) {
		t.Fatalf("Read: %v", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Errorf("Read allocated %d bytes for %d bytes of input", alloc, len(file))
	}
}

func FuzzDecode(f *testing.F) {
	for _, v := range loadNDArrayVectors(f) {
		f.Add(v.payload)
	}
	f.Add(npyFile(Version1, "{'descr': [('a', [('', '|V2'), ('b', '>U2', (2, 1))], 3)], 'fortran_order': True, 'shape': (2L, 1)}", make([]byte, 200)))
	f.Add(npyFile(Version3, "{'descr': [('ж', '<c8')], 'fortran_order': False, 'shape': (0,)}", nil))
	f.Add(npyFile(Version1, "{'descr':'<i4' , 'fortran_order':True,'shape':(2,3,)}\n", make([]byte, 24)))
	f.Add(npyFile(Version3, "{\"descr\": \"|b1\", \"fortran_order\": False, \"shape\": ()}", make([]byte, 1)))
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzSimpleHeader(t, b)
		a, err := Decode(b)
		r, rerr := Read(bytes.NewReader(b))
		if (err == nil) != (rerr == nil) {
			t.Fatalf("Decode error %v but Read error %v", err, rerr)
		}
		al, aerr := DecodeAlias(b)
		if (err == nil) != (aerr == nil) || (err != nil && err.Error() != aerr.Error()) {
			t.Fatalf("Decode error %v but DecodeAlias error %v", err, aerr)
		}
		if err != nil {
			return
		}
		if !sameArray(a, r) {
			t.Fatalf("Decode and Read differ")
		}
		if !sameArray(a, al) || cap(al.Data) != len(al.Data) {
			t.Fatalf("Decode and DecodeAlias differ (or the alias's capacity reaches past its data)")
		}
		if len(a.Data) > len(b) {
			t.Fatalf("decoded %d data bytes from %d input bytes", len(a.Data), len(b))
		}
		enc, err := Encode(a)
		if err != nil {
			t.Fatalf("re-encode of %v: %v", a.DType, err)
		}
		back, err := Decode(enc)
		if err != nil {
			t.Fatalf("decode of re-encoded: %v\n%q", err, enc)
		}
		if !sameArray(a, back) && !(a.FortranOrder && cContiguous(a.Shape)) {
			t.Fatalf("round trip changed the array")
		}
		enc2, _ := Encode(back)
		if !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding not stable:\n%q\n%q", enc, enc2)
		}
	})
}

// DecodeAlias shares the input's memory and Decode does not; AppendHeader
// appends exactly EncodeHeader's bytes.
func TestDecodeAliasAndAppendHeader(t *testing.T) {
	a := pyval.ArrayOf([]float64{1, 2, 3})
	enc, err := Encode(a)
	if err != nil {
		t.Fatal(err)
	}
	hdr, err := EncodeHeader(a)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := AppendHeader([]byte("x"), a); err != nil || string(got) != "x"+string(hdr) {
		t.Fatalf("AppendHeader = %q, %v; want x + %q", got, err, hdr)
	}
	if got, err := AppendHeader([]byte("x"), &pyval.NDArray{DType: pyval.Float64, Shape: []int{2}}); err == nil || string(got) != "x" {
		t.Fatalf("AppendHeader of an invalid array = %q, %v", got, err)
	}
	in := append(enc, 0xee) // a byte after the data, which an append must not reach
	al, err := DecodeAlias(in)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := Decode(in)
	if err != nil {
		t.Fatal(err)
	}
	if !sameArray(al, a) || !sameArray(cp, a) {
		t.Fatal("decoded arrays differ from the original")
	}
	if &al.Data[0] != &in[len(hdr)] || cap(al.Data) != len(al.Data) {
		t.Fatal("DecodeAlias's Data is not the input's data bytes")
	}
	in[len(hdr)] ^= 0xff
	if !sameArray(cp, a) {
		t.Fatal("Decode's Data shares memory with the input")
	}
}
