package config

import (
	"bytes"
	"context"
	"fmt"
	"iter"
	"sync"
	"time"

	"github.com/sdpkit/sdpkit/config/kv"
)

// WatcherOption configures DB.Watcher.
type WatcherOption func(*Watcher)

// Timeout makes every wait of a watcher end after d even if nothing
// changed (0: wait indefinitely). Watcher.TimedOut tells which happened.
func Timeout(d time.Duration) WatcherOption { return func(w *Watcher) { w.timeout = d } }

// Watcher runs the iterations of a watcher loop (spec §2.5): in each
// iteration the loop body runs transactions through Watcher.Txn; when the
// body asks for the next iteration, the watcher blocks until something
// those transactions read changes:
//
//   - a key read with Get: any change (value update, delete, re-create);
//   - a listing: only a change of membership — a listed key deleted or a
//     new key at the listed level — not a value update of a listed key;
//     listings see one level, so children and parents of listed keys do
//     not count;
//   - Trigger (from any goroutine), or the Timeout.
//
// Changes are counted from what each transaction saw: from its read
// revision, or from its commit revision when it wrote (the commit's guards
// prove nothing it read changed in between, so a watcher does not wake
// for its own writes). So, unlike 0.3.2, a watch set up in a later
// iteration never replays changes already seen. Queued changes are
// drained before the next iteration starts, so a burst of changes wakes
// the loop once. Store watches are kept across iterations while still
// needed.
type Watcher struct {
	db    *DB
	ctx   context.Context
	scope *entityScope // set by Config.Watcher

	mu        sync.Mutex
	timeout   time.Duration
	timedOut  bool
	triggered bool
	queue     []watchItem
	signal    chan struct{} // capacity 1: something was queued or triggered

	// The wait set built by this iteration's transactions.
	gets  map[string]int64     // store key → revision its value was seen at
	lists map[string]*listWait // listed range start → what was seen

	active map[string]*activeWatch
	wg     sync.WaitGroup
}

type listWait struct {
	key, end []byte
	members  map[string]bool
	rev      int64
}

type activeWatch struct {
	cancel context.CancelFunc
}

type watchItem struct {
	w   *activeWatch
	ev  kv.Event
	err error
}

// Watcher returns a watcher loop over db:
//
//	for w, err := range db.Watcher(ctx, config.Timeout(time.Minute)) {
//		if err != nil {
//			return err // ctx ended
//		}
//		err := w.Txn(ctx, func(tx *config.Txn) error { … })
//		…
//	} // breaking out of the loop stops every store watch
//
// Every iteration yields the same *Watcher. The first iteration starts at
// once; each later one starts when something read in the previous one
// changed (see Watcher). When ctx ends the loop yields ctx's error once and
// stops.
func (db *DB) Watcher(ctx context.Context, opts ...WatcherOption) iter.Seq2[*Watcher, error] {
	return func(yield func(*Watcher, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		w := &Watcher{
			db:     db,
			ctx:    ctx,
			signal: make(chan struct{}, 1),
			gets:   map[string]int64{},
			lists:  map[string]*listWait{},
			active: map[string]*activeWatch{},
		}
		for _, o := range opts {
			o(w)
		}
		defer func() {
			cancel()
			w.wg.Wait()
		}()
		for {
			if !yield(w, nil) {
				return
			}
			if err := w.wait(ctx); err != nil {
				yield(nil, fmt.Errorf("config: watcher: %w", err))
				return
			}
		}
	}
}

// Txn runs a transaction as DB.Txn does; once it has committed, what it
// read joins the set the watcher waits on at the end of this iteration.
// (Transactions of one iteration commit independently of each other.)
func (w *Watcher) Txn(ctx context.Context, fn func(tx *Txn) error, opts ...TxnOption) error {
	return w.db.runTxn(ctx, withScope(w.scope, fn), opts, w.record)
}

// Trigger wakes the watcher: the current or next wait ends at once. Safe
// to call from any goroutine.
func (w *Watcher) Trigger() {
	w.mu.Lock()
	w.triggered = true
	w.mu.Unlock()
	w.notify()
}

// SetTimeout changes the Timeout of the following waits.
func (w *Watcher) SetTimeout(d time.Duration) {
	w.mu.Lock()
	w.timeout = d
	w.mu.Unlock()
}

// TimedOut reports whether the last wait ended by its timeout, with no
// waking change and no Trigger.
func (w *Watcher) TimedOut() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.timedOut
}

func (w *Watcher) notify() {
	select {
	case w.signal <- struct{}{}:
	default:
	}
}

// record adds a committed transaction's reads and listings to the wait set.
func (w *Watcher) record(t *Txn) {
	rev := t.rev
	if len(t.writeOrder) > 0 {
		rev = t.commitRev
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, r := range t.readOrder {
		if seen, ok := w.gets[string(r.key)]; !ok || rev > seen {
			w.gets[string(r.key)] = rev
		}
	}
	for _, l := range t.listOrder {
		if old := w.lists[string(l.key)]; old != nil && old.rev > rev {
			continue
		}
		lw := &listWait{key: l.key, end: l.end, members: map[string]bool{}, rev: rev}
		for _, k := range l.keys {
			lw.members[string(k)] = true
		}
		if rev != t.rev {
			// Seen as of the commit: include this transaction's own writes.
			for _, wr := range t.writeOrder {
				if bytes.HasPrefix(wr.key, l.key) {
					lw.members[string(wr.key)] = !wr.del
				}
			}
		}
		w.lists[string(l.key)] = lw
	}
}

// wait sets up the store watches for the wait set and blocks until a
// waking change, a trigger, the timeout or the end of ctx; then clears
// the wait set.
func (w *Watcher) wait(ctx context.Context) error {
	w.syncWatches()
	w.mu.Lock()
	timeout := w.timeout
	w.mu.Unlock()
	var timer <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		timer = t.C
	}
	timedOut := false
	for woke := false; !woke; {
		w.mu.Lock()
		items := w.queue
		w.queue = nil
		woke = w.triggered
		w.triggered = false
		w.mu.Unlock()
		// Every queued change is looked at: this drains the queue, so a
		// burst of changes wakes one iteration.
		for _, it := range items {
			if w.wakes(it) {
				woke = true
			}
		}
		if woke {
			break
		}
		select {
		case <-w.signal:
		case <-timer:
			timedOut, woke = true, true
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	w.mu.Lock()
	w.timedOut = timedOut
	clear(w.gets)
	clear(w.lists)
	w.mu.Unlock()
	return nil
}

// wakes applies the wake rules to one queued item.
func (w *Watcher) wakes(it watchItem) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if it.err != nil {
		// A broken store watch (compaction, lost connection): wake, so
		// the next iteration re-reads, and set the watch up afresh.
		for id, a := range w.active {
			if a == it.w {
				a.cancel()
				delete(w.active, id)
				return true
			}
		}
		return false
	}
	key, rev := it.ev.KV.Key, it.ev.KV.ModRevision
	if seen, ok := w.gets[string(key)]; ok && rev > seen {
		return true
	}
	for _, l := range w.lists {
		if rev > l.rev && bytes.HasPrefix(key, l.key) && bytes.Compare(key, l.end) < 0 {
			if it.ev.Type == kv.EventDelete || !l.members[string(key)] {
				return true
			}
		}
	}
	return false
}

// syncWatches starts a store watch for every listing (one level) and for
// every read key no listing covers, each from the revision after the one
// it was seen at, keeps those already running, and stops the rest.
func (w *Watcher) syncWatches() {
	type want struct {
		key, end []byte
		start    int64
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	wanted := map[string]want{}
	for k, l := range w.lists {
		wanted["p"+k] = want{l.key, l.end, l.rev + 1}
	}
	for k, rev := range w.gets {
		covered := false
		for _, l := range w.lists {
			if bytes.HasPrefix([]byte(k), l.key) {
				covered = true
				break
			}
		}
		if !covered {
			wanted["k"+k] = want{[]byte(k), nil, rev + 1}
		}
	}
	for id, a := range w.active {
		if _, ok := wanted[id]; !ok {
			a.cancel()
			delete(w.active, id)
		}
	}
	for id, wt := range wanted {
		if w.active[id] != nil {
			continue
		}
		ctx, cancel := context.WithCancel(w.ctx)
		a := &activeWatch{cancel: cancel}
		w.active[id] = a
		ch := w.db.kv.Watch(ctx, wt.key, wt.end, wt.start)
		w.wg.Add(1)
		go w.forward(ctx, a, ch)
	}
}

// forward queues the changes of one store watch.
func (w *Watcher) forward(ctx context.Context, a *activeWatch, ch <-chan kv.WatchResponse) {
	defer w.wg.Done()
	defer func() {
		for range ch {
		}
	}()
	for resp := range ch {
		if resp.Err != nil {
			w.push(watchItem{w: a, err: resp.Err})
			return
		}
		w.mu.Lock()
		for _, ev := range resp.Events {
			w.queue = append(w.queue, watchItem{w: a, ev: ev})
		}
		w.mu.Unlock()
		w.notify()
	}
	if ctx.Err() == nil {
		w.push(watchItem{w: a, err: errWatchClosed})
	}
}

func (w *Watcher) push(it watchItem) {
	w.mu.Lock()
	w.queue = append(w.queue, it)
	w.mu.Unlock()
	w.notify()
}
