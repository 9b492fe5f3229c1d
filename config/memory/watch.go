package memory

import (
	"context"
	"fmt"

	"github.com/sdpkit/sdpkit/config/kv"
)

// Watch reports the changes to key (or to [key, rangeEnd); rangeEnd "\x00"
// means every key from key on) from revision startRev on, one response per
// revision with its events in op order. startRev 0 means changes after the
// call. A start below the compaction revision yields one response with
// kv.ErrCompacted; Close yields kv.ErrClosed; either closes the channel, as
// does the end of ctx (without a response).
//
// Watches never drop events: each one reads the store's revision log at its
// own pace, so a slow reader only delays itself.
func (s *Store) Watch(ctx context.Context, key, rangeEnd []byte, startRev int64) <-chan kv.WatchResponse {
	ch := make(chan kv.WatchResponse, 16)
	sp := mkSpan(key, rangeEnd)
	s.mu.RLock()
	closed := s.closed
	if startRev <= 0 {
		startRev = s.rev + 1
	}
	s.mu.RUnlock()
	if closed {
		ch <- kv.WatchResponse{Err: fmt.Errorf("memory: watch %q: %w", key, kv.ErrClosed)}
		close(ch)
		return ch
	}
	go s.watch(ctx, sp, startRev, ch)
	return ch
}

// Bounds on the work one watch does per hold of the read lock.
const (
	watchBatch = 64   // responses
	watchScan  = 4096 // log entries
)

func (s *Store) watch(ctx context.Context, sp span, next int64, ch chan<- kv.WatchResponse) {
	defer close(ch)
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
		batch = batch[:0]
		s.mu.RLock()
		if s.closed {
			s.mu.RUnlock()
			send(kv.WatchResponse{Err: fmt.Errorf("memory: watch %q: %w", sp.start, kv.ErrClosed)})
			return
		}
		if next < s.compactRev {
			err := fmt.Errorf("memory: watch %q from revision %d, compacted at %d: %w", sp.start, next, s.compactRev, kv.ErrCompacted)
			s.mu.RUnlock()
			send(kv.WatchResponse{Err: err})
			return
		}
		next = max(next, s.logStart)
		for scanned := 0; next <= s.rev && len(batch) < watchBatch && scanned < watchScan; scanned++ {
			var evs []kv.Event
			for _, c := range s.log[next-s.logStart].changes {
				if sp.contains(c.name) {
					evs = append(evs, c.event())
				}
			}
			if evs != nil {
				batch = append(batch, kv.WatchResponse{Events: evs})
			}
			next++
		}
		var wait <-chan struct{}
		if next > s.rev {
			wait = s.waitChan()
		}
		s.mu.RUnlock()
		for _, r := range batch {
			if !send(r) {
				return
			}
		}
		if wait != nil {
			select {
			case <-wait:
			case <-ctx.Done():
				return
			}
		}
	}
}

func (c *change) event() kv.Event {
	if c.rec.ver == 0 {
		return kv.Event{Type: kv.EventDelete, KV: kv.KeyValue{Key: []byte(c.name), ModRevision: c.rec.mod}}
	}
	return kv.Event{Type: kv.EventPut, KV: c.rec.toKV(c.name, false)}
}
