package memory_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/sdpkit/sdpkit/config/kv"
	"github.com/sdpkit/sdpkit/config/memory"
)

// fill loads n keys "k/%08d" (in a shuffled order, so the index splits
// chunks as it would in use), 128-byte values.
func fill(b *testing.B, s *memory.Store, n int) {
	b.Helper()
	ctx := context.Background()
	val := make([]byte, 128)
	for i := range n {
		j := (i * 7919) % n // a permutation for n not divisible by 7919
		if _, err := s.Txn(ctx, nil, []kv.Op{{Type: kv.OpPut, Key: []byte(fmt.Sprintf("k/%08d", j)), Value: val}}, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGet(b *testing.B) {
	s := memory.New()
	defer s.Close()
	fill(b, s, 100_000)
	ctx := context.Background()
	key := []byte("k/00054321")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if kvp, _, err := s.Get(ctx, key, 0); err != nil || kvp == nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTxnPut(b *testing.B) {
	s := memory.New(memory.WithRetention(1000))
	defer s.Close()
	fill(b, s, 100_000)
	ctx := context.Background()
	ops := []kv.Op{{Type: kv.OpPut, Key: []byte("k/00054321"), Value: make([]byte, 128)}}
	cmps := []kv.Compare{{Key: ops[0].Key, Target: kv.Version, Result: kv.Greater}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if r, err := s.Txn(ctx, cmps, ops, nil); err != nil || !r.Succeeded {
			b.Fatal(err)
		}
	}
}

func BenchmarkRange100Of1e5(b *testing.B) {
	s := memory.New()
	defer s.Close()
	fill(b, s, 100_000)
	ctx := context.Background()
	ops := []kv.Op{{Type: kv.OpRange, Key: []byte("k/000543"), RangeEnd: kv.PrefixEnd([]byte("k/000543"))}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r, err := s.Txn(ctx, nil, ops, nil)
		if err != nil || len(r.Results[0].KVs) != 100 {
			b.Fatal(err, len(r.Results[0].KVs))
		}
	}
}

func BenchmarkRange100Of1e5KeysOnly(b *testing.B) {
	s := memory.New()
	defer s.Close()
	fill(b, s, 100_000)
	ctx := context.Background()
	ops := []kv.Op{{Type: kv.OpRange, Key: []byte("k/000543"), RangeEnd: kv.PrefixEnd([]byte("k/000543")), KeysOnly: true}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r, err := s.Txn(ctx, nil, ops, nil)
		if err != nil || len(r.Results[0].KVs) != 100 {
			b.Fatal(err)
		}
	}
}
