package memory_test

import (
	"bytes"
	"context"
	"errors"
	"math"
	"sync"
	"testing"

	"github.com/sdpkit/sdpkit/telstate/backend"
	"github.com/sdpkit/sdpkit/telstate/memory"
	"github.com/sdpkit/sdpkit/telstate/telstatetest"
)

func TestConformance(t *testing.T) {
	telstatetest.Run(t, func(t *testing.T) backend.Backend { return memory.New() })
}

// The memory backend stores members exactly as Redis does.
func TestMemberLayout(t *testing.T) {
	ctx := context.Background()
	b := memory.New()
	if err := b.AddMutable(ctx, []byte("s"), []byte("\xff\xa5track"), 1700000000.0); err != nil {
		t.Fatal(err)
	}
	if err := b.AddMutable(ctx, []byte("s"), []byte("\xff*"), math.Copysign(0, -1)); err != nil {
		t.Fatal(err)
	}
	ss, err := b.GetRange(ctx, []byte("s"), 0, math.Inf(1), false, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 2 || ss[0].Timestamp != 0 || math.Signbit(ss[0].Timestamp) || ss[1].Timestamp != 1700000000.0 {
		t.Fatalf("samples %+v", ss)
	}
	if err := b.AddMutable(ctx, []byte("s"), []byte("\xff\x01"), -1); !errors.Is(err, backend.ErrInvalidTimestamp) {
		t.Fatalf("negative timestamp: %v", err)
	}
	if _, err := b.GetRange(ctx, []byte("s"), math.NaN(), 1, false, false); !errors.Is(err, backend.ErrInvalidTimestamp) {
		t.Fatalf("NaN query: %v", err)
	}
}

// Loading sorts and de-duplicates members, and keeps even members with a
// negative timestamp bit pattern in byte order, as Redis would.
func TestLoader(t *testing.T) {
	ctx := context.Background()
	b := memory.New()
	neg := backend.PackMember([]byte("\xff\x01"), 1)
	neg[0] |= 0x80 // -1.0
	members := [][]byte{
		backend.PackMember([]byte("\xff\x03"), 3), neg, backend.PackMember([]byte("\xff\x01"), 1),
		backend.PackMember([]byte("\xff\x03"), 3),
	}
	if err := b.LoadZSet(ctx, []byte("s"), members); err != nil {
		t.Fatal(err)
	}
	members[0][0] = 0 // the loader copied
	ss, err := b.GetRange(ctx, []byte("s"), 0, math.Inf(1), false, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 3 || ss[0].Timestamp != 1 || ss[1].Timestamp != 3 || ss[2].Timestamp != -1 {
		t.Fatalf("samples %+v", ss)
	}
	if err := b.LoadHash(ctx, []byte("h"), []backend.Entry{{SubKey: []byte("b"), Value: []byte("1")}, {SubKey: []byte("a"), Value: []byte("2")}, {SubKey: []byte("b"), Value: []byte("3")}}); err != nil {
		t.Fatal(err)
	}
	v, err := b.Get(ctx, []byte("h"))
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Entries) != 2 || string(v.Entries[0].SubKey) != "a" || string(v.Entries[1].Value) != "3" {
		t.Fatalf("entries %q", v.Entries)
	}
	if err := b.LoadString(ctx, []byte("h"), []byte("x")); err != nil {
		t.Fatal(err)
	}
	if kt, _ := b.KeyType(ctx, []byte("h")); kt != backend.Immutable {
		t.Fatalf("LoadString did not replace the hash: %v", kt)
	}
	// Redis has no empty sorted sets or hashes: loading one deletes the key.
	b.LoadZSet(ctx, []byte("s"), nil)
	b.LoadHash(ctx, []byte("h"), nil)
	for _, k := range []string{"s", "h"} {
		if ok, _ := b.Exists(ctx, []byte(k)); ok {
			t.Fatalf("empty load left %s", k)
		}
	}
}

// Monitors see every write, including one made between the first "check
// again" and the next call.
func TestMonitor(t *testing.T) {
	ctx := context.Background()
	b := memory.New()
	m, err := b.Monitor(ctx, [][]byte{[]byte("k")})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if u, err := m.Next(ctx); err != nil || u.Type != backend.KeyNone {
		t.Fatalf("first Next: %+v, %v", u, err)
	}
	b.SetImmutable(ctx, []byte("other"), []byte("x"))
	if u, err := m.Next(ctx); err != nil || u.Type != backend.KeyNone {
		t.Fatalf("Next after a write: %+v, %v", u, err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := m.Next(cctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Next with a cancelled context: %v", err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range 100 {
			b.AddMutable(ctx, []byte("k"), []byte{0xff, byte(i)}, float64(i))
		}
	})
	for {
		if _, err := m.Next(ctx); err != nil {
			t.Fatal(err)
		}
		v, _ := b.Get(ctx, []byte("k"))
		if v.Timestamp == 99 {
			break
		}
	}
	wg.Wait()
}

// Concurrent writers and readers (run with -race).
func TestConcurrency(t *testing.T) {
	ctx := context.Background()
	b := memory.New()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 500 {
				ts := float64(i*4 + w)
				if err := b.AddMutable(ctx, []byte("s"), []byte{0xff, byte(w)}, ts); err != nil {
					t.Error(err)
					return
				}
				if _, err := b.GetRange(ctx, []byte("s"), ts/2, ts, true, true); err != nil {
					t.Error(err)
					return
				}
				b.Keys(ctx, []byte("*"))
			}
		})
	}
	wg.Wait()
	ss, err := b.GetRange(ctx, []byte("s"), 0, math.Inf(1), false, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 2000 {
		t.Fatalf("%d samples", len(ss))
	}
	for i := 1; i < len(ss); i++ {
		if ss[i-1].Timestamp >= ss[i].Timestamp {
			t.Fatalf("unsorted at %d", i)
		}
	}
}

// The returned slices alias the store only until the next call, but
// writers never modify stored bytes in place.
func TestValuesAreCopiedOnWrite(t *testing.T) {
	ctx := context.Background()
	b := memory.New()
	v := []byte("\xff\x01")
	b.SetImmutable(ctx, []byte("a"), v)
	b.SetIndexed(ctx, []byte("i"), []byte("\xff\x01"), v)
	b.AddMutable(ctx, []byte("s"), v, 1)
	v[1] = 2
	for _, k := range []string{"a", "s"} {
		got, _ := b.Get(ctx, []byte(k))
		if !bytes.Equal(got.Value, []byte("\xff\x01")) {
			t.Fatalf("%s: caller's buffer aliased: %x", k, got.Value)
		}
	}
	got, _, _ := b.GetIndexed(ctx, []byte("i"), []byte("\xff\x01"))
	if !bytes.Equal(got, []byte("\xff\x01")) {
		t.Fatalf("indexed: caller's buffer aliased: %x", got)
	}
}

// Values returned by GetRange stay intact while the sensor keeps growing
// and rejecting duplicates (the buffer is append-only).
func TestReturnedSlicesSurviveWrites(t *testing.T) {
	ctx := context.Background()
	b := memory.New()
	key := []byte("s")
	for i := range 10 {
		b.AddMutable(ctx, key, []byte{0xff, byte(i)}, float64(i))
	}
	ss, _ := b.GetRange(ctx, key, 0, math.Inf(1), false, false)
	for i := range 1000 {
		b.AddMutable(ctx, key, []byte{0xff, byte(i % 10)}, float64(i%10))    // duplicates
		b.AddMutable(ctx, key, []byte{0xff, 0xee, byte(i)}, float64(1000-i)) // out of order
	}
	for i, s := range ss {
		if s.Timestamp != float64(i) || !bytes.Equal(s.Value, []byte{0xff, byte(i)}) {
			t.Fatalf("sample %d changed to %+v", i, s)
		}
		if cap(s.Value) != len(s.Value) {
			t.Fatalf("sample %d value has spare capacity into the buffer", i)
		}
	}
	all, _ := b.GetRange(ctx, key, 0, math.Inf(1), false, false)
	if len(all) != 10+1000 {
		t.Fatalf("%d samples", len(all))
	}
}
