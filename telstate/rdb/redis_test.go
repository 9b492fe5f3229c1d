package rdb

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sdpkit/sdpkit/internal/testenv"
	"github.com/sdpkit/sdpkit/telstate/backend"
)

// These tests check the formats against a real redis-server (Debian's 7.0
// is what the project runs them with).

// writeFile writes recs with a Writer to a temporary file.
func writeFile(t *testing.T, recs []Record, opts ...Option) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "in.rdb")
	if err := os.WriteFile(p, rewriteAll(t, recs, opts...), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// rewriteAll is rewrite for records whose hashes may lack FileEntries.
func rewriteAll(t *testing.T, recs []Record, opts ...Option) []byte {
	t.Helper()
	fixed := slices.Clone(recs)
	for i := range fixed {
		if fixed[i].Type == Hash && fixed[i].FileEntries == nil {
			fixed[i].FileEntries = fixed[i].Entries
		}
	}
	return rewrite(t, fixed, opts...)
}

// fetch reads a key back from the server in Record form (members and
// entries sorted, as Read returns them).
func fetch(t *testing.T, s *testenv.RedisServer, key []byte) Record {
	t.Helper()
	k := string(key)
	r := Record{Key: key}
	switch typ := s.MustDo(t, "TYPE", k); typ {
	case "string":
		r.Type, r.Value = String, s.MustDo(t, "GET", k).([]byte)
	case "zset":
		r.Type = ZSet
		for _, m := range s.MustDo(t, "ZRANGE", k, "0", "-1").([]any) {
			r.Members = append(r.Members, m.([]byte))
		}
	case "hash":
		r.Type = Hash
		flat := s.MustDo(t, "HGETALL", k).([]any)
		for i := 0; i+1 < len(flat); i += 2 {
			r.Entries = append(r.Entries, backend.Entry{SubKey: flat[i].([]byte), Value: flat[i+1].([]byte)})
		}
		r.Entries = sortEntries(r.Entries)
	default:
		t.Fatalf("key %q has type %v", trunc(key), typ)
	}
	return r
}

// normal returns what Read would give for a record we wrote.
func normal(r Record) Record {
	r.Members = sortMembers(r.Members)
	if r.Type == Hash {
		if r.FileEntries != nil {
			r.Entries = sortEntries(r.FileEntries)
		}
		if r.Entries == nil {
			r.Entries = []backend.Entry{}
		}
	}
	if r.Type == String && r.Value == nil {
		r.Value = []byte{}
	}
	return r
}

func sameForRedis(a, b Record) bool {
	a, b = normal(a), normal(b)
	return sameContents(a, b)
}

// TestRedisLoadsWriterOutput starts redis-server on files from our writer
// and reads every key back over RESP.
func TestRedisLoadsWriterOutput(t *testing.T) {
	sets := map[string][]Record{
		"tiny":       readAll(t, readVector(t, "telstate-writer-tiny.rdb")),
		"memory":     readAll(t, readVector(t, "telstate-writer-memory.rdb")),
		"round-trip": roundTripRecords(),
	}
	for name, recs := range sets {
		for _, zero := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/zero-checksum=%v", name, zero), func(t *testing.T) {
				var opts []Option
				if zero {
					opts = append(opts, ZeroChecksum())
				}
				s := testenv.Redis(t, testenv.WithPreloadedRDB(writeFile(t, recs, opts...)))
				if n := s.MustDo(t, "DBSIZE"); n != int64(len(recs)) {
					t.Fatalf("DBSIZE = %v, want %d", n, len(recs))
				}
				for _, r := range recs {
					if got := fetch(t, s, r.Key); !sameForRedis(got, r) {
						t.Errorf("key %q: redis holds different contents", trunc(r.Key))
					}
				}
			})
		}
	}
}

// TestRedisRestoresDumps feeds our DUMP payloads to RESTORE, and copies
// Redis's own DUMP payloads into a file with WriteDump, as
// katsdptelstate's RDBWriter does with a Redis backend.
func TestRedisRestoresDumps(t *testing.T) {
	s := testenv.Redis(t)
	recs := append(readAll(t, readVector(t, "telstate-writer-memory.rdb")), roundTripRecords()...)
	for i, r := range recs {
		var dump []byte
		var err error
		switch r.Type {
		case String:
			dump, err = DumpString(r.Value)
		case ZSet:
			dump, err = DumpZSet(r.Members)
		case Hash:
			dump, err = DumpHash(normal(r).Entries)
		}
		if err != nil {
			t.Fatal(err)
		}
		// Keys are renamed so the two sets cannot collide.
		recs[i].Key = append([]byte(strconv.Itoa(i)+":"), r.Key...)
		s.MustDo(t, "RESTORE", string(recs[i].Key), "0", string(dump))
		if got := fetch(t, s, recs[i].Key); !sameForRedis(got, recs[i]) {
			t.Errorf("RESTORE of %q: different contents", trunc(recs[i].Key))
		}
	}
	// A zero checksum is refused by RESTORE (it is fine in RDB files).
	zero, _ := DumpString([]byte("x"), ZeroChecksum())
	if _, err := s.Do("RESTORE", "zero", "0", string(zero)); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("RESTORE with a zero checksum: %v", err)
	}

	// Redis 7 DUMP payloads (listpacks, type 5) copied into a v6 file.
	var buf bytes.Buffer
	w := NewWriter(&buf)
	for _, r := range recs {
		dump := s.MustDo(t, "DUMP", string(r.Key)).([]byte)
		if err := CheckDump(dump); err != nil {
			t.Fatal(err)
		}
		if err := w.WriteDump(r.Key, dump); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got := readAll(t, buf.Bytes())
	if len(got) != len(recs) {
		t.Fatalf("read %d keys, want %d", len(got), len(recs))
	}
	for i := range recs {
		if !sameForRedis(got[i], recs[i]) {
			t.Errorf("key %q differs after DUMP + WriteDump", trunc(recs[i].Key))
		}
	}
	p := filepath.Join(t.TempDir(), "dumps.rdb")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	s2 := testenv.Redis(t, testenv.WithPreloadedRDB(p))
	if n := s2.MustDo(t, "DBSIZE"); n != int64(len(recs)) {
		t.Fatalf("DBSIZE = %v, want %d", n, len(recs))
	}
}

// TestReadRedisSave writes keys through RESP in every encoding Redis 7
// uses, has the server SAVE, and reads the snapshot.
func TestReadRedisSave(t *testing.T) {
	s := testenv.Redis(t)
	var want []Record
	str := func(k, v string) {
		s.MustDo(t, "SET", k, v)
		want = append(want, Record{Key: []byte(k), Type: String, Value: []byte(v)})
	}
	zset := func(k string, members ...string) {
		args := []string{"ZADD", k}
		for _, m := range members {
			args = append(args, "0", m)
		}
		s.MustDo(t, args...)
		want = append(want, Record{Key: []byte(k), Type: ZSet, Members: bs(members...)})
	}
	hash := func(k string, kv ...string) {
		s.MustDo(t, append([]string{"HSET", k}, kv...)...)
		want = append(want, Record{Key: []byte(k), Type: Hash, FileEntries: entries(kv...)})
	}
	member := func(i int, v string) string { return string(backend.PackMember([]byte("\xff"+v), float64(i))) }

	for _, v := range []string{"0", "-1", "127", "-128", "12345", "-32768", "2147483647", "-2147483648",
		"4294967296", "9223372036854775807", "007", "1e5", " 1", "12345678901"} {
		str("int:"+v, v)
	}
	str("lzf:zeros", strings.Repeat("\x00", 100000))
	str("lzf:text", strings.Repeat("katsdptelstate ", 7000))
	str("short", "\xff\xa3abc")
	str("\x00bin\xffkey\r\n", "\xff\x01")

	var small, many, long []string
	for i := range 5 {
		small = append(small, member(i, "s"+strconv.Itoa(i)))
	}
	for i := range 200 {
		many = append(many, member(i, strings.Repeat("m", i%30)))
	}
	for i := range 3 {
		long = append(long, member(i, strings.Repeat("L", 100+i)))
	}
	zset("zset:listpack", small...)
	zset("zset:skiplist-count", many...)
	zset("zset:skiplist-long", long...)
	zset("zset:int-members", "1", "2", "300", "-5")

	var hsmall, hmany, hlong []string
	for i := range 4 {
		hsmall = append(hsmall, "\xff\xa1"+strconv.Itoa(i), "\xff"+strconv.Itoa(i))
	}
	for i := range 600 {
		hmany = append(hmany, "\xff\xcd"+strconv.Itoa(i), strconv.Itoa(i*7))
	}
	hlong = append(hlong, "f", strings.Repeat("v", 200), "g", strings.Repeat("w", 1000))
	hash("hash:listpack", hsmall...)
	hash("hash:table-count", hmany...)
	hash("hash:table-long", hlong...)
	hash("hash:ints", "1", "2", "-3000", "70000", "9223372036854775807", "x")

	// Types that are skipped.
	s.MustDo(t, "RPUSH", "list", "a", "1", strings.Repeat("b", 100))
	s.MustDo(t, "SADD", "set:ints", "1", "2", "3")
	s.MustDo(t, "SADD", "set:strs", "a", "b")
	// An expiry and a second database.
	s.MustDo(t, "SET", "expiring", "x", "EX", "100000")
	s.MustDo(t, "SET", "db1", "y")
	s.MustDo(t, "MOVE", "db1", "1")

	s.MustDo(t, "SAVE")
	data, err := os.ReadFile(s.RDBPath())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("REDIS00")) {
		t.Fatalf("header %q", data[:9])
	}

	d := &decoder{in: newInput(bytes.NewReader(data)), seen: map[string]int{}}
	got := map[string]Record{}
	if err := d.run(func(r Record) error { got[string(r.Key)] = r; return nil }); err != nil {
		t.Fatal(err)
	}
	for _, w := range want {
		r, ok := got[string(w.Key)]
		if !ok {
			t.Errorf("key %q missing", w.Key)
			continue
		}
		if !sameForRedis(r, w) {
			t.Errorf("key %q: read %+v", w.Key, trunc(r.Value))
		}
		delete(got, string(w.Key))
	}
	if r := got["expiring"]; r.ExpireAt.IsZero() || r.DB != 0 {
		t.Errorf("expiring key: %+v", r)
	}
	if r := got["db1"]; r.DB != 1 || string(r.Value) != "y" {
		t.Errorf("db1 key: %+v", r)
	}
	delete(got, "expiring")
	delete(got, "db1")
	for k := range got {
		t.Errorf("unexpected key %q", k)
	}
	// The snapshot must have exercised every encoding Redis 7 uses for
	// telstate's types, and the skipped ones.
	for _, what := range []string{"type:0", "type:4", "type:5", "type:16", "type:17", "type:11", "type:18",
		"string:lzf", "string:int", "string:raw"} {
		if d.seen[what] == 0 {
			t.Errorf("the snapshot has no %s (saw %v)", what, d.seen)
		}
	}
	t.Logf("encodings in redis-server's snapshot: %v", d.seen)
}
