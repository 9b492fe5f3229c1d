// Package etcdembed runs a real etcd server (go.etcd.io/etcd/server/v3,
// the version go.mod pins) inside the test process. It links the whole
// server, so it lives apart from package testenv: only tests that import
// it pay for it, and no non-test package may import it.
package etcdembed

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// Server is an embedded single-member etcd.
type Server struct {
	e   *embed.Etcd
	url string
}

// Option adjusts the embed.Config before the server starts.
type Option func(*embed.Config)

// Start starts an embedded etcd for the test on free loopback ports with a
// temporary data directory (fsync off: the data is throw-away), waits
// until it is ready and closes it when the test ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	var lastErr error
	for range 5 {
		s, err := start(t, opts)
		if err == nil {
			t.Cleanup(s.e.Close)
			return s
		}
		lastErr = err
		if !strings.Contains(err.Error(), "address already in use") {
			break
		}
	}
	t.Fatalf("etcdembed: starting etcd: %v", lastErr)
	return nil
}

func start(t testing.TB, opts []Option) (*Server, error) {
	cport, err := freePort()
	if err != nil {
		return nil, err
	}
	pport, err := freePort()
	if err != nil {
		return nil, err
	}
	cu := url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(cport))}
	pu := url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(pport))}
	cfg := embed.NewConfig()
	cfg.Name = "etcdembed"
	cfg.Dir = t.TempDir()
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{cu}, []url.URL{cu}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{pu}, []url.URL{pu}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	// The server logs errors on a normal shutdown; tests see real
	// failures through the client.
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	cfg.UnsafeNoFsync = true
	for _, o := range opts {
		o(cfg)
	}
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, err
	}
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(30 * time.Second):
		e.Close()
		return nil, fmt.Errorf("not ready within 30 s")
	}
	return &Server{e: e, url: cu.String()}, nil
}

// Endpoints returns the client endpoints.
func (s *Server) Endpoints() []string { return []string{s.url} }

// Etcd returns the embedded server, for tests that need its internals.
func (s *Server) Etcd() *embed.Etcd { return s.e }

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
