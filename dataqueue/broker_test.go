package dataqueue_test

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/sdpkit/sdpkit/dataqueue"
	"github.com/sdpkit/sdpkit/internal/testenv"
)

// broker is a Kafka cluster a test talks to. testenv.Kafka(t) (a real
// Apache Kafka in KRaft mode) and testenv.KFake(t) provide the same method.
type broker interface {
	Brokers() []string
}

// restartableBroker can be stopped and started again on the same address
// with its data kept, for the failure tests.
type restartableBroker interface {
	broker
	Restart(t testing.TB)
}

// startKFake starts franz-go's in-process fake broker for the test. It
// creates topics that clients ask for; our producers do ask by default
// (WithAutoTopicCreation), which the real broker of the tests refuses, as
// SDP's do: tests create their topics through Admin.
func startKFake(t testing.TB, opts ...kfake.Opt) broker {
	t.Helper()
	return testenv.KFake(t, opts...)
}

// kfakeDisk is a kfake cluster persisted in a directory, so it can be
// stopped and started again on the same port with its data: a broker
// restart.
type kfakeDisk struct {
	dir  string
	port int
	c    *kfake.Cluster
}

func (b *kfakeDisk) Brokers() []string { return b.c.ListenAddrs() }

func (b *kfakeDisk) start(t testing.TB) {
	t.Helper()
	opts := []kfake.Opt{kfake.NumBrokers(1), kfake.DataDir(b.dir)}
	if b.port != 0 {
		opts = append(opts, kfake.Ports(b.port))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		t.Fatalf("starting kfake on %s: %v", b.dir, err)
	}
	b.c = c
	if b.port == 0 {
		_, port, _ := net.SplitHostPort(c.ListenAddrs()[0])
		b.port, _ = strconv.Atoi(port)
	}
}

// Restart stops the cluster and starts it again from its directory.
func (b *kfakeDisk) Restart(t testing.TB) {
	t.Helper()
	b.c.Close()
	b.start(t)
}

func startKFakeDisk(t testing.TB) broker {
	t.Helper()
	b := &kfakeDisk{dir: t.TempDir()}
	b.start(t)
	t.Cleanup(func() { b.c.Close() })
	return b
}

// backends are the clusters every broker test runs against.
var backends = []struct {
	name  string
	start func(t testing.TB) broker
}{
	{"kfake", func(t testing.TB) broker { return startKFake(t) }},
	// The real Apache Kafka broker the test binary shares (TestMain); each
	// test makes its own topics.
	{"kafka", func(t testing.TB) broker { return testenv.SharedKafka(t) }},
}

// restartBackends are the clusters the broker-restart tests run against.
var restartBackends = []struct {
	name  string
	start func(t testing.TB) broker
}{
	{"kfake-disk", startKFakeDisk},
	// A broker of its own: the test restarts it.
	{"kafka", func(t testing.TB) broker { return testenv.Kafka(t) }},
}

// forEachBroker runs f once per backend: a fresh kfake cluster, and the
// shared real broker.
func forEachBroker(t *testing.T, f func(t *testing.T, b broker)) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			f(t, be.start(t))
		})
	}
}

func TestMain(m *testing.M) { testenv.MainWithKafka(m) }

// newTopic creates a topic with a name unique to the test (and to the
// call: the real broker is shared by every test of the binary) through
// Admin, as SDP code does.
func newTopic(t testing.TB, b broker, partitions int32) string {
	t.Helper()
	name := testenv.Topic(t)
	a, err := dataqueue.NewAdmin(b.Brokers())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.CreateTopics(testCtx(t), dataqueue.TopicSpec{Name: name, MinPartitions: partitions}); err != nil {
		t.Fatalf("creating topic %s: %v", name, err)
	}
	return name
}

// testCtx bounds a test's broker calls, so a hang fails instead of
// stalling the run.
func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func newProducer(t testing.TB, b broker, opts ...dataqueue.ProducerOption) *dataqueue.Producer {
	t.Helper()
	p, err := dataqueue.NewProducer(b.Brokers(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(context.Background()) })
	return p
}

func newConsumer(t testing.TB, b broker, opts ...dataqueue.ConsumerOption) *dataqueue.Consumer {
	t.Helper()
	c, err := dataqueue.NewConsumer(b.Brokers(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// collect reads n messages, failing the test on any error.
func collect(t testing.TB, ctx context.Context, c *dataqueue.Consumer, n int) []*dataqueue.Message {
	t.Helper()
	var out []*dataqueue.Message
	if n == 0 {
		return out
	}
	for m, err := range c.Messages(ctx) {
		if err != nil {
			t.Fatalf("consuming: %v", err)
		}
		out = append(out, m)
		if len(out) == n {
			return out
		}
	}
	t.Fatalf("iteration ended after %d of %d messages (ctx: %v)", len(out), n, ctx.Err())
	return nil
}
