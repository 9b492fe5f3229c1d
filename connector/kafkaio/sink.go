package kafkaio

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/sdpkit/sdpkit/connector/descriptor"
	"github.com/sdpkit/sdpkit/connector/exchange"
	"github.com/sdpkit/sdpkit/connector/internal/ndconv"
	"github.com/sdpkit/sdpkit/dataqueue"
	"github.com/sdpkit/sdpkit/pyval"
)

// Sink is the KafkaProducerSink: it encodes each value with the
// descriptor's encoding and produces it to one topic, as one record with no
// key and no headers, each no larger than message_max_bytes (aiokafka's
// max_request_size).
//
// Record timestamps: without timestamp_options a record carries the time
// it is produced (CreateTime); with them, the time extracted from the
// value (see Timestamp). A value whose timestamp cannot be extracted fails
// the write.
//
// Values of the bytes dtype, DevEncoded pairs (encoding, payload), are
// produced as their payload, unchanged, whatever the sink's encoding: a
// Kafka → Kafka exchange of dtype bytes forwards records byte for byte.
// For the npy and carray encodings, a value that is not already an array
// or numpy scalar of the stream's dtype (a Python float from a scalar
// exchange, say) is first converted to one (numpy.asarray(v, dtype)), so
// the record has the exchange's dtype.
//
// Writes are pipelined: Write queues the record and returns; a delivery
// that fails is reported by a later Write, by Flush or by Stop. Flush
// (which the exchange calls at the end of every run) and Stop return only
// once every record written has been acknowledged by the broker (acks=all,
// see dataqueue), so a nil result means delivered.
type Sink struct {
	cfg      config
	brokers  []string
	topic    string
	encoding string
	maxBytes int
	ts       *descriptor.TimestampOptions
	dtype    pyval.DType
	shape    []int
	encoded  bool
	asArray  bool

	mu       sync.Mutex
	producer *dataqueue.Producer
	failed   error // first failed delivery
}

var (
	_ exchange.Sink    = (*Sink)(nil)
	_ exchange.Flusher = (*Sink)(nil)
)

// NewSink builds the sink that snk describes for exchange ex, whose pipe
// emits values of dtype and shape (the pipe's OutputDType and
// OutputShape). It checks the encoding but does not connect; Start does.
func NewSink(ctx context.Context, ex *descriptor.Exchange, snk *descriptor.KafkaProducerSink, dtype pyval.DType, shape []int, opts ...Option) (*Sink, error) {
	if snk == nil {
		return nil, errors.New("kafkaio: NewSink: nil sink descriptor")
	}
	s := &Sink{
		cfg:      newConfig(opts),
		brokers:  Brokers(snk.Servers.Addrs),
		topic:    snk.Topic,
		encoding: string(snk.Encoding),
		maxBytes: snk.MessageMaxBytes,
		ts:       snk.TimestampOptions,
		dtype:    dtype,
		shape:    slices.Clone(shape),
		encoded:  (ex != nil && ex.DType.Encoded()) || (dtype.Kind == 'S' && dtype.Size == 0),
	}
	if s.encoding == "" {
		s.encoding = string(descriptor.EncodingPython)
	}
	if s.maxBytes == 0 {
		s.maxBytes = 1048576
	}
	if s.maxBytes < 0 || s.maxBytes > math.MaxInt32 {
		return nil, fmt.Errorf("kafkaio: KafkaProducerSink: message_max_bytes %d out of range", s.maxBytes)
	}
	if len(s.brokers) == 0 {
		return nil, errors.New("kafkaio: KafkaProducerSink: no servers")
	}
	if s.topic == "" {
		return nil, errors.New("kafkaio: KafkaProducerSink: no topic")
	}
	if _, err := s.cfg.registry(s.dtype, s.shape).Lookup(s.encoding); err != nil {
		return nil, fmt.Errorf("kafkaio: KafkaProducerSink: %w", err)
	}
	s.asArray = (s.encoding == string(descriptor.EncodingNPY) || s.encoding == string(descriptor.EncodingCArray)) &&
		!ndconv.IsListKind(dtype) && !dtype.HasObject()
	return s, nil
}

// Topic returns the topic produced to.
func (s *Sink) Topic() string { return s.topic }

// Start creates the producer and checks that a broker answers.
func (s *Sink) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.producer != nil {
		return nil
	}
	opts := []dataqueue.ProducerOption{
		dataqueue.WithTopic(s.topic),
		dataqueue.WithEncoding(s.encoding),
		dataqueue.WithRegistry(s.cfg.registry(s.dtype, s.shape)),
		dataqueue.WithMaxMessageBytes(int32(s.maxBytes)),
	}
	if s.cfg.clientID != "" {
		opts = append(opts, dataqueue.WithClientID(s.cfg.clientID))
	}
	p, err := dataqueue.NewProducer(s.brokers, append(opts, s.cfg.producer...)...)
	if err != nil {
		return fmt.Errorf("kafkaio: producer to %s: %w", s.topic, err)
	}
	if err := p.Client().Ping(ctx); err != nil {
		_ = p.Close(ctx)
		return fmt.Errorf("kafkaio: producer to %s: no broker of %v answers: %w", s.topic, s.brokers, err)
	}
	s.producer = p
	return nil
}

// Write encodes v, extracts its timestamp and queues the record. It
// returns an error for a value that cannot be encoded or timestamped, and
// for an earlier record whose delivery failed.
func (s *Sink) Write(ctx context.Context, v pyval.Value) error {
	s.mu.Lock()
	p, failed := s.producer, s.failed
	s.mu.Unlock()
	if failed != nil {
		return failed
	}
	if p == nil {
		return fmt.Errorf("kafkaio: sink to %s: Write before Start", s.topic)
	}
	var opts []dataqueue.SendOption
	if s.ts != nil {
		t, err := Timestamp(v, s.ts)
		if err != nil {
			return fmt.Errorf("kafkaio: sink to %s: %w", s.topic, err)
		}
		opts = append(opts, dataqueue.WithTimestamp(t))
	}
	out, raw, err := s.prepare(v)
	if err != nil {
		return fmt.Errorf("kafkaio: sink to %s: %w", s.topic, err)
	}
	if raw {
		opts = append(opts, dataqueue.WithEncoding(""))
	}
	if err := p.SendAsync(ctx, out, s.delivered, opts...); err != nil {
		return fmt.Errorf("kafkaio: sink to %s: %w", s.topic, err)
	}
	return nil
}

// prepare returns what to send and whether it is a raw payload.
func (s *Sink) prepare(v pyval.Value) (pyval.Value, bool, error) {
	if s.encoded {
		if t, ok := v.(pyval.Tuple); ok && len(t) == 2 {
			if _, ok := t[0].(pyval.Str); ok {
				if b, ok := t[1].(pyval.Bytes); ok {
					return b, true, nil
				}
			}
		}
	}
	if s.asArray {
		switch x := v.(type) {
		case *pyval.NDArray:
			if x.DType.Equal(s.dtype) {
				return v, false, nil
			}
		case *pyval.Scalar:
			if x.DType.Equal(s.dtype) {
				return v, false, nil
			}
		}
		a, err := ndconv.ToArray(v, s.dtype)
		if err != nil {
			return nil, false, fmt.Errorf("%w: %w", ErrConvert, err)
		}
		return a, false, nil
	}
	return v, false, nil
}

func (s *Sink) delivered(_ dataqueue.RecordMetadata, err error) {
	if err == nil {
		return
	}
	s.cfg.logger.Error("kafka record not delivered", "topic", s.topic, "err", err)
	s.mu.Lock()
	if s.failed == nil {
		s.failed = fmt.Errorf("kafkaio: sink to %s: delivery failed: %w", s.topic, err)
	}
	s.mu.Unlock()
}

// Flush waits until every record written so far has been acknowledged, and
// returns the first failed delivery, if any.
func (s *Sink) Flush(ctx context.Context) error {
	s.mu.Lock()
	p := s.producer
	s.mu.Unlock()
	if p == nil {
		return nil
	}
	if err := p.Flush(ctx); err != nil {
		return fmt.Errorf("kafkaio: sink to %s: flush: %w", s.topic, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failed
}

// Stop flushes (see Flush) and closes the producer.
func (s *Sink) Stop(ctx context.Context) error {
	err := s.Flush(ctx)
	s.mu.Lock()
	p := s.producer
	s.producer = nil
	s.mu.Unlock()
	if p == nil {
		return err
	}
	return errors.Join(err, p.Close(ctx))
}
