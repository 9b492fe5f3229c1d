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
	"testing"
	"time"
)

// EtcdServer is an etcd child process (Debian's etcd-server) serving one
// single-member cluster on loopback client and peer ports with its own
// data directory. It is stopped when the test ends.
type EtcdServer struct {
	serverProc
	bin        string
	dir        string // data directory
	clientPort int
	peerPort   int
	args       []string
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
	s.serverProc = serverProc{name: "etcd", logPath: s.LogPath(), tailBytes: 4000, poll: 20 * time.Millisecond}
	for _, o := range opts {
		o(s)
	}
	t.Cleanup(func() { _ = s.Stop() })
	err := startOnFreePorts(2, func(ports []int) error {
		s.clientPort, s.peerPort = ports[0], ports[1]
		err := s.start()
		if errors.Is(err, errBind) {
			// A failed first start may leave a half-made member directory.
			_ = os.RemoveAll(s.DataDir())
		}
		return err
	})
	if err != nil {
		t.Fatalf("testenv: starting etcd: %v", err)
	}
	return s
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
	cmd := exec.Command(s.bin, args...)
	cmd.Dir = s.dir
	// The Debian package's defaults file is not read by the binary, but an
	// ETCD_* variable in the environment would override the flags above.
	cmd.Env = withoutEtcdVars(os.Environ())
	if err := s.launch(cmd); err != nil {
		return err
	}
	hc := &http.Client{Timeout: time.Second}
	return s.waitReady(startTimeout, func() error { return s.healthy(hc) }, s.Stop)
}

// healthy reports whether the /health endpoint says the member is healthy.
func (s *EtcdServer) healthy(hc *http.Client) error {
	resp, err := hc.Get(s.ClientURL() + "/health")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err == nil && !strings.Contains(string(b), `"health":"true"`) {
		err = fmt.Errorf("not healthy: %q", b)
	}
	return err
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

// Stop stops the server (SIGTERM, then SIGKILL if it does not exit in
// time). Stopping a stopped server does nothing.
func (s *EtcdServer) Stop() error { return s.stop(stopTimeout, sigterm) }

// Restart stops the server and starts it again on the same ports and data
// directory; the data survives (etcd persists every write).
func (s *EtcdServer) Restart(t testing.TB) {
	t.Helper()
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	s.restart(t, 200*time.Millisecond, s.start)
}
