package rdb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/telstate/backend"
)

// Builders for hand-made RDB images.

// rdbImage returns "REDIS" + version + body + EOF + CRC-64 (version >= 5).
func rdbImage(version int, body ...[]byte) []byte {
	b := []byte(fmt.Sprintf("REDIS%04d", version))
	for _, p := range body {
		b = append(b, p...)
	}
	b = append(b, opEOF)
	if version >= 5 {
		b = binary.LittleEndian.AppendUint64(b, CRC64(b))
	}
	return b
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// rstr is an RDB raw string.
func rstr(s string) []byte { return append(appendLen(nil, len(s)), s...) }

// zlEntry is one ziplist entry body (encoding + data); big5 forces the
// 5-byte prevlen form, which Redis can leave behind for small lengths.
type zlEntry struct {
	body []byte
	big5 bool
}

func ziplist(entries ...zlEntry) []byte {
	var body []byte
	prev, last := 0, 10
	for _, e := range entries {
		last = 10 + len(body)
		start := len(body)
		if prev < 254 && !e.big5 {
			body = append(body, byte(prev))
		} else {
			body = binary.LittleEndian.AppendUint32(append(body, 0xfe), uint32(prev))
		}
		body = append(body, e.body...)
		prev = len(body) - start
	}
	zl := binary.LittleEndian.AppendUint32(nil, uint32(10+len(body)+1))
	zl = binary.LittleEndian.AppendUint32(zl, uint32(last))
	zl = binary.LittleEndian.AppendUint16(zl, uint16(len(entries)))
	return append(append(zl, body...), 0xff)
}

func zlStr(s string) zlEntry { return zlEntry{body: append(appendLen(nil, len(s)), s...)} }

func zlRaw(b ...byte) zlEntry { return zlEntry{body: b} }

func listpack(elems ...[]byte) []byte {
	var body []byte
	for _, e := range elems {
		body = append(body, e...)
		body = encodeBacklen(body, len(e))
	}
	lp := binary.LittleEndian.AppendUint32(nil, uint32(6+len(body)+1))
	lp = binary.LittleEndian.AppendUint16(lp, uint16(len(elems)))
	return append(append(lp, body...), 0xff)
}

func lpStr(s string) []byte {
	switch n := len(s); {
	case n < 64:
		return append([]byte{0x80 | byte(n)}, s...)
	case n < 4096:
		return append([]byte{0xe0 | byte(n>>8), byte(n)}, s...)
	default:
		return append(binary.LittleEndian.AppendUint32([]byte{0xf0}, uint32(n)), s...)
	}
}

// readOne reads an image that must hold exactly the given records.
func readImage(t *testing.T, img []byte) []Record {
	t.Helper()
	var recs []Record
	if err := Read(bytes.NewReader(img), func(r Record) error { recs = append(recs, r); return nil }); err != nil {
		t.Fatalf("Read: %v", err)
	}
	return recs
}

func entries(kv ...string) []backend.Entry {
	var out []backend.Entry
	for i := 0; i < len(kv); i += 2 {
		out = append(out, backend.Entry{SubKey: []byte(kv[i]), Value: []byte(kv[i+1])})
	}
	return out
}

func bs(ss ...string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

func TestStringEncodings(t *testing.T) {
	big := strings.Repeat("x", 20000)
	cases := []struct {
		name string
		enc  []byte
		want string
	}{
		{"empty", rstr(""), ""},
		{"6-bit", rstr("hello"), "hello"},
		{"14-bit", rstr(strings.Repeat("a", 300)), strings.Repeat("a", 300)},
		{"32-bit", rstr(big), big},
		{"64-bit length", append([]byte{0x81, 0, 0, 0, 0, 0, 0, 0, 3}, "abc"...), "abc"},
		{"int8", []byte{0xc0, 0x80}, "-128"},
		{"int8 positive", []byte{0xc0, 0x7f}, "127"},
		{"int16", []byte{0xc1, 0x00, 0x80}, "-32768"},
		{"int16 positive", []byte{0xc1, 0x39, 0x30}, "12345"},
		{"int32", []byte{0xc2, 0xff, 0xff, 0xff, 0x7f}, "2147483647"},
		{"int32 negative", []byte{0xc2, 0x00, 0x00, 0x00, 0x80}, "-2147483648"},
		// literal run "abc", then a back-reference of 9 bytes at distance 3
		// (overlapping copy), then literal "!".
		{"lzf", []byte{0xc3, 7 + 2, 13, 0x02, 'a', 'b', 'c', 0xe0, 0x00, 0x02, 0x00, '!'}, "abcabcabcabc!"},
		// short back-reference: length field 1 means 3 bytes.
		{"lzf short ref", []byte{0xc3, 6, 6, 0x02, 'x', 'y', 'z', 0x20, 0x02}, "xyzxyz"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// The same encoding as key and as value.
			recs := readImage(t, rdbImage(9, []byte{typeString}, c.enc, c.enc))
			if len(recs) != 1 || string(recs[0].Key) != c.want || string(recs[0].Value) != c.want || recs[0].Type != String {
				t.Fatalf("got %+v", recs)
			}
		})
	}
}

func TestLZFErrors(t *testing.T) {
	cases := []struct {
		name string
		enc  []byte
		msg  string
	}{
		{"ref before start", []byte{0xc3, 2, 5, 0x20, 0x05}, "before the start"},
		{"short output", []byte{0xc3, 3, 9, 0x01, 'a', 'b'}, "expands to 2 bytes"},
		{"long output", []byte{0xc3, 4, 1, 0x02, 'a', 'b', 'c'}, "exceeds the declared"},
		{"literal overrun", []byte{0xc3, 2, 5, 0x05, 'a'}, "overruns"},
		{"truncated ref", []byte{0xc3, 3, 5, 0x00, 'a', 0xe0}, "truncated"},
		{"impossible ratio", []byte{0xc3, 1, 0x7f, 0xff, 0x00}, "cannot come from"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Read(bytes.NewReader(rdbImage(9, []byte{typeString}, rstr("k"), c.enc)), func(Record) error { return nil })
			var pe *ParseError
			if !errors.As(err, &pe) || !strings.Contains(pe.Msg, c.msg) {
				t.Fatalf("err = %v, want ParseError mentioning %q", err, c.msg)
			}
		})
	}
}

func TestZiplistEncodings(t *testing.T) {
	long14 := strings.Repeat("m", 1000)
	long32 := strings.Repeat("L", 17000)
	zl := ziplist(
		zlStr("s6"), zlStr(long14),
		zlStr("s32"), zlStr(long32), // 32-bit header, and the next prevlen needs 5 bytes
		zlStr("int16"), zlRaw(0xc0, 0x18, 0xfc), // -1000
		zlStr("int32"), zlRaw(0xd0, 0x00, 0x00, 0x00, 0x80),
		zlStr("int64"), zlRaw(0xe0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f),
		zlStr("int24"), zlRaw(0xf0, 0xff, 0xff, 0x7f),
		zlStr("int24neg"), zlRaw(0xf0, 0x00, 0x00, 0x80),
		zlStr("int8"), zlRaw(0xfe, 0x9c), // -100
		zlStr("imm0"), zlRaw(0xf1),
		zlEntry{body: append(appendLen(nil, 5), "imm12"...), big5: true}, zlRaw(0xfd),
		zlStr("empty"), zlStr(""),
	)
	recs := readImage(t, rdbImage(6, []byte{typeHashZiplist}, rstr("h"), append(appendLen(nil, len(zl)), zl...)))
	want := entries("s6", long14, "s32", long32, "int16", "-1000", "int32", "-2147483648",
		"int64", "9223372036854775807", "int24", "8388607", "int24neg", "-8388608", "int8", "-100",
		"imm0", "0", "imm12", "12", "empty", "")
	if len(recs) != 1 || recs[0].Type != Hash {
		t.Fatalf("got %d records", len(recs))
	}
	if !slices.EqualFunc(recs[0].FileEntries, want, entryEqual) {
		t.Fatalf("file entries differ")
	}
	slices.SortFunc(want, func(a, b backend.Entry) int { return bytes.Compare(a.SubKey, b.SubKey) })
	if !slices.EqualFunc(recs[0].Entries, want, entryEqual) {
		t.Fatalf("sorted entries differ")
	}

	// Every immediate F1..FD as zset scores.
	var items []zlEntry
	var members []string
	for i := range 13 {
		m := fmt.Sprintf("m%02d", i)
		members = append(members, m)
		items = append(items, zlStr(m), zlRaw(0xf1+byte(i)))
	}
	zl = ziplist(items...)
	recs = readImage(t, rdbImage(6, []byte{typeZSetZiplist}, rstr("z"), append(appendLen(nil, len(zl)), zl...)))
	if len(recs) != 1 || !slices.EqualFunc(recs[0].Members, bs(members...), bytes.Equal) {
		t.Fatalf("zset members %q", recs[0].Members)
	}
}

func entryEqual(a, b backend.Entry) bool {
	return bytes.Equal(a.SubKey, b.SubKey) && bytes.Equal(a.Value, b.Value)
}

func TestZiplistErrors(t *testing.T) {
	good := ziplist(zlStr("a"), zlRaw(0xf1))
	mut := func(f func(b []byte) []byte) []byte { return f(slices.Clone(good)) }
	cases := map[string][]byte{
		"short":           {1, 2, 3},
		"zlbytes":         mut(func(b []byte) []byte { b[0]++; return b }),
		"zltail":          mut(func(b []byte) []byte { b[4]++; return b }),
		"zllen":           mut(func(b []byte) []byte { b[8] = 3; return b }),
		"prevlen":         mut(func(b []byte) []byte { b[13] = 9; return b }),
		"bad encoding":    mut(func(b []byte) []byte { b[14] = 0xc5; return b }),
		"no end":          mut(func(b []byte) []byte { b[len(b)-1] = 0; return b }),
		"string overruns": mut(func(b []byte) []byte { b[11] = 40; return b }),
		"odd count":       ziplist(zlStr("a")),
	}
	for name, zl := range cases {
		t.Run(name, func(t *testing.T) {
			img := rdbImage(6, []byte{typeZSetZiplist}, rstr("z"), append(appendLen(nil, len(zl)), zl...))
			err := Read(bytes.NewReader(img), func(Record) error { return nil })
			var pe *ParseError
			if !errors.As(err, &pe) || !strings.Contains(pe.Msg, "ziplist") || pe.Offset < 9 || pe.Offset >= int64(len(img)) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestListpackEncodings(t *testing.T) {
	s12 := strings.Repeat("q", 3000)
	s32 := strings.Repeat("Q", 5000)
	le := func(enc byte, v uint64, n int) []byte {
		b := []byte{enc}
		for i := range n {
			b = append(b, byte(v>>(8*i)))
		}
		return b
	}
	lp := listpack(
		lpStr("u7"), []byte{0x7f},
		lpStr("s6"), lpStr("hello"),
		lpStr("i13"), []byte{0xc0 | 0x0f, 0xff}, // 4095
		lpStr("i13neg"), []byte{0xc0 | 0x10, 0x00}, // -4096
		lpStr("s12"), lpStr(s12),
		lpStr("s32"), lpStr(s32),
		lpStr("i16"), le(0xf1, uint64(0x8000), 2),
		lpStr("i24"), le(0xf2, uint64(0x7fffff), 3),
		lpStr("i32"), le(0xf3, uint64(0xfffffffe), 4),
		lpStr("i64"), le(0xf4, uint64(1)<<63, 8),
		lpStr(""), lpStr(""),
	)
	recs := readImage(t, rdbImage(10, []byte{typeHashListpack}, rstr("h"), append(appendLen(nil, len(lp)), lp...)))
	want := entries("u7", "127", "s6", "hello", "i13", "4095", "i13neg", "-4096", "s12", s12, "s32", s32,
		"i16", "-32768", "i24", "8388607", "i32", "-2", "i64", "-9223372036854775808", "", "")
	if len(recs) != 1 || !slices.EqualFunc(recs[0].FileEntries, want, entryEqual) {
		t.Fatalf("entries differ: %+v", recs)
	}

	// A zset listpack with integer and text scores.
	lp = listpack(lpStr("b"), []byte{0}, lpStr("a"), lpStr("1.5"), lpStr("c"), []byte{0xc0 | 0x1f, 0xff})
	recs = readImage(t, rdbImage(10, []byte{typeZSetListpack}, rstr("z"), append(appendLen(nil, len(lp)), lp...)))
	if len(recs) != 1 || !slices.EqualFunc(recs[0].Members, bs("a", "b", "c"), bytes.Equal) {
		t.Fatalf("members %q", recs[0].Members)
	}
}

func TestListpackErrors(t *testing.T) {
	good := listpack(lpStr("ab"), []byte{5})
	mut := func(f func(b []byte) []byte) []byte { return f(slices.Clone(good)) }
	cases := map[string][]byte{
		"short":        {1, 2},
		"total":        mut(func(b []byte) []byte { b[0]++; return b }),
		"count":        mut(func(b []byte) []byte { b[4] = 7; return b }),
		"backlen":      mut(func(b []byte) []byte { b[9] = 9; return b }),
		"bad encoding": mut(func(b []byte) []byte { b[10] = 0xf7; return b }),
		"no end":       mut(func(b []byte) []byte { b[len(b)-1] = 0x01; return b }),
		"overrun":      mut(func(b []byte) []byte { b[6] = 0x80 | 40; return b }),
	}
	for name, lp := range cases {
		t.Run(name, func(t *testing.T) {
			img := rdbImage(10, []byte{typeHashListpack}, rstr("h"), append(appendLen(nil, len(lp)), lp...))
			err := Read(bytes.NewReader(img), func(Record) error { return nil })
			var pe *ParseError
			if !errors.As(err, &pe) || !strings.Contains(pe.Msg, "listpack") {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestBacklen(t *testing.T) {
	// The boundaries of each size, reading back from the right as Redis does.
	for _, l := range []int{0, 127, 128, 16382, 16383, 2097150, 2097151, 268435454, 268435455, math.MaxUint32} {
		b := encodeBacklen(nil, l)
		v, shift := 0, 0
		for i := len(b) - 1; i >= 0; i-- {
			v |= int(b[i]&0x7f) << shift
			shift += 7
			if b[i]&0x80 == 0 {
				if i != 0 {
					t.Fatalf("l=%d: stop bit before the first byte", l)
				}
			}
		}
		if v != l {
			t.Fatalf("backlen %x decodes to %d, want %d", b, v, l)
		}
	}
}

func TestOtherValueTypes(t *testing.T) {
	zipmap := cat([]byte{2}, []byte{1}, []byte("a"), []byte{2, 1}, []byte("xyZ"), // value "xy", 1 free byte
		[]byte{0xfe}, binary.LittleEndian.AppendUint32(nil, 3), []byte("bbb"), []byte{0, 0}, []byte{0xff})
	intset := cat(binary.LittleEndian.AppendUint32(nil, 2), binary.LittleEndian.AppendUint32(nil, 2), []byte{1, 0, 2, 0})
	blob := func(b []byte) []byte { return append(appendLen(nil, len(b)), b...) }
	lpList := listpack(lpStr("x"), []byte{1})
	skipped := [][]byte{
		cat([]byte{typeList}, rstr("list"), []byte{2}, rstr("a"), []byte{0xc0, 1}),
		cat([]byte{typeSet}, rstr("set"), []byte{1}, rstr("m")),
		cat([]byte{typeListZiplist}, rstr("zl"), blob(ziplist(zlStr("a"), zlRaw(0xf5)))),
		cat([]byte{typeSetIntset}, rstr("is"), blob(intset)),
		cat([]byte{typeListQuicklist}, rstr("ql"), []byte{2}, blob(ziplist(zlStr("a"))), blob(ziplist())),
		cat([]byte{typeListQuicklist2}, rstr("ql2"), []byte{2, 2}, blob(lpList), []byte{1}, rstr("plain")),
		cat([]byte{typeSetListpack}, rstr("sl"), blob(lpList)),
		// module value: id, then UINT 5, STRING "s", DOUBLE, FLOAT, SINT, EOF
		cat([]byte{typeModule2}, rstr("mod"), []byte{0x81, 1, 2, 3, 4, 5, 6, 7, 8}, []byte{2, 5, 5}, rstr("s"),
			[]byte{4}, make([]byte, 8), []byte{3}, make([]byte, 4), []byte{1, 0x3f}, []byte{0}),
	}
	opcodes := [][]byte{
		cat([]byte{opAux}, rstr("redis-ver"), rstr("7.4.0"), []byte{opAux}, rstr("ctime"), []byte{0xc2, 1, 2, 3, 4}),
		cat([]byte{opFunction2}, rstr("#!lua name=x\n")),
		cat([]byte{opModuleAux}, []byte{0x81, 0, 0, 0, 0, 0, 0, 0, 1}, []byte{2, 2}, []byte{2, 9}, []byte{0}),
		cat([]byte{opSelectDB, 3}, []byte{opResizeDB, 5, 1}, []byte{opSlotInfo, 1, 2, 3}),
	}
	body := slices.Concat(opcodes...)
	body = append(body, slices.Concat(skipped...)...)
	body = append(body, cat(
		[]byte{opExpireTimeMS}, binary.LittleEndian.AppendUint64(nil, 1700000000123), []byte{opIdle, 7},
		[]byte{typeHashZipmap}, rstr("zm"), blob(zipmap),
		[]byte{opFreq, 9}, []byte{typeZSet}, rstr("z3"), []byte{4}, rstr("d"), []byte{1, '0'}, rstr("c"), []byte{253},
		rstr("b"), []byte{254}, rstr("a"), []byte{3, '1', '.', '5'},
		[]byte{opSelectDB, 0}, []byte{opExpireTime}, binary.LittleEndian.AppendUint32(nil, 1700000000),
		[]byte{typeZSet2}, rstr("z5"), []byte{2}, rstr("y"), make([]byte, 8), rstr("x"), binary.LittleEndian.AppendUint64(nil, math.Float64bits(2)),
		[]byte{typeHash}, rstr("h4"), []byte{2}, rstr("f2"), rstr("v2"), rstr("f1"), []byte{0xc0, 7},
		[]byte{typeString}, rstr("s"), rstr("v"),
	)...)
	recs := readImage(t, rdbImage(12, body))
	want := []Record{
		{Key: []byte("zm"), Type: Hash, Entries: entries("a", "xy", "bbb", ""), DB: 3, ExpireAt: time.UnixMilli(1700000000123)},
		{Key: []byte("z3"), Type: ZSet, Members: bs("a", "b", "c", "d"), DB: 3},
		{Key: []byte("z5"), Type: ZSet, Members: bs("x", "y"), ExpireAt: time.Unix(1700000000, 0)},
		{Key: []byte("h4"), Type: Hash, Entries: entries("f1", "7", "f2", "v2")},
		{Key: []byte("s"), Type: String, Value: []byte("v")},
	}
	if len(recs) != len(want) {
		t.Fatalf("got %d records, want %d", len(recs), len(want))
	}
	for i := range want {
		if !sameContents(recs[i], want[i]) || recs[i].DB != want[i].DB || !recs[i].ExpireAt.Equal(want[i].ExpireAt) {
			t.Errorf("record %d: got %+v\nwant %+v", i, recs[i], want[i])
		}
	}
}

func TestUnsupported(t *testing.T) {
	cases := []struct {
		name string
		img  []byte
		off  int64
		msg  string
	}{
		{"bad magic", []byte("REDIX0006\xff"), 0, "bad magic"},
		{"version 13", rdbImage(13), 5, "unsupported RDB version 13"},
		{"version 0", rdbImage(0), 5, "unsupported RDB version 0"},
		{"version not a number", []byte("REDIS00a6\xff"), 7, "not a number"},
		{"stream", rdbImage(10, []byte{opSelectDB, 0, typeStream2}, rstr("s")), 11, "stream values (type 19)"},
		{"module pre-GA", rdbImage(10, []byte{typeModulePreGA}), 9, "module"},
		{"hash field expiry", rdbImage(12, []byte{typeHashListpackEx}), 9, "field expiry (type 25)"},
		{"unknown type", rdbImage(10, []byte{8}), 9, "unknown value type 8"},
		{"unknown type 30", rdbImage(10, []byte{30}), 9, "unknown value type 30"},
		{"function pre-GA", rdbImage(10, []byte{opFunctionPreGA}), 9, "0xF6"},
		{"bad length byte", rdbImage(10, []byte{typeString, 0x82}), 10, "invalid length encoding byte 0x82"},
		{"bad string encoding", rdbImage(10, []byte{typeString, 0xc4}), 10, "unknown string encoding byte 0xc4"},
		{"encoded count", rdbImage(10, []byte{typeHash}, rstr("h"), []byte{0xc0}), 12, "expected a length"},
		{"quicklist container", rdbImage(10, []byte{typeListQuicklist2}, rstr("l"), []byte{1, 3}), 13, "container 3"},
		{"module opcode", rdbImage(10, []byte{typeModule2}, rstr("m"), []byte{1, 9}), 13, "module data opcode 9"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Read(bytes.NewReader(c.img), func(Record) error { return nil })
			var pe *ParseError
			if !errors.As(err, &pe) || !errors.Is(err, backend.ErrRdbParse) {
				t.Fatalf("err = %v, want a ParseError", err)
			}
			if pe.Offset != c.off || !strings.Contains(pe.Msg, c.msg) {
				t.Fatalf("err = %v, want offset %d and %q", err, c.off, c.msg)
			}
		})
	}
}

func TestChecksum(t *testing.T) {
	img := rdbImage(9, []byte{typeString}, rstr("k"), rstr("v"))
	if len(readImage(t, img)) != 1 {
		t.Fatal("valid image")
	}
	bad := slices.Clone(img)
	bad[len(bad)-1] ^= 0x40
	err := Read(bytes.NewReader(bad), func(Record) error { return nil })
	var pe *ParseError
	if !errors.As(err, &pe) || !strings.Contains(pe.Msg, "checksum mismatch") || pe.Offset != int64(len(img)-8) {
		t.Fatalf("err = %v", err)
	}
	// Zero means "not computed".
	zero := slices.Clone(img)
	clear(zero[len(zero)-8:])
	readImage(t, zero)
	// Before version 5 there is no checksum at all.
	readImage(t, rdbImage(4, []byte{typeString}, rstr("k"), rstr("v")))
	// A callback error stops the read and comes back unchanged.
	stop := errors.New("stop")
	if err := Read(bytes.NewReader(img), func(Record) error { return stop }); err != stop {
		t.Fatalf("err = %v", err)
	}
}

func TestHashDuplicateFieldsLastWins(t *testing.T) {
	img := rdbImage(9, []byte{typeHash}, rstr("h"), []byte{3}, rstr("f"), rstr("1"), rstr("g"), rstr("x"), rstr("f"), rstr("2"))
	r := readImage(t, img)[0]
	if !slices.EqualFunc(r.Entries, entries("f", "2", "g", "x"), entryEqual) || len(r.FileEntries) != 3 {
		t.Fatalf("entries %q / %q", r.Entries, r.FileEntries)
	}
}
