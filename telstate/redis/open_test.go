package redis

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sdpkit/sdpkit/internal/testenv"
	"github.com/sdpkit/sdpkit/telstate/backend"
)

func TestParseEndpoint(t *testing.T) {
	for _, c := range []struct {
		in   string
		host string
		port int
	}{
		{"localhost", "localhost", 6379},
		{"localhost:6380", "localhost", 6380},
		{"10.8.0.1:7000", "10.8.0.1", 7000},
		{"[::1]:6390", "::1", 6390},
		{"[::1]", "::1", 6379},
		{"[fe80::1%eth0]:1", "fe80::1%eth0", 1},
		{":6381", "localhost", 6381},
		{"", "localhost", 6379},
	} {
		host, port, err := ParseEndpoint(c.in)
		if err != nil || host != c.host || port != c.port {
			t.Errorf("ParseEndpoint(%q) = %q, %d, %v; want %q, %d", c.in, host, port, err, c.host, c.port)
		}
	}
	for _, in := range []string{"host:", "host:x", "host:0", "host:70000", "[::1", "[1.2.3.4]:80", "[::1]x", "[::1]:", "::1", "fe80::1:80"} {
		if _, _, err := ParseEndpoint(in); !errors.Is(err, ErrBadSource) {
			t.Errorf("ParseEndpoint(%q): error %v, want ErrBadSource", in, err)
		}
	}
}

func TestOpenBadSource(t *testing.T) {
	ctx := context.Background()
	for _, src := range []string{"ftp://host/0", "redis://host/x", "redis://host/1/2", "host:port", "redis://user:s3cret@host:99999999/0"} {
		_, err := Open(ctx, src)
		if !errors.Is(err, ErrBadSource) && !errors.Is(err, backend.ErrConnection) {
			t.Errorf("Open(%q): %v", src, err)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Open(%q): error %q shows the password", src, err)
		}
	}
	if _, err := New(nil); err == nil {
		t.Error("New(nil) succeeded")
	}
	c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1"})
	defer c.Close()
	if _, err := New(c, WithDB(1)); err == nil || !strings.Contains(err.Error(), "Open only") {
		t.Errorf("New with WithDB: %v", err)
	}
}

func TestOpenRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	start := time.Now()
	_, err = Open(context.Background(), addr)
	if !errors.Is(err, backend.ErrConnection) || !strings.Contains(err.Error(), "ping") {
		t.Fatalf("Open of a closed port: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("refusal took %v", d)
	}
	c := goredis.NewClient(&goredis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	if _, err := New(c); !errors.Is(err, backend.ErrConnection) {
		t.Fatalf("New on a closed port: %v", err)
	}
}

// dbOf returns the value of key k in database db, read with a plain client.
func dbOf(t *testing.T, s *testenv.RedisServer, db int, k string) string {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: s.Addr(), DB: db})
	defer c.Close()
	v, err := c.Get(context.Background(), k).Result()
	if err != nil && err != goredis.Nil {
		t.Fatal(err)
	}
	return v
}

func TestOpenForms(t *testing.T) {
	ctx := context.Background()
	sock := filepath.Join(t.TempDir(), "redis.sock")
	s := testenv.Redis(t, testenv.WithArgs("--unixsocket", sock, "--unixsocketperm", "700"))
	port := strconv.Itoa(s.Port())
	for i, c := range []struct {
		src  string
		opts []Option
		db   int
	}{
		{"127.0.0.1:" + port, nil, 0},
		{"127.0.0.1:" + port, []Option{WithDB(3)}, 3},
		{"[::1]:" + port, nil, -1}, // only if the server listens on ::1 (it does not: skipped below)
		{"redis://127.0.0.1:" + port + "/5", nil, 5},
		{"redis://127.0.0.1:" + port + "/5", []Option{WithDB(6)}, 6},
		{"redis://127.0.0.1:" + port, []Option{WithSocketTimeout(time.Second), WithHealthCheckInterval(time.Second)}, 0},
		{"unix://" + sock + "?db=7", nil, 7},
		{"redis://127.0.0.1:" + port + "/0", []Option{WithClientOptions(func(o *goredis.Options) { o.DB = 8 })}, 8},
	} {
		if c.db < 0 {
			continue
		}
		b, err := Open(ctx, c.src, c.opts...)
		if err != nil {
			t.Errorf("Open(%q): %v", c.src, err)
			continue
		}
		key, val := "open_"+strconv.Itoa(i), "v"+strconv.Itoa(i)
		if _, err := b.SetImmutable(ctx, []byte(key), []byte(val)); err != nil {
			t.Errorf("Open(%q): SetImmutable: %v", c.src, err)
		}
		if got := dbOf(t, s, c.db, key); got != val {
			t.Errorf("Open(%q): key in db %d holds %q", c.src, c.db, got)
		}
		if err := b.Close(); err != nil {
			t.Error(err)
		}
		if err := b.Client().Ping(ctx).Err(); !errors.Is(err, goredis.ErrClosed) {
			t.Errorf("Open(%q): client still open after Close: %v", c.src, err)
		}
		if err := b.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
	}

	// New leaves the caller's client open.
	c := goredis.NewClient(&goredis.Options{Addr: s.Addr()})
	defer c.Close()
	b, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Errorf("New's client closed by Close: %v", err)
	}
}

func TestOpenPassword(t *testing.T) {
	ctx := context.Background()
	s := testenv.Redis(t)
	s.MustDo(t, "ACL", "SETUSER", "alice", "on", ">s3cret", "~*", "&*", "+@all")
	b, err := Open(ctx, "redis://alice:s3cret@"+s.Addr()+"/1")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := b.Keys(ctx, []byte("*")); err != nil {
		t.Fatal(err)
	}
	_, err = Open(ctx, "redis://alice:wrong@"+s.Addr()+"/1")
	if !errors.Is(err, backend.ErrConnection) {
		t.Fatalf("wrong password: %v", err)
	}
	if strings.Contains(err.Error(), "wrong@") {
		t.Errorf("error shows the password: %v", err)
	}
}

// TestOpenTLS connects with rediss:// to a server with a certificate
// from a throw-away CA.
func TestOpenTLS(t *testing.T) {
	dir := t.TempDir()
	caPool, certFile, keyFile, caFile := makeCerts(t, dir)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tlsPort := l.Addr().(*net.TCPAddr).Port
	l.Close()
	testenv.Redis(t, testenv.WithArgs("--tls-port", strconv.Itoa(tlsPort),
		"--tls-cert-file", certFile, "--tls-key-file", keyFile, "--tls-ca-cert-file", caFile,
		"--tls-auth-clients", "no"))
	ctx := context.Background()
	src := "rediss://127.0.0.1:" + strconv.Itoa(tlsPort) + "/2"
	b, err := Open(ctx, src, WithTLSConfig(&tls.Config{RootCAs: caPool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := b.SetImmutable(ctx, []byte("tls"), []byte{0xff, 0xc3}); err != nil {
		t.Fatal(err)
	}
	// Without our CA the server's certificate is refused.
	if _, err := Open(ctx, src); !errors.Is(err, backend.ErrConnection) {
		t.Fatalf("TLS with an unknown CA: %v", err)
	}
}

func makeCerts(t *testing.T, dir string) (pool *x509.CertPool, certFile, keyFile, caFile string) {
	t.Helper()
	writePEM := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(caCert)
	return pool, writePEM("server.crt", "CERTIFICATE", der), writePEM("server.key", "EC PRIVATE KEY", keyDER), writePEM("ca.crt", "CERTIFICATE", caDER)
}
