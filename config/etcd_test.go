package config

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/config/etcd"
	"github.com/sdpkit/sdpkit/config/kv"
	"github.com/sdpkit/sdpkit/internal/testenv"
)

// etcdStores returns the real-etcd store factory: Debian's etcd-server,
// one server per store subtest (started lazily, stopped with the test).
func etcdStores(t *testing.T) []storeFactory {
	return []storeFactory{{"etcd", func(t *testing.T) kv.KV {
		return openEtcd(t, testenv.Etcd(t))
	}}}
}

func openEtcd(t *testing.T, srv *testenv.EtcdServer) kv.KV {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := etcd.Open(ctx, srv.Endpoints())
	if err != nil {
		t.Fatalf("etcd.Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestEtcdRestartMidLoop restarts etcd while clients run read-modify-write
// transactions: every transaction either commits exactly once or fails
// with an error; none commits partially. Each increment transaction
// writes the counter and a per-operation marker key in one commit, so a
// partial commit would show as a marker without its increment (or the
// reverse). Commits whose outcome is unknown (the connection broke while
// the commit was in flight) are told apart by their marker.
func TestEtcdRestartMidLoop(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts etcd")
	}
	srv := testenv.Etcd(t)
	s := openEtcd(t, srv)
	db := NewDB(s)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	must(t, db.Create(ctx, "/r/n", []byte("0"), 0))

	var ok, failed atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for c := 0; c < 4; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				marker := "/r/m/" + strconv.Itoa(c) + "-" + strconv.Itoa(i)
				octx, ocancel := context.WithTimeout(ctx, 3*time.Second)
				err := db.Txn(octx, func(tx *Txn) error {
					v, err := tx.Get("/r/n")
					if err != nil {
						return err
					}
					n, _ := strconv.Atoi(string(v))
					if err := tx.Update("/r/n", []byte(strconv.Itoa(n+1))); err != nil {
						return err
					}
					return tx.Create(marker, nil, 0)
				})
				ocancel()
				if err != nil {
					failed.Add(1)
					if !errors.Is(err, kv.ErrUnavailable) && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, ErrTxnRetries) {
						t.Logf("failure: %v", err)
					}
					time.Sleep(50 * time.Millisecond)
					continue
				}
				ok.Add(1)
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	srv.Restart(t)
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()

	v, _, err := db.Get(ctx, "/r/n", 0)
	must(t, err)
	markers, _, err := db.ListKeys(ctx, "/r/m/")
	must(t, err)
	n, _ := strconv.Atoi(string(v))
	t.Logf("%d committed, %d failed, counter %d, markers %d", ok.Load(), failed.Load(), n, len(markers))
	if n != len(markers) {
		t.Errorf("counter %d but %d markers: a partial commit", n, len(markers))
	}
	if int64(n) < ok.Load() || int64(n) > ok.Load()+failed.Load() {
		t.Errorf("counter %d outside [%d, %d]", n, ok.Load(), ok.Load()+failed.Load())
	}
	if ok.Load() == 0 {
		t.Error("nothing committed")
	}
}
