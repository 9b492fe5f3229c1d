package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sdpkit/sdpkit/dataqueue"
	"github.com/sdpkit/sdpkit/internal/bench"
	"github.com/sdpkit/sdpkit/telstate"
)

func newBenchCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "bench",
		Short: "Measure throughput and latency against real servers",
	}
	c.AddCommand(newBenchTelstateCmd(), newBenchQueueCmd())
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
