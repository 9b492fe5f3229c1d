package config

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/config/kv"
	"github.com/sdpkit/sdpkit/internal/kvtrace"
)

const (
	quiet = 300 * time.Millisecond // a wait that should time out
	soon  = 20 * time.Millisecond  // delay of a change made during a wait
	// awake bounds a wait that must wake: only a failing test reaches it,
	// so a slow store under load (the race build in CI) is not mistaken
	// for a missed wake-up.
	awake = 20 * time.Second
)

// TestWatcherWakeRules follows 0.3.2's test_transaction_watch_list_new:
// each step makes one change while the watcher waits and says whether it
// must wake the watcher (else the wait times out).
func TestWatcherWakeRules(t *testing.T) {
	forEachStore(t, func(t *testing.T, s kv.KV) {
		kvtrace.Wipe(t, s)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		db := NewDB(s)
		for _, p := range []string{"/x/a", "/x/b", "/y"} {
			must(t, db.Create(ctx, p, []byte("0"), 0))
		}
		type step struct {
			name   string
			change func(w *Watcher)
			wakes  bool
			now    bool // change before the wait starts, not during it
		}
		steps := []step{
			{"delete listed key", func(*Watcher) { must(t, db.Delete(ctx, "/x/a")) }, true, false},
			{"create in listed range", func(*Watcher) { must(t, db.Create(ctx, "/x/a", []byte("0"), 0)) }, true, false},
			{"update listed key", func(*Watcher) { must(t, db.Update(ctx, "/x/b", []byte("1"))) }, false, false},
			{"update key read with get", func(*Watcher) { must(t, db.Update(ctx, "/y", []byte("1"))) }, true, false},
			{"create parent", func(*Watcher) { must(t, db.Create(ctx, "/x", nil, 0)) }, false, false},
			{"create grandchild", func(*Watcher) { must(t, db.Create(ctx, "/x/a/b", nil, 0)) }, false, false},
			{"same-level sibling prefix", func(*Watcher) { must(t, db.Create(ctx, "/xx", nil, 0)) }, false, false},
			{"trigger", func(w *Watcher) { w.Trigger() }, true, false},
			{"burst of changes", func(*Watcher) {
				for i := 0; i < 5; i++ {
					must(t, db.Create(ctx, fmt.Sprintf("/x/n%d", i), nil, 0))
				}
			}, true, true},
			{"nothing after the burst (drained)", func(*Watcher) {}, false, false},
		}
		i := -1
		var started time.Time
		for w, err := range db.Watcher(ctx, Timeout(quiet)) {
			must(t, err)
			if i >= 0 {
				st := steps[i]
				woke := !w.TimedOut()
				if woke != st.wakes {
					t.Errorf("%s: woke=%v after %v", st.name, woke, time.Since(started))
				}
			}
			must(t, w.Txn(ctx, func(tx *Txn) error {
				if _, err := tx.List("/x/"); err != nil {
					return err
				}
				_, err := tx.Get("/y")
				return err
			}))
			i++
			if i == len(steps) {
				break
			}
			started = time.Now()
			if steps[i].wakes {
				w.SetTimeout(awake)
			} else {
				w.SetTimeout(quiet)
			}
			if steps[i].now {
				steps[i].change(w)
				continue
			}
			go func(st step) {
				time.Sleep(soon)
				st.change(w)
			}(steps[i])
		}
	})
}

// TestWatcherNoReplay is the spec's §2.5 replay scenario: iteration 0
// reads /a; /b is updated, then /a (wake); iteration 1 reads /a and /b.
// 0.3.2 started the new /b watch at iteration 0's revision, replayed the
// old /b update and woke at once; this watcher does not.
func TestWatcherNoReplay(t *testing.T) {
	forEachStore(t, func(t *testing.T, s kv.KV) {
		kvtrace.Wipe(t, s)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		rec := kvtrace.NewRecorder(s)
		db := NewDB(rec)
		must(t, db.Create(ctx, "/a", []byte("0"), 0))
		must(t, db.Create(ctx, "/b", []byte("0"), 0))
		iter := 0
		for w, err := range db.Watcher(ctx, Timeout(quiet)) {
			must(t, err)
			switch iter {
			case 0:
				w.SetTimeout(awake) // iteration 1 must wake
				must(t, w.Txn(ctx, func(tx *Txn) error { _, err := tx.Get("/a"); return err }))
				go func() {
					time.Sleep(soon)
					must(t, db.Update(ctx, "/b", []byte("1")))
					must(t, db.Update(ctx, "/a", []byte("1")))
				}()
			case 1:
				if w.TimedOut() {
					t.Fatal("iteration 1: timed out")
				}
				w.SetTimeout(quiet) // iteration 2 must not
				must(t, w.Txn(ctx, func(tx *Txn) error {
					if _, err := tx.Get("/a"); err != nil {
						return err
					}
					_, err := tx.Get("/b")
					return err
				}))
			case 2:
				if !w.TimedOut() {
					t.Error("iteration 2 woke: old /b change replayed")
				}
			}
			iter++
			if iter == 3 {
				break
			}
		}
		// The /a watch was set up once and reused.
		n := 0
		for _, r := range rec.Take() {
			if m := r.(map[string]any); m["rpc"] == "Watch.create" && m["key"] == "1/a" {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d watches on /a, want 1 (reused)", n)
		}
	})
}

// A watcher does not wake for its own commits.
func TestWatcherOwnWrites(t *testing.T) {
	forEachStore(t, func(t *testing.T, s kv.KV) {
		kvtrace.Wipe(t, s)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		db := NewDB(s)
		must(t, db.Create(ctx, "/c", []byte("0"), 0))
		iter := 0
		for w, err := range db.Watcher(ctx, Timeout(quiet)) {
			must(t, err)
			if iter > 0 && !w.TimedOut() {
				t.Errorf("iteration %d woke by its own write", iter)
			}
			must(t, w.Txn(ctx, func(tx *Txn) error {
				v, err := tx.Get("/c")
				if err != nil {
					return err
				}
				if _, err := tx.List("/n/"); err != nil {
					return err
				}
				if err := tx.Create(fmt.Sprintf("/n/%d", iter), nil, 0); err != nil {
					return err
				}
				return tx.Update("/c", append(v, '+'))
			}))
			iter++
			if iter == 3 {
				break
			}
		}
	})
}

// Owner keys created with a lease vanish when it is revoked, and a
// watcher that read the key wakes.
func TestLeaseOwnerWatcher(t *testing.T) {
	forEachStore(t, func(t *testing.T, s kv.KV) {
		kvtrace.Wipe(t, s)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cfg, err := New(noClose{s}, WithOwner(Owner{Command: []string{"x"}, Hostname: "h", PID: 7}))
		must(t, err)
		db := cfg.DB()
		lease, err := cfg.ClientLease(ctx)
		must(t, err)
		if l2, _ := cfg.ClientLease(ctx); l2 != lease {
			t.Error("client lease not reused")
		}
		owner := cfg.Path("/pb/p/owner")
		must(t, db.Txn(ctx, func(tx *Txn) error { return tx.Create(owner, cfg.Owner().JSON(), lease.ID()) }))
		iter := 0
		for w, err := range db.Watcher(ctx, Timeout(5*time.Second)) {
			must(t, err)
			var v []byte
			must(t, w.Txn(ctx, func(tx *Txn) (err error) { v, err = tx.Get(owner); return err }))
			if iter == 0 {
				if string(v) != string(cfg.Owner().JSON()) {
					t.Fatalf("owner %q", v)
				}
				go func() {
					time.Sleep(soon)
					must(t, cfg.Close()) // revokes the client lease
				}()
			} else {
				if w.TimedOut() || v != nil {
					t.Errorf("after revoke: timed out %v, owner %q", w.TimedOut(), v)
				}
				break
			}
			iter++
		}
		if _, err := cfg.ClientLease(ctx); !errors.Is(err, ErrClosed) {
			t.Errorf("lease after close: %v", err)
		}
	})
}

func TestWatcherContextEnd(t *testing.T) {
	db := NewDB(testStores(t)[0].new(t))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	for w, err := range db.Watcher(ctx) {
		if n == 0 {
			cancel()
			_ = w
		} else if !errors.Is(err, context.Canceled) || w != nil {
			t.Errorf("end: %v", err)
		}
		n++
	}
	if n != 2 {
		t.Errorf("%d iterations", n)
	}
}

// noClose keeps a store open when a Config closes it.
type noClose struct{ kv.KV }

func (noClose) Close() error { return nil }
