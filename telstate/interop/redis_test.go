package interop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/internal/testenv"
	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/telstate"
	"github.com/sdpkit/sdpkit/telstate/encoding"
	"github.com/sdpkit/sdpkit/telstate/redis"
)

// redisState starts a redis-server and opens a Go telescope state on it.
func redisState(t *testing.T) (*testenv.RedisServer, *telstate.TelescopeState) {
	t.Helper()
	srv := testenv.Redis(t)
	b, err := redis.Open(context.Background(), srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return srv, telstate.New(telstate.WithBackend(b))
}

func writeJSON(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "in.json")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func sameKeys(t *testing.T, got, want []peerKey, what string) {
	t.Helper()
	if reflect.DeepEqual(normalise(t, got), normalise(t, want)) {
		return
	}
	for i := range want {
		if i >= len(got) || !reflect.DeepEqual(normalise(t, got[i]), normalise(t, want[i])) {
			g := "nothing"
			if i < len(got) {
				g = got[i].Key
			}
			t.Fatalf("%s: first difference at key %d: want %s, got %s", what, i, want[i].Key, g)
		}
	}
	t.Fatalf("%s: got %d keys, want %d", what, len(got), len(want))
}

// TestRedisGoWritesPythonReads: every value kind written by sdpkit as an
// attribute, sensor sample and indexed entry is read back by katsdptelstate
// from the same Redis database with identical bytes, and decodes.
func TestRedisGoWritesPythonReads(t *testing.T) {
	srv, ts := redisState(t)
	fillInto(t, ts)
	var got peerKeys
	runPeer(t, &got, "redis-read", srv.URL())
	if len(got.Undecodable) > 0 {
		t.Errorf("Python cannot decode: %v", got.Undecodable)
	}
	sameKeys(t, got.Keys, rawKeys(t, ts), "Python reading Go's writes")
}

// TestRedisPythonWritesGoReads: katsdptelstate writes the same values
// through its own encoder (each decoded to its Python object first); the
// bytes sdpkit then reads are the bytes sdpkit's encoder makes, and every
// value decodes in Go to the value it started as.
func TestRedisPythonWritesGoReads(t *testing.T) {
	srv, ts := redisState(t)
	ref := fillState(t) // the same data, encoded by Go, in memory
	want := rawKeys(t, ref)
	var res map[string]any
	runPeer(t, &res, "redis-write", srv.URL(), writeJSON(t, map[string]any{"keys": want}))
	sameKeys(t, rawKeys(t, ts), want, "Go reading Python's writes")

	ctx := context.Background()
	names, values := vectorValues(t)
	for _, name := range names {
		v, err := ts.Get(ctx, "attr_"+name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		enc1, _ := encoding.Encode(v)
		enc2, _ := encoding.Encode(values[name])
		if !bytes.Equal(enc1, enc2) {
			t.Errorf("%s: Go decodes Python's value as %s", name, pyval.Repr(v))
		}
	}
}

// rangeQuery is one get_range call, in peer.py's JSON form.
type rangeQuery struct {
	Key             string `json:"key"`
	St              any    `json:"st,omitempty"`
	Et              any    `json:"et,omitempty"`
	IncludePrevious *bool  `json:"include_previous,omitempty"`
	IncludeEnd      bool   `json:"include_end,omitempty"`
}

func jsonFloat(f float64) any {
	if math.IsNaN(f) || math.IsInf(f, 0) || (f == 0 && math.Signbit(f)) {
		return strconv.FormatFloat(f, 'g', -1, 64) // "NaN", "+Inf", "-0"
	}
	return f
}

// TestRedisGetRangeAgrees: the get_range matrix, run by both clients on
// one database, gives the same samples or the same error.
func TestRedisGetRangeAgrees(t *testing.T) {
	ctx := context.Background()
	srv, ts := redisState(t)
	for i, v := range []string{"a", "b", "c", "d"} {
		if err := ts.Add(ctx, "sensor", pyval.Str(v), telstate.At(float64(i+1))); err != nil {
			t.Fatal(err)
		}
	}
	// Two values at one timestamp: ordered by encoded bytes.
	for _, v := range []string{"track", "slew"} {
		if err := ts.Add(ctx, "sensor", pyval.Str(v), telstate.At(2.5)); err != nil {
			t.Fatal(err)
		}
	}
	if err := ts.Add(ctx, "at_zero", pyval.IntOf(0), telstate.At(0)); err != nil {
		t.Fatal(err)
	}
	if err := ts.Set(ctx, "attr", pyval.IntOf(1)); err != nil {
		t.Fatal(err)
	}
	if err := ts.SetIndexed(ctx, "idx", pyval.IntOf(1), pyval.IntOf(1)); err != nil {
		t.Fatal(err)
	}
	yes, no := true, false
	bounds := []float64{math.NaN(), -1, math.Copysign(0, -1), 0, 1, 1.5, 2, 2.5, 3.5, 4, 5, math.Inf(1)}
	var queries []rangeQuery
	var calls [][]telstate.RangeOption
	for _, key := range []string{"sensor", "at_zero"} {
		for _, st := range append([]float64{math.Inf(-1)}, bounds...) { // -Inf stands for "not given"
			for _, et := range append([]float64{math.Inf(-1)}, bounds...) {
				for _, prev := range []*bool{nil, &yes, &no} {
					for _, end := range []bool{false, true} {
						q := rangeQuery{Key: key, IncludePrevious: prev, IncludeEnd: end}
						var opts []telstate.RangeOption
						if !math.IsInf(st, -1) {
							q.St = jsonFloat(st)
							opts = append(opts, telstate.Start(st))
						}
						if !math.IsInf(et, -1) {
							q.Et = jsonFloat(et)
							opts = append(opts, telstate.End(et))
						}
						if prev != nil {
							opts = append(opts, telstate.IncludePrevious(*prev))
						}
						if end {
							opts = append(opts, telstate.IncludeEnd())
						}
						queries = append(queries, q)
						calls = append(calls, opts)
					}
				}
			}
		}
	}
	for _, key := range []string{"missing", "attr", "idx"} {
		queries = append(queries, rangeQuery{Key: key, St: 0.0})
		calls = append(calls, []telstate.RangeOption{telstate.Start(0)})
	}
	var results []struct {
		Samples [][2]any `json:"samples"` // [] when empty, as gs below
		Error   string   `json:"error"`
	}
	runPeer(t, &results, "redis-ranges", srv.URL(), writeJSON(t, queries))
	if len(results) != len(queries) {
		t.Fatalf("Python answered %d of %d queries", len(results), len(queries))
	}
	errClass := map[string]error{
		"KeyError":              telstate.ErrKeyNotFound,
		"ImmutableKeyError":     telstate.ErrImmutableKey,
		"InvalidTimestampError": telstate.ErrInvalidTimestamp,
	}
	bad := 0
	for i, q := range queries {
		got, err := ts.GetRangeEncoded(ctx, q.Key, calls[i]...)
		py := results[i]
		var mismatch string
		switch {
		case py.Error != "":
			if want, ok := errClass[py.Error]; !ok || !errors.Is(err, want) {
				mismatch = "Python raised " + py.Error + ", Go returned " + errString(err)
			}
		case err != nil:
			mismatch = "Go failed: " + err.Error()
		default:
			gs := [][2]any{}
			for _, s := range got {
				gs = append(gs, [2]any{hex.EncodeToString(s.Value), s.Timestamp})
			}
			if !reflect.DeepEqual(normalise(t, gs), normalise(t, py.Samples)) {
				mismatch = fmt.Sprintf("samples differ: Go %v, Python %v", gs, py.Samples)
			}
		}
		if mismatch != "" {
			bad++
			if bad <= 10 {
				qj, _ := json.Marshal(q)
				t.Errorf("get_range %s: %s", qj, mismatch)
			}
		}
	}
	t.Logf("%d get_range queries compared", len(queries))
}

func errString(err error) string {
	if err == nil {
		return "no error"
	}
	return err.Error()
}

// pyWaiter runs peer.py redis-wait in the background.
type pyWaiter struct {
	cmd    *exec.Cmd
	out    *bufio.Reader
	stderr bytes.Buffer
}

func startPyWait(t *testing.T, args ...string) *pyWaiter {
	t.Helper()
	py := testenv.Python(t, "katsdptelstate")
	w := &pyWaiter{cmd: exec.Command(py, append([]string{filepath.Join("testdata", "peer.py"), "redis-wait"}, args...)...)}
	w.cmd.Stderr = &w.stderr
	stdout, err := w.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.cmd.Process.Kill(); _ = w.cmd.Wait() })
	w.out = bufio.NewReader(stdout)
	line, err := w.out.ReadString('\n')
	if err != nil || line != `{"waiting": true}`+"\n" {
		t.Fatalf("peer wait did not start: %q %v\n%s", line, err, w.stderr.String())
	}
	return w
}

func (w *pyWaiter) result(t *testing.T) map[string]any {
	t.Helper()
	rest, _ := w.out.ReadString(0)
	if err := w.cmd.Wait(); err != nil {
		t.Fatalf("peer wait: %v\n%s", err, w.stderr.String())
	}
	var res map[string]any
	if err := json.Unmarshal([]byte(rest), &res); err != nil {
		t.Fatalf("peer wait printed %q: %v", rest, err)
	}
	return res
}

// awaitSubscriber waits until someone subscribes to key's update channel,
// so that a write after it really tests the wake-up, not the first check.
func awaitSubscriber(t *testing.T, srv *testenv.RedisServer, key string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		reply, err := srv.Do("PUBSUB", "NUMSUB", "update/"+key)
		if err != nil {
			t.Fatal(err)
		}
		if r, ok := reply.([]any); ok && len(r) == 2 && r[1] != int64(0) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("nobody subscribed to update/%s", key)
}

func mustEncode(t *testing.T, v pyval.Value) string {
	t.Helper()
	b, err := encoding.Encode(v)
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// TestRedisWaitsAcrossLanguages: Python's waits are woken by Go's writes
// and Go's waits by Python's.
func TestRedisWaitsAcrossLanguages(t *testing.T) {
	ctx := context.Background()
	srv, ts := redisState(t)

	t.Run("python wait_key woken by go add", func(t *testing.T) {
		target := pyval.Str("track")
		w := startPyWait(t, srv.URL(), "key", "py_waits_sensor", mustEncode(t, target), "20")
		awaitSubscriber(t, srv, "py_waits_sensor")
		if err := ts.Add(ctx, "py_waits_sensor", pyval.Str("slew"), telstate.At(10)); err != nil {
			t.Fatal(err)
		}
		if err := ts.Add(ctx, "py_waits_sensor", target, telstate.At(11)); err != nil {
			t.Fatal(err)
		}
		res := w.result(t)
		if res["ok"] != true {
			t.Fatalf("Python wait_key: %v", res)
		}
	})
	t.Run("python wait_indexed woken by go set_indexed", func(t *testing.T) {
		sub := pyval.Tuple{pyval.IntOf(1), pyval.Str("x")}
		target := pyval.Float(2.5)
		w := startPyWait(t, srv.URL(), "indexed", "py_waits_idx", mustEncode(t, sub), mustEncode(t, target), "20")
		awaitSubscriber(t, srv, "py_waits_idx")
		if err := ts.SetIndexed(ctx, "py_waits_idx", pyval.Str("other"), pyval.IntOf(0)); err != nil {
			t.Fatal(err)
		}
		if err := ts.SetIndexed(ctx, "py_waits_idx", sub, target); err != nil {
			t.Fatal(err)
		}
		res := w.result(t)
		if res["ok"] != true {
			t.Fatalf("Python wait_indexed: %v", res)
		}
	})
	t.Run("go wait_key woken by python add", func(t *testing.T) {
		done := make(chan error, 1)
		var seen float64
		go func() {
			wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			defer cancel()
			done <- ts.WaitKey(wctx, "go_waits_sensor", func(v pyval.Value, at *float64) bool {
				if at != nil {
					seen = *at
				}
				return pyval.Equal(v, pyval.IntOf(42))
			})
		}()
		awaitSubscriber(t, srv, "go_waits_sensor")
		spec := map[string]any{"keys": []peerKey{{
			Key: hex.EncodeToString([]byte("go_waits_sensor")), KeyType: "MUTABLE",
			Samples: [][2]any{{mustEncode(t, pyval.IntOf(42)), 123.5}},
		}}}
		var res map[string]any
		runPeer(t, &res, "redis-write", srv.URL(), writeJSON(t, spec))
		if err := <-done; err != nil {
			t.Fatalf("Go WaitKey: %v", err)
		}
		if seen != 123.5 {
			t.Errorf("condition saw timestamp %v, want 123.5", seen)
		}
	})
	t.Run("go wait_indexed woken by python set_indexed", func(t *testing.T) {
		done := make(chan error, 1)
		go func() {
			wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			defer cancel()
			done <- ts.WaitIndexed(wctx, "go_waits_idx", pyval.Str("m000"), nil)
		}()
		awaitSubscriber(t, srv, "go_waits_idx")
		spec := map[string]any{"keys": []peerKey{{
			Key: hex.EncodeToString([]byte("go_waits_idx")), KeyType: "INDEXED",
			Entries: [][2]string{{mustEncode(t, pyval.Str("m000")), mustEncode(t, pyval.Bytes("delay"))}},
		}}}
		var res map[string]any
		runPeer(t, &res, "redis-write", srv.URL(), writeJSON(t, spec))
		if err := <-done; err != nil {
			t.Fatalf("Go WaitIndexed: %v", err)
		}
	})
}

// TestRedisRDBAcrossLanguages: an RDB file that katsdptelstate's RDBWriter
// makes from Redis (Redis 7 DUMP payloads, which Python itself cannot read
// back) loads in Go; one that Go dumps from Redis loads in Python.
func TestRedisRDBAcrossLanguages(t *testing.T) {
	ctx := context.Background()
	srv, ts := redisState(t)
	fillInto(t, ts)
	want := rawKeys(t, ts)

	pyFile := filepath.Join(t.TempDir(), "from-python.rdb")
	var res struct {
		Written int `json:"keys_written"`
		Failed  int `json:"keys_failed"`
	}
	runPeer(t, &res, "redis-dump", srv.URL(), pyFile)
	if res.Failed != 0 || res.Written != len(want) {
		t.Fatalf("Python wrote %d keys, failed %d; want %d", res.Written, res.Failed, len(want))
	}
	fromPy := telstate.New()
	if _, err := fromPy.LoadFile(ctx, pyFile); err != nil {
		t.Fatal(err)
	}
	sameKeys(t, rawKeys(t, fromPy), want, "Go loading Python's dump of Redis")

	goFile := filepath.Join(t.TempDir(), "from-go.rdb")
	if _, err := ts.DumpFile(ctx, goFile); err != nil {
		t.Fatal(err)
	}
	var got peerKeys
	runPeer(t, &got, "read-rdb", goFile)
	sameKeys(t, got.Keys, want, "Python loading Go's dump of Redis")
}
