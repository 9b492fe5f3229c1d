package rdb

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sdpkit/sdpkit/internal/vectors"
	"github.com/sdpkit/sdpkit/telstate/backend"
)

var vectorFiles = []string{
	"telstate-writer-tiny",
	"telstate-writer-memory",
	"redis-server-save",
	"telstate-writer-from-redis7",
}

type manifest struct {
	NKeys int `json:"n_keys"`
	Keys  []struct {
		Key        string `json:"key"`
		KeyType    string `json:"key_type"`
		EncodedHex string `json:"encoded_hex"`
		Values     []struct {
			TSHex      string `json:"ts_hex"`
			EncodedHex string `json:"encoded_hex"`
		} `json:"values"`
		Entries []struct {
			SubKeyEncodedHex string `json:"sub_key_encoded_hex"`
			EncodedHex       string `json:"encoded_hex"`
		} `json:"entries"`
	} `json:"keys"`
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readVector(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(vectors.Path(t, "telstate", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// readAll reads every record of an RDB image.
func readAll(t testing.TB, data []byte) []Record {
	t.Helper()
	var recs []Record
	if err := Read(bytes.NewReader(data), func(r Record) error { recs = append(recs, r); return nil }); err != nil {
		t.Fatal(err)
	}
	return recs
}

// wantRecords turns a manifest into the records Read should produce.
func wantRecords(t *testing.T, name string) map[string]Record {
	t.Helper()
	var m manifest
	if err := json.Unmarshal(readVector(t, name+".manifest.json"), &m); err != nil {
		t.Fatal(err)
	}
	if m.NKeys != len(m.Keys) {
		t.Fatalf("manifest n_keys %d but %d keys", m.NKeys, len(m.Keys))
	}
	want := map[string]Record{}
	for _, k := range m.Keys {
		r := Record{Key: []byte(k.Key)}
		switch k.KeyType {
		case "IMMUTABLE":
			r.Type, r.Value = String, unhex(t, k.EncodedHex)
		case "MUTABLE":
			r.Type = ZSet
			for _, v := range k.Values {
				r.Members = append(r.Members, unhex(t, v.TSHex+v.EncodedHex))
			}
		case "INDEXED":
			r.Type = Hash
			for _, e := range k.Entries {
				r.Entries = append(r.Entries, backend.Entry{SubKey: unhex(t, e.SubKeyEncodedHex), Value: unhex(t, e.EncodedHex)})
			}
		default:
			t.Fatalf("unknown key_type %q", k.KeyType)
		}
		want[k.Key] = r
	}
	return want
}

// sameContents compares the telstate-visible parts of two records.
func sameContents(a, b Record) bool {
	return bytes.Equal(a.Key, b.Key) && a.Type == b.Type && bytes.Equal(a.Value, b.Value) &&
		slices.EqualFunc(a.Members, b.Members, bytes.Equal) &&
		slices.EqualFunc(a.Entries, b.Entries, func(x, y backend.Entry) bool {
			return bytes.Equal(x.SubKey, y.SubKey) && bytes.Equal(x.Value, y.Value)
		})
}

func TestVectorsMatchManifest(t *testing.T) {
	for _, name := range vectorFiles {
		t.Run(name, func(t *testing.T) {
			want := wantRecords(t, name)
			got := readAll(t, readVector(t, name+".rdb"))
			if len(got) != len(want) {
				t.Errorf("read %d keys, manifest has %d", len(got), len(want))
			}
			for _, r := range got {
				w, ok := want[string(r.Key)]
				if !ok {
					t.Errorf("unexpected key %q", r.Key)
					continue
				}
				if !sameContents(r, w) {
					t.Errorf("key %q (%v): contents differ from manifest", r.Key, r.Type)
				}
				if r.DB != 0 || !r.ExpireAt.IsZero() {
					t.Errorf("key %q: DB %d expiry %v", r.Key, r.DB, r.ExpireAt)
				}
				delete(want, string(r.Key))
			}
			for k := range want {
				t.Errorf("key %q missing", k)
			}
		})
	}
}

// memLoader is a backend.Loader that remembers what it was given.
type memLoader struct {
	recs map[string]Record
	fail error
}

func (m *memLoader) LoadString(_ context.Context, key, value []byte) error {
	m.recs[string(key)] = Record{Key: key, Type: String, Value: value}
	return m.fail
}

func (m *memLoader) LoadZSet(_ context.Context, key []byte, members [][]byte) error {
	m.recs[string(key)] = Record{Key: key, Type: ZSet, Members: members}
	return m.fail
}

func (m *memLoader) LoadHash(_ context.Context, key []byte, entries []backend.Entry) error {
	m.recs[string(key)] = Record{Key: key, Type: Hash, Entries: entries}
	return m.fail
}

func TestLoadFile(t *testing.T) {
	ctx := context.Background()
	for _, name := range vectorFiles {
		t.Run(name, func(t *testing.T) {
			want := wantRecords(t, name)
			dst := &memLoader{recs: map[string]Record{}}
			n, err := LoadFile(ctx, vectors.Path(t, "telstate", name+".rdb"), dst)
			if err != nil {
				t.Fatal(err)
			}
			if n != len(want) || len(dst.recs) != len(want) {
				t.Fatalf("loaded %d (%d distinct), want %d", n, len(dst.recs), len(want))
			}
			for k, w := range want {
				if !sameContents(dst.recs[k], w) {
					t.Errorf("key %q differs", k)
				}
			}
		})
	}

	t.Run("loader error passes through", func(t *testing.T) {
		boom := errors.New("boom")
		dst := &memLoader{recs: map[string]Record{}, fail: boom}
		n, err := Load(ctx, bytes.NewReader(readVector(t, "telstate-writer-tiny.rdb")), dst)
		if !errors.Is(err, boom) || errors.Is(err, backend.ErrRdbParse) || n != 0 {
			t.Fatalf("n=%d err=%v", n, err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := Load(cctx, bytes.NewReader(readVector(t, "telstate-writer-tiny.rdb")), &memLoader{recs: map[string]Record{}})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		_, err := LoadFile(ctx, filepath.Join(t.TempDir(), "nope.rdb"), &memLoader{recs: map[string]Record{}})
		if !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("bad file names path", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "bad.rdb")
		if err := os.WriteFile(p, []byte("REDIS0006\xfe"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadFile(ctx, p, &memLoader{recs: map[string]Record{}})
		var pe *ParseError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), p) || pe.Offset != 10 {
			t.Fatalf("err = %v", err)
		}
	})
}

// rewrite writes recs again with a Writer, the way katsdptelstate's
// RDBWriter would write the same MemoryBackend contents.
func rewrite(t testing.TB, recs []Record, opts ...Option) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf, opts...)
	for _, r := range recs {
		var err error
		switch r.Type {
		case String:
			err = w.WriteString(r.Key, r.Value)
		case ZSet:
			err = w.WriteZSet(r.Key, r.Members)
		case Hash:
			err = w.WriteHash(r.Key, r.FileEntries)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if w.KeysWritten() != len(recs) {
		t.Fatalf("KeysWritten = %d, want %d", w.KeysWritten(), len(recs))
	}
	return buf.Bytes()
}

// TestWriterByteIdentity rewrites the two files Python wrote from a
// MemoryBackend and expects the same bytes.
func TestWriterByteIdentity(t *testing.T) {
	for _, name := range []string{"telstate-writer-tiny", "telstate-writer-memory"} {
		t.Run(name, func(t *testing.T) {
			orig := readVector(t, name+".rdb")
			recs := readAll(t, orig)
			if got := rewrite(t, recs, ZeroChecksum()); !bytes.Equal(got, orig) {
				t.Fatalf("ZeroChecksum output differs from Python's (%d vs %d bytes, first difference at %d)", len(got), len(orig), firstDiff(got, orig))
			}
			got := rewrite(t, recs)
			n := len(orig) - 8
			if !bytes.Equal(got[:n], orig[:n]) || len(got) != len(orig) {
				t.Fatalf("output differs before the checksum")
			}
			if sum := binary.LittleEndian.Uint64(got[n:]); sum != CRC64(got[:n]) || sum == 0 {
				t.Fatalf("checksum %016x, want %016x", sum, CRC64(got[:n]))
			}
			if again := readAll(t, got); len(again) != len(recs) {
				t.Fatalf("re-read %d records", len(again))
			}
		})
	}
}

// TestWriteDumpIdentity rebuilds the memory vector through the DUMP path,
// as Python's RDBWriter does: MemoryBackend.dump then WriteDump.
func TestWriteDumpIdentity(t *testing.T) {
	orig := readVector(t, "telstate-writer-memory.rdb")
	var buf bytes.Buffer
	w := NewWriter(&buf, ZeroChecksum())
	for _, r := range readAll(t, orig) {
		var dump []byte
		var err error
		switch r.Type {
		case String:
			dump, err = DumpString(r.Value, ZeroChecksum())
		case ZSet:
			dump, err = DumpZSet(r.Members, ZeroChecksum())
		case Hash:
			dump, err = DumpHash(r.FileEntries, ZeroChecksum())
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WriteDump(r.Key, dump); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), orig) {
		t.Fatalf("differs at byte %d", firstDiff(buf.Bytes(), orig))
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// layoutDumps returns the "DUMP (redis, hex)" and "MemoryBackend.dump"
// lines of redis-layout.txt by key.
func layoutDumps(t *testing.T) (redisDump, memDump map[string][]byte) {
	redisDump, memDump = map[string][]byte{}, map[string][]byte{}
	key := ""
	for line := range strings.Lines(string(readVector(t, "redis-layout.txt"))) {
		line = strings.TrimSpace(line)
		if k, ok := strings.CutPrefix(line, "=== state of key '"); ok {
			key, _, _ = strings.Cut(k, "'")
		}
		if v, ok := strings.CutPrefix(line, "DUMP (redis, hex)"); ok {
			redisDump[key] = unhex(t, strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":")))
		}
		if v, ok := strings.CutPrefix(line, "MemoryBackend.dump (katsdptelstate)"); ok {
			memDump[key] = unhex(t, strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":")))
		}
	}
	return redisDump, memDump
}

func TestDumpMatchesLayout(t *testing.T) {
	redisDump, memDump := layoutDumps(t)
	h := func(s string) []byte { return unhex(t, s) }
	cases := map[string]func(...Option) ([]byte, error){
		"demo_attr":  func(o ...Option) ([]byte, error) { return DumpString(h("ffcd1000"), o...) },
		"demo_tuple": func(o ...Option) ([]byte, error) { return DumpString(h("ffc70c0192a161cb3ff8000000000000"), o...) },
		"demo_sensor": func(o ...Option) ([]byte, error) {
			return DumpZSet([][]byte{ // deliberately unsorted
				h("41d954fc42a00000ffa47363616e"), h("0000000000000000ff2a"),
				h("41d954fc40000000ffa5747261636b"), h("41d954fc40000000ffa4736c6577"),
			}, o...)
		},
		"demo_indexed": func(o ...Option) ([]byte, error) {
			return DumpHash([]backend.Entry{ // insertion order, as the MemoryBackend keeps it
				{SubKey: h("ffa161"), Value: h("ff01")},
				{SubKey: h("ffd6019201a178"), Value: h("ff91cb3ff8000000000000")},
				{SubKey: h("ff07"), Value: h("ffa5736576656e")},
			}, o...)
		},
	}
	for key, dump := range cases {
		t.Run(key, func(t *testing.T) {
			got, err := dump(ZeroChecksum())
			if err != nil {
				t.Fatal(err)
			}
			if want := memDump[key]; !bytes.Equal(got, want) {
				t.Fatalf("got  %x\nwant %x", got, want)
			}
			withSum, err := dump()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(withSum[:len(withSum)-8], got[:len(got)-8]) {
				t.Fatal("checksum option changed the payload")
			}
			if err := CheckDump(withSum); err != nil {
				t.Fatal(err)
			}
			// Redis's own DUMP (RDB 10, real CRC) must verify with our CRC.
			if err := CheckDump(redisDump[key]); err != nil {
				t.Fatalf("redis DUMP: %v", err)
			}
			bad := slices.Clone(redisDump[key])
			bad[1] ^= 1
			if CheckDump(bad) == nil {
				t.Fatal("corrupted redis DUMP passed CheckDump")
			}
		})
	}
}
