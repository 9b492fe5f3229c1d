package telstate_test

import (
	"bytes"
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/telstate"
	"github.com/sdpkit/sdpkit/telstate/backend"
	"github.com/sdpkit/sdpkit/telstate/encoding"
	"github.com/sdpkit/sdpkit/telstate/memory"
)

// pushBackend is a memory backend whose monitors deliver the updates sent
// on its channel, with data, as a Redis backend's pub/sub does. Embedding
// the interface hides the memory backend's Loader and BatchAdder.
type pushBackend struct {
	backend.Backend
	updates chan backend.KeyUpdate
	adds    int
}

func newPush() *pushBackend {
	return &pushBackend{Backend: memory.New(), updates: make(chan backend.KeyUpdate, 16)}
}

func (p *pushBackend) AddMutable(ctx context.Context, key, value []byte, ts float64) error {
	p.adds++
	return p.Backend.AddMutable(ctx, key, value, ts)
}

func (p *pushBackend) Monitor(ctx context.Context, keys [][]byte) (backend.Monitor, error) {
	return &pushMonitor{p: p, first: true}, nil
}

type pushMonitor struct {
	p     *pushBackend
	first bool
}

func (m *pushMonitor) Next(ctx context.Context) (backend.KeyUpdate, error) {
	if m.first {
		m.first = false
		return backend.KeyUpdate{}, nil
	}
	select {
	case u := <-m.p.updates:
		return u, nil
	case <-ctx.Done():
		return backend.KeyUpdate{}, ctx.Err()
	}
}

func (m *pushMonitor) Close() error { return nil }

func mustEnc(t *testing.T, v pyval.Value) []byte {
	b, err := encoding.Encode(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func timeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// A sensor condition sees the sample carried by the update, even if it is
// older than the newest stored sample (katsdptelstate's behaviour with
// Redis pub/sub).
func TestWaitKeyUsesPublishedSample(t *testing.T) {
	ctx := context.Background()
	p := newPush()
	ts := telstate.New(telstate.WithBackend(p))
	ts.Add(ctx, "k", pyval.Str("newest"), telstate.At(10))
	p.updates <- backend.KeyUpdate{Key: []byte("k"), Type: backend.Mutable, Value: mustEnc(t, pyval.Str("old")), Timestamp: 5}
	var gotTS float64
	err := ts.WaitKey(timeout(t, 5*time.Second), "k", func(v pyval.Value, ts *float64) bool {
		gotTS = *ts
		return v == pyval.Str("old")
	})
	if err != nil || gotTS != 5 {
		t.Fatalf("err %v, ts %v", err, gotTS)
	}
	// An immutable update's value is used too, with no timestamp.
	p.updates <- backend.KeyUpdate{Key: []byte("a"), Type: backend.Immutable, Value: mustEnc(t, pyval.IntOf(1))}
	err = ts.WaitKey(timeout(t, 5*time.Second), "a", func(v pyval.Value, ts *float64) bool {
		return ts == nil && pyval.Equal(v, pyval.IntOf(1))
	})
	if err != nil {
		t.Fatal(err)
	}
}

// An update for a shadowed key is not used: the inner key decides.
func TestWaitKeyShadowedUpdate(t *testing.T) {
	ctx := context.Background()
	p := newPush()
	ns := telstate.New(telstate.WithBackend(p)).View("ns")
	ns.Add(ctx, "k", pyval.Str("inner"), telstate.At(1))
	p.updates <- backend.KeyUpdate{Key: []byte("k"), Type: backend.Mutable, Value: mustEnc(t, pyval.Str("ready")), Timestamp: 2}
	err := ns.WaitKey(timeout(t, 100*time.Millisecond), "k", func(v pyval.Value, _ *float64) bool { return v == pyval.Str("ready") })
	if !errors.Is(err, telstate.ErrTimeout) {
		t.Fatalf("shadowed update satisfied the wait: %v", err)
	}
	p.updates <- backend.KeyUpdate{Key: []byte("ns_k"), Type: backend.Mutable, Value: mustEnc(t, pyval.Str("ready")), Timestamp: 2}
	err = ns.WaitKey(timeout(t, 5*time.Second), "k", func(v pyval.Value, _ *float64) bool { return v == pyval.Str("ready") })
	if err != nil {
		t.Fatal(err)
	}
}

func TestWaitIndexedUpdates(t *testing.T) {
	ctx := context.Background()
	p := newPush()
	ts := telstate.New(telstate.WithBackend(p))
	sk := mustEnc(t, pyval.Str("a"))
	// Another sub-key's update is ignored; ours triggers a re-check.
	go func() {
		p.updates <- backend.KeyUpdate{Key: []byte("idx"), Type: backend.Indexed, SubKey: mustEnc(t, pyval.Str("b")), Value: mustEnc(t, pyval.IntOf(2))}
		ts.SetIndexed(ctx, "idx", pyval.Str("a"), pyval.IntOf(1))
		p.updates <- backend.KeyUpdate{Key: []byte("idx"), Type: backend.Indexed, SubKey: sk, Value: mustEnc(t, pyval.IntOf(1))}
	}()
	if err := ts.WaitIndexed(timeout(t, 5*time.Second), "idx", pyval.Str("a"), nil); err != nil {
		t.Fatal(err)
	}
	// A non-indexed update on a watched key is an error.
	p.updates <- backend.KeyUpdate{Key: []byte("other"), Type: backend.Immutable, Value: mustEnc(t, pyval.IntOf(1))}
	err := ts.WaitIndexed(timeout(t, 5*time.Second), "other", pyval.Str("a"), nil)
	if !errors.Is(err, telstate.ErrImmutableKey) || !strings.Contains(err.Error(), "wait_indexed called on non-indexed key 'other'") {
		t.Fatalf("err %v", err)
	}
}

func TestBackendWithoutOptionalInterfaces(t *testing.T) {
	ctx := context.Background()
	p := newPush()
	ts := telstate.New(telstate.WithBackend(p))
	err := ts.AddSamples(ctx, "s", []telstate.Sample{{Value: pyval.IntOf(1), Timestamp: 1}, {Value: pyval.IntOf(2), Timestamp: 2}})
	if err != nil || p.adds != 2 {
		t.Fatalf("AddSamples: %v, %d adds", err, p.adds)
	}
	if _, err := ts.LoadRDB(ctx, bytes.NewReader(nil)); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("LoadRDB without a Loader: %v", err)
	}
	var buf bytes.Buffer
	if n, err := ts.WriteRDB(ctx, &buf); err != nil || n != 1 {
		t.Fatalf("WriteRDB: %d, %v", n, err)
	}
}

type failing struct{ backend.Backend }

func (failing) Get(ctx context.Context, key []byte) (backend.Value, error) {
	return backend.Value{}, backend.ErrConnection
}

func TestBackendErrorsNameTheKey(t *testing.T) {
	ts := telstate.New(telstate.WithBackend(failing{memory.New()})).View("ns")
	_, err := ts.Get(context.Background(), "k")
	if !errors.Is(err, telstate.ErrConnection) || !strings.Contains(err.Error(), "'ns_k'") {
		t.Fatalf("err %v", err)
	}
}

func TestAllowPickle(t *testing.T) {
	ctx := context.Background()
	pickled := []byte("S'hello'\np0\n.") // Python 2 protocol-0 pickle
	load := func(ts *telstate.TelescopeState) error {
		ts.Backend().SetImmutable(ctx, []byte("p"), pickled)
		_, err := ts.Get(ctx, "p")
		return err
	}
	t.Setenv(encoding.PickleEnv, "1")
	if err := load(telstate.New()); err != nil {
		t.Fatalf("pickles allowed by the environment: %v", err)
	}
	if err := load(telstate.New(telstate.WithAllowPickle(false))); !errors.Is(err, telstate.ErrDecode) {
		t.Fatalf("WithAllowPickle(false): %v", err)
	}
	t.Setenv(encoding.PickleEnv, "yes")
	ts := telstate.New()
	if ts.Err() == nil {
		t.Fatal("unknown environment value not reported")
	}
	if err := load(ts); !errors.Is(err, telstate.ErrDecode) {
		t.Fatalf("unknown environment value allowed pickles: %v", err)
	}
	// Immutable re-set compares the decoded pickle when allowed.
	ts = telstate.New(telstate.WithAllowPickle(true))
	ts.Backend().SetImmutable(ctx, []byte("p"), pickled)
	if err := ts.Set(ctx, "p", pyval.Str("hello")); err != nil {
		t.Fatalf("re-set equal to the pickled str: %v", err)
	}
}

func TestGetRangeDefaults(t *testing.T) {
	ctx := context.Background()
	ts := telstate.New()
	for i := 1; i <= 4; i++ {
		ts.Add(ctx, "s", pyval.IntOf(int64(i)), telstate.At(float64(i)))
	}
	// End alone: start = end, include_previous true.
	ss, _ := ts.GetRange(ctx, "s", telstate.End(math.Inf(1)))
	if len(ss) != 1 || ss[0].Timestamp != 4 {
		t.Fatalf("%v", ss)
	}
	ss, _ = ts.GetRange(ctx, "s", telstate.Start(2), telstate.IncludePrevious(false))
	if len(ss) != 3 {
		t.Fatalf("%v", ss)
	}
}

// Set, Add and SetIndexed encode small values into the same allocation
// as the key (and sub-key); what they store and report must not change.
func TestSharedKeyValueBuffers(t *testing.T) {
	ctx := context.Background()
	be := memory.New()
	ts := telstate.New(telstate.WithBackend(be)).View("v")
	values := []pyval.Value{pyval.Str("track"), pyval.Bytes("\x00\x01"), pyval.IntOf(-5), pyval.Float(1.5),
		pyval.Bool(true), pyval.None, pyval.Complex(1 + 2i), pyval.ScalarOf(int32(7)),
		pyval.Tuple{pyval.IntOf(1)}, pyval.ArrayOf([]float64{1, 2}), pyval.Str(strings.Repeat("x", 300))}
	for i, v := range values {
		want, err := encoding.Encode(v)
		if err != nil {
			t.Fatal(err)
		}
		sk := pyval.IntOf(int64(i))
		if err := ts.SetIndexed(ctx, "idx", sk, v); err != nil {
			t.Fatal(err)
		}
		if err := ts.SetIndexed(ctx, "idx", sk, v); err != nil {
			t.Fatalf("re-setting an equal value: %v", err)
		}
		got, ok, err := be.GetIndexed(ctx, []byte("v_idx"), []byte("\xff"+string(rune(i))))
		if err != nil || !ok || !bytes.Equal(got, want) {
			t.Fatalf("sub-key %d: stored %x, %v, %v; want %x", i, got, ok, err, want)
		}
		if err := ts.Add(ctx, "sensor", v, telstate.At(float64(i))); err != nil {
			t.Fatal(err)
		}
		key := "attr" + string(rune('a'+i))
		if err := ts.Set(ctx, key, v); err != nil {
			t.Fatal(err)
		}
		raw, err := be.Get(ctx, []byte("v_"+key))
		if err != nil || !bytes.Equal(raw.Value, want) {
			t.Fatalf("%s: stored %x, %v; want %x", key, raw.Value, err, want)
		}
		ss, err := be.GetRange(ctx, []byte("v_sensor"), float64(i), float64(i), false, true)
		if err != nil || len(ss) != 1 || !bytes.Equal(ss[0].Value, want) {
			t.Fatalf("sample %d: %v, %v", i, ss, err)
		}
		gv, err := ts.GetIndexed(ctx, "idx", sk)
		if err != nil || pyval.Repr(gv) != pyval.Repr(v) {
			t.Fatalf("GetIndexed: %v, %v", gv, err)
		}
	}
	err := ts.SetIndexed(ctx, "idx", pyval.IntOf(0), pyval.Str("other"))
	if !errors.Is(err, telstate.ErrImmutableKey) || !strings.Contains(err.Error(), "immutable key 'v_idx'[0] from 'track' to 'other'") {
		t.Errorf("changing a sub-key: %v", err)
	}
	err = ts.Set(ctx, "attra", pyval.Str("other"))
	if !errors.Is(err, telstate.ErrImmutableKey) || !strings.Contains(err.Error(), "immutable key 'v_attra' from 'track' to 'other'") {
		t.Errorf("changing an attribute: %v", err)
	}
	if err := ts.SetIndexed(ctx, "idx", pyval.List{}, pyval.Str("x")); !errors.Is(err, pyval.ErrUnhashable) {
		t.Errorf("list sub-key: %v", err)
	}
	if err := ts.SetIndexed(ctx, "idx", pyval.Str("\xff"), pyval.Str("x")); !errors.Is(err, encoding.ErrEncode) || !strings.Contains(err.Error(), "'v_idx'") {
		t.Errorf("invalid UTF-8 sub-key: %v", err)
	}
	if _, err := ts.GetIndexed(ctx, "idx", pyval.Str("\xff")); !errors.Is(err, encoding.ErrEncode) || !strings.Contains(err.Error(), "get_indexed 'v_idx'") {
		t.Errorf("GetIndexed with an invalid UTF-8 sub-key: %v", err)
	}
}
