package connector

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/connector/exchange"
	"github.com/sdpkit/sdpkit/internal/vectors"
	"github.com/sdpkit/sdpkit/pyval"
)

// waitFor polls cond until it holds; the bound only keeps a broken test
// from hanging, it asserts nothing about speed.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func allDone(d *Device) bool {
	xs := d.Exchanges()
	for _, x := range xs {
		if x.Stats.State != exchange.StateDone {
			return false
		}
	}
	return len(xs) > 0
}

func example(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(vectors.Path(t, "connector", "examples/"+name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// quiet keeps device logs out of test output (go test -v shows them via
// SDP_TEST_LOG=1).
func quiet() Option {
	if os.Getenv("SDP_TEST_LOG") != "" {
		return func(*Device) {}
	}
	return WithLogger(slog.New(slog.DiscardHandler))
}

func newTestDevice(t *testing.T, opts ...Option) *Device {
	t.Helper()
	d := NewDevice(append([]Option{quiet()}, opts...)...)
	t.Cleanup(func() { _ = d.Shutdown(context.Background()) })
	return d
}

// Example 07 (in-memory sources and sinks) runs end to end: configured,
// started, every value delivered, stopped.
func TestExample07InMemory(t *testing.T) {
	ctx := context.Background()
	d := newTestDevice(t)
	if err := d.Configure(ctx, string(example(t, "07_in_memory_test.json"))); err != nil {
		t.Fatal(err)
	}
	if s := d.State(); s != Off {
		t.Fatalf("after Configure: %s, want OFF", s)
	}
	if err := d.Start(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if s := d.State(); s != On {
		t.Fatalf("after Start: %s, want ON", s)
	}
	waitFor(t, "the sources to be exhausted", func() bool { return allDone(d) })
	if got := d.Queues().Values("ints"); !slices.EqualFunc(got, []pyval.Value{pyval.IntOf(1), pyval.IntOf(2), pyval.IntOf(3)}, pyval.Equal) {
		t.Errorf("ints queue %v", got)
	}
	var strs []string
	for _, batch := range d.Queues().Values("strings") {
		l, ok := batch.(pyval.List)
		if !ok {
			t.Fatalf("strings batch %s, want a list", pyval.Repr(batch))
		}
		for _, v := range l {
			strs = append(strs, string(v.(pyval.Str)))
		}
	}
	slices.Sort(strs)
	if !slices.Equal(strs, []string{"a", "b", "c"}) {
		t.Errorf("strings %v, want a b c in batches", strs)
	}
	if err := d.Stop(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if s := d.State(); s != Off {
		t.Fatalf("after Stop: %s, want OFF", s)
	}
	// Start again: the exchanges are rebuilt and replay their data.
	if err := d.Start(ctx, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the second run", func() bool { return allDone(d) })
	if n := d.Queues().Len("ints"); n != 6 {
		t.Errorf("ints after two runs: %d values, want 6", n)
	}
}

// Examples that need Kafka or Tango fail with the "not available" error
// naming the kind and where it is; the empty ones leave the device in
// STANDBY.
func TestExamplesNotAvailable(t *testing.T) {
	want := map[string]string{
		"01_kafka_float_to_tango_scalar.json":         "exchanges[0].source: KafkaConsumerSource: not available in this build",
		"02_tango_array_to_kafka_with_timestamp.json": "exchanges[0].source: TangoSubscriptionSource: not available in this build",
		"03_pointing_sources_buffered_to_kafka.json":  "exchanges[0].source[0]: TangoPointingSubscriptionSource: not available in this build",
		"04_kafka_array_scatter_to_tango.json":        "exchanges[0].source: KafkaConsumerSource: not available in this build",
		"05_kafka_json_object_scatter_jmespath.json":  "exchanges[0].source: KafkaConsumerSource: not available in this build",
		"06_kafka_bytes_to_devencoded.json":           "exchanges[0].source: KafkaConsumerSource: not available in this build",
		"08_tango_to_remote_tango.json":               "exchanges[0].source: TangoSubscriptionSource: not available in this build",
		"09_grouped_exchanges_experimental.json":      `exchanges["pb-test-20240101-00000"][0].source: KafkaConsumerSource: not available in this build`,
		"10_empty.json":                               "",
		"11_null.json":                                "",
	}
	files, err := filepath.Glob(filepath.Join(vectors.Dir(t, "connector"), "examples", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("examples: %v", err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		if name == "07_in_memory_test.json" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			msg, ok := want[name]
			if !ok {
				t.Fatalf("no expectation for example %s", name)
			}
			d := newTestDevice(t)
			err := d.Configure(context.Background(), string(example(t, name)))
			if msg == "" {
				if err != nil || d.State() != Standby {
					t.Fatalf("Configure: %v, state %s; want STANDBY", err, d.State())
				}
				return
			}
			var na *NotAvailableError
			if !errors.As(err, &na) || !errors.Is(err, ErrNotAvailable) || err.Error() != msg {
				t.Fatalf("Configure: %v, want %q", err, msg)
			}
			if d.State() != Fault || !strings.Contains(d.Status(), msg) {
				t.Errorf("state %s, status %q: want FAULT showing the error", d.State(), d.Status())
			}
			if len(d.Attributes().Names()) != 0 {
				t.Errorf("attributes left behind: %v", d.Attributes().Names())
			}
			if err := d.Reset(context.Background(), ""); err != nil || d.State() != Standby {
				t.Errorf("Reset: %v, state %s", err, d.State())
			}
		})
	}
}

// The attribute sinks, fed by in-memory sources, set the device's
// attributes; the dtype flows from the sources through the pipe to the
// sink (a buffering pipe makes a spectrum attribute).
func TestAttributeSinks(t *testing.T) {
	ctx := context.Background()
	d := newTestDevice(t)
	cfg := `{"exchanges": [
	  {"dtype": "float64", "shape": [], "source": {"type": "InMemorySource", "data": [1.5, 2.5]},
	   "sink": {"type": "TangoLocalAttributeSink", "attribute_name": "last", "default_value": 0.0}},
	  {"dtype": "float64", "shape": [], "source": {"type": "InMemorySource", "data": [1.0, 2.0, 3.0]},
	   "pipe": {"type": "BufferWithTimePipe", "timespan": 3600},
	   "sink": {"type": "TangoLocalAttributeSink", "attribute_name": "batch"}},
	  {"dtype": "int64", "shape": [4], "source": {"type": "InMemorySource", "data": [[1, 2, 3, 4]]},
	   "sink": {"type": "TangoArrayScatterAttributeSink", "attribute_names": ["lo", "hi"]}},
	  {"dtype": "object", "source": {"type": "InMemorySource", "data": [{"a": {"b": 7}, "ok": true}]},
	   "sink": {"type": "TangoObjectScatterAttributeSink", "attributes": [
	     {"attribute_name": "b", "dtype": "int64", "path": "a.b", "filter": "ok"}]}}
	]}`
	if err := d.Configure(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if got := d.Attributes().Names(); !slices.Equal(got, []string{"last", "batch", "lo", "hi", "b"}) {
		t.Fatalf("attributes after Configure %v", got)
	}
	if err := d.Start(ctx, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the sources to be exhausted", func() bool { return allDone(d) })
	get := func(name string) pyval.Value {
		s, err := d.Attributes().Get(name)
		if err != nil {
			t.Fatal(err)
		}
		return s.Reading.Value
	}
	if v := get("last"); !pyval.Equal(v, pyval.Float(2.5)) {
		t.Errorf("last = %s", pyval.Repr(v))
	}
	if s, _ := d.Attributes().Get("batch"); s.Spec.Format() != "SPECTRUM" {
		t.Errorf("batch spec %+v, want a spectrum (the pipe's output shape)", s.Spec)
	} else if a, ok := s.Reading.Value.(*pyval.NDArray); !ok || a.Shape[0] != 3 {
		t.Errorf("batch = %s, want the three values", pyval.Repr(s.Reading.Value))
	}
	if lo, ok := get("lo").(*pyval.NDArray); !ok || lo.Shape[0] != 2 {
		t.Errorf("lo = %s", pyval.Repr(get("lo")))
	}
	if v := get("b"); !pyval.Equal(v, pyval.IntOf(7)) {
		t.Errorf("b = %s", pyval.Repr(v))
	}
	// Standby drops the configuration and its attributes.
	if err := d.Stop(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if err := d.Standby(ctx); err != nil {
		t.Fatal(err)
	}
	if d.State() != Standby || len(d.Attributes().Names()) != 0 {
		t.Errorf("after Standby: %s, attributes %v", d.State(), d.Attributes().Names())
	}
}

// A bad configuration puts the device in FAULT with the error in Status,
// and the process carries on: every problem is an error value.
func TestBadConfiguration(t *testing.T) {
	for _, tt := range []struct{ name, cfg, want string }{
		{"not json", `{"exchanges": [`, "configuration"},
		{"invalid descriptor", `{"exchanges": [{"source": {"type": "Nope"}}]}`, "exchanges[0]"},
		{"sink cannot be built", `{"exchanges": [{"dtype": "int64", "shape": [5], "source": {"type": "InMemorySource", "data": []},
			"sink": {"type": "TangoArrayScatterAttributeSink", "attribute_names": ["a", "b"]}}]}`, "exchanges[0].sink: TangoArrayScatterAttributeSink"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := newTestDevice(t)
			err := d.Configure(context.Background(), tt.cfg)
			if err == nil || d.State() != Fault || !strings.Contains(d.Status(), tt.want) {
				t.Errorf("Configure: %v; state %s, status %q; want FAULT mentioning %q", err, d.State(), d.Status(), tt.want)
			}
		})
	}
}
