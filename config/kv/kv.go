// Package kv defines the etcd-shaped key-value store under a config.Config,
// in the way database/sql/driver sits under database/sql: a small set of
// primitives (single-key reads at a revision, multi-op transactions with
// compares, watches, leases) that etcd provides natively and that the
// memory backend reproduces, revisions included. Everything the SDP
// configuration library does — depth-tagged paths, create/update/delete,
// listings, STM transactions, watchers — is built once on these in package
// config, so every backend behaves the same.
//
// Keys and values are raw bytes; revisions and versions follow etcd's
// definitions exactly (a store-wide revision that every write transaction
// increments once; per-key create revision, mod revision and version).
package kv

import (
	"context"
	"errors"
)

// Errors backends report; callers test them with errors.Is.
var (
	// ErrCompacted: a read or watch asked for a revision older than the
	// store keeps.
	ErrCompacted = errors.New("kv: revision compacted")
	// ErrFutureRevision: a read asked for a revision the store has not
	// reached.
	ErrFutureRevision = errors.New("kv: future revision")
	// ErrTooManyOps: a transaction exceeds the store's operation limit
	// (etcd's --max-txn-ops, 128 by default, per compare/success/failure
	// list, shared with nested transactions: see OpTxn).
	ErrTooManyOps = errors.New("kv: too many operations in txn request")
	// ErrLeaseNotFound: the lease does not exist (expired or revoked).
	ErrLeaseNotFound = errors.New("kv: lease not found")
	// ErrUnavailable: the store cannot be reached; the operation may or
	// may not have been applied.
	ErrUnavailable = errors.New("kv: store unavailable")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("kv: closed")
)

// LeaseID identifies a lease; 0 means none.
type LeaseID int64

// KeyValue is one stored key with etcd's metadata.
type KeyValue struct {
	Key            []byte
	Value          []byte // nil in keys-only reads
	CreateRevision int64
	ModRevision    int64
	Version        int64
	Lease          LeaseID
}

// CompareTarget is what a Compare tests.
type CompareTarget int

const (
	Version CompareTarget = iota
	Create
	Mod
	Value
)

// CompareResult is the relation a Compare requires.
type CompareResult int

const (
	Equal CompareResult = iota
	NotEqual
	Less
	Greater
)

// Compare is one guard of a transaction, as etcd's: Target of Key (or of
// every key in [Key, RangeEnd) when RangeEnd is set) must stand in Result
// to the operand. A missing key has version, create and mod revision 0.
// For a range, every existing key in it must satisfy the compare.
type Compare struct {
	Key      []byte
	RangeEnd []byte
	Target   CompareTarget
	Result   CompareResult
	// Number is the operand for Version, Create and Mod.
	Number int64
	// Bytes is the operand for Value.
	Bytes []byte
}

// OpType is the kind of an Op.
type OpType int

const (
	OpRange OpType = iota
	OpPut
	OpDelete
	// OpTxn is a nested transaction (Op.Txn), as etcd's RequestOp_Txn:
	// its compares choose its success or failure list, which run in place
	// of the op. Nesting follows etcd exactly:
	//
	//   - the compares of every level are evaluated against the state
	//     before the whole transaction, not after earlier ops' writes;
	//   - the ops every level chose are checked before anything is
	//     written (a put's lease must exist, a range's revision must be
	//     neither compacted nor in the future); a failed check fails the
	//     whole transaction with its error and nothing is written;
	//   - ops then run in order, nested ones included, and all writes
	//     share the one new revision;
	//   - the operation limit is a budget along each path of nesting: a
	//     level may carry at most budget compares, and at most budget ops
	//     in each of its lists; the outermost budget is the store's limit,
	//     a nested transaction's is its parent's budget minus the largest
	//     of the parent's three counts. Nesting therefore does not raise
	//     the number of compares on one path, only across siblings;
	//   - duplicate keys (ErrDuplicateKey) are checked across levels as
	//     etcd does: a key may not be put twice on one path (a nested
	//     transaction's success and failure lists may put the same key),
	//     nor put where a delete of the same level, a delete of an
	//     enclosing level, or a delete in an earlier sibling's subtree
	//     covers it (a delete after a sibling's put of the same key is
	//     allowed).
	OpTxn
)

// Op is one operation of a transaction.
type Op struct {
	Type OpType
	Key  []byte
	// RangeEnd makes Range and Delete cover [Key, RangeEnd).
	RangeEnd []byte
	// Value and Lease are for Put. A Put without a lease detaches any
	// lease the key had, as in etcd.
	Value []byte
	Lease LeaseID
	// KeysOnly and Revision are for Range (Revision 0: latest).
	KeysOnly bool
	Revision int64
	// Txn is the nested transaction of an OpTxn.
	Txn *TxnRequest
}

// TxnRequest is the body of a nested transaction (OpTxn).
type TxnRequest struct {
	Compares         []Compare
	Success, Failure []Op
}

// NestedTxn returns an OpTxn op running success if every compare holds,
// else failure.
func NestedTxn(cmps []Compare, success, failure []Op) Op {
	return Op{Type: OpTxn, Txn: &TxnRequest{Compares: cmps, Success: success, Failure: failure}}
}

// OpResult is the result of one Op.
type OpResult struct {
	// KVs holds a Range's keys, sorted by key bytes.
	KVs []KeyValue
	// Deleted counts the keys a Delete removed.
	Deleted int64
	// Txn is the result of a nested transaction (OpTxn): which list ran
	// and its ops' results. Its Revision is the whole transaction's.
	Txn *TxnResult
}

// TxnResult is the result of a transaction.
type TxnResult struct {
	Succeeded bool
	// Revision is the store revision after the transaction (the header
	// revision etcd reports).
	Revision int64
	// Results holds one entry per executed op (success or failure list).
	Results []OpResult
}

// EventType is the kind of an Event.
type EventType int

const (
	EventPut EventType = iota
	EventDelete
)

// Event is one change seen by a watch. For a delete, KV has the key and
// the deletion's mod revision, and no value.
type Event struct {
	Type EventType
	KV   KeyValue
}

// WatchResponse is a batch of events of one revision (or an error, after
// which the channel is closed).
type WatchResponse struct {
	Events []Event
	Err    error
}

// KV is the store. Implementations must be safe for concurrent use.
type KV interface {
	// Get reads key at revision rev (0: latest). kv is nil if the key does
	// not exist; rev is the store revision the read was served at.
	Get(ctx context.Context, key []byte, rev int64) (kv *KeyValue, headerRev int64, err error)
	// Txn runs ops atomically: if every compare holds, success, else
	// failure. Range ops in a transaction see one snapshot.
	Txn(ctx context.Context, cmps []Compare, success, failure []Op) (TxnResult, error)
	// Watch reports changes to key (or to [key, rangeEnd) when rangeEnd
	// is set) from startRev (0: changes after now) until ctx ends; the
	// channel is then closed.
	Watch(ctx context.Context, key, rangeEnd []byte, startRev int64) <-chan WatchResponse
	// Grant creates a lease of ttl seconds and keeps it alive in the
	// background until it is revoked, ctx ends or the store is closed.
	Grant(ctx context.Context, ttl int64) (Lease, error)
	// Close releases the store. Leases granted by it are revoked.
	Close() error
}

// Lease is a granted lease kept alive in the background.
type Lease interface {
	ID() LeaseID
	// Lost is closed when the lease can no longer be kept alive (expired
	// on the server, revoked elsewhere, or the keep-alive failed).
	Lost() <-chan struct{}
	// Revoke ends the lease now; keys attached to it are deleted at once.
	Revoke(ctx context.Context) error
}

// PrefixEnd returns the end of the range of keys that start with prefix:
// prefix with its last byte incremented (dropping trailing 0xff bytes), as
// etcd's clientv3.GetPrefixRangeEnd. An all-0xff or empty prefix gives
// "\x00", etcd's "to the end".
func PrefixEnd(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return []byte{0}
}
