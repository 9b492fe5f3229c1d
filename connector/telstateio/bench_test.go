package telstateio

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/connector/exchange"
	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/telstate"
)

func reportRate(b *testing.B, n int, start time.Time) {
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "samples/s")
}

// BenchmarkSink: Write as an exchange calls it, one float sample per
// value, then Flush; "unbatched" writes every sample on its own.
func BenchmarkSink(b *testing.B) {
	ctx := context.Background()
	for _, st := range stores() {
		for _, c := range []struct {
			name string
			opts []SinkOption
		}{{"batched", nil}, {"unbatched", []SinkOption{WithMaxBatch(1, 1)}}} {
			b.Run(st.name+"/"+c.name, func(b *testing.B) {
				ts := st.open(b)
				s, err := NewSink(ts, "k", c.opts...)
				if err != nil {
					b.Fatal(err)
				}
				if err := s.Start(ctx); err != nil {
					b.Fatal(err)
				}
				defer s.Stop(ctx)
				b.ReportAllocs()
				start := time.Now()
				for i := 0; b.Loop(); i++ {
					if err := s.Write(ctx, pyval.Float(float64(i))); err != nil {
						b.Fatal(err)
					}
				}
				if err := s.Flush(ctx); err != nil {
					b.Fatal(err)
				}
				reportRate(b, b.N, start)
			})
		}
	}
}

// BenchmarkSource: a writer adds samples in batches of 1000 (AddSamples)
// while the source emits them to a counter.
func BenchmarkSource(b *testing.B) {
	ctx := context.Background()
	for _, st := range stores() {
		b.Run(st.name, func(b *testing.B) {
			ts := st.open(b)
			src, err := NewSensorSource(ts, "k")
			if err != nil {
				b.Fatal(err)
			}
			if err := src.Start(ctx); err != nil {
				b.Fatal(err)
			}
			n := b.N
			var count atomic.Int64
			all := make(chan struct{})
			rctx, cancel := context.WithCancel(ctx)
			defer cancel()
			done := make(chan error, 1)
			go func() {
				done <- src.Run(rctx, func(context.Context, pyval.Value) error {
					if count.Add(1) == int64(n) {
						close(all)
					}
					return nil
				})
			}()
			b.ResetTimer()
			start := time.Now()
			batch := make([]telstate.Sample, 0, 1000)
			for i := range n {
				batch = append(batch, telstate.Sample{Value: pyval.Float(float64(i)), Timestamp: 1 + float64(i)*1e-3})
				if len(batch) == cap(batch) || i == n-1 {
					if err := ts.AddSamples(ctx, "k", batch); err != nil {
						b.Fatal(err)
					}
					batch = batch[:0]
				}
			}
			select {
			case <-all:
			case err := <-done:
				b.Fatalf("source ended: %v", err)
			}
			reportRate(b, n, start)
			b.StopTimer()
			cancel()
			<-done
		})
	}
}

// BenchmarkExchangeThrough: InMemorySource → exchange → Sink, and
// SensorSource → exchange → InMemorySink, end to end.
func BenchmarkExchangeThrough(b *testing.B) {
	ctx := context.Background()
	for _, st := range stores() {
		b.Run(st.name, func(b *testing.B) {
			ts := st.open(b)
			n := b.N
			values := make([]pyval.Value, n)
			for i := range values {
				values[i] = pyval.Float(float64(i))
			}
			src, _ := NewSensorSource(ts, "k")
			queues := exchange.NewMemoryQueues()
			reader, _ := exchange.New([]exchange.Source{src}, exchange.NewDefaultPipe(pyval.Float64, nil),
				exchange.NewInMemorySink(queues, "out"))
			if err := reader.Start(ctx); err != nil {
				b.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- reader.Run(ctx) }()
			sink, _ := NewSink(ts, "k")
			writer, _ := exchange.New([]exchange.Source{exchange.NewInMemorySource(values, 0)},
				exchange.NewDefaultPipe(pyval.Float64, nil), sink)
			if err := writer.Start(ctx); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			start := time.Now()
			if err := writer.Run(ctx); err != nil {
				b.Fatal(err)
			}
			for reader.Stats().Out < uint64(n) {
				time.Sleep(100 * time.Microsecond)
			}
			reportRate(b, n, start)
			b.StopTimer()
			_ = writer.Stop(ctx)
			_ = reader.Stop(ctx)
			if err := <-done; err != nil {
				b.Fatal(err)
			}
		})
	}
}
