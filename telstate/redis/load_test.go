package redis

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/internal/testenv"
	"github.com/sdpkit/sdpkit/internal/vectors"
	"github.com/sdpkit/sdpkit/telstate/backend"
	"github.com/sdpkit/sdpkit/telstate/rdb"
)

type manifest struct {
	NKeys int `json:"n_keys"`
	Keys  []struct {
		Key        string `json:"key"`
		KeyType    string `json:"key_type"`
		EncodedHex string `json:"encoded_hex"`
		Values     []struct {
			TS         float64 `json:"ts"`
			TSHex      string  `json:"ts_hex"`
			EncodedHex string  `json:"encoded_hex"`
		} `json:"values"`
		Entries []struct {
			SubKeyEncodedHex string `json:"sub_key_encoded_hex"`
			EncodedHex       string `json:"encoded_hex"`
		} `json:"entries"`
	} `json:"keys"`
}

// TestLoadVectors loads the four RDB vector files into Redis through the
// Loader and compares what the Backend then reads with the manifests.
func TestLoadVectors(t *testing.T) {
	pool := newDBPool(t)
	ctx := context.Background()
	for _, name := range []string{"telstate-writer-tiny", "telstate-writer-memory", "redis-server-save", "telstate-writer-from-redis7"} {
		t.Run(name, func(t *testing.T) {
			var m manifest
			data, err := os.ReadFile(vectors.Path(t, "telstate", name+".manifest.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(data, &m); err != nil {
				t.Fatal(err)
			}
			b := pool.backend(t)
			n, err := rdb.LoadFile(ctx, vectors.Path(t, "telstate", name+".rdb"), b)
			if err != nil {
				t.Fatal(err)
			}
			if n != m.NKeys || n != len(m.Keys) {
				t.Fatalf("loaded %d keys, manifest has %d", n, m.NKeys)
			}
			ks, err := b.Keys(ctx, []byte("*"))
			if err != nil || len(ks) != n {
				t.Fatalf("Keys: %d, %v", len(ks), err)
			}
			for _, k := range m.Keys {
				key := []byte(k.Key)
				switch k.KeyType {
				case "IMMUTABLE":
					v, err := b.Get(ctx, key)
					if err != nil || v.Type != backend.Immutable || !bytes.Equal(v.Value, unhex(t, k.EncodedHex)) {
						t.Errorf("%s: %+v, %v", k.Key, v, err)
					}
				case "MUTABLE":
					ss, err := b.GetRange(ctx, key, 0, math.Inf(1), false, false)
					if err != nil || len(ss) != len(k.Values) {
						t.Fatalf("%s: %d samples, %v; want %d", k.Key, len(ss), err, len(k.Values))
					}
					for i, want := range k.Values {
						if ss[i].Timestamp != want.TS || !bytes.Equal(ss[i].Value, unhex(t, want.EncodedHex)) {
							t.Errorf("%s[%d] = %v %x, want %v %s", k.Key, i, ss[i].Timestamp, ss[i].Value, want.TS, want.EncodedHex)
						}
					}
					last := k.Values[len(k.Values)-1]
					v, err := b.Get(ctx, key)
					if err != nil || v.Timestamp != last.TS || !bytes.Equal(v.Value, unhex(t, last.EncodedHex)) {
						t.Errorf("%s latest: %v %x, %v", k.Key, v.Timestamp, v.Value, err)
					}
				case "INDEXED":
					v, err := b.Get(ctx, key)
					if err != nil || len(v.Entries) != len(k.Entries) {
						t.Fatalf("%s: %d entries, %v; want %d", k.Key, len(v.Entries), err, len(k.Entries))
					}
					for i, want := range k.Entries {
						e := v.Entries[i]
						if !bytes.Equal(e.SubKey, unhex(t, want.SubKeyEncodedHex)) || !bytes.Equal(e.Value, unhex(t, want.EncodedHex)) {
							t.Errorf("%s entry %d = %x: %x", k.Key, i, e.SubKey, e.Value)
						}
						got, ok, err := b.GetIndexed(ctx, key, e.SubKey)
						if err != nil || !ok || !bytes.Equal(got, e.Value) {
							t.Errorf("%s GetIndexed %x = %x, %v, %v", k.Key, e.SubKey, got, ok, err)
						}
					}
				default:
					t.Fatalf("key type %q", k.KeyType)
				}
			}
		})
	}
}

// TestLoaderReplaces: Load* replace a key whatever it held, in chunks,
// without publishing; empty contents leave no key.
func TestLoaderReplaces(t *testing.T) {
	s := testenv.Redis(t)
	b := openTest(t, s)
	ctx := context.Background()
	k := []byte("k")
	mon, err := b.Monitor(ctx, [][]byte{k})
	if err != nil {
		t.Fatal(err)
	}
	defer mon.Close()
	wantUpdate(t, next(t, mon), backend.KeyUpdate{})

	if _, err := b.SetIndexed(ctx, k, []byte{0xff, 1}, []byte{0xff, 1}); err != nil {
		t.Fatal(err)
	}
	next(t, mon)
	// 2500 members, and some big ones to cross the byte limit of a chunk.
	var members [][]byte
	for i := range 2500 {
		v := []byte{0xff, 0xc4, 1, byte(i)}
		if i%500 == 0 {
			v = append([]byte{0xff, 0xc6, 0, 0x10, 0, 0}, bytes.Repeat([]byte{byte(i)}, 1<<20)...)
		}
		members = append(members, backend.PackMember(v, float64(i)))
	}
	if err := b.LoadZSet(ctx, k, members); err != nil {
		t.Fatal(err)
	}
	ss, err := b.GetRange(ctx, k, 0, math.Inf(1), false, false)
	if err != nil || len(ss) != 2500 || ss[500].Timestamp != 500 || len(ss[500].Value) != 6+1<<20 {
		t.Fatalf("after LoadZSet: %d samples, %v", len(ss), err)
	}
	var entries []backend.Entry
	for i := range 1200 {
		entries = append(entries, backend.Entry{SubKey: []byte(fmt.Sprint(i)), Value: []byte{0xff, byte(i)}})
	}
	entries = append(entries, backend.Entry{SubKey: []byte("0"), Value: []byte("last")})
	if err := b.LoadHash(ctx, k, entries); err != nil {
		t.Fatal(err)
	}
	v, err := b.Get(ctx, k)
	if err != nil || v.Type != backend.Indexed || len(v.Entries) != 1200 {
		t.Fatalf("after LoadHash: %v %d, %v", v.Type, len(v.Entries), err)
	}
	if got, _, _ := b.GetIndexed(ctx, k, []byte("0")); string(got) != "last" {
		t.Errorf("repeated sub-key kept %q", got)
	}
	if err := b.LoadString(ctx, k, []byte{0xff, 0xc0}); err != nil {
		t.Fatal(err)
	}
	if v, err := b.Get(ctx, k); err != nil || v.Type != backend.Immutable {
		t.Fatalf("after LoadString: %+v, %v", v, err)
	}
	if err := b.LoadZSet(ctx, k, nil); err != nil {
		t.Fatal(err)
	}
	if ok, err := b.Exists(ctx, k); ok || err != nil {
		t.Fatalf("empty LoadZSet left the key: %v, %v", ok, err)
	}
	// None of it was published.
	ctx2, cancel := context.WithTimeout(ctx, 100*1e6)
	defer cancel()
	if u, err := mon.Next(ctx2); err == nil {
		t.Fatalf("loading published %s", fmtUpdate(u))
	}
}

// TestAddMutables: the batch adds publish each new sample once, in
// order, survive a flushed script cache, and refuse a key of another kind.
func TestAddMutables(t *testing.T) {
	s := testenv.Redis(t)
	b := openTest(t, s)
	ctx := context.Background()
	k := []byte("batch")
	mon, err := b.Monitor(ctx, [][]byte{k})
	if err != nil {
		t.Fatal(err)
	}
	defer mon.Close()
	wantUpdate(t, next(t, mon), backend.KeyUpdate{})
	var samples []backend.Sample
	for i := range 2500 {
		samples = append(samples, backend.Sample{Value: []byte(fmt.Sprintf("\xff\xa5%05d", i)), Timestamp: float64(i)})
	}
	if err := b.AddMutables(ctx, k, samples[:10]); err != nil {
		t.Fatal(err)
	}
	s.MustDo(t, "SCRIPT", "FLUSH")
	if err := b.AddMutables(ctx, k, samples); err != nil { // 10 duplicates, then 2490 new
		t.Fatal(err)
	}
	for i := range 2500 {
		u := next(t, mon)
		if u.Type != backend.Mutable || u.Timestamp != float64(i) || !bytes.Equal(u.Value, samples[i].Value) {
			t.Fatalf("update %d: %s", i, fmtUpdate(u))
		}
	}
	ss, err := b.GetRange(ctx, k, 0, math.Inf(1), false, false)
	if err != nil || len(ss) != 2500 {
		t.Fatalf("%d samples, %v", len(ss), err)
	}
	if err := b.AddMutables(ctx, k, []backend.Sample{{Value: []byte{0xff, 1}, Timestamp: math.NaN()}}); !errors.Is(err, backend.ErrInvalidTimestamp) {
		t.Fatalf("NaN: %v", err)
	}
	if _, err := b.SetImmutable(ctx, []byte("attr"), []byte{0xff, 1}); err != nil {
		t.Fatal(err)
	}
	if err := b.AddMutables(ctx, []byte("attr"), samples[:3]); !errors.Is(err, backend.ErrImmutableKey) {
		t.Fatalf("batch add to an attribute: %v", err)
	}
	if err := b.AddMutables(ctx, k, nil); err != nil {
		t.Fatal(err)
	}
}

// TestRetryAfterDroppedConnections: a call whose connection the server
// drops while the command waits (held by CLIENT PAUSE WRITE) succeeds
// through its one retry.
func TestRetryAfterDroppedConnections(t *testing.T) {
	s := testenv.Redis(t)
	b := openTest(t, s)
	ctx := context.Background()
	k := []byte("r")
	interrupted := func(what string, call func() error) {
		t.Helper()
		s.MustDo(t, "CLIENT", "PAUSE", "300", "WRITE")
		done := make(chan error, 1)
		go func() { done <- call() }()
		time.Sleep(100 * time.Millisecond) // the call is now held by the pause
		s.MustDo(t, "CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
		if err := <-done; err != nil {
			t.Fatalf("%s interrupted: %v", what, err)
		}
		s.MustDo(t, "CLIENT", "UNPAUSE")
	}
	interrupted("AddMutable", func() error { return b.AddMutable(ctx, k, []byte{0xff, 1}, 1) })
	interrupted("AddMutables", func() error {
		return b.AddMutables(ctx, k, []backend.Sample{{Value: []byte{0xff, 2}, Timestamp: 2}, {Value: []byte{0xff, 3}, Timestamp: 3}})
	})
	interrupted("SetImmutable", func() error { _, err := b.SetImmutable(ctx, []byte("a"), []byte{0xff, 1}); return err })
	interrupted("LoadHash", func() error {
		return b.LoadHash(ctx, []byte("h"), []backend.Entry{{SubKey: []byte{0xff, 1}, Value: []byte{0xff, 1}}})
	})
	if ss, err := b.GetRange(ctx, k, 0, 10, false, false); err != nil || len(ss) != 3 {
		t.Fatalf("GetRange: %v, %v", ss, err)
	}
	// A context that has ended is reported as such, not retried.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := b.Get(cctx, k); !errors.Is(err, context.Canceled) || errors.Is(err, backend.ErrConnection) {
		t.Fatalf("Get with a cancelled context: %v", err)
	}
	// A server error reply is not a connection error.
	if _, err := b.Get(ctx, []byte(strings.Repeat("x", 10))); !errors.Is(err, backend.ErrKeyNotFound) {
		t.Fatalf("Get missing: %v", err)
	}
	s.MustDo(t, "RPUSH", "list", "a")
	for name, err := range map[string]error{
		"Get":      func() error { _, err := b.Get(ctx, []byte("list")); return err }(),
		"KeyType":  func() error { _, err := b.KeyType(ctx, []byte("list")); return err }(),
		"GetRange": func() error { _, err := b.GetRange(ctx, []byte("list"), 0, 1, true, false); return err }(),
	} {
		if !errors.Is(err, backend.ErrImmutableKey) || !strings.Contains(err.Error(), "list") {
			t.Errorf("%s of a Redis list: %v", name, err)
		}
	}
}
