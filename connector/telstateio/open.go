package telstateio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/sdpkit/sdpkit/telstate"
	"github.com/sdpkit/sdpkit/telstate/redis"
)

// Memory is the db string naming an in-process memory store.
const Memory = "memory"

// ErrBadDB is returned for a db string that names no telescope state
// Open can open.
var ErrBadDB = errors.New("telstateio: unsupported db")

// Open opens the telescope state named by db, as a descriptor's db field
// writes it:
//
//	memory                        a new in-process memory store
//	redis://[user:pass@]host[:port][/db], rediss://…, unix:///path?db=N
//	host:port                     katsdptelstate's endpoint form
//
// (the Redis forms are those of redis.Open). The returned Closer releases
// the connection; close it after the sources and sinks using the state
// have stopped. opts are passed to telstate.New.
func Open(ctx context.Context, db string, opts ...telstate.Option) (*telstate.TelescopeState, io.Closer, error) {
	if db == Memory {
		return telstate.New(opts...), nopCloser{}, nil
	}
	if !isRedis(db) {
		return nil, nil, fmt.Errorf("%w: %q (want %q, a redis://, rediss:// or unix:// URL, or host:port)", ErrBadDB, db, Memory)
	}
	b, err := redis.Open(ctx, db)
	if err != nil {
		return nil, nil, fmt.Errorf("telstateio: opening %s: %w", db, err)
	}
	return telstate.New(append(opts, telstate.WithBackend(b))...), b, nil
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }

// isRedis reports whether db is a Redis URL or katsdptelstate's host:port
// (as sdp telstate --db reads it).
func isRedis(db string) bool {
	if strings.Contains(db, "://") {
		return true
	}
	i := strings.LastIndexByte(db, ':')
	if i <= 0 || strings.ContainsAny(db, "/\\") {
		return false
	}
	_, err := strconv.Atoi(db[i+1:])
	return err == nil
}

// Stores opens telescope states by db string and shares them: every source
// and sink of a connector naming the same db gets the same TelescopeState
// (its root view), so all the "memory" ones see one in-process store (the
// descriptor's "the process's in-memory store") and each Redis server is
// connected to once. The owner (a device) creates one Stores and closes it
// when every exchange has stopped. It is safe for concurrent use.
type Stores struct {
	opts []telstate.Option

	mu     sync.Mutex
	open   map[string]*telstate.TelescopeState
	close  []io.Closer
	closed bool
}

// NewStores returns an empty Stores; opts are passed to telstate.New for
// every state it opens.
func NewStores(opts ...telstate.Option) *Stores {
	return &Stores{opts: opts, open: map[string]*telstate.TelescopeState{}}
}

// Open returns the telescope state for db (see the package-level Open),
// opening it on first use.
func (s *Stores) Open(ctx context.Context, db string) (*telstate.TelescopeState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, fmt.Errorf("telstateio: opening %s: stores closed", db)
	}
	if ts, ok := s.open[db]; ok {
		return ts, nil
	}
	ts, c, err := Open(ctx, db, s.opts...)
	if err != nil {
		return nil, err
	}
	s.open[db] = ts
	s.close = append(s.close, c)
	return ts, nil
}

// Close closes every Redis connection opened and forgets the memory store.
// Open fails afterwards.
func (s *Stores) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, c := range s.close {
		errs = append(errs, c.Close())
	}
	s.open, s.close, s.closed = nil, nil, true
	return errors.Join(errs...)
}
