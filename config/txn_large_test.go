package config

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sdpkit/sdpkit/config/kv"
	"github.com/sdpkit/sdpkit/config/memory"
)

// fill creates n keys prefix000… in transactions of at most 100 writes.
func fill(t *testing.T, db *DB, prefix string, n int) {
	t.Helper()
	ctx := context.Background()
	for lo := 0; lo < n; lo += 100 {
		must(t, db.Txn(ctx, func(tx *Txn) error {
			for i := lo; i < min(lo+100, n); i++ {
				if err := tx.Create(fmt.Sprintf("%s%03d", prefix, i), []byte("v"), 0); err != nil {
					return err
				}
			}
			return nil
		}))
	}
}

// TestTxnLargeGuards runs a transaction that lists 500 keys, reads 200
// more and one missing key, and writes one: its commit carries 703
// compares, far over etcd's default limit of 128. Between the body's
// reads and its commit (first attempt only) another client changes
// something: a change of membership of the listing, or of a key read with
// Get, must make the commit conflict and the body run again; a value
// change of a listed key must not.
func TestTxnLargeGuards(t *testing.T) {
	cases := []struct {
		name     string
		change   func(ctx context.Context, db *DB) error
		attempts int
	}{
		{"no change", func(context.Context, *DB) error { return nil }, 1},
		{"listed key updated", func(ctx context.Context, db *DB) error { return db.Update(ctx, "/l/250", []byte("w")) }, 1},
		{"member created", func(ctx context.Context, db *DB) error { return db.Create(ctx, "/l/new", []byte("v"), 0) }, 2},
		{"first member deleted", func(ctx context.Context, db *DB) error { return db.Delete(ctx, "/l/000") }, 2},
		{"last member deleted", func(ctx context.Context, db *DB) error { return db.Delete(ctx, "/l/499") }, 2},
		{"member deleted and re-created", func(ctx context.Context, db *DB) error {
			if err := db.Delete(ctx, "/l/300"); err != nil {
				return err
			}
			return db.Create(ctx, "/l/300", []byte("v"), 0)
		}, 2},
		{"first read key updated", func(ctx context.Context, db *DB) error { return db.Update(ctx, "/r/000", []byte("w")) }, 2},
		{"last read key updated", func(ctx context.Context, db *DB) error { return db.Update(ctx, "/r/199", []byte("w")) }, 2},
		{"missing key created", func(ctx context.Context, db *DB) error { return db.Create(ctx, "/r/missing", []byte("v"), 0) }, 2},
	}
	forEachStore(t, func(t *testing.T, s kv.KV) {
		ctx := context.Background()
		db := NewDB(s)
		fill(t, db, "/l/", 500)
		fill(t, db, "/r/", 200)
		must(t, db.Create(ctx, "/out", []byte("0"), 0))
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				attempts := 0
				err := db.Txn(ctx, func(tx *Txn) error {
					attempts++
					listed, err := tx.List("/l/")
					if err != nil {
						return err
					}
					for i := 0; i < 200; i++ {
						if _, err := tx.Get(fmt.Sprintf("/r/%03d", i)); err != nil {
							return err
						}
					}
					if _, err := tx.Get("/r/missing"); err != nil {
						return err
					}
					if attempts == 1 {
						if err := c.change(ctx, db); err != nil {
							return err
						}
					}
					return tx.Update("/out", fmt.Appendf(nil, "%s %d", c.name, len(listed)))
				})
				if err != nil {
					t.Fatal(err)
				}
				if attempts != c.attempts {
					t.Errorf("%d attempts, want %d", attempts, c.attempts)
				}
				v, _, err := db.Get(ctx, "/out", 0)
				if err != nil || len(v) == 0 || string(v[:len(c.name)]) != c.name {
					t.Errorf("/out = %q, %v", v, err)
				}
			})
		}
	})
}

// TestTxnLargeWritesAtomic writes 300 keys per transaction (300 puts,
// 300 compares) while another client reads them all in one listing: the
// reader sees either none or all of the keys, and all with the same
// value.
func TestTxnLargeWritesAtomic(t *testing.T) {
	forEachStore(t, func(t *testing.T, s kv.KV) {
		ctx := context.Background()
		db := NewDB(s)
		const n, rounds = 300, 6
		var done atomic.Bool
		var wg sync.WaitGroup
		var reads atomic.Int64
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !done.Load() {
				es, _, err := db.List(ctx, "/w/")
				if err != nil {
					t.Error(err)
					return
				}
				reads.Add(1)
				if len(es) != 0 && len(es) != n {
					t.Errorf("reader saw %d of %d keys", len(es), n)
					return
				}
				for _, e := range es {
					if string(e.Value) != string(es[0].Value) {
						t.Errorf("reader saw %s = %q next to %s = %q", e.Path, e.Value, es[0].Path, es[0].Value)
						return
					}
				}
			}
		}()
		for r := 0; r < rounds; r++ {
			before, err := s.Txn(ctx, nil, []kv.Op{{Type: kv.OpRange, Key: []byte("x")}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = db.Txn(ctx, func(tx *Txn) error {
				for i := 0; i < n; i++ {
					p := fmt.Sprintf("/w/%03d", i)
					var err error
					if r == 0 {
						err = tx.Create(p, []byte("0"), 0)
					} else {
						err = tx.Update(p, fmt.Appendf(nil, "%d", r))
					}
					if err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			after, _ := s.Txn(ctx, nil, []kv.Op{{Type: kv.OpRange, Key: []byte("x")}}, nil)
			if after.Revision != before.Revision+1 {
				t.Errorf("round %d took revisions %d → %d, want one store transaction", r, before.Revision, after.Revision)
			}
		}
		done.Store(true)
		wg.Wait()
		es, _, err := db.List(ctx, "/w/")
		if err != nil || len(es) != n || string(es[n-1].Value) != fmt.Sprint(rounds-1) {
			t.Fatalf("final listing: %d keys, %v", len(es), err)
		}
		t.Logf("%d concurrent listings", reads.Load())
	})
}

// TestTxnLargeLayout checks, for small limits where every layout is
// exercised, that large commits are accepted by a store enforcing the
// same limit (per level and across nesting, as etcd), that they apply
// every write, and that the largest ones fail with *TxnTooLargeError
// before anything is sent.
func TestTxnLargeLayout(t *testing.T) {
	ctx := context.Background()
	refused, nested := 0, 0
	for _, limit := range []int{4, 8, 16} {
		for _, listed := range []int{0, 1, 3, 7, 15, 40, 90} {
			for _, writes := range []int{1, 5, 17, 50} {
				s := memory.New(memory.WithMaxTxnOps(limit))
				db := NewDB(s, WithMaxTxnOps(limit))
				for i := 0; i < listed; i++ {
					if _, err := s.Txn(ctx, nil, []kv.Op{{Type: kv.OpPut, Key: db.key(fmt.Sprintf("/l/%03d", i)), Value: []byte("v")}}, nil); err != nil {
						t.Fatal(err)
					}
				}
				rev0 := s.Revision()
				err := db.Txn(ctx, func(tx *Txn) error {
					if _, err := tx.List("/l/"); err != nil {
						return err
					}
					for i := 0; i < writes; i++ {
						if err := tx.Create(fmt.Sprintf("/w/%03d", i), []byte("x"), 0); err != nil {
							return err
						}
					}
					return nil
				})
				compares := listed + 1 + writes
				what := fmt.Sprintf("limit %d, %d compares, %d writes", limit, compares, writes)
				var tl *TxnTooLargeError
				switch {
				case errors.As(err, &tl):
					refused++
					if s.Revision() != rev0 {
						t.Errorf("%s: too large, but something was written", what)
					}
					// Only commits beyond (limit/2)² compares and writes may
					// be refused.
					if compares+writes <= (limit/2)*(limit/2) {
						t.Errorf("%s: refused: %v", what, err)
					}
				case err != nil:
					t.Errorf("%s: %v", what, err)
				default:
					if compares > limit || writes > limit {
						nested++
					}
					ks, _, err := db.ListKeys(ctx, "/w/")
					if err != nil || len(ks) != writes || s.Revision() != rev0+1 {
						t.Errorf("%s: %d keys written at revision %d (from %d), %v", what, len(ks), s.Revision(), rev0, err)
					}
				}
				s.Close()
			}
		}
	}
	if refused == 0 || nested == 0 {
		t.Errorf("%d refused and %d nested commits: the table misses a case", refused, nested)
	}
}
