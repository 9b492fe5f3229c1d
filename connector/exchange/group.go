package exchange

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Group is a set of exchanges that start and stop together and share one
// fate, as the exchanges of one descriptor group (or one processing block's
// flows) share one device state machine. Groups are independent of each
// other: each has its own exchanges, goroutines and errors.
//
// Start starts every exchange and runs each in its own goroutine. When one
// run fails, the group aborts the others (the group has failed as a whole)
// and Err reports the first failure. Stop stops them all.
type Group struct {
	name      string
	exchanges []*Exchange

	mu      sync.Mutex
	started bool
	stopped bool
	cancel  context.CancelFunc
	done    chan struct{}
	err     error
}

// NewGroup returns a group of exchanges.
func NewGroup(name string, exchanges ...*Exchange) *Group {
	return &Group{name: name, exchanges: append([]*Exchange(nil), exchanges...), done: make(chan struct{})}
}

// Name returns the group's name.
func (g *Group) Name() string { return g.name }

// Exchanges returns the group's exchanges.
func (g *Group) Exchanges() []*Exchange { return append([]*Exchange(nil), g.exchanges...) }

// Start starts every exchange in order. If one fails to start, the ones
// already started are stopped and the error returned. On success each
// exchange runs in the background until Stop; ctx bounds only the start.
func (g *Group) Start(ctx context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		return fmt.Errorf("group %s: %w", g.name, ErrStopped)
	}
	if g.started {
		return nil
	}
	for i, x := range g.exchanges {
		if err := x.Start(ctx); err != nil {
			err = fmt.Errorf("group %s: %w", g.name, err)
			var errs []error
			for j := i - 1; j >= 0; j-- {
				errs = append(errs, g.exchanges[j].Stop(ctx))
			}
			if serr := errors.Join(errs...); serr != nil {
				err = fmt.Errorf("%w (and stopping: %v)", err, serr)
			}
			g.err = err
			return err
		}
	}
	g.started = true
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	g.cancel = cancel
	var wg sync.WaitGroup
	for _, x := range g.exchanges {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := x.Run(runCtx); err != nil && !errors.Is(err, ErrStopped) {
				g.mu.Lock()
				if g.err == nil {
					g.err = fmt.Errorf("group %s: %w", g.name, err)
				}
				g.mu.Unlock()
				cancel()
			}
		}()
	}
	go func() {
		wg.Wait()
		close(g.done)
	}()
	return nil
}

// Done is closed when every exchange's run has returned: all sources were
// exhausted, the group was stopped, or it failed.
func (g *Group) Done() <-chan struct{} { return g.done }

// Err returns the group's first failure (a start or run error), or nil.
func (g *Group) Err() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.err
}

// Stop stops every exchange concurrently (each drains and flushes, see
// Exchange.Stop) and waits for their runs to return. It returns the group's
// first failure joined with the errors of stopping.
func (g *Group) Stop(ctx context.Context) error {
	g.mu.Lock()
	if g.stopped {
		g.mu.Unlock()
		return nil
	}
	g.stopped = true
	started := g.started
	g.mu.Unlock()
	if !started {
		close(g.done)
		return g.Err()
	}
	errs := make([]error, len(g.exchanges))
	var wg sync.WaitGroup
	for i, x := range g.exchanges {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = x.Stop(ctx)
		}()
	}
	wg.Wait()
	<-g.done
	g.cancel()
	return errors.Join(append([]error{g.Err()}, errs...)...)
}

// Stats returns the counters of every exchange.
func (g *Group) Stats() []Stats {
	out := make([]Stats, len(g.exchanges))
	for i, x := range g.exchanges {
		out[i] = x.Stats()
	}
	return out
}
