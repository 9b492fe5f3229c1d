package testenv

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func TestRedisBasics(t *testing.T) {
	s := Redis(t)
	if got := s.MustDo(t, "PING"); got != "PONG" {
		t.Fatalf("PING = %v", got)
	}
	if !strings.HasPrefix(s.URL(), "redis://127.0.0.1:") || s.Dir() == "" {
		t.Fatalf("URL %q Dir %q", s.URL(), s.Dir())
	}
	bin := "k\x00\xff\r\n"
	s.MustDo(t, "SET", bin, "v\r\n\x00")
	if got := s.MustDo(t, "GET", bin); !bytes.Equal(got.([]byte), []byte("v\r\n\x00")) {
		t.Fatalf("GET = %q", got)
	}
	if got := s.MustDo(t, "GET", "missing"); got.([]byte) != nil {
		t.Fatalf("GET missing = %q", got)
	}
	if got := s.MustDo(t, "INCR", "n"); got != int64(1) {
		t.Fatalf("INCR = %v", got)
	}
	s.MustDo(t, "ZADD", "z", "0", "b", "0", "a")
	got := s.MustDo(t, "ZRANGE", "z", "0", "-1").([]any)
	if len(got) != 2 || string(got[0].([]byte)) != "a" {
		t.Fatalf("ZRANGE = %q", got)
	}
	_, err := s.Do("HGET", bin, "f")
	var re RedisError
	if !errors.As(err, &re) || !strings.HasPrefix(string(re), "WRONGTYPE") {
		t.Fatalf("HGET on a string: %v", err)
	}

	// Without persistence a restart loses the data.
	s.Restart(t)
	if n := s.MustDo(t, "DBSIZE"); n != int64(0) {
		t.Fatalf("DBSIZE after restart = %v", n)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Do("PING"); err == nil {
		t.Fatal("PING after Stop succeeded")
	}
}

func TestRedisPersistence(t *testing.T) {
	for name, opt := range map[string]RedisOption{"aof": WithAOF(), "rdb": WithRDBPersistence()} {
		t.Run(name, func(t *testing.T) {
			s := Redis(t, opt)
			port := s.Port()
			s.MustDo(t, "SET", "k", "v")
			s.Restart(t)
			if s.Port() != port {
				t.Fatalf("port changed %d -> %d", port, s.Port())
			}
			if got := s.MustDo(t, "GET", "k"); string(got.([]byte)) != "v" {
				t.Fatalf("GET after restart = %q", got)
			}
		})
	}
}

func TestRedisPreload(t *testing.T) {
	src := Redis(t, WithDBFilename("src.rdb"))
	src.MustDo(t, "SET", "greeting", "hello")
	src.MustDo(t, "SAVE")
	s := Redis(t, WithPreloadedRDB(src.RDBPath()), WithDBFilename("copy.rdb"))
	if got := s.MustDo(t, "GET", "greeting"); string(got.([]byte)) != "hello" {
		t.Fatalf("GET = %q", got)
	}
	if _, err := os.Stat(filepath.Join(s.Dir(), "copy.rdb")); err != nil {
		t.Fatal(err)
	}
}

// fakeTB records Skip and Fatal instead of acting on them.
type fakeTB struct {
	testing.TB
	mu       sync.Mutex
	skipped  string
	fatal    string
	cleanups []func()
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Skip(args ...any) {
	f.mu.Lock()
	f.skipped = sprint(args...)
	f.mu.Unlock()
	runtime.Goexit()
}
func (f *fakeTB) Fatal(args ...any) {
	f.mu.Lock()
	f.fatal = sprint(args...)
	f.mu.Unlock()
	runtime.Goexit()
}
func (f *fakeTB) Fatalf(format string, args ...any) { f.Fatal(fmt.Sprintf(format, args...)) }
func (f *fakeTB) Skipf(format string, args ...any)  { f.Skip(fmt.Sprintf(format, args...)) }
func (f *fakeTB) Cleanup(fn func())                 { f.cleanups = append(f.cleanups, fn) }

// run calls fn in a goroutine, as a test body, and runs the cleanups.
func (f *fakeTB) run(fn func()) {
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	<-done
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}

func sprint(args ...any) string {
	var b strings.Builder
	for _, a := range args {
		b.WriteString(a.(string))
	}
	return b.String()
}

func TestRedisMissingBinary(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	const msg = "redis-server not found: run `make deps` or apt-get install redis-server"
	for _, skip := range []string{"1", ""} {
		t.Setenv(SkipMissingEnv, skip)
		f := &fakeTB{TB: t}
		f.run(func() { Redis(f) })
		if skip == "1" && (f.skipped != msg || f.fatal != "") {
			t.Errorf("with %s=1: skipped %q fatal %q", SkipMissingEnv, f.skipped, f.fatal)
		}
		if skip == "" && (f.fatal != msg || f.skipped != "") {
			t.Errorf("without %s: skipped %q fatal %q", SkipMissingEnv, f.skipped, f.fatal)
		}
	}
}

func TestRedisBadPreload(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.rdb")
	if err := os.WriteFile(bad, []byte("REDIS0010\xfe\x00\x00\x05"), 0o644); err != nil {
		t.Fatal(err)
	}
	f := &fakeTB{TB: t}
	f.run(func() { Redis(f, WithPreloadedRDB(bad)) })
	if !strings.Contains(f.fatal, "exited during start-up") || !strings.Contains(f.fatal, "RDB") {
		t.Fatalf("fatal = %q", f.fatal)
	}
}
