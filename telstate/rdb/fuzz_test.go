package rdb

import (
	"bytes"
	"testing"
)

// FuzzRead feeds arbitrary bytes to Read. It must never panic; failures
// must be ParseErrors inside the input; sized and unsized readers must
// agree; and whatever it reads must survive a write and re-read.
func FuzzRead(f *testing.F) {
	for _, name := range vectorFiles {
		f.Add(readVector(f, name+".rdb"))
	}
	blob := func(b []byte) []byte { return append(appendLen(nil, len(b)), b...) }
	f.Add(rdbImage(9, []byte{typeString}, []byte{0xc3, 7 + 2, 13, 0x02, 'a', 'b', 'c', 0xe0, 0x00, 0x02, 0x00, '!'}, []byte{0xc1, 1, 2}))
	f.Add(rdbImage(6, []byte{typeHashZiplist}, rstr("h"), blob(ziplist(zlStr("a"), zlRaw(0xc0, 1, 2), zlStr("b"), zlRaw(0xf5)))))
	f.Add(rdbImage(10, []byte{typeZSetListpack}, rstr("z"), blob(listpack(lpStr("m"), []byte{0}, lpStr("n"), []byte{0xf1, 1, 2}))))
	f.Add(rdbImage(10, []byte{typeListQuicklist2}, rstr("l"), []byte{1, 2}, blob(listpack(lpStr("x")))))
	f.Add(rdbImage(3, []byte{typeHashZipmap}, rstr("zm"), blob([]byte{1, 1, 'a', 1, 0, 'b', 0xff})))

	f.Fuzz(func(t *testing.T, data []byte) {
		var recs []Record
		err := Read(bytes.NewReader(data), func(r Record) error { recs = append(recs, r); return nil })
		errUnsized := Read(opaque{bytes.NewReader(data)}, func(Record) error { return nil })
		if (err == nil) != (errUnsized == nil) {
			t.Fatalf("sized reader: %v; unsized reader: %v", err, errUnsized)
		}
		if err != nil {
			checkParseError(t, err, len(data))
			checkParseError(t, errUnsized, len(data))
			return
		}
		var buf bytes.Buffer
		w := NewWriter(&buf)
		for _, r := range recs {
			var err error
			switch r.Type {
			case String:
				err = w.WriteString(r.Key, r.Value)
			case ZSet:
				err = w.WriteZSet(r.Key, r.Members)
			case Hash:
				err = w.WriteHash(r.Key, r.Entries)
			default:
				t.Fatalf("record type %v", r.Type)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		var again []Record
		if err := Read(bytes.NewReader(buf.Bytes()), func(r Record) error { again = append(again, r); return nil }); err != nil {
			t.Fatalf("re-reading our own output: %v", err)
		}
		if len(again) != len(recs) {
			t.Fatalf("re-read %d records, want %d", len(again), len(recs))
		}
		for i, r := range recs {
			r.Members = sortMembers(r.Members)
			if !sameContents(again[i], r) {
				t.Fatalf("record %d (%q) changed in a round trip", i, r.Key)
			}
		}
	})
}
