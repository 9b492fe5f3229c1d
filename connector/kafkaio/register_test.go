package kafkaio_test

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/connector"
	"github.com/sdpkit/sdpkit/connector/kafkaio"
	"github.com/sdpkit/sdpkit/dataqueue"
	"github.com/sdpkit/sdpkit/dataqueue/encoding"
	"github.com/sdpkit/sdpkit/internal/testenv"
	"github.com/sdpkit/sdpkit/internal/vectors"
	"github.com/sdpkit/sdpkit/pyval"
)

// TestRegisterDevice runs example 01 (a python-encoded float from Kafka
// into a local attribute) through a real device whose factories come from
// Register, pointed at the test's broker.
func TestRegisterDevice(t *testing.T) {
	testenv.EachKafka(t, func(t *testing.T, k testenv.KafkaBroker) {
		ctx := testCtx(t)
		topic := testenv.Topic(t)
		raw, err := os.ReadFile(vectors.Path(t, "connector/examples", "01_kafka_float_to_tango_scalar.json"))
		if err != nil {
			t.Fatal(err)
		}
		desc := strings.NewReplacer(`"localhost:9092"`, `"kafka://`+k.Brokers()[0]+`"`, `"test-float-scalar"`, `"`+topic+`"`).Replace(string(raw))

		admin, err := dataqueue.NewAdmin(k.Brokers())
		if err != nil {
			t.Fatal(err)
		}
		defer admin.Close()
		if err := admin.CreateTopics(ctx, dataqueue.Topic(topic)); err != nil {
			t.Fatal(err)
		}

		f := connector.DefaultFactories()
		kafkaio.Register(f)
		d := connector.NewDevice(connector.WithFactories(f), connector.WithLogger(slog.New(slog.DiscardHandler)))
		defer d.Shutdown(context.Background())
		if err := d.Configure(ctx, desc); err != nil {
			t.Fatal(err)
		}
		if err := d.Start(ctx, ""); err != nil {
			t.Fatalf("start: %v (status %s)", err, d.Status())
		}

		p, err := dataqueue.NewProducer(k.Brokers(), dataqueue.WithTopic(topic),
			dataqueue.WithRegistry(encoding.NewConnectorRegistry(pyval.Float64, nil)), dataqueue.WithEncoding(encoding.Python))
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close(context.Background())

		// The source starts at the latest offset once it is running, so keep
		// sending until a value shows, then check the last one lands.
		value := func() pyval.Value {
			s, err := d.Attributes().Get("float_scalar")
			if err != nil {
				t.Fatal(err)
			}
			return s.Reading.Value
		}
		for i := 1; ; i++ {
			if _, err := p.Send(ctx, pyval.Float(i)); err != nil {
				t.Fatal(err)
			}
			if v, ok := value().(pyval.Float); ok && v >= 1 {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("no value reached the attribute; status: %s", d.Status())
			}
			time.Sleep(20 * time.Millisecond)
		}
		if _, err := p.Send(ctx, pyval.Float(12345.5)); err != nil {
			t.Fatal(err)
		}
		for !pyval.Equal(value(), pyval.Float(12345.5)) {
			if ctx.Err() != nil {
				t.Fatalf("attribute is %s, want 12345.5", pyval.Repr(value()))
			}
			time.Sleep(5 * time.Millisecond)
		}
		if got := d.State().String(); got != "ON" {
			t.Fatalf("device state %s, want ON", got)
		}
	})
}
