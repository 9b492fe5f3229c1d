package rdb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/sdpkit/sdpkit/telstate/backend"
)

// opaque hides the size of a reader, forcing the chunked path.
type opaque struct{ r io.Reader }

func (o opaque) Read(p []byte) (int, error) { return o.r.Read(p) }

// readers returns the input as each kind of reader Read treats differently.
func readers(data []byte) map[string]func() io.Reader {
	return map[string]func() io.Reader{
		"sized":    func() io.Reader { return bytes.NewReader(data) },
		"unsized":  func() io.Reader { return opaque{bytes.NewReader(data)} },
		"one-byte": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(data)) },
	}
}

// checkParseError asserts err is a well-formed ParseError inside the input.
func checkParseError(t *testing.T, err error, size int) {
	t.Helper()
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v (%T), want *ParseError", err, err)
	}
	if !errors.Is(err, backend.ErrRdbParse) {
		t.Fatalf("errors.Is(%v, ErrRdbParse) is false", err)
	}
	if pe.Offset < 0 || pe.Offset > int64(size) {
		t.Fatalf("offset %d outside the %d-byte input: %v", pe.Offset, size, err)
	}
}

func TestTruncationAtEveryOffset(t *testing.T) {
	for _, name := range []string{"telstate-writer-tiny.rdb", "redis-server-save.rdb"} {
		data := readVector(t, name)
		for cut := 0; cut < len(data); cut++ {
			// Every offset of the tiny file; for the larger one every
			// offset near the ends and a sample in between, to keep the
			// test quick under -race.
			if len(data) > 1024 && cut > 512 && cut < len(data)-512 && cut%7 != 0 {
				continue
			}
			for kind, r := range readers(data[:cut]) {
				if kind == "one-byte" && len(data) > 1024 {
					continue
				}
				err := Read(r(), func(Record) error { return nil })
				if err == nil {
					t.Fatalf("%s cut at %d (%s): no error", name, cut, kind)
				}
				checkParseError(t, err, cut)
				var pe *ParseError
				errors.As(err, &pe)
				if pe.Msg == errTruncated && pe.Offset != int64(cut) {
					t.Fatalf("%s cut at %d (%s): truncation reported at %d", name, cut, kind, pe.Offset)
				}
			}
		}
	}
}

func TestSingleByteMutations(t *testing.T) {
	tiny := readVector(t, "telstate-writer-tiny.rdb")
	summed := rewrite(t, readAll(t, tiny)) // same file with a real CRC-64
	for _, data := range [][]byte{tiny, summed} {
		withCRC := !bytes.Equal(data, tiny)
		for i := range data {
			for _, v := range []byte{data[i] ^ 0xff, data[i] + 1, data[i] - 1, 0, 0xff, 0xc3, 0x80, 0x40, 0xfe} {
				if v == data[i] {
					continue
				}
				m := slices.Clone(data)
				m[i] = v
				err := Read(bytes.NewReader(m), func(Record) error { return nil })
				if err != nil {
					checkParseError(t, err, len(m))
					continue
				}
				// With a real checksum every change must be caught, except
				// one that makes the version older than checksums (< 5).
				if withCRC {
					if ver, e := strconv.Atoi(string(m[5:9])); e != nil || ver >= 5 {
						t.Fatalf("byte %d set to %#x: no error", i, v)
					}
				}
			}
		}
	}
}

// TestHostileLengths checks that huge length claims fail without huge
// allocations, whether or not the input size is known.
func TestHostileLengths(t *testing.T) {
	cases := map[string][]byte{
		"4 GiB string":      cat([]byte("REDIS0009"), []byte{typeString}, rstr("k"), []byte{0x80, 0xff, 0xff, 0xff, 0xff}, []byte("abc")),
		"2^63 string":       cat([]byte("REDIS0009"), []byte{typeString}, rstr("k"), []byte{0x81, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, []byte("abc")),
		"2^64-1 string":     cat([]byte("REDIS0009"), []byte{typeString}, rstr("k"), []byte{0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}),
		"huge LZF output":   cat([]byte("REDIS0009"), []byte{typeString}, rstr("k"), []byte{0xc3, 0x02, 0x80, 0xff, 0xff, 0xff, 0xff, 0x00, 'a'}),
		"huge LZF input":    cat([]byte("REDIS0009"), []byte{typeString}, rstr("k"), []byte{0xc3, 0x80, 0xff, 0xff, 0xff, 0xff, 0x80, 0xff, 0xff, 0xff, 0xff, 0x00}),
		"huge zset count":   cat([]byte("REDIS0009"), []byte{typeZSet}, rstr("k"), []byte{0x81, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, rstr("m")),
		"huge hash count":   cat([]byte("REDIS0009"), []byte{typeHash}, rstr("k"), []byte{0x80, 0xff, 0xff, 0xff, 0xff}, rstr("f")),
		"huge list count":   cat([]byte("REDIS0009"), []byte{typeList}, rstr("k"), []byte{0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, rstr("e")),
		"huge key":          cat([]byte("REDIS0009"), []byte{typeString}, []byte{0x80, 0x7f, 0xff, 0xff, 0xff}),
		"ziplist 2^32 str":  cat([]byte("REDIS0009"), []byte{typeHashZiplist}, rstr("k"), rstr("\x14\x00\x00\x00\x0a\x00\x00\x00\x02\x00\x00\x80\xff\xff\xff\xff\x00\x00\x00\xff")),
		"listpack 2^32 str": cat([]byte("REDIS0009"), []byte{typeHashListpack}, rstr("k"), rstr("\x10\x00\x00\x00\x02\x00\xf0\xff\xff\xff\xff\x00\x00\x00\x00\xff")),
	}
	for name, data := range cases {
		for kind, r := range readers(data) {
			t.Run(name+"/"+kind, func(t *testing.T) {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				err := Read(r(), func(Record) error { return nil })
				runtime.ReadMemStats(&after)
				checkParseError(t, err, len(data))
				if grew := after.TotalAlloc - before.TotalAlloc; grew > 8<<20 {
					t.Fatalf("allocated %d bytes for a %d-byte input", grew, len(data))
				}
			})
		}
	}
}

func TestReaderFailure(t *testing.T) {
	boom := errors.New("disk on fire")
	data := readVector(t, "telstate-writer-tiny.rdb")
	err := Read(io.MultiReader(bytes.NewReader(data[:50]), iotest.ErrReader(boom)), func(Record) error { return nil })
	var pe *ParseError
	if !errors.As(err, &pe) || !errors.Is(err, boom) || !errors.Is(err, backend.ErrRdbParse) || pe.Offset != 50 {
		t.Fatalf("err = %v", err)
	}
	// A reader that never makes progress must not hang Read.
	err = Read(stuck{}, func(Record) error { return nil })
	if !errors.Is(err, io.ErrNoProgress) {
		t.Fatalf("err = %v", err)
	}
}

type stuck struct{}

func (stuck) Read([]byte) (int, error) { return 0, nil }

// TestRoundTrip writes large and binary data and reads it back, through
// every reader kind and through the DUMP path.
// roundTripRecords is large and binary data that exercises every
// encoding choice of the writer.
func roundTripRecords() []Record {
	member := func(i int, size int) []byte {
		m := backend.PackMember(bytes.Repeat([]byte{byte(i)}, size), float64(i)*1.5)
		return m
	}
	var many [][]byte
	for i := range 200 {
		many = append(many, member(200-i, 10+i)) // out of order on purpose
	}
	bigMember := [][]byte{member(1, 100000), member(2, 3), member(3, 300)}
	var hashMany []backend.Entry
	for i := range 1000 {
		hashMany = append(hashMany, backend.Entry{SubKey: []byte("\xff\xcd" + strconv.Itoa(i)), Value: []byte(strings.Repeat("v", i%70))})
	}
	hashBig := []backend.Entry{
		{SubKey: bytes.Repeat([]byte{0xab}, 1<<20), Value: []byte("\xff\x01")},
		{SubKey: []byte("\xff\xa1a"), Value: bytes.Repeat([]byte("z"), 70000)},
		{SubKey: []byte("\xff\x07"), Value: nil},
	}
	var hash256, hash257 []backend.Entry
	for i := range 257 {
		e := backend.Entry{SubKey: []byte{0xff, byte(i), byte(i >> 8)}, Value: []byte{byte(i)}}
		if i < 256 {
			hash256 = append(hash256, e)
		}
		hash257 = append(hash257, e)
	}
	zset63, zset64 := many[:63], many[:64]
	binKey := []byte("\x00\xff\r\n bin\x80key")
	longKey := bytes.Repeat([]byte("k"), 20000)

	return []Record{
		{Key: []byte("empty-string"), Type: String, Value: []byte{}},
		{Key: binKey, Type: String, Value: []byte("\x00\x01\x02")},
		{Key: longKey, Type: String, Value: bytes.Repeat([]byte{0}, 100000)},
		{Key: []byte("zset200"), Type: ZSet, Members: many},
		{Key: []byte("zset63"), Type: ZSet, Members: zset63},
		{Key: []byte("zset64"), Type: ZSet, Members: zset64},
		{Key: []byte("zset-big-member"), Type: ZSet, Members: bigMember},
		{Key: []byte("zset-dups"), Type: ZSet, Members: [][]byte{[]byte("b"), []byte("a"), []byte("b")}},
		{Key: []byte("hash1000"), Type: Hash, FileEntries: hashMany},
		{Key: []byte("hash-1MB-field"), Type: Hash, FileEntries: hashBig},
		{Key: []byte("hash256"), Type: Hash, FileEntries: hash256},
		{Key: []byte("hash257"), Type: Hash, FileEntries: hash257},
		{Key: append([]byte("\xff"), binKey...), Type: Hash, FileEntries: entries("\x00", "\xff")},
	}
}

func TestRoundTrip(t *testing.T) {
	want := roundTripRecords()
	wantTypes := []byte{typeString, typeString, typeString, typeZSet, typeZSetZiplist, typeZSet, typeZSetZiplist,
		typeZSetZiplist, typeHash, typeHashZiplist, typeHashZiplist, typeHash, typeHashZiplist}

	// Writer, and the DUMP encoders through WriteDump: same bytes.
	var direct, viaDump bytes.Buffer
	w, wd := NewWriter(&direct), NewWriter(&viaDump)
	for _, r := range want {
		var err error
		var dump []byte
		switch r.Type {
		case String:
			err = w.WriteString(r.Key, r.Value)
			dump, _ = DumpString(r.Value)
		case ZSet:
			err = w.WriteZSet(r.Key, r.Members)
			dump, _ = DumpZSet(r.Members)
		case Hash:
			err = w.WriteHash(r.Key, r.FileEntries)
			dump, _ = DumpHash(r.FileEntries)
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckDump(dump); err != nil {
			t.Fatal(err)
		}
		if err := wd.WriteDump(r.Key, dump); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := wd.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(direct.Bytes(), viaDump.Bytes()) {
		t.Fatalf("Writer and WriteDump(Dump*) differ at %d", firstDiff(direct.Bytes(), viaDump.Bytes()))
	}

	for kind, r := range readers(direct.Bytes()) {
		t.Run(kind, func(t *testing.T) {
			var got []Record
			err := Read(r(), func(rec Record) error { got = append(got, rec); return nil })
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("read %d records, want %d", len(got), len(want))
			}
			for i, w := range want {
				w.Members = sortMembers(w.Members)
				w.Entries = sortEntries(w.FileEntries)
				if !sameContents(got[i], w) || !slices.EqualFunc(got[i].FileEntries, w.FileEntries, entryEqual) {
					t.Errorf("record %q differs", trunc(w.Key))
				}
			}
		})
	}
	// The encodings chosen follow katsdptelstate's thresholds.
	got := recordTypes(t, direct.Bytes())
	if !bytes.Equal(got, wantTypes) {
		t.Fatalf("value types %v, want %v", got, wantTypes)
	}
}

func trunc(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}

// recordTypes lists the value-type byte of each record of a file written
// by Writer (no opcodes besides the header's SELECTDB).
func recordTypes(t *testing.T, data []byte) []byte {
	t.Helper()
	var types []byte
	d := &decoder{in: newInput(bytes.NewReader(data))}
	if _, err := d.in.readFull(uint64(len(Header)), "header"); err != nil {
		t.Fatal(err)
	}
	for {
		b, err := d.in.readByte()
		if err != nil {
			t.Fatal(err)
		}
		if b == opEOF {
			return types
		}
		types = append(types, b)
		var rec Record
		if _, err := d.readString("key"); err != nil {
			t.Fatal(err)
		}
		if _, err := d.readValue(b, &rec); err != nil {
			t.Fatal(err)
		}
	}
}

func TestWriterErrors(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	if err := w.WriteHash([]byte("h"), entries("a", "1", "a", "2")); err == nil {
		t.Fatal("duplicate field accepted")
	}
	if _, err := DumpHash(entries("a", "1", "a", "2")); err == nil {
		t.Fatal("duplicate field accepted by DumpHash")
	}
	if err := w.WriteDump([]byte("k"), []byte{0, 1, 2}); err == nil {
		t.Fatal("short DUMP accepted")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteString([]byte("k"), []byte("v")); err == nil {
		t.Fatal("write after Close accepted")
	}
	if got := buf.String(); got != Header+"\xff"+string(binary.LittleEndian.AppendUint64(nil, CRC64([]byte(Header+"\xff")))) {
		t.Fatalf("empty file = %q", got)
	}
	// A failing underlying writer surfaces at Close at the latest, and sticks.
	fw := NewWriter(failWriter{})
	_ = fw.WriteString([]byte("k"), bytes.Repeat([]byte("x"), 1<<17))
	if err := fw.Close(); err == nil {
		t.Fatal("Close on a failing writer succeeded")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("no space") }
