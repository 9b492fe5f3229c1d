package exchange

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/pyval"
)

func TestInMemorySource(t *testing.T) {
	data := []pyval.Value{pyval.IntOf(1), pyval.Str("two"), pyval.None}
	cases := []struct {
		name  string
		delay time.Duration
	}{{"no delay", 0}, {"delay", time.Millisecond}, {"negative delay", -time.Second}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := NewInMemorySource(data, tc.delay)
			var got []pyval.Value
			err := s.Run(context.Background(), func(_ context.Context, v pyval.Value) error {
				got = append(got, v)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !pyval.Equal(pyval.List(got), pyval.List(data)) {
				t.Errorf("got %s", pyval.Repr(pyval.List(got)))
			}
		})
	}
	t.Run("cancel while waiting", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		s := NewInMemorySource(data, time.Hour)
		if err := s.Run(ctx, func(context.Context, pyval.Value) error { return nil }); !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v", err)
		}
	})
	t.Run("emit refuses", func(t *testing.T) {
		errNo := errors.New("no")
		n := 0
		err := NewInMemorySource(data, 0).Run(context.Background(), func(context.Context, pyval.Value) error {
			n++
			return errNo
		})
		if !errors.Is(err, errNo) || n != 1 {
			t.Errorf("Run = %v after %d emits", err, n)
		}
	})
}

func TestMemoryQueues(t *testing.T) {
	ctx := context.Background()
	q := NewMemoryQueues()
	a, b := NewInMemorySink(q, "a"), NewInMemorySink(q, "b")
	for i := range 3 {
		if err := a.Write(ctx, pyval.IntOf(int64(i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Write(ctx, pyval.Str("x")); err != nil {
		t.Fatal(err)
	}
	if q.Len("a") != 3 || q.Len("b") != 1 || q.Len("c") != 0 || a.Key() != "a" {
		t.Errorf("lengths %d %d %d", q.Len("a"), q.Len("b"), q.Len("c"))
	}
	if got := q.Take("a"); len(got) != 3 || q.Len("a") != 0 {
		t.Errorf("Take %v, then %d left", got, q.Len("a"))
	}
	// A second registry is independent.
	if NewMemoryQueues().Len("b") != 0 {
		t.Error("registries share queues")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := b.Write(cctx, pyval.None); err == nil || q.Len("b") != 1 {
		t.Error("write with a cancelled context")
	}
}
