package bench

import (
	"context"
	"fmt"
	"strconv"

	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/telstate"
)

// TelstateOps are the workloads of TelstateBench. bench/telstate_bench.py
// runs the same ones with katsdptelstate.
var TelstateOps = []string{"add", "add-batch", "get", "range", "set-indexed", "get-indexed"}

// TelstateConfig describes one telescope-state benchmark run.
type TelstateConfig struct {
	Op        string
	N         int // operations (samples for add-batch)
	Clients   int
	RangeSize int // samples returned per range op
	Batch     int // samples per call for add-batch
	Prefix    string
}

// Telstate runs one workload against ts, after preparing its data (not
// timed). Keys are named Prefix + op + client and are deleted first.
//
//   - add: each op adds one float sample to the client's sensor.
//   - add-batch: each call adds Batch samples with AddSamples (pipelined
//     on Redis); N counts samples.
//   - get: each op reads the latest value of a 1000-sample sensor.
//   - range: each op reads RangeSize consecutive samples from a sensor of
//     10×RangeSize samples (at least 1000).
//   - set-indexed: each op sets a new sub-key of the client's indexed key.
//   - get-indexed: each op reads one of 1000 sub-keys.
func Telstate(ctx context.Context, ts *telstate.TelescopeState, cfg TelstateConfig) (Result, error) {
	if cfg.Prefix == "" {
		cfg.Prefix = "bench_"
	}
	key := func(c int) string { return cfg.Prefix + cfg.Op + "_" + strconv.Itoa(c) }
	for c := 0; c < cfg.Clients; c++ {
		if err := ts.Delete(ctx, key(c)); err != nil {
			return Result{}, err
		}
	}
	shared := cfg.Prefix + cfg.Op + "_shared"
	if err := ts.Delete(ctx, shared); err != nil {
		return Result{}, err
	}
	fill := func(n int) error {
		samples := make([]telstate.Sample, n)
		for i := range samples {
			samples[i] = telstate.Sample{Value: pyval.Float(float64(i)), Timestamp: float64(i)}
		}
		return ts.AddSamples(ctx, shared, samples)
	}
	var op OpFunc
	switch cfg.Op {
	case "add":
		op = func(ctx context.Context, c, i int) (int, error) {
			return 1, ts.Add(ctx, key(c), pyval.Float(float64(i)), telstate.At(float64(i)))
		}
	case "add-batch":
		b := max(cfg.Batch, 1)
		calls := (cfg.N + b - 1) / b
		op = func(ctx context.Context, c, i int) (int, error) {
			samples := make([]telstate.Sample, b)
			for j := range samples {
				t := float64(i*b + j)
				samples[j] = telstate.Sample{Value: pyval.Float(t), Timestamp: t}
			}
			return b, ts.AddSamples(ctx, key(c), samples)
		}
		r, err := Run(ctx, cfg.Op, calls, cfg.Clients, op)
		r.Batch = b
		return r, err
	case "get":
		if err := fill(1000); err != nil {
			return Result{}, err
		}
		op = func(ctx context.Context, c, i int) (int, error) {
			_, err := ts.Get(ctx, shared)
			return 1, err
		}
	case "range":
		k := max(cfg.RangeSize, 1)
		total := max(10*k, 1000)
		if err := fill(total); err != nil {
			return Result{}, err
		}
		op = func(ctx context.Context, c, i int) (int, error) {
			st := float64((i * 7919) % (total - k + 1))
			s, err := ts.GetRange(ctx, shared, telstate.Start(st), telstate.End(st+float64(k)))
			if err == nil && len(s) != k {
				err = fmt.Errorf("range returned %d samples, want %d", len(s), k)
			}
			return 1, err
		}
	case "set-indexed":
		op = func(ctx context.Context, c, i int) (int, error) {
			return 1, ts.SetIndexed(ctx, key(c), pyval.IntOf(int64(i)), pyval.Float(float64(i)))
		}
	case "get-indexed":
		for i := 0; i < 1000; i++ {
			if err := ts.SetIndexed(ctx, shared, pyval.IntOf(int64(i)), pyval.Float(float64(i))); err != nil {
				return Result{}, err
			}
		}
		op = func(ctx context.Context, c, i int) (int, error) {
			_, err := ts.GetIndexed(ctx, shared, pyval.IntOf(int64(i%1000)))
			return 1, err
		}
	default:
		return Result{}, fmt.Errorf("bench: unknown telstate op %q (want one of %v)", cfg.Op, TelstateOps)
	}
	r, err := Run(ctx, cfg.Op, cfg.N, cfg.Clients, op)
	if cfg.Op == "range" {
		r.RangeSize = max(cfg.RangeSize, 1)
	}
	return r, err
}
