package memory

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/sdpkit/sdpkit/config/kv"
)

// lease is a granted lease. Its fields are guarded by the store's lock.
type lease struct {
	s        *Store
	id       kv.LeaseID
	ttl      time.Duration
	ctx      context.Context // keep-alives stop when it ends
	deadline time.Time       // expiry unless refreshed
	keys     map[string]struct{}
	lost     chan struct{}
	ended    bool
	exp, ka  Timer
}

var _ kv.Lease = (*lease)(nil)

// Grant creates a lease of ttl seconds (at least 1) and keeps it alive, as
// clientv3's KeepAlive does, by refreshing it every ttl/3 until ctx ends,
// it is revoked or the store is closed. After ctx ends the lease expires
// ttl later: its keys are deleted in one revision and Lost is closed.
func (s *Store) Grant(ctx context.Context, ttl int64) (kv.Lease, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memory: grant: %w", err)
	}
	d := time.Duration(max(ttl, 1)) * time.Second
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, fmt.Errorf("memory: grant: %w", kv.ErrClosed)
	}
	s.lastLease++
	l := &lease{
		s:        s,
		id:       s.lastLease,
		ttl:      d,
		ctx:      ctx,
		deadline: s.opts.clock.Now().Add(d),
		keys:     make(map[string]struct{}),
		lost:     make(chan struct{}),
	}
	s.leases[l.id] = l
	l.exp = s.opts.clock.AfterFunc(d, l.expire)
	l.ka = s.opts.clock.AfterFunc(d/3, l.keepAlive)
	return l, nil
}

func (l *lease) ID() kv.LeaseID { return l.id }

func (l *lease) Lost() <-chan struct{} { return l.lost }

// Revoke ends the lease now, deleting its keys in one revision. Revoking
// an ended lease fails with kv.ErrLeaseNotFound.
func (l *lease) Revoke(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memory: revoke lease %x: %w", l.id, err)
	}
	s := l.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("memory: revoke lease %x: %w", l.id, kv.ErrClosed)
	}
	if l.ended {
		return fmt.Errorf("memory: revoke lease %x: %w", l.id, kv.ErrLeaseNotFound)
	}
	s.endLease(l)
	return nil
}

// keepAlive refreshes the deadline while the granting context lives.
func (l *lease) keepAlive() {
	s := l.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if l.ended || l.ctx.Err() != nil {
		return
	}
	l.deadline = s.opts.clock.Now().Add(l.ttl)
	l.ka = s.opts.clock.AfterFunc(l.ttl/3, l.keepAlive)
}

// expire ends the lease if its deadline has passed, else checks again at
// the (refreshed) deadline.
func (l *lease) expire() {
	s := l.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if l.ended {
		return
	}
	if now := s.opts.clock.Now(); now.Before(l.deadline) {
		l.exp = s.opts.clock.AfterFunc(l.deadline.Sub(now), l.expire)
		return
	}
	s.endLease(l)
}

// endLease deletes the lease's keys in one revision (in key order, as
// etcd's lessor) and closes Lost. Called with the write lock.
func (s *Store) endLease(l *lease) {
	l.ended = true
	l.exp.Stop()
	l.ka.Stop()
	delete(s.leases, l.id)
	if len(l.keys) > 0 {
		names := make([]string, 0, len(l.keys))
		for name := range l.keys {
			names = append(names, name)
		}
		sort.Strings(names)
		rev := s.rev + 1
		var changes []change
		for _, name := range names {
			k := s.keys[name]
			if k == nil {
				continue
			}
			if r := k.live(); r != nil && r.lease == l.id {
				t := rec{mod: rev}
				s.appendRec(k, t)
				changes = append(changes, change{name: name, rec: t})
			}
		}
		if len(changes) > 0 {
			s.commit(rev, changes)
		}
	}
	close(l.lost)
}
