package telstateio

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/sdpkit/sdpkit/internal/testenv"
	"github.com/sdpkit/sdpkit/pyval"
)

// TestOpen: every db form of the descriptor opens a working telescope
// state; anything else is ErrBadDB.
func TestOpen(t *testing.T) {
	ctx := context.Background()
	sock := filepath.Join(t.TempDir(), "redis.sock")
	srv := testenv.Redis(t, testenv.WithArgs("--unixsocket", sock, "--unixsocketperm", "700"))
	for _, c := range []struct {
		db      string
		wantErr error
	}{
		{"memory", nil},
		{srv.URL(), nil},
		{srv.Addr(), nil},
		{"unix://" + sock, nil},
		{"", ErrBadDB},
		{"Memory", ErrBadDB},
		{"state.rdb", ErrBadDB},
		{"/tmp/state.rdb", ErrBadDB},
		{"localhost", ErrBadDB},
	} {
		ts, closer, err := Open(ctx, c.db)
		if c.wantErr != nil {
			if !errors.Is(err, c.wantErr) {
				t.Errorf("Open(%q): %v, want %v", c.db, err, c.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("Open(%q): %v", c.db, err)
			continue
		}
		key := "probe_" + c.db
		if err := ts.Add(ctx, key, pyval.IntOf(1)); err != nil {
			t.Errorf("Open(%q): Add: %v", c.db, err)
		}
		if v, err := ts.Get(ctx, key); err != nil || !pyval.Equal(v, pyval.IntOf(1)) {
			t.Errorf("Open(%q): Get: %v, %v", c.db, v, err)
		}
		if err := closer.Close(); err != nil {
			t.Errorf("Open(%q): Close: %v", c.db, err)
		}
	}
	// Nothing listens at a closed port: a connection error, not ErrBadDB.
	if _, _, err := Open(ctx, "redis://127.0.0.1:1"); err == nil || errors.Is(err, ErrBadDB) {
		t.Errorf("unreachable server: %v", err)
	}
}

// TestStores: one TelescopeState per db string, shared; Close ends it.
func TestStores(t *testing.T) {
	ctx := context.Background()
	srv := testenv.Redis(t)
	s := NewStores()
	m1, err := s.Open(ctx, "memory")
	if err != nil {
		t.Fatal(err)
	}
	m2, _ := s.Open(ctx, "memory")
	r1, err := s.Open(ctx, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	r2, _ := s.Open(ctx, srv.URL())
	if m1 != m2 || r1 != r2 || m1 == r1 {
		t.Errorf("sharing: memory %p %p, redis %p %p", m1, m2, r1, r2)
	}
	if err := m1.Set(ctx, "a", pyval.IntOf(1)); err != nil {
		t.Fatal(err)
	}
	if ok, _ := r1.Exists(ctx, "a"); ok {
		t.Error("memory write visible in redis")
	}
	if _, err := s.Open(ctx, "bogus"); !errors.Is(err, ErrBadDB) {
		t.Errorf("bogus db: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := s.Open(ctx, "memory"); err == nil {
		t.Error("Open after Close succeeded")
	}
	if _, err := r1.Exists(ctx, "a"); err == nil {
		t.Error("redis connection still usable after Close")
	}
}
