package config

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/sdpkit/sdpkit/config/kv"
)

// WatchOption configures DB.Watch.
type WatchOption interface{ applyWatch(*watchConfig) }

type watchConfig struct {
	prefix   bool
	depth    int // -1: the path's own depth
	startRev int64
}

type watchFunc func(*watchConfig)

func (f watchFunc) applyWatch(c *watchConfig) { f(c) }

// FromRevision starts a watch at store revision rev, inclusive (default:
// changes after now).
func FromRevision(rev int64) WatchOption { return watchFunc(func(c *watchConfig) { c.startRev = rev }) }

// AtDepth makes a Prefix watch look at depth d instead of the path's own
// depth (Python's depth=).
func AtDepth(d int) WatchOption { return watchFunc(func(c *watchConfig) { c.depth = d }) }

// EventType is the kind of an Event.
type EventType int

const (
	// Put: a key was created or its value changed.
	Put EventType = iota
	// Deleted: a key was deleted (or its lease ended).
	Deleted
)

// Event is one change seen by a watch (Python's (path, value, Revision)
// triple).
type Event struct {
	Type  EventType
	Path  string
	Value []byte // nil for Deleted
	// Revision is the change's store revision (Python reports it as
	// both revision and mod_revision).
	Revision int64
}

// Watch is a running watch of a key or of one level of a prefix.
type Watch struct {
	events chan Event
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	err    error
}

// Events delivers the changes in revision order. It is closed when the
// watch stops (Stop, the context ends, or an error; see Err).
func (w *Watch) Events() <-chan Event { return w.events }

// Err returns why the watch stopped once Events is closed: nil after Stop
// or the end of the context, else the store's error (for example
// kv.ErrCompacted when the start revision is too old).
func (w *Watch) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Stop ends the watch and waits until Events is closed.
func (w *Watch) Stop() {
	w.cancel()
	<-w.done
}

// Watch watches path: the single key, or with Prefix every key at the
// path's level starting with path — exactly one level, since the depth
// tag is part of the key ("/w/" sees "/w/a" but not "/w/a/child"). A
// single-key watch needs a path without trailing '/'. The watch runs until
// Stop or the end of ctx.
func (db *DB) Watch(ctx context.Context, path string, opts ...WatchOption) (*Watch, error) {
	c := watchConfig{depth: -1}
	for _, o := range opts {
		o.applyWatch(&c)
	}
	check := CheckKeyPath
	if c.prefix {
		check = CheckPath
	}
	if err := check(path); err != nil {
		return nil, err
	}
	depth := c.depth
	if depth < 0 {
		depth = Depth(path)
	}
	key := db.codec.Key(path, depth)
	var end []byte
	if c.prefix {
		end = kv.PrefixEnd(key)
	}
	ctx, cancel := context.WithCancel(ctx)
	ch := db.kv.Watch(ctx, key, end, c.startRev)
	w := &Watch{events: make(chan Event), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		defer close(w.events)
		defer func() {
			cancel()
			for range ch { // let the store finish its side
			}
		}()
		for resp := range ch {
			if resp.Err != nil {
				w.setErr(fmt.Errorf("config: watch %s: %w", path, resp.Err))
				return
			}
			for _, ev := range resp.Events {
				select {
				case w.events <- db.event(ev):
				case <-ctx.Done():
					return
				}
			}
		}
		if ctx.Err() == nil {
			w.setErr(fmt.Errorf("config: watch %s: %w", path, errWatchClosed))
		}
	}()
	return w, nil
}

// errWatchClosed reports a store watch channel that closed on its own.
var errWatchClosed = errors.New("watch closed by the store")

func (w *Watch) setErr(err error) {
	w.mu.Lock()
	if w.err == nil {
		w.err = err
	}
	w.mu.Unlock()
}

func (db *DB) event(ev kv.Event) Event {
	e := Event{Path: db.path(ev.KV.Key), Revision: ev.KV.ModRevision}
	if ev.Type == kv.EventDelete {
		e.Type = Deleted
	} else {
		e.Value = ev.KV.Value
		if e.Value == nil {
			e.Value = []byte{}
		}
	}
	return e
}
