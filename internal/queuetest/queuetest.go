// Package queuetest reads back, in tests, what a connector or producer
// wrote to a Kafka topic, decoded as the connector's sinks encode it.
package queuetest

import (
	"context"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/dataqueue"
	"github.com/sdpkit/sdpkit/dataqueue/encoding"
	"github.com/sdpkit/sdpkit/pyval"
)

// Consume reads topic from the start until enough holds for the records
// so far, decoding them with encoding enc ("" for each record's own
// header) through the connector's registry for dtype dt and shape. The
// test fails on a consumer error or if enough does not hold within 60 s.
func Consume(t testing.TB, brokers []string, topic, enc string, dt pyval.DType, shape []int, enough func([]*dataqueue.Message) bool) []*dataqueue.Message {
	t.Helper()
	opts := []dataqueue.ConsumerOption{dataqueue.WithTopics(topic), dataqueue.WithRegistry(encoding.NewConnectorRegistry(dt, shape))}
	if enc != "" {
		opts = append(opts, dataqueue.WithEncoding(enc))
	}
	c, err := dataqueue.NewConsumer(brokers, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var got []*dataqueue.Message
	if enough(got) {
		return got
	}
	for m, err := range c.Messages(ctx) {
		if err != nil {
			t.Fatalf("consuming %s after %d records: %v", topic, len(got), err)
		}
		got = append(got, m)
		if enough(got) {
			return got
		}
	}
	t.Fatalf("consuming %s: %d records before the deadline, not enough", topic, len(got))
	return nil
}

// AtLeast is enough for Consume once n records have arrived.
func AtLeast(n int) func([]*dataqueue.Message) bool {
	return func(ms []*dataqueue.Message) bool { return len(ms) >= n }
}
