//go:build tango

package tangoio

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/connector"
	"github.com/sdpkit/sdpkit/connector/descriptor"
	"github.com/sdpkit/sdpkit/connector/kafkaio"
	"github.com/sdpkit/sdpkit/internal/queuetest"
	"github.com/sdpkit/sdpkit/internal/tangopeer"
	"github.com/sdpkit/sdpkit/internal/testenv"
	"github.com/sdpkit/sdpkit/internal/vectors"
	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/tango"
)

// The shared examples 02, 03 and 08 end to end with real Tango: pytango
// device servers (tango/testdata/server.py, no database) stand in for the
// devices the examples name, and a Kafka broker (kfake, then a real
// broker shared by the test binary) for theirs. The
// examples are rewritten only where they name peers: device names become
// the peers' TRLs, Kafka servers and topics the test's broker and fresh
// topics. The Go device is built as `sdp connector run` builds it.

// exampleDevice builds a connector device with the default kinds plus
// Kafka and Tango.
func exampleDevice(t *testing.T) *connector.Device {
	t.Helper()
	f := connector.DefaultFactories()
	kafkaio.Register(f)
	Register(f)
	d := connector.NewDevice(connector.WithFactories(f), connector.WithLogger(slog.New(slog.DiscardHandler)),
		connector.WithStopTimeout(30*time.Second))
	t.Cleanup(func() { _ = d.Shutdown(context.Background()) })
	return d
}

// loadExample reads a shared example configuration as generic JSON.
func loadExample(t *testing.T, name string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(vectors.Path(t, "connector/examples", name))
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

// retargetExample rewrites every device_name through trls (each must be
// known) and points Kafka sinks at k with a fresh topic per topic name; it
// returns old → new topic names.
func retargetExample(t *testing.T, cfg any, trls map[string]string, k testenv.KafkaBroker) map[string]string {
	t.Helper()
	return testenv.RetargetKafka(t, k, cfg, func(v map[string]any) {
		if name, ok := v["device_name"].(string); ok {
			trl, known := trls[name]
			if !known {
				t.Fatalf("example names device %s, which the test does not run", name)
			}
			v["device_name"] = trl
		}
	})
}

// runExample configures and starts d with cfg.
func runExample(t *testing.T, d *connector.Device, cfg any) {
	t.Helper()
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := d.Configure(ctx, string(b)); err != nil {
		t.Fatalf("configure: %v", err)
	}
	if err := d.Start(ctx, ""); err != nil {
		t.Fatalf("start: %v (state %s, status %q)", err, d.State(), d.Status())
	}
}

// pusher returns a function that sets and pushes a value of a server.py
// attribute (its Push command).
func pusher(t *testing.T, trl string) func(attr string, v any) {
	t.Helper()
	ctx := context.Background()
	ctl, err := tango.Dial(ctx, trl, tango.WithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ctl.Close() })
	return func(attr string, v any) {
		t.Helper()
		b, _ := json.Marshal(map[string]any{"attr": attr, "value": v})
		if _, err := ctl.CommandInout(ctx, "Push", pyval.Str(b)); err != nil {
			t.Fatalf("Push %s to %s: %v", attr, trl, err)
		}
	}
}

// waitIn waits until the device's exchanges have accepted n values.
func waitIn(t *testing.T, d *connector.Device, n uint64) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var in uint64
		for _, x := range d.Exchanges() {
			in += x.Stats.In
		}
		if in >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d values accepted, want %d (state %s, status %q)", in, n, d.State(), d.Status())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func outTotal(d *connector.Device) uint64 {
	var out uint64
	for _, x := range d.Exchanges() {
		out += x.Stats.Out
	}
	return out
}

func stopDevice(t *testing.T, d *connector.Device) {
	t.Helper()
	if err := d.Stop(context.Background(), ""); err != nil {
		t.Fatalf("stop: %v", err)
	}
}

// Example 02: the change events of a pytango device's float64[3]
// achievedPointing attribute ([unix ms, az, el]) reach Kafka as npy
// records, each stamped with its element 0 (timestamp_options.slices).
func TestExample02TangoArrayToKafka(t *testing.T) {
	testenv.EachKafka(t, func(t *testing.T, k testenv.KafkaBroker) {
		const dev = "mid-dish/dish-manager/SKA001"
		trl := tangopeer.StartServer(t, freePort(t), dev)
		push := pusher(t, trl)
		cfg := loadExample(t, "02_tango_array_to_kafka_with_timestamp.json")
		topics := retargetExample(t, cfg, map[string]string{dev: trl}, k)

		base := float64(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).UnixMilli())
		const n = 20
		var want []pyval.Value
		for i := range n + 1 {
			v := []float64{base + float64(i*100), float64(i), 45}
			want = append(want, pyval.ArrayOf(v, 3))
		}
		// The subscription emits the current value first: the first record.
		push("achievedPointing", []float64{base, 0, 45})
		d := exampleDevice(t)
		runExample(t, d, cfg)
		waitIn(t, d, 1)
		for i := 1; i <= n; i++ {
			push("achievedPointing", []float64{base + float64(i*100), float64(i), 45})
		}
		out := queuetest.Consume(t, k.Brokers(), topics["actual-pointing-ska001"], "npy", pyval.Float64, []int{3}, queuetest.AtLeast(n+1))
		for i, m := range out {
			if !pyval.Equal(m.Value, want[i]) {
				t.Fatalf("record %d = %s, want %s", i, pyval.Repr(m.Value), pyval.Repr(want[i]))
			}
			if w := time.UnixMilli(int64(base) + int64(i*100)); !m.Timestamp.Equal(w) {
				t.Errorf("record %d timestamp %v, want %v (element 0)", i, m.Timestamp, w)
			}
		}
		stopDevice(t, d)
	})
}

// Example 03: three pytango dishes' [ts, az, el] pointing attributes, each
// through a TangoPointingSubscriptionSource (SKA063's not stateless), are
// buffered for 1 s windows and written to Kafka as npy batches of
// structured records stamped with the batch's latest ts. Every pushed value
// is in exactly one batch.
func TestExample03PointingToKafka(t *testing.T) {
	testenv.EachKafka(t, func(t *testing.T, k testenv.KafkaBroker) {
		ants := []string{"SKA001", "SKA002", "SKA063"}
		trls := map[string]string{}
		pushes := map[string]func(string, any){}
		for _, ant := range ants {
			dev := "mid-dish/dish-manager/" + ant
			trls[dev] = tangopeer.StartServer(t, freePort(t), dev)
			pushes[ant] = pusher(t, trls[dev])
		}
		cfg := loadExample(t, "03_pointing_sources_buffered_to_kafka.json")
		topics := retargetExample(t, cfg, trls, k)
		b, _ := json.Marshal(cfg)
		parsed, err := descriptor.Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		dt := parsed.All()[0].DType.NumPy

		// Timestamps are TAI seconds since 2000-01-01 (tangoio.PointingDType).
		const perAnt = 15
		// A real broker refuses record times far in the future: start a
		// minute ago, whole seconds.
		ts0 := float64(time.Now().Add(-time.Minute).Unix() - time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Unix())
		tsOf := func(a, i int) float64 { return ts0 + float64(i)*0.02 + float64(a)*0.001 }
		for a, ant := range ants {
			pushes[ant]("achievedPointing", []float64{tsOf(a, 0), 0, float64(a)})
		}
		d := exampleDevice(t)
		runExample(t, d, cfg)
		waitIn(t, d, uint64(len(ants)))
		for i := 1; i <= perAnt; i++ {
			for a, ant := range ants {
				pushes[ant]("achievedPointing", []float64{tsOf(a, i), float64(i), float64(a)})
			}
		}
		waitIn(t, d, uint64(len(ants)*(perAnt+1)))
		stopDevice(t, d) // flushes the last window
		out := queuetest.Consume(t, k.Brokers(), topics["actual-pointing"], "npy", dt, nil, queuetest.AtLeast(int(outTotal(d))))

		epoch := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
		seen := map[string]int{}
		for _, m := range out {
			arr, ok := m.Value.(*pyval.NDArray)
			if !ok {
				t.Fatalf("record %s, want a structured array", pyval.Repr(m.Value))
			}
			names := structField(t, arr, "antenna_name").([]string)
			az := structField(t, arr, "az").([]float64)
			el := structField(t, arr, "el").([]float64)
			ts := structField(t, arr, "ts").([]int64)
			for j := range names {
				a := slices.Index(ants, names[j])
				if a < 0 || el[j] != float64(a) {
					t.Fatalf("record %s/%g el %g: not from a dish of the test", names[j], az[j], el[j])
				}
				// Nanosecond rounding of float seconds: compare to 1 µs.
				if w := epoch + int64(tsOf(a, int(az[j]))*1e9); ts[j] < w-1000 || ts[j] > w+1000 {
					t.Errorf("record %s/%g ts %d, want %d", names[j], az[j], ts[j], w)
				}
				seen[fmt.Sprintf("%s/%g", names[j], az[j])]++
			}
			// datetime64 values are TAI; the Kafka record time is UTC.
			want := time.UnixMilli(int64(kafkaio.TAIToUTC(float64(slices.Max(ts) / 1e6))))
			if !m.Timestamp.Equal(want) {
				t.Errorf("batch of %d stamped %v, want the max ts %v", len(ts), m.Timestamp, want)
			}
		}
		if len(seen) != len(ants)*(perAnt+1) {
			t.Fatalf("output holds %d distinct records in %d batches, want %d", len(seen), len(out), len(ants)*(perAnt+1))
		}
		for r, c := range seen {
			if c != 1 {
				t.Errorf("record %s written %d times", r, c)
			}
		}
	})
}

// structField returns a field of a structured array as []string, []float64
// or []int64 (datetime64).
func structField(t *testing.T, a *pyval.NDArray, name string) any {
	t.Helper()
	f, err := a.Field(name)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	switch name {
	case "antenna_name":
		v, err = f.Strings()
	case "ts":
		v, err = f.Int64s()
	default:
		v, err = f.Float64s()
	}
	if err != nil {
		t.Fatalf("field %s: %v", name, err)
	}
	return v
}

// Example 08: the change events of one pytango device's bool attribute
// flag are written to another pytango device's mirrored_flag.
func TestExample08TangoToRemoteTango(t *testing.T) {
	src := tangopeer.StartServer(t, freePort(t), "test/source/1")
	dst := tangopeer.StartServer(t, freePort(t), "test/target/1")
	push := pusher(t, src)
	cfg := loadExample(t, "08_tango_to_remote_tango.json")
	retargetExample(t, cfg, map[string]string{"test/source/1": src, "test/target/1": dst}, nil)

	ctx := context.Background()
	target, err := tango.Dial(ctx, dst, tango.WithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	mirrored := func(want bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			r, err := target.ReadAttribute(ctx, "mirrored_flag")
			if err == nil && pyval.Equal(r.Value, pyval.Bool(want)) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("mirrored_flag never became %v (last read %v, %v)", want, r, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	d := exampleDevice(t)
	runExample(t, d, cfg)
	waitIn(t, d, 1) // the current value (false)
	for _, v := range []bool{true, false, true} {
		push("flag", v)
		mirrored(v)
	}
	stopDevice(t, d)
	if out := outTotal(d); out < 4 {
		t.Errorf("%d values written to the remote attribute, want at least 4", out)
	}
}
