package etcd

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/sdpkit/sdpkit/config/kv"
)

// lease is a granted lease with its keep-alive.
type lease struct {
	s      *Store
	id     kv.LeaseID
	cancel context.CancelFunc // stops the keep-alive
	lost   chan struct{}
	once   sync.Once
	ended  chan struct{} // closed by revoke, so a pending expiry wait ends
	eonce  sync.Once
}

var _ kv.Lease = (*lease)(nil)

// Grant creates a lease of ttl seconds (etcd raises TTLs below its
// minimum, about 2 s with default timing) and keeps it alive with
// clientv3's KeepAlive until ctx ends, it is revoked or the store is
// closed. Lost is closed when etcd reports the lease gone, when no
// keep-alive has succeeded for the TTL, or, once ctx has ended, when the
// TTL since the last keep-alive has run out (the lease then expires on the
// server and its keys are deleted).
func (s *Store) Grant(ctx context.Context, ttl int64) (kv.Lease, error) {
	if err := s.checkOpen("grant"); err != nil {
		return nil, err
	}
	resp, err := s.c.Grant(ctx, ttl)
	if err != nil {
		return nil, mapErr(fmt.Sprintf("grant of a %d s lease", ttl), err)
	}
	l := &lease{s: s, id: kv.LeaseID(resp.ID), lost: make(chan struct{}), ended: make(chan struct{})}
	kaCtx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.ctx, cancel)
	l.cancel = func() { stop(); cancel() }
	ch, err := s.c.KeepAlive(kaCtx, resp.ID)
	if err != nil {
		l.cancel()
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		_, _ = s.c.Revoke(rctx, resp.ID)
		rcancel()
		return nil, mapErr(fmt.Sprintf("keep-alive of lease %x", resp.ID), err)
	}
	s.mu.Lock()
	s.leases[l.id] = l
	s.mu.Unlock()
	go l.keepAlive(kaCtx, ch, time.Now().Add(time.Duration(resp.TTL)*time.Second))
	return l, nil
}

func (l *lease) ID() kv.LeaseID        { return l.id }
func (l *lease) Lost() <-chan struct{} { return l.lost }

// keepAlive follows the keep-alive responses until the channel closes,
// then decides when the lease is lost.
func (l *lease) keepAlive(ctx context.Context, ch <-chan *clientv3.LeaseKeepAliveResponse, deadline time.Time) {
	for r := range ch {
		deadline = time.Now().Add(time.Duration(r.TTL) * time.Second)
	}
	// The channel closes when ctx ends, when etcd says the lease is gone,
	// or when no keep-alive succeeded within the TTL. Only in the first
	// case may the lease still live on the server, until its deadline.
	if ctx.Err() != nil && !l.s.closed.Load() {
		if d := time.Until(deadline); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-l.ended:
			}
			t.Stop()
		}
	}
	if !l.s.closed.Load() { // Close revokes and closes Lost itself
		l.markLost()
	}
}

func (l *lease) markLost() {
	l.once.Do(func() {
		l.s.mu.Lock()
		delete(l.s.leases, l.id)
		l.s.mu.Unlock()
		close(l.lost)
	})
}

// Revoke revokes the lease on the server: its keys are deleted at once. A
// lease that has already ended gives kv.ErrLeaseNotFound.
func (l *lease) Revoke(ctx context.Context) error {
	if err := l.s.checkOpen(fmt.Sprintf("revoke lease %x", l.id)); err != nil {
		return err
	}
	return l.revoke(ctx)
}

func (l *lease) revoke(ctx context.Context) error {
	_, err := l.s.c.Revoke(ctx, clientv3.LeaseID(l.id))
	if err != nil {
		err = mapErr(fmt.Sprintf("revoke lease %x", l.id), err)
		if !errors.Is(err, kv.ErrLeaseNotFound) {
			return err // the lease may still be alive: keep it so
		}
	}
	l.eonce.Do(func() { close(l.ended) })
	l.cancel()
	l.markLost()
	return err
}
