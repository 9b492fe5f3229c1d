package web

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/sdpkit/sdpkit/connector/attribute"
)

// snapshotDoc is the first event of a stream: everything the page shows.
type snapshotDoc struct {
	Title      string        `json:"title"`
	State      stateDoc      `json:"state"`
	Attributes []attrDoc     `json:"attributes"`
	Exchanges  []exchangeDoc `json:"exchanges"`
}

// maxBatch bounds the events written between two flushes, so that a busy
// device still lets each flush reach the client promptly.
const maxBatch = 64

// stream is one client's event stream.
type stream struct {
	h     *Handler
	ctx   context.Context
	dlMu  sync.Mutex // orders deadline extensions with the final expiry
	w     http.ResponseWriter
	rc    *http.ResponseController
	store *attribute.Store

	attrs  <-chan attribute.Event
	states <-chan StateEvent
	// sent holds, per attribute the client knows, the sequence number of
	// the value it has; events at or below it are duplicates of the
	// snapshot.
	sent      map[string]uint64
	exchanges []byte // last exchanges event sent
}

func (h *Handler) serveEvents(w http.ResponseWriter, r *http.Request) {
	h.wg.Add(1)
	defer h.wg.Done()
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	if h.maxStream > 0 {
		ctx, cancel = context.WithTimeout(ctx, h.maxStream)
		defer cancel()
	}
	// Close on the handler ends the stream; so does the client going away
	// (r.Context()) and the server shutting down its connections.
	defer context.AfterFunc(h.ctx, cancel)()

	s := &stream{h: h, ctx: ctx, w: w, rc: http.NewResponseController(w), store: h.dev.Attributes(), sent: map[string]uint64{}}
	// A write blocked on a client that stopped reading must not hold the
	// stream past its end (Close, the server stopping): expire it now.
	defer context.AfterFunc(ctx, func() {
		s.dlMu.Lock()
		defer s.dlMu.Unlock()
		_ = s.rc.SetWriteDeadline(time.Now())
	})()
	// Subscribe before taking the snapshot, so that no change falls
	// between the two; what the subscription repeats is filtered by seq.
	s.states = h.dev.Events(ctx)
	s.attrs = s.store.Subscribe(ctx)

	snap := snapshotDoc{Title: h.title, State: h.stateNow(), Exchanges: h.exchangesNow()}
	for _, a := range s.store.Snapshot() {
		snap.Attributes = append(snap.Attributes, h.attrJSON(a, 0))
		s.sent[a.Spec.Name] = a.Seq
	}
	if snap.Attributes == nil {
		snap.Attributes = []attrDoc{}
	}
	s.exchanges, _ = marshal(snap.Exchanges)

	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-cache")
	hd.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write([]byte("retry: 2000\n\n")); err != nil {
		return
	}
	if s.send("snapshot", snap) != nil || s.flush() != nil {
		return
	}

	heartbeat := time.NewTicker(h.heartbeat)
	defer heartbeat.Stop()
	stats := time.NewTicker(h.statsEvery)
	defer stats.Stop()
	for {
		// Block for one event, then take whatever else is ready and flush
		// once: a burst costs one flush, not one per event.
		done, err := s.step(ctx, heartbeat.C, stats.C, true)
		for n := 0; err == nil && !done && n < maxBatch; n++ {
			var more bool
			more, err = s.stepMore(ctx, heartbeat.C, stats.C)
			if !more {
				break
			}
		}
		if done || err != nil {
			return
		}
		if s.flush() != nil {
			return
		}
	}
}

// stepMore handles one event if one is ready, reporting whether it did.
func (s *stream) stepMore(ctx context.Context, hb, st <-chan time.Time) (bool, error) {
	done, err := s.step(ctx, hb, st, false)
	if errors.Is(err, errIdle) {
		return false, nil
	}
	return !done && err == nil, err
}

var errIdle = errors.New("no event ready")

// step waits for (block) or polls one event and writes it. It reports
// done when the stream must end, and errIdle when polling found nothing.
func (s *stream) step(ctx context.Context, hb, st <-chan time.Time, block bool) (done bool, err error) {
	if !block {
		// Poll first without the heartbeat and stats tickers' competition
		// being random: any ready event is taken, else errIdle.
		select {
		case <-ctx.Done():
			return true, nil
		case ev, ok := <-s.attrs:
			return s.onAttr(ev, ok)
		case ev, ok := <-s.states:
			return s.onState(ev, ok)
		default:
			return false, errIdle
		}
	}
	select {
	case <-ctx.Done():
		return true, nil
	case ev, ok := <-s.attrs:
		return s.onAttr(ev, ok)
	case ev, ok := <-s.states:
		return s.onState(ev, ok)
	case <-st:
		return false, s.stats()
	case <-hb:
		// A comment: ignored by EventSource, but it makes a vanished client
		// show up as a write error.
		_, err := s.w.Write([]byte(": keepalive\n\n"))
		return false, err
	}
}

func (s *stream) onAttr(ev attribute.Event, ok bool) (bool, error) {
	if !ok {
		return true, nil
	}
	return false, s.attribute(ev)
}

func (s *stream) onState(ev StateEvent, ok bool) (bool, error) {
	if !ok {
		s.states = nil // the device stopped reporting; attributes still flow
		return false, nil
	}
	return false, s.send("state", stateDoc{State: ev.State, Status: ev.Status, Time: ev.Time.UTC().Format(time.RFC3339Nano)})
}

func (s *stream) attribute(ev attribute.Event) error {
	if seq, ok := s.sent[ev.Name]; ok && ev.Seq <= seq {
		return nil // the snapshot had it
	}
	snap, err := s.store.Get(ev.Name)
	if err != nil {
		return nil // removed since; the next stats tick reports it
	}
	s.sent[ev.Name] = ev.Seq
	// The event's reading, not the store's newer one: a later event
	// carries that.
	snap.Reading, snap.Seq = ev.Reading, ev.Seq
	return s.send("attribute", s.h.attrJSON(snap, ev.Coalesced))
}

// stats sends the exchange counters when they changed, and removed events
// for attributes that are gone (the store has no removal events).
func (s *stream) stats() error {
	b, err := marshal(s.h.exchangesNow())
	if err != nil {
		return err
	}
	if string(b) != string(s.exchanges) {
		s.exchanges = b
		if err := s.raw("exchanges", b); err != nil {
			return err
		}
	}
	if len(s.sent) == 0 {
		return nil
	}
	present := map[string]bool{}
	for _, n := range s.store.Names() {
		present[n] = true
	}
	for n := range s.sent {
		if !present[n] {
			delete(s.sent, n)
			if err := s.send("removed", struct {
				Name string `json:"name"`
			}{n}); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *stream) send(event string, v any) error {
	b, err := marshal(v)
	if err != nil {
		return err
	}
	return s.raw(event, b)
}

// raw writes one event; data is JSON, which has no raw newlines, so it
// fits one data line.
func (s *stream) raw(event string, data []byte) error {
	s.deadline()
	data = bytes.TrimSuffix(data, []byte("\n"))
	buf := make([]byte, 0, len(event)+len(data)+16)
	buf = append(buf, "event: "...)
	buf = append(buf, event...)
	buf = append(buf, "\ndata: "...)
	buf = append(buf, data...)
	buf = append(buf, "\n\n"...)
	_, err := s.w.Write(buf)
	return err
}

func (s *stream) flush() error {
	s.deadline()
	err := s.rc.Flush()
	if errors.Is(err, http.ErrNotSupported) {
		return nil
	}
	return err
}

// deadline bounds the next write, so that a client that stopped reading
// is dropped instead of holding the handler forever.
func (s *stream) deadline() {
	s.dlMu.Lock()
	defer s.dlMu.Unlock()
	if s.ctx.Err() != nil {
		_ = s.rc.SetWriteDeadline(time.Now()) // ending: do not extend
		return
	}
	if s.h.writeTimeout > 0 {
		_ = s.rc.SetWriteDeadline(time.Now().Add(s.h.writeTimeout)) // not supported by every writer
	}
}
