// Package kvtest is the conformance suite of kv.KV: one table of etcd's
// behaviours (revisions and versions, reads at old revisions, compaction,
// compares, ranges, deletes, transactions, request limits, leases,
// watches) that every store must pass. It runs against the memory store
// and against real etcd servers (Debian's etcd and the embedded one), which
// is what proves the memory store behaves like etcd.
//
// Usage, in a store's tests:
//
//	func TestConformance(t *testing.T) {
//		kvtest.Run(t, func(t *testing.T) kv.KV { return memory.New() })
//	}
//
// Every case starts by deleting every key, so one server may back all cases
// (case after case, not in parallel); expectations about revisions are
// relative to the revision each case starts at.
package kvtest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/config/kv"
)

// Option configures Run.
type Option func(*config)

type config struct {
	advance      func(s kv.KV, d time.Duration)
	noCompaction bool
}

// WithAdvance gives the suite a way to move the store's lease clock
// forward by d (e.g. the Advance of the store's memory.ManualClock), so
// lease cases need not sleep. Without it they sleep in real time, with the
// slack a real server needs (etcd raises TTLs below about 2 s and checks
// expiry every 500 ms).
func WithAdvance(advance func(s kv.KV, d time.Duration)) Option {
	return func(c *config) { c.advance = advance }
}

// WithoutCompaction skips the compaction cases even if the store
// implements kv.Compactor (they compact the store's whole history).
func WithoutCompaction() Option { return func(c *config) { c.noCompaction = true } }

// capability is what a case needs beyond kv.KV.
type capability int

const (
	capNone capability = iota
	capCompaction
)

type testCase struct {
	name  string
	needs capability
	run   func(t *testing.T, e *env)
}

// Cases returns the names of the suite's cases, in order.
func Cases() []string {
	var names []string
	for _, c := range cases {
		names = append(names, c.name)
	}
	return names
}

// Run runs every case as a subtest, each on a store from newStore. The
// suite closes stores it is done with; newStore may register more cleanup.
func Run(t *testing.T, newStore func(t *testing.T) kv.KV, opts ...Option) {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newStore(t)
			t.Cleanup(func() { _ = s.Close() })
			e := &env{s: s, cfg: &cfg}
			if c.needs == capCompaction {
				cp, ok := s.(kv.Compactor)
				if !ok || cfg.noCompaction {
					t.Skip("store without compaction")
				}
				e.cp = cp
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			e.ctx = ctx
			e.wipe(t)
			c.run(t, e)
		})
	}
}

// env is one case's store and helpers.
type env struct {
	s   kv.KV
	cp  kv.Compactor
	cfg *config
	ctx context.Context
}

func b(s string) []byte { return []byte(s) }

// wipe deletes every key, so the case starts from an empty key space.
func (e *env) wipe(t *testing.T) {
	t.Helper()
	if _, err := e.s.Txn(e.ctx, nil, []kv.Op{{Type: kv.OpDelete, Key: []byte{0}, RangeEnd: []byte{0}}}, nil); err != nil {
		t.Fatalf("wiping the store: %v", err)
	}
}

// rev returns the current store revision.
func (e *env) rev(t *testing.T) int64 {
	t.Helper()
	_, rev, err := e.s.Get(e.ctx, b("kvtest-revision-probe"), 0)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	return rev
}

func (e *env) txn(t *testing.T, cmps []kv.Compare, success, failure []kv.Op) kv.TxnResult {
	t.Helper()
	r, err := e.s.Txn(e.ctx, cmps, success, failure)
	if err != nil {
		t.Fatalf("Txn: %v", err)
	}
	return r
}

func (e *env) put(t *testing.T, key, val string) int64 {
	t.Helper()
	return e.txn(t, nil, []kv.Op{put(key, val)}, nil).Revision
}

func (e *env) putLease(t *testing.T, key, val string, l kv.LeaseID) int64 {
	t.Helper()
	return e.txn(t, nil, []kv.Op{{Type: kv.OpPut, Key: b(key), Value: b(val), Lease: l}}, nil).Revision
}

func (e *env) del(t *testing.T, key, end string) (rev, deleted int64) {
	t.Helper()
	op := kv.Op{Type: kv.OpDelete, Key: b(key)}
	if end != "" {
		op.RangeEnd = b(end)
	}
	r := e.txn(t, nil, []kv.Op{op}, nil)
	return r.Revision, r.Results[0].Deleted
}

func (e *env) get(t *testing.T, key string, rev int64) *kv.KeyValue {
	t.Helper()
	kvp, _, err := e.s.Get(e.ctx, b(key), rev)
	if err != nil {
		t.Fatalf("Get %q at %d: %v", key, rev, err)
	}
	return kvp
}

// rng runs one Range op.
func (e *env) rng(t *testing.T, key, end string, rev int64, keysOnly bool) []kv.KeyValue {
	t.Helper()
	op := kv.Op{Type: kv.OpRange, Key: b(key), Revision: rev, KeysOnly: keysOnly}
	if end != "" {
		op.RangeEnd = b(end)
	}
	return e.txn(t, nil, []kv.Op{op}, nil).Results[0].KVs
}

func put(key, val string) kv.Op { return kv.Op{Type: kv.OpPut, Key: b(key), Value: b(val)} }

func keysOf(kvs []kv.KeyValue) string {
	s := ""
	for i, x := range kvs {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%q", x.Key)
	}
	return "[" + s + "]"
}

// elapse lets d pass on the store's lease clock.
func (e *env) elapse(d time.Duration) {
	if e.cfg.advance != nil {
		e.cfg.advance(e.s, d)
		return
	}
	time.Sleep(d)
}

// eventually waits until cond holds, letting up to d pass on the lease
// clock (and, for a real server, some slack on top).
func (e *env) eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	slack := 2 * time.Second
	if e.cfg.advance != nil {
		e.cfg.advance(e.s, d)
	} else {
		slack += d + 3*time.Second
	}
	deadline := time.Now().Add(slack)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func wantErr(t *testing.T, err, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: error %v, want %v", what, err, target)
	}
}

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

const watchWait = 10 * time.Second

// recv returns the next watch response, failing on timeout or close.
func recv(t *testing.T, ch <-chan kv.WatchResponse) kv.WatchResponse {
	t.Helper()
	select {
	case r, ok := <-ch:
		if !ok {
			t.Fatal("watch channel closed")
		}
		return r
	case <-time.After(watchWait):
		t.Fatal("no watch response")
	}
	return kv.WatchResponse{}
}

// quiet checks no response arrives within d.
func quiet(t *testing.T, ch <-chan kv.WatchResponse, d time.Duration) {
	t.Helper()
	select {
	case r, ok := <-ch:
		t.Fatalf("unexpected watch response %+v (open %v)", r, ok)
	case <-time.After(d):
	}
}

// ev is an expected event; create and version are checked for puts when
// set.
type ev struct {
	typ             kv.EventType
	key, val        string
	mod             int64
	create, version int64
}

func checkEvents(t *testing.T, r kv.WatchResponse, want ...ev) {
	t.Helper()
	if r.Err != nil {
		t.Fatalf("watch error %v", r.Err)
	}
	if len(r.Events) != len(want) {
		t.Fatalf("%d events %+v, want %d %+v", len(r.Events), r.Events, len(want), want)
	}
	for i, w := range want {
		g := r.Events[i]
		ok := g.Type == w.typ && string(g.KV.Key) == w.key && g.KV.ModRevision == w.mod
		if w.typ == kv.EventPut {
			ok = ok && string(g.KV.Value) == w.val &&
				(w.create == 0 || g.KV.CreateRevision == w.create) &&
				(w.version == 0 || g.KV.Version == w.version)
		} else {
			ok = ok && len(g.KV.Value) == 0
		}
		if !ok {
			t.Fatalf("event %d = {type %v key %q value %q mod %d create %d version %d}, want %+v",
				i, g.Type, g.KV.Key, g.KV.Value, g.KV.ModRevision, g.KV.CreateRevision, g.KV.Version, w)
		}
	}
}

func checkKV(t *testing.T, got *kv.KeyValue, key, val string, create, mod, version int64) {
	t.Helper()
	if got == nil {
		t.Fatalf("%q missing", key)
	}
	if string(got.Key) != key || string(got.Value) != val || got.CreateRevision != create ||
		got.ModRevision != mod || got.Version != version {
		t.Fatalf("got {%q=%q create %d mod %d version %d}, want {%q=%q create %d mod %d version %d}",
			got.Key, got.Value, got.CreateRevision, got.ModRevision, got.Version, key, val, create, mod, version)
	}
}
