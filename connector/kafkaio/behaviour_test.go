package kafkaio_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/connector/descriptor"
	"github.com/sdpkit/sdpkit/connector/exchange"
	"github.com/sdpkit/sdpkit/connector/kafkaio"
	"github.com/sdpkit/sdpkit/dataqueue"
	"github.com/sdpkit/sdpkit/dataqueue/encoding"
	"github.com/sdpkit/sdpkit/internal/queuetest"
	"github.com/sdpkit/sdpkit/internal/testenv"
	"github.com/sdpkit/sdpkit/internal/vectors"
	"github.com/sdpkit/sdpkit/internal/vectors/dqvalue"
	"github.com/sdpkit/sdpkit/pyval"
)

func floatExchange(k testenv.KafkaBroker, in, out, enc string) *descriptor.Exchange {
	ex := &descriptor.Exchange{DType: descriptor.MustDType("float64"),
		Sources: []descriptor.Source{&descriptor.KafkaConsumerSource{Encoding: descriptor.Encoding(enc)}}}
	return rebuild(ex, k, in, out, "", enc)
}

// TestStopLosesNothing stops an exchange while values keep arriving: every
// value the exchange accepted is on the output topic, exactly once.
func TestStopLosesNothing(t *testing.T) {
	testenv.EachKafka(t, func(t *testing.T, k testenv.KafkaBroker) {
		in, out := testenv.NewTopic(t, k, 1), testenv.NewTopic(t, k, 1)
		ex := floatExchange(k, in, out, "msgpack_numpy")
		ex.Pipe = &descriptor.BufferWithTimePipe{Timespan: 0.02}
		r := build(t, ex, kafkaio.WithStartAtEarliest())
		p, err := dataqueue.NewProducer(k.Brokers(), dataqueue.WithTopic(in), dataqueue.WithEncoding("msgpack_numpy"))
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close(context.Background())
		ctx, cancel := context.WithCancel(testCtx(t))
		var wg sync.WaitGroup
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				if err := p.SendAsync(ctx, pyval.Float(float64(i)), nil); err != nil {
					return
				}
				if i%50 == 49 {
					_ = p.Flush(ctx)
				}
			}
		})
		r.waitIn(t, 300)
		st := r.stop(t) // values are still arriving
		cancel()
		wg.Wait()
		if st.In < 300 || st.Errors != 0 {
			t.Fatalf("stats %+v", st)
		}
		total := func(ms []*dataqueue.Message) bool {
			n := 0
			for _, m := range ms {
				n += m.Value.(*pyval.NDArray).Shape[0]
			}
			return uint64(n) >= st.In
		}
		got := queuetest.Consume(t, k.Brokers(), out, "msgpack_numpy", ex.DType.NumPy, []int{-1}, total)
		next := 0.0
		for _, m := range got {
			fs, err := m.Value.(*pyval.NDArray).Float64s()
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range fs {
				if f != next {
					t.Fatalf("got %v, want %v: values lost or reordered", f, next)
				}
				next++
			}
		}
		if n := endOffset(t, k, out); n != int64(len(got)) || uint64(next) != st.In {
			t.Fatalf("out topic holds %d records (%d read) with %v values; the exchange accepted %d", n, len(got), next, st.In)
		}
	})
}

// TestUndecodable puts records that do not decode, or do not fit the
// exchange's shape, between good ones: by default they are skipped and
// counted; WithFailOnDecodeError fails the run instead.
func TestUndecodable(t *testing.T) {
	testenv.EachKafka(t, func(t *testing.T, k testenv.KafkaBroker) {
		good := func(f float64) []byte {
			b, _ := encoding.MsgpackNumpyCodec{}.Encode(pyval.ArrayOf([]float64{f, f}))
			return b
		}
		wrongShape, _ := encoding.MsgpackNumpyCodec{}.Encode(pyval.ArrayOf([]float64{1, 2, 3}))
		records := [][]byte{good(0), {0xc1}, good(1), wrongShape, good(2), []byte("text"), good(3)}

		t.Run("skip and count", func(t *testing.T) {
			in, out := testenv.NewTopic(t, k, 1), testenv.NewTopic(t, k, 1)
			ex := floatExchange(k, in, out, "msgpack_numpy")
			ex.Shape = []int{2}
			r := build(t, ex, kafkaio.WithStartAtEarliest())
			produceRaw(t, k, in, records...)
			r.waitIn(t, 4)
			for r.src.ErrorCount() < 3 { // the last good record may come before the counting ends
				time.Sleep(5 * time.Millisecond)
			}
			st := r.stop(t)
			if st.In != 4 || st.Out != 4 || st.Errors != 3 || r.src.ErrorCount() != 3 {
				t.Fatalf("stats %+v, source errors %d; want 4 in and out, 3 errors", st, r.src.ErrorCount())
			}
			got := queuetest.Consume(t, k.Brokers(), out, "msgpack_numpy", ex.DType.NumPy, ex.Shape, queuetest.AtLeast(4))
			for i, m := range got {
				if want := pyval.ArrayOf([]float64{float64(i), float64(i)}); !pyval.Equal(m.Value, want) {
					t.Fatalf("record %d: %s, want %s", i, pyval.Repr(m.Value), pyval.Repr(want))
				}
			}
		})

		t.Run("fail", func(t *testing.T) {
			in, out := testenv.NewTopic(t, k, 1), testenv.NewTopic(t, k, 1)
			ex := floatExchange(k, in, out, "msgpack_numpy")
			ex.Shape = []int{2}
			r := build(t, ex, kafkaio.WithStartAtEarliest(), kafkaio.WithFailOnDecodeError())
			produceRaw(t, k, in, records...)
			select {
			case err := <-r.done:
				if !errors.Is(err, dataqueue.ErrEncoding) {
					t.Fatalf("run: %v; want a decode error", err)
				}
			case <-time.After(45 * time.Second):
				t.Fatal("the run did not fail")
			}
			if st := r.x.Stats(); st.State != exchange.StateFailed || st.In != 1 {
				t.Fatalf("stats %+v; want failed after the first good value", st)
			}
		})
	})
}

// TestStartsAtLatest checks the default position: records produced before
// the source started are not read, records produced after are.
func TestStartsAtLatest(t *testing.T) {
	testenv.EachKafka(t, func(t *testing.T, k testenv.KafkaBroker) {
		in := testenv.NewTopic(t, k, 2)
		ex := &descriptor.Exchange{DType: descriptor.MustDType("str"),
			Sources: []descriptor.Source{&descriptor.KafkaConsumerSource{Encoding: "utf-8"}}}
		ex = rebuild(ex, k, in, "unused", "", "utf-8")
		src, err := kafkaio.NewSource(testCtx(t), ex, ex.Sources[0].(*descriptor.KafkaConsumerSource))
		if err != nil {
			t.Fatal(err)
		}
		var old []pyval.Value
		for i := range 10 {
			old = append(old, pyval.Str(fmt.Sprintf("old %d", i)))
		}
		produce(t, k, in, "utf-8", ex.DType.NumPy, nil, old)
		ctx, cancel := context.WithCancel(testCtx(t))
		defer cancel()
		if err := src.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer src.Stop(context.Background())
		got := make(chan pyval.Value, 1000)
		go src.Run(ctx, func(_ context.Context, v pyval.Value) error { got <- v; return nil })
		// The end offsets are looked up when the consumer first fetches:
		// probe until a record produced now arrives.
		probe := pyval.Str("probe")
	probing:
		for {
			produce(t, k, in, "utf-8", ex.DType.NumPy, nil, []pyval.Value{probe})
			select {
			case v := <-got:
				if !pyval.Equal(v, probe) {
					t.Fatalf("got %s before any probe", pyval.Repr(v))
				}
				break probing
			case <-time.After(200 * time.Millisecond):
			case <-ctx.Done():
				t.Fatal("no probe arrived")
			}
		}
		newer := []pyval.Value{pyval.Str("new 0"), pyval.Str("new 1"), pyval.Str("new 2")}
		produce(t, k, in, "utf-8", ex.DType.NumPy, nil, newer)
		seen := map[string]bool{}
		for len(seen) < len(newer) {
			select {
			case v := <-got:
				s := string(v.(pyval.Str))
				if s != "probe" && s[:3] != "new" {
					t.Fatalf("read %q, produced before the source started", s)
				}
				if s != "probe" {
					seen[s] = true
				}
			case <-ctx.Done():
				t.Fatalf("got %v of %d new records", seen, len(newer))
			}
		}
	})
}

type rawVector struct {
	Name       string          `json:"name"`
	Encoding   string          `json:"encoding"`
	Value      json.RawMessage `json:"value"`
	EncodedHex string          `json:"encoded_hex"`
}

// TestVectors passes every connector_raw_inferred.jsonl record through a
// Kafka → Kafka exchange of its encoding: carray of the vector's dtype and
// shape, python of dtype object. The output record holds the vector's bytes.
func TestVectors(t *testing.T) {
	k := testenv.KFake(t)
	vs := vectors.JSONL[rawVector](t, "dataqueues", "connector_raw_inferred.jsonl")
	if len(vs) < 48 {
		t.Fatalf("%d vectors, want at least 48", len(vs))
	}
	for _, v := range vs {
		t.Run(v.Name, func(t *testing.T) {
			want, err := hex.DecodeString(v.EncodedHex)
			if err != nil {
				t.Fatal(err)
			}
			in, out := testenv.NewTopic(t, k, 1), testenv.NewTopic(t, k, 1)
			ex := &descriptor.Exchange{DType: descriptor.MustDType("object"),
				Sources: []descriptor.Source{&descriptor.KafkaConsumerSource{Encoding: descriptor.Encoding(v.Encoding)}}}
			if v.Encoding == "carray" {
				val, err := dqvalue.Parse(v.Value)
				if err != nil {
					t.Fatal(err)
				}
				a := val.(*pyval.NDArray)
				ex.DType = descriptor.DType{Literal: a.DType.Descr(), NumPy: a.DType}
				ex.Shape = a.Shape
			}
			ex = rebuild(ex, k, in, out, "", v.Encoding)
			r := build(t, ex, kafkaio.WithStartAtEarliest())
			produceRaw(t, k, in, want)
			r.waitIn(t, 1)
			r.stop(t)
			got := queuetest.Consume(t, k.Brokers(), out, "", ex.DType.NumPy, ex.Shape, queuetest.AtLeast(1))
			if string(got[0].Raw) != string(want) {
				t.Fatalf("out %x, want %x", got[0].Raw, want)
			}
		})
	}
}

// TestSinkErrors covers what the sink reports: a record over
// message_max_bytes, a value whose timestamp cannot be extracted, and
// servers that do not answer at Start.
func TestSinkErrors(t *testing.T) {
	k := testenv.KFake(t)
	ctx := testCtx(t)
	f64 := descriptor.MustDType("float64")
	ex := &descriptor.Exchange{DType: f64, Shape: []int{-1}}
	sinkDesc := func(max int, ts *descriptor.TimestampOptions) *descriptor.KafkaProducerSink {
		return &descriptor.KafkaProducerSink{Servers: descriptor.Servers{Addrs: k.Brokers()}, Topic: testenv.NewTopic(t, k, 1),
			Encoding: "npy", MessageMaxBytes: max, TimestampOptions: ts}
	}

	t.Run("message_max_bytes", func(t *testing.T) {
		s, err := kafkaio.NewSink(ctx, ex, sinkDesc(1000, nil), f64.NumPy, []int{-1})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer s.Stop(ctx)
		if err := s.Write(ctx, pyval.ArrayOf(make([]float64, 10))); err != nil {
			t.Fatal(err)
		}
		err = s.Write(ctx, pyval.ArrayOf(make([]float64, 200))) // 1.7 kB
		if err == nil {
			err = s.Flush(ctx)
		}
		if !errors.Is(err, dataqueue.ErrMessageTooLarge) {
			t.Fatalf("got %v, want ErrMessageTooLarge", err)
		}
	})

	t.Run("timestamp", func(t *testing.T) {
		s, err := kafkaio.NewSink(ctx, ex, sinkDesc(1048576, &descriptor.TimestampOptions{}), f64.NumPy, []int{-1})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer s.Stop(ctx)
		if err := s.Write(ctx, pyval.ArrayOf([]float64{1, 2})); !errors.Is(err, kafkaio.ErrTimestamp) {
			t.Fatalf("got %v, want ErrTimestamp (two elements, no reducer)", err)
		}
	})

	t.Run("no broker", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		d := sinkDesc(1048576, nil)
		d.Servers = descriptor.Servers{Addrs: []string{addr}}
		s, err := kafkaio.NewSink(ctx, ex, d, f64.NumPy, []int{-1})
		if err != nil {
			t.Fatal(err)
		}
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if err := s.Start(sctx); err == nil {
			s.Stop(ctx)
			t.Fatal("Start succeeded with no broker listening")
		}
	})

	t.Run("bad encoding", func(t *testing.T) {
		d := sinkDesc(1048576, nil)
		d.Encoding = "xarray"
		if _, err := kafkaio.NewSink(ctx, ex, d, f64.NumPy, []int{-1}); !errors.Is(err, encoding.ErrUnknownEncoding) {
			t.Fatalf("got %v, want ErrUnknownEncoding", err)
		}
	})
}

func TestBrokers(t *testing.T) {
	tests := []struct {
		in   []string
		want []string
	}{
		{[]string{"localhost:9092"}, []string{"localhost:9092"}},
		{[]string{"kafka://localhost:9092"}, []string{"localhost:9092"}},
		{[]string{"kafka://a:1, b:2", "kafka://c:3/"}, []string{"a:1", "b:2", "c:3"}},
		{[]string{" ", ""}, nil},
	}
	for _, tc := range tests {
		if got := kafkaio.Brokers(tc.in); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("Brokers(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestPythonBareText: a str exchange reading the python encoding takes
// text that is not a literal (a str sent bare via str()) as the str.
func TestPythonBareText(t *testing.T) {
	k := testenv.KFake(t)
	in, out := testenv.NewTopic(t, k, 1), testenv.NewTopic(t, k, 1)
	ex := &descriptor.Exchange{DType: descriptor.MustDType("str"),
		Sources: []descriptor.Source{&descriptor.KafkaConsumerSource{Encoding: "python"}}}
	ex = rebuild(ex, k, in, out, "", "python")
	r := build(t, ex, kafkaio.WithStartAtEarliest())
	produceRaw(t, k, in, []byte("hello"), []byte("'quoted'"), []byte("3"))
	r.waitIn(t, 3)
	r.stop(t)
	got := queuetest.Consume(t, k.Brokers(), out, "", ex.DType.NumPy, nil, queuetest.AtLeast(3))
	for i, want := range []string{"'hello'", "'quoted'", "'3'"} {
		if string(got[i].Raw) != want {
			t.Errorf("record %d: %q, want %q", i, got[i].Raw, want)
		}
	}
}
