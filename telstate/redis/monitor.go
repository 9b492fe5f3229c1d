package redis

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sdpkit/sdpkit/telstate/backend"
)

// channelPrefix is prepended to a full key to name its update channel.
const channelPrefix = "update/"

// maxQueued bounds the messages a Monitor holds for a slow reader. Beyond
// it they are replaced by one "check again" update: the reader re-reads
// the state instead of replaying the backlog.
const maxQueued = 10000

// Reconnection back-off of a monitor while the server is unreachable.
const (
	minBackoff = 20 * time.Millisecond
	maxBackoff = 500 * time.Millisecond
)

// queued is an undecoded event: a "check again", or a message.
type queued struct {
	check   bool
	channel string
	payload string
}

// monitor is a backend.Monitor on one pub/sub connection. A goroutine
// (run) receives from the connection and queues events; Next decodes them
// on the caller's goroutine, so that a TYPE query runs under the caller's
// context.
type monitor struct {
	b        *Backend
	channels []string // distinct, each "update/" + key

	cancel context.CancelFunc // stops run
	done   chan struct{}      // closed when run has returned

	psMu sync.Mutex
	ps   *goredis.PubSub // replaced when a dead connection is abandoned

	mu     sync.Mutex
	queue  []queued
	closed bool
	signal chan struct{} // capacity 1: "the queue or closed changed"
}

// Monitor subscribes to the update channels of keys on a new pub/sub
// connection. Its first update, once every channel is subscribed, is a
// "check again" (backend.KeyNone); another follows every reconnection.
// Messages become Immutable, Mutable or Indexed updates carrying the
// written value (see the package doc). Subscribing is retried once after
// a connection failure, and then fails with backend.ErrConnection.
func (b *Backend) Monitor(ctx context.Context, keys [][]byte) (backend.Monitor, error) {
	seen := make(map[string]bool, len(keys))
	var chans []string
	for _, k := range keys {
		ch := channelPrefix + string(k)
		if !seen[ch] {
			seen[ch] = true
			chans = append(chans, ch)
		}
	}
	m := &monitor{b: b, channels: chans, done: make(chan struct{}), signal: make(chan struct{}, 1)}
	var firstKey []byte
	if len(keys) > 0 {
		firstKey = keys[0]
	}
	err := b.call(ctx, "monitor", firstKey, func(ctx context.Context) error {
		ps := b.c.Subscribe(ctx)
		if len(chans) == 0 {
			m.ps = ps
			return nil
		}
		if err := ps.Subscribe(ctx, chans...); err != nil {
			_ = ps.Close()
			return err
		}
		m.ps = ps
		return nil
	})
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		_ = m.ps.Close()
		return nil, fmt.Errorf("%w: redis monitor: backend closed", ErrClosed)
	}
	b.monitors[m] = struct{}{}
	b.mu.Unlock()

	runCtx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	if len(chans) == 0 {
		// Nothing to listen to: report the one "check again" and idle.
		m.push(queued{check: true})
		close(m.done)
		return m, nil
	}
	go m.run(runCtx)
	return m, nil
}

// push queues ev, merging consecutive "check again" events and replacing
// an overlong backlog by one.
func (m *monitor) push(ev queued) {
	m.mu.Lock()
	switch n := len(m.queue); {
	case ev.check && n > 0 && m.queue[n-1].check:
	case n >= maxQueued:
		m.queue = append(m.queue[:0], queued{check: true})
	default:
		m.queue = append(m.queue, ev)
	}
	m.mu.Unlock()
	select {
	case m.signal <- struct{}{}:
	default:
	}
}

func (m *monitor) pubsub() *goredis.PubSub {
	m.psMu.Lock()
	defer m.psMu.Unlock()
	return m.ps
}

// run receives until ctx ends. go-redis reconnects and re-subscribes by
// itself after a read error; run adds the back-off while the server is
// away, the health-check ping, and abandoning a connection that does not
// answer it.
func (m *monitor) run(ctx context.Context) {
	defer close(m.done)
	interval := m.b.cfg.healthCheck
	backoff := minBackoff
	pinged := false
	for ctx.Err() == nil {
		ps := m.pubsub()
		msg, err := ps.ReceiveTimeout(ctx, interval)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			if isTimeout(err) {
				if !pinged {
					pinged = true
					_ = ps.Ping(ctx) // the Pong (or an error) arrives via Receive
					continue
				}
				// Silence after a ping: the connection is dead without
				// knowing it (a half-open TCP connection). Start over.
				m.resubscribe(ctx)
				pinged = false
				continue
			}
			if errors.Is(err, goredis.ErrClosed) {
				return
			}
			// The connection broke; go-redis has dropped it and dials
			// again (re-subscribing) on the next receive. Pace the
			// attempts while the server is away.
			if !sleep(ctx, backoff) {
				return
			}
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		backoff, pinged = minBackoff, false
		switch msg := msg.(type) {
		case *goredis.Subscription:
			// All channels are sent in one SUBSCRIBE, at the start and
			// on every reconnection; the confirmation of the last one
			// means everything is listened to again.
			if msg.Kind == "subscribe" && msg.Count == len(m.channels) {
				m.push(queued{check: true})
			}
		case *goredis.Message:
			m.push(queued{channel: msg.Channel, payload: msg.Payload})
		}
	}
}

// resubscribe replaces the pub/sub connection by a new one.
func (m *monitor) resubscribe(ctx context.Context) {
	ps := m.b.c.Subscribe(ctx)
	// An error here (server away) is retried by the next receive, which
	// dials and subscribes to the recorded channels.
	_ = ps.Subscribe(ctx, m.channels...)
	m.psMu.Lock()
	old := m.ps
	m.ps = ps
	m.psMu.Unlock()
	_ = old.Close()
}

func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

// sleep waits d or until ctx ends, reporting whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// Next returns the next update, blocking until there is one, the monitor
// is closed (ErrClosed) or ctx ends (ctx.Err()).
func (m *monitor) Next(ctx context.Context) (backend.KeyUpdate, error) {
	for {
		m.mu.Lock()
		if m.closed {
			m.mu.Unlock()
			return backend.KeyUpdate{}, ErrClosed
		}
		if len(m.queue) > 0 {
			ev := m.queue[0]
			m.queue[0] = queued{}
			m.queue = m.queue[1:]
			if len(m.queue) == 0 {
				m.queue = nil // let the backing array go
			}
			m.mu.Unlock()
			if upd, ok := m.decode(ctx, ev); ok {
				return upd, nil
			}
			continue
		}
		m.mu.Unlock()
		select {
		case <-m.signal:
		case <-ctx.Done():
			return backend.KeyUpdate{}, ctx.Err()
		}
	}
}

// decode turns an event into an update; ok is false for a message to
// drop (its key has gone).
func (m *monitor) decode(ctx context.Context, ev queued) (backend.KeyUpdate, bool) {
	if ev.check {
		return backend.KeyUpdate{}, true
	}
	key := []byte(ev.channel[min(len(channelPrefix), len(ev.channel)):])
	p := []byte(ev.payload)
	var t backend.KeyType
	if len(p) > 0 && p[0] >= 1 && p[0] <= 3 {
		t, p = backend.KeyType(p[0]), p[1:]
	} else {
		// No type byte (what katsdptelstate writes for immutable and
		// mutable keys): ask the server.
		var err error
		t, err = m.b.KeyType(ctx, key)
		if err != nil {
			return backend.KeyUpdate{Key: key}, true // check again
		}
		if t == backend.KeyNone {
			return backend.KeyUpdate{}, false
		}
	}
	upd, err := ParseUpdate(key, t, p)
	if err != nil {
		return backend.KeyUpdate{Key: key}, true // check again
	}
	return upd, true
}

// ParseUpdate decodes the body of an update message (after the type byte,
// if it had one) for key of kind t:
//
//	Immutable: the encoded value
//	Mutable:   8-byte big-endian timestamp + encoded value (a zset member)
//	Indexed:   ASCII decimal length n of the sub-key, '\n', the n-byte
//	           encoded sub-key, the encoded value
//
// The update's slices alias body.
func ParseUpdate(key []byte, t backend.KeyType, body []byte) (backend.KeyUpdate, error) {
	upd := backend.KeyUpdate{Key: key, Type: t}
	switch t {
	case backend.Immutable:
		upd.Value = body
	case backend.Mutable:
		v, ts, err := backend.SplitMember(body)
		if err != nil {
			return backend.KeyUpdate{}, fmt.Errorf("redis: update of %q: %w", key, err)
		}
		upd.Value, upd.Timestamp = v, ts
	case backend.Indexed:
		nl := bytes.IndexByte(body, '\n')
		if nl < 0 {
			return backend.KeyUpdate{}, fmt.Errorf("redis: indexed update of %q has no sub-key length", key)
		}
		n, err := strconv.Atoi(string(body[:nl]))
		if err != nil || n < 0 || n > len(body)-nl-1 {
			return backend.KeyUpdate{}, fmt.Errorf("redis: indexed update of %q has a bad sub-key length %q", key, body[:nl])
		}
		rest := body[nl+1:]
		upd.SubKey, upd.Value = rest[:n], rest[n:]
	default:
		return backend.KeyUpdate{}, fmt.Errorf("redis: update of %q for key type %v", key, t)
	}
	return upd, nil
}

// Close stops the monitor and closes its connection. Next then returns
// ErrClosed. Calling it again does nothing.
func (m *monitor) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	m.queue = nil
	m.mu.Unlock()
	select {
	case m.signal <- struct{}{}:
	default:
	}
	m.cancel()
	// Closing the connection ends a blocked receive; run may have swapped
	// in a new one meanwhile, so close whatever is current once it is
	// done.
	first := m.pubsub()
	err := first.Close()
	<-m.done
	if last := m.pubsub(); last != first {
		_ = last.Close()
	}
	m.b.mu.Lock()
	delete(m.b.monitors, m)
	m.b.mu.Unlock()
	if err != nil && !errors.Is(err, goredis.ErrClosed) {
		return fmt.Errorf("redis: closing monitor: %w", err)
	}
	return nil
}
