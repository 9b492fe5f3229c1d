//go:build tango

package tango

import (
	"context"
	"encoding/json"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/internal/tangopeer"
	"github.com/sdpkit/sdpkit/pyval"
)

// TestKeepAliveRecovers makes cppTango's keep-alive thread miss the
// heartbeat of a running no-database server: the pytango server is stopped
// (SIGSTOP) until the thread reports API_EventTimeout, then continued, and
// a value is pushed every 2 s for 30 s (three keep-alive rounds): every
// value must reach the subscription, and a fresh subscription on the same
// proxy must work too. Without the shim's repair_channel, the round after
// the resume freed the channel's admin proxy without replacing it (its
// name lacks "#dbase=no") and the next one crashed (SIGSEGV in
// reconnect_to_zmq_channel); with the proxy repaired but not the name,
// every round failed again and the events stopped after the first.
func TestKeepAliveRecovers(t *testing.T) {
	if !*keepAlive {
		t.Skip("waits for cppTango's keep-alive rounds (about a minute); run with -tango.keepalive")
	}
	port, err := freePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	trl, proc := tangopeer.StartServerProcess(t, port, "peer/test/1")
	t.Cleanup(func() { _ = proc.Signal(syscall.SIGCONT) })
	ctx := context.Background()
	d, err := Dial(ctx, trl)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	events := make(chan Event, 1024)
	sub, err := d.Subscribe(ctx, "DevDouble_SCALAR", ChangeEvent, eventsTo(events))
	if err != nil {
		t.Fatal(err)
	}
	push := func(v float64) {
		t.Helper()
		b, _ := json.Marshal(map[string]any{"attr": "DevDouble_SCALAR", "value": v})
		if _, err := d.CommandInout(ctx, "Push", pyval.Str(b)); err != nil {
			t.Fatalf("Push %v: %v", v, err)
		}
	}
	// A first pushed event proves the channel is up.
	for k := 0; ; k++ {
		push(float64(500 + k))
		if waitFor(events, pyval.Float(float64(500+k)), time.Second) {
			break
		}
		if k == 30 {
			t.Fatal("no pushed event before the pause")
		}
	}
	if err := proc.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(70 * time.Second)
	for missed := false; !missed; {
		select {
		case ev := <-events:
			var df *DevFailed
			missed = errors.As(ev.Err, &df) && df.Reason() == "API_EventTimeout"
		case <-deadline:
			t.Fatal("no API_EventTimeout while the server was stopped")
		}
	}
	if err := proc.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 15; i++ {
		v := float64(1000 + i)
		push(v)
		if !waitFor(events, pyval.Float(v), 10*time.Second) {
			t.Fatalf("value %d of the resumed server (%v) never arrived", i, v)
		}
		time.Sleep(2 * time.Second)
	}
	if err := sub.Unsubscribe(); err != nil {
		t.Errorf("Unsubscribe: %v", err)
	}
	sub, err = d.Subscribe(ctx, "DevDouble_SCALAR", ChangeEvent, eventsTo(events))
	if err != nil {
		t.Fatalf("subscribing again: %v", err)
	}
	defer sub.Unsubscribe()
	push(2000)
	if !waitFor(events, pyval.Float(2000), 20*time.Second) {
		t.Fatal("no event on the new subscription")
	}
}
