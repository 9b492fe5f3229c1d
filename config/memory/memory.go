// Package memory is an in-process kv.KV that behaves like etcd: one
// store-wide revision that every write transaction increments once, per-key
// create revision, mod revision and version, a multi-version history so
// reads at old revisions and watches from past revisions work, compaction,
// transactions with etcd's compares (range compares included) and request
// checks (operation limit, duplicate and empty keys), watches, and leases
// that expire after their TTL unless kept alive.
//
// Every New returns an independent store (unlike the Python library's
// memory backend, which shares one dictionary between instances). The
// conformance suite in config/kv/kvtest runs the same cases against this
// store and against real etcd servers.
//
// Differences from etcd, all deliberate: there is no minimum lease TTL
// (etcd raises short TTLs to about 2 s), lease IDs count up from 1, a
// watch reports exactly one revision per response, keys-only reads carry
// the lease as etcd 3.4 does (3.6+ leave it 0), and a watch from a past
// revision is never cancelled by a compaction that comes after Watch
// returned (etcd may cancel one it has not caught up yet).
package memory

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/sdpkit/sdpkit/config/kv"
)

// DefaultMaxTxnOps is etcd's default --max-txn-ops: the most compares, and
// the most ops in each of the success and failure lists, of one
// transaction.
const DefaultMaxTxnOps = 128

// Option configures New.
type Option func(*options)

type options struct {
	clock     Clock
	retention int64
	maxTxnOps int
}

// WithClock sets the clock that times lease expiry and keep-alives
// (default: the system clock). Use a ManualClock in tests.
func WithClock(c Clock) Option { return func(o *options) { o.clock = c } }

// WithRetention bounds the history: at least the last revs revisions stay
// readable, and older ones are compacted automatically, in batches, as
// writes go on (as etcd's revision-mode auto-compaction). 0, the default,
// keeps the whole history until Compact is called, as etcd does without
// auto-compaction; long-running stores should set a bound.
func WithRetention(revs int64) Option { return func(o *options) { o.retention = max(revs, 0) } }

// WithMaxTxnOps sets the operation limit per compare/success/failure list
// (default DefaultMaxTxnOps); a bigger transaction fails with
// kv.ErrTooManyOps.
func WithMaxTxnOps(n int) Option { return func(o *options) { o.maxTxnOps = n } }

// Store is the in-memory store. Create it with New; it is safe for
// concurrent use.
type Store struct {
	opts options

	mu         sync.RWMutex
	rev        int64 // current store revision; 1 when empty, as etcd
	compactRev int64 // reads below this revision fail with ErrCompacted
	keys       map[string]*key
	idx        index
	dirty      []*key // keys with history that compaction may shrink
	log        []revLog
	logStart   int64 // revision of log[0]
	leases     map[kv.LeaseID]*lease
	watchers   map[*watcher]struct{}
	lastLease  kv.LeaseID
	nmu        sync.Mutex
	notify     chan struct{} // closed at the next commit; nil until a watcher waits
	closed     bool
	done       chan struct{} // closed by Close
}

// key is one key's history, oldest first.
type key struct {
	name  string
	recs  []rec
	dirty bool // queued in Store.dirty
}

// rec is one version of a key; a tombstone (ver == 0) records a deletion
// at mod.
type rec struct {
	mod, create, ver int64
	lease            kv.LeaseID
	val              string
}

// revLog is what one revision changed, in op order, for watches.
type revLog struct {
	rev     int64
	changes []change
}

type change struct {
	name string
	rec  rec
}

// New returns an empty store at revision 1.
func New(opts ...Option) *Store {
	o := options{clock: systemClock{}, maxTxnOps: DefaultMaxTxnOps}
	for _, f := range opts {
		f(&o)
	}
	return &Store{
		opts:     o,
		rev:      1,
		keys:     make(map[string]*key),
		leases:   make(map[kv.LeaseID]*lease),
		logStart: 2,
		done:     make(chan struct{}),
	}
}

var (
	_ kv.KV        = (*Store)(nil)
	_ kv.Compactor = (*Store)(nil)
)

// Revision returns the current store revision.
func (s *Store) Revision() int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.rev
}

// CompactRevision returns the revision of the last compaction (0: none).
func (s *Store) CompactRevision() int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.compactRev
}

// at returns the version of k visible at revision r, or nil if k did not
// exist then.
func (k *key) at(r int64) *rec {
	recs := k.recs
	i := len(recs) - 1
	if recs[i].mod > r { // not the latest: search the history
		i = sort.Search(len(recs), func(j int) bool { return recs[j].mod > r }) - 1
	}
	if i < 0 || recs[i].ver == 0 {
		return nil
	}
	return &recs[i]
}

// live returns k's current version, or nil if deleted.
func (k *key) live() *rec {
	if r := &k.recs[len(k.recs)-1]; r.ver != 0 {
		return r
	}
	return nil
}

// toKV copies a version out of the store (one allocation for key and
// value); the value is non-nil, even if empty, unless keysOnly.
func (r *rec) toKV(name string, keysOnly bool) kv.KeyValue {
	out := kv.KeyValue{CreateRevision: r.create, ModRevision: r.mod, Version: r.ver, Lease: r.lease}
	if keysOnly {
		out.Key = []byte(name)
		return out
	}
	buf := make([]byte, len(name)+len(r.val))
	copy(buf, name)
	copy(buf[len(name):], r.val)
	out.Key = buf[:len(name):len(name)]
	out.Value = buf[len(name):]
	return out
}

// checkRev validates a read revision (0: latest) under the lock.
func (s *Store) checkRev(rev int64) error {
	if rev > s.rev {
		return fmt.Errorf("revision %d > store revision %d: %w", rev, s.rev, kv.ErrFutureRevision)
	}
	if rev > 0 && rev < s.compactRev {
		return fmt.Errorf("revision %d < compacted revision %d: %w", rev, s.compactRev, kv.ErrCompacted)
	}
	return nil
}

// Get reads key at revision rev (0: latest).
func (s *Store) Get(ctx context.Context, key []byte, rev int64) (*kv.KeyValue, int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, fmt.Errorf("memory: get %q: %w", key, err)
	}
	if len(key) == 0 {
		return nil, 0, fmt.Errorf("memory: get: %w", kv.ErrEmptyKey)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, 0, fmt.Errorf("memory: get %q: %w", key, kv.ErrClosed)
	}
	if err := s.checkRev(rev); err != nil {
		return nil, 0, fmt.Errorf("memory: get %q: %w", key, err)
	}
	k := s.keys[string(key)]
	if k == nil {
		return nil, s.rev, nil
	}
	if rev <= 0 {
		rev = s.rev
	}
	r := k.at(rev)
	if r == nil {
		return nil, s.rev, nil
	}
	out := r.toKV(k.name, false)
	return &out, s.rev, nil
}

// span is a key range in etcd's conventions: a single key (no end), every
// key from start on (end "\x00"), or [start, end).
type span struct {
	start, end    string
	single, toEnd bool
}

func mkSpan(key, end []byte) span {
	switch {
	case len(end) == 0:
		return span{start: string(key), single: true}
	case len(end) == 1 && end[0] == 0:
		return span{start: string(key), toEnd: true}
	}
	return span{start: string(key), end: string(end)}
}

func (sp *span) contains(name string) bool {
	switch {
	case sp.single:
		return name == sp.start
	case sp.toEnd:
		return name >= sp.start
	}
	return name >= sp.start && name < sp.end
}

// each calls fn for every key of the index in sp (existing or not at any
// particular revision), in order, until fn returns false.
func (s *Store) each(sp span, fn func(*key) bool) {
	if sp.single {
		if k := s.keys[sp.start]; k != nil {
			fn(k)
		}
		return
	}
	if !sp.toEnd && sp.end <= sp.start {
		return
	}
	s.idx.ascend(sp.start, sp.end, sp.toEnd, fn)
}

// Txn runs a transaction as etcd does: request checks first (operation
// limit, empty keys, duplicate keys, nested transactions included), then
// the compares of every level against the current state, then checks of
// the chosen ops (leases, range revisions), then the chosen ops in order.
// Ops of one transaction see the writes of earlier ops in it; all its
// writes share one new revision, which is made only if something changed.
func (s *Store) Txn(ctx context.Context, cmps []kv.Compare, success, failure []kv.Op) (kv.TxnResult, error) {
	if err := ctx.Err(); err != nil {
		return kv.TxnResult{}, fmt.Errorf("memory: txn: %w", err)
	}
	if err := checkTxn(cmps, success, failure, s.opts.maxTxnOps); err != nil {
		return kv.TxnResult{}, fmt.Errorf("memory: txn: %w", err)
	}
	if hasWrites(success) || hasWrites(failure) {
		s.mu.Lock()
		defer s.mu.Unlock()
	} else {
		s.mu.RLock()
		defer s.mu.RUnlock()
	}
	if s.closed {
		return kv.TxnResult{}, fmt.Errorf("memory: txn: %w", kv.ErrClosed)
	}
	d := s.decide(cmps, success, failure)
	// etcd checks the chosen ops against the state before the transaction,
	// so a failing op leaves no partial writes.
	if err := s.checkChosen(d, ""); err != nil {
		return kv.TxnResult{}, fmt.Errorf("memory: txn %w", err)
	}
	newRev := s.rev + 1
	var changes []change
	res := s.exec(d, newRev, &changes)
	if len(changes) > 0 {
		s.commit(newRev, changes)
	}
	setRevision(&res, s.rev)
	return res, nil
}

// decision is which list one level of a transaction runs, with the
// decisions of the nested transactions in it (by op index).
type decision struct {
	ok  bool
	ops []kv.Op
	sub []*decision
}

// decide evaluates the compares of every level against the current
// state, before anything is written, as etcd's compareToPath.
func (s *Store) decide(cmps []kv.Compare, success, failure []kv.Op) *decision {
	d := &decision{ok: true, ops: success}
	for i := range cmps {
		if !s.compare(&cmps[i]) {
			d.ok, d.ops = false, failure
			break
		}
	}
	for i := range d.ops {
		if op := &d.ops[i]; op.Type == kv.OpTxn {
			if d.sub == nil {
				d.sub = make([]*decision, len(d.ops))
			}
			var t kv.TxnRequest
			if op.Txn != nil {
				t = *op.Txn
			}
			d.sub[i] = s.decide(t.Compares, t.Success, t.Failure)
		}
	}
	return d
}

// checkChosen checks the chosen ops of every level, as etcd 3.4 does
// (3.6 and later check in op order; only which error is reported when
// several ops fail differs):
// first every put's lease must exist, then every range's revision must be
// readable (so a missing lease is reported before a bad revision).
func (s *Store) checkChosen(d *decision, where string) error {
	if err := s.checkChosenOps(d, where, kv.OpPut); err != nil {
		return err
	}
	return s.checkChosenOps(d, where, kv.OpRange)
}

func (s *Store) checkChosenOps(d *decision, where string, typ kv.OpType) error {
	for i := range d.ops {
		op := &d.ops[i]
		switch {
		case op.Type == kv.OpTxn:
			if err := s.checkChosenOps(d.sub[i], fmt.Sprintf("%s%d.", where, i), typ); err != nil {
				return err
			}
		case op.Type != typ:
		case typ == kv.OpPut:
			if op.Lease != 0 && s.leases[op.Lease] == nil {
				return fmt.Errorf("op %s%d: put %q with lease %x: %w", where, i, op.Key, op.Lease, kv.ErrLeaseNotFound)
			}
		default:
			if err := s.checkRev(op.Revision); err != nil {
				return fmt.Errorf("op %s%d: range %q: %w", where, i, op.Key, err)
			}
		}
	}
	return nil
}

// exec runs the chosen ops of d at newRev, appending the writes to
// changes.
func (s *Store) exec(d *decision, newRev int64, changes *[]change) kv.TxnResult {
	res := kv.TxnResult{Succeeded: d.ok}
	if len(d.ops) > 0 {
		res.Results = make([]kv.OpResult, len(d.ops))
	}
	for i := range d.ops {
		op := &d.ops[i]
		switch op.Type {
		case kv.OpRange:
			rev := op.Revision
			if rev <= 0 {
				rev = newRev // the latest, this transaction's writes included
			}
			res.Results[i].KVs = s.rangeAt(mkSpan(op.Key, op.RangeEnd), rev, op.KeysOnly)
		case kv.OpPut:
			*changes = append(*changes, s.put(string(op.Key), op.Value, op.Lease, newRev))
		case kv.OpDelete:
			n := len(*changes)
			*changes = s.deleteSpan(mkSpan(op.Key, op.RangeEnd), newRev, *changes)
			res.Results[i].Deleted = int64(len(*changes) - n)
		case kv.OpTxn:
			r := s.exec(d.sub[i], newRev, changes)
			res.Results[i].Txn = &r
		}
	}
	return res
}

// setRevision sets the revision of a result and of its nested results.
func setRevision(r *kv.TxnResult, rev int64) {
	r.Revision = rev
	for i := range r.Results {
		if t := r.Results[i].Txn; t != nil {
			setRevision(t, rev)
		}
	}
}

func hasWrites(ops []kv.Op) bool {
	for i := range ops {
		switch op := &ops[i]; op.Type {
		case kv.OpPut, kv.OpDelete:
			return true
		case kv.OpTxn:
			if op.Txn != nil && (hasWrites(op.Txn.Success) || hasWrites(op.Txn.Failure)) {
				return true
			}
		}
	}
	return false
}

// checkTxn applies etcd's request checks, which come before anything is
// read or written: the operation limits and empty keys of every level,
// then the duplicate keys of each top-level list.
func checkTxn(cmps []kv.Compare, success, failure []kv.Op, maxOps int) error {
	if err := checkLimits(cmps, success, failure, maxOps, ""); err != nil {
		return err
	}
	for _, ops := range [2][]kv.Op{success, failure} {
		if simpleOps(ops) {
			continue
		}
		if _, _, err := checkIntervals(ops, ""); err != nil {
			return err
		}
	}
	return nil
}

// simpleOps reports a list with nothing to check for duplicates (no
// nested transaction; no put, or one put and no delete), the common
// case, which then costs no allocation.
func simpleOps(ops []kv.Op) bool {
	puts, dels := 0, 0
	for i := range ops {
		switch ops[i].Type {
		case kv.OpTxn:
			return false
		case kv.OpPut:
			puts++
		case kv.OpDelete:
			dels++
		}
	}
	return puts == 0 || (puts == 1 && dels == 0)
}

// checkLimits checks one level against its operation budget and its
// nested levels against what is left of it (etcd's checkTxnRequest), and
// rejects empty keys.
func checkLimits(cmps []kv.Compare, success, failure []kv.Op, budget int, where string) error {
	opc := max(len(cmps), len(success), len(failure))
	if opc > budget {
		return fmt.Errorf("%s%d compares, %d success and %d failure ops (limit %d): %w",
			where, len(cmps), len(success), len(failure), budget, kv.ErrTooManyOps)
	}
	for i := range cmps {
		if len(cmps[i].Key) == 0 {
			return fmt.Errorf("%scompare %d: %w", where, i, kv.ErrEmptyKey)
		}
	}
	for _, ops := range [2][]kv.Op{success, failure} {
		for i := range ops {
			op := &ops[i]
			if op.Type != kv.OpTxn {
				if len(op.Key) == 0 {
					return fmt.Errorf("%sop %d: %w", where, i, kv.ErrEmptyKey)
				}
				continue
			}
			if op.Txn == nil {
				continue
			}
			if err := checkLimits(op.Txn.Compares, op.Txn.Success, op.Txn.Failure, budget-opc, fmt.Sprintf("%snested txn op %d: ", where, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// covered reports whether a delete of dels covers key. etcd checks plain
// byte intervals here, where the "\x00" end does not mean "to the end":
// a from-key delete never conflicts with a put.
func covered(dels []*kv.Op, key []byte) bool {
	for _, d := range dels {
		if (len(d.RangeEnd) == 0 && bytes.Equal(key, d.Key)) ||
			(len(d.RangeEnd) > 0 && bytes.Compare(key, d.Key) >= 0 && bytes.Compare(key, d.RangeEnd) < 0) {
			return true
		}
	}
	return false
}

// checkIntervals rejects, as etcd's check of the same name, two puts of
// one key on one path of nesting and a put of a key that a delete covers:
// a delete of the same list, or one inside an earlier nested transaction
// of it (checked for the nested transaction's puts and for the list's
// own). It returns the puts and deletes of ops and everything nested in
// them, for the enclosing level.
func checkIntervals(ops []kv.Op, where string) (map[string]struct{}, []*kv.Op, error) {
	var dels []*kv.Op
	for i := range ops {
		if ops[i].Type == kv.OpDelete {
			dels = append(dels, &ops[i])
		}
	}
	puts := map[string]struct{}{}
	for i := range ops {
		op := &ops[i]
		if op.Type != kv.OpTxn || op.Txn == nil {
			continue
		}
		in := fmt.Sprintf("%snested txn op %d: ", where, i)
		putsThen, delsThen, err := checkIntervals(op.Txn.Success, in)
		if err != nil {
			return nil, nil, err
		}
		putsElse, delsElse, err := checkIntervals(op.Txn.Failure, in)
		if err != nil {
			return nil, nil, err
		}
		for k := range putsThen {
			if _, dup := puts[k]; dup || covered(dels, []byte(k)) {
				return nil, nil, fmt.Errorf("%sput %q twice or inside a delete: %w", in, k, kv.ErrDuplicateKey)
			}
			puts[k] = struct{}{}
		}
		for k := range putsElse {
			if _, dup := puts[k]; dup {
				// The same key in both lists of one nested transaction is
				// fine: only one of them runs. (etcd lets this pass also
				// when the key came from an earlier sibling.)
				if _, safe := putsThen[k]; !safe {
					return nil, nil, fmt.Errorf("%sput %q twice: %w", in, k, kv.ErrDuplicateKey)
				}
			}
			if covered(dels, []byte(k)) {
				return nil, nil, fmt.Errorf("%sput %q inside a delete: %w", in, k, kv.ErrDuplicateKey)
			}
			puts[k] = struct{}{}
		}
		dels = append(dels, delsThen...)
		dels = append(dels, delsElse...)
	}
	for i := range ops {
		op := &ops[i]
		if op.Type != kv.OpPut {
			continue
		}
		if _, dup := puts[string(op.Key)]; dup {
			return nil, nil, fmt.Errorf("%sop %d: put %q twice: %w", where, i, op.Key, kv.ErrDuplicateKey)
		}
		if covered(dels, op.Key) {
			return nil, nil, fmt.Errorf("%sop %d: put %q inside a delete: %w", where, i, op.Key, kv.ErrDuplicateKey)
		}
		puts[string(op.Key)] = struct{}{}
	}
	return puts, dels, nil
}

// compare evaluates one compare as etcd: over every existing key of the
// range, or, if there is none, over a zero key-value (version, create and
// mod revision 0), except that a value compare on no key always fails.
func (s *Store) compare(c *kv.Compare) bool {
	found := false
	all := true
	s.each(mkSpan(c.Key, c.RangeEnd), func(k *key) bool {
		r := k.live()
		if r == nil {
			return true
		}
		found = true
		if !cmpRec(c, r) {
			all = false
			return false
		}
		return true
	})
	if found {
		return all
	}
	if c.Target == kv.Value {
		return false
	}
	return cmpRec(c, &rec{})
}

func cmpRec(c *kv.Compare, r *rec) bool {
	var d int
	switch c.Target {
	case kv.Version:
		d = cmpInt(r.ver, c.Number)
	case kv.Create:
		d = cmpInt(r.create, c.Number)
	case kv.Mod:
		d = cmpInt(r.mod, c.Number)
	case kv.Value:
		d = bytes.Compare([]byte(r.val), c.Bytes)
	default:
		return false
	}
	switch c.Result {
	case kv.Equal:
		return d == 0
	case kv.NotEqual:
		return d != 0
	case kv.Less:
		return d < 0
	case kv.Greater:
		return d > 0
	}
	return false
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// rangeAt returns the keys of sp existing at rev, sorted. It sizes the
// result first so that all keys and values share one allocation.
func (s *Store) rangeAt(sp span, rev int64, keysOnly bool) []kv.KeyValue {
	n, size := 0, 0
	s.each(sp, func(k *key) bool {
		if r := k.at(rev); r != nil {
			n++
			size += len(k.name)
			if !keysOnly {
				size += len(r.val)
			}
		}
		return true
	})
	if n == 0 {
		return nil
	}
	out := make([]kv.KeyValue, 0, n)
	buf := make([]byte, size)
	s.each(sp, func(k *key) bool {
		r := k.at(rev)
		if r == nil {
			return true
		}
		x := kv.KeyValue{CreateRevision: r.create, ModRevision: r.mod, Version: r.ver, Lease: r.lease}
		c := copy(buf, k.name)
		x.Key, buf = buf[:c:c], buf[c:]
		if !keysOnly {
			c = copy(buf, r.val)
			x.Value, buf = buf[:c:c], buf[c:]
			if x.Value == nil {
				x.Value = []byte{}
			}
		}
		out = append(out, x)
		return true
	})
	return out
}

// put writes name at rev, moving it between leases as needed.
func (s *Store) put(name string, val []byte, lease kv.LeaseID, rev int64) change {
	k := s.keys[name]
	if k == nil {
		k = &key{name: name}
		s.keys[name] = k
		s.idx.insert(k)
	}
	r := rec{mod: rev, create: rev, ver: 1, lease: lease, val: string(val)}
	if n := len(k.recs); n > 0 {
		if old := &k.recs[n-1]; old.ver != 0 {
			r.create, r.ver = old.create, old.ver+1
			if old.lease != 0 && old.lease != lease {
				s.detach(old.lease, name)
			}
		}
	}
	if lease != 0 {
		s.leases[lease].keys[name] = struct{}{}
	}
	s.appendRec(k, r)
	return change{name: name, rec: r}
}

// deleteSpan deletes the live keys of sp at rev, appending the changes.
func (s *Store) deleteSpan(sp span, rev int64, changes []change) []change {
	s.each(sp, func(k *key) bool {
		if old := k.live(); old != nil {
			if old.lease != 0 {
				s.detach(old.lease, k.name)
			}
			r := rec{mod: rev}
			s.appendRec(k, r)
			changes = append(changes, change{name: k.name, rec: r})
		}
		return true
	})
	return changes
}

func (s *Store) appendRec(k *key, r rec) {
	k.recs = append(k.recs, r)
	if !k.dirty && (len(k.recs) > 1 || r.ver == 0) {
		k.dirty = true
		s.dirty = append(s.dirty, k)
	}
}

func (s *Store) detach(id kv.LeaseID, name string) {
	if l := s.leases[id]; l != nil {
		delete(l.keys, name)
	}
}

// commit makes rev the store revision, logs its changes for watches, wakes
// the watchers and applies the retention bound. Called with the write lock.
func (s *Store) commit(rev int64, changes []change) {
	s.rev = rev
	s.log = append(s.log, revLog{rev: rev, changes: changes})
	s.wake()
	// Compact in batches (retention/4, at least 16 revisions) so the cost
	// is spread over many writes.
	if r := s.opts.retention; r > 0 && s.rev-max(s.compactRev, 1) >= r+max(r/4, 16) {
		s.compact(s.rev - r)
	}
}

// Compact discards the history below rev, as etcd's Compact: reads and
// watches below rev then fail with kv.ErrCompacted.
func (s *Store) Compact(ctx context.Context, rev int64) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memory: compact: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return fmt.Errorf("memory: compact: %w", kv.ErrClosed)
	case rev > s.rev:
		return fmt.Errorf("memory: compact at %d > store revision %d: %w", rev, s.rev, kv.ErrFutureRevision)
	case rev <= s.compactRev:
		return fmt.Errorf("memory: compact at %d <= compacted revision %d: %w", rev, s.compactRev, kv.ErrCompacted)
	}
	s.compact(rev)
	return nil
}

// compact keeps, per key, the versions from the one visible at rev on,
// drops keys deleted at or before rev, and trims the watch log.
func (s *Store) compact(rev int64) {
	s.rescueWatchers(rev)
	s.compactRev = rev
	keep := s.dirty[:0]
	for _, k := range s.dirty {
		i := sort.Search(len(k.recs), func(j int) bool { return k.recs[j].mod > rev }) - 1
		if i >= 0 && k.recs[i].ver == 0 {
			i++ // a deletion at or before rev: nothing of it stays visible
		}
		if i > 0 {
			n := copy(k.recs, k.recs[i:])
			clear(k.recs[n:])
			k.recs = k.recs[:n]
		}
		if len(k.recs) == 0 {
			delete(s.keys, k.name)
			s.idx.remove(k.name)
			k.dirty = false
			continue
		}
		if len(k.recs) > 1 || k.recs[len(k.recs)-1].ver == 0 {
			keep = append(keep, k)
		} else {
			k.dirty = false
		}
	}
	clear(s.dirty[len(keep):])
	s.dirty = keep
	if drop := rev - s.logStart; drop > 0 {
		drop = min(drop, int64(len(s.log)))
		n := copy(s.log, s.log[drop:])
		clear(s.log[n:])
		s.log = s.log[:n]
		s.logStart += drop
	}
}

// Close revokes the store's leases (deleting their keys), ends its
// watches with kv.ErrClosed and makes every later call fail with
// kv.ErrClosed. Closing twice is harmless.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	ids := make([]kv.LeaseID, 0, len(s.leases))
	for id := range s.leases {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		s.endLease(s.leases[id])
	}
	s.closed = true
	close(s.done)
	s.wake()
	return nil
}

// waitChan returns a channel closed at the next commit or Close. Called
// with the read lock held, so no commit can happen before the caller
// starts waiting; nmu only orders creating the channel among readers.
func (s *Store) waitChan() <-chan struct{} {
	s.nmu.Lock()
	defer s.nmu.Unlock()
	if s.notify == nil {
		s.notify = make(chan struct{})
	}
	return s.notify
}

// wake closes the channel of waitChan. Called with the write lock held.
func (s *Store) wake() {
	s.nmu.Lock()
	defer s.nmu.Unlock()
	if s.notify != nil {
		close(s.notify)
		s.notify = nil
	}
}
