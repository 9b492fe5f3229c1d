package kafkaio_test

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/sdpkit/sdpkit/connector/descriptor"
	"github.com/sdpkit/sdpkit/connector/exchange"
	"github.com/sdpkit/sdpkit/connector/kafkaio"
	"github.com/sdpkit/sdpkit/dataqueue"
	"github.com/sdpkit/sdpkit/pyval"
)

// A Kafka → Kafka exchange: python-encoded numbers in, float64 values out
// as json, each record stamped with the unix milliseconds the value
// carries.
func Example() {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation())
	if err != nil {
		panic(err)
	}
	defer cluster.Close()
	broker := cluster.ListenAddrs()[0]
	ctx := context.Background()

	d, err := descriptor.Parse([]byte(`{"exchanges": [{
		"dtype": "float64", "shape": [],
		"source": {"type": "KafkaConsumerSource", "servers": "kafka://` + broker + `", "topic": "in", "encoding": "python"},
		"sink": {"type": "KafkaProducerSink", "servers": "` + broker + `", "topic": "out", "encoding": "json",
		         "timestamp_options": {"slices": []}}}]}`))
	if err != nil {
		panic(err)
	}
	ex := d.All()[0]
	// WithStartAtEarliest: read what is produced below even if it is sent
	// before the consumer has found the end of the topic.
	src, err := kafkaio.NewSource(ctx, ex, ex.Sources[0].(*descriptor.KafkaConsumerSource), kafkaio.WithStartAtEarliest())
	if err != nil {
		panic(err)
	}
	pipe := exchange.NewDefaultPipe(ex.DType.NumPy, ex.Shape)
	snk, err := kafkaio.NewSink(ctx, ex, ex.Sink.(*descriptor.KafkaProducerSink), pipe.OutputDType(), pipe.OutputShape())
	if err != nil {
		panic(err)
	}
	x, err := exchange.New([]exchange.Source{src}, pipe, snk)
	if err != nil {
		panic(err)
	}
	if err := x.Start(ctx); err != nil {
		panic(err)
	}
	done := make(chan error)
	go func() { done <- x.Run(ctx) }()

	p, _ := dataqueue.NewProducer([]string{broker}, dataqueue.WithTopic("in"), dataqueue.WithEncoding("utf-8"))
	for _, text := range []string{"1795309200000", "1795309200500.5"} { // the python encoding's text
		if _, err := p.Send(ctx, pyval.Str(text)); err != nil {
			panic(err)
		}
	}
	p.Close(ctx)
	for x.Stats().In < 2 {
		time.Sleep(time.Millisecond)
	}
	if err := x.Stop(ctx); err != nil { // drains and flushes: both are delivered
		panic(err)
	}
	if err := <-done; err != nil {
		panic(err)
	}

	c, _ := dataqueue.NewConsumer([]string{broker}, dataqueue.WithTopics("out"), dataqueue.WithEncoding("json"))
	defer c.Close(ctx)
	n := 0
	for m, err := range c.Messages(ctx) {
		if err != nil {
			panic(err)
		}
		fmt.Println(string(m.Raw), pyval.Repr(m.Value), m.Timestamp.UTC().Format(time.RFC3339Nano))
		if n++; n == 2 {
			break
		}
	}
	// Output:
	// 1795309200000.0 1795309200000.0 2026-11-22T01:00:00Z
	// 1795309200500.5 1795309200500.5 2026-11-22T01:00:00.5Z
}

// Timestamp after a BufferWithTimePipe: the batch's latest TAI time, as UTC.
func ExampleTimestamp() {
	batch := pyval.StrDict("ts", pyval.List{
		// datetime64[ms] on TAI: 2026-11-22T00:00:37 and …:38 TAI.
		datetimeMS(1795305637000), datetimeMS(1795305638000),
	})
	key := "ts"
	t, err := kafkaio.Timestamp(batch, &descriptor.TimestampOptions{Key: &key, Reducer: descriptor.ReducerMax})
	if err != nil {
		panic(err)
	}
	fmt.Println(t.UTC().Format(time.RFC3339))
	// Output: 2026-11-22T00:00:01Z
}

func datetimeMS(ms int64) *pyval.Scalar { return datetime("ms", ms) }
