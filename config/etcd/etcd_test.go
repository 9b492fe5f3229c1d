package etcd_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/config/etcd"
	"github.com/sdpkit/sdpkit/config/kv"
	"github.com/sdpkit/sdpkit/config/kv/kvtest"
	"github.com/sdpkit/sdpkit/internal/testenv"
	"github.com/sdpkit/sdpkit/internal/testenv/etcdembed"
)

func open(t *testing.T, endpoints []string) *etcd.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := etcd.Open(ctx, endpoints)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestConformanceDebian runs the etcd behaviour table against Debian's
// etcd-server (3.4), one server for all cases.
func TestConformanceDebian(t *testing.T) {
	srv := testenv.Etcd(t)
	kvtest.Run(t, func(t *testing.T) kv.KV { return open(t, srv.Endpoints()) })
}

// TestConformanceEmbedded runs the table against the embedded etcd of the
// version go.mod pins.
func TestConformanceEmbedded(t *testing.T) {
	srv := etcdembed.Start(t)
	kvtest.Run(t, func(t *testing.T) kv.KV { return open(t, srv.Endpoints()) })
}

func TestOpenUnavailable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err := etcd.Open(ctx, []string{"127.0.0.1:1"})
	if !errors.Is(err, kv.ErrUnavailable) {
		t.Fatalf("Open of a closed port: %v, want ErrUnavailable", err)
	}
}

// TestRestart checks a store survives a server restart: data persists,
// requests fail with ErrUnavailable while the server is down, and a watch
// resumes without losing events.
func TestRestart(t *testing.T) {
	srv := testenv.Etcd(t)
	s := open(t, srv.Endpoints())
	ctx := context.Background()
	if _, err := s.Txn(ctx, nil, []kv.Op{{Type: kv.OpPut, Key: []byte("a"), Value: []byte("1")}}, nil); err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithCancel(ctx)
	defer wcancel()
	w := s.Watch(wctx, []byte("a"), nil, 0)
	srv.Stop()
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	_, _, err := s.Get(short, []byte("a"), 0)
	cancel()
	if !errors.Is(err, kv.ErrUnavailable) {
		t.Fatalf("Get with the server down: %v, want ErrUnavailable", err)
	}
	srv.Restart(t)
	got, _, err := s.Get(ctx, []byte("a"), 0)
	if err != nil || string(got.Value) != "1" {
		t.Fatalf("after restart: %+v %v", got, err)
	}
	r, err := s.Txn(ctx, nil, []kv.Op{{Type: kv.OpPut, Key: []byte("a"), Value: []byte("2")}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case resp := <-w:
		if resp.Err != nil || len(resp.Events) != 1 || resp.Events[0].KV.ModRevision != r.Revision {
			t.Fatalf("watch after restart: %+v", resp)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("watch did not resume after restart")
	}
}
