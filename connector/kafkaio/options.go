package kafkaio

import (
	"log/slog"
	"strings"

	"github.com/sdpkit/sdpkit/dataqueue"
	"github.com/sdpkit/sdpkit/dataqueue/encoding"
	"github.com/sdpkit/sdpkit/pyval"
)

// Option configures a Source or a Sink. Options that concern only one side
// are ignored by the other.
type Option func(*config)

type config struct {
	logger      *slog.Logger
	earliest    bool
	failOnError bool
	consumer    []dataqueue.ConsumerOption
	producer    []dataqueue.ProducerOption
	clientID    string
	registry    func(dt pyval.DType, shape []int) *encoding.Registry
	positions   *Positions
	place       string
}

func (c *config) clientIDOr(def string) string {
	if c.clientID != "" {
		return c.clientID
	}
	return def
}

func newConfig(opts []Option) config {
	c := config{registry: encoding.NewConnectorRegistry}
	for _, o := range opts {
		o(&c)
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// WithLogger sets where a source logs the records it skips and a sink its
// failed deliveries (default: nowhere).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithStartAtEarliest makes a source read its topic from the earliest
// record instead of the latest (the connector's behaviour). Tests use it to
// consume what was produced before the source started.
func WithStartAtEarliest() Option { return func(c *config) { c.earliest = true } }

// WithFailOnDecodeError makes a record that cannot be decoded (or
// converted to the exchange's dtype and shape) fail the source, and so the
// exchange, as the Python connector's exception would. By default the
// record is logged, counted (ErrorCount, and so the exchange's
// Stats.Errors) and skipped.
func WithFailOnDecodeError() Option { return func(c *config) { c.failOnError = true } }

// WithConsumerOptions passes options to the source's dataqueue.Consumer
// (applied after the source's own).
func WithConsumerOptions(opts ...dataqueue.ConsumerOption) Option {
	return func(c *config) { c.consumer = append(c.consumer, opts...) }
}

// WithProducerOptions passes options to the sink's dataqueue.Producer
// (applied after the sink's own, so they win: WithAcks(AcksLeader) for
// aiokafka's acks=1, WithLinger, …).
func WithProducerOptions(opts ...dataqueue.ProducerOption) Option {
	return func(c *config) { c.producer = append(c.producer, opts...) }
}

// WithClientID sets the Kafka client id of the source's consumer or the
// sink's producer.
func WithClientID(id string) Option { return func(c *config) { c.clientID = id } }

// WithRegistry replaces the encodings a source or sink looks its encoding
// up in (default: encoding.NewConnectorRegistry for the stream's dtype and
// shape, the built-in encodings plus carray and python).
func WithRegistry(r func(dt pyval.DType, shape []int) *encoding.Registry) Option {
	return func(c *config) { c.registry = r }
}

// Brokers turns a descriptor's servers into bootstrap addresses: a
// "kafka://" prefix (how Flow entities write a DataQueue host) is removed,
// and comma-joined strings are split.
func Brokers(servers []string) []string {
	var out []string
	for _, s := range servers {
		for _, p := range strings.Split(s, ",") {
			p = strings.TrimSpace(p)
			p = strings.TrimPrefix(p, "kafka://")
			p = strings.TrimSuffix(p, "/")
			if p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}
