package dataqueue

import (
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Sentinel errors. Every error this package returns for one of these
// conditions matches it with errors.Is; broker errors also keep matching the
// underlying franz-go error (kerr.UnknownTopicOrPartition, …).
var (
	// ErrClosed: the producer, consumer or admin was closed.
	ErrClosed = errors.New("dataqueue: closed")
	// ErrNoTopic: a send named no topic and the producer has no default.
	ErrNoTopic = errors.New("dataqueue: no topic given and no default topic")
	// ErrUnknownTopic: the broker does not know the topic or partition
	// (aiokafka's UnknownTopicOrPartitionError).
	ErrUnknownTopic = errors.New("dataqueue: unknown topic or partition")
	// ErrMessageTooLarge: the encoded record exceeds the client's or the
	// broker's limit (aiokafka's MessageSizeTooLargeError; 1 MB by default).
	ErrMessageTooLarge = errors.New("dataqueue: message too large")
	// ErrEncoding: a value could not be encoded, or a record's bytes could
	// not be decoded (see EncodeError and DecodeError).
	ErrEncoding = errors.New("dataqueue: encoding error")
	// ErrConcurrentIteration: a second Consumer.Messages loop was started
	// while one is running.
	ErrConcurrentIteration = errors.New("dataqueue: consumer is already being iterated")
	// ErrValidation: a schema rejected a value before it was sent (see
	// ValidationError).
	ErrValidation = errors.New("dataqueue: validation failed")
)

// EncodeError reports a value the producer could not turn into bytes. It
// matches ErrEncoding.
type EncodeError struct {
	Encoding string // wire name, "" for a raw (bytes only) send
	Topic    string
	Err      error // the codec's error
}

func (e *EncodeError) Error() string {
	enc := e.Encoding
	if enc == "" {
		enc = "none (raw bytes)"
	}
	return fmt.Sprintf("dataqueue: encoding a value for topic %q with encoding %s: %v", e.Topic, enc, e.Err)
}
func (e *EncodeError) Unwrap() error        { return e.Err }
func (e *EncodeError) Is(target error) bool { return target == ErrEncoding }

// DecodeError reports a record whose bytes the consumer's encoding could
// not decode. Consumer.Messages yields it with the record (Raw is still
// available through Message) and goes on with the next record. It matches
// ErrEncoding.
type DecodeError struct {
	Topic     string
	Partition int32
	Offset    int64
	Encoding  string
	Err       error // the codec's error
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("dataqueue: decoding %s/%d@%d with encoding %s: %v", e.Topic, e.Partition, e.Offset, e.Encoding, e.Err)
}
func (e *DecodeError) Unwrap() error        { return e.Err }
func (e *DecodeError) Is(target error) bool { return target == ErrEncoding }

// ValidationError reports a value a schema rejected; nothing was sent. It
// matches ErrValidation.
type ValidationError struct {
	Schema string // the schema's Name(), if it has one
	Topic  string
	Err    error // the schema's error
}

func (e *ValidationError) Error() string {
	s := e.Schema
	if s == "" {
		s = "schema"
	}
	return fmt.Sprintf("dataqueue: value for topic %q fails %s: %v", e.Topic, s, e.Err)
}
func (e *ValidationError) Unwrap() error        { return e.Err }
func (e *ValidationError) Is(target error) bool { return target == ErrValidation }

// brokerError gives a franz-go error one of our sentinels while keeping the
// original in the chain.
type brokerError struct {
	sentinel error
	err      error
}

func (e *brokerError) Error() string        { return e.err.Error() }
func (e *brokerError) Unwrap() error        { return e.err }
func (e *brokerError) Is(target error) bool { return target == e.sentinel }

// classify attaches our sentinel to a franz-go error, if one applies.
func classify(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, kerr.UnknownTopicOrPartition), errors.Is(err, kerr.UnknownTopicID):
		return &brokerError{ErrUnknownTopic, err}
	case errors.Is(err, kerr.MessageTooLarge), errors.Is(err, kerr.RecordListTooLarge):
		return &brokerError{ErrMessageTooLarge, err}
	case errors.Is(err, kgo.ErrClientClosed):
		return &brokerError{ErrClosed, err}
	}
	return err
}
