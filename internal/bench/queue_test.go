package bench

import (
	"context"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/dataqueue"
	"github.com/sdpkit/sdpkit/internal/testenv"
)

func TestMain(m *testing.M) { testenv.MainWithKafka(m) }

// TestQueueModes runs every mode briefly against kfake and the real Kafka
// broker and checks the figures are filled in.
func TestQueueModes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		start func(t *testing.T) testenv.KafkaBroker
	}{
		{"kfake", func(t *testing.T) testenv.KafkaBroker { return testenv.KFake(t) }},
		{"kafka", func(t *testing.T) testenv.KafkaBroker { return testenv.SharedKafka(t) }},
	} {
		t.Run(tc.name, func(t *testing.T) { testQueueModes(t, tc.start(t).Brokers()) })
	}
}

func testQueueModes(t *testing.T, brokers []string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cases := []QueueConfig{
		{Mode: "produce", N: 200, Size: 100, Clients: 2},
		{Mode: "produce", N: 50, Size: 10, Clients: 1, Acks: dataqueue.AcksLeader, Encoding: "utf-8"},
		{Mode: "consume", N: 200, Size: 100, Clients: 1, Encoding: "ascii"},
		{Mode: "consume", N: 200, Size: 100, Clients: 2},
		{Mode: "roundtrip", N: 20, Size: 100, Clients: 1},
	}
	for _, cfg := range cases {
		t.Run(cfg.Mode, func(t *testing.T) {
			cfg.Brokers = brokers
			r, err := Queue(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if r.Tool != "sdpkit" || r.Mode != cfg.Mode || r.N != cfg.N || r.MsgsPerS <= 0 || r.MBPerS <= 0 || r.Acks != AcksName(cfg.Acks) {
				t.Errorf("result %+v", r)
			}
			if (cfg.Mode != "consume") != (r.P50us > 0 && r.P99us >= r.P50us) {
				t.Errorf("latencies for %s: p50 %v p99 %v", cfg.Mode, r.P50us, r.P99us)
			}
		})
	}
	if _, err := Queue(ctx, QueueConfig{Brokers: brokers, Mode: "sideways", N: 1, Clients: 1}); err == nil {
		t.Error("unknown mode accepted")
	}
}

// TestConnectorModes moves a few records through each connector mode and
// sink on kfake and checks the figures are filled in.
func TestConnectorModes(t *testing.T) {
	brokers := testenv.KFake(t).Brokers()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, mode := range ConnectorModes {
		for _, snk := range ConnectorSinks {
			for _, enc := range []string{"msgpack_numpy", "carray"} {
				t.Run(mode+"/"+snk+"/"+enc, func(t *testing.T) {
					r, err := Connector(ctx, ConnectorConfig{Brokers: brokers, Mode: mode, Sink: snk, N: 300, Latency: 50, Encoding: enc})
					if err != nil {
						t.Fatal(err)
					}
					if r.Op != "connector" || r.Layer != mode || r.Sink != snk || r.N != 300 || r.OpsPerS <= 0 || r.Elapsed <= 0 {
						t.Errorf("result %+v", r)
					}
					if r.LatencyN != 50 || r.P50us <= 0 || r.P99us < r.P50us {
						t.Errorf("latency: %d records, p50 %v µs, p99 %v µs", r.LatencyN, r.P50us, r.P99us)
					}
				})
			}
		}
	}
	for _, bad := range []ConnectorConfig{{Mode: "sideways", N: 1}, {Mode: "engine", Sink: "nowhere", N: 1}} {
		bad.Brokers = brokers
		if _, err := Connector(ctx, bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
