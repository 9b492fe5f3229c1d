package dataqueue

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sdpkit/sdpkit/dataqueue/encoding"
	"github.com/sdpkit/sdpkit/pyval"
)

// A Validator checks a value before it is sent. dataqueue/schema's Schema
// types satisfy it; if the validator also has a Name() string method, its
// name appears in ValidationError.
type Validator interface {
	Validate(pyval.Value) error
}

// Header is one Kafka record header.
type Header struct {
	Key   string
	Value []byte
}

// RecordMetadata is what the broker acknowledged for one sent record, as
// aiokafka's RecordMetadata.
type RecordMetadata struct {
	Topic     string
	Partition int32
	Offset    int64 // -1 with AcksNone
	Timestamp time.Time
}

type producerConfig struct {
	common
	topic      string
	encoding   string
	registry   *encoding.Registry
	acks       Acks
	idempotent *bool
	linger     time.Duration
	maxBytes   int32
	autoCreate bool
}

type sendConfig struct {
	topic       string
	encoding    string
	encodingSet bool
	key         []byte
	headers     []Header
	timestamp   time.Time
	schema      Validator
}

// WithKey sets a send's record key; records with the same key go to the
// same partition. Python's wrapper sends no key.
func WithKey(key []byte) SendOption {
	return funcOpt{send: func(c *sendConfig) { c.key = key }}
}

// WithHeaders adds record headers to a send.
func WithHeaders(h ...Header) SendOption {
	return funcOpt{send: func(c *sendConfig) { c.headers = append(c.headers, h...) }}
}

// WithTimestamp sets a send's record timestamp (default: now).
func WithTimestamp(t time.Time) SendOption {
	return funcOpt{send: func(c *sendConfig) { c.timestamp = t }}
}

// WithSchema validates the value with v before encoding it, as Python's
// send(schema=S, validate=True); a failure is a ValidationError and nothing
// is sent.
func WithSchema(v Validator) SendOption {
	return funcOpt{send: func(c *sendConfig) { c.schema = v }}
}

// Producer sends values to Kafka topics, encoding them with a wire
// encoding. It is the counterpart of ska-sdp-dataqueues'
// DataQueueProducer and is safe for concurrent use.
type Producer struct {
	cl       *kgo.Client
	cfg      producerConfig
	closed   atomic.Bool
	closeMu  sync.Mutex
	closeErr error
}

// NewProducer connects lazily to the bootstrap brokers ("host:port"); the
// first send (or Flush) talks to them. Options set the default topic and
// encoding, acks, batching and the client id; see the With… functions.
func NewProducer(brokers []string, opts ...ProducerOption) (*Producer, error) {
	cfg := producerConfig{acks: AcksAll, autoCreate: true}
	for _, o := range opts {
		o.applyProducer(&cfg)
	}
	if len(brokers) == 0 {
		return nil, errors.New("dataqueue: NewProducer: no brokers")
	}
	if cfg.registry == nil {
		cfg.registry = encoding.NewRegistry()
	}
	if cfg.encoding != "" {
		if _, err := cfg.registry.Lookup(cfg.encoding); err != nil {
			return nil, fmt.Errorf("dataqueue: NewProducer: %w", err)
		}
	}
	idem := cfg.acks == AcksAll
	if cfg.idempotent != nil {
		if *cfg.idempotent && cfg.acks != AcksAll {
			return nil, errors.New("dataqueue: NewProducer: idempotence needs AcksAll")
		}
		idem = *cfg.idempotent
	}
	kopts := []kgo.Opt{
		kgo.RequiredAcks(kgoAcks(cfg.acks)),
		kgo.ProducerLinger(cfg.linger),
		// aiokafka sends uncompressed by default and its consumers need an
		// optional package for snappy, franz-go's default: stay readable.
		kgo.ProducerBatchCompression(kgo.NoCompression()),
	}
	if cfg.topic != "" {
		kopts = append(kopts, kgo.DefaultProduceTopic(cfg.topic))
	}
	if !idem {
		kopts = append(kopts, kgo.DisableIdempotentWrite())
	}
	if cfg.maxBytes > 0 {
		kopts = append(kopts, kgo.ProducerBatchMaxBytes(cfg.maxBytes))
	}
	if cfg.autoCreate {
		kopts = append(kopts, kgo.AllowAutoTopicCreation())
	}
	cl, err := kgo.NewClient(append(cfg.base(brokers), kopts...)...)
	if err != nil {
		return nil, fmt.Errorf("dataqueue: NewProducer: %w", err)
	}
	return &Producer{cl: cl, cfg: cfg}, nil
}

func kgoAcks(a Acks) kgo.Acks {
	switch a {
	case AcksLeader:
		return kgo.LeaderAck()
	case AcksNone:
		return kgo.NoAck()
	}
	return kgo.AllISRAcks()
}

// Client returns the underlying franz-go client, for what this package does
// not wrap. Do not close it.
func (p *Producer) Client() *kgo.Client { return p.cl }

// record validates and encodes v into a record ready to produce.
func (p *Producer) record(v pyval.Value, opts []SendOption) (*kgo.Record, error) {
	if p.closed.Load() {
		return nil, ErrClosed
	}
	var sc sendConfig
	for _, o := range opts {
		o.applySend(&sc)
	}
	topic := sc.topic
	if topic == "" {
		topic = p.cfg.topic
	}
	if topic == "" {
		return nil, ErrNoTopic
	}
	if sc.schema != nil {
		if err := sc.schema.Validate(v); err != nil {
			ve := &ValidationError{Topic: topic, Err: err}
			if n, ok := sc.schema.(interface{ Name() string }); ok {
				ve.Schema = n.Name()
			}
			return nil, ve
		}
	}
	enc := p.cfg.encoding
	if sc.encodingSet {
		enc = sc.encoding
	}
	var data []byte
	if enc == "" {
		b, ok := v.(pyval.Bytes)
		if !ok {
			return nil, &EncodeError{Topic: topic, Err: fmt.Errorf("without an encoding the value must be bytes, got %s", pyval.Repr(v))}
		}
		data = b
	} else {
		codec, err := p.cfg.registry.Lookup(enc)
		if err != nil {
			return nil, &EncodeError{Encoding: enc, Topic: topic, Err: err}
		}
		if data, err = codec.Encode(v); err != nil {
			return nil, &EncodeError{Encoding: enc, Topic: topic, Err: err}
		}
	}
	if data == nil {
		// A nil value is a null record (a tombstone) on the wire; Python
		// sends b"" for "" and so do we.
		data = []byte{}
	}
	r := &kgo.Record{Topic: topic, Key: sc.key, Value: data, Timestamp: sc.timestamp}
	for _, h := range sc.headers {
		r.Headers = append(r.Headers, kgo.RecordHeader{Key: h.Key, Value: h.Value})
	}
	return r, nil
}

func metadata(r *kgo.Record) RecordMetadata {
	return RecordMetadata{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Timestamp: r.Timestamp}
}

// produceErr names the topic in a broker error and attaches our sentinel.
func produceErr(r *kgo.Record, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("dataqueue: sending to %q: %w", r.Topic, classify(err))
}

// Send encodes v and waits until the broker acknowledges it (aiokafka's
// send_and_wait). Without an encoding (none on the producer, or
// WithEncoding("") on the call) v must be pyval.Bytes and is sent as is.
// Errors: ErrNoTopic, ValidationError (ErrValidation), EncodeError
// (ErrEncoding), ErrUnknownTopic, ErrMessageTooLarge, ErrClosed, ctx's.
func (p *Producer) Send(ctx context.Context, v pyval.Value, opts ...SendOption) (RecordMetadata, error) {
	r, err := p.record(v, opts)
	if err != nil {
		return RecordMetadata{}, err
	}
	if err := p.cl.ProduceSync(ctx, r).FirstErr(); err != nil {
		return RecordMetadata{}, produceErr(r, err)
	}
	return metadata(r), nil
}

// SendAsync encodes v and queues it, returning at once; cb (which may be
// nil) is called from a franz-go goroutine with the outcome. Records to
// one partition are delivered and called back in order. Errors found
// before queueing (closed producer, no topic, validation, encoding) are
// returned and cb is not called. SendAsync blocks only when the client's
// buffer is full, until ctx ends.
func (p *Producer) SendAsync(ctx context.Context, v pyval.Value, cb func(RecordMetadata, error), opts ...SendOption) error {
	r, err := p.record(v, opts)
	if err != nil {
		return err
	}
	p.cl.Produce(ctx, r, func(r *kgo.Record, err error) {
		if cb == nil {
			return
		}
		if err != nil {
			cb(RecordMetadata{}, produceErr(r, err))
			return
		}
		cb(metadata(r), nil)
	})
	return nil
}

// SendMany sends every value with the same options and waits for all of
// them. The metadata slice matches values; the error joins every failure,
// each naming its index. Nothing is sent if any value fails validation or
// encoding.
func (p *Producer) SendMany(ctx context.Context, values []pyval.Value, opts ...SendOption) ([]RecordMetadata, error) {
	recs := make([]*kgo.Record, len(values))
	for i, v := range values {
		r, err := p.record(v, opts)
		if err != nil {
			return nil, fmt.Errorf("value %d: %w", i, err)
		}
		recs[i] = r
	}
	res := p.cl.ProduceSync(ctx, recs...)
	md := make([]RecordMetadata, len(values))
	var errs []error
	for i, pr := range res {
		if pr.Err != nil {
			errs = append(errs, fmt.Errorf("value %d: %w", i, produceErr(pr.Record, pr.Err)))
			continue
		}
		md[i] = metadata(pr.Record)
	}
	return md, errors.Join(errs...)
}

// Flush waits until every queued record has been acknowledged or failed.
func (p *Producer) Flush(ctx context.Context) error {
	return p.cl.Flush(ctx)
}

// Close flushes queued records (until ctx ends; the rest then fail with
// ErrClosed in their callbacks) and closes the connections. Later sends
// fail with ErrClosed. Close is idempotent.
func (p *Producer) Close(ctx context.Context) error {
	p.closeMu.Lock()
	defer p.closeMu.Unlock()
	if p.closed.Swap(true) {
		return p.closeErr
	}
	if err := p.cl.Flush(ctx); err != nil {
		p.closeErr = fmt.Errorf("dataqueue: closing producer: %w", err)
		_ = p.cl.AbortBufferedRecords(context.Background())
	}
	p.cl.Close()
	return p.closeErr
}
