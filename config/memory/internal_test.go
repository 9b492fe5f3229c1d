package memory

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/sdpkit/sdpkit/config/kv"
)

// TestIndexAgainstSortedSlice drives the chunked index with random inserts
// and removals across many chunk splits and checks order and seeks.
func TestIndexAgainstSortedSlice(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var ix index
	ref := map[string]bool{}
	for i := range 20000 {
		name := fmt.Sprintf("k%05d", rng.IntN(5000))
		if rng.IntN(3) == 0 {
			ix.remove(name)
			delete(ref, name)
		} else if !ref[name] {
			ix.insert(&key{name: name})
			ref[name] = true
		}
		if i%997 != 0 {
			continue
		}
		want := make([]string, 0, len(ref))
		for k := range ref {
			want = append(want, k)
		}
		slices.Sort(want)
		var got []string
		ix.ascend("", "", true, func(k *key) bool { got = append(got, k.name); return true })
		if !slices.Equal(got, want) || ix.n != len(want) {
			t.Fatalf("step %d: index has %d keys (n=%d), want %d", i, len(got), ix.n, len(want))
		}
		from := fmt.Sprintf("k%05d", rng.IntN(5000))
		got = got[:0]
		ix.ascend(from, from+"5", false, func(k *key) bool { got = append(got, k.name); return true })
		var w []string
		for _, k := range want {
			if k >= from && k < from+"5" {
				w = append(w, k)
			}
		}
		if !slices.Equal(got, w) {
			t.Fatalf("step %d: range from %s = %v, want %v", i, from, got, w)
		}
	}
	for _, ch := range ix.chunks {
		if len(ch) == 0 || len(ch) > chunkMax {
			t.Fatalf("chunk of %d keys", len(ch))
		}
	}
}

// TestRetention checks automatic compaction keeps at least the configured
// number of revisions and actually frees history and deleted keys.
func TestRetention(t *testing.T) {
	ctx := context.Background()
	s := New(WithRetention(100))
	defer s.Close()
	for i := range 1000 {
		ops := []kv.Op{{Type: kv.OpPut, Key: []byte("hot"), Value: []byte(fmt.Sprint(i))}}
		if i%10 == 0 {
			ops = append(ops, kv.Op{Type: kv.OpPut, Key: []byte(fmt.Sprintf("tmp/%d", i)), Value: []byte("x")})
		}
		if i%10 == 5 {
			ops = append(ops, kv.Op{Type: kv.OpDelete, Key: []byte(fmt.Sprintf("tmp/%d", i-5))})
		}
		if _, err := s.Txn(ctx, nil, ops, nil); err != nil {
			t.Fatal(err)
		}
	}
	rev := s.Revision()
	if c := s.CompactRevision(); c == 0 || c > rev-100 {
		t.Fatalf("compacted at %d with store at %d, want in (0, %d]", c, rev, rev-100)
	}
	if _, _, err := s.Get(ctx, []byte("hot"), rev-100); err != nil {
		t.Fatalf("read within retention: %v", err)
	}
	if _, _, err := s.Get(ctx, []byte("hot"), 2); err == nil {
		t.Fatal("read far below retention succeeded")
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if n := len(s.keys["hot"].recs); n > 200 {
		t.Fatalf("hot key keeps %d versions", n)
	}
	if len(s.keys) > 25 || s.idx.n != len(s.keys) {
		t.Fatalf("%d keys in the map, %d in the index: deleted keys not dropped", len(s.keys), s.idx.n)
	}
	if len(s.log) > 200 || s.logStart+int64(len(s.log))-1 != s.rev {
		t.Fatalf("log of %d entries from %d (store at %d)", len(s.log), s.logStart, s.rev)
	}
}
