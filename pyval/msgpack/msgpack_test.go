package msgpack

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
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEncodeInts(t *testing.T) {
	cases := []struct {
		v    pyval.Int
		want string
	}{
		{pyval.IntOf(0), "00"},
		{pyval.IntOf(127), "7f"},
		{pyval.IntOf(128), "cc80"},
		{pyval.IntOf(255), "ccff"},
		{pyval.IntOf(256), "cd0100"},
		{pyval.IntOf(65535), "cdffff"},
		{pyval.IntOf(65536), "ce00010000"},
		{pyval.IntOf(1 << 31), "ce80000000"},
		{pyval.IntOf(1<<32 - 1), "ceffffffff"},
		{pyval.IntOf(1 << 32), "cf0000000100000000"},
		{pyval.IntOf(math.MaxInt64), "cf7fffffffffffffff"},
		{pyval.UintOf(math.MaxUint64), "cfffffffffffffffff"},
		{pyval.IntOf(-1), "ff"},
		{pyval.IntOf(-32), "e0"},
		{pyval.IntOf(-33), "d0df"},
		{pyval.IntOf(-128), "d080"},
		{pyval.IntOf(-129), "d1ff7f"},
		{pyval.IntOf(-32768), "d18000"},
		{pyval.IntOf(-32769), "d2ffff7fff"},
		{pyval.IntOf(math.MinInt32), "d280000000"},
		{pyval.IntOf(math.MinInt32 - 1), "d3ffffffff7fffffff"},
		{pyval.IntOf(math.MinInt64), "d38000000000000000"},
	}
	for _, c := range cases {
		got, err := Marshal(c.v)
		if err != nil || hex.EncodeToString(got) != c.want {
			t.Errorf("Marshal(%s) = %x, %v; want %s", c.v, got, err, c.want)
		}
		back, err := Unmarshal(got)
		if err != nil || !sameValue(back, c.v) {
			t.Errorf("Unmarshal(%x) = %v, %v; want %s", got, back, err, c.v)
		}
	}
}

func TestEncodeScalars(t *testing.T) {
	cases := []struct {
		v    pyval.Value
		want string
	}{
		{pyval.None, "c0"},
		{pyval.Bool(false), "c2"},
		{pyval.Bool(true), "c3"},
		{pyval.Float(0), "cb0000000000000000"},
		{pyval.Float(math.Copysign(0, -1)), "cb8000000000000000"},
		{pyval.Float(1.5), "cb3ff8000000000000"},
		{pyval.Float(math.Inf(-1)), "cbfff0000000000000"},
		{pyval.Str(""), "a0"},
		{pyval.Str("café"), "a5636166c3a9"},
		{pyval.Bytes{}, "c400"},
		{pyval.Bytes("ab"), "c4026162"},
		{pyval.List{}, "90"},
		{pyval.List{pyval.IntOf(1), pyval.Str("a")}, "9201a161"},
		{&pyval.Dict{}, "80"},
		{(*pyval.Dict)(nil), "80"},
		{pyval.StrDict("b", pyval.IntOf(1), "a", pyval.IntOf(2)), "82a16201a16102"},
		{pyval.Timestamp{Seconds: 1}, "d6ff00000001"},
		{pyval.Timestamp{Seconds: 1 << 32}, "d7ff0000000100000000"},
		{pyval.Timestamp{Seconds: 1, Nanoseconds: 1}, "d7ff0000000400000001"},
		{pyval.Timestamp{Seconds: -1}, "c70cff00000000ffffffffffffffff"},
		{pyval.Timestamp{Seconds: 1 << 34, Nanoseconds: 5}, "c70cff000000050000000400000000"},
	}
	for _, c := range cases {
		got, err := Marshal(c.v)
		if err != nil || hex.EncodeToString(got) != c.want {
			t.Errorf("Marshal(%s) = %x, %v; want %s", pyval.Repr(c.v), got, err, c.want)
		}
	}
}

func TestLengthHeaders(t *testing.T) {
	cases := []struct {
		n                   int
		str, bin, arr, mapH string
	}{
		{0, "a0", "c400", "90", "80"},
		{15, "af", "c40f", "9f", "8f"},
		{16, "b0", "c410", "dc0010", "de0010"},
		{31, "bf", "c41f", "dc001f", "de001f"},
		{32, "d920", "c420", "dc0020", "de0020"},
		{255, "d9ff", "c4ff", "dc00ff", "de00ff"},
		{256, "da0100", "c50100", "dc0100", "de0100"},
		{65535, "daffff", "c5ffff", "dcffff", "deffff"},
		{65536, "db00010000", "c600010000", "dd00010000", "df00010000"},
	}
	for _, c := range cases {
		check := func(what string, v pyval.Value, want string) {
			t.Helper()
			got, err := Marshal(v)
			if err != nil {
				t.Fatalf("%s %d: %v", what, c.n, err)
			}
			if h := hex.EncodeToString(got[:len(want)/2]); h != want {
				t.Errorf("%s of %d: header %s, want %s", what, c.n, h, want)
			}
			back, err := Unmarshal(got)
			if err != nil || !sameValue(back, v) {
				t.Errorf("%s of %d: round trip failed: %v", what, c.n, err)
			}
		}
		check("str", pyval.Str(strings.Repeat("x", c.n)), c.str)
		check("bin", pyval.Bytes(bytes.Repeat([]byte{7}, c.n)), c.bin)
		l := make(pyval.List, c.n)
		d := &pyval.Dict{}
		for i := range l {
			l[i] = pyval.None
			d.SetStr(fmt.Sprint(i), pyval.None)
		}
		check("array", l, c.arr)
		check("map", d, c.mapH)
	}
	// A str length counts UTF-8 bytes, not characters.
	got, _ := Marshal(pyval.Str(strings.Repeat("é", 16)))
	if got[0] != 0xd9 || got[1] != 32 {
		t.Errorf("16×'é' header = %x, want d9 20", got[:2])
	}
}

func TestExtHeaders(t *testing.T) {
	cases := []struct {
		n    int
		want string
	}{
		{0, "c70005"}, {1, "d405"}, {2, "d505"}, {3, "c70305"}, {4, "d605"}, {8, "d705"},
		{16, "d805"}, {17, "c71105"}, {255, "c7ff05"}, {256, "c8010005"},
		{65535, "c8ffff05"}, {65536, "c90001000005"},
	}
	for _, c := range cases {
		payload := bytes.Repeat([]byte{0xab}, c.n)
		a, err := AppendExt([]byte{0x99}, 5, payload)
		if err != nil {
			t.Fatal(err)
		}
		b, err := AppendExtFunc([]byte{0x99}, 5, func(dst []byte) ([]byte, error) { return append(dst, payload...), nil })
		if err != nil {
			t.Fatal(err)
		}
		want := append(append([]byte{0x99}, mustHex(t, c.want)...), payload...)
		if !bytes.Equal(a, want) || !bytes.Equal(b, want) {
			t.Errorf("ext of %d bytes: AppendExt %x…, AppendExtFunc %x…; want %s", c.n, a[:min(8, len(a))], b[:min(8, len(b))], c.want)
		}
	}
	// A failing payload writer leaves dst as it was.
	dst := []byte{1, 2}
	out, err := AppendExtFunc(dst, 1, func(b []byte) ([]byte, error) { return append(b, 9), errors.New("boom") })
	if err == nil || !bytes.Equal(out, []byte{1, 2}) {
		t.Errorf("failing writer: %x, %v", out, err)
	}
}

func TestEncodeErrors(t *testing.T) {
	cases := []struct {
		v    pyval.Value
		want error
	}{
		{pyval.Str("\xed\xb3\xbf"), ErrInvalidUTF8}, // a lone surrogate as Go would hold it
		{pyval.List{pyval.Str("ok"), pyval.Str("\xff")}, ErrInvalidUTF8},
		{pyval.Tuple{}, ErrUnsupportedType},
		{pyval.Complex(1), ErrUnsupportedType},
		{pyval.List{nil}, ErrUnsupportedType},
		{pyval.Timestamp{Nanoseconds: 1e9}, ErrUnsupportedType},
		// Python: OverflowError("Integer value out of range").
		{bigInt(t, "18446744073709551616"), ErrIntOverflow},
		{pyval.List{pyval.IntOf(1), bigInt(t, "-9223372036854775809")}, ErrIntOverflow},
		{pyval.StrDict("k", bigInt(t, "1"+strings.Repeat("0", 40))), ErrIntOverflow},
	}
	for _, c := range cases {
		dst := []byte("keep")
		out, err := NewEncoder().Append(dst, c.v)
		if !errors.Is(err, c.want) {
			t.Errorf("Append(%#v) error %v, want %v", c.v, err, c.want)
		}
		if string(out) != "keep" {
			t.Errorf("Append(%#v) on error returned %q", c.v, out)
		}
	}
	// TupleAsArray makes tuples native.
	got, err := Marshal(pyval.Tuple{pyval.IntOf(1)}, TupleAsArray(true))
	if err != nil || hex.EncodeToString(got) != "9101" {
		t.Errorf("TupleAsArray: %x, %v", got, err)
	}
}

func bigInt(t *testing.T, s string) pyval.Int {
	t.Helper()
	i, err := pyval.ParseInt(s)
	if err != nil {
		t.Fatal(err)
	}
	return i
}

// TestBigIntHook checks that an Int beyond msgpack's range goes to the
// EncodeHook, as Python hands it to default=, and that the edges of the
// range stay native.
func TestBigIntHook(t *testing.T) {
	var got []pyval.Value
	enc := NewEncoder(WithEncodeHook(func(dst []byte, v pyval.Value, sub SubEncoder) ([]byte, error) {
		got = append(got, v)
		if i, ok := v.(pyval.Int); ok {
			return sub.Append(dst, pyval.Str(i.String())) // as default=str would
		}
		return dst, ErrUnsupportedType
	}))
	v := pyval.List{pyval.UintOf(math.MaxUint64), pyval.IntOf(math.MinInt64), bigInt(t, "18446744073709551616"), bigInt(t, "-9223372036854775809")}
	b, err := enc.Encode(v)
	if err != nil {
		t.Fatal(err)
	}
	// packb([2**64-1, -2**63, 2**64, -2**63-1], default=str)
	want := "94cfffffffffffffffffd38000000000000000b43138343436373434303733373039353531363136b42d39323233333732303336383534373735383039"
	if hex.EncodeToString(b) != want {
		t.Errorf("encoded %x\nwant    %s", b, want)
	}
	if len(got) != 2 || got[0] != v[2] || got[1] != v[3] {
		t.Errorf("hook saw %v", got)
	}
}

func nest(n int) pyval.Value {
	var v pyval.Value = pyval.List{}
	for i := 1; i < n; i++ {
		v = pyval.List{v}
	}
	return v
}

func TestDepthLimit(t *testing.T) {
	// n nested lists have depths 0…n-1.
	if _, err := Marshal(nest(5), MaxDepth(4)); err != nil {
		t.Errorf("depth 4 with MaxDepth(4): %v", err)
	}
	if _, err := Marshal(nest(6), MaxDepth(4)); !errors.Is(err, ErrTooDeep) {
		t.Errorf("depth 5 with MaxDepth(4): %v", err)
	}
	enc, _ := Marshal(nest(DefaultMaxDepth + 1))
	if _, err := Unmarshal(enc); err != nil {
		t.Errorf("decode at DefaultMaxDepth: %v", err)
	}
	deep := append(bytes.Repeat([]byte{0x91}, DefaultMaxDepth+1), 0x90)
	if _, err := Unmarshal(deep); !errors.Is(err, ErrTooDeep) {
		t.Errorf("decode beyond DefaultMaxDepth: %v", err)
	}
	// A cycle cannot recurse forever.
	cyc := pyval.List{nil}
	cyc[0] = cyc
	if _, err := Marshal(cyc); !errors.Is(err, ErrTooDeep) {
		t.Errorf("cyclic list: %v", err)
	}
}

func TestDecodeTolerance(t *testing.T) {
	cases := []struct {
		in   string
		want pyval.Value
	}{
		{"cc05", pyval.IntOf(5)},               // non-minimal uint8
		{"cf0000000000000005", pyval.IntOf(5)}, // non-minimal uint64
		{"d0ff", pyval.IntOf(-1)},              // non-minimal int8
		{"d30000000000000005", pyval.IntOf(5)}, // signed form for a positive
		{"d9026869", pyval.Str("hi")},          // str8 for a short str
		{"db000000026869", pyval.Str("hi")},    // str32
		{"dc0001c0", pyval.List{pyval.None}},   // array16
		{"ca3fc00000", pyval.Float(1.5)},       // float32 becomes a float
		{"c6000000026869", pyval.Bytes("hi")},  // bin32
		{"d6ff00000001", pyval.Timestamp{Seconds: 1}},
		{"d7ff0000000400000001", pyval.Timestamp{Seconds: 1, Nanoseconds: 1}},
		{"c70cff00000000ffffffffffffffff", pyval.Timestamp{Seconds: -1}},
		{"82a16101a16102", pyval.StrDict("a", pyval.IntOf(2))}, // duplicate key: last value wins
	}
	for _, c := range cases {
		got, err := Unmarshal(mustHex(t, c.in))
		if err != nil || !sameValue(got, c.want) {
			t.Errorf("Unmarshal(%s) = %v, %v; want %s", c.in, got, err, pyval.Repr(c.want))
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	cases := []struct {
		in   string
		want error
	}{
		{"", ErrTruncated},
		{"c1", ErrMalformed},
		{"91c1", ErrMalformed},
		{"cd01", ErrTruncated},
		{"a3616263ff", ErrExtraData},
		{"c0c0", ErrExtraData},
		{"dd80000000", ErrTruncated},
		{"dfffffffff00", ErrTruncated},
		{"dbffffffff", ErrTruncated},
		{"c6ffffffff", ErrTruncated},
		{"c9ffffffff01", ErrTruncated},
		{"a2c328", ErrInvalidUTF8},
		{"a3eda080", ErrInvalidUTF8}, // UTF-8-encoded surrogate
		{"d405aa", ErrUnknownExt},
		{"d5ff0000", ErrMalformed},                       // 2-byte timestamp
		{"d7ff" + "ffffffff00000000", ErrMalformed},      // nanoseconds ≥ 1e9
		{"c70cff3b9aca000000000000000000", ErrMalformed}, // 12-byte, nanoseconds = 1e9
	}
	for _, c := range cases {
		_, err := Unmarshal(mustHex(t, c.in))
		if !errors.Is(err, c.want) {
			t.Errorf("Unmarshal(%s): error %v, want %v", c.in, err, c.want)
		}
	}
}

func TestDecodeAllocationBounded(t *testing.T) {
	// Forged lengths must fail before allocating: a 6-byte input may not
	// cost more than a few small allocations.
	for _, in := range []string{"dd7fffffff00", "df7fffffff00", "db7fffffff00", "c67fffffff00", "c97fffffff0100"} {
		b := mustHex(t, in)
		allocs := testing.AllocsPerRun(10, func() { _, _ = Unmarshal(b) })
		if allocs > 10 {
			t.Errorf("%s: %v allocations", in, allocs)
		}
	}
}

func TestMapKeys(t *testing.T) {
	intKey := mustHex(t, "810102")
	if _, err := Unmarshal(intKey, StrictMapKeys(true)); !errors.Is(err, ErrMapKey) {
		t.Errorf("strict int key: %v", err)
	}
	v, err := Unmarshal(intKey)
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := v.(*pyval.Dict); !ok || d.Len() != 1 {
		t.Errorf("lenient int key: %v", pyval.Repr(v))
	}
	for _, in := range []string{"81a16102", "81c4016102"} {
		if _, err := Unmarshal(mustHex(t, in), StrictMapKeys(true)); err != nil {
			t.Errorf("strict %s: %v", in, err)
		}
	}
	// A list key is unhashable even without strict keys.
	if _, err := Unmarshal(mustHex(t, "819001")); !errors.Is(err, ErrMapKey) {
		t.Errorf("list key: %v", err)
	}
}

func TestOptions(t *testing.T) {
	raw := mustHex(t, "a2c328")
	v, err := Unmarshal(raw, AllowInvalidUTF8(true))
	if err != nil || v.(pyval.Str) != "\xc3(" {
		t.Errorf("AllowInvalidUTF8: %v, %v", v, err)
	}
	in := mustHex(t, "c4026162")
	v, _ = Unmarshal(in, AliasInput(true))
	in[2] = 'X'
	if string(v.(pyval.Bytes)) != "Xb" {
		t.Errorf("AliasInput did not alias")
	}
	in = mustHex(t, "c4026162")
	v, _ = Unmarshal(in)
	in[2] = 'X'
	if string(v.(pyval.Bytes)) != "ab" {
		t.Errorf("default decoding aliased the input")
	}
	hook := WithMapHook(func(m *pyval.Dict) (pyval.Value, error) { return pyval.IntOf(int64(m.Len())), nil })
	v, err = Unmarshal(mustHex(t, "9281a16101 80"), hook)
	if err != nil || !sameValue(v, pyval.List{pyval.IntOf(1), pyval.IntOf(0)}) {
		t.Errorf("map hook: %v, %v", v, err)
	}
}

// tupleHook encodes tuples as ext 1 with a nested array, like telstate.
func tupleHook(dst []byte, v pyval.Value, sub SubEncoder) ([]byte, error) {
	if tu, ok := v.(pyval.Tuple); ok {
		return AppendExtFunc(dst, 1, func(b []byte) ([]byte, error) { return sub.Append(b, pyval.List(tu)) })
	}
	return dst, fmt.Errorf("%w: %s", ErrUnsupportedType, v.Kind())
}

func tupleExt(typ int8, p []byte, sub SubDecoder) (pyval.Value, error) {
	if typ != 1 {
		return nil, fmt.Errorf("%w: %d", ErrUnknownExt, typ)
	}
	v, err := sub.Decode(p)
	if err != nil {
		return nil, err
	}
	l, ok := v.(pyval.List)
	if !ok {
		return nil, errors.New("not a list")
	}
	return pyval.Tuple(l), nil
}

func TestHooks(t *testing.T) {
	enc := NewEncoder(WithEncodeHook(tupleHook))
	dec := NewDecoder(WithExtHook(tupleExt))
	v := pyval.List{pyval.Tuple{}, pyval.Tuple{pyval.IntOf(1), pyval.Tuple{pyval.Str("x")}}}
	b, err := enc.Encode(v)
	if err != nil {
		t.Fatal(err)
	}
	if want := "92d40190d7019201c7030191a178"; hex.EncodeToString(b) != strings.ReplaceAll(want, " ", "") {
		// () is d4 01 90; (1, ('x',)) is fixext8 type 1 of [1, ext 1 of ['x']].
		t.Errorf("encoded %x", b)
	}
	back, err := dec.Decode(b)
	if err != nil || !sameValue(back, v) {
		t.Errorf("decoded %v, %v", back, err)
	}
	// Errors inside a nested payload report offsets in the outer input.
	bad := mustHex(t, "92c0d50191c1")
	_, err = dec.Decode(bad)
	if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "offset 5") {
		t.Errorf("nested error: %v", err)
	}
	// DecodeFirst reports the bytes used.
	v1, n, err := dec.DecodeFirst(mustHex(t, "a161ffff"))
	if err != nil || n != 2 || v1.(pyval.Str) != "a" {
		t.Errorf("DecodeFirst: %v %d %v", v1, n, err)
	}
	// Depth accounting continues through hooks.
	deep := pyval.Value(pyval.Tuple{})
	for range 10 {
		deep = pyval.Tuple{deep}
	}
	if _, err := NewEncoder(WithEncodeHook(tupleHook), MaxDepth(5)).Encode(deep); !errors.Is(err, ErrTooDeep) {
		t.Errorf("deep tuples encode: %v", err)
	}
	b, _ = enc.Encode(deep)
	if _, err := NewDecoder(WithExtHook(tupleExt), MaxDepth(5)).Decode(b); !errors.Is(err, ErrTooDeep) {
		t.Errorf("deep tuples decode: %v", err)
	}
}

func TestAppendReusesBuffer(t *testing.T) {
	enc := NewEncoder()
	buf := make([]byte, 0, 64)
	var v pyval.Value = pyval.List{pyval.Float(1.5), pyval.Str("abc"), pyval.IntOf(-7)}
	allocs := testing.AllocsPerRun(100, func() {
		var err error
		buf, err = enc.Append(buf[:0], v)
		if err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Encoder.Append into a big enough buffer allocated %v times", allocs)
	}
	allocs = testing.AllocsPerRun(100, func() { buf, _ = Append(buf[:0], v) })
	if allocs != 0 {
		t.Errorf("Append into a big enough buffer allocated %v times", allocs)
	}
}

func randValue(r *rand.Rand, depth int) pyval.Value {
	n := 9
	if depth > 3 {
		n = 7
	}
	switch r.IntN(n) {
	case 0:
		return pyval.None
	case 1:
		return pyval.Bool(r.IntN(2) == 1)
	case 2:
		switch r.IntN(3) {
		case 0:
			return pyval.IntOf(r.Int64() >> r.IntN(64))
		case 1:
			return pyval.UintOf(r.Uint64() >> r.IntN(64))
		}
		return pyval.IntOf(-r.Int64() >> r.IntN(64))
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
		return pyval.Timestamp{Seconds: r.Int64() >> r.IntN(64), Nanoseconds: uint32(r.IntN(1e9))}
	case 7:
		l := make(pyval.List, r.IntN(20))
		for i := range l {
			l[i] = randValue(r, depth+1)
		}
		return l
	}
	d := &pyval.Dict{}
	for range r.IntN(20) {
		d.SetStr(fmt.Sprint(r.IntN(100)), randValue(r, depth+1))
	}
	return d
}

func TestRoundTripRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	enc, dec := NewEncoder(), NewDecoder(StrictMapKeys(true))
	for i := range 2000 {
		v := randValue(r, 0)
		b, err := enc.Encode(v)
		if err != nil {
			t.Fatalf("#%d encode %s: %v", i, pyval.Repr(v), err)
		}
		back, err := dec.Decode(b)
		if err != nil {
			t.Fatalf("#%d decode %x: %v", i, b, err)
		}
		if !sameValue(back, v) {
			t.Fatalf("#%d round trip: %s became %s", i, pyval.Repr(v), pyval.Repr(back))
		}
		// Every proper prefix is truncated.
		if len(b) < 200 {
			for k := range b {
				if _, err := dec.Decode(b[:k]); !errors.Is(err, ErrTruncated) {
					t.Fatalf("#%d prefix %x: %v", i, b[:k], err)
				}
			}
		}
	}
}

// sameValue compares structurally: same kinds, floats bitwise, dicts in
// order.
func sameValue(a, b pyval.Value) bool {
	if a == nil || b == nil || a.Kind() != b.Kind() {
		return false
	}
	switch x := a.(type) {
	case pyval.Float:
		return math.Float64bits(float64(x)) == math.Float64bits(float64(b.(pyval.Float)))
	case pyval.Bytes:
		return bytes.Equal(x, b.(pyval.Bytes))
	case pyval.List:
		return sameSeq(x, b.(pyval.List))
	case pyval.Tuple:
		return sameSeq(x, b.(pyval.Tuple))
	case *pyval.Dict:
		y := b.(*pyval.Dict)
		if x.Len() != y.Len() {
			return false
		}
		for i, it := range x.Items() {
			jt := y.Items()[i]
			if !sameValue(it.Key, jt.Key) || !sameValue(it.Value, jt.Value) {
				return false
			}
		}
		return true
	case pyval.Int:
		return x.Cmp(b.(pyval.Int)) == 0
	}
	return a == b
}

func sameSeq(a, b []pyval.Value) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !sameValue(a[i], b[i]) {
			return false
		}
	}
	return true
}

// Errors from deep inside nested ext payloads keep a short message (and
// so cost linear time): nested levels must not each add their own text.
func TestNestedExtErrorIsShort(t *testing.T) {
	v := pyval.Value(pyval.Tuple{})
	for range 500 { // each level is an ext and an array: 1000 deep
		v = pyval.Tuple{v}
	}
	b, err := NewEncoder(WithEncodeHook(tupleHook)).Encode(v)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] = 0xc1 // the innermost empty array becomes a reserved byte
	_, err = NewDecoder(WithExtHook(tupleExt)).Decode(b)
	if !errors.Is(err, ErrMalformed) {
		t.Fatalf("got %v", err)
	}
	if len(err.Error()) > 200 || !strings.Contains(err.Error(), fmt.Sprintf("offset %d", len(b)-1)) {
		t.Errorf("error message of %d bytes: %.300s", len(err.Error()), err)
	}
}
