package bench

import (
	"context"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/telstate"
)

func TestPercentile(t *testing.T) {
	lat := []time.Duration{1000, 2000, 3000, 4000, 100000}
	if p := percentile(lat, 0.5); p != 3 {
		t.Errorf("p50 = %v µs, want 3", p)
	}
	if p := percentile(lat, 0.99); p != 100 {
		t.Errorf("p99 = %v µs, want 100", p)
	}
	if p := percentile(nil, 0.5); p != 0 {
		t.Errorf("p50 of nothing = %v", p)
	}
}

// TestTelstateWorkloads runs every workload briefly on the memory backend
// and checks the counts it reports and the data it leaves.
func TestTelstateWorkloads(t *testing.T) {
	ctx := context.Background()
	for _, op := range TelstateOps {
		t.Run(op, func(t *testing.T) {
			ts := telstate.New()
			r, err := Telstate(ctx, ts, TelstateConfig{Op: op, N: 200, Clients: 3, RangeSize: 10, Batch: 50})
			if err != nil {
				t.Fatal(err)
			}
			if r.Op != op || r.N != 200 || r.Clients != 3 || r.OpsPerS <= 0 || r.P99us < r.P50us {
				t.Errorf("result %+v", r)
			}
			switch op {
			case "add", "add-batch":
				total := 0
				for c := 0; c < 3; c++ {
					s, err := ts.GetRange(ctx, "bench_"+op+"_"+string(rune('0'+c)), telstate.Start(0))
					if err != nil {
						t.Fatal(err)
					}
					total += len(s)
				}
				if op == "add" && total != 200 {
					t.Errorf("%d samples stored, want 200", total)
				}
				if op == "add-batch" && total != 200 { // 4 calls of 50 spread over 3 clients
					t.Errorf("%d samples stored, want 200", total)
				}
			case "range":
				if r.RangeSize != 10 {
					t.Errorf("range_size = %d", r.RangeSize)
				}
			}
		})
	}
	if _, err := Telstate(ctx, telstate.New(), TelstateConfig{Op: "nope", N: 1, Clients: 1}); err == nil {
		t.Error("unknown op accepted")
	}
	if _, err := Run(ctx, "x", 0, 1, nil); err == nil {
		t.Error("n=0 accepted")
	}
}
