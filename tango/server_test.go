//go:build tango

package tango

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/connector/attribute"
	"github.com/sdpkit/sdpkit/internal/tangopeer"
	"github.com/sdpkit/sdpkit/pyval"
)

// cppTango allows one device server per process, so the tests share one
// (started lazily, stopped when the tests end); each test adds and removes
// its own attributes and commands.
var testServer *Server

func TestMain(m *testing.M) {
	code := m.Run()
	if testServer != nil {
		// Close withdraws the device; the server refuses further use.
		if err := testServer.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "Server.Close:", err)
			code = 1
		}
		if err := testServer.Set("x", pyval.Float(1)); !errors.Is(err, ErrClosed) {
			fmt.Fprintln(os.Stderr, "Set after Close:", err, "want ErrClosed")
			code = 1
		}
		if _, err := NewServer(context.Background()); err == nil {
			fmt.Fprintln(os.Stderr, "a second NewServer in one process succeeded; cppTango allows one")
			code = 1
		}
	}
	// cppTango's static destructors can block exit() (its ZMQ context
	// waits for sockets owned by its threads); the race runtime calls
	// exit() at the end, so leave without them.
	exitNow(code)
}

func goServer(t testing.TB) *Server {
	t.Helper()
	if testServer == nil {
		s, err := NewServer(context.Background(), WithDevice("sdp/gotest/1"))
		if err != nil {
			t.Fatalf("NewServer: %v", err)
		}
		testServer = s
	}
	return testServer
}

// dialServer connects our client to s, closed when the test ends.
func dialServer(t *testing.T, s *Server) *Device {
	t.Helper()
	d, err := Dial(context.Background(), s.TRL(), WithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

// TestServerPytangoReads has pytango read our attributes of every type and
// format.
func TestServerPytangoReads(t *testing.T) {
	s := goServer(t)
	cs := cases(0)
	for _, c := range cs {
		if err := s.AddAttribute(AttrSpec{Name: c.name(), Type: c.typ, Format: c.f, MaxDimX: 16, MaxDimY: 16}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.RemoveAttribute(c.name()) })
		if err := s.Set(c.name(), c.v); err != nil {
			t.Fatalf("Set %s: %v", c.name(), err)
		}
	}
	p := tangopeer.StartClient(t, s.TRL())
	for _, c := range cs {
		t.Run(c.name(), func(t *testing.T) {
			r := p.Must(map[string]any{"op": "read", "attr": c.name()})
			var got struct {
				Value  json.RawMessage
				Type   string
				Format string
			}
			if err := json.Unmarshal(r, &got); err != nil {
				t.Fatal(err)
			}
			if got.Type != c.typ.String() || got.Format != string(c.f) {
				t.Errorf("pytango sees %s %s, want %s %s", got.Type, got.Format, c.typ, c.f)
			}
			if g, w := recanon(t, got.Value), canon(t, c.plain); g != w {
				t.Errorf("pytango read %s, want %s", g, w)
			}
		})
	}
}

// TestServerPytangoEvents has pytango subscribe to change events of our
// attributes: the initial event, then one per Set, in order.
func TestServerPytangoEvents(t *testing.T) {
	s := goServer(t)
	cs := cases(1)
	for _, c := range cs {
		name := "ev_" + c.name()
		if err := s.AddAttribute(AttrSpec{Name: name, Type: c.typ, Format: c.f, MaxDimX: 16, MaxDimY: 16}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.RemoveAttribute(name) })
		if err := s.Set(name, c.v); err != nil {
			t.Fatal(err)
		}
	}
	p := tangopeer.StartClient(t, s.TRL())
	// Subscribe to everything first and keep the subscriptions: cppTango
	// 9.3 (which pytango wraps) is fragile under subscribe/unsubscribe
	// churn (cppTango#686, pytango#371).
	for _, c := range cs {
		p.Must(map[string]any{"op": "sub", "attr": "ev_" + c.name()})
	}
	// Wait until a pushed event (not only the initial read) gets through.
	warm := "ev_" + cs[0].name()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for k := 0; ; k++ {
		must(t, s.Set(warm, cases(100 + k)[0].v))
		want := canon(t, cases(100 + k)[0].plain)
		ok := false
		wctx, wcancel := context.WithTimeout(ctx, time.Second)
		for !ok {
			ev, err := p.NextEvent(wctx, warm)
			if err != nil {
				break
			}
			ok = recanon(t, ev["value"]) == want
		}
		wcancel()
		if ok {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("no pushed change event reached pytango")
		}
	}
	// The events below mostly take the shim's fast path (those just after
	// the subscriptions go through cppTango, which sends them twice):
	// pytango must decode both.
	before := fastPushes()
	defer func() {
		if fastPushes() == before {
			t.Error("no event took the fast path")
		}
	}()
	for i, c := range cs {
		t.Run(c.name(), func(t *testing.T) {
			name := "ev_" + c.name()
			initial := canon(t, c.plain)
			var want []string
			for k := 0; k < 3; k++ {
				nc := cases(10 + k)[i]
				if err := s.Set(name, nc.v); err != nil {
					t.Fatal(err)
				}
				want = append(want, canon(t, nc.plain))
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			// Events of this attribute: maybe its initial value (from the
			// subscription, or repeated when the channel connected), then
			// each Set in order. Tango may repeat the current value, so
			// consecutive repeats are removed.
			var got []string
			for len(got) < len(want) || got[len(got)-1] != want[len(want)-1] {
				ev, err := p.NextEvent(ctx, name)
				if err != nil {
					t.Fatalf("after events %v: %v", got, err)
				}
				if e, ok := ev["error"]; ok {
					t.Fatalf("error event %s", e)
				}
				g := recanon(t, ev["value"])
				if len(got) == 0 && g == initial && g != want[0] {
					continue
				}
				if len(got) == 0 || got[len(got)-1] != g {
					got = append(got, g)
				}
				if len(got) > 2*len(want) {
					break
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("events %v, want %v", got, want)
			}
		})
	}
}

// TestServerPytangoWrites has pytango write our READ_WRITE attributes: the
// write callback sees the value, which then reads back.
func TestServerPytangoWrites(t *testing.T) {
	s := goServer(t)
	got := make(chan pyval.Value, 1)
	cs := cases(3)
	for _, c := range cs {
		name := "w_" + c.name()
		err := s.AddAttribute(AttrSpec{Name: name, Type: c.typ, Format: c.f, MaxDimX: 16, MaxDimY: 16,
			Access: attribute.ReadWrite, OnWrite: func(v pyval.Value) error { got <- v; return nil }})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.RemoveAttribute(name) })
	}
	p := tangopeer.StartClient(t, s.TRL())
	for _, c := range cs {
		t.Run(c.name(), func(t *testing.T) {
			name := "w_" + c.name()
			p.Must(map[string]any{"op": "write", "attr": name, "value": c.plain})
			v := <-got
			if !pyval.Equal(v, c.v) {
				t.Errorf("write callback got %s, want %s", pyval.Repr(v), pyval.Repr(c.v))
			}
			r := p.Must(map[string]any{"op": "read", "attr": name})
			var rd struct{ Value json.RawMessage }
			_ = json.Unmarshal(r, &rd)
			if g, w := recanon(t, rd.Value), canon(t, c.plain); g != w {
				t.Errorf("read back %s, want %s", g, w)
			}
		})
	}
}

// TestServerCommandsStateStatus checks commands dispatched into Go, errors
// returned as DevFailed, and state and status.
func TestServerCommandsStateStatus(t *testing.T) {
	s := goServer(t)
	configured := make(chan string, 2)
	must(t, s.AddCommand("Configure", DevString, DevVoid, func(arg pyval.Value) (pyval.Value, error) {
		a, _ := pyval.AsString(arg)
		configured <- a
		if a == "bad" {
			return nil, &Error{Reason: "SDP_BadConfig", Err: fmt.Errorf("bad configuration")}
		}
		return nil, nil
	}))
	must(t, s.AddCommand("IsMonitoringDB", DevVoid, DevBoolean, func(pyval.Value) (pyval.Value, error) {
		return pyval.Bool(true), nil
	}))
	must(t, s.AddCommand("Echo", DevString, DevString, func(arg pyval.Value) (pyval.Value, error) {
		a, _ := pyval.AsString(arg)
		return pyval.Str("echo:" + a), nil
	}))
	t.Cleanup(func() {
		for _, c := range []string{"Configure", "IsMonitoringDB", "Echo"} {
			_ = s.RemoveCommand(c)
		}
	})
	must(t, s.SetState(Standby))
	must(t, s.SetStatus("not configured"))
	p := tangopeer.StartClient(t, s.TRL())
	if r := string(p.Must(map[string]any{"op": "cmd", "cmd": "State"})); r != `"STANDBY"` {
		t.Errorf("State = %s", r)
	}
	if r := string(p.Must(map[string]any{"op": "cmd", "cmd": "Status"})); r != `"not configured"` {
		t.Errorf("Status = %s", r)
	}
	p.Must(map[string]any{"op": "cmd", "cmd": "Configure", "arg": `{"exchanges": []}`})
	if c := <-configured; c != `{"exchanges": []}` {
		t.Errorf("Configure got %q", c)
	}
	if _, err := p.Do(map[string]any{"op": "cmd", "cmd": "Configure", "arg": "bad"}); err == nil || !contains(err.Error(), "SDP_BadConfig") {
		t.Errorf("Configure(bad) error = %v, want SDP_BadConfig", err)
	}
	if r := string(p.Must(map[string]any{"op": "cmd", "cmd": "IsMonitoringDB"})); r != "true" {
		t.Errorf("IsMonitoringDB = %s", r)
	}
	if r := string(p.Must(map[string]any{"op": "cmd", "cmd": "Echo", "arg": "x"})); r != `"echo:x"` {
		t.Errorf("Echo = %s", r)
	}
	must(t, s.SetState(On))
	if r := string(p.Must(map[string]any{"op": "cmd", "cmd": "State"})); r != `"ON"` {
		t.Errorf("State = %s", r)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func contains(s, sub string) bool { return len(s) >= len(sub) && (s == sub || indexOf(s, sub) >= 0) }

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

// TestServerArchiveEvents has pytango subscribe to archive events, which
// Set pushes with WithArchiveEvent.
func TestServerArchiveEvents(t *testing.T) {
	s := goServer(t)
	must(t, s.AddAttribute(AttrSpec{Name: "archived", Type: DevDouble, Format: attribute.Scalar}))
	t.Cleanup(func() { _ = s.RemoveAttribute("archived") })
	must(t, s.Set("archived", pyval.Float(1)))
	p := tangopeer.StartClient(t, s.TRL())
	p.Must(map[string]any{"op": "sub", "attr": "archived", "type": "ARCHIVE_EVENT"})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// Push until one arrives (the event channel connects asynchronously).
	k := 10
	for ; ; k++ {
		must(t, s.Set("archived", pyval.Float(float64(k)), WithArchiveEvent()))
		wctx, wcancel := context.WithTimeout(ctx, time.Second)
		ok := false
		for !ok {
			ev, err := p.NextEvent(wctx, "archived")
			if err != nil {
				break
			}
			ok = recanon(t, ev["value"]) == canon(t, k)
		}
		wcancel()
		if ok {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("no archive event reached pytango")
		}
	}
	var want []string
	for j := 1; j <= 3; j++ {
		must(t, s.Set("archived", pyval.Float(float64(k+j)), WithArchiveEvent()))
		want = append(want, canon(t, k+j))
	}
	last := canon(t, k)
	var got []string
	for len(got) < len(want) || got[len(got)-1] != want[len(want)-1] {
		ev, err := p.NextEvent(ctx, "archived")
		if err != nil {
			t.Fatalf("after %v: %v", got, err)
		}
		if g := recanon(t, ev["value"]); g != last && (len(got) == 0 || got[len(got)-1] != g) {
			got = append(got, g)
		}
		if len(got) > 2*len(want) {
			break
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("archive events %v, want %v", got, want)
	}
}

// TestServerConcurrentSetRead sets a large spectrum from two goroutines
// while pytango reads it: every read must be one whole value (all
// elements equal), never a mix of two.
func TestServerConcurrentSetRead(t *testing.T) {
	s := goServer(t)
	must(t, s.AddAttribute(AttrSpec{Name: "busy", Type: DevDouble, Format: attribute.Spectrum, MaxDimX: 4096}))
	t.Cleanup(func() { _ = s.RemoveAttribute("busy") })
	value := func(k int) pyval.Value {
		v := make([]float64, 4096)
		for i := range v {
			v[i] = float64(k)
		}
		return pyval.ArrayOf(v)
	}
	must(t, s.Set("busy", value(0)))
	p := tangopeer.StartClient(t, s.TRL())
	stop := make(chan struct{})
	done := make(chan error, 2)
	for g := 0; g < 2; g++ {
		go func(g int) {
			for k := 1; ; k++ {
				select {
				case <-stop:
					done <- nil
					return
				default:
				}
				if err := s.Set("busy", value(2*k+g)); err != nil {
					done <- err
					return
				}
			}
		}(g)
	}
	r := p.Must(map[string]any{"op": "readcheck", "attr": "busy", "n": 300})
	close(stop)
	for g := 0; g < 2; g++ {
		must(t, <-done)
	}
	var res struct{ Torn, Distinct int }
	_ = json.Unmarshal(r, &res)
	if res.Torn != 0 {
		t.Errorf("%d of 300 reads mixed two values", res.Torn)
	}
	t.Logf("300 reads saw %d distinct values", res.Distinct)
}

// TestServerSetNoneAndEmpty: Set of None makes an attribute INVALID
// without a value, a later value makes it VALID again, and an empty
// spectrum or string spectrum is a VALID value with no elements (the shim
// is told "has a value" apart from the data pointer, which Go passes as
// nil for empty slices). cppTango's client has no value to extract from an
// empty attribute: it reads as VALID with None, as in pytango 9.3.
func TestServerSetNoneAndEmpty(t *testing.T) {
	s := goServer(t)
	ctx := context.Background()
	d := dialServer(t, s)
	for _, c := range []struct {
		name  string
		spec  AttrSpec
		value pyval.Value
		empty pyval.Value
	}{
		{"none_dbl", AttrSpec{Type: DevDouble}, pyval.Float(2.5), nil},
		{"none_spec", AttrSpec{Type: DevLong, Format: attribute.Spectrum, MaxDimX: 8}, pyval.ArrayOf([]int32{1, 2}), pyval.ArrayOf([]int32{})},
		{"none_strs", AttrSpec{Type: DevString, Format: attribute.Spectrum, MaxDimX: 8}, pyval.List{pyval.Str("a")}, pyval.List{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.spec.Name = c.name
			must(t, s.AddAttribute(c.spec))
			t.Cleanup(func() { _ = s.RemoveAttribute(c.name) })
			read := func() Reading {
				t.Helper()
				r, err := d.ReadAttribute(ctx, c.name)
				if err != nil {
					t.Fatal(err)
				}
				return r
			}
			must(t, s.Set(c.name, c.value))
			if r := read(); r.Quality != attribute.Valid || pyval.Equal(r.Value, pyval.None) {
				t.Fatalf("after a value: %v %s", r.Quality, pyval.Repr(r.Value))
			}
			must(t, s.Set(c.name, pyval.None))
			if r := read(); r.Quality != attribute.Invalid || !pyval.Equal(r.Value, pyval.None) {
				t.Errorf("after None: %v %s; want INVALID None", r.Quality, pyval.Repr(r.Value))
			}
			if c.empty == nil {
				return
			}
			must(t, s.Set(c.name, c.empty))
			r := read()
			if r.Quality != attribute.Valid {
				t.Fatalf("after an empty value: %v %s; want VALID, no elements", r.Quality, pyval.Repr(r.Value))
			}
			if pyval.Equal(r.Value, pyval.None) {
				return
			}
			n := -1
			switch x := r.Value.(type) {
			case *pyval.NDArray:
				n = x.Len()
			case pyval.List:
				n = len(x)
			case pyval.Tuple:
				n = len(x)
			}
			if n != 0 {
				t.Errorf("empty value read back as %s", pyval.Repr(r.Value))
			}
		})
	}
}

// TestServerSetTime: Set stamps a value with the current time unless
// WithTime gives one (Tango keeps microseconds).
func TestServerSetTime(t *testing.T) {
	s := goServer(t)
	ctx := context.Background()
	d := dialServer(t, s)
	must(t, s.AddAttribute(AttrSpec{Name: "stamped", Type: DevDouble}))
	t.Cleanup(func() { _ = s.RemoveAttribute("stamped") })
	before := time.Now().Truncate(time.Microsecond)
	must(t, s.Set("stamped", pyval.Float(1)))
	after := time.Now()
	r, err := d.ReadAttribute(ctx, "stamped")
	if err != nil {
		t.Fatal(err)
	}
	if r.Time.Before(before) || r.Time.After(after) {
		t.Errorf("default stamp %v, not between %v and %v", r.Time, before, after)
	}
	want := time.Date(2026, 11, 22, 4, 5, 6, 789012000, time.UTC)
	must(t, s.Set("stamped", pyval.Float(2), WithTime(want.Add(345))))
	if r, err = d.ReadAttribute(ctx, "stamped"); err != nil {
		t.Fatal(err)
	}
	if !r.Time.Equal(want) {
		t.Errorf("WithTime stamp read back as %v, want %v", r.Time, want)
	}
}
