package etcd

import (
	"context"
	"fmt"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/sdpkit/sdpkit/config/kv"
)

// Watch watches key (or [key, rangeEnd); "\x00" means every key from key
// on) from startRev (0: changes after the call) through clientv3.Watch, one
// response per revision. Watch returns once etcd has created the watch, so
// every change after the call is reported. The channel ends with one error
// response on compaction (kv.ErrCompacted), on a refused watch, or on
// Close (kv.ErrClosed), and without one when ctx ends. While the server is
// unreachable the client retries, resuming after the last revision seen.
func (s *Store) Watch(ctx context.Context, key, rangeEnd []byte, startRev int64) <-chan kv.WatchResponse {
	out := make(chan kv.WatchResponse, 16)
	what := fmt.Sprintf("watch %q", key)
	if err := s.checkOpen(what); err != nil {
		out <- kv.WatchResponse{Err: err}
		close(out)
		return out
	}
	wctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.ctx, cancel) // Close ends the watch
	var opts []clientv3.OpOption
	if len(rangeEnd) > 0 {
		opts = append(opts, clientv3.WithRange(string(rangeEnd)))
	}
	if startRev > 0 {
		opts = append(opts, clientv3.WithRev(startRev))
	}
	// Wait for the created notification, so that the watch exists on the
	// server when Watch returns: a from-now watch then sees every later
	// change, and a compaction after Watch cannot end a watch from an old
	// revision.
	opts = append(opts, clientv3.WithCreatedNotify())
	wch := s.c.Watch(wctx, string(key), opts...)
	var first *clientv3.WatchResponse
	// last is the newest revision reported (or skipped): clientv3 may
	// replay from an older revision when it resumes a watch after a
	// reconnect (a from-now watch resumes at its creation revision), so
	// anything at or below it is dropped.
	last := startRev - 1
	select {
	case r, ok := <-wch:
		switch {
		case !ok:
			wch = nil
		case r.Created && r.Err() == nil && len(r.Events) == 0:
			if startRev <= 0 {
				last = r.Header.Revision
			}
		default:
			first = &r
		}
	case <-ctx.Done():
	}
	go func() {
		defer close(out)
		defer stop()
		defer cancel()
		send := func(r kv.WatchResponse) bool {
			select {
			case out <- r:
				return true
			case <-ctx.Done():
				return false
			}
		}
		handle := func(r *clientv3.WatchResponse) bool {
			if err := r.Err(); err != nil {
				what := what
				if r.CompactRevision != 0 {
					what = fmt.Sprintf("%s (compacted at %d)", what, r.CompactRevision)
				}
				if s.closed.Load() {
					send(kv.WatchResponse{Err: fmt.Errorf("etcd: %s: %w", what, kv.ErrClosed)})
				} else if ctx.Err() == nil {
					send(kv.WatchResponse{Err: mapErr(what, err)})
				}
				return false
			}
			evs := r.Events
			for len(evs) > 0 && evs[0].Kv.ModRevision <= last {
				evs = evs[1:]
			}
			for len(evs) > 0 {
				n := 1
				for n < len(evs) && evs[n].Kv.ModRevision == evs[0].Kv.ModRevision {
					n++
				}
				resp := kv.WatchResponse{Events: make([]kv.Event, n)}
				for i, e := range evs[:n] {
					if e.Type == mvccpb.DELETE {
						resp.Events[i] = kv.Event{Type: kv.EventDelete, KV: kv.KeyValue{Key: e.Kv.Key, ModRevision: e.Kv.ModRevision}}
					} else {
						resp.Events[i] = kv.Event{Type: kv.EventPut, KV: fromKV(e.Kv, false)}
					}
				}
				if !send(resp) {
					return false
				}
				last = evs[0].Kv.ModRevision
				evs = evs[n:]
			}
			return true
		}
		if first != nil && !handle(first) {
			return
		}
		if wch != nil {
			for r := range wch {
				if !handle(&r) {
					return
				}
			}
		}
		switch {
		case ctx.Err() != nil:
		case s.closed.Load():
			send(kv.WatchResponse{Err: fmt.Errorf("etcd: %s: %w", what, kv.ErrClosed)})
		default:
			send(kv.WatchResponse{Err: fmt.Errorf("etcd: %s: channel closed by the client: %w", what, kv.ErrUnavailable)})
		}
	}()
	return out
}
