package kafkaio

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/sdpkit/sdpkit/connector/descriptor"
	"github.com/sdpkit/sdpkit/connector/exchange"
	"github.com/sdpkit/sdpkit/dataqueue"
	"github.com/sdpkit/sdpkit/dataqueue/encoding"
	"github.com/sdpkit/sdpkit/pyval"
)

// Source is the KafkaConsumerSource: it consumes every partition of one
// topic and emits each record's value, decoded and converted to the
// exchange's dtype and shape (see Convert). With the bytes dtype it emits
// the DevEncoded pair (encoding, raw payload) without decoding.
//
// A str exchange reads python-encoded records that are not Python literals
// as text (PythonCodec.TextFallback), since the Python connector may send
// a str bare.
//
// Positions: a source has no consumer group and commits nothing; it starts
// at the end of each partition (the latest offset), so it sees the records
// produced after it started, as the Python connector most likely does (the
// descriptor exposes no group or offset setting). The end is looked up when
// the consumer first fetches, shortly after Start, not by Start itself.
// WithStartAtEarliest reads from the beginning instead. Because of that, the
// records produced while a device reconfigures (between the old source's
// stop and the new one's lookup of the end) are skipped; WithResume makes
// each new source start where its predecessor stopped instead (Positions).
//
// A record that cannot be decoded or converted is logged, counted
// (ErrorCount, which the exchange adds to Stats.Errors) and skipped; the
// Python connector would raise and fail the exchange, which
// WithFailOnDecodeError restores. Skipping is the default because one bad
// record, which any producer of the topic can write, would otherwise stop
// every exchange of the group until a Reset, and the restarted source
// (starting at the latest offset) would skip it anyway.
type Source struct {
	cfg      config
	brokers  []string
	topic    string
	encoding string
	dtype    pyval.DType
	shape    []int
	encoded  bool

	mu       sync.Mutex
	consumer *dataqueue.Consumer
	resuming bool // positions are tracked (set by Start, read by Run)
	errs     atomic.Uint64
}

var (
	_ exchange.Source       = (*Source)(nil)
	_ exchange.ErrorCounter = (*Source)(nil)
)

// NewSource builds the source that src describes for exchange ex (whose
// dtype and shape every source of the exchange produces). It checks the
// encoding but does not connect; Start does.
func NewSource(ctx context.Context, ex *descriptor.Exchange, src *descriptor.KafkaConsumerSource, opts ...Option) (*Source, error) {
	if ex == nil || src == nil {
		return nil, errors.New("kafkaio: NewSource: nil exchange or source descriptor")
	}
	s := &Source{
		cfg:      newConfig(opts),
		brokers:  Brokers(src.Servers.Addrs),
		topic:    src.Topic,
		encoding: string(src.Encoding),
		dtype:    ex.DType.NumPy,
		shape:    slices.Clone(ex.Shape),
		encoded:  ex.DType.Encoded(),
	}
	if s.encoding == "" {
		s.encoding = string(descriptor.EncodingPython)
	}
	if len(s.brokers) == 0 {
		return nil, errors.New("kafkaio: KafkaConsumerSource: no servers")
	}
	if s.topic == "" {
		return nil, errors.New("kafkaio: KafkaConsumerSource: no topic")
	}
	if _, err := s.cfg.registry(s.dtype, s.shape).Lookup(s.encoding); err != nil {
		return nil, fmt.Errorf("kafkaio: KafkaConsumerSource: %w", err)
	}
	return s, nil
}

// Topic returns the consumed topic.
func (s *Source) Topic() string { return s.topic }

// Start creates the consumer of the topic.
func (s *Source) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.consumer != nil {
		return nil
	}
	opts := []dataqueue.ConsumerOption{
		dataqueue.WithTopics(s.topic),
		dataqueue.WithRegistry(s.registry()),
	}
	s.resuming = false
	if s.cfg.positions != nil {
		ro, err := s.resumeOptions(ctx)
		if err != nil {
			// A topic that does not exist yet has no positions: start as
			// without WithResume (the first record creates it).
			s.cfg.logger.WarnContext(ctx, "kafka source cannot resume; starting at the reset point", "topic", s.topic, "err", err)
		} else {
			opts, s.resuming = append(opts, ro...), true
		}
	}
	if !s.encoded {
		opts = append(opts, dataqueue.WithEncoding(s.encoding))
	}
	if !s.cfg.earliest {
		opts = append(opts, dataqueue.WithStartAtLatest())
	}
	if s.cfg.clientID != "" {
		opts = append(opts, dataqueue.WithClientID(s.cfg.clientID))
	}
	c, err := dataqueue.NewConsumer(s.brokers, append(opts, s.cfg.consumer...)...)
	if err != nil {
		return fmt.Errorf("kafkaio: consumer of %s: %w", s.topic, err)
	}
	s.consumer = c
	return nil
}

// registry is where the consumer finds the encoding. A str exchange reads
// python-encoded records with TextFallback: the Python connector may send
// a str bare (str(value)), which is not a literal.
func (s *Source) registry() *encoding.Registry {
	r := s.cfg.registry(s.dtype, s.shape)
	if s.dtype.Kind != 'U' || s.dtype.IsStructured() {
		return r
	}
	c, err := r.Lookup(s.encoding)
	if pc, ok := c.(encoding.PythonCodec); err == nil && ok && !pc.TextFallback {
		pc.TextFallback = true
		only := &encoding.Registry{}
		if only.Register(pc) == nil {
			return only
		}
	}
	return r
}

// Run emits the topic's records until ctx ends.
func (s *Source) Run(ctx context.Context, emit exchange.Emit) error {
	s.mu.Lock()
	c, resuming := s.consumer, s.resuming
	s.mu.Unlock()
	if c == nil {
		return fmt.Errorf("kafkaio: source of %s: Run before Start", s.topic)
	}
	key := s.ResumeKey()
	// done moves the position past a record that was emitted or skipped.
	done := func(m *dataqueue.Message) {
		if resuming {
			s.cfg.positions.advance(key, m.Partition, m.Offset+1)
		}
	}
	for m, err := range c.Messages(ctx) {
		if err != nil {
			var de *dataqueue.DecodeError
			if m == nil || !errors.As(err, &de) {
				// A fetch failed; the consumer retries.
				s.cfg.logger.WarnContext(ctx, "kafka fetch failed", "topic", s.topic, "err", err)
				continue
			}
			if err := s.skip(ctx, m, err); err != nil {
				return err
			}
			done(m)
			continue
		}
		v, err := s.value(m)
		if err != nil {
			if err := s.skip(ctx, m, err); err != nil {
				return err
			}
			done(m)
			continue
		}
		if err := emit(ctx, v); err != nil {
			return err
		}
		done(m)
	}
	return nil
}

func (s *Source) value(m *dataqueue.Message) (pyval.Value, error) {
	if s.encoded {
		return pyval.Tuple{pyval.Str(s.encoding), pyval.Bytes(m.Raw)}, nil
	}
	v, err := Convert(m.Value, s.dtype, s.shape)
	if err != nil {
		return nil, fmt.Errorf("%s/%d@%d: %w", m.Topic, m.Partition, m.Offset, err)
	}
	return v, nil
}

// skip handles a record that could not become a value: an error with
// WithFailOnDecodeError, otherwise logged and counted.
func (s *Source) skip(ctx context.Context, m *dataqueue.Message, err error) error {
	if s.cfg.failOnError {
		return fmt.Errorf("kafkaio: %w", err)
	}
	s.errs.Add(1)
	s.cfg.logger.WarnContext(ctx, "kafka record skipped", "topic", m.Topic, "partition", m.Partition,
		"offset", m.Offset, "encoding", s.encoding, "bytes", len(m.Raw), "err", err)
	return nil
}

// ErrorCount returns the number of records skipped because they could not
// be decoded or converted.
func (s *Source) ErrorCount() uint64 { return s.errs.Load() }

// Stop closes the consumer (nothing is committed: the source has no
// group). A later Start creates a new one, at the latest offset again.
func (s *Source) Stop(ctx context.Context) error {
	s.mu.Lock()
	c := s.consumer
	s.consumer = nil
	s.mu.Unlock()
	if c == nil {
		return nil
	}
	return c.Close(ctx)
}
