package config

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/sdpkit/sdpkit/config/kv"
)

// DefaultMaxRetries is how often a conflicting commit is retried by
// default (so a transaction makes at most 65 attempts).
const DefaultMaxRetries = 64

// TxnOption configures DB.Txn and Watcher.Txn.
type TxnOption func(*txnConfig)

type txnConfig struct {
	maxRetries int
}

// MaxRetries sets how many times a conflicting commit is retried (default
// DefaultMaxRetries): the body runs at most n+1 times.
func MaxRetries(n int) TxnOption {
	return func(c *txnConfig) { c.maxRetries = max(n, 0) }
}

// Txn is one attempt of a software-transactional-memory transaction
// (spec §2.4), passed to the body of DB.Txn.
//
// Reads are real: the first read of an attempt pins the store revision,
// and every later read and listing is served at that revision, so the
// body sees one snapshot. Each key is read at most once per attempt.
// Writes are buffered (last write per key wins) and sent in one store
// transaction when the body returns nil, guarded by compares on
// everything read: a key read as missing must still be missing, a key
// read as present must have the same mod revision, and every listing must
// have the same members (value changes of listed keys do not matter). If
// a guard fails the body runs again on fresh data. A commit too large for
// one flat store transaction (more than the DB's WithMaxTxnOps compares
// or writes: a listing guards each listed key) is sent as one store
// transaction of nested transactions with the same guards, still atomic.
//
// A Txn is not safe for concurrent use and must not be used after the
// body returns (ErrTxnDone). Values returned by Get must not be modified.
type Txn struct {
	db  *DB
	ctx context.Context

	rev        int64 // pinned read revision; 0 until the first read
	reads      map[string]*readEntry
	readOrder  []*readEntry
	lists      map[string]*listEntry
	listOrder  []*listEntry
	writes     map[string]*writeEntry
	writeOrder []*writeEntry
	onCommit   []func()
	scope      *entityScope // global prefix, owner, client lease for entity helpers

	done      bool  // the attempt is over
	committed bool  // the last attempt committed
	commitRev int64 // revision of the committed state
}

type readEntry struct {
	key   []byte
	value []byte // nil: missing
	mod   int64  // 0: missing
}

type listEntry struct {
	key, end []byte
	keys     [][]byte // listed store keys (not the overlay), sorted
}

type writeEntry struct {
	key   []byte
	value []byte
	del   bool
	lease LeaseID
}

// Txn runs fn as a transaction: fn reads and writes through tx; when it
// returns nil the writes are committed atomically, and if something fn
// read changed meanwhile, fn runs again (at most MaxRetries+1 times, then
// an error matching ErrTxnRetries). When fn returns an error nothing is
// committed and the error is returned as is. A transaction that wrote
// nothing sends no commit (it cannot conflict). OnCommit callbacks run
// after a successful commit; tx.Revision is valid after Txn returns nil.
//
// Unlike Python's iterator, where leaving the loop with break skips the
// commit, returning nil early commits what was written so far.
//
// Store errors abort the transaction and are returned wrapped. If the
// commit itself fails with kv.ErrUnavailable it may or may not have been
// applied; it is not retried, because re-running fn could apply its
// effect twice.
func (db *DB) Txn(ctx context.Context, fn func(tx *Txn) error, opts ...TxnOption) error {
	return db.runTxn(ctx, fn, opts, nil)
}

func (db *DB) runTxn(ctx context.Context, fn func(tx *Txn) error, opts []TxnOption, after func(*Txn)) error {
	c := txnConfig{maxRetries: DefaultMaxRetries}
	for _, o := range opts {
		o(&c)
	}
	t := &Txn{db: db, ctx: ctx}
	for attempt := 0; attempt <= c.maxRetries; attempt++ {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("config: txn: %w", err)
		}
		t.reset()
		if err := fn(t); err != nil {
			t.done = true
			return err
		}
		ok, err := t.commit()
		t.done = true
		if err != nil {
			return err
		}
		if ok {
			if after != nil {
				after(t)
			}
			for _, cb := range t.onCommit {
				cb()
			}
			return nil
		}
	}
	return fmt.Errorf("%w after %d retries", ErrTxnRetries, c.maxRetries)
}

func (t *Txn) reset() {
	t.rev = 0
	t.reads = map[string]*readEntry{}
	t.readOrder = t.readOrder[:0]
	t.lists = map[string]*listEntry{}
	t.listOrder = t.listOrder[:0]
	t.writes = map[string]*writeEntry{}
	t.writeOrder = t.writeOrder[:0]
	t.onCommit = nil
	t.done, t.committed, t.commitRev = false, false, 0
}

// Revision is the store revision of the committed state: the commit's
// revision, or for a read-only transaction the pinned read revision (0 if
// it read nothing). It is 0 until the transaction has committed.
func (t *Txn) Revision() int64 {
	if !t.committed {
		return 0
	}
	return t.commitRev
}

// ReadRevision is the pinned read revision of the current attempt (0
// before the first read).
func (t *Txn) ReadRevision() int64 { return t.rev }

// OnCommit registers f to run once after the transaction commits
// successfully (in registration order, after DB.Txn's commit and before
// it returns). Callbacks of attempts that conflicted are dropped; the
// re-run body registers them again. Unlike 0.3.2 they also run when the
// transaction turns out read-only.
func (t *Txn) OnCommit(f func()) { t.onCommit = append(t.onCommit, f) }

// Get returns the value of path as this transaction sees it: its own
// pending write if any (nil for a pending delete), else the value at the
// pinned revision (nil if the key does not exist).
func (t *Txn) Get(path string) ([]byte, error) {
	if t.done {
		return nil, ErrTxnDone
	}
	if err := CheckKeyPath(path); err != nil {
		return nil, err
	}
	return t.get(path, t.db.key(path))
}

func (t *Txn) get(path string, key []byte) ([]byte, error) {
	if w := t.writes[string(key)]; w != nil {
		if w.del {
			return nil, nil
		}
		return bytes.Clone(w.value), nil
	}
	if r := t.reads[string(key)]; r != nil {
		return r.value, nil
	}
	v, kvp, hdr, err := t.db.get(t.ctx, key, t.rev)
	if err != nil {
		return nil, fmt.Errorf("config: txn get %s: %w", path, err)
	}
	if t.rev == 0 {
		t.rev = hdr
	}
	r := &readEntry{key: key, value: v}
	if kvp != nil {
		r.mod = kvp.ModRevision
	}
	t.reads[string(key)] = r
	t.readOrder = append(t.readOrder, r)
	return v, nil
}

// List lists paths as DB.ListKeys does, at the pinned revision, with this
// transaction's pending creates added and pending deletes removed. (0.3.2
// listed pending deletes as present — its list_keys_txn_delete_bug.)
// Each level is read from the store at most once per attempt; the levels
// not yet read go in one store transaction.
func (t *Txn) List(path string, opts ...ListOption) ([]string, error) {
	if t.done {
		return nil, ErrTxnDone
	}
	var c listConfig
	for _, o := range opts {
		o(&c)
	}
	if err := CheckPath(path); err != nil {
		return nil, err
	}
	if c.rev != 0 {
		return nil, fmt.Errorf("config: txn list %s: AtRevision: %w", path, ErrUnsupported)
	}
	depth := Depth(path)
	var entries, missing []*listEntry
	for _, d := range levels(c.depths) {
		k, end := t.db.keyRange(path, depth+d)
		e := t.lists[string(k)]
		if e == nil {
			e = &listEntry{key: k, end: end}
			missing = append(missing, e)
		}
		entries = append(entries, e)
	}
	if len(missing) > 0 {
		ops := make([]kv.Op, len(missing))
		for i, e := range missing {
			ops[i] = kv.Op{Type: kv.OpRange, Key: e.key, RangeEnd: e.end, KeysOnly: true, Revision: t.rev}
		}
		res, err := t.db.kv.Txn(t.ctx, nil, ops, nil)
		if err != nil {
			return nil, fmt.Errorf("config: txn list %s: %w", path, err)
		}
		if t.rev == 0 {
			t.rev = res.Revision
		}
		for i, e := range missing {
			for _, kvp := range res.Results[i].KVs {
				e.keys = append(e.keys, kvp.Key)
			}
			t.lists[string(e.key)] = e
			t.listOrder = append(t.listOrder, e)
		}
	}
	seen := map[string]bool{}
	for _, e := range entries {
		for _, k := range e.keys {
			seen[string(k)] = true
		}
		for _, w := range t.writeOrder {
			if bytes.HasPrefix(w.key, e.key) {
				seen[string(w.key)] = !w.del
			}
		}
	}
	out := make([]string, 0, len(seen))
	for k, present := range seen {
		if present {
			out = append(out, t.db.path([]byte(k)))
		}
	}
	slices.Sort(out)
	return out, nil
}

// Create buffers a new key: it reads path (recording the read), and if
// the key exists in this transaction's view returns a *CollisionError.
// lease (0: none) is attached at commit.
func (t *Txn) Create(path string, value []byte, lease LeaseID) error {
	key, v, err := t.readForWrite(path)
	if err != nil {
		return err
	}
	if v != nil {
		return &CollisionError{Path: path}
	}
	t.write(key, value, false, lease)
	return nil
}

// readForWrite checks a path a write may use and reads it (recording the
// read), returning its key and current value in this transaction's view.
func (t *Txn) readForWrite(path string) ([]byte, []byte, error) {
	if t.done {
		return nil, nil, ErrTxnDone
	}
	if err := checkWritePath(path); err != nil {
		return nil, nil, err
	}
	key := t.db.key(path)
	v, err := t.get(path, key)
	return key, v, err
}

// Update buffers a new value for an existing key: it reads path, and if
// the key is missing in this transaction's view returns a
// *VanishedError. The commit's put carries no lease (an earlier Create's
// lease in this transaction is dropped, an existing lease detached), as in
// Python.
func (t *Txn) Update(path string, value []byte) error {
	key, v, err := t.readForWrite(path)
	if err != nil {
		return err
	}
	if v == nil {
		return &VanishedError{Op: "update", Path: path, InTxn: true}
	}
	t.write(key, value, false, 0)
	return nil
}

// Delete buffers the deletion of one key. Unless AllowMissing is given it
// reads path first and returns a *VanishedError if the key is missing in
// this transaction's view; with AllowMissing nothing is read (so nothing
// guards the commit). Recursive and Prefix are not supported in a
// transaction (ErrUnsupported).
func (t *Txn) Delete(path string, opts ...DeleteOption) error {
	if t.done {
		return ErrTxnDone
	}
	var c deleteConfig
	for _, o := range opts {
		o.applyDelete(&c)
	}
	if c.recursive || c.prefix || c.maxDepth != 0 {
		return fmt.Errorf("config: txn delete %s: only single keys: %w", path, ErrUnsupported)
	}
	if err := CheckKeyPath(path); err != nil {
		return err
	}
	key := t.db.key(path)
	if !c.allowMissing {
		v, err := t.get(path, key)
		if err != nil {
			return err
		}
		if v == nil {
			return &VanishedError{Op: "delete", Path: path, InTxn: true}
		}
	}
	t.write(key, nil, true, 0)
	return nil
}

func (t *Txn) write(key, value []byte, del bool, lease LeaseID) {
	w := t.writes[string(key)]
	if w == nil {
		w = &writeEntry{key: key}
		t.writes[string(key)] = w
		t.writeOrder = append(t.writeOrder, w)
	}
	w.value, w.del, w.lease = bytes.Clone(value), del, lease
	if !del && w.value == nil {
		w.value = []byte{}
	}
}

// commit sends the buffered writes guarded by the read and list compares.
// It reports whether the transaction committed (false: a guard failed).
func (t *Txn) commit() (bool, error) {
	if len(t.writeOrder) == 0 {
		// Read-only: nothing to guard, nothing to send.
		t.committed, t.commitRev = true, t.rev
		return true, nil
	}
	cmps := t.compares(false)
	limit := t.db.maxTxnOps
	if limit > 0 && len(cmps) > limit {
		cmps = t.compares(true)
	}
	ops := make([]kv.Op, len(t.writeOrder))
	for i, w := range t.writeOrder {
		if w.del {
			ops[i] = kv.Op{Type: kv.OpDelete, Key: w.key}
		} else {
			ops[i] = kv.Op{Type: kv.OpPut, Key: w.key, Value: w.value, Lease: w.lease}
		}
	}
	if limit > 0 && (len(cmps) > limit || len(ops) > limit) {
		return t.commitLarge(cmps, ops, limit)
	}
	res, err := t.db.kv.Txn(t.ctx, cmps, ops, nil)
	if err != nil {
		return false, fmt.Errorf("config: txn commit: %w", err)
	}
	if !res.Succeeded {
		return false, nil
	}
	t.committed, t.commitRev = true, res.Revision
	return true, nil
}

// tripwire is the op a guard group runs when one of its compares fails:
// a read at a revision no store reaches. The store checks the ops a
// transaction chose before writing anything, so the whole commit is
// refused with kv.ErrFutureRevision and nothing is written.
func tripwire() kv.Op {
	return kv.Op{Type: kv.OpRange, Key: []byte{0}, Revision: math.MaxInt64}
}

// commitLarge sends a commit with more compares or writes than one flat
// store transaction may carry, still as one atomic store transaction
// with exactly the flat commit's guards (spec §10.1).
//
// Why this shape: etcd limits each level of a nested transaction to what
// its parent leaves of the budget (a nested level gets the limit minus
// the largest list count of its parent, see kv.OpTxn), so a chain of
// nested transactions never carries more than the limit in compares on
// the path to the writes. Siblings, however, each get the whole
// remaining budget. So the commit is
//
//	compares c[0:p]
//	success  [guard(c[p:p+B]), guard(…), …, writes or write groups]
//
// where p is the outer level's count, B = limit-p the nested budget,
// each guard a nested transaction {compares; success: nothing;
// failure: tripwire}, and each write group a nested transaction without
// compares holding up to B writes. Siblings cannot AND their compares
// (each picks its own branch), hence the tripwire: a failed guard makes
// the store refuse the whole transaction before writing, which the
// commit reports as a conflict. With etcd's 128 this carries about 4000
// compares and writes together.
//
// Cheaper alternatives do not keep the semantics: a range compare of mod
// revisions over a listing would abort on value updates of listed keys,
// and no compare over a range sees a deleted member, so each listed key
// keeps its own version > 0 compare (the create < pinned+1 range compare
// already catches new members with one compare per listing).
func (t *Txn) commitLarge(cmps []kv.Compare, ops []kv.Op, limit int) (bool, error) {
	outer, success, ok := planLarge(cmps, ops, limit)
	if !ok {
		return false, &TxnTooLargeError{Compares: len(cmps), Ops: len(ops), Limit: limit}
	}
	res, err := t.db.kv.Txn(t.ctx, outer, success, nil)
	if errors.Is(err, kv.ErrFutureRevision) {
		// A guard group's tripwire: one of its compares failed. The
		// commit has no other read at a revision.
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("config: txn commit: %w", err)
	}
	if !res.Succeeded {
		return false, nil
	}
	for i, r := range res.Results {
		if success[i].Txn != nil && len(success[i].Txn.Compares) > 0 && (r.Txn == nil || !r.Txn.Succeeded) {
			// Only a store that does not check chosen ops before writing
			// (unlike etcd and the memory store) gets here.
			return false, fmt.Errorf("config: txn commit: guard group %d failed without refusing the transaction; the writes may have been applied", i)
		}
	}
	t.committed, t.commitRev = true, res.Revision
	return true, nil
}

// planLarge lays out a large commit as commitLarge describes, for the
// smallest outer count p that fits; ok is false if none does.
func planLarge(cmps []kv.Compare, ops []kv.Op, limit int) (outer []kv.Compare, success []kv.Op, ok bool) {
	for p := 1; p < limit; p++ {
		budget := limit - p
		c0 := min(len(cmps), p)
		guards := (len(cmps) - c0 + budget - 1) / budget
		slots := p - guards
		groups := len(ops) // one write per slot
		if len(ops) > slots {
			groups = (len(ops) + budget - 1) / budget
		}
		if slots < 0 || groups > slots {
			continue
		}
		success = make([]kv.Op, 0, guards+groups)
		for rest := cmps[c0:]; len(rest) > 0; {
			n := min(len(rest), budget)
			success = append(success, kv.NestedTxn(rest[:n], nil, []kv.Op{tripwire()}))
			rest = rest[n:]
		}
		if len(ops) <= slots {
			success = append(success, ops...)
		} else {
			for rest := ops; len(rest) > 0; {
				n := min(len(rest), budget)
				success = append(success, kv.NestedTxn(nil, rest[:n], nil))
				rest = rest[n:]
			}
		}
		return cmps[:c0], success, true
	}
	return nil, nil, false
}

// compares builds the commit guards in 0.3.2's order: for every single
// read (first-read order) version == 0 if it was missing, else mod ==
// its mod revision; then for every listing (first-list order) version > 0
// on each listed key and create < pinned+1 over the listed range (a key
// created, or deleted and re-created, after the snapshot).
//
// A deleted listed key leaves nothing for a range compare to see, so each
// listed key needs its own compare; there is no sound range-only
// replacement. With compact set, the compares that are implied by others
// are left out (a listed key also read with Get is already guarded by its
// mod compare; a key listed by two overlapping listings needs one
// compare), which is what lets larger listings fit under the store's
// operation limit.
func (t *Txn) compares(compact bool) []kv.Compare {
	cmps := make([]kv.Compare, 0, len(t.readOrder)+2*len(t.listOrder))
	for _, r := range t.readOrder {
		if r.mod == 0 {
			cmps = append(cmps, kv.Compare{Key: r.key, Target: kv.Version, Result: kv.Equal, Number: 0})
		} else {
			cmps = append(cmps, kv.Compare{Key: r.key, Target: kv.Mod, Result: kv.Equal, Number: r.mod})
		}
	}
	var guarded map[string]bool
	if compact {
		guarded = map[string]bool{}
		for _, r := range t.readOrder {
			if r.mod != 0 {
				guarded[string(r.key)] = true
			}
		}
	}
	for _, l := range t.listOrder {
		for _, k := range l.keys {
			if compact {
				if guarded[string(k)] {
					continue
				}
				guarded[string(k)] = true
			}
			cmps = append(cmps, kv.Compare{Key: k, Target: kv.Version, Result: kv.Greater, Number: 0})
		}
		cmps = append(cmps, kv.Compare{Key: l.key, RangeEnd: l.end, Target: kv.Create, Result: kv.Less, Number: t.rev + 1})
	}
	return cmps
}
