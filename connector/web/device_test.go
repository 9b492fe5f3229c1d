package web_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/config"
	"github.com/sdpkit/sdpkit/config/memory"
	"github.com/sdpkit/sdpkit/connector"
	"github.com/sdpkit/sdpkit/connector/web"
)

// TestRealDevice serves a real *connector.Device: a configuration that the
// config DB holds drives it, data reaches an attribute over the API, a bad
// configuration written to the DB shows as FAULT with its error over HTTP,
// a command refused in the current state answers 409, and a good value
// recovers the device.
func TestRealDevice(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db := config.NewDB(memory.New())
	const path = "/component/lmc-queueconnector-01/owner"
	good := `{"exchanges": [{"dtype": "float64", "source": {"type": "InMemorySource", "data": [1.5, 2.5, 42.25]},
	  "sink": {"type": "TangoLocalAttributeSink", "attribute_name": "answer", "default_value": 0.0}}]}`
	if err := db.Create(ctx, path, []byte(good), 0); err != nil {
		t.Fatal(err)
	}

	d := connector.NewDevice(connector.WithLogger(slog.New(slog.DiscardHandler)))
	defer d.Shutdown(context.Background())
	go func() { _ = d.WatchKey(ctx, db, path) }()

	h := web.NewHandler(web.ForDevice(d), web.WithErrorStatus(web.DeviceErrorStatus))
	defer h.Close()
	srv := httptest.NewServer(h)
	defer srv.Close()

	get := func(p string, v any) {
		t.Helper()
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			b, _ := io.ReadAll(resp.Body)
			t.Fatalf("GET %s: %s %s", p, resp.Status, b)
		}
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	type state struct{ State, Status string }
	waitState := func(want string) state {
		t.Helper()
		var s state
		for {
			get("/api/state", &s)
			if s.State == want {
				return s
			}
			if ctx.Err() != nil {
				t.Fatalf("state %s (%s), want %s", s.State, s.Status, want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}

	waitState("ON")
	for {
		var a struct{ Value any }
		get("/api/attributes/answer", &a)
		if a.Value == 42.25 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("attribute answer is %v, want 42.25", a.Value)
		}
		time.Sleep(5 * time.Millisecond)
	}

	// A bad configuration in the DB: FAULT, and the error is visible.
	bad := `{"exchanges": [{"source": {"type": "NoSuchSource"}, "sink": {"type": "InMemorySink", "key": "k"}}]}`
	if err := db.Update(ctx, path, []byte(bad)); err != nil {
		t.Fatal(err)
	}
	s := waitState("FAULT")
	if !strings.Contains(s.Status, "NoSuchSource") {
		t.Fatalf("FAULT status %q does not name the bad source type", s.Status)
	}

	// Start is not allowed in FAULT: 409 with the device's message.
	resp, err := http.Post(srv.URL+"/api/commands/Start", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("Start in FAULT: %s %s, want 409", resp.Status, body)
	}

	// The database is the source of truth: a good value recovers.
	if err := db.Update(ctx, path, []byte(good)); err != nil {
		t.Fatal(err)
	}
	waitState("ON")
}
