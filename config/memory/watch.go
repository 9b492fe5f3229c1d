package memory

import (
	"context"
	"fmt"

	"github.com/sdpkit/sdpkit/config/kv"
)

// watcher is one watch's position in the revision log. Its fields are
// guarded by the store's lock: its own goroutine changes them under the
// read lock (no other reader touches them), compaction under the write
// lock.
type watcher struct {
	sp      span
	next    int64              // first revision not yet taken from the log
	pending []kv.WatchResponse // taken from the log by a compaction
}

// Watch reports the changes to key (or to [key, rangeEnd); rangeEnd "\x00"
// means every key from key on) from revision startRev on, one response per
// revision with its events in op order. startRev 0 means changes after the
// call. A start below the compaction revision yields one response with
// kv.ErrCompacted; Close yields kv.ErrClosed; either closes the channel, as
// does the end of ctx (without a response).
//
// Watches never drop events: each one reads the store's revision log at its
// own pace, so a slow reader only delays itself; when a compaction would
// discard revisions a watch has not read yet, they are first copied to the
// watch (as etcd's client buffers what the server pushed), so compaction
// ends only watches that start below it.
func (s *Store) Watch(ctx context.Context, key, rangeEnd []byte, startRev int64) <-chan kv.WatchResponse {
	ch := make(chan kv.WatchResponse, 16)
	w := &watcher{sp: mkSpan(key, rangeEnd), next: startRev}
	var err error
	s.mu.Lock()
	switch {
	case s.closed:
		err = fmt.Errorf("memory: watch %q: %w", key, kv.ErrClosed)
	case startRev > 0 && startRev < s.compactRev:
		err = fmt.Errorf("memory: watch %q from revision %d, compacted at %d: %w", key, startRev, s.compactRev, kv.ErrCompacted)
	default:
		if startRev <= 0 {
			w.next = s.rev + 1
		}
		if s.watchers == nil {
			s.watchers = make(map[*watcher]struct{})
		}
		s.watchers[w] = struct{}{}
	}
	s.mu.Unlock()
	if err != nil {
		ch <- kv.WatchResponse{Err: err}
		close(ch)
		return ch
	}
	go s.watch(ctx, w, ch)
	return ch
}

// Bounds on the work one watch does per hold of the read lock.
const (
	watchBatch = 64   // responses
	watchScan  = 4096 // log entries
)

// collect appends w's responses for log revisions [w.next, upTo] (at most
// watchBatch responses and watchScan entries when limited). Called with the
// lock held.
func (s *Store) collect(w *watcher, upTo int64, out []kv.WatchResponse, limited bool) []kv.WatchResponse {
	w.next = max(w.next, s.logStart)
	for scanned := 0; w.next <= upTo; scanned++ {
		if limited && (len(out) >= watchBatch || scanned >= watchScan) {
			break
		}
		var evs []kv.Event
		for _, c := range s.log[w.next-s.logStart].changes {
			if w.sp.contains(c.name) {
				evs = append(evs, c.event())
			}
		}
		if evs != nil {
			out = append(out, kv.WatchResponse{Events: evs})
		}
		w.next++
	}
	return out
}

func (s *Store) watch(ctx context.Context, w *watcher, ch chan<- kv.WatchResponse) {
	defer close(ch)
	defer func() {
		s.mu.Lock()
		delete(s.watchers, w)
		s.mu.Unlock()
	}()
	send := func(r kv.WatchResponse) bool {
		select {
		case ch <- r:
			return true
		case <-ctx.Done():
			return false
		}
	}
	var batch []kv.WatchResponse
	for ctx.Err() == nil {
		s.mu.RLock()
		batch = append(batch[:0], w.pending...)
		w.pending = nil
		if len(batch) == 0 && s.closed {
			s.mu.RUnlock()
			send(kv.WatchResponse{Err: fmt.Errorf("memory: watch %q: %w", w.sp.start, kv.ErrClosed)})
			return
		}
		batch = s.collect(w, s.rev, batch, true)
		var wait <-chan struct{}
		if len(batch) == 0 {
			wait = s.waitChan()
		}
		s.mu.RUnlock()
		for _, r := range batch {
			if !send(r) {
				return
			}
		}
		clear(batch)
		if wait != nil {
			select {
			case <-wait:
			case <-ctx.Done():
				return
			}
		}
	}
}

// rescueWatchers copies to every lagging watch the log revisions below
// rev, which compaction is about to discard. Called with the write lock.
func (s *Store) rescueWatchers(rev int64) {
	for w := range s.watchers {
		if w.next < rev {
			w.pending = s.collect(w, rev-1, w.pending, false)
		}
	}
}

func (c *change) event() kv.Event {
	if c.rec.ver == 0 {
		return kv.Event{Type: kv.EventDelete, KV: kv.KeyValue{Key: []byte(c.name), ModRevision: c.rec.mod}}
	}
	return kv.Event{Type: kv.EventPut, KV: c.rec.toKV(c.name, false)}
}
