package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sdpkit/sdpkit/config/etcd"
	"github.com/sdpkit/sdpkit/dataqueue"
	"github.com/sdpkit/sdpkit/internal/bench"
	"github.com/sdpkit/sdpkit/telstate"
)

func newBenchCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "bench",
		Short: "Measure throughput and latency against real servers",
	}
	c.AddCommand(newBenchTelstateCmd(), newBenchConfigCmd(), newBenchQueueCmd(), newBenchConnectorCmd())
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

func newBenchConfigCmd() *cobra.Command {
	var endpoints []string
	var ops string
	var raw, both bool
	cfg := bench.ConfigConfig{}
	c := &cobra.Command{
		Use:   "config",
		Short: "Benchmark configuration-database operations on etcd; prints one JSON object per op",
		Long: `Runs configuration-database workloads against etcd and prints one JSON
object per run: {"op", "layer", "n", "clients", "ops_per_s", "p50_us",
"p99_us", ...}. layer is "sdp" (the config layer) or, with --raw, "raw":
the same requests made with the bare etcd client, so the layer's cost shows
as a ratio. --both runs the layer and then raw for each op and adds a line
{"op", "clients", "ratio_ops_per_s", "ratio_p50", "ratio_p99"} (sdp
divided by raw: throughput ≥ 1 and latencies ≤ 1 mean no overhead).

--endpoints is required (nothing is started). Keys go under
--prefix/<op>, deleted first and left behind.

Ops (comma-separated, or "all"): get (read one key), create (a new key per
op), txn-rmw (a transaction incrementing a per-client counter; raw: Range,
then Txn on mod_revision), list (--list-size keys), watch-latency (write a
per-client key, time until a watch on a second connection reports it;
the config layer writes with DB.Update, a guarded Txn, unless
--watch-bare-put).`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if len(endpoints) == 0 {
				return errors.New("bench config: --endpoints is required")
			}
			if raw && both {
				return errors.New("bench config: --raw and --both exclude each other")
			}
			list := strings.Split(ops, ",")
			if ops == "all" {
				list = bench.ConfigOps
			}
			for _, op := range list {
				if !slices.Contains(bench.ConfigOps, op) {
					return fmt.Errorf("bench config: unknown op %q (want one of %v or all)", op, bench.ConfigOps)
				}
			}
			ctx := c.Context()
			open := func() (*etcd.Store, error) {
				return etcd.Open(ctx, endpoints, etcd.WithDialTimeout(10*time.Second))
			}
			writer, err := open()
			if err != nil {
				return err
			}
			defer writer.Close()
			watcher, err := open()
			if err != nil {
				return err
			}
			defer watcher.Close()
			for _, op := range list {
				cfg.Op = op
				var runs []bench.Result
				for _, r := range []bool{raw, true} {
					cfg.Raw = r
					res, err := bench.Config(ctx, writer.Client(), watcher.Client(), cfg)
					if err != nil {
						return err
					}
					if err := printJSON(c.OutOrStdout(), res); err != nil {
						return err
					}
					runs = append(runs, res)
					if !both {
						break
					}
				}
				if both {
					sdp, rw := runs[0], runs[1]
					if err := printJSON(c.OutOrStdout(), map[string]any{
						"op": op, "clients": cfg.Clients,
						"ratio_ops_per_s": ratio(sdp.OpsPerS, rw.OpsPerS),
						"ratio_p50":       ratio(sdp.P50us, rw.P50us),
						"ratio_p99":       ratio(sdp.P99us, rw.P99us),
					}); err != nil {
						return err
					}
				}
			}
			return nil
		},
	}
	c.Flags().StringSliceVar(&endpoints, "endpoints", nil, "etcd endpoints, host:port or URLs (required)")
	c.Flags().StringVar(&ops, "op", "get", fmt.Sprintf("workloads, comma-separated: %v, or all", bench.ConfigOps))
	c.Flags().IntVar(&cfg.N, "n", 2000, "number of operations")
	c.Flags().IntVar(&cfg.Clients, "clients", 1, "concurrent clients (goroutines sharing one connection)")
	c.Flags().BoolVar(&raw, "raw", false, "issue the equivalent bare etcd client requests instead")
	c.Flags().BoolVar(&both, "both", false, "run the config layer and raw back to back and print their ratio")
	c.Flags().IntVar(&cfg.ListSize, "list-size", 100, "keys listed by the list op")
	c.Flags().StringVar(&cfg.Prefix, "prefix", "/bench", "path under which the workloads write")
	c.Flags().BoolVar(&cfg.WatchBarePut, "watch-bare-put", false, "watch-latency: write with a bare Put in the config-layer run too (only the watch path differs)")
	return c
}

// ratio is a/b rounded to 3 decimals (0 when b is 0).
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return math.Round(a/b*1000) / 1000
}
func newBenchQueueCmd() *cobra.Command {
	o := &queueOpts{}
	var acks string
	cfg := bench.QueueConfig{}
	c := &cobra.Command{
		Use:   "queue",
		Short: "Benchmark data-queue producing and consuming on Kafka; prints one JSON object",
		Long: `Runs one data-queue workload against Kafka and prints one JSON object:
{"tool": "sdpkit", "mode", "n", "size", "clients", "acks", "msgs_per_s",
"mb_per_s", "p50_us", "p99_us", ...}.

Modes:
  produce    --clients producers send --n records of --size random bytes as
             fast as they are accepted; latency is per record, send to ack.
  consume    --n records are produced first (not timed), then --clients
             consumers (a group when more than one) read them all.
  roundtrip  one record at a time is sent and waited for by a consumer;
             latency is send to receipt.

The topic is fresh (sdp-bench-<mode>-<id>, --clients partitions) and deleted
afterwards, unless --topic names one. --acks defaults to all, the default of
Kafka's producer and so of kafka-producer-perf-test since Kafka 3.0 (and of
sdpkit's producer); aiokafka's default is 1. Records are not compressed.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			brokers, err := o.brokerList()
			if err != nil {
				return err
			}
			cfg.Brokers = brokers
			switch acks {
			case "all", "-1":
				cfg.Acks = dataqueue.AcksAll
			case "1":
				cfg.Acks = dataqueue.AcksLeader
			case "0":
				cfg.Acks = dataqueue.AcksNone
			default:
				return usageError{fmt.Errorf("--acks %q: want all, 1 or 0", acks)}
			}
			r, err := bench.Queue(c.Context(), cfg)
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
	c.Flags().StringVar(&o.brokers, "brokers", defaultBrokerList(), "Kafka bootstrap brokers, host:port[,host:port…] (default $SDP_KAFKA_BROKERS, $SDP_KAFKA_HOST, localhost:9092)")
	c.Flags().StringVar(&cfg.Mode, "mode", "produce", fmt.Sprintf("workload: one of %v", bench.QueueModes))
	c.Flags().IntVar(&cfg.N, "n", 100000, "number of records")
	c.Flags().IntVar(&cfg.Size, "size", 1024, "payload bytes per record")
	c.Flags().StringVar(&cfg.Encoding, "encoding", "", "wire encoding (none: raw bytes)")
	c.Flags().IntVar(&cfg.Clients, "clients", 1, "concurrent producers (produce) or group members (consume)")
	c.Flags().StringVar(&cfg.Topic, "topic", "", "topic to use (default: a fresh one, deleted afterwards)")
	c.Flags().StringVar(&acks, "acks", "all", "required acks: all, 1 or 0")
	c.Flags().DurationVar(&cfg.Linger, "linger", 0, "producer linger (batching delay)")
	return c
}
