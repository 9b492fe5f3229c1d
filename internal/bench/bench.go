// Package bench runs the workloads behind `sdp bench`: a fixed number of
// operations spread over concurrent clients, timing each one, reported as
// one JSON object per run so that the same workload run by a Python peer
// can be compared line by line.
package bench

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"
)

// Result is one run's figures, in the JSON form `sdp bench` prints.
type Result struct {
	Op        string  `json:"op"`
	Layer     string  `json:"layer,omitempty"` // config: LayerSDP or LayerRaw
	N         int     `json:"n"`
	Clients   int     `json:"clients"`
	OpsPerS   float64 `json:"ops_per_s"`
	P50us     float64 `json:"p50_us"`
	P99us     float64 `json:"p99_us"`
	Batch     int     `json:"batch,omitempty"`
	RangeSize int     `json:"range_size,omitempty"`
	Elapsed   float64 `json:"elapsed_s"`
}

// OpFunc performs operation i (0 ≤ i < n) for client c and reports how
// many logical operations it did (more than 1 for batches).
type OpFunc func(ctx context.Context, c, i int) (int, error)

// Run calls op n times in total, spread evenly over clients goroutines
// (client c does operations c, c+clients, …), timing each call. Latency
// percentiles are per call; ops_per_s counts logical operations over the
// wall time of the whole run.
func Run(ctx context.Context, name string, n, clients int, op OpFunc) (Result, error) {
	if clients < 1 || n < 1 {
		return Result{}, fmt.Errorf("bench: need n ≥ 1 and clients ≥ 1 (got n=%d, clients=%d)", n, clients)
	}
	lat := make([][]time.Duration, clients)
	done := make([]int, clients)
	errs := make([]error, clients)
	var wg sync.WaitGroup
	start := time.Now()
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			l := make([]time.Duration, 0, n/clients+1)
			for i := c; i < n; i += clients {
				t0 := time.Now()
				k, err := op(ctx, c, i)
				l = append(l, time.Since(t0))
				if err != nil {
					errs[c] = fmt.Errorf("client %d, operation %d: %w", c, i, err)
					break
				}
				done[c] += k
			}
			lat[c] = l
		}(c)
	}
	wg.Wait()
	elapsed := time.Since(start)
	for _, err := range errs {
		if err != nil {
			return Result{}, err
		}
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	total := 0
	for _, d := range done {
		total += d
	}
	return Result{
		Op: name, N: total, Clients: clients,
		OpsPerS: round(float64(total) / elapsed.Seconds()),
		P50us:   round(percentile(all, 0.50)),
		P99us:   round(percentile(all, 0.99)),
		Elapsed: round(elapsed.Seconds()),
	}, nil
}

// percentile returns the q-quantile of sorted latencies in microseconds
// (nearest rank).
func percentile(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	i = max(0, min(i, len(sorted)-1))
	return float64(sorted[i].Nanoseconds()) / 1e3
}

func round(f float64) float64 { return math.Round(f*100) / 100 }

// roundSig rounds f to 4 significant digits: rates far below 1 (MB/s of a
// tiny test run) keep their value instead of rounding to 0.
func roundSig(f float64) float64 {
	if f == 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return f
	}
	scale := math.Pow(10, 3-math.Floor(math.Log10(math.Abs(f))))
	return math.Round(f*scale) / scale
}
