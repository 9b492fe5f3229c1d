package config

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/sdpkit/sdpkit/config/kv"
	"github.com/sdpkit/sdpkit/internal/kvtrace"
)

func TestKeyCodec(t *testing.T) {
	for _, c := range []struct {
		path string
		key  string
	}{
		{"/master", "1/master"},
		{"/pb/pb-mvp01-20200425-00000", "2/pb/pb-mvp01-20200425-00000"},
		{"/pb/x/state", "3/pb/x/state"},
		{"/workflow/batch:test:0.0.0", "2/workflow/batch:test:0.0.0"},
		{"/d/1/2/3/4/5/6/7/8/9", "10/d/1/2/3/4/5/6/7/8/9"},
		{"/sdp/pb/x", "3/sdp/pb/x"},
		{"/t/", "2/t/"},
	} {
		k := DepthTagged{}.Key(c.path, Depth(c.path))
		if string(k) != c.key {
			t.Errorf("%s → %s, want %s", c.path, k, c.key)
		}
		if p, ok := (DepthTagged{}).Path(k); !ok || p != c.path {
			t.Errorf("untag %s → %s", k, p)
		}
	}
	for _, c := range []struct {
		path, rule string
		key        bool
	}{
		{"", RuleLeadingSlash, false}, {"foo", RuleLeadingSlash, false}, {"/a/", RuleTrailingSlash, true},
		{"/", RuleTrailingSlash, true}, {"/\xff", RuleUTF8, false},
	} {
		check := CheckPath
		if c.key {
			check = CheckKeyPath
		}
		var pe *PathError
		if err := check(c.path); !errors.As(err, &pe) || pe.Rule != c.rule || pe.Path != c.path || !errors.Is(err, ErrInvalidPath) {
			t.Errorf("%q: %v", c.path, err)
		}
	}
	if err := CheckPath("/a/"); err != nil {
		t.Error(err)
	}
	deep := strings.Repeat("/x", MaxWriteDepth+1)
	if err := NewDB(nil).Create(context.Background(), deep, nil, 0); !errors.Is(err, ErrInvalidPath) {
		t.Errorf("too deep: %v", err)
	}
}

func TestRecursiveDeleteEveryLevel(t *testing.T) {
	forEachStore(t, func(t *testing.T, s kv.KV) {
		kvtrace.Wipe(t, s)
		ctx := context.Background()
		db := NewDB(s)
		p := "/r"
		for i := 0; i < MaxWriteDepth; i++ {
			must(t, db.Create(ctx, p, []byte("v"), 0))
			p += "/x"
		}
		must(t, db.Create(ctx, "/rx/y", nil, 0))
		must(t, db.Delete(ctx, "/r", Recursive()))
		got, _, err := db.ListKeys(ctx, "/", Recurse(MaxWriteDepth-1))
		must(t, err)
		if !reflect.DeepEqual(got, []string{"/rx/y"}) {
			t.Errorf("left %q", got)
		}
	})
}

func TestTxnSemantics(t *testing.T) {
	forEachStore(t, func(t *testing.T, s kv.KV) {
		kvtrace.Wipe(t, s)
		ctx := context.Background()
		rec := kvtrace.NewRecorder(s)
		db := NewDB(rec)
		must(t, db.Create(ctx, "/a", []byte("1"), 0))

		t.Run("snapshot", func(t *testing.T) {
			// Reads after the first see the pinned revision even if the
			// store moves on.
			must(t, db.Create(ctx, "/b", []byte("1"), 0))
			n := 0
			must(t, db.Txn(ctx, func(tx *Txn) error {
				n++
				if _, err := tx.Get("/a"); err != nil {
					return err
				}
				if n == 1 {
					must(t, db.Update(ctx, "/b", []byte("2")))
				}
				b, err := tx.Get("/b")
				if err != nil {
					return err
				}
				if string(b) != "1" {
					t.Errorf("snapshot broken: /b = %q", b)
				}
				return nil
			}))
			if n != 1 {
				t.Errorf("read-only txn ran %d times", n)
			}
		})
		t.Run("on_commit", func(t *testing.T) {
			var calls []string
			attempt := 0
			var tx0 *Txn
			must(t, db.Txn(ctx, func(tx *Txn) error {
				tx0 = tx
				attempt++
				tx.OnCommit(func() { calls = append(calls, fmt.Sprint("cb", attempt)) })
				v, err := tx.Get("/a")
				if err != nil {
					return err
				}
				if attempt < 3 {
					must(t, db.Update(ctx, "/a", v))
				}
				return tx.Update("/a", append(v, '+'))
			}))
			if !reflect.DeepEqual(calls, []string{"cb3"}) {
				t.Errorf("callbacks %q", calls)
			}
			_, r, _ := db.Get(ctx, "/a", 0)
			if tx0.Revision() != r.ModRevision {
				t.Errorf("revision %d, want %d", tx0.Revision(), r.ModRevision)
			}
			if _, err := tx0.Get("/a"); !errors.Is(err, ErrTxnDone) {
				t.Errorf("use after commit: %v", err)
			}
			// Read-only transactions run callbacks too (0.3.2 did not).
			ran := false
			must(t, db.Txn(ctx, func(tx *Txn) error {
				tx.OnCommit(func() { ran = true })
				_, err := tx.Get("/a")
				return err
			}))
			if !ran {
				t.Error("read-only OnCommit did not run")
			}
		})
		t.Run("abort", func(t *testing.T) {
			boom := errors.New("boom")
			rec.Take()
			err := db.Txn(ctx, func(tx *Txn) error {
				must(t, tx.Create("/never", []byte("x"), 0))
				return boom
			})
			if err != boom {
				t.Errorf("error %v", err)
			}
			for _, r := range rec.Take() {
				if m := r.(map[string]any); m["rpc"] == "Txn" {
					t.Errorf("aborted txn sent %v", m)
				}
			}
		})
		t.Run("errors", func(t *testing.T) {
			err := db.Txn(ctx, func(tx *Txn) error {
				if err := tx.Create("/a", nil, 0); !errors.Is(err, ErrCollision) {
					t.Errorf("create existing: %v", err)
				}
				if err := tx.Update("/zz", nil); !errors.Is(err, ErrVanished) {
					t.Errorf("update missing: %v", err)
				}
				var ve *VanishedError
				if err := tx.Delete("/zz"); !errors.As(err, &ve) || ve.PyMessage() != "Cannot delete /zz, it does not exist!" {
					t.Errorf("delete missing: %v", err)
				}
				if err := tx.Delete("/a", Recursive()); !errors.Is(err, ErrUnsupported) {
					t.Errorf("recursive: %v", err)
				}
				if _, err := tx.List("/", AtRevision(3)); !errors.Is(err, ErrUnsupported) {
					t.Errorf("list at revision: %v", err)
				}
				return nil
			})
			must(t, err)
		})
		t.Run("membership", func(t *testing.T) {
			for _, p := range []string{"/m/a", "/m/b"} {
				must(t, db.Create(ctx, p, []byte("0"), 0))
			}
			// A value update of a listed key does not conflict; a new key
			// or a deleted key does.
			for _, c := range []struct {
				name      string
				change    func()
				conflicts bool
			}{
				{"value update", func() { must(t, db.Update(ctx, "/m/a", []byte("1"))) }, false},
				{"new key", func() { must(t, db.Create(ctx, "/m/c", nil, 0)) }, true},
				{"deleted key", func() { must(t, db.Delete(ctx, "/m/b")) }, true},
				{"re-created key", func() {
					must(t, db.Delete(ctx, "/m/c"))
					must(t, db.Create(ctx, "/m/c", nil, 0))
				}, true},
				{"child of listed key", func() { must(t, db.Create(ctx, "/m/a/x", nil, 0)) }, false},
			} {
				attempts := 0
				must(t, db.Txn(ctx, func(tx *Txn) error {
					attempts++
					if _, err := tx.List("/m/"); err != nil {
						return err
					}
					if attempts == 1 {
						c.change()
					}
					return tx.Delete("/w", AllowMissing()) // a blind write
				}, MaxRetries(1)))
				if got := attempts == 2; got != c.conflicts {
					t.Errorf("%s: %d attempts", c.name, attempts)
				}
			}
		})
	})
}
