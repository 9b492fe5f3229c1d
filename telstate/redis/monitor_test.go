package redis

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/internal/testenv"
	"github.com/sdpkit/sdpkit/telstate/backend"
)

// next returns the monitor's next update within a few seconds.
func next(t *testing.T, m backend.Monitor) backend.KeyUpdate {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	u, err := m.Next(ctx)
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	return u
}

func wantUpdate(t *testing.T, got, want backend.KeyUpdate) {
	t.Helper()
	if !bytes.Equal(got.Key, want.Key) || got.Type != want.Type || !bytes.Equal(got.Value, want.Value) ||
		got.Timestamp != want.Timestamp || !bytes.Equal(got.SubKey, want.SubKey) {
		t.Fatalf("update %s, want %s", fmtUpdate(got), fmtUpdate(want))
	}
}

func fmtUpdate(u backend.KeyUpdate) string {
	return fmt.Sprintf("{%q %v value=%x ts=%v sub=%x}", u.Key, u.Type, u.Value, u.Timestamp, u.SubKey)
}

// TestMonitorOwnWrites: a Monitor understands what this package's writers
// publish, and what Python publishes (the same bytes), plus the type-byte
// forms katsdptelstate reads but does not write yet.
func TestMonitorOwnWrites(t *testing.T) {
	s := testenv.Redis(t)
	b := openTest(t, s)
	ctx := context.Background()
	k, nsk := []byte("k"), []byte("ns_k")
	m, err := b.Monitor(ctx, [][]byte{nsk, k, k})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	wantUpdate(t, next(t, m), backend.KeyUpdate{}) // listening

	val := []byte{0xff, 0xcd, 0x10, 0x00}
	if _, err := b.SetImmutable(ctx, k, val); err != nil {
		t.Fatal(err)
	}
	wantUpdate(t, next(t, m), backend.KeyUpdate{Key: k, Type: backend.Immutable, Value: val})
	// Setting it again publishes nothing; the next update is the sensor's.
	if _, err := b.SetImmutable(ctx, k, val); err != nil {
		t.Fatal(err)
	}
	for i := range 2 { // the second add is a duplicate: no message
		if err := b.AddMutable(ctx, nsk, []byte{0xff, 0xa5, 't', 'r', 'a', 'c', 'k'}, 1700000000); err != nil {
			t.Fatalf("add %d: %v", i, err)
		}
	}
	if err := b.AddMutable(ctx, nsk, []byte{0xff, 0x2a}, 0); err != nil {
		t.Fatal(err)
	}
	wantUpdate(t, next(t, m), backend.KeyUpdate{Key: nsk, Type: backend.Mutable, Value: []byte{0xff, 0xa5, 't', 'r', 'a', 'c', 'k'}, Timestamp: 1700000000})
	wantUpdate(t, next(t, m), backend.KeyUpdate{Key: nsk, Type: backend.Mutable, Value: []byte{0xff, 0x2a}, Timestamp: 0})

	idx := []byte("idx")
	m2, err := b.Monitor(ctx, [][]byte{idx})
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	wantUpdate(t, next(t, m2), backend.KeyUpdate{})
	if _, err := b.SetIndexed(ctx, idx, []byte{0xff, 0xa1, 'a'}, []byte{0xff, 0x01}); err != nil {
		t.Fatal(err)
	}
	wantUpdate(t, next(t, m2), backend.KeyUpdate{Key: idx, Type: backend.Indexed, SubKey: []byte{0xff, 0xa1, 'a'}, Value: []byte{0xff, 0x01}})

	// Hand-made messages, as Python's set_indexed script publishes them
	// (03 "10" 0a sub-key value) and with the type bytes 1 and 2.
	pyIdx := "\x0310\n\xff\xc7\x06\x01\x92\xa3sub\x01\xff\xa5ready"
	s.MustDo(t, "PUBLISH", "update/idx", pyIdx)
	wantUpdate(t, next(t, m2), backend.KeyUpdate{Key: idx, Type: backend.Indexed,
		SubKey: []byte("\xff\xc7\x06\x01\x92\xa3sub\x01"), Value: []byte("\xff\xa5ready")})
	s.MustDo(t, "PUBLISH", "update/k", "\x01\xff\xc3")
	wantUpdate(t, next(t, m), backend.KeyUpdate{Key: k, Type: backend.Immutable, Value: []byte{0xff, 0xc3}})
	s.MustDo(t, "PUBLISH", "update/k", "\x02\x3f\xf8\x00\x00\x00\x00\x00\x00\xff\xc2")
	wantUpdate(t, next(t, m), backend.KeyUpdate{Key: k, Type: backend.Mutable, Value: []byte{0xff, 0xc2}, Timestamp: 1.5})
	// Without a type byte the type comes from TYPE: a message for a key
	// that does not exist is dropped; an undecodable one means "check
	// again"; for a hash it is read in the indexed format.
	s.MustDo(t, "PUBLISH", "update/k", "\xff\x00")                    // k is a string: immutable
	s.MustDo(t, "PUBLISH", "update/ns_k", "\x41\xd9\x54\xfc\x40\x00") // a sensor member shorter than 8 bytes
	wantUpdate(t, next(t, m), backend.KeyUpdate{Key: k, Type: backend.Immutable, Value: []byte{0xff, 0x00}})
	wantUpdate(t, next(t, m), backend.KeyUpdate{Key: nsk})
	s.MustDo(t, "PUBLISH", "update/idx", "2\n\xff\x07\xff\x08")
	wantUpdate(t, next(t, m2), backend.KeyUpdate{Key: idx, Type: backend.Indexed, SubKey: []byte{0xff, 0x07}, Value: []byte{0xff, 0x08}})
	s.MustDo(t, "PUBLISH", "update/idx", "\x03x\nbad")
	wantUpdate(t, next(t, m2), backend.KeyUpdate{Key: idx})

	m3, err := b.Monitor(ctx, [][]byte{[]byte("gone")})
	if err != nil {
		t.Fatal(err)
	}
	defer m3.Close()
	wantUpdate(t, next(t, m3), backend.KeyUpdate{})
	s.MustDo(t, "PUBLISH", "update/gone", "\xff\x01")
	s.MustDo(t, "PUBLISH", "update/gone", "\x01\xff\x02")
	wantUpdate(t, next(t, m3), backend.KeyUpdate{Key: []byte("gone"), Type: backend.Immutable, Value: []byte{0xff, 0x02}})

	// Next honours its context, and Close ends it.
	ctx2, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := m.Next(ctx2); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next with nothing to report: %v", err)
	}
	done := make(chan error, 1)
	go func() { _, err := m.Next(ctx); done <- err }()
	time.Sleep(20 * time.Millisecond)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("Next during Close: %v", err)
	}
	if err := m.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	// Closing the backend closes its monitors.
	b.Close()
	if _, err := m2.Next(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("Next after the backend's Close: %v", err)
	}
	if _, err := b.Monitor(ctx, [][]byte{k}); err == nil {
		t.Fatal("Monitor on a closed backend succeeded")
	}
}

func TestParseUpdate(t *testing.T) {
	k := []byte("k")
	for _, c := range []struct {
		t    backend.KeyType
		body string
		want backend.KeyUpdate
		bad  bool
	}{
		{backend.Immutable, "\xff\xcd\x10\x00", backend.KeyUpdate{Key: k, Type: backend.Immutable, Value: []byte("\xff\xcd\x10\x00")}, false},
		{backend.Immutable, "", backend.KeyUpdate{Key: k, Type: backend.Immutable, Value: []byte("")}, false},
		{backend.Mutable, "\x41\xd9\x54\xfc\x40\x00\x00\x00\xff\xa5track", backend.KeyUpdate{Key: k, Type: backend.Mutable, Value: []byte("\xff\xa5track"), Timestamp: 1700000000}, false},
		{backend.Mutable, "\x41\xd9", backend.KeyUpdate{}, true},
		{backend.Indexed, "3\n\xff\xa1a\xff\x01", backend.KeyUpdate{Key: k, Type: backend.Indexed, SubKey: []byte("\xff\xa1a"), Value: []byte("\xff\x01")}, false},
		{backend.Indexed, "0\n\xff\x01", backend.KeyUpdate{Key: k, Type: backend.Indexed, SubKey: []byte{}, Value: []byte("\xff\x01")}, false},
		{backend.Indexed, "4\n\xff\xa1a", backend.KeyUpdate{}, true},
		{backend.Indexed, "-1\nx", backend.KeyUpdate{}, true},
		{backend.Indexed, "\xff\xa1a", backend.KeyUpdate{}, true},
		{backend.KeyNone, "x", backend.KeyUpdate{}, true},
	} {
		got, err := ParseUpdate(k, c.t, []byte(c.body))
		if (err != nil) != c.bad {
			t.Errorf("ParseUpdate(%v, %q): error %v", c.t, c.body, err)
			continue
		}
		if !c.bad && fmtUpdate(got) != fmtUpdate(c.want) {
			t.Errorf("ParseUpdate(%v, %q) = %s, want %s", c.t, c.body, fmtUpdate(got), fmtUpdate(c.want))
		}
	}
}

// TestMonitorHealthCheck: a monitor whose connection is dropped, or goes
// silent (the server paused with CLIENT PAUSE ... ALL, so its ping is not
// answered), subscribes again and says "check again".
func TestMonitorHealthCheck(t *testing.T) {
	s := testenv.Redis(t)
	b := openTest(t, s, WithHealthCheckInterval(100*time.Millisecond))
	ctx := context.Background()
	m, err := b.Monitor(ctx, [][]byte{[]byte("hc")})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	wantUpdate(t, next(t, m), backend.KeyUpdate{})
	// Kill the subscriber's connection from the server side: go-redis
	// reconnects and re-subscribes, and the monitor reports it.
	s.MustDo(t, "CLIENT", "KILL", "TYPE", "pubsub")
	wantUpdate(t, next(t, m), backend.KeyUpdate{})
	if _, err := b.SetImmutable(ctx, []byte("hc"), []byte{0xff, 0x01}); err != nil {
		t.Fatal(err)
	}
	wantUpdate(t, next(t, m), backend.KeyUpdate{Key: []byte("hc"), Type: backend.Immutable, Value: []byte{0xff, 0x01}})
	// Idle for several health-check intervals: pings are answered, and
	// nothing is reported.
	ctx2, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	if u, err := m.Next(ctx2); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("idle monitor reported %s, %v", fmtUpdate(u), err)
	}
	// Silence: the ping is not answered within an interval, so the
	// monitor abandons the connection; the new subscription completes
	// when the pause ends.
	start := time.Now()
	s.MustDo(t, "CLIENT", "PAUSE", "600", "ALL")
	wantUpdate(t, next(t, m), backend.KeyUpdate{})
	if d := time.Since(start); d < 500*time.Millisecond {
		t.Fatalf("check again after %v, during the pause", d)
	}
	s.MustDo(t, "PUBLISH", "update/hc", "\x01\xff\x03")
	wantUpdate(t, next(t, m), backend.KeyUpdate{Key: []byte("hc"), Type: backend.Immutable, Value: []byte{0xff, 0x03}})
}
