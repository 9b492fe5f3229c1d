package telstateio

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/sdpkit/sdpkit/connector/exchange"
	"github.com/sdpkit/sdpkit/internal/testenv"
	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/telstate"
	"github.com/sdpkit/sdpkit/telstate/redis"
)

func runPeer(t *testing.T, args ...string) []byte {
	t.Helper()
	py := testenv.Python(t, "katsdptelstate", "numpy")
	cmd := exec.Command(py, append([]string{filepath.Join("testdata", "peer.py")}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("peer.py %v: %v\n%s", args, err, stderr.String())
	}
	return stdout.Bytes()
}

// TestInteropPythonWriter: katsdptelstate adds samples to a shared
// redis-server while a SensorSource follows the key: every sample is
// emitted once, in order (the three sharing a timestamp in any order), and
// decodes to the value Python wrote. Then Python reads back what a Sink
// wrote.
func TestInteropPythonWriter(t *testing.T) {
	const n, t0 = 400, 1.7e9
	ctx := context.Background()
	testenv.Python(t, "katsdptelstate", "numpy") // skip early without a peer
	srv := testenv.Redis(t)
	b, err := redis.Open(ctx, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ts := telstate.New(telstate.WithBackend(b))
	mustAdd(t, ts, "py_sensor", pyval.Str("history"), 1) // present at Start: not emitted

	src, err := NewSensorSource(ts, "py_sensor")
	if err != nil {
		t.Fatal(err)
	}
	queues := exchange.NewMemoryQueues()
	reader := newExchange(t, src, exchange.NewInMemorySink(queues, "out"))
	stop := runInBackground(t, reader)

	runPeer(t, "write", srv.URL(), "py_sensor", strconv.Itoa(n), strconv.FormatFloat(t0, 'g', -1, 64))
	waitFor(t, "the samples written by Python", func() bool { return queues.Len("out") >= n+4 })
	if err := stop(); err != nil {
		t.Errorf("reader Run: %v", err)
	}
	got := queues.Values("out")
	sameValues(t, "in time order", got[:n], payloads(n))
	same := []string{}
	for _, v := range got[n : n+3] {
		s, _ := pyval.AsString(v)
		same = append(same, s)
	}
	slices.Sort(same)
	if !slices.Equal(same, []string{"same-a", "same-b", "same-c"}) {
		t.Errorf("samples sharing a timestamp: %q", same)
	}
	sameValues(t, "after them", got[n+3:], strs("end"))

	// The other way: our Sink writes, katsdptelstate reads.
	sink, err := NewSink(ts, "go_sensor", WithNow(func() float64 { return t0 }))
	if err != nil {
		t.Fatal(err)
	}
	writer := newExchange(t, exchange.NewInMemorySource(ints(0, 50), 0), sink)
	if err := writer.Run(ctx); err != nil {
		t.Fatal(err)
	}
	_ = writer.Stop(ctx)
	var read [][2]json.Number
	dec := json.NewDecoder(bytes.NewReader(runPeer(t, "read", srv.URL(), "go_sensor")))
	dec.UseNumber()
	if err := dec.Decode(&read); err != nil {
		t.Fatal(err)
	}
	if len(read) != 50 {
		t.Fatalf("Python read %d samples, want 50", len(read))
	}
	prev := 0.0
	for i, r := range read {
		tf, _ := r[0].Float64()
		if v, _ := r[1].Int64(); v != int64(i) || !(tf > prev) {
			t.Errorf("Python's sample %d: %v, want value %d after time %v", i, r, i, prev)
		}
		prev = tf
	}
}
