package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/sdpkit/sdpkit/internal/bench"
)

// connectorBenchLine is one line `sdp bench connector` prints: a run's
// figures, with the broker it ran on.
type connectorBenchLine struct {
	bench.ConnectorResult
	Broker string `json:"broker"` // "kfake (in-process, not durable)" or the --brokers list
}

// connectorRatio is the line --mode both adds: engine over bare.
type connectorRatio struct {
	Op           string  `json:"op"`
	Sink         string  `json:"sink"`
	Broker       string  `json:"broker"`
	RatioOpsPerS float64 `json:"ratio_ops_per_s"` // engine/bare throughput; the goal is ≥ 0.8
	RatioP50     float64 `json:"ratio_p50"`       // engine/bare latency
	RatioP99     float64 `json:"ratio_p99"`
}

func newBenchConnectorCmd() *cobra.Command {
	var brokers, mode string
	cfg := bench.ConnectorConfig{}
	c := &cobra.Command{
		Use:   "connector",
		Short: "Benchmark the queue connector's engine against a bare franz-go loop; prints JSON lines",
		Long: `Moves records from a Kafka topic through the queue connector's engine
(KafkaConsumerSource → DefaultPipe → sink) and through a bare franz-go loop
doing the same work, on the same broker, and prints one JSON object per mode:
{"op": "connector", "layer": "engine"|"bare", "sink", "n", "ops_per_s",
"p50_us", "p99_us", "latency_n", "elapsed_s", "encoding", "elements", "broker"}.
With --mode both (the default) a third line gives engine/bare ratios; the
engine's goal is ratio_ops_per_s ≥ 0.8.

--sink kafka: the records go to a second topic (KafkaProducerSink; bare:
decode, encode, produce). --sink attribute: they set a device attribute
(TangoLocalAttributeSink; bare: decode and store in a map).

Each run has two phases. Throughput: --n records (float64 arrays of
--elements values, element 0 their sequence number) are produced first,
then timed from the clients' creation to the last sink write (kafka: the
last acknowledgement). Latency: --latency more records are sent one at a
time, --latency-gap apart, each timed from just before its send to its sink
write. Topics are fresh and deleted afterwards.

Without --brokers an in-process kfake broker is started; its figures say
nothing about a real Kafka (the output is labelled). bench/kafka-broker.sh
starts a real one.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			label := brokers
			if strings.TrimSpace(brokers) == "" {
				k, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation())
				if err != nil {
					return fmt.Errorf("starting kfake: %w", err)
				}
				defer k.Close()
				brokers, label = strings.Join(k.ListenAddrs(), ","), "kfake (in-process, not durable)"
			}
			o := &queueOpts{brokers: brokers}
			list, err := o.brokerList()
			if err != nil {
				return err
			}
			cfg.Brokers = list
			modes := []string{mode}
			switch mode {
			case "both":
				modes = bench.ConnectorModes
			case "engine", "bare":
			default:
				return usageError{fmt.Errorf("--mode %q: want engine, bare or both", mode)}
			}
			res := map[string]bench.ConnectorResult{}
			enc := json.NewEncoder(c.OutOrStdout())
			for _, m := range modes {
				cfg.Mode = m
				r, err := bench.Connector(c.Context(), cfg)
				if err != nil {
					return fmt.Errorf("%s: %w", m, err)
				}
				res[m] = r
				if err := enc.Encode(connectorBenchLine{r, label}); err != nil {
					return err
				}
			}
			if mode != "both" {
				return nil
			}
			e, b := res["engine"], res["bare"]
			return enc.Encode(connectorRatio{
				Op: "connector", Sink: e.Sink, Broker: label,
				RatioOpsPerS: ratio(e.OpsPerS, b.OpsPerS),
				RatioP50:     ratio(e.P50us, b.P50us),
				RatioP99:     ratio(e.P99us, b.P99us),
			})
		},
	}
	c.Flags().StringVar(&brokers, "brokers", "", "Kafka bootstrap brokers, host:port[,host:port…] (default: start an in-process kfake)")
	c.Flags().StringVar(&mode, "mode", "both", "engine, bare or both")
	c.Flags().StringVar(&cfg.Sink, "sink", "kafka", fmt.Sprintf("sink: one of %v", bench.ConnectorSinks))
	c.Flags().IntVar(&cfg.N, "n", 100000, "records of the throughput phase")
	c.Flags().IntVar(&cfg.Elements, "elements", 16, "float64 elements per record")
	c.Flags().StringVar(&cfg.Encoding, "encoding", "msgpack_numpy", "encoding of both topics (msgpack_numpy, carray, npy, python, json)")
	c.Flags().IntVar(&cfg.Latency, "latency", 0, "records of the latency phase (default n/10, 100…5000; negative: none)")
	c.Flags().DurationVar(&cfg.LatencyGap, "latency-gap", 0, "time between latency-phase sends (default 200µs)")
	return c
}
