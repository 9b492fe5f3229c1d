package testenv

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// EtcdServer is an etcd child process (Debian's etcd-server) serving one
// single-member cluster on loopback client and peer ports with its own
// data directory. It is stopped when the test ends.
type EtcdServer struct {
	bin        string
	dir        string // data directory
	clientPort int
	peerPort   int
	args       []string

	logStart int64

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// EtcdOption configures Etcd.
type EtcdOption func(*EtcdServer)

// WithEtcdArgs adds etcd command-line flags, e.g.
// WithEtcdArgs("--max-txn-ops", "16").
func WithEtcdArgs(args ...string) EtcdOption {
	return func(s *EtcdServer) { s.args = append(s.args, args...) }
}

// Etcd starts an etcd server for the test on free 127.0.0.1 client and
// peer ports with a temporary data directory, waits until its /health
// endpoint reports healthy, and stops it when the test ends. If etcd is not
// on PATH the test fails, or is skipped when SDP_SKIP_MISSING_SERVERS=1.
func Etcd(t testing.TB, opts ...EtcdOption) *EtcdServer {
	t.Helper()
	bin := lookBinary(t, "etcd", "etcd-server")
	s := &EtcdServer{bin: bin, dir: t.TempDir()}
	for _, o := range opts {
		o(s)
	}
	t.Cleanup(func() { _ = s.Stop() })
	var lastErr, err error
	for range startTries {
		if s.clientPort, err = freePort(); err == nil {
			s.peerPort, err = freePort()
		}
		if err != nil {
			t.Fatalf("testenv: %v", err)
		}
		if s.clientPort == s.peerPort {
			continue
		}
		lastErr = s.start()
		if lastErr == nil {
			return s
		}
		if !errors.Is(lastErr, errBind) {
			break
		}
		// A failed first start may leave a half-made member directory.
		_ = os.RemoveAll(s.DataDir())
	}
	t.Fatalf("testenv: starting etcd: %v", lastErr)
	return nil
}

// Endpoints returns the client endpoints, for clientv3.Config.Endpoints.
func (s *EtcdServer) Endpoints() []string { return []string{s.ClientURL()} }

// ClientURL returns the client URL, http://127.0.0.1:port.
func (s *EtcdServer) ClientURL() string { return "http://127.0.0.1:" + strconv.Itoa(s.clientPort) }

// PeerURL returns the peer URL.
func (s *EtcdServer) PeerURL() string { return "http://127.0.0.1:" + strconv.Itoa(s.peerPort) }

// DataDir returns the server's data directory.
func (s *EtcdServer) DataDir() string { return filepath.Join(s.dir, "data") }

// LogPath returns the path of the server's log file.
func (s *EtcdServer) LogPath() string { return filepath.Join(s.dir, "etcd.log") }

func (s *EtcdServer) start() error {
	args := []string{
		"--name", "testenv",
		"--data-dir", s.DataDir(),
		"--listen-client-urls", s.ClientURL(),
		"--advertise-client-urls", s.ClientURL(),
		"--listen-peer-urls", s.PeerURL(),
		"--initial-advertise-peer-urls", s.PeerURL(),
		"--initial-cluster", "testenv=" + s.PeerURL(),
		"--initial-cluster-state", "new",
		"--logger", "zap",
		"--log-outputs", s.LogPath(),
	}
	args = append(args, s.args...)
	s.logStart = 0
	if st, err := os.Stat(s.LogPath()); err == nil {
		s.logStart = st.Size()
	}
	cmd := exec.Command(s.bin, args...)
	cmd.Dir = s.dir
	// The Debian package's defaults file is not read by the binary, but an
	// ETCD_* variable in the environment would override the flags above.
	cmd.Env = withoutEtcdVars(os.Environ())
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()

	deadline := time.Now().Add(startTimeout)
	hc := &http.Client{Timeout: time.Second}
	for {
		select {
		case <-done:
			log := s.logTail()
			if strings.Contains(log, "address already in use") {
				return fmt.Errorf("%w: %s", errBind, log)
			}
			return fmt.Errorf("etcd exited during start-up; log:\n%s", log)
		default:
		}
		body, err := s.health(hc)
		if err == nil && strings.Contains(body, `"health":"true"`) {
			return nil
		}
		if time.Now().After(deadline) {
			_ = s.Stop()
			return fmt.Errorf("etcd not healthy within %v (last: %q %v); log:\n%s", startTimeout, body, err, s.logTail())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *EtcdServer) health(hc *http.Client) (string, error) {
	resp, err := hc.Get(s.ClientURL() + "/health")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return string(b), err
}

func withoutEtcdVars(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, "ETCD_") {
			out = append(out, kv)
		}
	}
	return out
}

func (s *EtcdServer) logTail() string {
	b, err := os.ReadFile(s.LogPath())
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	if s.logStart <= int64(len(b)) {
		b = b[s.logStart:]
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// Stop stops the server (SIGTERM, then SIGKILL if it does not exit in
// time). Stopping a stopped server does nothing.
func (s *EtcdServer) Stop() error {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd, s.done = nil, nil
	s.mu.Unlock()
	return stopProcess(cmd, done, "etcd", func() { _ = cmd.Process.Signal(syscall.SIGTERM) })
}

// Restart stops the server and starts it again on the same ports and data
// directory; the data survives (etcd persists every write).
func (s *EtcdServer) Restart(t testing.TB) {
	t.Helper()
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	var err error
	for range startTries {
		if err = s.start(); err == nil || !errors.Is(err, errBind) {
			break
		}
		time.Sleep(200 * time.Millisecond) // the old sockets may linger
	}
	if err != nil {
		t.Fatalf("testenv: restarting etcd: %v", err)
	}
}
