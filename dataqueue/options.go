package dataqueue

import (
	"maps"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sdpkit/sdpkit/dataqueue/encoding"
)

// A ProducerOption configures NewProducer.
type ProducerOption interface{ applyProducer(*producerConfig) }

// A ConsumerOption configures NewConsumer.
type ConsumerOption interface{ applyConsumer(*consumerConfig) }

// An AdminOption configures NewAdmin.
type AdminOption interface{ applyAdmin(*adminConfig) }

// A SendOption configures one Send, SendAsync or SendMany call.
type SendOption interface{ applySend(*sendConfig) }

// common holds what producers, consumers and admins share.
type common struct {
	clientID string
	kgoOpts  []kgo.Opt
}

func (c *common) base(brokers []string) []kgo.Opt {
	opts := []kgo.Opt{kgo.SeedBrokers(brokers...)}
	if c.clientID != "" {
		opts = append(opts, kgo.ClientID(c.clientID))
	}
	return append(opts, c.kgoOpts...)
}

// funcOpt adapts functions to the option interfaces; a nil function means
// the option does not apply to that kind of object (and is ignored).
type funcOpt struct {
	producer func(*producerConfig)
	consumer func(*consumerConfig)
	admin    func(*adminConfig)
	send     func(*sendConfig)
}

func (o funcOpt) applyProducer(c *producerConfig) {
	if o.producer != nil {
		o.producer(c)
	}
}
func (o funcOpt) applyConsumer(c *consumerConfig) {
	if o.consumer != nil {
		o.consumer(c)
	}
}
func (o funcOpt) applyAdmin(c *adminConfig) {
	if o.admin != nil {
		o.admin(c)
	}
}
func (o funcOpt) applySend(c *sendConfig) {
	if o.send != nil {
		o.send(c)
	}
}

// Options shared by several kinds of objects return one of these interface
// combinations so the same name works everywhere it makes sense.
type (
	// ClientOption applies to producers, consumers and admins.
	ClientOption interface {
		ProducerOption
		ConsumerOption
		AdminOption
	}
	// EncodingOption applies to producers (default), consumers and sends.
	EncodingOption interface {
		ProducerOption
		ConsumerOption
		SendOption
	}
	// TopicOption applies to producers (default topic) and sends.
	TopicOption interface {
		ProducerOption
		SendOption
	}
	// RegistryOption applies to producers and consumers.
	RegistryOption interface {
		ProducerOption
		ConsumerOption
	}
)

// WithClientID sets the Kafka client id the broker logs and quotas see
// (franz-go's default is "kgo").
func WithClientID(id string) ClientOption {
	return funcOpt{
		producer: func(c *producerConfig) { c.clientID = id },
		consumer: func(c *consumerConfig) { c.clientID = id },
		admin:    func(c *adminConfig) { c.clientID = id },
	}
}

// WithKgoOptions passes options straight to the underlying franz-go client
// (TLS, SASL, compression, timeouts, logging, …). They are applied after
// ours, so they win.
func WithKgoOptions(opts ...kgo.Opt) ClientOption {
	return funcOpt{
		producer: func(c *producerConfig) { c.kgoOpts = append(c.kgoOpts, opts...) },
		consumer: func(c *consumerConfig) { c.kgoOpts = append(c.kgoOpts, opts...) },
		admin:    func(c *adminConfig) { c.kgoOpts = append(c.kgoOpts, opts...) },
	}
}

// WithEncoding names the wire encoding ("utf-8", "msgpack_numpy", …),
// looked up in the registry. On a producer it is the default for every
// send; on a send it overrides that default; on a consumer it decodes every
// record. Without an encoding values are raw bytes, as in Python.
func WithEncoding(name string) EncodingOption {
	return funcOpt{
		producer: func(c *producerConfig) { c.encoding = name },
		consumer: func(c *consumerConfig) { c.encoding = name },
		send:     func(c *sendConfig) { c.encoding, c.encodingSet = name, true },
	}
}

// WithTopic sets the producer's default topic, or a send's topic.
func WithTopic(topic string) TopicOption {
	return funcOpt{
		producer: func(c *producerConfig) { c.topic = topic },
		send:     func(c *sendConfig) { c.topic = topic },
	}
}

// WithRegistry sets the registry encodings are looked up in (default:
// encoding.NewRegistry(), the built-in codecs).
func WithRegistry(r *encoding.Registry) RegistryOption {
	return funcOpt{
		producer: func(c *producerConfig) { c.registry = r },
		consumer: func(c *consumerConfig) { c.registry = r },
	}
}

// Acks is how many replicas must have a record before the broker
// acknowledges it. The zero value is AcksAll.
type Acks int8

const (
	// AcksAll waits for every in-sync replica (Kafka's acks=all / -1).
	AcksAll Acks = iota
	// AcksLeader waits for the partition leader only (acks=1, aiokafka's
	// default).
	AcksLeader
	// AcksNone does not wait at all (acks=0): the offset is unknown (-1).
	AcksNone
)

// WithAcks sets the producer's required acks. The default is AcksAll with
// idempotent writes, where aiokafka defaults to acks=1 without idempotence:
// a data queue carries science products at modest rates, so losing an
// acknowledged record on a leader failover costs more than the extra
// replica round trip (Kafka's own Java client made the same choice in 3.0).
// AcksLeader and AcksNone turn idempotence off, which needs acks=all.
func WithAcks(a Acks) ProducerOption {
	return funcOpt{producer: func(c *producerConfig) { c.acks = a }}
}

// WithIdempotence turns idempotent writes on or off (default on, which
// requires AcksAll). With it, broker retries never duplicate or reorder
// records within a partition.
func WithIdempotence(on bool) ProducerOption {
	return funcOpt{producer: func(c *producerConfig) { c.idempotent = &on }}
}

// WithLinger lets partitions wait up to d for more records before a
// request is built, trading latency for bigger batches. The default is 0
// (aiokafka's linger_ms=0); synchronous sends never linger.
func WithLinger(d time.Duration) ProducerOption {
	return funcOpt{producer: func(c *producerConfig) { c.linger = d }}
}

// WithMaxMessageBytes sets the largest record batch the producer builds,
// and so the largest record it accepts (default 1 000 012 bytes, Kafka's
// max.message.bytes default). The broker's own limit still applies.
func WithMaxMessageBytes(n int32) ProducerOption {
	return funcOpt{producer: func(c *producerConfig) { c.maxBytes = n }}
}

// WithAutoTopicCreation lets producing to a missing topic ask the broker to
// create it (it does when its auto.create.topics.enable is on, Kafka's
// default). On by default, as aiokafka; turn it off to get ErrUnknownTopic
// instead.
func WithAutoTopicCreation(on bool) ProducerOption {
	return funcOpt{producer: func(c *producerConfig) { c.autoCreate = on }}
}

// TopicPartition names one partition of a topic, for manual assignment.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// WithTopics subscribes a new consumer to topics (see UpdateTopics).
func WithTopics(topics ...string) ConsumerOption {
	return funcOpt{consumer: func(c *consumerConfig) { c.topics, c.assign = topics, nil }}
}

// WithAssignment assigns a new consumer partitions (see AssignTopics).
func WithAssignment(parts ...TopicPartition) ConsumerOption {
	return funcOpt{consumer: func(c *consumerConfig) { c.assign, c.topics = parts, nil }}
}

// WithGroup makes the consumer a member of consumer group id: subscribed
// partitions are shared among the members and positions are committed
// (see Consumer). Without a group (the default, as aiokafka's
// group_id=None) nothing is committed and every consumer reads every
// partition of its topics.
func WithGroup(id string) ConsumerOption {
	return funcOpt{consumer: func(c *consumerConfig) { c.group = id }}
}

// WithStartAtLatest makes partitions without a committed position start at
// the end (only new records) instead of the beginning (the default, which
// the Python wrapper's documented examples rely on).
func WithStartAtLatest() ConsumerOption {
	return funcOpt{consumer: func(c *consumerConfig) { c.latest = true }}
}

// WithStartOffsets starts assigned partitions (WithAssignment, without a
// group) at explicit offsets: offsets[p] is the offset of the first record
// to read from p. Assigned partitions it does not name start at the reset
// point; it has no effect on subscribed topics or group members, whose
// positions come from the reset point and the group's commits. An offset
// past the end waits for that record; one before the log start is reset.
// The queue connector's Kafka source uses it to resume where a previous
// source stopped.
func WithStartOffsets(offsets map[TopicPartition]int64) ConsumerOption {
	return funcOpt{consumer: func(c *consumerConfig) { c.startAt = maps.Clone(offsets) }}
}

// WithCommitInterval sets how often a group consumer commits the records
// it has consumed (default 5 s); 0 leaves committing to Commit, Close and
// (for subscriptions) rebalances.
func WithCommitInterval(d time.Duration) ConsumerOption {
	return funcOpt{consumer: func(c *consumerConfig) { c.commitInterval = d }}
}
