package config

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/pyval/pyjson"
)

// ErrNoLease: an ownership or liveness key needs the client lease, but the
// transaction does not belong to a Config (use TakeWithLease).
var ErrNoLease = errors.New("config: no client lease (transaction not run through a Config)")

// entityScope is what entity helpers need from the Config a transaction
// runs under: the global prefix, the owner identity and the client lease.
type entityScope struct {
	prefix string
	owner  Owner
	lease  func(ctx context.Context) (Lease, error) // nil outside a Config
}

// scope returns the transaction's entity scope: its Config's, or for a
// bare DB.Txn an empty prefix and DefaultOwner.
func (t *Txn) entityScope() *entityScope {
	if t.scope == nil {
		t.scope = &entityScope{owner: DefaultOwner()}
	}
	return t.scope
}

// scope returns the Config's entity scope.
func (c *Config) entityScope() *entityScope {
	return &entityScope{prefix: c.prefix, owner: c.owner, lease: c.ClientLease}
}

// withScope wraps a transaction body so that its Txn carries scope.
func withScope(s *entityScope, fn func(*Txn) error) func(*Txn) error {
	if s == nil {
		return fn
	}
	return func(tx *Txn) error {
		tx.scope = s
		return fn(tx)
	}
}

// entityType describes one entity type: where it lives, how its key is
// written and checked, and how the key is found in a value.
type entityType[E any, K any] struct {
	name   string // for errors, e.g. "processing block"
	prefix string // e.g. "/pb"
	keyOf  func(*E) K
	format func(K) string
	parse  func(string) (K, error)
	check  func(K) error
}

// Collection gives typed access to one entity type inside a transaction
// (Python's txn.processing_block, txn.flow, …). Entities live at
// <global prefix><type prefix>/<key>; their state at …/<key>/state and
// their owner at …/<key>/owner. A Collection is only valid during the
// transaction body that made it.
type Collection[E any, K any] struct {
	tx *Txn
	t  *entityType[E, K]
}

func newCollection[E any, K any](tx *Txn, t *entityType[E, K]) Collection[E, K] {
	return Collection[E, K]{tx: tx, t: t}
}

// Path returns the database path of the entity with key k (global prefix
// included), or a *KeyError.
func (c Collection[E, K]) Path(k K) (string, error) {
	if err := c.t.check(k); err != nil {
		return "", err
	}
	return c.tx.entityScope().prefix + c.t.prefix + "/" + c.t.format(k), nil
}

// Get returns the entity with key k, or nil (and no error) if there is
// none.
func (c Collection[E, K]) Get(k K) (*E, error) {
	p, err := c.Path(k)
	if err != nil {
		return nil, err
	}
	return c.get(p)
}

func (c Collection[E, K]) get(p string) (*E, error) {
	v, err := c.tx.Get(p)
	if err != nil || v == nil {
		return nil, err
	}
	e := new(E)
	if err := decodeEntity(p, v, e); err != nil {
		return nil, err
	}
	return e, nil
}

// Create stores a new entity; a *CollisionError if it exists.
func (c Collection[E, K]) Create(e *E) error {
	p, b, err := c.encode(e)
	if err != nil {
		return err
	}
	return c.tx.Create(p, b, 0)
}

// Update replaces an existing entity; a *VanishedError if it is missing.
func (c Collection[E, K]) Update(e *E) error {
	p, b, err := c.encode(e)
	if err != nil {
		return err
	}
	return c.tx.Update(p, b)
}

func (c Collection[E, K]) encode(e *E) (string, []byte, error) {
	p, err := c.Path(c.t.keyOf(e))
	if err != nil {
		return "", nil, err
	}
	b, err := encodeEntity(e)
	if err != nil {
		return "", nil, fmt.Errorf("config: encoding %s %s: %w", c.t.name, p, err)
	}
	return p, b, nil
}

// Delete removes the entity with key k and every key below it (its state,
// owner, …, up to four levels down) — and nothing else: deleting pb-1
// leaves pb-10 alone. A missing entity gives a *VanishedError.
func (c Collection[E, K]) Delete(k K) error {
	p, err := c.Path(k)
	if err != nil {
		return err
	}
	return deleteTree(c.tx, p)
}

// checkListPrefix rejects a key prefix that would list another level.
func checkListPrefix(entity, prefix string) error {
	if strings.Contains(prefix, "/") {
		return &KeyError{Entity: entity, Value: prefix, Reason: "a key prefix must not contain '/'"}
	}
	return nil
}

func deleteTree(tx *Txn, p string) error {
	if err := tx.Delete(p); err != nil {
		return err
	}
	children, err := tx.List(p+"/", Recurse(3))
	if err != nil {
		return err
	}
	for _, ch := range children {
		if err := tx.Delete(ch, AllowMissing()); err != nil {
			return err
		}
	}
	return nil
}

// ListKeys lists the keys of the entities whose key string starts with
// prefix ("" for all), sorted by key string. For composite keys the string
// is the parts joined by ':', so ListKeys(pbID+":") lists the flows of one
// processing block. Stored keys that do not parse are skipped.
func (c Collection[E, K]) ListKeys(prefix string) ([]K, error) {
	if err := checkListPrefix(c.t.name, prefix); err != nil {
		return nil, err
	}
	base := c.tx.entityScope().prefix + c.t.prefix + "/"
	paths, err := c.tx.List(base + prefix)
	if err != nil {
		return nil, err
	}
	out := make([]K, 0, len(paths))
	for _, p := range paths {
		k, err := c.t.parse(strings.TrimPrefix(p, base))
		if err != nil {
			continue
		}
		out = append(out, k)
	}
	return out, nil
}

// List returns the entities ListKeys(prefix) finds, in key order. Each is
// read with Get, so a watcher wakes when any of them changes.
func (c Collection[E, K]) List(prefix string) ([]*E, error) {
	keys, err := c.ListKeys(prefix)
	if err != nil {
		return nil, err
	}
	out := make([]*E, 0, len(keys))
	for _, k := range keys {
		e, err := c.Get(k)
		if err != nil {
			return nil, err
		}
		if e != nil {
			out = append(out, e)
		}
	}
	return out, nil
}

// State returns the state entry of the entity with key k. An invalid key
// gives a State whose methods all return the *KeyError.
func (c Collection[E, K]) State(k K) *State {
	p, err := c.Path(k)
	return &State{tx: c.tx, path: p + "/state", err: err}
}

// Owner returns the owner recorded for the entity with key k (nil if the
// entity is not owned: no process holds it).
func (c Collection[E, K]) Owner(k K) (*Owner, error) {
	p, err := c.Path(k)
	if err != nil {
		return nil, err
	}
	return getOwner(c.tx, p+"/owner")
}

// IsOwner reports whether this client (its Config's owner identity) owns
// the entity with key k.
func (c Collection[E, K]) IsOwner(k K) (bool, error) {
	p, err := c.Path(k)
	if err != nil {
		return false, err
	}
	return isOwner(c.tx, p+"/owner")
}

// Take makes this client the owner of the entity with key k: it creates
// the owner key, holding the owner identity, attached to the Config's
// client lease, so it vanishes when the client closes or dies. An owned
// entity gives a *CollisionError; outside a Config, ErrNoLease.
func (c Collection[E, K]) Take(k K) error {
	p, err := c.Path(k)
	if err != nil {
		return err
	}
	return take(c.tx, p+"/owner", 0)
}

// TakeWithLease is Take with an explicit lease.
func (c Collection[E, K]) TakeWithLease(k K, lease LeaseID) error {
	p, err := c.Path(k)
	if err != nil {
		return err
	}
	return take(c.tx, p+"/owner", lease)
}

// IsAlive reports whether the entity with key k is alive: its owner entry
// exists.
func (c Collection[E, K]) IsAlive(k K) (bool, error) {
	o, err := c.Owner(k)
	return o != nil, err
}

func getOwner(tx *Txn, p string) (*Owner, error) {
	v, err := tx.Get(p)
	if err != nil || v == nil {
		return nil, err
	}
	var o ownerModel
	if err := decodeEntity(p, v, &o); err != nil {
		return nil, err
	}
	return &Owner{Command: o.Command, Hostname: o.Hostname, PID: o.PID}, nil
}

// ownerModel is Owner as stored.
type ownerModel struct {
	Command  []string `json:"command"`
	Hostname string   `json:"hostname"`
	PID      int      `json:"pid"`
	Extra    Extra    `json:"-"`
}

func isOwner(tx *Txn, p string) (bool, error) {
	v, err := tx.Get(p)
	if err != nil || v == nil {
		return false, err
	}
	// Compare values, not bytes: a peer may have written other spacing.
	pv, err := pyjson.Unmarshal(v)
	if err != nil {
		return false, nil
	}
	return pyval.Equal(pv, tx.entityScope().owner.Dict()), nil
}

func take(tx *Txn, p string, lease LeaseID) error {
	s := tx.entityScope()
	if lease == 0 {
		if s.lease == nil {
			return fmt.Errorf("config: take %s: %w", p, ErrNoLease)
		}
		l, err := s.lease(tx.ctx)
		if err != nil {
			return fmt.Errorf("config: take %s: %w", p, err)
		}
		lease = l.ID()
	}
	return tx.Create(p, s.owner.JSON(), lease)
}

// State is the state entry of an entity (Python's txn.<type>.state(key)):
// a free dict, read and written whole. Decode, CreateFrom and UpdateFrom
// use the typed state structs (ProcessingBlockState, …).
type State struct {
	tx   *Txn
	path string
	err  error // an invalid entity key
}

// Path returns the database path of the state entry.
func (s *State) Path() string { return s.path }

// Get returns the state, or nil if there is none.
func (s *State) Get() (*pyval.Dict, error) {
	if s.err != nil {
		return nil, s.err
	}
	v, err := s.tx.Get(s.path)
	if err != nil || v == nil {
		return nil, err
	}
	pv, err := pyjson.Unmarshal(v)
	if err != nil {
		return nil, &DecodeError{Path: s.path, Err: err.Error()}
	}
	d, ok := pv.(*pyval.Dict)
	if !ok {
		return nil, &DecodeError{Path: s.path, Err: "want a dict, got " + kindName(pv)}
	}
	return d, nil
}

// Create stores a new state (nil: {}); a *CollisionError if one exists.
func (s *State) Create(d *pyval.Dict) error {
	b, err := s.dictBytes(d)
	if err != nil {
		return err
	}
	return s.tx.Create(s.path, b, 0)
}

// Update replaces the state; a *VanishedError if there is none.
func (s *State) Update(d *pyval.Dict) error {
	b, err := s.dictBytes(d)
	if err != nil {
		return err
	}
	return s.tx.Update(s.path, b)
}

// Delete removes the state; a *VanishedError if there is none.
func (s *State) Delete() error {
	if s.err != nil {
		return s.err
	}
	return s.tx.Delete(s.path)
}

func (s *State) dictBytes(d *pyval.Dict) ([]byte, error) {
	if s.err != nil {
		return nil, s.err
	}
	if d == nil {
		d = &pyval.Dict{}
	}
	b, err := pyjson.Canonical(d)
	if err != nil {
		return nil, fmt.Errorf("config: encoding %s: %w", s.path, err)
	}
	return b, nil
}

// Decode reads the state into the struct into points to; found is false
// (and into untouched) if there is none.
func (s *State) Decode(into any) (found bool, err error) {
	if s.err != nil {
		return false, s.err
	}
	v, err := s.tx.Get(s.path)
	if err != nil || v == nil {
		return false, err
	}
	return true, decodeEntity(s.path, v, into)
}

// CreateFrom stores a new state from a typed state struct.
func (s *State) CreateFrom(v any) error {
	b, err := s.structBytes(v)
	if err != nil {
		return err
	}
	return s.tx.Create(s.path, b, 0)
}

// UpdateFrom replaces the state with a typed state struct.
func (s *State) UpdateFrom(v any) error {
	b, err := s.structBytes(v)
	if err != nil {
		return err
	}
	return s.tx.Update(s.path, b)
}

func (s *State) structBytes(v any) ([]byte, error) {
	if s.err != nil {
		return nil, s.err
	}
	b, err := encodeEntity(v)
	if err != nil {
		return nil, fmt.Errorf("config: encoding %s: %w", s.path, err)
	}
	if !bytes.HasPrefix(b, []byte("{")) {
		return nil, fmt.Errorf("config: encoding %s: a state must be a dict", s.path)
	}
	return b, nil
}
