package redis

import (
	"context"
	"fmt"
	"testing"

	"github.com/sdpkit/sdpkit/internal/testenv"
	"github.com/sdpkit/sdpkit/telstate/backend"
)

// The benchmarks use one client against a private redis-server on
// loopback, so they measure round trips (spec §12: Python's Redis backend
// needs 17-18 µs per add/get and 72 µs for get_range of 100 samples).

func benchBackend(b *testing.B) *Backend {
	b.Helper()
	s := testenv.Redis(b)
	return openTest(b, s)
}

var benchValue = []byte("\xff\xcb\x40\x09\x21\xfb\x54\x44\x2d\x18") // 3.141592653589793

func BenchmarkAddMutable(b *testing.B) {
	be := benchBackend(b)
	ctx := context.Background()
	key := []byte("sensor")
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := be.AddMutable(ctx, key, benchValue, 1.7e9+float64(i)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkAddMutablesBatch(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			be := benchBackend(b)
			ctx := context.Background()
			key := []byte("sensor")
			samples := make([]backend.Sample, n)
			b.ReportAllocs()
			t := 0
			for b.Loop() {
				for j := range samples {
					samples[j] = backend.Sample{Value: benchValue, Timestamp: 1.7e9 + float64(t)}
					t++
				}
				if err := be.AddMutables(ctx, key, samples); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(t), "ns/sample")
		})
	}
}

func BenchmarkGet(b *testing.B) {
	be := benchBackend(b)
	ctx := context.Background()
	key := []byte("sensor")
	if err := be.AddMutable(ctx, key, benchValue, 1.7e9); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := be.Get(ctx, key); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetRange(b *testing.B) {
	for _, n := range []int{100, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			be := benchBackend(b)
			ctx := context.Background()
			key := []byte("sensor")
			samples := make([]backend.Sample, n)
			for j := range samples {
				samples[j] = backend.Sample{Value: benchValue, Timestamp: float64(j)}
			}
			if err := be.AddMutables(ctx, key, samples); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				ss, err := be.GetRange(ctx, key, 0, float64(n), false, false)
				if err != nil || len(ss) != n {
					b.Fatal(len(ss), err)
				}
			}
		})
	}
}

func BenchmarkSetIndexed(b *testing.B) {
	be := benchBackend(b)
	ctx := context.Background()
	key := []byte("indexed")
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := be.SetIndexed(ctx, key, fmt.Appendf(nil, "\xff\xa8k%07d", i), benchValue); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkGetIndexed(b *testing.B) {
	be := benchBackend(b)
	ctx := context.Background()
	key, sub := []byte("indexed"), []byte("\xff\xa1a")
	if _, err := be.SetIndexed(ctx, key, sub, benchValue); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok, err := be.GetIndexed(ctx, key, sub); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}
