package telstateio

import (
	"context"
	"time"
)

// DefaultRetry is how long sources and sinks retry a lost connection (an
// error matching telstate.ErrConnection) before failing: long enough for a
// Redis restart, short enough that a dead server fails the exchange.
const DefaultRetry = time.Minute

// Back-off between attempts while the connection is lost.
const (
	minBackoff = 20 * time.Millisecond
	maxBackoff = time.Second
)

// retrier paces the attempts after connection failures and gives up once
// they have failed for longer than limit.
type retrier struct {
	limit   time.Duration
	since   time.Time // first failure of the current run of failures; zero if none
	backoff time.Duration
}

// fail records a failure and reports whether to try again.
func (r *retrier) fail() bool {
	now := time.Now()
	if r.since.IsZero() {
		r.since, r.backoff = now, minBackoff
		return r.limit > 0
	}
	r.backoff = min(2*r.backoff, maxBackoff)
	return now.Sub(r.since) < r.limit
}

// ok records a success.
func (r *retrier) ok() { r.since = time.Time{} }

// wait sleeps the current back-off, reporting false if ctx ended first.
func (r *retrier) wait(ctx context.Context) bool {
	t := time.NewTimer(r.backoff)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
