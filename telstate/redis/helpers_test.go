package redis

import (
	"context"
	"strconv"
	"sync"
	"testing"

	"github.com/sdpkit/sdpkit/internal/testenv"
)

// openTest opens a Backend on s (db 0 unless opts say otherwise) and closes
// it when the test ends.
func openTest(t testing.TB, s *testenv.RedisServer, opts ...Option) *Backend {
	t.Helper()
	b, err := Open(context.Background(), s.URL(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// dbPool hands out the 16 logical databases of one server, one user at a
// time, flushed before use, so that many short cases share a server.
type dbPool struct {
	s    *testenv.RedisServer
	mu   sync.Mutex
	cond *sync.Cond
	used [16]bool
}

func newDBPool(t testing.TB) *dbPool {
	p := &dbPool{s: testenv.Redis(t)}
	p.cond = sync.NewCond(&p.mu)
	return p
}

// backend returns a Backend on a free, empty database, given back when t
// ends.
func (p *dbPool) backend(t testing.TB) *Backend {
	t.Helper()
	p.mu.Lock()
	db := -1
	for db < 0 {
		for i, u := range p.used {
			if !u {
				db = i
				break
			}
		}
		if db < 0 {
			p.cond.Wait()
		}
	}
	p.used[db] = true
	p.mu.Unlock()
	t.Cleanup(func() {
		p.mu.Lock()
		p.used[db] = false
		p.cond.Signal()
		p.mu.Unlock()
	})
	b, err := Open(context.Background(), p.s.Addr(), WithDB(db))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	if err := b.Clear(context.Background()); err != nil {
		t.Fatalf("flushing db %s: %v", strconv.Itoa(db), err)
	}
	return b
}
