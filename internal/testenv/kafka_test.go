package testenv

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestMain(m *testing.M) { MainWithKafka(m) }

func TestKafkaVersionMatchesPom(t *testing.T) {
	root, ok := moduleRoot()
	if !ok {
		t.Fatal("no module root")
	}
	pom, err := os.ReadFile(filepath.Join(root, "scripts", "kafka", "pom.xml"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`<kafka.version>([^<]+)</kafka.version>`).FindSubmatch(pom)
	if m == nil {
		t.Fatal("no <kafka.version> in scripts/kafka/pom.xml")
	}
	if got := string(m[1]); got != KafkaVersion {
		t.Fatalf("scripts/kafka/pom.xml pins Kafka %s, KafkaVersion is %s", got, KafkaVersion)
	}
}

func TestTopic(t *testing.T) {
	valid := regexp.MustCompile(`^[a-zA-Z0-9-]+$`)
	for _, name := range []string{"plain", "with spaces/and.dots_and_underscores", strings.Repeat("long", 80), "ünïcode"} {
		t.Run(name, func(t *testing.T) {
			a, b := Topic(t), Topic(t)
			if a == b {
				t.Fatalf("two calls gave the same topic %q", a)
			}
			for _, topic := range []string{a, b} {
				if !valid.MatchString(topic) || len(topic) > 249 {
					t.Fatalf("Topic = %q: not a safe Kafka topic name", topic)
				}
			}
		})
	}
}

// produceConsume sends one record with a key and a header to topic and
// reads it back with a fresh client.
func produceConsume(t *testing.T, b KafkaBroker, topic string, opts ...kgo.Opt) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	want := &kgo.Record{
		Topic: topic, Key: []byte("k"), Value: []byte("value \x00\xff"),
		Headers: []kgo.RecordHeader{{Key: "h", Value: []byte("v")}},
	}
	if err := KafkaClient(t, b, opts...).ProduceSync(ctx, want).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
	got := consumeN(ctx, t, b, topic, 1)[0]
	if !bytes.Equal(got.Key, want.Key) || !bytes.Equal(got.Value, want.Value) ||
		len(got.Headers) != 1 || got.Headers[0].Key != "h" || string(got.Headers[0].Value) != "v" {
		t.Fatalf("consumed key %q value %q headers %v; want %q %q %v", got.Key, got.Value, got.Headers, want.Key, want.Value, want.Headers)
	}
}

// consumeN reads n records of topic from the start, without a group.
func consumeN(ctx context.Context, t *testing.T, b KafkaBroker, topic string, n int) []*kgo.Record {
	t.Helper()
	cl := KafkaClient(t, b, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var recs []*kgo.Record
	for len(recs) < n {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of %d records from %s: %v", len(recs), n, topic, err)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", topic, p, err) })
		recs = append(recs, fs.Records()...)
	}
	return recs
}

func TestKafkaBrokersProduceConsume(t *testing.T) {
	for _, tc := range []struct {
		name   string
		broker func(t *testing.T) KafkaBroker
	}{
		{"kfake", func(t *testing.T) KafkaBroker { return KFake(t) }},
		{"kafka", func(t *testing.T) KafkaBroker { return SharedKafka(t) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.broker(t)
			if len(b.Brokers()) == 0 {
				t.Fatal("no broker addresses")
			}
			produceConsume(t, b, NewTopic(t, b, 1))
		})
	}
}

func TestKFakeAutoCreatesTopics(t *testing.T) {
	f := KFake(t)
	produceConsume(t, f, Topic(t), kgo.AllowAutoTopicCreation())
	f.Stop()
	f.Stop()
}

func TestKafkaRestartKeepsAckedRecord(t *testing.T) {
	k := Kafka(t)
	topic := NewTopic(t, k, 1)
	before := k.Addr()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cl := KafkaClient(t, k) // acks=all, idempotent: the franz-go defaults
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("before")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	k.Restart(t)
	if k.Addr() != before {
		t.Fatalf("restarted on %s, was %s", k.Addr(), before)
	}
	// The old client reconnects by itself.
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("after")}).FirstErr(); err != nil {
		t.Fatalf("produce after restart: %v", err)
	}
	recs := consumeN(ctx, t, k, topic, 2)
	if string(recs[0].Value) != "before" || string(recs[1].Value) != "after" || recs[0].Offset != 0 {
		t.Fatalf("after restart: %q@%d %q@%d; want before@0 after@1", recs[0].Value, recs[0].Offset, recs[1].Value, recs[1].Offset)
	}
	if err := k.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := k.Stop(); err != nil {
		t.Fatal(err)
	}
}
