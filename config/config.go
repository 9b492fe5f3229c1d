package config

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/sdpkit/sdpkit/config/kv"
	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/pyval/pyjson"
)

// DefaultLeaseTTL is the TTL in seconds of Config.ClientLease and
// Python's default lease(ttl=10).
const DefaultLeaseTTL = 10

// Owner identifies a client process in ownership keys such as
// /pb/<id>/owner (spec §4.1, §7).
type Owner struct {
	Command  []string
	Hostname string
	PID      int
}

// DefaultOwner describes this process: os.Args, the host name and the pid,
// as Python's default owner {"command": sys.argv, "hostname": …, "pid": …}.
func DefaultOwner() Owner {
	host, _ := os.Hostname()
	return Owner{Command: append([]string{}, os.Args...), Hostname: host, PID: os.Getpid()}
}

// Dict returns the owner as the Python dict {"command": [...],
// "hostname": ..., "pid": ...}.
func (o Owner) Dict() *pyval.Dict {
	cmd := make(pyval.List, len(o.Command))
	for i, c := range o.Command {
		cmd[i] = pyval.Str(c)
	}
	d := &pyval.Dict{}
	d.SetStr("command", cmd)
	d.SetStr("hostname", pyval.Str(o.Hostname))
	d.SetStr("pid", pyval.IntOf(int64(o.PID)))
	return d
}

// JSON returns the owner as Python stores it (pyjson.Canonical of Dict:
// sorted keys, indent 2, no trailing newline).
func (o Owner) JSON() []byte {
	b, err := pyjson.Canonical(o.Dict())
	if err != nil { // strings, a list and an int always encode
		panic("config: encoding owner: " + err.Error())
	}
	return b
}

// Config is a client of the configuration database (Python's Config): a
// DB, the global prefix entity paths are placed under, this client's owner
// identity, and a lazily granted client lease that is kept alive in the
// background and revoked by Close. Transactions run through Config.Txn
// and Config.Watcher reach the entities with the typed helpers
// (tx.ProcessingBlocks(), tx.Flows(), …).
type Config struct {
	db        *DB
	prefix    string
	owner     Owner
	component string // component_name: names the keep-alive key

	mu     sync.Mutex
	lease  Lease
	ctx    context.Context // lives until Close; keeps leases alive
	cancel context.CancelFunc
	closed bool
}

// Option configures New.
type Option func(*configOptions)

type configOptions struct {
	prefix    string
	owner     *Owner
	component string
	dbOpts    []DBOption
}

// WithGlobalPrefix places every entity path under prefix ("" or a path
// such as "/sdp"; its slashes count in the depth tag: "/sdp/pb/x" is
// stored as "3/sdp/pb/x").
func WithGlobalPrefix(prefix string) Option { return func(o *configOptions) { o.prefix = prefix } }

// WithOwner sets the owner identity (default DefaultOwner()).
func WithOwner(owner Owner) Option { return func(o *configOptions) { o.owner = &owner } }

// WithDBOptions passes options to the DB.
func WithDBOptions(opts ...DBOption) Option {
	return func(o *configOptions) { o.dbOpts = append(o.dbOpts, opts...) }
}

// New returns a Config on store. The Config owns the store: Close closes
// it.
func New(store kv.KV, opts ...Option) (*Config, error) {
	var o configOptions
	for _, f := range opts {
		f(&o)
	}
	if o.prefix != "" {
		if err := CheckKeyPath(o.prefix); err != nil {
			return nil, fmt.Errorf("config: global prefix: %w", err)
		}
	}
	owner := DefaultOwner()
	if o.owner != nil {
		owner = *o.owner
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Config{db: NewDB(store, o.dbOpts...), prefix: o.prefix, owner: owner, component: o.component, ctx: ctx, cancel: cancel}, nil
}

// DB returns the backend layer.
func (c *Config) DB() *DB { return c.db }

// GlobalPrefix returns the prefix of entity paths ("" by default).
func (c *Config) GlobalPrefix() string { return c.prefix }

// Path returns the database path of an entity path: the global prefix
// followed by p.
func (c *Config) Path(p string) string { return c.prefix + p }

// Owner returns this client's owner identity.
func (c *Config) Owner() Owner { return c.owner }

// Lease grants a lease of ttl seconds (DefaultLeaseTTL if ttl is 0), kept
// alive in the background until it is revoked or the Config is closed.
func (c *Config) Lease(ttl int64) (Lease, error) {
	if ttl == 0 {
		ttl = DefaultLeaseTTL
	}
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	return c.db.Lease(c.ctx, ttl)
}

// ClientLease returns this client's lease (TTL DefaultLeaseTTL), granting
// it on first use; Close revokes it, so keys created with it (ownership,
// liveness) vanish at once. If the lease was lost (expired, revoked
// elsewhere) a new one is granted.
func (c *Config) ClientLease(ctx context.Context) (Lease, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	if c.lease != nil {
		select {
		case <-c.lease.Lost():
		default:
			return c.lease, nil
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("config: client lease: %w", err)
	}
	l, err := c.db.Lease(c.ctx, DefaultLeaseTTL)
	if err != nil {
		return nil, err
	}
	c.lease = l
	return l, nil
}

// Txn runs a transaction (DB.Txn) whose entity helpers
// (tx.ProcessingBlocks() …) use this Config's global prefix, owner and
// client lease.
func (c *Config) Txn(ctx context.Context, fn func(tx *Txn) error, opts ...TxnOption) error {
	return c.db.Txn(ctx, withScope(c.entityScope(), fn), opts...)
}

// Close revokes the client lease, stops keeping leases alive and closes
// the store.
func (c *Config) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	lease := c.lease
	c.mu.Unlock()
	var errs []error
	if lease != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := lease.Revoke(ctx); err != nil && !errors.Is(err, kv.ErrLeaseNotFound) {
			errs = append(errs, fmt.Errorf("config: revoke client lease: %w", err))
		}
		cancel()
	}
	c.cancel()
	if err := c.db.kv.Close(); err != nil {
		errs = append(errs, fmt.Errorf("config: close store: %w", err))
	}
	return errors.Join(errs...)
}
