package dataqueue_test

import (
	"context"
	"fmt"
	"log"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/sdpkit/sdpkit/dataqueue"
	"github.com/sdpkit/sdpkit/pyval"
)

// exampleCluster starts an in-process Kafka so the examples run; real code
// passes the SDP's bootstrap address, e.g. "ska-sdp-kafka.<namespace>:9092".
func exampleCluster() (brokers []string, stop func()) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		log.Fatal(err)
	}
	return c.ListenAddrs(), c.Close
}

func Example() {
	brokers, stop := exampleCluster()
	defer stop()
	ctx := context.Background()

	admin, err := dataqueue.NewAdmin(brokers)
	if err != nil {
		log.Fatal(err)
	}
	defer admin.Close()
	if err := admin.CreateTopics(ctx, dataqueue.Topic("greetings")); err != nil {
		log.Fatal(err)
	}

	p, err := dataqueue.NewProducer(brokers, dataqueue.WithTopic("greetings"), dataqueue.WithEncoding("utf-8"))
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close(ctx)
	md, err := p.Send(ctx, pyval.Str("hello"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("sent to %s/%d at offset %d\n", md.Topic, md.Partition, md.Offset)

	c, err := dataqueue.NewConsumer(brokers, dataqueue.WithTopics("greetings"), dataqueue.WithEncoding("utf-8"))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close(ctx)
	for m, err := range c.Messages(ctx) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(m.Topic, pyval.Repr(m.Value))
		break
	}
	// Output:
	// sent to greetings/0 at offset 0
	// greetings 'hello'
}

func ExampleAdmin_CreateTopics() {
	brokers, stop := exampleCluster()
	defer stop()
	ctx := context.Background()
	admin, err := dataqueue.NewAdmin(brokers)
	if err != nil {
		log.Fatal(err)
	}
	defer admin.Close()
	// Python: create_topics(["t1", ("t2", 5)]). Existing topics are fine;
	// ones with fewer partitions than asked are grown.
	for _, min := range []int32{3, 5} {
		err := admin.CreateTopics(ctx, dataqueue.Topic("t1"), dataqueue.TopicSpec{Name: "t2", MinPartitions: min})
		if err != nil {
			log.Fatal(err)
		}
	}
	topics, err := admin.DescribeTopics(ctx, "t1", "t2")
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range topics {
		fmt.Println(t.Name, len(t.Partitions))
	}
	// Output:
	// t1 1
	// t2 5
}

func ExampleConsumer_Messages_raw() {
	brokers, stop := exampleCluster()
	defer stop()
	ctx := context.Background()
	admin, _ := dataqueue.NewAdmin(brokers)
	defer admin.Close()
	if err := admin.CreateTopics(ctx, dataqueue.Topic("raw")); err != nil {
		log.Fatal(err)
	}
	// Without an encoding, values are bytes both ways.
	p, _ := dataqueue.NewProducer(brokers, dataqueue.WithTopic("raw"))
	defer p.Close(ctx)
	if _, err := p.Send(ctx, pyval.Bytes{0xca, 0xfe}, dataqueue.WithKey([]byte("k"))); err != nil {
		log.Fatal(err)
	}
	c, _ := dataqueue.NewConsumer(brokers)
	defer c.Close(ctx)
	if err := c.AssignTopics(dataqueue.TopicPartition{Topic: "raw", Partition: 0}); err != nil {
		log.Fatal(err)
	}
	for m, err := range c.Messages(ctx) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s %s\n", m.Key, pyval.Repr(m.Value))
		break
	}
	// Output:
	// k b'\xca\xfe'
}
