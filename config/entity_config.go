package config

import (
	"context"
	"fmt"
	"iter"
)

// WithComponentName names this client as an SDP component (Python's
// component_name): SetAlive and IsAlive use its keep-alive key
// /component/<name>/owner.
func WithComponentName(name string) Option {
	return func(o *configOptions) { o.component = name }
}

// ComponentName returns the name given with WithComponentName ("" if
// none).
func (c *Config) ComponentName() string { return c.component }

// Watcher is DB.Watcher whose transactions' entity helpers use this
// Config's global prefix, owner and client lease:
//
//	for w, err := range cfg.Watcher(ctx) {
//		if err != nil {
//			return err
//		}
//		_ = w.Txn(ctx, func(tx *config.Txn) error {
//			keys, err := tx.ProcessingBlocks().ListKeys("")
//			…
//		})
//	}
func (c *Config) Watcher(ctx context.Context, opts ...WatcherOption) iter.Seq2[*Watcher, error] {
	s := c.entityScope()
	return func(yield func(*Watcher, error) bool) {
		for w, err := range c.db.Watcher(ctx, opts...) {
			if w != nil {
				w.scope = s
			}
			if !yield(w, err) {
				return
			}
		}
	}
}

// AliveKey returns the path of this component's keep-alive key,
// <global prefix>/component/<component name>/owner ("" without a
// component name).
func (c *Config) AliveKey() string {
	if c.component == "" {
		return ""
	}
	return c.prefix + PrefixComponent + "/" + c.component + "/owner"
}

// SetAlive writes this component's keep-alive key (AliveKey): the owner
// identity, attached to the client lease, so the key vanishes when the
// client closes, or TTL seconds after it dies or loses its lease. A key
// left by an earlier lease of the same component is replaced. It needs
// WithComponentName.
func (c *Config) SetAlive(ctx context.Context) error {
	if c.component == "" {
		return fmt.Errorf("config: set alive: no component name (WithComponentName)")
	}
	if err := componentPart.check("component", c.component); err != nil {
		return err
	}
	lease, err := c.ClientLease(ctx)
	if err != nil {
		return fmt.Errorf("config: set alive: %w", err)
	}
	p := c.AliveKey()
	return c.Txn(ctx, func(tx *Txn) error {
		if v, err := tx.Get(p); err != nil {
			return err
		} else if v != nil {
			if err := tx.Delete(p); err != nil {
				return err
			}
		}
		return tx.Create(p, c.owner.JSON(), lease.ID())
	})
}

// IsAlive reports whether this component's keep-alive key exists.
func (c *Config) IsAlive(ctx context.Context) (bool, error) {
	if c.component == "" {
		return false, fmt.Errorf("config: is alive: no component name (WithComponentName)")
	}
	v, _, err := c.db.Get(ctx, c.AliveKey(), 0)
	return v != nil, err
}

// LeaseLost returns a channel closed when the client lease is lost
// (expired, revoked elsewhere, keep-alive failed): ownership and keep-alive
// keys made with it are gone, and the component must take them again
// (SetAlive grants a new lease). It is nil while no client lease was
// granted.
func (c *Config) LeaseLost() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lease == nil {
		return nil
	}
	return c.lease.Lost()
}

// LeaseIsLost reports whether the client lease was granted and since lost
// (Python's lease_is_lost).
func (c *Config) LeaseIsLost() bool {
	ch := c.LeaseLost()
	if ch == nil {
		return false
	}
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
