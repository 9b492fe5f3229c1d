//go:build tango

package tango

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/internal/tangopeer"
	"github.com/sdpkit/sdpkit/pyval"
)

// startPeerServer runs tango/testdata/server.py (a pytango device in no-database
// mode) on port (a free one when 0) and returns its TRL.
func startPeerServer(t testing.TB, port int) string {
	t.Helper()
	if port == 0 {
		p, err := freePort("127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		port = p
	}
	return tangopeer.StartServer(t, port, "peer/test/1")
}

// eventsTo returns a callback that hands events to a channel.
func eventsTo(ch chan Event) func(Event) {
	return func(ev Event) {
		select {
		case ch <- ev:
		default: // the test stopped listening
		}
	}
}

// TestClientPytangoServer reads, writes and subscribes to the attributes
// of a pytango device, every type and format; pytango's own client checks
// what we wrote.
func TestClientPytangoServer(t *testing.T) {
	trl := startPeerServer(t, 0)
	ctx := context.Background()
	d, err := Dial(ctx, trl, WithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	p := tangopeer.StartClient(t, trl)
	if st, err := d.State(ctx); err != nil || st != On {
		t.Errorf("State = %v, %v; want ON", st, err)
	}
	pushed, written := cases(4), cases(5)
	// Subscribe to everything first and keep the subscriptions: cppTango
	// 9.3's event consumer is fragile under subscribe/unsubscribe churn
	// (cppTango#686, pytango#371).
	events := map[string]chan Event{}
	for _, c := range pushed {
		ch := make(chan Event, 64)
		events[c.name()] = ch
		if _, err := d.Subscribe(ctx, c.name(), ChangeEvent, eventsTo(ch)); err != nil {
			t.Fatal(err)
		}
	}
	// The first pushed event proves the event channel is up (the initial
	// event is read synchronously, so it does not).
	warm := events["DevDouble_SCALAR"]
	for k := 0; ; k++ {
		v := 1000.0 + float64(k)
		b, _ := json.Marshal(map[string]any{"attr": "DevDouble_SCALAR", "value": v})
		if _, err := d.CommandInout(ctx, "Push", pyval.Str(b)); err != nil {
			t.Fatal(err)
		}
		if ok := waitFor(warm, pyval.Float(v), time.Second); ok {
			break
		}
		if k > 40 {
			t.Fatal("no change event reached the client in 40 s")
		}
	}
	for i, c := range pushed {
		t.Run(c.name(), func(t *testing.T) {
			name := c.name()
			events := events[name]
			// The device pushes c's value; the event must bring it.
			b, _ := json.Marshal(map[string]any{"attr": name, "value": c.plain})
			if _, err := d.CommandInout(ctx, "Push", pyval.Str(b)); err != nil {
				t.Fatal(err)
			}
			waitValue(t, events, c.v)
			r, err := d.ReadAttribute(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			if !pyval.Equal(r.Value, c.v) || r.Type != c.typ || r.Format != c.f {
				t.Errorf("read %s %s %s, want %s %s %s", r.Type, r.Format, pyval.Repr(r.Value), c.typ, c.f, pyval.Repr(c.v))
			}
			// We write; pytango reads it back, and the device's write
			// pushes a change event to us.
			w := written[i]
			if err := d.WriteAttribute(ctx, name, w.v); err != nil {
				t.Fatal(err)
			}
			var got struct{ Value json.RawMessage }
			_ = json.Unmarshal(p.Must(map[string]any{"op": "read", "attr": name}), &got)
			if g, want := recanon(t, got.Value), canon(t, w.plain); g != want {
				t.Errorf("pytango reads %s after our write, want %s", g, want)
			}
			waitValue(t, events, w.v)
		})
	}
}

// waitFor reports whether an event with want arrives within d.
func waitFor(events chan Event, want pyval.Value, d time.Duration) bool {
	timeout := time.After(d)
	for {
		select {
		case ev := <-events:
			if ev.Err == nil && pyval.Equal(ev.Value, want) {
				return true
			}
		case <-timeout:
			return false
		}
	}
}

// waitValue waits for an event carrying want (Tango may repeat the
// current value around a subscription).
func waitValue(t *testing.T, events chan Event, want pyval.Value) {
	t.Helper()
	timeout := time.After(20 * time.Second)
	var seen []string
	for {
		select {
		case ev := <-events:
			if ev.Err != nil {
				t.Errorf("error event: %v", ev.Err)
				continue
			}
			if pyval.Equal(ev.Value, want) {
				return
			}
			seen = append(seen, pyval.Repr(ev.Value))
		case <-timeout:
			t.Fatalf("no event with %s; saw %v", pyval.Repr(want), seen)
		}
	}
}

// TestClientErrors checks that DevFailed reaches Go as *DevFailed and that
// values of the wrong type are refused before they are sent.
func TestClientErrors(t *testing.T) {
	trl := startPeerServer(t, 0)
	ctx := context.Background()
	d, err := Dial(ctx, trl)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	tests := []struct {
		name   string
		do     func() error
		reason string
		is     error
	}{
		{"read missing", func() error { _, err := d.ReadAttribute(ctx, "nope"); return err }, "API_AttrNotFound", nil},
		{"command missing", func() error { _, err := d.CommandInout(ctx, "Nope", nil); return err }, "API_CommandNotFound", nil},
		{"write read-only", func() error { return d.WriteAttribute(ctx, "counter", pyval.Float(1)) }, "API_AttrNotWritable", nil},
		{"write wrong type", func() error { return d.WriteAttribute(ctx, "DevLong_SPECTRUM", pyval.Str("x")) }, "", ErrType},
		{"write float to int", func() error {
			return d.WriteAttribute(ctx, "DevLong_SPECTRUM", pyval.ArrayOf([]float64{1.5}))
		}, "", ErrType},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.do()
			if err == nil {
				t.Fatal("no error")
			}
			if tc.is != nil {
				if !errors.Is(err, tc.is) {
					t.Errorf("error %v, want %v", err, tc.is)
				}
				return
			}
			var df *DevFailed
			if !errors.As(err, &df) {
				t.Fatalf("error %v is not a DevFailed", err)
			}
			found := false
			for _, it := range df.Errors {
				found = found || it.Reason == tc.reason
			}
			if !found {
				t.Errorf("DevFailed %v, want reason %s", df, tc.reason)
			}
		})
	}
	if _, err := Dial(ctx, "tango://127.0.0.1:1/no/such/dev#dbase=no"); err == nil {
		t.Log("Dial to a closed port succeeds (cppTango connects lazily)")
	}
}

// TestClientStatelessSubscription subscribes before the device runs: error
// events arrive, then (cppTango retries every 10 s) the device's events.
func TestClientStatelessSubscription(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for cppTango's 10 s resubscription")
	}
	port, err := freePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	trl := fmt.Sprintf("tango://127.0.0.1:%d/peer/test/1#dbase=no", port)
	ctx := context.Background()
	d, err := Dial(ctx, trl, WithTimeout(2*time.Second))
	if err != nil {
		t.Skipf("cppTango cannot open a proxy to a device that is not running in no-database mode: %v", err)
	}
	defer d.Close()
	events := make(chan Event, 64)
	sub, err := d.Subscribe(ctx, "DevDouble_SCALAR", ChangeEvent, eventsTo(events), Stateless())
	if err != nil {
		t.Fatalf("stateless subscribe: %v", err)
	}
	defer sub.Unsubscribe()
	select {
	case ev := <-events:
		if ev.Err == nil {
			t.Fatalf("first event %v, want an error (device not running)", ev)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no error event while the device is down")
	}
	startPeerServer(t, port)
	timeout := time.After(40 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev.Err == nil {
				if !pyval.Equal(ev.Value, pyval.Float(2.25)) {
					t.Errorf("first value %s, want 2.25", pyval.Repr(ev.Value))
				}
				return
			}
		case <-timeout:
			t.Fatal("no event after the device started")
		}
	}
}

// TestClientEventTypes subscribes to archive and user events (pushed by
// the pytango device) and checks that a periodic subscription without
// polling fails with a DevFailed.
func TestClientEventTypes(t *testing.T) {
	trl := startPeerServer(t, 0)
	ctx := context.Background()
	d, err := Dial(ctx, trl)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	types := []struct {
		attr string
		et   EventType
		name string
	}{
		{"DevDouble_SCALAR", ArchiveEvent, "archive"},
		{"DevDouble_SCALAR", UserEvent, "user_event"},
		{"DevString_SPECTRUM", ArchiveEvent, "archive"},
	}
	chans := make([]chan Event, len(types))
	for i, tc := range types {
		chans[i] = make(chan Event, 256)
		if _, err := d.Subscribe(ctx, tc.attr, tc.et, eventsTo(chans[i])); err != nil {
			t.Fatalf("subscribe %s %s: %v", tc.attr, tc.et, err)
		}
	}
	// Push until every subscription has seen the same pushed value (the
	// first pushes may precede the event channel's connection).
	for k := 0; ; k++ {
		v := 100.0 + float64(k)
		strs := []string{fmt.Sprint("s", k), "t"}
		for _, push := range []map[string]any{{"attr": "DevDouble_SCALAR", "value": v}, {"attr": "DevString_SPECTRUM", "value": strs}} {
			b, _ := json.Marshal(push)
			if _, err := d.CommandInout(ctx, "Push", pyval.Str(b)); err != nil {
				t.Fatal(err)
			}
		}
		all := true
		for i, tc := range types {
			var want pyval.Value = pyval.Float(v)
			if tc.attr == "DevString_SPECTRUM" {
				want = pyval.StringArray(strs)
			}
			all = waitFor(chans[i], want, time.Second) && all
		}
		if all {
			break
		}
		if k > 40 {
			t.Fatal("archive and user events did not all arrive in 40 s")
		}
	}
	_, err = d.Subscribe(ctx, "DevDouble_SCALAR", PeriodicEvent, func(Event) {})
	var df *DevFailed
	if !errors.As(err, &df) {
		t.Fatalf("periodic subscription without polling: %v, want a DevFailed", err)
	}
}
