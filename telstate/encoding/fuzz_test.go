package encoding

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"reflect"
	"testing"

	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/pyval/msgpack"
)

// FuzzDecode feeds arbitrary bytes to Decode, seeded with every vector.
// Decoding must never panic and must fail only with ErrDecode (also with
// pickles allowed). AliasInput(true) must give the same error or an
// identical value, and a default decode must not share memory with its
// input. A msgpack value that decodes must re-encode, the
// re-encoding must decode to the same value (up to a redundant
// fortran_order flag, which numpy does not write again either), and
// encoding that again must give the same bytes.
func FuzzDecode(f *testing.F) {
	for _, r := range loadRecords(f) {
		if r.EncodedHex != nil {
			f.Add(r.encoded(f))
		}
	}
	f.Add([]byte("\xff\xcb\x7f\xf8\x00\x00\x00\x00\x00\x01"))
	f.Add([]byte("\xff\xd9\x05hello"))
	f.Add([]byte("\xff\xd7\x04\xa3<f4\x00\x00\xc0\x7f"))
	f.Fuzz(func(t *testing.T, in []byte) {
		checkFastPaths(t, in)
		v, err := Decode(in)
		if err != nil && !errors.Is(err, ErrDecode) {
			t.Fatalf("error %v is not ErrDecode", err)
		}
		checkAlias(t, in, v, err)
		if len(in) > 0 && in[0] <= MarkerPickle {
			if _, err := Decode(in, AllowPickle(true)); err != nil && !errors.Is(err, ErrDecode) {
				t.Fatalf("pickle error %v is not ErrDecode", err)
			}
		}
		if err != nil {
			return
		}
		if v == nil {
			t.Fatal("Decode returned nil, nil")
		}
		b1, err := Encode(v)
		if err != nil {
			t.Fatalf("decoded %s but cannot re-encode: %v", repr(v), err)
		}
		if b, err := AppendEncoded(nil, v); err != nil || !bytes.Equal(b, b1) {
			t.Fatalf("Encode gives %x, AppendEncoded %x, %v", b1, b, err)
		}
		v2, err := Decode(b1)
		if err != nil {
			t.Fatalf("re-encoding %x of %s does not decode: %v", b1, repr(v), err)
		}
		if !sameLogical(v, v2) {
			t.Fatalf("value changed on re-encoding: %s became %s", repr(v), repr(v2))
		}
		b2, err := Encode(v2)
		if err != nil || !bytes.Equal(b1, b2) {
			t.Fatalf("encoding not a fixed point: %x then %x (%v)", b1, b2, err)
		}
		if !EqualEncoded(b1, b2) {
			t.Fatal("identical encodings not EqualEncoded")
		}
	})
}

// checkAlias compares Decode(in, AliasInput(true)) with v, err =
// Decode(in), and checks that v does not change when in does.
func checkAlias(t *testing.T, in []byte, v pyval.Value, err error) {
	t.Helper()
	a, aerr := Decode(in, AliasInput(true))
	if (err == nil) != (aerr == nil) || (err != nil && err.Error() != aerr.Error()) {
		t.Fatalf("decoding %x: error %v, with AliasInput %v", in, err, aerr)
	}
	if err != nil {
		return
	}
	if !identical(v, a) || !pyval.Equal(v, a) && !hasNaN(v) {
		t.Fatalf("decoding %x: %s, with AliasInput %s", in, repr(v), repr(a))
	}
	c := bytes.Clone(in)
	w, err := Decode(c)
	if err != nil {
		t.Fatalf("decoding a copy of %x: %v", in, err)
	}
	for i := range c {
		c[i] ^= 0xa5
	}
	if !identical(v, w) {
		t.Fatalf("decoding %x: value %s changed to %s with the input", in, repr(v), repr(w))
	}
}

// hasNaN reports whether v may hold a NaN, which pyval.Equal finds unequal
// to itself.
func hasNaN(v pyval.Value) bool {
	return !pyval.Equal(v, v)
}

// generalDecoder is the package's decoder without the fast paths, and
// with the tuple decoding they replaced (a List, then a Tuple).
var generalDecoder = msgpack.NewDecoder(msgpack.WithExtHook(func(typ int8, p []byte, sub msgpack.SubDecoder) (pyval.Value, error) {
	if typ == ExtTuple {
		v, err := sub.Decode(p)
		if err != nil {
			return nil, err
		}
		l, ok := v.(pyval.List)
		if !ok {
			return nil, fmt.Errorf("incorrectly encoded tuple: payload is a %s, not an array", v.Kind())
		}
		return pyval.Tuple(l), nil
	}
	return decodeExtFast(typ, p, sub, false)
}), msgpack.StrictMapKeys(true))

// checkFastPaths fails unless decodeSimple and the numpy scalar fast path
// give exactly the general decoder's results: the same values, or the
// same errors.
func checkFastPaths(t *testing.T, in []byte) {
	t.Helper()
	if len(in) == 0 || in[0] != MarkerMsgpack {
		return
	}
	want, werr := generalDecoder.Decode(in[1:])
	if v, ok := decodeSimple(in[1:]); ok {
		if werr != nil || !identical(v, want) {
			t.Fatalf("decodeSimple(%x) = %s, general decoder %v, %v", in[1:], repr(v), want, werr)
		}
	}
	got, gerr := decoder.Decode(in[1:])
	if (gerr == nil) != (werr == nil) || (gerr != nil && gerr.Error() != werr.Error()) {
		t.Fatalf("decoding %x: error %v, general decoder %v", in[1:], gerr, werr)
	}
	if gerr == nil && !identical(got, want) {
		t.Fatalf("decoding %x: %s, general decoder %s", in[1:], repr(got), repr(want))
	}
}

// identical compares values exactly: types, float bits, dtypes, bytes.
func identical(a, b pyval.Value) bool {
	if fa, ok := a.(pyval.Float); ok {
		fb, ok := b.(pyval.Float)
		return ok && math.Float64bits(float64(fa)) == math.Float64bits(float64(fb))
	}
	if reflect.TypeOf(a) != reflect.TypeOf(b) {
		return false
	}
	switch x := a.(type) {
	case pyval.List:
		y := b.(pyval.List)
		return len(x) == len(y) && all(len(x), func(i int) bool { return identical(x[i], y[i]) })
	case pyval.Tuple:
		y := b.(pyval.Tuple)
		return len(x) == len(y) && all(len(x), func(i int) bool { return identical(x[i], y[i]) })
	case *pyval.Scalar:
		y := b.(*pyval.Scalar)
		return x.DType.Equal(y.DType) && reflect.DeepEqual(x.DType, y.DType) && bytes.Equal(x.Data, y.Data)
	case *pyval.Dict:
		y := b.(*pyval.Dict)
		ix, iy := x.Items(), y.Items()
		return len(ix) == len(iy) && all(len(ix), func(i int) bool {
			return identical(ix[i].Key, iy[i].Key) && identical(ix[i].Value, iy[i].Value)
		})
	case pyval.Complex:
		y := b.(pyval.Complex)
		return math.Float64bits(real(x)) == math.Float64bits(real(y)) && math.Float64bits(imag(x)) == math.Float64bits(imag(y))
	}
	return reflect.DeepEqual(a, b)
}

func all(n int, f func(int) bool) bool {
	for i := range n {
		if !f(i) {
			return false
		}
	}
	return true
}

func TestScalarDTypes(t *testing.T) {
	for _, s := range []string{"<f8", "<f4", "<f2", "<i8", "<i4", "<i2", "|i1", "<u8", "<u4", "<u2", "|u1", "|b1", "<c8", "<c16"} {
		p := append([]byte{0xa0 | byte(len(s))}, s...)
		got, n, ok := scalarDescr(append(p, 1, 2, 3))
		want, err := pyval.ParseDType(s)
		if !ok || n != len(p) || err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("scalarDescr(%q) = %#v, %d, %v; ParseDType: %#v, %v", s, got, n, ok, want, err)
		}
		var buf [32]byte
		if a := appendDTypeStr(buf[:0], want); string(a) != want.String() {
			t.Errorf("appendDTypeStr = %q, want %q", a, want.String())
		}
	}
}

// The fast paths agree with the general decoder on the values they take
// and on near misses, including a scalar nested right at the depth limit.
func TestFastPathsAgree(t *testing.T) {
	deep := bytes.Repeat([]byte{0x91}, msgpack.DefaultMaxDepth)
	for _, in := range []string{
		"\xff\x00", "\xff\x7f", "\xff\xe0", "\xff\xff", "\xff\x00\x00",
		"\xff\xc0", "\xff\xc2", "\xff\xc3", "\xff\xc1", "\xff\xc3\x00",
		"\xff\xcb\x3f\xf8\x00\x00\x00\x00\x00\x00", "\xff\xcb\x3f\xf8\x00\x00\x00\x00\x00",
		"\xff\xcb\x7f\xf8\x00\x00\x00\x00\x00\x01", "\xff\xca\x7f\xc0\x00\x01", "\xff\xca\x3f\xc0\x00\x00\x00",
		"\xff\xa0", "\xff\xa3abc", "\xff\xa3ab", "\xff\xa3abcd", "\xff\xa2\xc3\xa9", "\xff\xa1\xff",
		"\xff\xd9\x03abc", "\xff\xd9\x03ab", "\xff\xd9", "\xff\xd9\x01\x80",
		"\xff\xd7\x04\xa3<f4\x00\x00\xc0\x7f", "\xff\xd6\x04\xa3<f4\x00", "\xff\xc7\x0a\x04\xa4<c16\x00\x00\x00\x00\x00",
		"\xff\xc7\x0a\x04\xa3<f8\x01\x02\x03\x04\x05\x06\x07\x08\x09",
		"\xff\xd5\x04\xa3|b1", "\xff\xc7\x05\x04\xa3|i1\x05", "\xff\xc7\x06\x04\xa3|i1\x05\x06",
		"\xff" + string(deep[:len(deep)-1]) + "\xc7\x05\x04\xa3|u1\x05",
		"\xff" + string(deep) + "\xc7\x05\x04\xa3|u1\x05",
	} {
		checkFastPaths(t, []byte(in))
	}
}
