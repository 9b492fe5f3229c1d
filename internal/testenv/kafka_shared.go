package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// sharedKafka is the one broker a test binary shares (SharedKafka). It is
// package state by necessity: a broker outlives every single test.
var sharedKafka struct {
	main atomic.Bool // MainWithKafka is running the tests
	once sync.Once
	s    *KafkaServer
	dir  string
	err  error
}

// MainWithKafka runs the tests of a package that uses SharedKafka, then
// stops the shared broker and removes its directory, and exits. Call it
// from the package's TestMain:
//
//	func TestMain(m *testing.M) { testenv.MainWithKafka(m) }
func MainWithKafka(m *testing.M) { os.Exit(RunWithKafka(m)) }

// RunWithKafka is MainWithKafka without the exit: it runs the tests, stops
// the shared broker and returns the exit code, for a TestMain that must
// leave the process its own way (package tango's ExitNow).
func RunWithKafka(m *testing.M) int {
	sharedKafka.main.Store(true)
	code := m.Run()
	if s := sharedKafka.s; s != nil {
		if err := s.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	if sharedKafka.dir != "" {
		_ = os.RemoveAll(sharedKafka.dir)
	}
	return code
}

// EachKafka runs f as two subtests: "kfake" against a kfake cluster, and
// "kafka" against the shared real broker (SharedKafka; skipped in -short
// mode). The package's TestMain must use MainWithKafka or RunWithKafka.
func EachKafka(t *testing.T, f func(t *testing.T, k KafkaBroker)) {
	t.Run("kfake", func(t *testing.T) { f(t, KFake(t)) })
	t.Run("kafka", func(t *testing.T) {
		if testing.Short() {
			t.Skip("short: no real broker")
		}
		f(t, SharedKafka(t))
	})
}

// SharedKafka returns the test binary's one Kafka broker, starting it on
// first use; MainWithKafka stops it after the last test. Tests share it, so
// each uses its own topics (Topic, NewTopic) and must not restart or
// reconfigure it (use Kafka for that). Without the jars or java the test
// is skipped, or fails when SDP_REQUIRE_PEERS=1.
func SharedKafka(t testing.TB) *KafkaServer {
	t.Helper()
	libs := KafkaLibs(t)
	java := Java(t)
	if !sharedKafka.main.Load() {
		t.Fatal("testenv.SharedKafka: the package's TestMain must call testenv.MainWithKafka(m)")
	}
	sharedKafka.once.Do(func() {
		dir, err := os.MkdirTemp("", "sdpkit-kafka-")
		if err != nil {
			sharedKafka.err = err
			return
		}
		sharedKafka.dir = dir
		sharedKafka.s, sharedKafka.err = newKafka(java, libs, dir)
	})
	if sharedKafka.err != nil {
		t.Fatalf("testenv: starting the shared Kafka broker: %v", sharedKafka.err)
	}
	return sharedKafka.s
}

// Topic returns a topic name unique to the test and this call: the test's
// name, with what Kafka does not accept replaced, and a random suffix. It
// creates nothing (see NewTopic).
func Topic(t testing.TB) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("t-")
	for _, r := range t.Name() {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-':
			b.WriteRune(r)
		default:
			// Only '-': Kafka warns about topics mixing '.' and '_'.
			b.WriteByte('-')
		}
	}
	name := b.String()
	if len(name) > 200 { // Kafka allows 249
		name = name[:200]
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	return name + "-" + hex.EncodeToString(rnd[:])
}

// NewTopic creates a topic unique to the test (Topic) with the given
// number of partitions and replication factor 1 on b, and returns its name.
// The topic is deleted when the test ends (best effort).
func NewTopic(t testing.TB, b KafkaBroker, partitions int32) string {
	t.Helper()
	topic := Topic(t)
	adm := kadm.NewClient(KafkaClient(t, b))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := adm.CreateTopic(ctx, partitions, 1, nil, topic); err != nil {
		t.Fatalf("testenv: creating topic %s: %v", topic, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = adm.DeleteTopic(ctx, topic)
	})
	return topic
}

// KafkaClient returns a franz-go client seeded with b's brokers, closed when
// the test ends. opts follow the seed option.
func KafkaClient(t testing.TB, b KafkaBroker, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(b.Brokers()...)}, opts...)...)
	if err != nil {
		t.Fatalf("testenv: Kafka client: %v", err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// FakeKafka is franz-go's in-process fake Kafka cluster (kfake), listening
// on a free loopback port.
type FakeKafka struct {
	c *kfake.Cluster
}

// KFake starts a kfake cluster for the test: one broker on a free
// 127.0.0.1 port that creates topics a client asks for (clients still need
// kgo.AllowAutoTopicCreation to ask). opts follow these defaults. It is
// closed when the test ends.
func KFake(t testing.TB, opts ...kfake.Opt) *FakeKafka {
	t.Helper()
	all := append([]kfake.Opt{kfake.NumBrokers(1), kfake.AllowAutoTopicCreation()}, opts...)
	c, err := kfake.NewCluster(all...)
	if err != nil {
		t.Fatalf("testenv: starting kfake: %v", err)
	}
	f := &FakeKafka{c: c}
	t.Cleanup(f.Stop)
	return f
}

// Brokers returns the cluster's listen addresses.
func (f *FakeKafka) Brokers() []string { return f.c.ListenAddrs() }

// Cluster returns the kfake cluster, for its controls (fault injection,
// broker moves).
func (f *FakeKafka) Cluster() *kfake.Cluster { return f.c }

// Stop closes the cluster. Stopping twice is fine.
func (f *FakeKafka) Stop() { f.c.Close() }

// RetargetKafka points every Kafka source and sink of a connector
// configuration decoded from JSON (objects as map[string]any) at broker b,
// keeping the form of "servers" (string or list), and gives each topic a
// fresh one-partition topic. visit, when not nil, sees every object first,
// to rewrite other fields (device names, say). It returns old → new topic
// names.
func RetargetKafka(t testing.TB, b KafkaBroker, cfg any, visit func(map[string]any)) map[string]string {
	t.Helper()
	topics := map[string]string{}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if visit != nil {
				visit(v)
			}
			if s, ok := v["servers"]; ok {
				if _, list := s.([]any); list {
					v["servers"] = []any{b.Brokers()[0]}
				} else {
					v["servers"] = b.Brokers()[0]
				}
				if old, ok := v["topic"].(string); ok {
					if _, seen := topics[old]; !seen {
						topics[old] = NewTopic(t, b, 1)
					}
					v["topic"] = topics[old]
				}
			}
			for _, c := range v {
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	walk(cfg)
	return topics
}
