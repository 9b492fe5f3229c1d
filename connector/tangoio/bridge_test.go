//go:build tango

package tangoio

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/connector"
	"github.com/sdpkit/sdpkit/connector/attribute"
	"github.com/sdpkit/sdpkit/internal/tangopeer"
	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/tango"
)

const bridgeDescriptor = `{"exchanges": [
  {"dtype": "bytes", "shape": [],
   "source": {"type": "InMemorySource", "data": [["npy", "payload"]]},
   "sink": {"type": "TangoLocalAttributeSink", "attribute_name": "encoded"}},
  {"dtype": "float64", "shape": [3],
   "source": {"type": "InMemorySource", "data": [[1, 2, 3], [4, 5, 6]], "delay": 0.2},
   "sink": {"type": "TangoLocalAttributeSink", "attribute_name": "offsets"}},
  {"dtype": "int32", "shape": [],
   "source": {"type": "InMemorySource", "data": [7]},
   "sink": {"type": "TangoLocalAttributeSink", "attribute_name": "count", "default_value": 1}}
]}`

// serveBridged serves a new connector device on the test process's Tango
// server; the bridge is closed (and must close cleanly) when the test ends.
func serveBridged(t *testing.T) (context.Context, *tango.Server, *connector.Device) {
	t.Helper()
	srv := goServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	dev := connector.NewDevice(connector.WithLogger(slog.New(slog.DiscardHandler)))
	b, err := Serve(ctx, srv, dev)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Error(err)
		}
	})
	t.Cleanup(cancel) // runs first: the context ends before the bridge closes
	return ctx, srv, dev
}

// TestBridge drives the bridged device with pytango: configure, read the
// attributes, receive change events, run commands and follow the state,
// and a command not allowed in the state is a DevFailed.
func TestBridge(t *testing.T) {
	ctx, srv, dev := serveBridged(t)
	p := tangopeer.StartClient(t, srv.TRL())
	state := func() string {
		t.Helper()
		var s string
		_ = json.Unmarshal(p.Must(map[string]any{"op": "cmd", "cmd": "State"}), &s)
		return s
	}
	// The device state reaches the bridge through an event; wait for it.
	waitState := func(want string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for s := state(); s != want; s = state() {
			if time.Now().After(deadline) {
				t.Fatalf("state %s, want %s", s, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitState("STANDBY")
	if got := p.Must(map[string]any{"op": "cmd", "cmd": "IsMonitoringDB"}); string(got) != "false" {
		t.Errorf("IsMonitoringDB = %s", got)
	}

	p.Must(map[string]any{"op": "cmd", "cmd": "Configure", "arg": bridgeDescriptor})
	waitState("OFF")
	type reading struct {
		Value   json.RawMessage `json:"value"`
		Type    string          `json:"type"`
		Format  string          `json:"format"`
		Quality string          `json:"quality"`
	}
	read := func(name string) reading {
		t.Helper()
		var r reading
		if err := json.Unmarshal(p.Must(map[string]any{"op": "read", "attr": name}), &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := read("count"); r.Type != "DevLong" || r.Format != "SCALAR" || string(r.Value) != "1" {
		t.Errorf("count before start: %+v", r)
	}
	if r := read("offsets"); r.Format != "SPECTRUM" || r.Quality != "ATTR_INVALID" {
		t.Errorf("offsets before start: %+v", r)
	}

	p.Must(map[string]any{"op": "sub", "attr": "offsets"})
	first, err := p.NextEvent(ctx, "offsets") // the subscription's current value
	if err != nil {
		t.Fatal(err)
	}
	if q := string(first["quality"]); q != `"ATTR_INVALID"` {
		t.Errorf("first event quality %s", q)
	}
	p.Must(map[string]any{"op": "cmd", "cmd": "Start"})
	waitState("ON")

	// Not allowed while ON: Configure (Tango's API_CommandNotAllowed).
	if connector.Allowed(connector.On, connector.CmdConfigure) {
		t.Fatal("the test expects Configure to be refused in ON")
	}
	_, err = p.Do(map[string]any{"op": "cmd", "cmd": "Configure", "arg": bridgeDescriptor})
	var pe *tangopeer.Error
	if !errors.As(err, &pe) || pe.Reason != "API_CommandNotAllowed" {
		t.Errorf("Configure in ON: %v, want DevFailed API_CommandNotAllowed", err)
	}

	// Change events, in order, ending with the last value. The store may
	// coalesce, so the first may be skipped; cppTango's client may repeat
	// the current value (it reads it again when its event channel
	// reconnects), so repeats are compacted.
	want := []string{"[1,2,3]", "[4,5,6]"}
	var got []string
	evctx, evcancel := context.WithTimeout(ctx, 20*time.Second)
	defer evcancel()
	for len(got) == 0 || got[len(got)-1] != want[1] {
		ev, err := p.NextEvent(evctx, "offsets")
		if err != nil {
			t.Fatalf("after %v: %v", got, err)
		}
		var v []float64
		if err := json.Unmarshal(ev["value"], &v); err != nil {
			t.Fatalf("event %s: %v", ev["value"], err)
		}
		b, _ := json.Marshal(v)
		got = append(got, string(b))
	}
	if got = slices.Compact(got); !slices.Equal(got, want) && !slices.Equal(got, want[1:]) {
		t.Errorf("events %v, want %v", got, want)
	}
	if r := read("offsets"); r.Type != "DevDouble" || string(r.Value) != "[4.0, 5.0, 6.0]" {
		t.Errorf("offsets = %s", r.Value)
	}
	if r := read("count"); string(r.Value) != "7" {
		t.Errorf("count = %s", r.Value)
	}
	enc := read("encoded")
	var pair []string
	if err := json.Unmarshal(enc.Value, &pair); err != nil || len(pair) != 2 {
		t.Fatalf("encoded = %s (%v)", enc.Value, err)
	}
	if payload, _ := base64.StdEncoding.DecodeString(pair[1]); enc.Type != "DevEncoded" || pair[0] != "npy" || string(payload) != "payload" {
		t.Errorf("encoded = %s %v", enc.Type, pair)
	}

	p.Must(map[string]any{"op": "cmd", "cmd": "Stop"})
	waitState("OFF")
	var status string
	_ = json.Unmarshal(p.Must(map[string]any{"op": "cmd", "cmd": "Status"}), &status)
	if status != dev.Status() {
		t.Errorf("Status %q, device %q", status, dev.Status())
	}
	// Standby drops the configuration: the attributes go.
	p.Must(map[string]any{"op": "cmd", "cmd": "Standby"})
	waitState("STANDBY")
	if _, err := p.Do(map[string]any{"op": "read", "attr": "count"}); !errors.As(err, &pe) || pe.Reason != "API_AttrNotFound" {
		t.Errorf("read of a removed attribute: %v", err)
	}
}

// TestBridgeReconfigure: a Configure in OFF that stays in OFF replaces the
// attributes (the old one goes, the new one comes), and a client's write of
// a READ_WRITE attribute reaches the store.
func TestBridgeReconfigure(t *testing.T) {
	_, srv, dev := serveBridged(t)
	if err := dev.Attributes().Define(attribute.Spec{Name: "gain", DType: pyval.DTypeOf[float32](), Shape: []int{2}, Access: attribute.ReadWrite}); err != nil {
		t.Fatal(err)
	}
	p := tangopeer.StartClient(t, srv.TRL())
	// eventually polls a read until it gives want (the bridge mirrors
	// asynchronously).
	eventually := func(attr, want string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			r, err := p.Do(map[string]any{"op": "read", "attr": attr})
			got := string(r)
			if err != nil {
				var pe *tangopeer.Error
				if errors.As(err, &pe) {
					got = pe.Reason
				} else {
					t.Fatal(err)
				}
			}
			if strings.Contains(got, want) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("read %s: %s, want %s", attr, got, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	eventually("gain", "ATTR_INVALID")
	p.Must(map[string]any{"op": "write", "attr": "gain", "value": []float64{0.5, 2}})
	snap, err := dev.Attributes().Get("gain")
	if err != nil {
		t.Fatal(err)
	}
	if want := pyval.ArrayOf([]float32{0.5, 2}); !pyval.Equal(snap.Reading.Value, want) {
		t.Errorf("store gain = %v, want %v", snap.Reading.Value, want)
	}

	one := `{"exchanges": [{"dtype": "int64", "shape": [], "source": {"type": "InMemorySource", "data": []},
	  "sink": {"type": "TangoLocalAttributeSink", "attribute_name": "first", "default_value": 1}}]}`
	two := strings.ReplaceAll(strings.ReplaceAll(one, "first", "second"), `"default_value": 1`, `"default_value": 2`)
	p.Must(map[string]any{"op": "cmd", "cmd": "Configure", "arg": one})
	eventually("first", `"value": 1`)
	p.Must(map[string]any{"op": "cmd", "cmd": "Configure", "arg": two})
	eventually("second", `"value": 2`)
	eventually("first", "API_AttrNotFound")
	if dev.State() != connector.Off {
		t.Errorf("device %s, want OFF", dev.State())
	}
}
