package telstate

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/telstate/backend"
	"github.com/sdpkit/sdpkit/telstate/encoding"
)

// fullKeys returns key under every prefix, in order.
func (ts *TelescopeState) fullKeys(key string) [][]byte {
	fks := make([][]byte, len(ts.prefixes))
	for i := range ts.prefixes {
		fks[i] = ts.full(i, key)
	}
	return fks
}

// WaitKey blocks until key satisfies cond, or ctx ends.
//
// With a nil cond it waits until the key exists under some prefix of the
// view. Otherwise cond is called with the decoded value of the key under
// the first prefix where it exists (shadowing applies: a write to an outer
// namespace does not help while an inner one holds the key) and, for a
// sensor, a pointer to the sample's timestamp (nil for other kinds; an
// indexed key gives its whole *pyval.Dict). When the backend reports the
// sample just written to that very key, cond sees that sample, even if it
// is older than the newest one, so that a waiter sees every sample a
// Redis backend publishes; otherwise it sees the latest.
//
// The condition is checked first; if it does not hold WaitKey watches the
// key under every prefix and re-checks after each update. cond runs on the
// calling goroutine and must not block.
//
// When ctx ends first the error matches ErrTimeout (deadline) or
// ErrCancelled (cancellation), and also ctx.Err(). A condition that
// already holds is reported as met even if ctx has ended (the first check
// then runs under context.WithoutCancel), as katsdptelstate checks before
// looking at cancellation. Errors from reading or
// decoding the key, and from cond's backend, end the wait too, except a
// connection error while re-checking after an update: the server is
// restarting, the monitor reconnects and asks for another check, and the
// wait goes on (bounded by ctx).
func (ts *TelescopeState) WaitKey(ctx context.Context, key string, cond func(v pyval.Value, ts *float64) bool) error {
	fks := ts.fullKeys(key)
	return ts.wait(ctx, "wait_key", fks, func(ctx context.Context, upd *backend.KeyUpdate) (bool, error) {
		return ts.checkKey(ctx, fks, cond, upd)
	})
}

// wait runs katsdptelstate's wait loop: check, then monitor and re-check
// on every update until check holds or ctx ends.
//
// As in Python, the first check is made even if ctx has already ended (a
// satisfied wait succeeds): it then runs under context.WithoutCancel, so
// that a backend doing I/O can serve it. A check that fails because ctx
// ended is reported as the wait's timeout or cancellation.
func (ts *TelescopeState) wait(ctx context.Context, what string, fks [][]byte, check func(context.Context, *backend.KeyUpdate) (bool, error)) error {
	first := ctx
	if ctx.Err() != nil {
		first = context.WithoutCancel(ctx)
	}
	if ok, err := check(first, nil); ok || err != nil {
		if first == ctx && endedBy(ctx, err) {
			return waitErr(ctx, what, fks[0])
		}
		return err
	}
	if ctx.Err() != nil {
		return waitErr(ctx, what, fks[0])
	}
	mon, err := ts.be.Monitor(ctx, fks)
	if err != nil {
		if ctx.Err() != nil {
			return waitErr(ctx, what, fks[0])
		}
		return backendErr(what, fks[0], err)
	}
	defer mon.Close()
	for {
		upd, err := mon.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return waitErr(ctx, what, fks[0])
			}
			return backendErr(what, fks[0], err)
		}
		ok, err := check(ctx, &upd)
		if err != nil && ctx.Err() == nil && errors.Is(err, backend.ErrConnection) {
			// The server went away between the update and the re-check
			// (a restart): the monitor reconnects and sends another
			// "check again" when it is back, so the wait goes on rather
			// than failing; ctx still bounds it.
			continue
		}
		if ok || err != nil {
			if endedBy(ctx, err) {
				return waitErr(ctx, what, fks[0])
			}
			return err
		}
	}
}

// endedBy reports whether err is ctx ending (rather than a failure of its
// own, which a wait reports as it is).
func endedBy(ctx context.Context, err error) bool {
	return err != nil && ctx.Err() != nil &&
		(errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))
}

// checkKey evaluates WaitKey's condition. upd is the update that caused
// the check (nil for the first one).
func (ts *TelescopeState) checkKey(ctx context.Context, fks [][]byte, cond func(pyval.Value, *float64) bool, upd *backend.KeyUpdate) (bool, error) {
	for _, fk := range fks {
		if upd != nil && bytes.Equal(upd.Key, fk) && (upd.Type == backend.Immutable || upd.Type == backend.Mutable) {
			// The update carries this key's new value: use it.
			if cond == nil {
				return true, nil
			}
			v, err := ts.decode(fk, upd.Value)
			if err != nil {
				return false, err
			}
			if upd.Type == backend.Mutable {
				t := upd.Timestamp
				return cond(v, &t), nil
			}
			return cond(v, nil), nil
		}
		if cond == nil {
			ok, err := ts.be.Exists(ctx, fk)
			if err != nil {
				return false, backendErr("wait_key", fk, err)
			}
			if ok {
				return true, nil
			}
			continue
		}
		raw, err := ts.be.Get(ctx, fk)
		if errors.Is(err, ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return false, backendErr("wait_key", fk, err)
		}
		v, err := ts.decodeValue(fk, raw)
		if err != nil {
			return false, err
		}
		if raw.Type == backend.Mutable {
			t := raw.Timestamp
			return cond(v, &t), nil
		}
		return cond(v, nil), nil
	}
	return false, nil
}

// WaitIndexed blocks until subKey of the indexed key exists and satisfies
// cond (nil: exists), or ctx ends. The key is looked up as GetIndexed does:
// the first prefix where the key exists decides, and a missing sub-key
// there means "not yet" even if an outer namespace has it.
//
// ErrImmutableKey if the key is found to be of another kind, initially or
// through an update while waiting. Endings by ctx are reported as for
// WaitKey.
func (ts *TelescopeState) WaitIndexed(ctx context.Context, key string, subKey pyval.Value, cond func(v pyval.Value) bool) error {
	fks := ts.fullKeys(key)
	sk, err := encoding.Encode(subKey) // as Python, no hashability check
	if err != nil {
		return fmt.Errorf("telstate: wait_indexed %s: sub-key: %w", displayKey(fks[0]), err)
	}
	return ts.wait(ctx, "wait_indexed", fks, func(ctx context.Context, upd *backend.KeyUpdate) (bool, error) {
		if upd != nil {
			switch upd.Type {
			case backend.Immutable, backend.Mutable:
				return false, fmt.Errorf("%w: wait_indexed called on non-indexed key %s", ErrImmutableKey, displayKey(upd.Key))
			case backend.Indexed:
				if !bytes.Equal(upd.SubKey, sk) {
					return false, nil // another sub-key: nothing to re-check
				}
			}
		}
		for _, fk := range fks {
			v, ok, err := ts.be.GetIndexed(ctx, fk, sk)
			switch {
			case errors.Is(err, ErrKeyNotFound):
				continue
			case errors.Is(err, ErrImmutableKey):
				return false, fmt.Errorf("%w: wait_indexed called on non-indexed key %s", ErrImmutableKey, displayKey(fk))
			case err != nil:
				return false, backendErr("wait_indexed", fk, err)
			case !ok:
				return false, nil
			case cond == nil:
				return true, nil
			}
			val, err := ts.decode(fk, v)
			if err != nil {
				return false, err
			}
			return cond(val), nil
		}
		return false, nil
	})
}
