package kafkaio_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/sdpkit/sdpkit/connector/descriptor"
	"github.com/sdpkit/sdpkit/connector/exchange"
	"github.com/sdpkit/sdpkit/connector/kafkaio"
	"github.com/sdpkit/sdpkit/dataqueue"
	"github.com/sdpkit/sdpkit/dataqueue/encoding"
	"github.com/sdpkit/sdpkit/internal/queuetest"
	"github.com/sdpkit/sdpkit/internal/testenv"
	"github.com/sdpkit/sdpkit/internal/vectors"
	"github.com/sdpkit/sdpkit/pyval"
)

func TestMain(m *testing.M) { testenv.MainWithKafka(m) }

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// example reads exchange i of a shared example descriptor.
func example(t *testing.T, name string, i int) *descriptor.Exchange {
	t.Helper()
	data, err := os.ReadFile(vectors.Path(t, "connector/examples", name))
	if err != nil {
		t.Fatal(err)
	}
	d, err := descriptor.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return d.All()[i]
}

// rebuild points an example exchange at the test's broker: a Kafka source
// keeps its encoding and gets topic in; any other source becomes a Kafka
// source of encoding srcEnc. The sink becomes (or stays) a Kafka producer
// sink to out, of encoding sinkEnc unless the example's sink already was
// one (then its encoding and timestamp options are kept).
func rebuild(ex *descriptor.Exchange, k testenv.KafkaBroker, in, out, srcEnc, sinkEnc string) *descriptor.Exchange {
	servers := descriptor.Servers{Addrs: []string{"kafka://" + k.Brokers()[0]}}
	var src descriptor.KafkaConsumerSource
	if ks, ok := ex.Sources[0].(*descriptor.KafkaConsumerSource); ok {
		src = *ks
	} else {
		src.Encoding = descriptor.Encoding(srcEnc)
	}
	src.Servers, src.Topic = servers, in
	ex.Sources = []descriptor.Source{&src}
	snk, ok := ex.Sink.(*descriptor.KafkaProducerSink)
	if ok {
		c := *snk
		snk = &c
	} else {
		snk = &descriptor.KafkaProducerSink{Encoding: descriptor.Encoding(sinkEnc), MessageMaxBytes: 1048576}
	}
	snk.Servers, snk.Topic = servers, out
	ex.Sink = snk
	return ex
}

// run is one Kafka → pipe → Kafka exchange under test.
type run struct {
	x      *exchange.Exchange
	src    *kafkaio.Source
	done   chan error
	pipe   exchange.Pipe
	sinkDT pyval.DType
}

func build(t *testing.T, ex *descriptor.Exchange, opts ...kafkaio.Option) *run {
	t.Helper()
	ctx := testCtx(t)
	src, err := kafkaio.NewSource(ctx, ex, ex.Sources[0].(*descriptor.KafkaConsumerSource), opts...)
	if err != nil {
		t.Fatal(err)
	}
	var pipe exchange.Pipe = exchange.NewDefaultPipe(ex.DType.NumPy, ex.Shape)
	if bp, ok := ex.Pipe.(*descriptor.BufferWithTimePipe); ok {
		if pipe, err = exchange.NewBufferWithTimePipe(ex.DType.NumPy, ex.Shape, time.Duration(bp.Timespan*float64(time.Second))); err != nil {
			t.Fatal(err)
		}
	}
	snk, err := kafkaio.NewSink(ctx, ex, ex.Sink.(*descriptor.KafkaProducerSink), pipe.OutputDType(), pipe.OutputShape(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	x, err := exchange.New([]exchange.Source{src}, pipe, snk, exchange.WithName(t.Name()))
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Start(ctx); err != nil {
		t.Fatal(err)
	}
	r := &run{x: x, src: src, done: make(chan error, 1), pipe: pipe, sinkDT: pipe.OutputDType()}
	go func() { r.done <- x.Run(ctx) }()
	t.Cleanup(func() { _ = x.Stop(context.Background()) })
	return r
}

// waitIn waits until the exchange has accepted n values.
func (r *run) waitIn(t *testing.T, n uint64) {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for r.x.Stats().In < n {
		select {
		case err := <-r.done:
			t.Fatalf("run ended early: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("accepted %d of %d values (stats %+v)", r.x.Stats().In, n, r.x.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// stop stops the exchange; its run must end without error.
func (r *run) stop(t *testing.T) exchange.Stats {
	t.Helper()
	if err := r.x.Stop(testCtx(t)); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if err := <-r.done; err != nil {
		t.Fatalf("run: %v", err)
	}
	return r.x.Stats()
}

func produce(t *testing.T, k testenv.KafkaBroker, topic, enc string, dt pyval.DType, shape []int, values []pyval.Value) {
	t.Helper()
	p, err := dataqueue.NewProducer(k.Brokers(), dataqueue.WithTopic(topic), dataqueue.WithEncoding(enc),
		dataqueue.WithRegistry(encoding.NewConnectorRegistry(dt, shape)))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	if _, err := p.SendMany(testCtx(t), values); err != nil {
		t.Fatal(err)
	}
}

func produceRaw(t *testing.T, k testenv.KafkaBroker, topic string, payloads ...[]byte) {
	t.Helper()
	p, err := dataqueue.NewProducer(k.Brokers(), dataqueue.WithTopic(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	for _, b := range payloads {
		if _, err := p.Send(testCtx(t), pyval.Bytes(b)); err != nil {
			t.Fatal(err)
		}
	}
}

// endOffset returns the number of records in partition 0 of topic.
func endOffset(t *testing.T, k testenv.KafkaBroker, topic string) int64 {
	t.Helper()
	a, err := dataqueue.NewAdmin(k.Brokers())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ends, err := a.Kadm().ListEndOffsets(testCtx(t), topic)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	ends.Each(func(o kadm.ListedOffset) { n += o.Offset })
	return n
}

// TestExamples runs the shared example exchanges that read Kafka, with
// their sinks replaced by Kafka producer sinks, and the examples that write
// Kafka, with their Tango sources replaced by Kafka consumer sources: the
// values a dataqueue producer sends in each encoding come out of the
// connector as the exchange's dtype and shape, re-encoded, in order and
// none lost across Stop.
func TestExamples(t *testing.T) {
	testenv.EachKafka(t, func(t *testing.T, k testenv.KafkaBroker) {
		ms := time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC).UnixMilli()
		f64 := pyval.DTypeOf[float64]()

		t.Run("01 python float scalar, 3 partitions", func(t *testing.T) {
			in, out := testenv.NewTopic(t, k, 3), testenv.NewTopic(t, k, 1)
			ex := rebuild(example(t, "01_kafka_float_to_tango_scalar.json", 0), k, in, out, "", "python")
			r := build(t, ex, kafkaio.WithStartAtEarliest())
			var values, want []pyval.Value
			for i := range 30 {
				if i%2 == 0 {
					values = append(values, pyval.IntOf(int64(i))) // an int becomes a float64
				} else {
					values = append(values, pyval.Float(float64(i)+0.25))
				}
				want = append(want, pyval.Float(float64(i)+0.25*float64(i%2)))
			}
			produce(t, k, in, "python", f64, nil, values)
			r.waitIn(t, uint64(len(values)))
			st := r.stop(t)
			if st.Out != uint64(len(values)) || st.Errors != 0 {
				t.Fatalf("stats %+v", st)
			}
			got := queuetest.Consume(t, k.Brokers(), out, "python", f64, nil, queuetest.AtLeast(len(want)))
			var vals []pyval.Value
			for _, m := range got {
				vals = append(vals, m.Value)
			}
			// Three partitions: order holds per partition only.
			key := func(v pyval.Value) float64 { f, _ := pyval.AsFloat64(v); return f }
			slices.SortFunc(vals, func(a, b pyval.Value) int { return int(key(a) - key(b)) })
			for i := range want {
				if _, ok := vals[i].(pyval.Float); !ok || !pyval.Equal(vals[i], want[i]) {
					t.Fatalf("value %d: got %s, want %s", i, pyval.Repr(vals[i]), pyval.Repr(want[i]))
				}
			}
		})

		t.Run("02 npy triples with timestamp slices [0]", func(t *testing.T) {
			in, out := testenv.NewTopic(t, k, 1), testenv.NewTopic(t, k, 1)
			ex := rebuild(example(t, "02_tango_array_to_kafka_with_timestamp.json", 0), k, in, out, "npy", "")
			r := build(t, ex, kafkaio.WithStartAtEarliest())
			var values []pyval.Value
			for i := range 20 {
				values = append(values, pyval.ArrayOf([]float64{float64(ms + int64(i)*100), 180 + float64(i), 45}))
			}
			produce(t, k, in, "npy", f64, []int{3}, values)
			r.waitIn(t, uint64(len(values)))
			r.stop(t)
			got := queuetest.Consume(t, k.Brokers(), out, "npy", f64, []int{3}, queuetest.AtLeast(len(values)))
			for i, m := range got {
				if !pyval.Equal(m.Value, values[i]) {
					t.Fatalf("record %d: got %s, want %s", i, pyval.Repr(m.Value), pyval.Repr(values[i]))
				}
				if want := ms + int64(i)*100; m.Timestamp.UnixMilli() != want {
					t.Fatalf("record %d: timestamp %d, want %d", i, m.Timestamp.UnixMilli(), want)
				}
			}
		})

		t.Run("03 buffered TAI pointing records, key ts reducer max", func(t *testing.T) {
			in, out := testenv.NewTopic(t, k, 1), testenv.NewTopic(t, k, 1)
			ex := rebuild(example(t, "03_pointing_sources_buffered_to_kafka.json", 0), k, in, out, "npy", "")
			ex.Pipe = &descriptor.BufferWithTimePipe{Timespan: 0.05}
			r := build(t, ex, kafkaio.WithStartAtEarliest())
			dt := pointingDType(t)
			var values []pyval.Value
			for i := range 40 {
				values = append(values, pointing(t, fmt.Sprintf("SKA%03d", i%3+1), time.UnixMilli(ms).Add(time.Duration(i)*10*time.Millisecond), float64(i), 45))
			}
			produce(t, k, in, "npy", dt, nil, values)
			r.waitIn(t, uint64(len(values)))
			r.stop(t)
			total := func(ms []*dataqueue.Message) bool {
				n := 0
				for _, m := range ms {
					n += m.Value.(*pyval.NDArray).Shape[0]
				}
				return n >= len(values)
			}
			got := queuetest.Consume(t, k.Brokers(), out, "npy", dt, []int{-1}, total)
			i := 0
			for _, m := range got {
				a := m.Value.(*pyval.NDArray)
				var last int64
				for j := range a.Shape[0] {
					item := &pyval.Scalar{DType: dt, Data: a.Data[j*dt.ItemSize() : (j+1)*dt.ItemSize()]}
					if !pyval.Equal(item, values[i]) {
						t.Fatalf("element %d: got %s, want %s", i, pyval.Repr(item), pyval.Repr(values[i]))
					}
					last = ms + int64(i)*10 // the batch's latest UTC time
					i++
				}
				if m.Timestamp.UnixMilli() != last {
					t.Fatalf("batch of %d: timestamp %v, want %v (max ts, TAI→UTC)", a.Shape[0], m.Timestamp.UTC(), time.UnixMilli(last).UTC())
				}
			}
		})

		t.Run("04 carray 4x3 float64", func(t *testing.T) {
			in, out := testenv.NewTopic(t, k, 1), testenv.NewTopic(t, k, 1)
			ex := rebuild(example(t, "04_kafka_array_scatter_to_tango.json", 0), k, in, out, "", "carray")
			r := build(t, ex, kafkaio.WithStartAtEarliest())
			var values []pyval.Value
			for i := range 10 {
				d := make([]float64, 12)
				for j := range d {
					d[j] = float64(i*100 + j)
				}
				values = append(values, pyval.ArrayOf(d, 4, 3))
			}
			produce(t, k, in, "carray", f64, []int{4, 3}, values)
			r.waitIn(t, uint64(len(values)))
			r.stop(t)
			got := queuetest.Consume(t, k.Brokers(), out, "", f64, nil, queuetest.AtLeast(len(values)))
			for i, m := range got {
				if want := values[i].(*pyval.NDArray).Data; string(m.Raw) != string(want) {
					t.Fatalf("record %d: %x, want %x", i, m.Raw, want)
				}
			}
		})

		t.Run("04 msgpack_numpy int32 vector", func(t *testing.T) {
			in, out := testenv.NewTopic(t, k, 1), testenv.NewTopic(t, k, 1)
			ex := rebuild(example(t, "04_kafka_array_scatter_to_tango.json", 1), k, in, out, "", "msgpack_numpy")
			r := build(t, ex, kafkaio.WithStartAtEarliest())
			i4 := pyval.DTypeOf[int32]()
			var values, want []pyval.Value
			for i := range 10 {
				l := make(pyval.List, 10) // a list of ints becomes an int32 array
				d := make([]int32, 10)
				for j := range l {
					l[j], d[j] = pyval.IntOf(int64(i*10+j)), int32(i*10+j)
				}
				values = append(values, l)
				want = append(want, pyval.ArrayOf(d))
			}
			produce(t, k, in, "msgpack_numpy", i4, []int{10}, values)
			r.waitIn(t, uint64(len(values)))
			r.stop(t)
			got := queuetest.Consume(t, k.Brokers(), out, "msgpack_numpy", i4, []int{10}, queuetest.AtLeast(len(values)))
			for i, m := range got {
				a, ok := m.Value.(*pyval.NDArray)
				if !ok || !a.DType.Equal(i4) || !pyval.Equal(a, want[i]) {
					t.Fatalf("record %d: got %s, want %s", i, pyval.Repr(m.Value), pyval.Repr(want[i]))
				}
			}
		})

		t.Run("05 json objects", func(t *testing.T) {
			in, out := testenv.NewTopic(t, k, 1), testenv.NewTopic(t, k, 1)
			ex := rebuild(example(t, "05_kafka_json_object_scatter_jmespath.json", 0), k, in, out, "", "json")
			r := build(t, ex, kafkaio.WithStartAtEarliest())
			var values []pyval.Value
			for i := range 10 {
				values = append(values, pyval.StrDict("antenna_name", pyval.Str(fmt.Sprintf("SKA%03d", i)),
					"last_scan_index", pyval.IntOf(int64(i)), "xel_offset", pyval.Float(0.5), "el_offset", pyval.Float(-0.25)))
			}
			obj := descriptor.MustDType("object").NumPy
			produce(t, k, in, "json", obj, nil, values)
			r.waitIn(t, uint64(len(values)))
			r.stop(t)
			got := queuetest.Consume(t, k.Brokers(), out, "json", obj, nil, queuetest.AtLeast(len(values)))
			for i, m := range got {
				if !pyval.Equal(m.Value, values[i]) {
					t.Fatalf("record %d: got %s, want %s", i, pyval.Repr(m.Value), pyval.Repr(values[i]))
				}
			}
		})

		t.Run("06 bytes dtype forwards payloads", func(t *testing.T) {
			in, out := testenv.NewTopic(t, k, 1), testenv.NewTopic(t, k, 1)
			ex := rebuild(example(t, "06_kafka_bytes_to_devencoded.json", 0), k, in, out, "", "msgpack_numpy")
			r := build(t, ex, kafkaio.WithStartAtEarliest())
			var payloads [][]byte
			for i := range 10 {
				b, err := encoding.MsgpackNumpyCodec{}.Encode(pyval.ArrayOf([]float64{float64(i), 1, 2}))
				if err != nil {
					t.Fatal(err)
				}
				payloads = append(payloads, b)
			}
			payloads = append(payloads, []byte("not msgpack at all")) // not decoded, so not checked
			produceRaw(t, k, in, payloads...)
			r.waitIn(t, uint64(len(payloads)))
			if st := r.stop(t); st.Errors != 0 {
				t.Fatalf("stats %+v", st)
			}
			got := queuetest.Consume(t, k.Brokers(), out, "", f64, nil, queuetest.AtLeast(len(payloads)))
			for i, m := range got {
				if string(m.Raw) != string(payloads[i]) {
					t.Fatalf("record %d: %x, want %x", i, m.Raw, payloads[i])
				}
			}
		})

		t.Run("utf-8 str", func(t *testing.T) {
			in, out := testenv.NewTopic(t, k, 1), testenv.NewTopic(t, k, 1)
			ex := &descriptor.Exchange{DType: descriptor.MustDType("str"),
				Sources: []descriptor.Source{&descriptor.KafkaConsumerSource{Encoding: "utf-8"}}}
			ex = rebuild(ex, k, in, out, "", "utf-8")
			r := build(t, ex, kafkaio.WithStartAtEarliest())
			values := []pyval.Value{pyval.Str("héllo"), pyval.Str(""), pyval.Str("日本")}
			produce(t, k, in, "utf-8", ex.DType.NumPy, nil, values)
			r.waitIn(t, uint64(len(values)))
			r.stop(t)
			got := queuetest.Consume(t, k.Brokers(), out, "utf-8", ex.DType.NumPy, nil, queuetest.AtLeast(len(values)))
			for i, m := range got {
				if !pyval.Equal(m.Value, values[i]) {
					t.Fatalf("record %d: got %s, want %s", i, pyval.Repr(m.Value), pyval.Repr(values[i]))
				}
			}
		})
	})
}
