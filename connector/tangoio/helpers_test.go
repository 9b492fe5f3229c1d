//go:build tango

package tangoio

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/internal/testenv"
	"github.com/sdpkit/sdpkit/tango"
)

func TestMain(m *testing.M) {
	// The examples share one real Kafka broker (testenv.SharedKafka).
	code := testenv.RunWithKafka(m)
	// cppTango's static destructors can block exit(); leave without them.
	tango.ExitNow(code)
}

// One Tango server per process (cppTango's Util is a singleton).
var (
	serverOnce sync.Once
	server     *tango.Server
	serverErr  error
)

func goServer(t testing.TB) *tango.Server {
	t.Helper()
	serverOnce.Do(func() { server, serverErr = NewServer(context.Background()) })
	if serverErr != nil {
		t.Fatal(serverErr)
	}
	return server
}

// pytango is Debian's python3 with python3-tango.
func pytango(t testing.TB) string {
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

// peer is a running tango/testdata/client.py (a pytango client driven by
// JSON lines).
type peer struct {
	t       testing.TB
	in      io.WriteCloser
	replies chan json.RawMessage
	events  chan map[string]json.RawMessage
	mu      sync.Mutex
}

func startPeer(t testing.TB, trl string) *peer {
	t.Helper()
	cmd := exec.Command(pytango(t), "../../tango/testdata/client.py", trl)
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
	p := &peer{t: t, in: in, replies: make(chan json.RawMessage, 16), events: make(chan map[string]json.RawMessage, 10000)}
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

// peerError is a DevFailed reported by client.py.
type peerError struct{ Reason, Desc string }

func (e *peerError) Error() string { return "pytango: " + e.Reason + ": " + e.Desc }

func (p *peer) do(req map[string]any) (json.RawMessage, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	b, _ := json.Marshal(req)
	if _, err := p.in.Write(append(b, '\n')); err != nil {
		return nil, err
	}
	select {
	case r, ok := <-p.replies:
		if !ok {
			return nil, fmt.Errorf("client.py exited")
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
			return nil, &peerError{*m.Err, m.Desc}
		}
		return m.OK, nil
	case <-time.After(30 * time.Second):
		return nil, fmt.Errorf("client.py: no reply to %s", b)
	}
}

func (p *peer) must(req map[string]any) json.RawMessage {
	p.t.Helper()
	r, err := p.do(req)
	if err != nil {
		p.t.Fatalf("%v: %v", req, err)
	}
	return r
}

// nextEvent waits for the next event of attr (others are skipped).
func (p *peer) nextEvent(ctx context.Context, attr string) (map[string]json.RawMessage, error) {
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

// freePort returns a free loopback TCP port.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
