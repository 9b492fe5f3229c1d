package encoding

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/pyval/msgpack"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustEncode(t testing.TB, v pyval.Value) []byte {
	t.Helper()
	b, err := Encode(v)
	if err != nil {
		t.Fatalf("Encode(%s): %v", repr(v), err)
	}
	return b
}

func TestSpecExamples(t *testing.T) {
	cases := []struct {
		v    pyval.Value
		want string
	}{
		{pyval.Tuple{}, "ff d4 01 90"},
		{pyval.Tuple{pyval.IntOf(1)}, "ff d5 01 91 01"},
		{pyval.ScalarOf(float32(1.5)), "ff d7 04 a3 3c 66 34 00 00 c0 3f"},
		{pyval.ScalarOf(true), "ff c7 05 04 a3 7c 62 31 01"},
		{pyval.Complex(complex(1, -2)), "ff d8 02 3ff0000000000000 c000000000000000"},
		{pyval.Timestamp{Seconds: 1}, "ff d6 ff 00000001"},
	}
	for _, c := range cases {
		got := mustEncode(t, c.v)
		if want := mustHex(t, c.want); !bytes.Equal(got, want) {
			t.Errorf("Encode(%s) = %x, want %x", repr(c.v), got, want)
		}
	}
}

func TestEncodeSubKey(t *testing.T) {
	cases := []struct {
		v    pyval.Value
		want string
	}{
		{pyval.Str("a"), "ffa161"},
		{pyval.IntOf(7), "ff07"},
		{pyval.Tuple{pyval.IntOf(1), pyval.Str("x")}, "ffd6019201a178"},
	}
	for _, c := range cases {
		got, err := EncodeSubKey(c.v)
		if err != nil || hex.EncodeToString(got) != c.want {
			t.Errorf("EncodeSubKey(%s) = %x, %v; want %s", repr(c.v), got, err, c.want)
		}
	}
	for _, v := range []pyval.Value{pyval.List{}, &pyval.Dict{}, pyval.Tuple{pyval.List{}}} {
		if _, err := EncodeSubKey(v); !errors.Is(err, pyval.ErrUnhashable) {
			t.Errorf("EncodeSubKey(%s): %v, want ErrUnhashable", repr(v), err)
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	objScalar := &pyval.Scalar{DType: pyval.DType{Kind: 'O', ByteOrder: '|', Size: 8}, Data: make([]byte, 8)}
	cases := []pyval.Value{
		nil,
		pyval.List{nil},
		pyval.Str("\xff"),
		(*pyval.NDArray)(nil),
		(*pyval.Scalar)(nil),
		objScalar,
		pyval.Tuple{objScalar},
		&pyval.Scalar{DType: pyval.Float64, Data: []byte{1, 2}},          // too few bytes
		&pyval.NDArray{DType: pyval.Float64, Shape: []int{2}, Data: nil}, // data does not match shape
	}
	for _, v := range cases {
		dst := []byte("x")
		out, err := AppendEncoded(dst, v)
		if !errors.Is(err, ErrEncode) {
			t.Errorf("Encode(%#v): %v, want ErrEncode", v, err)
		}
		if string(out) != "x" {
			t.Errorf("AppendEncoded(%#v) on error returned %q", v, out)
		}
	}
	// The msgpack cause stays visible.
	if _, err := Encode(pyval.Str("\xed\xb3\xbf")); !errors.Is(err, msgpack.ErrInvalidUTF8) {
		t.Errorf("lone surrogate: %v", err)
	}
}

// TestEncodeBigInt: katsdptelstate raises EncodeError("do not know how to
// encode type int") for ints beyond msgpack's range, wherever they sit,
// also as indexed sub-keys; the edges of the range encode.
func TestEncodeBigInt(t *testing.T) {
	big := func(s string) pyval.Int {
		i, err := pyval.ParseInt(s)
		if err != nil {
			t.Fatal(err)
		}
		return i
	}
	for _, v := range []pyval.Value{
		big("18446744073709551616"),
		big("-9223372036854775809"),
		pyval.Tuple{pyval.IntOf(1), big("1" + strings.Repeat("0", 30))},
		pyval.StrDict("k", pyval.List{big("-18446744073709551616")}),
	} {
		_, err := Encode(v)
		if !errors.Is(err, ErrEncode) || !errors.Is(err, msgpack.ErrIntOverflow) || !strings.Contains(err.Error(), "do not know how to encode type int") {
			t.Errorf("Encode(%s): %v; want ErrEncode, msgpack.ErrIntOverflow", repr(v), err)
		}
		if _, err := pyval.HashKey(v); err != nil {
			continue // EncodeSubKey refuses it as unhashable first
		}
		if _, err := EncodeSubKey(v); !errors.Is(err, ErrEncode) {
			t.Errorf("EncodeSubKey(%s): %v; want ErrEncode", repr(v), err)
		}
	}
	for _, c := range []struct {
		v    pyval.Int
		want string
	}{{pyval.UintOf(math.MaxUint64), "ffcfffffffffffffffff"}, {pyval.IntOf(math.MinInt64), "ffd38000000000000000"}} {
		if got, err := Encode(c.v); err != nil || hex.EncodeToString(got) != c.want {
			t.Errorf("Encode(%s) = %x, %v; want %s", c.v, got, err, c.want)
		}
	}
}

func TestDecodeHeaderByte(t *testing.T) {
	cases := []struct {
		in   string
		want error
	}{
		{"", ErrDecode},
		{"81c0", ErrDecode},
		{"fec0", ErrDecode},
		{"80024b012e", ErrPickleNotAllowed},
		{"00", ErrPickleNotAllowed},
		{"532768656c6c6f270a70310a2e", ErrPickleNotAllowed},
		{"ff", msgpack.ErrTruncated},
		{"ffc0c0", msgpack.ErrExtraData},
		{"ff810102", msgpack.ErrMapKey},
		{"ff81d40190c0", msgpack.ErrMapKey}, // tuple key: not str or bytes
	}
	for _, c := range cases {
		_, err := Decode(mustHex(t, c.in))
		if !errors.Is(err, ErrDecode) || !errors.Is(err, c.want) {
			t.Errorf("Decode(%s): %v, want ErrDecode and %v", c.in, err, c.want)
		}
	}
	_, err := Decode([]byte{0x80, 2, 'K', 1, '.'})
	if err == nil || !strings.Contains(err.Error(), "KATSDPTELSTATE_ALLOW_PICKLE=1") {
		t.Errorf("pickle refusal does not say how to opt in: %v", err)
	}
	v, err := Decode([]byte{0x80, 2, 'K', 1, '.'}, AllowPickle(true))
	if err != nil || !sameValue(v, pyval.IntOf(1)) {
		t.Errorf("allowed pickle: %v, %v", v, err)
	}
	// The last option wins.
	if _, err := Decode([]byte{0x80, 2, 'K', 1, '.'}, AllowPickle(true), AllowPickle(false)); !errors.Is(err, ErrPickleNotAllowed) {
		t.Errorf("AllowPickle(false) after true: %v", err)
	}
	// Garbage with pickles allowed is still just a DecodeError.
	if _, err := Decode([]byte{0x80, 2, 0xff}, AllowPickle(true)); !errors.Is(err, ErrDecode) {
		t.Errorf("bad pickle: %v", err)
	}
}

func TestDecodeExtRules(t *testing.T) {
	bad := []struct{ name, in string }{
		{"tuple of a non-array", "ffd40101"},
		{"tuple payload with extra bytes", "ffd5019001"},
		{"tuple with empty payload", "ffc70001"},
		{"tuple payload truncated", "ffd40191"},
		{"complex of 15 bytes", "ffc70f02" + strings.Repeat("00", 15)},
		{"complex of 17 bytes", "ffc71102" + strings.Repeat("00", 17)},
		{"ndarray garbage", "ffd60300000000"},
		{"scalar without raw bytes", "ffc70404a33c6934"},
		{"scalar with too few raw bytes", "ffc70604a33c69340102"},
		{"scalar of itemsize 0", "ffc70404a37c5330"},
		{"scalar of object dtype", "ffc70b04a27c4f" + strings.Repeat("00", 8)},
		{"scalar descr list of lists", "ffc70d0491 92a161a33c6934 01000000"},
		{"scalar descr not a dtype", "ffd60401020304"},
		{"scalar descr truncated", "ffd604a33c6934"},
		{"unknown ext 5", "ffd40500"},
		{"unknown ext -2", "ffd4fe00"},
		{"timestamp of 3 bytes", "ffc703ff000000"},
	}
	for _, c := range bad {
		if v, err := Decode(mustHex(t, c.in)); !errors.Is(err, ErrDecode) {
			t.Errorf("%s: Decode = %s, %v; want ErrDecode", c.name, repr(v), err)
		}
	}
	// A structured scalar descr is an array of ext-1 tuples.
	v, err := Decode(mustHex(t, "ffc7100491c7070192a161a33c693407000000ff"))
	if err != nil {
		t.Fatal(err)
	}
	s, ok := v.(*pyval.Scalar)
	if !ok || !s.DType.IsStructured() || !bytes.Equal(s.Data, []byte{7, 0, 0, 0}) {
		t.Errorf("structured scalar: %s", repr(v))
	}
}

func TestEqualEncoded(t *testing.T) {
	enc := func(v pyval.Value) []byte { return mustEncode(t, v) }
	i1 := enc(pyval.IntOf(1))
	cafe := pyval.Str("café")
	arr := pyval.ArrayOf([]int64{1, 2, 3, 4}, 2, 2)
	arrF := &pyval.NDArray{DType: pyval.Int64, Shape: []int{2, 2}, FortranOrder: true, Data: arr.CData()}
	// The same logical array stored column-major: data bytes 1,3,2,4.
	arrF.Data = append(append(append(append([]byte{}, arr.Data[0:8]...), arr.Data[16:24]...), arr.Data[8:16]...), arr.Data[24:32]...)
	if !pyval.Equal(arr, arrF) {
		t.Fatal("test arrays should be equal as values")
	}
	npStr := &pyval.Scalar{DType: pyval.DType{Kind: 'U', ByteOrder: '<', Size: 4}, Data: []byte("c\x00\x00\x00a\x00\x00\x00f\x00\x00\x00\xe9\x00\x00\x00")}
	npBytes := &pyval.Scalar{DType: pyval.DType{Kind: 'S', ByteOrder: '|', Size: 6}, Data: []byte("caf\xc3\xa9\x00")}
	npSurrogate := &pyval.Scalar{DType: pyval.DType{Kind: 'U', ByteOrder: '<', Size: 2}, Data: []byte("a\x00\x00\x00\xff\xdc\x00\x00")}
	npBadSurrogate := &pyval.Scalar{DType: pyval.DType{Kind: 'U', ByteOrder: '<', Size: 2}, Data: []byte("a\x00\x00\x00\x00\xd8\x00\x00")}
	npStrBE := &pyval.Scalar{DType: pyval.DType{Kind: 'U', ByteOrder: '>', Size: 2}, Data: []byte("\x00\x00\x00\xe9\x00\x00\x00\x00")}
	pickled := []byte("\x80\x02X\x05\x00\x00\x00caf\xc3\xa9q\x00.")
	cases := []struct {
		name string
		a, b []byte
		opts []DecodeOption
		want bool
	}{
		{"identical", i1, enc(pyval.IntOf(1)), nil, true},
		{"identical undecodable", []byte{0xfe}, []byte{0xfe}, nil, true},
		{"str vs bytes", enc(cafe), enc(pyval.Bytes("café")), nil, true},
		{"bytes vs str", enc(pyval.Bytes("café")), enc(cafe), nil, true},
		{"str via str8 header", enc(cafe), mustHex(t, "ffd905636166c3a9"), nil, true},
		{"numpy str_ vs str", enc(npStr), enc(cafe), nil, true},
		{"numpy bytes_ vs str", enc(npBytes), enc(cafe), nil, true},
		{"surrogateescape", enc(npSurrogate), enc(pyval.Bytes("a\xff")), nil, true},
		{"big-endian numpy str_", enc(npStrBE), enc(pyval.Str("é")), nil, true},
		{"unencodable surrogate", enc(npBadSurrogate), enc(pyval.Bytes("a")), nil, false},
		{"different str", enc(cafe), enc(pyval.Str("cafe")), nil, false},
		{"no recursion", enc(pyval.List{cafe}), enc(pyval.List{pyval.Bytes("café")}), nil, false},
		{"int vs float", i1, enc(pyval.Float(1)), nil, false},
		{"int vs bool", i1, enc(pyval.Bool(true)), nil, false},
		{"int vs numpy int64", i1, enc(pyval.ScalarOf(int64(1))), nil, false},
		{"int via uint8 header", i1, mustHex(t, "ffcc01"), nil, false},
		{"dict order", enc(pyval.StrDict("a", pyval.IntOf(1), "b", pyval.IntOf(2))), enc(pyval.StrDict("b", pyval.IntOf(2), "a", pyval.IntOf(1))), nil, false},
		{"C vs Fortran order", enc(arr), enc(arrF), nil, false},
		{"undecodable", []byte{0xfe}, []byte{0xfd}, nil, false},
		{"pickle refused", pickled, enc(cafe), nil, false},
		{"pickle allowed", pickled, enc(cafe), []DecodeOption{AllowPickle(true)}, true},
	}
	for _, c := range cases {
		if got := EqualEncoded(c.a, c.b, c.opts...); got != c.want {
			t.Errorf("%s: EqualEncoded(%x, %x) = %v, want %v", c.name, c.a, c.b, got, c.want)
		}
	}
}

func TestAllowPickleFromEnv(t *testing.T) {
	cases := []struct {
		set       bool
		val       string
		allow     bool
		wantWarns bool
	}{
		{false, "", false, false},
		{true, "0", false, false},
		{true, "1", true, false},
		{true, "", false, true},
		{true, "yes", false, true},
		{true, "true", false, true},
	}
	for _, c := range cases {
		if c.set {
			t.Setenv(PickleEnv, c.val)
		} else {
			t.Setenv(PickleEnv, "x") // registers restoration
			unsetenv(t, PickleEnv)
		}
		allow, warn := AllowPickleFromEnv()
		if allow != c.allow || (warn != nil) != c.wantWarns {
			t.Errorf("%s=%q (set %v): allow %v, warn %v", PickleEnv, c.val, c.set, allow, warn)
		}
	}
}

// randValue builds a random value of every kind telstate can store.
func randValue(r *rand.Rand, depth int) pyval.Value {
	n := 14
	if depth > 3 {
		n = 10
	}
	switch r.IntN(n) {
	case 0:
		return pyval.None
	case 1:
		return pyval.Bool(r.IntN(2) == 1)
	case 2:
		if r.IntN(2) == 0 {
			return pyval.UintOf(r.Uint64() >> r.IntN(64))
		}
		return pyval.IntOf(r.Int64() >> r.IntN(64))
	case 3:
		return pyval.Float(math.Float64frombits(r.Uint64()))
	case 4:
		rs := make([]rune, r.IntN(40))
		for i := range rs {
			rs[i] = rune(r.IntN(0xd7ff))
		}
		return pyval.Str(string(rs))
	case 5:
		b := make([]byte, r.IntN(300))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return pyval.Bytes(b)
	case 6:
		return pyval.Complex(complex(math.Float64frombits(r.Uint64()), r.NormFloat64()))
	case 7:
		shape := make([]int, r.IntN(4))
		n := 1
		for i := range shape {
			shape[i] = r.IntN(4)
			n *= shape[i]
		}
		data := make([]float64, n)
		for i := range data {
			data[i] = r.NormFloat64()
		}
		if len(shape) == 0 {
			return &pyval.NDArray{DType: pyval.Float64, Shape: []int{}, Data: pyval.ArrayOf(data, 1).Data}
		}
		return pyval.ArrayOf(data, shape...)
	case 8:
		switch r.IntN(4) {
		case 0:
			return pyval.ScalarOf(r.Int32())
		case 1:
			return pyval.ScalarOf(float32(r.NormFloat64()))
		case 2:
			return pyval.ScalarOf(complex(r.NormFloat64(), r.NormFloat64()))
		}
		return pyval.ScalarOf(r.IntN(2) == 0)
	case 9:
		return pyval.Timestamp{Seconds: r.Int64() >> r.IntN(64), Nanoseconds: uint32(r.IntN(1e9))}
	case 10, 11:
		l := make([]pyval.Value, r.IntN(8))
		for i := range l {
			l[i] = randValue(r, depth+1)
		}
		if r.IntN(2) == 0 {
			return pyval.Tuple(l)
		}
		return pyval.List(l)
	}
	d := &pyval.Dict{}
	for range r.IntN(8) {
		var k pyval.Value = pyval.Str(fmt.Sprint(r.IntN(50)))
		if r.IntN(3) == 0 {
			k = pyval.Bytes(fmt.Sprint(r.IntN(50)))
		}
		_ = d.Set(k, randValue(r, depth+1))
	}
	return d
}

func TestRoundTripRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 3000 {
		v := randValue(r, 0)
		b := mustEncode(t, v)
		back, err := Decode(b)
		if err != nil {
			t.Fatalf("#%d: Decode(%x) of %s: %v", i, b, repr(v), err)
		}
		if !sameValue(back, v) {
			t.Fatalf("#%d: %s came back as %s", i, repr(v), repr(back))
		}
		if b2 := mustEncode(t, back); !bytes.Equal(b, b2) {
			t.Fatalf("#%d: re-encoding differs:\n%x\n%x", i, b, b2)
		}
		if !EqualEncoded(b, b) {
			t.Fatalf("#%d: not EqualEncoded to itself", i)
		}
	}
}

// TestMutations is katsdptelstate's own fuzz test: every single-byte
// mutation and every truncation of an encoded value with a bit of
// everything must decode or fail with ErrDecode, never panic. Mutations
// that turn the value into a pickle are also tried with pickles allowed.
func TestMutations(t *testing.T) {
	var seed []byte
	for _, r := range loadRecords(t) {
		if r.Name == "mixed_fuzz_seed" {
			seed = r.encoded(t)
		}
	}
	if seed == nil {
		t.Fatal("no mixed_fuzz_seed vector")
	}
	check := func(in []byte, opts ...DecodeOption) {
		v, err := Decode(in, opts...)
		if err == nil && v == nil {
			t.Fatalf("Decode(%x) returned nil, nil", in)
		}
		if err != nil && !errors.Is(err, ErrDecode) {
			t.Fatalf("Decode(%x): %v is not ErrDecode", in, err)
		}
	}
	broken := bytes.Clone(seed)
	for i := range seed {
		for j := range 256 {
			broken[i] = byte(j)
			check(broken)
			if broken[0] <= MarkerPickle {
				check(broken, AllowPickle(true))
			}
		}
		broken[i] = seed[i]
	}
	for i := range seed {
		check(seed[:i])
	}
}

// With AliasInput(true) arrays, bytes and large numpy scalars share the
// input's memory, with capacities that end with their own bytes; by
// default nothing does.
func TestAliasInput(t *testing.T) {
	inside := func(b, in []byte) bool {
		if len(b) == 0 {
			return false
		}
		p := &b[0]
		for i := range in {
			if p == &in[i] {
				return len(b) == cap(b) && i+len(b) <= len(in)
			}
		}
		return false
	}
	u8, err := pyval.ParseDType("<U8")
	if err != nil {
		t.Fatal(err)
	}
	big := &pyval.Scalar{DType: u8, Data: []byte("a\x00\x00\x00b\x00\x00\x00c\x00\x00\x00d\x00\x00\x00e\x00\x00\x00f\x00\x00\x00g\x00\x00\x00h\x00\x00\x00")}
	for _, c := range []struct {
		v    pyval.Value
		data func(pyval.Value) []byte
	}{
		{pyval.ArrayOf([]float64{1, 2, 3}), func(v pyval.Value) []byte { return v.(*pyval.NDArray).Data }},
		{pyval.Bytes("some bytes"), func(v pyval.Value) []byte { return v.(pyval.Bytes) }},
		{big, func(v pyval.Value) []byte { return v.(*pyval.Scalar).Data }},
		{pyval.Tuple{pyval.IntOf(1), pyval.Bytes("in a tuple")}, func(v pyval.Value) []byte { return v.(pyval.Tuple)[1].(pyval.Bytes) }},
	} {
		in, err := Encode(c.v)
		if err != nil {
			t.Fatal(err)
		}
		in = append(in, 0xc0)[:len(in)] // room after the input that an append could reach
		al, err := Decode(in, AliasInput(true))
		if err != nil {
			t.Fatal(err)
		}
		cp, err := Decode(in)
		if err != nil {
			t.Fatal(err)
		}
		if !pyval.Equal(al, c.v) || !pyval.Equal(cp, c.v) {
			t.Errorf("%s: decoded %s and %s", pyval.Repr(c.v), pyval.Repr(al), pyval.Repr(cp))
		}
		if !inside(c.data(al), in) {
			t.Errorf("%s: AliasInput(true) did not alias the input", pyval.Repr(c.v))
		}
		if inside(c.data(cp), in) {
			t.Errorf("%s: the default decode aliases the input", pyval.Repr(c.v))
		}
	}
}

// Encode's array path gives AppendEncoded's bytes and errors, including
// for headers too long for its stack buffer.
func TestEncodeArrayPath(t *testing.T) {
	shape := make([]int, 40)
	for i := range shape {
		shape[i] = 1
	}
	long, err := pyval.NewNDArray(pyval.Float64, shape, false, make([]byte, 8))
	if err != nil {
		t.Fatal(err)
	}
	ft, err := pyval.NewNDArray(pyval.Int16, []int{2, 3}, true, make([]byte, 12))
	if err != nil {
		t.Fatal(err)
	}
	obj, err := pyval.ParseDType("|O")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []*pyval.NDArray{
		pyval.ArrayOf([]float64{1, 2}), long, ft, nil,
		{DType: pyval.Float64, Shape: []int{3}, Data: make([]byte, 8)}, // wrong length
		{DType: obj, Shape: []int{1}, Data: make([]byte, 8)},
	} {
		got, gerr := Encode(a)
		want, werr := AppendEncoded(nil, a)
		if !bytes.Equal(got, want) || (gerr == nil) != (werr == nil) || (gerr != nil && gerr.Error() != werr.Error()) {
			t.Errorf("Encode = %x, %v; AppendEncoded = %x, %v", got, gerr, want, werr)
		}
	}
}
