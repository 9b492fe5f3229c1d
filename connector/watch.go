package connector

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sdpkit/sdpkit/config"
	"github.com/sdpkit/sdpkit/connector/descriptor"
)

// TemplatePath substitutes the subarray id for every "{}" in a 5.x
// exchanges_config_path template: "/component/lmc-queueconnector-{}/owner"
// with "01" is "/component/lmc-queueconnector-01/owner".
func TemplatePath(path, subarray string) string { return strings.ReplaceAll(path, "{}", subarray) }

// retryAfter is how soon a watch whose read failed tries again.
const retryAfter = time.Second

// watching marks the device as monitoring the database while a watch runs,
// and registers the watch's "apply again" trigger for Reset.
func (d *Device) watching(trigger func()) (done func()) {
	d.mu.Lock()
	d.monitoring++
	d.reapply = append(d.reapply, trigger)
	i := len(d.reapply) - 1
	d.mu.Unlock()
	return func() {
		d.mu.Lock()
		d.monitoring--
		d.reapply[i] = func() {}
		d.mu.Unlock()
	}
}

// WatchKey configures the device from the descriptor JSON stored at path
// in the configuration database (the 4.x exchanges_config_path; see
// TemplatePath for 5.x templates) and keeps it configured until ctx ends:
// every change of the value reconfigures the device (Apply: the running
// exchanges drain, the new configuration is built and started); a deleted
// key or an empty value is an empty configuration (STANDBY); a bad value
// puts the device in FAULT with the error in Status, and the next good
// value recovers it without a Reset (the database is the source of truth
// of a device that watches it). IsMonitoringDB is true while WatchKey
// runs. It returns nil when ctx ends.
func (d *Device) WatchKey(ctx context.Context, db *config.DB, path string) error {
	if err := config.CheckKeyPath(path); err != nil {
		return err
	}
	return d.watchLoop(ctx, db.Watcher(ctx), "key "+path, func(ctx context.Context, w *config.Watcher) (parsed, []byte, error) {
		var val []byte
		err := w.Txn(ctx, func(tx *config.Txn) error {
			v, err := tx.Get(path)
			val = v
			return err
		})
		if err != nil {
			return parsed{}, nil, err
		}
		p := parseConfig(val)
		if p.err != nil {
			p.err = fmt.Errorf("config key %s: %w", path, p.err)
		}
		return p, append([]byte{}, val...), nil
	})
}

// WatchFlows configures the device from the Flow entities of processing
// block pbID (the 5.x configuration, see descriptor.FromFlows): one group
// named pbID with an exchange per flow handed to the queue connector.
// It watches the block's flows (added, removed, changed) and the input
// flows they name, and reconfigures the device as WatchKey does. It
// returns nil when ctx ends.
func (d *Device) WatchFlows(ctx context.Context, cfg *config.Config, pbID string, opts ...descriptor.FlowOption) error {
	if err := config.CheckProcessingBlockID(pbID); err != nil {
		return err
	}
	return d.watchLoop(ctx, cfg.Watcher(ctx), "flows of "+pbID, func(ctx context.Context, w *config.Watcher) (parsed, []byte, error) {
		var flows []config.Flow
		err := w.Txn(ctx, func(tx *config.Txn) error {
			flows = flows[:0]
			keys, err := tx.Flows().ListKeys(pbID + ":")
			if err != nil {
				return err
			}
			have := map[string]bool{}
			for _, k := range keys {
				f, err := tx.Flows().Get(k)
				if err != nil {
					return err
				}
				if f != nil {
					flows = append(flows, *f)
					have[k.String()] = true
				}
			}
			// Inputs may belong to other blocks: read them too, so that
			// their changes are watched as well.
			for _, f := range flows {
				for _, s := range f.Sources {
					if s.URI.Key == nil || have[s.URI.Key.String()] || s.Function != descriptor.FlowFunction {
						continue
					}
					in, err := tx.Flows().Get(*s.URI.Key)
					if err != nil {
						return err
					}
					if in != nil {
						flows = append(flows, *in)
						have[s.URI.Key.String()] = true
					}
				}
			}
			return nil
		})
		if err != nil {
			return parsed{}, nil, err
		}
		desc, err := descriptor.FromFlows(pbID, flows, opts...)
		if err != nil {
			return parsed{err: fmt.Errorf("flows of %s: %w", pbID, err)}, []byte(err.Error()), nil
		}
		key, err := descriptor.Marshal(desc)
		if err != nil {
			return parsed{err: err}, nil, nil
		}
		return parsed{desc: desc}, key, nil
	})
}

// watchLoop runs a watcher loop: read the configuration, apply it when it
// differs from the last one applied (or after a Reset), wait for a change.
func (d *Device) watchLoop(ctx context.Context, loop func(func(*config.Watcher, error) bool), what string,
	read func(context.Context, *config.Watcher) (parsed, []byte, error)) error {
	var again atomic.Bool
	var cur atomic.Pointer[config.Watcher]
	done := d.watching(func() {
		again.Store(true)
		if w := cur.Load(); w != nil {
			w.Trigger()
		}
	})
	defer done()
	var last []byte
	first := true
	var werr error
	loop(func(w *config.Watcher, err error) bool {
		if err != nil {
			if ctx.Err() == nil {
				werr = err
			}
			return false
		}
		cur.Store(w)
		p, key, err := read(ctx, w)
		if err != nil {
			if ctx.Err() != nil {
				return false
			}
			d.log.Warn("configuration database read failed; retrying", "watch", what, "err", err)
			w.SetTimeout(retryAfter)
			return true
		}
		w.SetTimeout(0)
		if !first && bytes.Equal(key, last) && !again.Swap(false) {
			return true
		}
		first = false
		last = key
		d.log.Info("configuration from the database", "watch", what)
		if err := d.apply(ctx, p); err != nil && !errors.Is(err, context.Canceled) {
			d.log.Error("reconfiguration failed", "watch", what, "err", err)
		}
		return true
	})
	return werr
}
