//go:build tango

package tangoio

import (
	"context"
	"net"
	"sync"
	"testing"

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
