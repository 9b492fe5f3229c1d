package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/connector"
	"github.com/sdpkit/sdpkit/connector/kafkaio"
	"github.com/sdpkit/sdpkit/connector/telstateio"
	"github.com/sdpkit/sdpkit/dataqueue"
	"github.com/sdpkit/sdpkit/dataqueue/encoding"
	"github.com/sdpkit/sdpkit/internal/testenv"
	"github.com/sdpkit/sdpkit/internal/vectors"
	"github.com/sdpkit/sdpkit/pyval"
)

func TestMain(m *testing.M) { testenv.MainWithKafka(m) }

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// newDevice builds a device with the factories `sdp connector run` uses:
// the default kinds plus Kafka and telstate. kopts go to kafkaio.Register.
func newDevice(t *testing.T, kopts ...kafkaio.Option) *connector.Device {
	t.Helper()
	f := connector.DefaultFactories()
	kafkaio.Register(f, kopts...)
	stores := telstateio.NewStores()
	telstateio.Register(f, stores)
	d := connector.NewDevice(connector.WithFactories(f), connector.WithLogger(quietLogger()), connector.WithStopTimeout(30*time.Second))
	t.Cleanup(func() {
		_ = d.Shutdown(context.Background())
		_ = stores.Close()
	})
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

// retarget points every Kafka source and sink of a configuration at the
// test's broker with fresh topics (testenv.RetargetKafka).
func retarget(t *testing.T, k testenv.KafkaBroker, cfg any) map[string]string {
	t.Helper()
	return testenv.RetargetKafka(t, k, cfg, nil)
}

func marshal(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// exchangeOf returns the first exchange of the example's list form.
func exchangeOf(cfg map[string]any, i int) map[string]any {
	return cfg["exchanges"].([]any)[i].(map[string]any)
}

// produce sends values to topic with our data-queue producer, encoded as
// the connector would read them (encoding.NewConnectorRegistry).
func produce(t *testing.T, k testenv.KafkaBroker, topic, enc string, dt pyval.DType, shape []int, values ...pyval.Value) {
	t.Helper()
	p, err := dataqueue.NewProducer(k.Brokers(), dataqueue.WithTopic(topic), dataqueue.WithEncoding(enc),
		dataqueue.WithRegistry(encoding.NewConnectorRegistry(dt, shape)))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	if _, err := p.SendMany(testCtx(t), values); err != nil {
		t.Fatalf("producing to %s: %v", topic, err)
	}
}

// waitFor polls cond until it holds; the device's status is shown on failure.
func waitFor(t *testing.T, d *connector.Device, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; state %s, status %q, exchanges %+v", what, d.State(), d.Status(), d.Exchanges())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// outTotal sums the values written to the sinks of a group ("" for all).
func outTotal(d *connector.Device, group string) (in, out uint64) {
	for _, x := range d.Exchanges() {
		if group == "" || x.Group == group {
			in += x.Stats.In
			out += x.Stats.Out
		}
	}
	return in, out
}

// attr returns an attribute's current value.
func attr(t *testing.T, d *connector.Device, name string) pyval.Value {
	t.Helper()
	s, err := d.Attributes().Get(name)
	if err != nil {
		t.Fatalf("attribute %s: %v", name, err)
	}
	return s.Reading.Value
}

// attrIs waits until an attribute holds want.
func attrIs(t *testing.T, d *connector.Device, name string, want pyval.Value) {
	t.Helper()
	waitFor(t, d, name+" = "+pyval.Repr(want), func() bool {
		s, err := d.Attributes().Get(name)
		return err == nil && pyval.Equal(s.Reading.Value, want)
	})
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
