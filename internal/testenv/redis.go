package testenv

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
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

// RedisServer is a redis-server child process listening on a loopback port
// with its own data directory. It is stopped when the test ends.
type RedisServer struct {
	bin  string
	cfg  redisConfig
	dir  string
	port int

	logStart int64 // size of the log before the current start

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

type redisConfig struct {
	aof        bool
	rdbPersist bool
	dbfilename string
	preload    string
	args       []string
}

// RedisOption configures Redis.
type RedisOption func(*redisConfig)

// WithAOF turns on the append-only file, so data survives Restart.
func WithAOF() RedisOption { return func(c *redisConfig) { c.aof = true } }

// WithRDBPersistence makes Restart save an RDB snapshot on shutdown and
// load it again, so data survives Restart. (Without it or WithAOF, Restart
// loses the data, like a crash of a server without persistence.)
func WithRDBPersistence() RedisOption { return func(c *redisConfig) { c.rdbPersist = true } }

// WithDBFilename sets the RDB file name inside Dir (default "dump.rdb").
func WithDBFilename(name string) RedisOption { return func(c *redisConfig) { c.dbfilename = name } }

// WithPreloadedRDB copies the RDB file at path into the data directory as
// the dbfilename before the first start, so the server loads it at start-up.
// If the server cannot load it, Redis fails the test with the server's log.
func WithPreloadedRDB(path string) RedisOption { return func(c *redisConfig) { c.preload = path } }

// WithArgs adds redis-server command-line arguments, e.g.
// WithArgs("--maxmemory", "10mb").
func WithArgs(args ...string) RedisOption {
	return func(c *redisConfig) { c.args = append(c.args, args...) }
}

// Redis starts a redis-server for the test on a free 127.0.0.1 port, with a
// temporary data directory and no automatic snapshots, waits until it
// answers PING, and stops it when the test ends. If redis-server is not on
// PATH the test fails, or is skipped when SDP_SKIP_MISSING_SERVERS=1.
func Redis(t testing.TB, opts ...RedisOption) *RedisServer {
	t.Helper()
	bin := lookBinary(t, "redis-server", "redis-server")
	s := &RedisServer{bin: bin, dir: t.TempDir(), cfg: redisConfig{dbfilename: "dump.rdb"}}
	for _, o := range opts {
		o(&s.cfg)
	}
	if s.cfg.preload != "" {
		if err := copyFile(s.cfg.preload, s.RDBPath()); err != nil {
			t.Fatalf("testenv: preloading RDB: %v", err)
		}
	}
	t.Cleanup(func() { _ = s.Stop() })
	var lastErr error
	for range startTries {
		port, err := freePort()
		if err != nil {
			t.Fatalf("testenv: %v", err)
		}
		s.port = port
		lastErr = s.start()
		if lastErr == nil {
			return s
		}
		if !errors.Is(lastErr, errBind) {
			break
		}
	}
	t.Fatalf("testenv: starting redis-server: %v", lastErr)
	return nil
}

// Addr returns the server's host:port.
func (s *RedisServer) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// URL returns a redis:// URL for database 0.
func (s *RedisServer) URL() string { return "redis://" + s.Addr() + "/0" }

// Port returns the TCP port.
func (s *RedisServer) Port() int { return s.port }

// Dir returns the server's data directory.
func (s *RedisServer) Dir() string { return s.dir }

// RDBPath returns the path of the server's RDB file (written by SAVE).
func (s *RedisServer) RDBPath() string { return filepath.Join(s.dir, s.cfg.dbfilename) }

// LogPath returns the path of the server's log file.
func (s *RedisServer) LogPath() string { return filepath.Join(s.dir, "redis.log") }

// errBind marks a start that failed because the port was taken.
var errBind = errors.New("port in use")

func (s *RedisServer) start() error {
	appendonly := "no"
	if s.cfg.aof {
		appendonly = "yes"
	}
	args := []string{
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--dir", s.dir,
		"--dbfilename", s.cfg.dbfilename,
		"--save", "",
		"--appendonly", appendonly,
		"--logfile", s.LogPath(),
		"--daemonize", "no",
		"--protected-mode", "no",
		"--enable-debug-command", "local",
	}
	args = append(args, s.cfg.args...)
	s.logStart = 0
	if st, err := os.Stat(s.LogPath()); err == nil {
		s.logStart = st.Size()
	}
	cmd := exec.Command(s.bin, args...)
	cmd.Dir = s.dir
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()

	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-done:
			log := s.logTail()
			if strings.Contains(log, "Address already in use") {
				return fmt.Errorf("%w: %s", errBind, log)
			}
			return fmt.Errorf("redis-server exited during start-up; log:\n%s", log)
		default:
		}
		reply, err := s.Do("PING")
		if err == nil && reply == "PONG" {
			return nil
		}
		if time.Now().After(deadline) {
			_ = s.Stop()
			return fmt.Errorf("redis-server did not answer PING within %v (last: %v %v); log:\n%s", startTimeout, reply, err, s.logTail())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// logTail returns the end of what the server logged since the current
// start, for error messages.
func (s *RedisServer) logTail() string {
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

// Stop shuts the server down without saving (SHUTDOWN NOSAVE), killing it
// if it does not exit in time. Stopping a stopped server does nothing.
func (s *RedisServer) Stop() error { return s.stop("NOSAVE") }

func (s *RedisServer) stop(mode string) error {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd, s.done = nil, nil
	s.mu.Unlock()
	// The connection drops when the server exits, so the reply is an error.
	return stopProcess(cmd, done, "redis-server", func() { _, _ = s.Do("SHUTDOWN", mode) })
}

// Restart stops the server and starts it again on the same port and data
// directory. Data survives with WithAOF or WithRDBPersistence (and a
// preloaded RDB is loaded again); otherwise the server comes back empty
// unless a snapshot was saved explicitly.
func (s *RedisServer) Restart(t testing.TB) {
	t.Helper()
	mode := "NOSAVE"
	if s.cfg.rdbPersist {
		mode = "SAVE"
	}
	if err := s.stop(mode); err != nil {
		t.Fatal(err)
	}
	var err error
	for range startTries {
		if err = s.start(); err == nil || !errors.Is(err, errBind) {
			break
		}
		time.Sleep(200 * time.Millisecond) // the old socket may linger
	}
	if err != nil {
		t.Fatalf("testenv: restarting redis-server: %v", err)
	}
}

// RedisError is an error reply from the server.
type RedisError string

func (e RedisError) Error() string { return "redis: " + string(e) }

// Do sends one command on a fresh connection and returns the reply: a
// string for a status reply, []byte for a bulk string (nil for a null
// bulk), int64 for an integer, []any for an array (nil for a null array),
// and a RedisError for an error reply. Arguments may hold any bytes.
func (s *RedisServer) Do(args ...string) (any, error) {
	conn, err := net.DialTimeout("tcp", s.Addr(), 5*time.Second)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(60 * time.Second))
	w := bufio.NewWriter(conn)
	fmt.Fprintf(w, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(w, "$%d\r\n%s\r\n", len(a), a)
	}
	if err := w.Flush(); err != nil {
		return nil, err
	}
	reply, err := readReply(bufio.NewReader(conn))
	if err != nil {
		return nil, err
	}
	if re, ok := reply.(RedisError); ok {
		return nil, re
	}
	return reply, nil
}

// MustDo is Do that fails the test on error.
func (s *RedisServer) MustDo(t testing.TB, args ...string) any {
	t.Helper()
	reply, err := s.Do(args...)
	if err != nil {
		t.Fatalf("redis %q: %v", args, err)
	}
	return reply
}

// readReply parses one RESP2 reply.
func readReply(r *bufio.Reader) (any, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	if len(line) < 3 || !strings.HasSuffix(line, "\r\n") {
		return nil, fmt.Errorf("malformed reply line %q", line)
	}
	kind, body := line[0], line[1:len(line)-2]
	switch kind {
	case '+':
		return body, nil
	case '-':
		return RedisError(body), nil
	case ':':
		return strconv.ParseInt(body, 10, 64)
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil || n < -1 {
			return nil, fmt.Errorf("malformed bulk length %q", body)
		}
		if n == -1 {
			return []byte(nil), nil
		}
		b := make([]byte, n+2)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, err
		}
		return b[:n], nil
	case '*':
		n, err := strconv.Atoi(body)
		if err != nil || n < -1 {
			return nil, fmt.Errorf("malformed array length %q", body)
		}
		if n == -1 {
			return []any(nil), nil
		}
		out := make([]any, 0, n)
		for range n {
			v, err := readReply(r)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown reply type %q", kind)
}

// freePort asks the OS for a free loopback port. Another process may take
// it before redis-server binds it; Redis retries in that case.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
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
