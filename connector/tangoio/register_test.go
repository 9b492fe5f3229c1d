//go:build tango

package tangoio

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/connector"
	"github.com/sdpkit/sdpkit/internal/tangopeer"
	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/tango"
)

// startPeerServer runs tango/testdata/server.py (a pytango device in
// no-database mode whose attributes TYPE_FORMAT push change events when
// written or Pushed) and returns its TRL.
func startPeerServer(t testing.TB, port int) string {
	t.Helper()
	return tangopeer.StartServer(t, port, "peer/test/1")
}

func registered() *connector.Factories {
	f := connector.DefaultFactories()
	Register(f)
	return f
}

// waitValues waits until queue key holds at least n values.
func waitValues(t *testing.T, d *connector.Device, key string, n int) []pyval.Value {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for d.Queues().Len(key) < n {
		if time.Now().After(deadline) {
			t.Fatalf("queue %s: %d values, want %d: %v (device %s: %s)", key, d.Queues().Len(key), n, d.Queues().Values(key), d.State(), d.Status())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return d.Queues().Values(key)
}

// TestSourcesAndSinks runs, against a pytango device: a
// TangoSubscriptionSource of its change events into an InMemorySink, a
// TangoPointingSubscriptionSource of a [ts, az, el] spectrum, and a
// TangoRemoteAttributeSink writing its attribute, which pytango reads back.
func TestSourcesAndSinks(t *testing.T) {
	trl := startPeerServer(t, freePort(t))
	ctx := context.Background()
	ctl, err := tango.Dial(ctx, trl, tango.WithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer ctl.Close()
	push := func(attr string, v any) {
		t.Helper()
		b, _ := json.Marshal(map[string]any{"attr": attr, "value": v})
		if _, err := ctl.CommandInout(ctx, "Push", pyval.Str(b)); err != nil {
			t.Fatal(err)
		}
	}
	push("DevDouble_SPECTRUM", []float64{9, 1, 2})

	dev := connector.NewDevice(connector.WithFactories(registered()), connector.WithLogger(slog.New(slog.DiscardHandler)))
	desc := fmt.Sprintf(`{"exchanges": [
	  {"dtype": "float64", "shape": [],
	   "source": {"type": "TangoSubscriptionSource", "device_name": %[1]q, "attribute_name": "DevDouble_SCALAR", "etype": "CHANGE_EVENT", "stateless": false},
	   "sink": {"type": "InMemorySink", "key": "scalar"}},
	  {"dtype": [["antenna_name", "<U6"], ["ts", "<M8[ns]"], ["az", "<f8"], ["el", "<f8"]], "shape": [],
	   "source": {"type": "TangoPointingSubscriptionSource", "device_name": %[1]q, "attribute_name": "DevDouble_SPECTRUM", "etype": "CHANGE_EVENT"},
	   "sink": {"type": "InMemorySink", "key": "pointing"}},
	  {"dtype": "int32", "shape": [3],
	   "source": {"type": "InMemorySource", "data": [[5, 6, 7]]},
	   "sink": {"type": "TangoRemoteAttributeSink", "device_name": %[1]q, "attribute_name": "DevLong_SPECTRUM"}}
	]}`, trl)
	if err := dev.Configure(ctx, desc); err != nil {
		t.Fatal(err)
	}
	if err := dev.Start(ctx, ""); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = dev.Stop(ctx, "") }()

	// The subscription's current value first (server.py's initial 2.25),
	// then the pushed ones in order.
	waitValues(t, dev, "scalar", 1)
	for _, v := range []float64{10.5, 11.5} {
		push("DevDouble_SCALAR", v)
	}
	got := waitValues(t, dev, "scalar", 3)
	want := []pyval.Value{pyval.Float(2.25), pyval.Float(10.5), pyval.Float(11.5)}
	for i := range want {
		if !pyval.Equal(got[i], want[i]) {
			t.Errorf("scalar[%d] = %v, want %v", i, got[i], want[i])
		}
	}

	// Pointing: [ts, az, el] → (antenna_name, ts, az, el).
	push("DevDouble_SPECTRUM", []float64{100.5, 45, 60})
	pts := waitValues(t, dev, "pointing", 2)
	rec, ok := pts[len(pts)-1].(*pyval.NDArray)
	if !ok {
		t.Fatalf("pointing record %T", pts[len(pts)-1])
	}
	field := func(name string) *pyval.NDArray {
		t.Helper()
		f, err := rec.Field(name)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	if s, err := field("antenna_name").Strings(); err != nil || len(s) != 1 || s[0] != "1" {
		t.Errorf("pointing antenna_name = %q (%v), want the device name's last member", s, err)
	}
	for name, want := range map[string]float64{"az": 45, "el": 60} {
		if v, err := field(name).Float64s(); err != nil || len(v) != 1 || v[0] != want {
			t.Errorf("pointing %s = %v (%v), want %v", name, v, err, want)
		}
	}
	ns, err := field("ts").Int64s()
	if err != nil {
		t.Fatal(err)
	}
	if wantNs := time.Date(2000, 1, 1, 0, 1, 40, 500e6, time.UTC).UnixNano(); ns[0] != wantNs {
		t.Errorf("pointing ts = %d, want %d", ns[0], wantNs)
	}

	// The remote sink's write, read back by pytango.
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := exec.Command(tangopeer.Python(t), "-c", fmt.Sprintf(
			"import tango; print(list(tango.DeviceProxy(%q).read_attribute('DevLong_SPECTRUM').value))", trl)).Output()
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimSpace(string(out)) == "[5, 6, 7]" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pytango reads DevLong_SPECTRUM = %s", out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSubscriptionStateless subscribes to a device that is not running: a
// stateless source starts, skips and counts the error events, and emits
// once the device is up (cppTango retries every 10 s); a source that is
// not stateless fails to start, so the device goes to FAULT.
func TestSubscriptionStateless(t *testing.T) {
	ctx := context.Background()
	port := freePort(t)
	trl := fmt.Sprintf("tango://127.0.0.1:%d/peer/test/1#dbase=no", port)

	strict := NewSubscriptionSource(trl, "DevDouble_SCALAR", tango.ChangeEvent, false, pyval.DTypeOf[float64](), nil, nil)
	if err := strict.Start(ctx); err == nil {
		_ = strict.Stop(ctx)
		t.Fatal("a subscription that is not stateless started against a device that is not running")
	}

	src := NewSubscriptionSource(trl, "DevDouble_SCALAR", tango.ChangeEvent, true, pyval.DTypeOf[float64](), nil, nil)
	if err := src.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := src.Stop(ctx); err != nil {
			t.Error(err)
		}
	}()
	got := make(chan pyval.Value, 16)
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		_ = src.Run(rctx, func(_ context.Context, v pyval.Value) error { got <- v; return nil })
	}()
	startPeerServer(t, port)
	select {
	case v := <-got:
		if !pyval.Equal(v, pyval.Float(2.25)) {
			t.Errorf("first value %v, want server.py's initial 2.25", v)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("no value once the device runs (%d skipped)", src.Skipped())
	}
	// The failed attempts before the device ran were error events.
	if src.Skipped() == 0 {
		t.Error("no error event was counted for the failed subscription")
	}
}
