package memory_test

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/telstate"
	"github.com/sdpkit/sdpkit/telstate/backend"
	"github.com/sdpkit/sdpkit/telstate/memory"
)

// Benchmarks of the memory backend, raw and through TelescopeState (which
// adds the value encoding and decoding). Python's MemoryBackend figures
// (spec §12): add 2.2 µs, get 1.7 µs, get_range of 100 samples 47 µs,
// set_indexed / get_indexed 2 µs.

var ctx = context.Background()

// sensor returns a backend whose key "s" holds n samples at 0, 1, …, n-1
// with float values.
func sensor(b *testing.B, n int) *memory.Backend {
	b.Helper()
	be := memory.New()
	const chunk = 1 << 16
	batch := make([]backend.Sample, 0, chunk)
	for i := 0; i < n; i++ {
		v := []byte{0xff, 0xcb, 0, 0, 0, 0, 0, 0, 0, 0}
		bits := math.Float64bits(float64(i))
		for j := range 8 {
			v[2+j] = byte(bits >> (56 - 8*j))
		}
		batch = append(batch, backend.Sample{Value: v, Timestamp: float64(i)})
		if len(batch) == chunk || i == n-1 {
			if err := be.AddMutables(ctx, []byte("s"), batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	return be
}

func BenchmarkRawAddMutable(b *testing.B) {
	be := memory.New()
	key, val := []byte("sensor"), []byte("\xff\xa5track")
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := be.AddMutable(ctx, key, val, float64(i)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRawGet(b *testing.B) {
	be := sensor(b, 1000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := be.Get(ctx, []byte("s")); err != nil {
			b.Fatal(err)
		}
	}
}

func benchRawGetRange(b *testing.B, n int) {
	be := sensor(b, n)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		st := float64((i * 7919) % (n - 100))
		ss, err := be.GetRange(ctx, []byte("s"), st, st+100, false, false)
		if err != nil || len(ss) != 100 {
			b.Fatal(len(ss), err)
		}
	}
}

func BenchmarkRawGetRange100(b *testing.B) {
	for _, n := range []int{10_000, 1_000_000} {
		b.Run(fmt.Sprintf("of%d", n), func(b *testing.B) { benchRawGetRange(b, n) })
	}
}

func BenchmarkRawSetIndexed(b *testing.B) {
	be := memory.New()
	val := []byte("\xff\xa5ready")
	sks := make([][]byte, 1000)
	for i := range sks {
		sks[i] = []byte(fmt.Sprintf("\xff\xa8sub%05d", i))
	}
	keys := make([][]byte, 1<<12)
	for i := range keys {
		keys[i] = []byte(fmt.Sprintf("idx%d", i))
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := be.SetIndexed(ctx, keys[(i/1000)%len(keys)], sks[i%1000], val); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRawGetIndexed(b *testing.B) {
	be := memory.New()
	for i := range 1000 {
		be.SetIndexed(ctx, []byte("idx"), []byte(fmt.Sprintf("\xff\xa8sub%05d", i)), []byte("\xff\x01"))
	}
	sk := []byte("\xff\xa8sub00500")
	b.ReportAllocs()
	for b.Loop() {
		if _, ok, err := be.GetIndexed(ctx, []byte("idx"), sk); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}

func BenchmarkAdd(b *testing.B) {
	ts := telstate.New(telstate.WithBackend(memory.New()))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := ts.Add(ctx, "sensor", pyval.Float(i), telstate.At(float64(i))); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAddNow uses the default timestamp (time.Now).
func BenchmarkAddNow(b *testing.B) {
	ts := telstate.New(telstate.WithBackend(memory.New()))
	b.ReportAllocs()
	for b.Loop() {
		if err := ts.Add(ctx, "sensor", pyval.Str("track")); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGet(b *testing.B) {
	ts := telstate.New(telstate.WithBackend(sensor(b, 1000)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ts.Get(ctx, "s"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetImmutable(b *testing.B) {
	ts := telstate.New()
	ts.Set(ctx, "attr", pyval.Str("some attribute"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ts.Get(ctx, "attr"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetRange100(b *testing.B) {
	for _, n := range []int{10_000, 1_000_000} {
		b.Run(fmt.Sprintf("of%d", n), func(b *testing.B) {
			ts := telstate.New(telstate.WithBackend(sensor(b, n)))
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				st := float64((i * 7919) % (n - 100))
				ss, err := ts.GetRange(ctx, "s", telstate.Start(st), telstate.End(st+100))
				if err != nil || len(ss) != 100 {
					b.Fatal(len(ss), err)
				}
			}
		})
	}
}

func BenchmarkSetIndexed(b *testing.B) {
	ts := telstate.New()
	keys := make([]string, 1<<12)
	for i := range keys {
		keys[i] = fmt.Sprintf("idx%d", i)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := ts.SetIndexed(ctx, keys[(i/1000)%len(keys)], pyval.IntOf(int64(i%1000)), pyval.Str("ready")); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetIndexed(b *testing.B) {
	ts := telstate.New()
	for i := range 1000 {
		ts.SetIndexed(ctx, "idx", pyval.IntOf(int64(i)), pyval.Str("ready"))
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := ts.GetIndexed(ctx, "idx", pyval.IntOf(int64(i%1000))); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAddOutOfOrder adds samples at pseudo-random times below 2^17
// to a sensor pre-filled with samples at 2^17 … 2^17+1e5 (the slow path:
// a binary search, then moving up to ~2.3e5 16-byte references; once all
// 2^17 times are present, adds are duplicates and only search).
func BenchmarkAddOutOfOrder(b *testing.B) {
	be := memory.New()
	val := []byte("\xff\x01")
	for i := range 100_000 {
		be.AddMutable(ctx, []byte("s"), val, float64(1<<17+i))
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		ts := float64(uint32(i) * 2654435761 % (1 << 17))
		if err := be.AddMutable(ctx, []byte("s"), val, ts); err != nil {
			b.Fatal(err)
		}
	}
}
