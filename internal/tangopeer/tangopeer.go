//go:build tango

// Package tangopeer runs the pytango peers of the Tango tests: the scripts
// client.py (a pytango client driven by JSON lines on stdin, answering and
// reporting events as JSON lines) and server.py (a pytango device in
// no-database mode) from tango/testdata. Tests of several packages share
// it; it is built only with the tango tag, like those tests.
package tangopeer

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Python returns the interpreter with pytango: $SDP_PYTANGO, or Debian's
// /usr/bin/python3 with python3-tango (the PATH python3 may be another
// interpreter without it). It fails the test if that cannot import tango.
func Python(t testing.TB) string {
	t.Helper()
	py := os.Getenv("SDP_PYTANGO")
	if py == "" {
		py = "/usr/bin/python3"
	}
	if err := exec.Command(py, "-c", "import tango").Run(); err != nil {
		t.Fatalf("python3-tango is needed (apt-get install python3-tango; SDP_PYTANGO names the interpreter): %s: %v", py, err)
	}
	return py
}

// Script returns the path of tango/testdata/<name>, found from the working
// directory (a test's package directory) by looking for the module root
// (the directory holding go.mod) in it and its parents.
func Script(t testing.TB, name string) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := wd; ; {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, "tango", "testdata", name)
		}
		parent := filepath.Dir(d)
		if parent == d {
			t.Fatalf("tango/testdata/%s: no go.mod in %s or any parent", name, wd)
		}
		d = parent
	}
}

// Error is a DevFailed reported by client.py.
type Error struct{ Reason, Desc string }

func (e *Error) Error() string { return "pytango: " + e.Reason + ": " + e.Desc }

// Client is a running client.py connected to one device.
type Client struct {
	t       testing.TB
	in      io.WriteCloser
	replies chan json.RawMessage
	events  chan map[string]json.RawMessage
	mu      sync.Mutex
}

// StartClient runs client.py for the device trl. The test's cleanup closes
// its stdin and kills it if it has not exited 10 s later.
func StartClient(t testing.TB, trl string) *Client {
	t.Helper()
	cmd := exec.Command(Python(t), Script(t, "client.py"), trl)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &Client{t: t, in: in, replies: make(chan json.RawMessage, 16), events: make(chan map[string]json.RawMessage, 100000)}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<26)
		for sc.Scan() {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				continue
			}
			if _, ok := m["event"]; ok {
				p.events <- m
			} else {
				p.replies <- json.RawMessage(append([]byte(nil), sc.Bytes()...))
			}
		}
		close(p.replies)
	}()
	t.Cleanup(func() {
		_ = in.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	return p
}

// Do sends a request and returns its reply's "ok" part; a DevFailed comes
// back as an *Error.
func (p *Client) Do(req map[string]any) (json.RawMessage, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	b, _ := json.Marshal(req)
	if _, err := p.in.Write(append(b, '\n')); err != nil {
		return nil, err
	}
	select {
	case r, ok := <-p.replies:
		if !ok {
			return nil, errors.New("client.py exited")
		}
		var m struct {
			OK   json.RawMessage `json:"ok"`
			Err  *string         `json:"err"`
			Desc string          `json:"desc"`
		}
		if err := json.Unmarshal(r, &m); err != nil {
			return nil, err
		}
		if m.Err != nil {
			return nil, &Error{*m.Err, m.Desc}
		}
		return m.OK, nil
	case <-time.After(30 * time.Second):
		return nil, fmt.Errorf("client.py: no reply to %s", b)
	}
}

// Must is Do failing the test on an error.
func (p *Client) Must(req map[string]any) json.RawMessage {
	p.t.Helper()
	r, err := p.Do(req)
	if err != nil {
		p.t.Fatalf("%v: %v", req, err)
	}
	return r
}

// NextEvent waits for the next event line of attr, skipping those of other
// attributes (left from earlier subscriptions).
func (p *Client) NextEvent(ctx context.Context, attr string) (map[string]json.RawMessage, error) {
	for {
		select {
		case e := <-p.events:
			var name string
			_ = json.Unmarshal(e["event"], &name)
			if !strings.EqualFold(name, attr) && !strings.HasSuffix(strings.ToLower(name), "/"+strings.ToLower(attr)) {
				continue
			}
			return e, nil
		case <-ctx.Done():
			return nil, fmt.Errorf("no event of %s: %w", attr, ctx.Err())
		}
	}
}

// StartServer runs server.py serving device dev on port, waits (up to
// 60 s) until it is ready and returns the device's TRL. The test's cleanup
// kills it.
func StartServer(t testing.TB, port int, dev string) string {
	t.Helper()
	trl, _ := StartServerProcess(t, port, dev)
	return trl
}

// StartServerProcess is StartServer that also returns the server's process
// (to stop and continue it, for example).
func StartServerProcess(t testing.TB, port int, dev string) (string, *os.Process) {
	t.Helper()
	cmd := exec.Command(Python(t), Script(t, "server.py"), fmt.Sprint(port), dev)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.TrimSpace(sc.Text()) == "ready" {
				close(ready)
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(60 * time.Second):
		t.Fatal("server.py did not start")
	}
	return fmt.Sprintf("tango://127.0.0.1:%d/%s#dbase=no", port, dev), cmd.Process
}
