package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sdpkit/sdpkit/dataqueue"
	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/pyval/tagjson"
)

// Environment variables naming the Kafka bootstrap brokers.
const (
	// brokersEnv is sdpkit's own: a comma-separated host:port list.
	brokersEnv = "SDP_KAFKA_BROKERS"
	// hostEnv is what SDP deployments hand to processing scripts, a
	// KafkaUrl: kafka://host:port or host:port.
	hostEnv        = "SDP_KAFKA_HOST"
	defaultBrokers = "localhost:9092"
)

// queueOpts are the flags shared by every `sdp queue` subcommand.
type queueOpts struct {
	brokers string
	json    bool
}

// defaultBrokerList is --brokers' default: $SDP_KAFKA_BROKERS, else
// $SDP_KAFKA_HOST, else localhost:9092.
func defaultBrokerList() string {
	if b := os.Getenv(brokersEnv); b != "" {
		return b
	}
	if h := os.Getenv(hostEnv); h != "" {
		return h
	}
	return defaultBrokers
}

// brokerList splits --brokers, dropping kafka:// prefixes (ska-sdp-config's
// KafkaUrl form).
func (o *queueOpts) brokerList() ([]string, error) {
	var out []string
	for _, b := range strings.Split(o.brokers, ",") {
		b = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(b), "kafka://"))
		if b != "" {
			out = append(out, b)
		}
	}
	if len(out) == 0 {
		return nil, usageError{errors.New("no brokers: give --brokers host:port[,host:port…] or set " + brokersEnv)}
	}
	return out, nil
}

func newQueueCmd() *cobra.Command {
	o := &queueOpts{}
	c := &cobra.Command{
		Use:   "queue",
		Short: "Send, read and manage SDP data queues (Kafka topics, ska-sdp-dataqueues-compatible)",
		Long: `Send, read and manage SDP data queues: Kafka topics whose messages carry
values in one of the ska-sdp-dataqueues encodings (utf-8, ascii, json,
msgpack, msgpack_numpy, npy).

--brokers is a comma-separated list of host:port (kafka://host:port is
accepted); the default is $` + brokersEnv + `, else $` + hostEnv + `, else ` + defaultBrokers + `.

Values are given and printed as JSON in sdpkit's tagged rendering
({"int": "5"}, {"str": "x"}, {"bytes": "00ff"}, {"ndarray": …}, …; plain JSON
numbers, strings and arrays are accepted on input), one per line.`,
	}
	c.PersistentFlags().StringVar(&o.brokers, "brokers", defaultBrokerList(), "Kafka bootstrap brokers, host:port[,host:port…]")
	c.PersistentFlags().BoolVar(&o.json, "json", false, "print JSON for machines")
	c.AddCommand(queueProduceCmd(o), queueConsumeCmd(o), queueTopicsCmd(o))
	return c
}

func queueProduceCmd(o *queueOpts) *cobra.Command {
	var enc, key string
	var raw bool
	c := &cobra.Command{
		Use:   "produce TOPIC",
		Short: "Send values read from stdin, one per line",
		Long: `Send one message per line of stdin to TOPIC, waiting for each to be
acknowledged (acks=all).

With --encoding each line is a value in the tagged JSON rendering, encoded
with that encoding. Without an encoding each line is sent as raw bytes (the
line without its newline). --raw takes lines literally also with an encoding:
each line is then a str (for utf-8 and ascii).

--json prints {"topic", "partition", "offset"} for every message sent.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			brokers, err := o.brokerList()
			if err != nil {
				return err
			}
			ctx := c.Context()
			p, err := dataqueue.NewProducer(brokers, dataqueue.WithTopic(args[0]), dataqueue.WithEncoding(enc))
			if err != nil {
				return err
			}
			defer p.Close(context.WithoutCancel(ctx))
			var sendOpts []dataqueue.SendOption
			if c.Flags().Changed("key") {
				sendOpts = append(sendOpts, dataqueue.WithKey([]byte(key)))
			}
			sc := bufio.NewScanner(c.InOrStdin())
			sc.Buffer(make([]byte, 0, 64*1024), 64<<20)
			w := c.OutOrStdout()
			line := 0
			for sc.Scan() {
				line++
				var v pyval.Value
				switch {
				case enc == "":
					v = pyval.Bytes(append([]byte(nil), sc.Bytes()...))
				case raw:
					v = pyval.Str(sc.Text())
				default:
					if strings.TrimSpace(sc.Text()) == "" {
						continue
					}
					if v, err = tagjson.Parse(sc.Bytes()); err != nil {
						return fmt.Errorf("stdin line %d: %w", line, err)
					}
				}
				md, err := p.Send(ctx, v, sendOpts...)
				if err != nil {
					return fmt.Errorf("stdin line %d: %w", line, err)
				}
				if o.json {
					out, _ := json.Marshal(map[string]any{"topic": md.Topic, "partition": md.Partition, "offset": md.Offset})
					fmt.Fprintf(w, "%s\n", out)
				}
			}
			if err := sc.Err(); err != nil {
				return fmt.Errorf("reading stdin: %w", err)
			}
			return p.Close(ctx)
		},
	}
	c.Flags().StringVar(&enc, "encoding", "", "wire encoding (utf-8, ascii, json, msgpack, msgpack_numpy, npy); none: raw bytes")
	c.Flags().StringVar(&key, "key", "", "record key for every message")
	c.Flags().BoolVar(&raw, "raw", false, "take lines literally (a str with --encoding, bytes without)")
	return c
}

func queueConsumeCmd(o *queueOpts) *cobra.Command {
	var enc, group string
	var fromBeginning, raw bool
	var n int
	var timeout time.Duration
	c := &cobra.Command{
		Use:   "consume TOPIC...",
		Short: "Print messages from topics, one per line",
		Long: `Print the messages of the topics as they arrive, one per line: the value
in the tagged JSON rendering (raw bytes render as {"bytes": "<hex>"}).
--json prints {"topic", "partition", "offset", "timestamp", "key", "value"}
instead; --raw prints the raw bytes of each message followed by a newline.

Without --group every partition is read and nothing is committed; new
messages only, unless --from-beginning. With --group the members share the
partitions, positions are committed, and a new group starts at the
beginning with --from-beginning, at the end otherwise.

Stops after -n messages, after --timeout without a message, or on Ctrl-C.
Messages that cannot be decoded are reported on stderr and skipped; the exit
status is then 1.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			brokers, err := o.brokerList()
			if err != nil {
				return err
			}
			opts := []dataqueue.ConsumerOption{dataqueue.WithTopics(args...), dataqueue.WithEncoding(enc)}
			if group != "" {
				opts = append(opts, dataqueue.WithGroup(group))
			}
			if !fromBeginning {
				opts = append(opts, dataqueue.WithStartAtLatest())
			}
			cons, err := dataqueue.NewConsumer(brokers, opts...)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithCancel(c.Context())
			defer cancel()
			idle := func() {}
			if timeout > 0 {
				t := time.AfterFunc(timeout, cancel)
				defer t.Stop()
				idle = func() { t.Reset(timeout) }
			}
			w := bufio.NewWriter(c.OutOrStdout())
			count, bad := 0, 0
			for m, err := range cons.Messages(ctx) {
				idle()
				var de *dataqueue.DecodeError
				if errors.As(err, &de) {
					bad++
					fmt.Fprintf(c.ErrOrStderr(), "%s: %v\n", c.CommandPath(), err)
					continue
				}
				if err != nil {
					cons.Close(context.WithoutCancel(ctx))
					return err
				}
				if err := printMessage(w, m, o.json, raw); err != nil {
					return err
				}
				// Flush per message: consumers are often piped into
				// something that reacts to each line.
				if err := w.Flush(); err != nil {
					return err
				}
				if count++; n > 0 && count >= n {
					break
				}
			}
			if err := cons.Close(context.WithoutCancel(c.Context())); err != nil {
				return err
			}
			if bad > 0 {
				return fmt.Errorf("%d message(s) could not be decoded with %s", bad, enc)
			}
			return nil
		},
	}
	c.Flags().StringVar(&enc, "encoding", "", "wire encoding to decode with; none: raw bytes")
	c.Flags().StringVar(&group, "group", "", "consumer group id (commits positions)")
	c.Flags().BoolVar(&fromBeginning, "from-beginning", false, "start at the earliest message when there is no committed position")
	c.Flags().BoolVar(&raw, "raw", false, "print each message's raw bytes and a newline")
	c.Flags().IntVarP(&n, "n", "n", 0, "stop after this many messages (0: no limit)")
	c.Flags().DurationVar(&timeout, "timeout", 0, "stop after this long without a message (0: wait forever)")
	return c
}

func printMessage(w io.Writer, m *dataqueue.Message, asJSON, raw bool) error {
	if raw && !asJSON {
		if _, err := w.Write(m.Raw); err != nil {
			return err
		}
		_, err := io.WriteString(w, "\n")
		return err
	}
	val, err := tagjson.Render(m.Value)
	if err != nil {
		return err
	}
	if !asJSON {
		_, err = fmt.Fprintf(w, "%s\n", val)
		return err
	}
	type header struct {
		Key   string `json:"key"`
		Value string `json:"value_hex"`
	}
	out := struct {
		Topic     string          `json:"topic"`
		Partition int32           `json:"partition"`
		Offset    int64           `json:"offset"`
		Timestamp float64         `json:"timestamp"`
		Key       *string         `json:"key_hex"`
		Headers   []header        `json:"headers,omitempty"`
		Value     json.RawMessage `json:"value"`
	}{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset,
		Timestamp: float64(m.Timestamp.UnixMilli()) / 1e3, Value: val}
	if m.Key != nil {
		k := hex.EncodeToString(m.Key)
		out.Key = &k
	}
	for _, h := range m.Headers {
		out.Headers = append(out.Headers, header{h.Key, hex.EncodeToString(h.Value)})
	}
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

func queueTopicsCmd(o *queueOpts) *cobra.Command {
	c := &cobra.Command{
		Use:   "topics",
		Short: "List, create, describe and delete topics",
	}
	withAdmin := func(c *cobra.Command, f func(ctx context.Context, a *dataqueue.Admin) error) error {
		brokers, err := o.brokerList()
		if err != nil {
			return err
		}
		a, err := dataqueue.NewAdmin(brokers)
		if err != nil {
			return err
		}
		defer a.Close()
		return f(c.Context(), a)
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List topics (without Kafka's internal ones), sorted",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			return withAdmin(c, func(ctx context.Context, a *dataqueue.Admin) error {
				names, err := a.ListTopics(ctx)
				if err != nil {
					return err
				}
				w := c.OutOrStdout()
				if o.json {
					if names == nil {
						names = []string{}
					}
					return json.NewEncoder(w).Encode(names)
				}
				for _, n := range names {
					fmt.Fprintln(w, n)
				}
				return nil
			})
		},
	}
	var partitions int32
	var rf int16
	create := &cobra.Command{
		Use:   "create NAME...",
		Short: "Make sure topics exist with at least --partitions partitions",
		Long: `Create each topic that does not exist, and grow each one that has fewer
than --partitions partitions (as ska-sdp-dataqueues' create_topics). A topic
that already has enough is left alone; partitions are never removed.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if partitions < 1 || rf < 1 {
				return usageError{fmt.Errorf("--partitions and --replication-factor must be at least 1")}
			}
			return withAdmin(c, func(ctx context.Context, a *dataqueue.Admin) error {
				specs := make([]dataqueue.TopicSpec, len(args))
				for i, n := range args {
					specs[i] = dataqueue.TopicSpec{Name: n, MinPartitions: partitions, ReplicationFactor: rf}
				}
				return a.CreateTopics(ctx, specs...)
			})
		},
	}
	create.Flags().Int32Var(&partitions, "partitions", 1, "minimum number of partitions")
	create.Flags().Int16Var(&rf, "replication-factor", 1, "replicas of each partition of a new topic")
	describe := &cobra.Command{
		Use:   "describe [NAME...]",
		Short: "Show topics' partitions, leaders and replicas (all topics when none named)",
		RunE: func(c *cobra.Command, args []string) error {
			return withAdmin(c, func(ctx context.Context, a *dataqueue.Admin) error {
				infos, err := a.DescribeTopics(ctx, args...)
				if err != nil {
					return err
				}
				w := c.OutOrStdout()
				if o.json {
					type part struct {
						Partition int32   `json:"partition"`
						Leader    int32   `json:"leader"`
						Replicas  []int32 `json:"replicas"`
						ISR       []int32 `json:"isr"`
					}
					type topic struct {
						Name              string `json:"name"`
						Internal          bool   `json:"internal"`
						ReplicationFactor int    `json:"replication_factor"`
						Partitions        []part `json:"partitions"`
					}
					out := []topic{}
					for _, ti := range infos {
						t := topic{Name: ti.Name, Internal: ti.Internal, ReplicationFactor: ti.ReplicationFactor, Partitions: []part{}}
						for _, p := range ti.Partitions {
							t.Partitions = append(t.Partitions, part{p.Partition, p.Leader, nonNil(p.Replicas), nonNil(p.ISR)})
						}
						out = append(out, t)
					}
					return json.NewEncoder(w).Encode(out)
				}
				for _, ti := range infos {
					fmt.Fprintf(w, "%s\tpartitions=%d\treplication=%d\n", ti.Name, len(ti.Partitions), ti.ReplicationFactor)
					for _, p := range ti.Partitions {
						fmt.Fprintf(w, "\tpartition=%d\tleader=%d\treplicas=%v\tisr=%v\n", p.Partition, p.Leader, p.Replicas, p.ISR)
					}
				}
				return nil
			})
		},
	}
	del := &cobra.Command{
		Use:   "delete NAME...",
		Short: "Delete topics",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return withAdmin(c, func(ctx context.Context, a *dataqueue.Admin) error {
				return a.DeleteTopics(ctx, args...)
			})
		},
	}
	c.AddCommand(list, create, describe, del)
	return c
}

func nonNil(x []int32) []int32 {
	if x == nil {
		return []int32{}
	}
	return x
}
