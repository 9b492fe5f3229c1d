package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sdpkit/sdpkit/internal/bench"
	"github.com/sdpkit/sdpkit/telstate"
)

func newBenchCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "bench",
		Short: "Measure throughput and latency against real servers",
	}
	c.AddCommand(newBenchTelstateCmd())
	return c
}

func newBenchTelstateCmd() *cobra.Command {
	var db string
	cfg := bench.TelstateConfig{}
	c := &cobra.Command{
		Use:   "telstate",
		Short: "Benchmark telescope-state operations; prints one JSON object",
		Long: `Runs one telescope-state workload and prints one JSON object:
{"op", "n", "clients", "ops_per_s", "p50_us", "p99_us", ...}.

--db is a Redis URL or host:port (or an .rdb path, or nothing, for the
in-memory backend). The workload's keys (bench_<op>_*) are deleted first and
left behind. bench/telstate-vs-python.sh runs the same workloads with
Python's katsdptelstate against the same server.

Ops: add (one sensor sample per call), add-batch (--batch samples per call,
pipelined on Redis; --n counts samples), get (latest of a 1000-sample
sensor), range (--range-size samples per call), set-indexed (a new sub-key
per call), get-indexed (one of 1000 sub-keys).`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			ts := telstate.New()
			if db != "" {
				s, err := openSource(c.Context(), db, true, false, c.ErrOrStderr())
				if err != nil {
					return err
				}
				defer s.Close()
				ts = s.ts
			}
			r, err := bench.Telstate(c.Context(), ts, cfg)
			if err != nil {
				return err
			}
			out, err := json.Marshal(r)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(c.OutOrStdout(), "%s\n", out)
			return err
		},
	}
	c.Flags().StringVar(&db, "db", "", "Redis URL or host:port (default: in-memory backend)")
	c.Flags().StringVar(&cfg.Op, "op", "add", fmt.Sprintf("workload: one of %v", bench.TelstateOps))
	c.Flags().IntVar(&cfg.N, "n", 10000, "number of operations (samples for add-batch)")
	c.Flags().IntVar(&cfg.Clients, "clients", 1, "concurrent clients (goroutines sharing one connection pool)")
	c.Flags().IntVar(&cfg.RangeSize, "range-size", 100, "samples per range query")
	c.Flags().IntVar(&cfg.Batch, "batch", 1000, "samples per add-batch call")
	return c
}
