package exchange

import (
	"context"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/pyval"
)

type discardSink struct{}

func (discardSink) Start(context.Context) error              { return nil }
func (discardSink) Write(context.Context, pyval.Value) error { return nil }
func (discardSink) Stop(context.Context) error               { return nil }

// countSource emits n float64 values.
type countSource struct{ n int }

func (s countSource) Start(context.Context) error { return nil }
func (s countSource) Stop(context.Context) error  { return nil }
func (s countSource) Run(ctx context.Context, emit Emit) error {
	for i := range s.n {
		if err := emit(ctx, pyval.Float(float64(i))); err != nil {
			return err
		}
	}
	return nil
}

func benchExchange(b *testing.B, sources int, pipe func() Pipe) {
	ctx := context.Background()
	per := max(b.N/sources, 1)
	srcs := make([]Source, sources)
	for i := range srcs {
		srcs[i] = countSource{n: per}
	}
	x, err := New(srcs, pipe(), discardSink{})
	if err != nil {
		b.Fatal(err)
	}
	if err := x.Start(ctx); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	if err := x.Run(ctx); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(per*sources)/b.Elapsed().Seconds(), "values/s")
	_ = x.Stop(ctx)
}

// BenchmarkExchange measures in-memory throughput: sources emitting floats,
// a pipe, and a sink that discards.
func BenchmarkExchange(b *testing.B) {
	b.Run("default/1src", func(b *testing.B) {
		benchExchange(b, 1, func() Pipe { return NewDefaultPipe(pyval.Float64, nil) })
	})
	b.Run("default/4src", func(b *testing.B) {
		benchExchange(b, 4, func() Pipe { return NewDefaultPipe(pyval.Float64, nil) })
	})
	b.Run("buffer100ms/1src", func(b *testing.B) {
		benchExchange(b, 1, func() Pipe {
			p, _ := NewBufferWithTimePipe(pyval.Float64, nil, 100*time.Millisecond)
			return p
		})
	})
	b.Run("buffer0/1src", func(b *testing.B) {
		benchExchange(b, 1, func() Pipe {
			p, _ := NewBufferWithTimePipe(pyval.Float64, nil, 0)
			return p
		})
	})
}
