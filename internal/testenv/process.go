package testenv

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// SkipMissingEnv is the environment variable that turns a missing server
// binary from a test failure into a skip when set to 1.
const SkipMissingEnv = "SDP_SKIP_MISSING_SERVERS"

const (
	startTimeout = 15 * time.Second
	stopTimeout  = 10 * time.Second
	startTries   = 5
)

// errBind marks a start that failed because a port was taken.
var errBind = errors.New("port in use")

// serverProc is the life of one server child process that Redis, Etcd and
// Kafka share: starting it with its log file marked, waiting until it is
// ready, quoting its log when it is not, and stopping it. The server types
// embed it and add their command lines and readiness checks.
type serverProc struct {
	name      string // in messages: "redis-server", "etcd", "kafka"
	logPath   string // the file the server logs to
	tailBytes int    // how much of the log an error quotes
	poll      time.Duration

	logStart int64 // size of the log before the current start

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// launch starts cmd and watches for its exit. Only what the server logs
// from now on counts for logTail.
func (p *serverProc) launch(cmd *exec.Cmd) error {
	p.logStart = 0
	if st, err := os.Stat(p.logPath); err == nil {
		p.logStart = st.Size()
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	p.mu.Lock()
	p.cmd, p.done = cmd, done
	p.mu.Unlock()
	return nil
}

// waitReady polls ready until it returns nil. If the server exits first the
// error quotes its log and wraps errBind when the log says a port was taken
// (the caller then tries other ports); if timeout passes first the server
// is stopped with stop and the error quotes ready's last error.
func (p *serverProc) waitReady(timeout time.Duration, ready func() error, stop func() error) error {
	p.mu.Lock()
	done := p.done
	p.mu.Unlock()
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-done:
			log := p.logTail()
			if strings.Contains(strings.ToLower(log), "address already in use") {
				return fmt.Errorf("%w: %s", errBind, log)
			}
			return fmt.Errorf("%s exited during start-up; log:\n%s", p.name, log)
		default:
		}
		last := ready()
		if last == nil {
			return nil
		}
		if time.Now().After(deadline) {
			_ = stop()
			return fmt.Errorf("%s not ready within %v (last: %v); log:\n%s", p.name, timeout, last, p.logTail())
		}
		time.Sleep(p.poll)
	}
}

// logTail returns the end of what the server logged since the current
// start, for error messages.
func (p *serverProc) logTail() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	if p.logStart <= int64(len(b)) {
		b = b[p.logStart:]
	}
	if len(b) > p.tailBytes {
		b = b[len(b)-p.tailBytes:]
	}
	return string(b)
}

// stop asks the running server to exit (ask), waits up to timeout, and
// kills it otherwise. Stopping a stopped server does nothing.
func (p *serverProc) stop(timeout time.Duration, ask func(cmd *exec.Cmd)) error {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.cmd, p.done = nil, nil
	p.mu.Unlock()
	if cmd == nil {
		return nil
	}
	select {
	case <-done:
		return nil
	default:
	}
	ask(cmd)
	select {
	case <-done:
		return nil
	case <-time.After(timeout):
	}
	_ = cmd.Process.Kill()
	<-done
	return fmt.Errorf("testenv: %s did not stop within %v and was killed", p.name, timeout)
}

// sigterm asks a server to exit with SIGTERM.
func sigterm(cmd *exec.Cmd) { _ = cmd.Process.Signal(syscall.SIGTERM) }

// restart runs start again after a stop, on the same ports: a start that
// fails because the old sockets linger is retried after pause.
func (p *serverProc) restart(t testing.TB, pause time.Duration, start func() error) {
	t.Helper()
	var err error
	for range startTries {
		if err = start(); err == nil || !errors.Is(err, errBind) {
			break
		}
		time.Sleep(pause)
	}
	if err != nil {
		t.Fatalf("testenv: restarting %s: %v", p.name, err)
	}
}

// startOnFreePorts calls start with n distinct free loopback ports until it
// succeeds, trying other ports while it fails with errBind (another process
// took a port between freePort and the server's bind).
func startOnFreePorts(n int, start func(ports []int) error) error {
	var lastErr error
	for range startTries {
		ports := make([]int, 0, n)
		for range n {
			p, err := freePort()
			if err != nil {
				return err
			}
			ports = append(ports, p)
		}
		if distinct(ports) {
			lastErr = start(ports)
			if lastErr == nil || !errors.Is(lastErr, errBind) {
				return lastErr
			}
		}
	}
	return lastErr
}

func distinct(ports []int) bool {
	for i := range ports {
		for j := range i {
			if ports[i] == ports[j] {
				return false
			}
		}
	}
	return true
}

// freePort asks the OS for a free loopback port. Another process may take
// it before the server binds it; startOnFreePorts retries in that case.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// lookBinary finds a server binary on PATH; without it the test fails (or
// is skipped when SDP_SKIP_MISSING_SERVERS=1) naming the Debian package.
func lookBinary(t testing.TB, name, debPackage string) string {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err != nil {
		msg := name + " not found: run `make deps` or apt-get install " + debPackage
		if os.Getenv(SkipMissingEnv) == "1" {
			t.Skip(msg)
		}
		t.Fatal(msg)
	}
	return bin
}
