// Package dataqueue sends and receives SDP data-queue messages over Kafka,
// the Go counterpart of ska-sdp-dataqueues (DataQueueProducer,
// DataQueueConsumer, DataQueueAdmin), built on franz-go.
//
// Values are pyval values encoded with one of the wire encodings of
// package encoding ("utf-8", "ascii", "json", "msgpack", "msgpack_numpy",
// "npy", or a codec registered by the user), so records are byte-identical
// with what the Python peers send and read. Without an encoding, values are
// raw bytes.
//
//	p, _ := dataqueue.NewProducer(brokers, dataqueue.WithTopic("metrics"), dataqueue.WithEncoding("msgpack_numpy"))
//	md, err := p.Send(ctx, value)
//
//	c, _ := dataqueue.NewConsumer(brokers, dataqueue.WithTopics("metrics"), dataqueue.WithEncoding("msgpack_numpy"))
//	for m, err := range c.Messages(ctx) { … m.Value … }
//
// Defaults and how they compare with the Python wrapper (aiokafka):
//
//   - acks=all with idempotent writes (aiokafka: acks=1); WithAcks.
//   - no compression and linger 0 (as aiokafka); records up to 1 000 012
//     bytes (Kafka's max.message.bytes; aiokafka's max_request_size is
//     1 MiB); WithMaxMessageBytes.
//   - consumers start at the earliest record and, without WithGroup, commit
//     nothing (as the wrapper's documented behaviour implies).
//   - consumers long-poll fetches for at most 500 ms (aiokafka's
//     fetch_max_wait_ms; franz-go's is 5 s), so topics added while running
//     start promptly.
//   - producing to a missing topic asks the broker to auto-create it, as
//     aiokafka does; WithAutoTopicCreation(false) turns that off.
//
// Errors match the sentinels ErrClosed, ErrNoTopic, ErrUnknownTopic,
// ErrMessageTooLarge, ErrEncoding and ErrValidation with errors.Is; the
// typed EncodeError, DecodeError and ValidationError give the details.
package dataqueue
