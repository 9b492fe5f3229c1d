package testenv

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// RedisServer is a redis-server child process listening on a loopback port
// with its own data directory. It is stopped when the test ends.
type RedisServer struct {
	serverProc
	bin  string
	cfg  redisConfig
	dir  string
	port int
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
	s.serverProc = serverProc{name: "redis-server", logPath: s.LogPath(), tailBytes: 4000, poll: 20 * time.Millisecond}
	for _, o := range opts {
		o(&s.cfg)
	}
	if s.cfg.preload != "" {
		if err := copyFile(s.cfg.preload, s.RDBPath()); err != nil {
			t.Fatalf("testenv: preloading RDB: %v", err)
		}
	}
	t.Cleanup(func() { _ = s.Stop() })
	err := startOnFreePorts(1, func(ports []int) error {
		s.port = ports[0]
		return s.start()
	})
	if err != nil {
		t.Fatalf("testenv: starting redis-server: %v", err)
	}
	return s
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
	cmd := exec.Command(s.bin, args...)
	cmd.Dir = s.dir
	if err := s.launch(cmd); err != nil {
		return err
	}
	return s.waitReady(startTimeout, s.pinged, s.Stop)
}

// pinged reports whether the server answers PING.
func (s *RedisServer) pinged() error {
	reply, err := s.Do("PING")
	if err == nil && reply != "PONG" {
		err = fmt.Errorf("PING answered %v", reply)
	}
	return err
}

// Stop shuts the server down without saving (SHUTDOWN NOSAVE), killing it
// if it does not exit in time. Stopping a stopped server does nothing.
func (s *RedisServer) Stop() error { return s.stop("NOSAVE") }

func (s *RedisServer) stop(mode string) error {
	// The connection drops when the server exits, so the reply is an error.
	return s.serverProc.stop(stopTimeout, func(*exec.Cmd) { _, _ = s.Do("SHUTDOWN", mode) })
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
	s.restart(t, 200*time.Millisecond, s.start)
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
