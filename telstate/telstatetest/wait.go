package telstatetest

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/telstate"
)

// Timing of the wait cases: writers act after short, a wait that must fail
// gives up after long, and one that must succeed has patience.
const (
	short    = 30 * time.Millisecond
	long     = 250 * time.Millisecond
	patience = 10 * time.Second
)

// later runs the writes in order on another goroutine, each after short,
// and returns a function that waits for them and reports their errors.
func later(t *testing.T, writes ...func() error) func() {
	done := make(chan error, 1)
	go func() {
		for _, w := range writes {
			time.Sleep(short)
			if err := w(); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	return func() {
		t.Helper()
		if err := <-done; err != nil {
			t.Fatalf("delayed write: %v", err)
		}
	}
}

func withTimeout(t *testing.T, e *Env, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(e.Ctx, d)
	t.Cleanup(cancel)
	return ctx
}

func wantTimeout(t *testing.T, err error, key string) {
	t.Helper()
	wantErr(t, err, telstate.ErrTimeout, key)
	wantErr(t, err, context.DeadlineExceeded)
	if errors.Is(err, telstate.ErrCancelled) {
		t.Fatalf("timeout also reported as cancellation: %v", err)
	}
}

func wantCancelled(t *testing.T, err error) {
	t.Helper()
	wantErr(t, err, telstate.ErrCancelled)
	wantErr(t, err, context.Canceled)
	if errors.Is(err, telstate.ErrTimeout) {
		t.Fatalf("cancellation also reported as timeout: %v", err)
	}
}

func isStr(want string) func(pyval.Value, *float64) bool {
	return func(v pyval.Value, _ *float64) bool {
		s, ok := v.(pyval.Str)
		return ok && string(s) == want
	}
}

func waitCases() []Case {
	return []Case{
		{"wait_key/already done", func(t *testing.T, e *Env) {
			must(t, e.TS.Set(e.Ctx, "a", i64(1)))
			must(t, e.TS.Add(e.Ctx, "s", pyval.Str("ready"), telstate.At(1)))
			ctx, cancel := context.WithCancel(e.Ctx)
			cancel() // a satisfied wait never looks at ctx
			must(t, e.TS.WaitKey(ctx, "a", nil))
			must(t, e.TS.View("ns").WaitKey(ctx, "s", isStr("ready")))
			must(t, e.TS.WaitKey(ctx, "a", func(v pyval.Value, ts *float64) bool { return ts == nil && same(t, v, i64(1)) }))
		}},
		{"wait_key/timeout", func(t *testing.T, e *Env) {
			start := time.Now()
			err := e.TS.View("ns").WaitKey(withTimeout(t, e, long), "missing", nil)
			wantTimeout(t, err, "'ns_missing'")
			if d := time.Since(start); d < long || d > patience {
				t.Fatalf("timed out after %v", d)
			}
			must(t, e.TS.Add(e.Ctx, "s", pyval.Str("slewing"), telstate.At(1)))
			wantTimeout(t, e.TS.WaitKey(withTimeout(t, e, long), "s", isStr("ready")), "'s'")
		}},
		{"wait_key/cancel", func(t *testing.T, e *Env) {
			ctx, cancel := context.WithCancel(e.Ctx)
			time.AfterFunc(short, cancel)
			wantCancelled(t, e.TS.WaitKey(ctx, "missing", nil))
			ctx, cancel = context.WithCancel(e.Ctx)
			cancel()
			wantCancelled(t, e.TS.WaitKey(ctx, "missing", nil))
		}},
		{"wait_key/delayed immutable", func(t *testing.T, e *Env) {
			check := later(t, func() error { return e.TS.Set(e.Ctx, "a", pyval.Str("x")) })
			must(t, e.TS.WaitKey(withTimeout(t, e, patience), "a", nil))
			check()
		}},
		{"wait_key/delayed sensor condition", func(t *testing.T, e *Env) {
			var seen atomic.Int32
			cond := func(v pyval.Value, ts *float64) bool {
				seen.Add(1)
				if ts == nil {
					t.Errorf("sensor condition called without a timestamp")
					return false
				}
				s, ok := v.(pyval.Str)
				return ok && s == "ready" && *ts == 3
			}
			check := later(t,
				func() error { return e.TS.Add(e.Ctx, "demo_wait", pyval.Str("slewing"), telstate.At(1)) },
				func() error { return e.TS.Add(e.Ctx, "other", pyval.Str("ready"), telstate.At(2)) },
				func() error { return e.TS.Add(e.Ctx, "demo_wait", pyval.Str("ready"), telstate.At(3)) },
			)
			must(t, e.TS.View("ns").WaitKey(withTimeout(t, e, patience), "demo_wait", cond))
			check()
			if seen.Load() < 2 {
				t.Fatalf("condition evaluated %d times", seen.Load())
			}
		}},
		{"wait_key/delayed indexed condition", func(t *testing.T, e *Env) {
			must(t, e.TS.SetIndexed(e.Ctx, "idx", pyval.Str("a"), i64(1)))
			cond := func(v pyval.Value, ts *float64) bool {
				d, ok := v.(*pyval.Dict)
				if !ok || ts != nil {
					return false
				}
				_, ok = d.GetStr("b")
				return ok
			}
			check := later(t, func() error { return e.TS.SetIndexed(e.Ctx, "idx", pyval.Str("b"), i64(2)) })
			must(t, e.TS.WaitKey(withTimeout(t, e, patience), "idx", cond))
			check()
		}},
		{"wait_key/namespace shadowing", func(t *testing.T, e *Env) {
			ns := e.TS.View("ns")
			must(t, ns.Add(e.Ctx, "x", pyval.Str("inner"), telstate.At(1)))
			// A matching write to the shadowed root key does not count.
			check := later(t, func() error { return e.TS.Add(e.Ctx, "x", pyval.Str("ready"), telstate.At(2)) })
			wantTimeout(t, ns.WaitKey(withTimeout(t, e, long), "x", isStr("ready")), "'ns_x'")
			check()
			check = later(t, func() error { return ns.Add(e.Ctx, "x", pyval.Str("ready"), telstate.At(3)) })
			must(t, ns.WaitKey(withTimeout(t, e, patience), "x", isStr("ready")))
			check()
			// Existence alone is satisfied by any prefix.
			check = later(t, func() error { return e.TS.Set(e.Ctx, "y", i64(1)) })
			must(t, ns.WaitKey(withTimeout(t, e, patience), "y", nil))
			check()
		}},
		{"wait_indexed/already done", func(t *testing.T, e *Env) {
			must(t, e.TS.SetIndexed(e.Ctx, "idx", pyval.Tuple{pyval.Str("sub"), i64(1)}, pyval.Str("ready")))
			ctx, cancel := context.WithCancel(e.Ctx)
			cancel()
			must(t, e.TS.WaitIndexed(ctx, "idx", pyval.Tuple{pyval.Str("sub"), i64(1)}, nil))
			must(t, e.TS.View("ns").WaitIndexed(ctx, "idx", pyval.Tuple{pyval.Str("sub"), i64(1)},
				func(v pyval.Value) bool { return same(t, v, pyval.Str("ready")) }))
		}},
		{"wait_indexed/timeout and cancel", func(t *testing.T, e *Env) {
			wantTimeout(t, e.TS.WaitIndexed(withTimeout(t, e, long), "idx", pyval.Str("a"), nil), "'idx'")
			must(t, e.TS.SetIndexed(e.Ctx, "idx", pyval.Str("a"), i64(1)))
			wantTimeout(t, e.TS.WaitIndexed(withTimeout(t, e, long), "idx", pyval.Str("a"),
				func(v pyval.Value) bool { return same(t, v, i64(2)) }), "'idx'")
			ctx, cancel := context.WithCancel(e.Ctx)
			time.AfterFunc(short, cancel)
			wantCancelled(t, e.TS.WaitIndexed(ctx, "idx", pyval.Str("b"), nil))
		}},
		{"wait_indexed/delayed", func(t *testing.T, e *Env) {
			sk := pyval.Tuple{pyval.Str("sub"), i64(1)}
			check := later(t,
				func() error { return e.TS.SetIndexed(e.Ctx, "demo_wait_idx", pyval.Str("other"), i64(0)) },
				func() error { return e.TS.SetIndexed(e.Ctx, "demo_wait_idx", sk, pyval.Str("ready")) },
			)
			var got pyval.Value
			must(t, e.TS.WaitIndexed(withTimeout(t, e, patience), "demo_wait_idx", sk, func(v pyval.Value) bool {
				got = v
				return true
			}))
			check()
			wantValue(t, got, pyval.Str("ready"))
		}},
		{"wait_indexed/namespace shadowing", func(t *testing.T, e *Env) {
			ns := e.TS.View("ns")
			must(t, ns.SetIndexed(e.Ctx, "idx", pyval.Str("other"), i64(0)))
			check := later(t, func() error { return e.TS.SetIndexed(e.Ctx, "idx", pyval.Str("a"), i64(1)) })
			wantTimeout(t, ns.WaitIndexed(withTimeout(t, e, long), "idx", pyval.Str("a"), nil), "'ns_idx'")
			check()
			check = later(t, func() error { return ns.SetIndexed(e.Ctx, "idx", pyval.Str("a"), i64(1)) })
			must(t, ns.WaitIndexed(withTimeout(t, e, patience), "idx", pyval.Str("a"), nil))
			check()
		}},
		{"wait_indexed/wrong kind", func(t *testing.T, e *Env) {
			must(t, e.TS.Set(e.Ctx, "attr", i64(1)))
			err := e.TS.WaitIndexed(withTimeout(t, e, patience), "attr", pyval.Str("a"), nil)
			wantErr(t, err, telstate.ErrImmutableKey, "'attr'")
			// The key turns out to be a sensor while waiting.
			check := later(t, func() error { return e.TS.Add(e.Ctx, "s", i64(1), telstate.At(1)) })
			err = e.TS.WaitIndexed(withTimeout(t, e, patience), "s", pyval.Str("a"), nil)
			check()
			wantErr(t, err, telstate.ErrImmutableKey, "'s'")
		}},
	}
}
