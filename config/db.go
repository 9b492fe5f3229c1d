package config

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/sdpkit/sdpkit/config/kv"
)

// LeaseID identifies a lease; 0 means none.
type LeaseID = kv.LeaseID

// Lease is a granted lease, kept alive in the background until revoked.
type Lease = kv.Lease

// DefaultMaxTxnOps is etcd's default --max-txn-ops: the most compares, and
// separately the most success operations, one transaction may carry.
const DefaultMaxTxnOps = 128

// DB is the backend layer of the configuration database (Python's
// Etcd3Backend) on any kv.KV: single-key reads and writes, listings,
// deletes, watches, leases, and the STM transactions and watchers built on
// them. Paths are library paths ("/pb/pb-1"); the store sees them through
// the KeyCodec. A DB is safe for concurrent use; it does not own the store
// (close the store yourself, or use Config).
type DB struct {
	kv        kv.KV
	codec     KeyCodec
	maxTxnOps int
}

// DBOption configures a DB.
type DBOption func(*DB)

// WithKeyCodec sets the key layout (default DepthTagged).
func WithKeyCodec(c KeyCodec) DBOption { return func(db *DB) { db.codec = c } }

// WithMaxTxnOps sets the store's limit on compares and on operations per
// transaction (default DefaultMaxTxnOps; 0: no limit). Set it to the
// server's --max-txn-ops. Transaction commits that exceed it are sent as
// one transaction of nested transactions with the same guards (see
// Txn); only commits too large even for that (about (n/2)² compares and
// writes together) fail with *TxnTooLargeError, before anything is sent.
func WithMaxTxnOps(n int) DBOption { return func(db *DB) { db.maxTxnOps = n } }

// NewDB returns a DB on store.
func NewDB(store kv.KV, opts ...DBOption) *DB {
	db := &DB{kv: store, codec: DepthTagged{}, maxTxnOps: DefaultMaxTxnOps}
	for _, o := range opts {
		o(db)
	}
	return db
}

// Store returns the underlying store.
func (db *DB) Store() kv.KV { return db.kv }

// Codec returns the key layout.
func (db *DB) Codec() KeyCodec { return db.codec }

// Revision locates a read in the store's history (Python's Etcd3Revision,
// 1.x DbRevision).
type Revision struct {
	// Revision is the store revision the read was served at (etcd's
	// header revision).
	Revision int64
	// ModRevision is the key's mod revision; 0 when the key does not
	// exist and for listings.
	ModRevision int64
}

// Get reads path at store revision rev (0: latest). The value is nil when
// the key does not exist; an existing empty value is a non-nil empty
// slice. Revision.ModRevision is 0 for a missing key.
func (db *DB) Get(ctx context.Context, path string, rev int64) ([]byte, Revision, error) {
	if err := CheckKeyPath(path); err != nil {
		return nil, Revision{}, err
	}
	v, kvp, hdr, err := db.get(ctx, db.key(path), rev)
	if err != nil {
		return nil, Revision{}, fmt.Errorf("config: get %s: %w", path, err)
	}
	r := Revision{Revision: hdr}
	if kvp != nil {
		r.ModRevision = kvp.ModRevision
	}
	return v, r, nil
}

// get reads one store key, normalising an existing empty value to a
// non-nil slice.
func (db *DB) get(ctx context.Context, key []byte, rev int64) ([]byte, *kv.KeyValue, int64, error) {
	kvp, hdr, err := db.kv.Get(ctx, key, rev)
	if err != nil || kvp == nil {
		return nil, nil, hdr, err
	}
	v := kvp.Value
	if v == nil {
		v = []byte{}
	}
	return v, kvp, hdr, nil
}

// Create stores value at path if the key does not exist, attached to
// lease (0: none), in one store transaction (compare version == 0, put).
// An existing key gives a *CollisionError.
func (db *DB) Create(ctx context.Context, path string, value []byte, lease LeaseID) error {
	if err := checkWritePath(path); err != nil {
		return err
	}
	key := db.key(path)
	res, err := db.kv.Txn(ctx,
		[]kv.Compare{{Key: key, Target: kv.Version, Result: kv.Equal, Number: 0}},
		[]kv.Op{{Type: kv.OpPut, Key: key, Value: value, Lease: lease}}, nil)
	if err != nil {
		return fmt.Errorf("config: create %s: %w", path, err)
	}
	if !res.Succeeded {
		return &CollisionError{Path: path}
	}
	return nil
}

// UpdateOption configures Update.
type UpdateOption func(*updateConfig)

type updateConfig struct {
	mustBe    bool
	mustBeRev Revision
}

// MustBeRev makes Update succeed only while the key's mod revision is still
// rev.ModRevision (compare-and-swap). A Revision of a missing key gives
// ErrInvalidRevision.
func MustBeRev(rev Revision) UpdateOption {
	return func(c *updateConfig) { c.mustBe, c.mustBeRev = true, rev }
}

// Update replaces the value of an existing key, in one store transaction
// (compare version != 0 [and mod == MustBeRev], put). The put carries no
// lease, so a leased key becomes permanent, as in Python. A missing key
// or a stale MustBeRev gives a *VanishedError.
func (db *DB) Update(ctx context.Context, path string, value []byte, opts ...UpdateOption) error {
	var c updateConfig
	for _, o := range opts {
		o(&c)
	}
	if err := checkWritePath(path); err != nil {
		return err
	}
	key := db.key(path)
	cmps := []kv.Compare{{Key: key, Target: kv.Version, Result: kv.NotEqual, Number: 0}}
	if c.mustBe {
		if c.mustBeRev.ModRevision <= 0 {
			return fmt.Errorf("config: update %s: %w", path, ErrInvalidRevision)
		}
		cmps = append(cmps, kv.Compare{Key: key, Target: kv.Mod, Result: kv.Equal, Number: c.mustBeRev.ModRevision})
	}
	res, err := db.kv.Txn(ctx, cmps, []kv.Op{{Type: kv.OpPut, Key: key, Value: value}}, nil)
	if err != nil {
		return fmt.Errorf("config: update %s: %w", path, err)
	}
	if !res.Succeeded {
		return &VanishedError{Op: "update", Path: path}
	}
	return nil
}

// DeleteOption configures DB.Delete and Txn.Delete.
type DeleteOption interface{ applyDelete(*deleteConfig) }

type deleteConfig struct {
	allowMissing bool
	recursive    bool
	prefix       bool
	maxDepth     int // 0: unlimited (MaxWriteDepth levels)
}

type deleteFunc func(*deleteConfig)

func (f deleteFunc) applyDelete(c *deleteConfig) { f(c) }

// AllowMissing makes Delete succeed when the key does not exist (Python's
// must_exist=False): no existence compare is sent.
func AllowMissing() DeleteOption { return deleteFunc(func(c *deleteConfig) { c.allowMissing = true }) }

// Recursive makes Delete also remove every key below the path (or, with
// Prefix, below every same-level key starting with the path). Without
// MaxDepth it reaches every level a path may have (MaxWriteDepth); 0.3.2
// stopped 15 levels below.
func Recursive() DeleteOption { return deleteFunc(func(c *deleteConfig) { c.recursive = true }) }

// MaxDepth limits a Recursive delete as Python's max_depth: levels
// depth+1 … depth+n-1 below the path are deleted (n = 16 reproduces
// 0.3.2's default exactly).
func MaxDepth(n int) DeleteOption { return deleteFunc(func(c *deleteConfig) { c.maxDepth = n }) }

// PrefixOption selects a string-prefix range at the path's own level
// (Python's prefix=True): for Delete, "/k" also deletes "/kx" and "/k2";
// for Watch, every key at the path's level starting with the path.
type PrefixOption struct{}

// Prefix returns the PrefixOption, usable with Delete and Watch.
func Prefix() PrefixOption { return PrefixOption{} }

func (PrefixOption) applyDelete(c *deleteConfig) { c.prefix = true }
func (PrefixOption) applyWatch(c *watchConfig)   { c.prefix = true }

// Delete removes path in one store transaction, like Python's delete():
//
//   - the key itself, or with Prefix every key at its level whose path
//     starts with path;
//   - with Recursive, also every key below it: for each level L from
//     depth+1 on, the range of path+"/" (or, with Prefix, of path) at L;
//   - unless AllowMissing, the transaction compares version != 0 on the
//     key itself and a missing key gives a *VanishedError.
//
// Unlike 0.3.2 a Recursive delete without MaxDepth reaches every level
// (see MaxWriteDepth), not just 15. Without Prefix, deleting "/x" never
// touches "/xy" or its children.
func (db *DB) Delete(ctx context.Context, path string, opts ...DeleteOption) error {
	var c deleteConfig
	for _, o := range opts {
		o.applyDelete(&c)
	}
	if err := CheckPath(path); err != nil {
		return err
	}
	depth := Depth(path)
	key := db.codec.Key(path, depth)
	var cmps []kv.Compare
	if !c.allowMissing {
		cmps = []kv.Compare{{Key: key, Target: kv.Version, Result: kv.NotEqual, Number: 0}}
	}
	ops := []kv.Op{{Type: kv.OpDelete, Key: key}}
	if c.prefix {
		ops[0].RangeEnd = kv.PrefixEnd(key)
	}
	if c.recursive {
		below := path + "/"
		if c.prefix {
			below = path
		}
		levels := MaxWriteDepth - 1 // the key op plus 127 levels: 128 ops
		if c.maxDepth > 0 {
			levels = c.maxDepth - 1
		}
		for l := depth + 1; l <= depth+levels; l++ {
			k, end := db.keyRange(below, l)
			ops = append(ops, kv.Op{Type: kv.OpDelete, Key: k, RangeEnd: end})
		}
	}
	res, err := db.kv.Txn(ctx, cmps, ops, nil)
	if err != nil {
		return fmt.Errorf("config: delete %s: %w", path, err)
	}
	if !res.Succeeded {
		return &VanishedError{Op: "delete", Path: path}
	}
	return nil
}

// ListOption configures listings (DB.ListKeys, DB.List, Txn.List).
type ListOption func(*listConfig)

type listConfig struct {
	depths []int
	rev    int64
}

// Recurse lists relative depths 0 … n (Python's recurse=n).
func Recurse(n int) ListOption {
	return func(c *listConfig) {
		c.depths = c.depths[:0]
		for d := 0; d <= n; d++ {
			c.depths = append(c.depths, d)
		}
	}
}

// Depths lists exactly the given relative depths (Python's
// recurse=(d1, d2, …)).
func Depths(d ...int) ListOption {
	return func(c *listConfig) { c.depths = append(c.depths[:0], d...) }
}

// AtRevision lists at store revision rev (DB listings only; a
// transaction reads at its pinned revision).
func AtRevision(rev int64) ListOption { return func(c *listConfig) { c.rev = rev } }

// Entry is one listed key with its value.
type Entry struct {
	Path        string
	Value       []byte
	ModRevision int64
}

// ListKeys lists the paths at path's own level that start with path, like
// Python's list_keys. A trailing '/' therefore lists children ("/t/" →
// "/t/a", "/t/b"); without it the listing is a string prefix at the same
// level ("/t" → "/t", "/tx"). Recurse and Depths add deeper levels. All
// levels are read in one store transaction of keys-only ranges (one
// snapshot); the result is sorted. Revision.Revision is the snapshot's
// revision, ModRevision is 0.
func (db *DB) ListKeys(ctx context.Context, path string, opts ...ListOption) ([]string, Revision, error) {
	res, err := db.list(ctx, path, true, opts)
	if err != nil {
		return nil, Revision{}, err
	}
	out := db.paths(res.Results)
	if !slices.IsSorted(out) { // several levels, or a codec that reorders
		slices.Sort(out)
	}
	return out, Revision{Revision: res.Revision}, nil
}

// List is ListKeys with the values, read in the same request (1.x's
// with_values=True).
func (db *DB) List(ctx context.Context, path string, opts ...ListOption) ([]Entry, Revision, error) {
	res, err := db.list(ctx, path, false, opts)
	if err != nil {
		return nil, Revision{}, err
	}
	paths := db.paths(res.Results)
	out := make([]Entry, 0, len(paths))
	for _, r := range res.Results {
		for _, e := range r.KVs {
			v := e.Value
			if v == nil {
				v = []byte{}
			}
			out = append(out, Entry{Path: paths[len(out)], Value: v, ModRevision: e.ModRevision})
		}
	}
	byPath := func(a, b Entry) int { return cmp.Compare(a.Path, b.Path) }
	if !slices.IsSortedFunc(out, byPath) {
		slices.SortFunc(out, byPath)
	}
	return out, Revision{Revision: res.Revision}, nil
}

// list reads the levels of a listing in one store transaction of ranges.
func (db *DB) list(ctx context.Context, path string, keysOnly bool, opts []ListOption) (kv.TxnResult, error) {
	var c listConfig
	for _, o := range opts {
		o(&c)
	}
	if err := CheckPath(path); err != nil {
		return kv.TxnResult{}, err
	}
	depth := Depth(path)
	var ops []kv.Op
	for _, d := range levels(c.depths) {
		k, end := db.keyRange(path, depth+d)
		ops = append(ops, kv.Op{Type: kv.OpRange, Key: k, RangeEnd: end, KeysOnly: keysOnly, Revision: c.rev})
	}
	res, err := db.kv.Txn(ctx, nil, ops, nil)
	if err != nil {
		return kv.TxnResult{}, fmt.Errorf("config: list %s: %w", path, err)
	}
	return res, nil
}

// paths returns the paths of the listed keys, in result order. With the
// depth-tagged layout all of them share one allocation: listing is the
// hot path of controllers that list every few hundred milliseconds.
func (db *DB) paths(results []kv.OpResult) []string {
	n, size := 0, 0
	for _, r := range results {
		n += len(r.KVs)
		for _, e := range r.KVs {
			size += len(e.Key)
		}
	}
	out := make([]string, 0, n)
	if _, ok := db.codec.(DepthTagged); !ok {
		for _, r := range results {
			for _, e := range r.KVs {
				out = append(out, db.path(e.Key))
			}
		}
		return out
	}
	var b strings.Builder
	b.Grow(size)
	for _, r := range results {
		for _, e := range r.KVs {
			b.Write(e.Key)
		}
	}
	all, off := b.String(), 0
	for _, r := range results {
		for _, e := range r.KVs {
			k := all[off : off+len(e.Key)]
			off += len(e.Key)
			if i := strings.IndexByte(k, '/'); i >= 0 {
				k = k[i:]
			}
			out = append(out, k)
		}
	}
	return out
}

// Lease grants a lease of ttl seconds. The store keeps it alive in the
// background until it is revoked, ctx ends or the store is closed — so
// pass a context that lives as long as the lease should. Keys created
// with it vanish at once on Revoke, or ttl after the process dies.
func (db *DB) Lease(ctx context.Context, ttl int64) (Lease, error) {
	if ttl <= 0 {
		return nil, fmt.Errorf("config: lease ttl %d: must be positive", ttl)
	}
	l, err := db.kv.Grant(ctx, ttl)
	if err != nil {
		return nil, fmt.Errorf("config: lease grant ttl %d: %w", ttl, err)
	}
	return l, nil
}
