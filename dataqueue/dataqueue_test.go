package dataqueue_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/dataqueue"
	"github.com/sdpkit/sdpkit/dataqueue/encoding"
	"github.com/sdpkit/sdpkit/internal/testenv"
	"github.com/sdpkit/sdpkit/pyval"
)

// tagCodec is a test-only encoding: a str behind a "T:" prefix.
type tagCodec struct{}

func (tagCodec) Name() string { return "test-tag" }
func (tagCodec) Encode(v pyval.Value) ([]byte, error) {
	s, ok := v.(pyval.Str)
	if !ok {
		return nil, fmt.Errorf("test-tag: want str, got %s", pyval.Repr(v))
	}
	return append([]byte("T:"), s...), nil
}
func (tagCodec) Decode(b []byte) (pyval.Value, error) {
	rest, ok := bytes.CutPrefix(b, []byte("T:"))
	if !ok {
		return nil, errors.New("test-tag: missing prefix")
	}
	return pyval.Str(rest), nil
}

func testRegistry(t testing.TB) *encoding.Registry {
	r := encoding.NewRegistry()
	if err := r.Register(tagCodec{}); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestSendReceive sends values with each producer and send option and
// checks what a consumer with the matching encoding receives.
func TestSendReceive(t *testing.T) {
	ts := time.UnixMilli(1_700_000_000_123)
	cases := []struct {
		name      string
		prodOpts  []dataqueue.ProducerOption
		sendOpts  []dataqueue.SendOption
		consEnc   string // "" for raw
		value     pyval.Value
		wantRaw   []byte
		wantValue pyval.Value
		wantKey   []byte
		wantHdrs  []dataqueue.Header
		wantTime  time.Time
	}{
		{name: "utf-8 producer default", prodOpts: []dataqueue.ProducerOption{dataqueue.WithEncoding("utf-8")},
			consEnc: "utf-8", value: pyval.Str("héllo"), wantRaw: []byte("héllo"), wantValue: pyval.Str("héllo")},
		{name: "ascii per send", sendOpts: []dataqueue.SendOption{dataqueue.WithEncoding("ascii")},
			consEnc: "ascii", value: pyval.Str("plain"), wantRaw: []byte("plain"), wantValue: pyval.Str("plain")},
		{name: "raw bytes without encoding", value: pyval.Bytes{0, 0xff, 7},
			wantRaw: []byte{0, 0xff, 7}, wantValue: pyval.Bytes{0, 0xff, 7}},
		{name: "raw send overrides default encoding", prodOpts: []dataqueue.ProducerOption{dataqueue.WithEncoding("utf-8")},
			sendOpts: []dataqueue.SendOption{dataqueue.WithEncoding("")}, value: pyval.Bytes("as is"),
			wantRaw: []byte("as is"), wantValue: pyval.Bytes("as is")},
		{name: "registered codec", prodOpts: []dataqueue.ProducerOption{dataqueue.WithEncoding("test-tag")},
			consEnc: "test-tag", value: pyval.Str("x"), wantRaw: []byte("T:x"), wantValue: pyval.Str("x")},
		{name: "key headers timestamp", prodOpts: []dataqueue.ProducerOption{dataqueue.WithEncoding("utf-8")},
			sendOpts: []dataqueue.SendOption{
				dataqueue.WithKey([]byte("k1")),
				dataqueue.WithHeaders(dataqueue.Header{Key: "a", Value: []byte("1")}, dataqueue.Header{Key: "b", Value: nil}),
				dataqueue.WithTimestamp(ts),
			},
			consEnc: "utf-8", value: pyval.Str("v"), wantRaw: []byte("v"), wantValue: pyval.Str("v"),
			wantKey: []byte("k1"), wantHdrs: []dataqueue.Header{{Key: "a", Value: []byte("1")}, {Key: "b"}}, wantTime: ts},
		{name: "acks leader", prodOpts: []dataqueue.ProducerOption{dataqueue.WithAcks(dataqueue.AcksLeader), dataqueue.WithEncoding("utf-8")},
			consEnc: "utf-8", value: pyval.Str("l"), wantRaw: []byte("l"), wantValue: pyval.Str("l")},
		{name: "linger and client id", prodOpts: []dataqueue.ProducerOption{dataqueue.WithLinger(5 * time.Millisecond), dataqueue.WithClientID("sdp-test"), dataqueue.WithEncoding("utf-8")},
			consEnc: "utf-8", value: pyval.Str("c"), wantRaw: []byte("c"), wantValue: pyval.Str("c")},
		{name: "empty str is an empty value, not null", prodOpts: []dataqueue.ProducerOption{dataqueue.WithEncoding("utf-8")},
			consEnc: "utf-8", value: pyval.Str(""), wantRaw: []byte{}, wantValue: pyval.Str("")},
		{name: "empty bytes", value: pyval.Bytes(nil), wantRaw: []byte{}, wantValue: pyval.Bytes{}},
		{name: "no idempotence", prodOpts: []dataqueue.ProducerOption{dataqueue.WithIdempotence(false)},
			value: pyval.Bytes("n"), wantRaw: []byte("n"), wantValue: pyval.Bytes("n")},
	}
	forEachBroker(t, func(t *testing.T, b broker) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				ctx := testCtx(t)
				topic := newTopic(t, b, 1)
				reg := testRegistry(t)
				p := newProducer(t, b, append([]dataqueue.ProducerOption{dataqueue.WithTopic(topic), dataqueue.WithRegistry(reg)}, tc.prodOpts...)...)
				md, err := p.Send(ctx, tc.value, tc.sendOpts...)
				if err != nil {
					t.Fatalf("Send: %v", err)
				}
				if md.Topic != topic || md.Partition != 0 || md.Offset != 0 {
					t.Errorf("metadata = %+v, want %s/0@0", md, topic)
				}
				copts := []dataqueue.ConsumerOption{dataqueue.WithTopics(topic), dataqueue.WithRegistry(reg)}
				if tc.consEnc != "" {
					copts = append(copts, dataqueue.WithEncoding(tc.consEnc))
				}
				m := collect(t, ctx, newConsumer(t, b, copts...), 1)[0]
				if m.Topic != topic || m.Partition != md.Partition || m.Offset != md.Offset {
					t.Errorf("message at %s/%d@%d, metadata said %+v", m.Topic, m.Partition, m.Offset, md)
				}
				if !bytes.Equal(m.Raw, tc.wantRaw) || (m.Raw == nil) != (tc.wantRaw == nil) {
					t.Errorf("Raw = %q (null: %v), want %q", m.Raw, m.Raw == nil, tc.wantRaw)
				}
				if !pyval.Equal(m.Value, tc.wantValue) {
					t.Errorf("Value = %s, want %s", pyval.Repr(m.Value), pyval.Repr(tc.wantValue))
				}
				if !bytes.Equal(m.Key, tc.wantKey) {
					t.Errorf("Key = %q, want %q", m.Key, tc.wantKey)
				}
				if len(m.Headers) != len(tc.wantHdrs) {
					t.Errorf("Headers = %v, want %v", m.Headers, tc.wantHdrs)
				} else {
					for i, h := range m.Headers {
						if h.Key != tc.wantHdrs[i].Key || !bytes.Equal(h.Value, tc.wantHdrs[i].Value) {
							t.Errorf("header %d = %v, want %v", i, h, tc.wantHdrs[i])
						}
					}
				}
				if !tc.wantTime.IsZero() && !m.Timestamp.Equal(tc.wantTime) {
					t.Errorf("Timestamp = %v, want %v", m.Timestamp, tc.wantTime)
				}
				if !m.Timestamp.Equal(md.Timestamp) {
					t.Errorf("consumed timestamp %v, metadata timestamp %v", m.Timestamp, md.Timestamp)
				}
			})
		}
	})
}

// TestSendAsyncAndMany checks both batch paths deliver every value, in
// order on one partition, with metadata matching what is consumed.
func TestSendAsyncAndMany(t *testing.T) {
	forEachBroker(t, func(t *testing.T, b broker) {
		ctx := testCtx(t)
		topic := newTopic(t, b, 1)
		p := newProducer(t, b, dataqueue.WithTopic(topic), dataqueue.WithEncoding("utf-8"))
		const n = 50
		var mu sync.Mutex
		var async []dataqueue.RecordMetadata
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			err := p.SendAsync(ctx, pyval.Str(fmt.Sprint("a", i)), func(md dataqueue.RecordMetadata, err error) {
				defer wg.Done()
				if err != nil {
					t.Errorf("async %d: %v", i, err)
					return
				}
				mu.Lock()
				async = append(async, md)
				mu.Unlock()
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		if err := p.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		vals := make([]pyval.Value, n)
		for i := range vals {
			vals[i] = pyval.Str(fmt.Sprint("m", i))
		}
		many, err := p.SendMany(ctx, vals)
		if err != nil {
			t.Fatal(err)
		}
		msgs := collect(t, ctx, newConsumer(t, b, dataqueue.WithTopics(topic), dataqueue.WithEncoding("utf-8")), 2*n)
		for i, m := range msgs {
			var want string
			var md dataqueue.RecordMetadata
			if i < n {
				want, md = fmt.Sprint("a", i), async[i]
			} else {
				want, md = fmt.Sprint("m", i-n), many[i-n]
			}
			if !pyval.Equal(m.Value, pyval.Str(want)) {
				t.Errorf("message %d = %s, want %q", i, pyval.Repr(m.Value), want)
			}
			if m.Offset != md.Offset {
				t.Errorf("message %d at offset %d, metadata said %d", i, m.Offset, md.Offset)
			}
		}
	})
}

// TestSeveralTopics: one producer without a default topic feeds two
// topics; one consumer reads both and tells them apart.
func TestSeveralTopics(t *testing.T) {
	forEachBroker(t, func(t *testing.T, b broker) {
		ctx := testCtx(t)
		t1, t2 := newTopic(t, b, 1), newTopic(t, b, 2)
		p := newProducer(t, b, dataqueue.WithEncoding("utf-8"))
		for _, topic := range []string{t1, t2, t2} {
			if _, err := p.Send(ctx, pyval.Str(topic), dataqueue.WithTopic(topic)); err != nil {
				t.Fatal(err)
			}
		}
		msgs := collect(t, ctx, newConsumer(t, b, dataqueue.WithTopics(t1, t2), dataqueue.WithEncoding("utf-8")), 3)
		count := map[string]int{}
		for _, m := range msgs {
			if !pyval.Equal(m.Value, pyval.Str(m.Topic)) {
				t.Errorf("message from %s carries %s", m.Topic, pyval.Repr(m.Value))
			}
			count[m.Topic]++
		}
		if count[t1] != 1 || count[t2] != 2 {
			t.Errorf("messages per topic = %v, want %s:1 %s:2", count, t1, t2)
		}
	})
}

// TestUpdateTopicsWhileIterating: iteration starts before any topic is
// set, then the topic set changes under it.
func TestUpdateTopicsWhileIterating(t *testing.T) {
	forEachBroker(t, func(t *testing.T, b broker) {
		ctx := testCtx(t)
		t1, t2 := newTopic(t, b, 1), newTopic(t, b, 1)
		p := newProducer(t, b, dataqueue.WithEncoding("utf-8"))
		c := newConsumer(t, b, dataqueue.WithEncoding("utf-8"))
		got := make(chan *dataqueue.Message)
		go func() {
			defer close(got)
			for m, err := range c.Messages(ctx) {
				if err != nil {
					t.Errorf("consuming: %v", err)
					return
				}
				select {
				case got <- m:
				case <-ctx.Done():
					return
				}
			}
		}()
		send := func(topic, v string) {
			t.Helper()
			if _, err := p.Send(ctx, pyval.Str(v), dataqueue.WithTopic(topic)); err != nil {
				t.Fatal(err)
			}
		}
		next := func() *dataqueue.Message {
			t.Helper()
			select {
			case m, ok := <-got:
				if !ok {
					t.Fatal("iteration ended")
				}
				return m
			case <-ctx.Done():
				t.Fatal("timed out waiting for a message")
			}
			return nil
		}
		send(t1, "one")
		if err := c.UpdateTopics(t1); err != nil {
			t.Fatal(err)
		}
		if m := next(); m.Topic != t1 || !pyval.Equal(m.Value, pyval.Str("one")) {
			t.Errorf("got %s from %s, want 'one' from %s", pyval.Repr(m.Value), m.Topic, t1)
		}
		if err := c.UpdateTopics(t1, t2); err != nil {
			t.Fatal(err)
		}
		send(t2, "two")
		if m := next(); m.Topic != t2 || !pyval.Equal(m.Value, pyval.Str("two")) {
			t.Errorf("got %s from %s, want 'two' from %s", pyval.Repr(m.Value), m.Topic, t2)
		}
		// Dropping t1 must not disturb t2's position.
		if err := c.UpdateTopics(t2); err != nil {
			t.Fatal(err)
		}
		send(t2, "three")
		if m := next(); m.Topic != t2 || !pyval.Equal(m.Value, pyval.Str("three")) {
			t.Errorf("got %s from %s, want 'three' from %s", pyval.Repr(m.Value), m.Topic, t2)
		}
		if got := c.Topics(); !slices.Equal(got, []string{t2}) {
			t.Errorf("Topics() = %v", got)
		}
	})
}

// TestAssignPartitions: assigned partitions deliver exactly their records,
// and switching between assignment and subscription works both ways.
func TestAssignPartitions(t *testing.T) {
	forEachBroker(t, func(t *testing.T, b broker) {
		ctx := testCtx(t)
		topic := newTopic(t, b, 4)
		p := newProducer(t, b, dataqueue.WithTopic(topic), dataqueue.WithEncoding("utf-8"))
		perPart := map[int32][]string{}
		for i := range 40 {
			v := fmt.Sprint("v", i)
			md, err := p.Send(ctx, pyval.Str(v), dataqueue.WithKey([]byte(v)))
			if err != nil {
				t.Fatal(err)
			}
			perPart[md.Partition] = append(perPart[md.Partition], v)
		}
		chosen := []int32{0, 3}
		var parts []dataqueue.TopicPartition
		want := 0
		for _, pt := range chosen {
			parts = append(parts, dataqueue.TopicPartition{Topic: topic, Partition: pt})
			want += len(perPart[pt])
		}
		if want == 0 || want == 40 {
			t.Skipf("keys did not spread over the partitions: %v", perPart)
		}
		c := newConsumer(t, b, dataqueue.WithAssignment(parts...), dataqueue.WithEncoding("utf-8"))
		got := map[int32][]string{}
		for _, m := range collect(t, ctx, c, want) {
			s, _ := pyval.AsString(m.Value)
			got[m.Partition] = append(got[m.Partition], s)
		}
		for _, pt := range chosen {
			if !slices.Equal(got[pt], perPart[pt]) {
				t.Errorf("partition %d: got %v, want %v", pt, got[pt], perPart[pt])
			}
		}
		if len(got) != len(chosen) {
			t.Errorf("records from partitions %v, want only %v", got, chosen)
		}
		// Grow the assignment while keeping 0 and 3 where they are.
		if err := c.AssignTopics(append(parts, dataqueue.TopicPartition{Topic: topic, Partition: 1})...); err != nil {
			t.Fatal(err)
		}
		for _, m := range collect(t, ctx, c, len(perPart[1])) {
			if m.Partition != 1 {
				t.Errorf("after adding partition 1 got a record from %d", m.Partition)
			}
		}
		// Switch to a subscription: every record of the topic, from the start.
		if err := c.UpdateTopics(topic); err != nil {
			t.Fatal(err)
		}
		if c.Assignment() != nil {
			t.Errorf("Assignment() = %v after subscribing", c.Assignment())
		}
		if n := len(collect(t, ctx, c, 40)); n != 40 {
			t.Errorf("subscription delivered %d records", n)
		}
		// And back.
		if err := c.AssignTopics(parts[0]); err != nil {
			t.Fatal(err)
		}
		for _, m := range collect(t, ctx, c, len(perPart[0])) {
			if m.Partition != 0 {
				t.Errorf("after reassigning got a record from %d", m.Partition)
			}
		}
	})
}

// TestGroupResume: a group member that stops after some records and a
// member started later in the same group resumes right after them; a
// consumer without a group reads everything again.
func TestGroupResume(t *testing.T) {
	cases := []struct {
		name   string
		commit bool // call Commit before stopping (Close commits anyway)
		interv time.Duration
		assign bool // assigned partition 0 instead of a subscription
	}{
		{name: "commit on close", interv: 0},
		{name: "explicit commit", commit: true, interv: time.Hour},
		{name: "interval commit default", interv: 5 * time.Second},
		{name: "assigned commit on close", interv: 0, assign: true},
		{name: "assigned explicit commit", commit: true, interv: time.Hour, assign: true},
		{name: "assigned interval commit", interv: 5 * time.Second, assign: true},
	}
	forEachBroker(t, func(t *testing.T, b broker) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				ctx := testCtx(t)
				topic := newTopic(t, b, 1)
				group := topic + "-group"
				p := newProducer(t, b, dataqueue.WithTopic(topic), dataqueue.WithEncoding("utf-8"))
				for i := range 10 {
					if _, err := p.Send(ctx, pyval.Str(fmt.Sprint(i))); err != nil {
						t.Fatal(err)
					}
				}
				opts := []dataqueue.ConsumerOption{dataqueue.WithTopics(topic), dataqueue.WithGroup(group),
					dataqueue.WithEncoding("utf-8"), dataqueue.WithCommitInterval(tc.interv)}
				if tc.assign {
					opts = append(opts, dataqueue.WithAssignment(dataqueue.TopicPartition{Topic: topic}))
				}
				c1, err := dataqueue.NewConsumer(b.Brokers(), opts...)
				if err != nil {
					t.Fatal(err)
				}
				first := collect(t, ctx, c1, 4)
				if tc.commit {
					if err := c1.Commit(ctx); err != nil {
						t.Fatal(err)
					}
				}
				if err := c1.Close(ctx); err != nil {
					t.Fatal(err)
				}
				last := first[len(first)-1].Offset
				c2 := newConsumer(t, b, opts...)
				m := collect(t, ctx, c2, 1)[0]
				if m.Offset != last+1 {
					t.Errorf("restarted member began at offset %d, want %d", m.Offset, last+1)
				}
				c3 := newConsumer(t, b, dataqueue.WithTopics(topic))
				if m := collect(t, ctx, c3, 1)[0]; m.Offset != 0 {
					t.Errorf("consumer without a group began at %d, want 0", m.Offset)
				}
			})
		}
	})
}

// TestUndecodableRecord: a record the encoding rejects yields a
// DecodeError naming it, and the records after it still arrive.
func TestUndecodableRecord(t *testing.T) {
	forEachBroker(t, func(t *testing.T, b broker) {
		ctx := testCtx(t)
		topic := newTopic(t, b, 1)
		p := newProducer(t, b, dataqueue.WithTopic(topic), dataqueue.WithEncoding("utf-8"))
		if _, err := p.Send(ctx, pyval.Str("before")); err != nil {
			t.Fatal(err)
		}
		bad, err := p.Send(ctx, pyval.Bytes{0xff, 0xfe}, dataqueue.WithEncoding(""))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Send(ctx, pyval.Str("after")); err != nil {
			t.Fatal(err)
		}
		c := newConsumer(t, b, dataqueue.WithTopics(topic), dataqueue.WithEncoding("utf-8"))
		var vals []string
		var decErrs []*dataqueue.DecodeError
		for m, err := range c.Messages(ctx) {
			var de *dataqueue.DecodeError
			switch {
			case errors.As(err, &de):
				if !errors.Is(err, dataqueue.ErrEncoding) {
					t.Errorf("DecodeError does not match ErrEncoding: %v", err)
				}
				if m == nil || !bytes.Equal(m.Raw, []byte{0xff, 0xfe}) || m.Value != nil {
					t.Errorf("DecodeError came with message %+v", m)
				}
				decErrs = append(decErrs, de)
			case err != nil:
				t.Fatal(err)
			default:
				s, _ := pyval.AsString(m.Value)
				vals = append(vals, s)
			}
			if len(vals)+len(decErrs) == 3 {
				break
			}
		}
		if !slices.Equal(vals, []string{"before", "after"}) {
			t.Errorf("decoded %q, want before, after", vals)
		}
		if len(decErrs) != 1 || decErrs[0].Topic != topic || decErrs[0].Partition != bad.Partition ||
			decErrs[0].Offset != bad.Offset || decErrs[0].Encoding != "utf-8" {
			t.Errorf("decode errors = %v, want one at %s/%d@%d", decErrs, topic, bad.Partition, bad.Offset)
		}
	})
}

// rejectOdd is a schema that accepts only even ints.
type rejectOdd struct{}

func (rejectOdd) Name() string { return "EvenInt" }
func (rejectOdd) Validate(v pyval.Value) error {
	n, err := pyval.AsInt64(v)
	if err != nil {
		return err
	}
	if n%2 != 0 {
		return fmt.Errorf("%d is odd", n)
	}
	return nil
}

// TestValidationPreventsSending: a value the schema rejects is never
// sent; accepted ones are.
func TestValidationPreventsSending(t *testing.T) {
	forEachBroker(t, func(t *testing.T, b broker) {
		ctx := testCtx(t)
		topic := newTopic(t, b, 1)
		p := newProducer(t, b, dataqueue.WithTopic(topic), dataqueue.WithEncoding("test-tag"), dataqueue.WithRegistry(testRegistry(t)))
		// The schema sees the value before encoding; the codec wants a str,
		// so validate ints and send their text.
		for _, n := range []int64{1, 2, 3, 4} {
			_, err := p.Send(ctx, pyval.IntOf(n), dataqueue.WithSchema(rejectOdd{}))
			var ve *dataqueue.ValidationError
			if n%2 != 0 {
				if !errors.Is(err, dataqueue.ErrValidation) || !errors.As(err, &ve) || ve.Schema != "EvenInt" {
					t.Errorf("Send(%d) = %v, want a ValidationError from EvenInt", n, err)
				}
				continue
			}
			// Even ints pass validation and then fail encoding (not a str):
			// both checks run, in order.
			if !errors.Is(err, dataqueue.ErrEncoding) {
				t.Errorf("Send(%d) = %v, want an encoding error after validation", n, err)
			}
		}
		if _, err := p.Send(ctx, pyval.Str("sentinel")); err != nil {
			t.Fatal(err)
		}
		m := collect(t, ctx, newConsumer(t, b, dataqueue.WithTopics(topic)), 1)[0]
		if m.Offset != 0 || string(m.Raw) != "T:sentinel" {
			t.Errorf("first record is %q at offset %d: something else was sent", m.Raw, m.Offset)
		}
	})
}

// TestSendErrors checks each error a caller handles matches its sentinel.
func TestSendErrors(t *testing.T) {
	forEachBroker(t, func(t *testing.T, b broker) {
		ctx := testCtx(t)
		topic := newTopic(t, b, 1)
		closed := newProducer(t, b, dataqueue.WithTopic(topic))
		if err := closed.Close(ctx); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name  string
			p     *dataqueue.Producer
			value pyval.Value
			opts  []dataqueue.SendOption
			want  error
		}{
			{name: "no topic", p: newProducer(t, b), value: pyval.Bytes("x"), want: dataqueue.ErrNoTopic},
			{name: "unknown topic", p: newProducer(t, b, dataqueue.WithAutoTopicCreation(false)), value: pyval.Bytes("x"),
				opts: []dataqueue.SendOption{dataqueue.WithTopic(topic + "-missing")}, want: dataqueue.ErrUnknownTopic},
			{name: "too large", p: newProducer(t, b, dataqueue.WithTopic(topic), dataqueue.WithMaxMessageBytes(1000)),
				value: pyval.Bytes(make([]byte, 2000)), want: dataqueue.ErrMessageTooLarge},
			{name: "not bytes without encoding", p: newProducer(t, b, dataqueue.WithTopic(topic)), value: pyval.Str("s"), want: dataqueue.ErrEncoding},
			{name: "not str for utf-8", p: newProducer(t, b, dataqueue.WithTopic(topic), dataqueue.WithEncoding("utf-8")), value: pyval.IntOf(1), want: dataqueue.ErrEncoding},
			{name: "non-ascii", p: newProducer(t, b, dataqueue.WithTopic(topic)), value: pyval.Str("é"),
				opts: []dataqueue.SendOption{dataqueue.WithEncoding("ascii")}, want: dataqueue.ErrEncoding},
			{name: "unknown encoding per send", p: newProducer(t, b, dataqueue.WithTopic(topic)), value: pyval.Str("s"),
				opts: []dataqueue.SendOption{dataqueue.WithEncoding("nope")}, want: encoding.ErrUnknownEncoding},
			{name: "closed", p: closed, value: pyval.Bytes("x"), want: dataqueue.ErrClosed},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, err := tc.p.Send(ctx, tc.value, tc.opts...)
				if !errors.Is(err, tc.want) {
					t.Errorf("Send = %v, want %v", err, tc.want)
				}
			})
		}
		if _, err := dataqueue.NewProducer(b.Brokers(), dataqueue.WithEncoding("nope")); !errors.Is(err, encoding.ErrUnknownEncoding) {
			t.Errorf("NewProducer with an unknown encoding = %v", err)
		}
		if _, err := dataqueue.NewConsumer(b.Brokers(), dataqueue.WithEncoding("nope")); !errors.Is(err, encoding.ErrUnknownEncoding) {
			t.Errorf("NewConsumer with an unknown encoding = %v", err)
		}
	})
}

// TestAdmin: create (bare names and minimum partition counts, existing
// topics grown, never shrunk), list, describe and delete.
func TestAdmin(t *testing.T) {
	forEachBroker(t, func(t *testing.T, b broker) {
		ctx := testCtx(t)
		a, err := dataqueue.NewAdmin(b.Brokers())
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		bare, counted := testenv.Topic(t), testenv.Topic(t) // the real broker is shared
		partitions := func(name string) int {
			t.Helper()
			ti, err := a.DescribeTopics(ctx, name)
			if err != nil || len(ti) != 1 {
				t.Fatalf("DescribeTopics(%s) = %v, %v", name, ti, err)
			}
			for i, p := range ti[0].Partitions {
				if p.Partition != int32(i) || len(p.Replicas) == 0 {
					t.Errorf("%s partition %d described as %+v", name, i, p)
				}
			}
			return len(ti[0].Partitions)
		}
		steps := []struct {
			specs []dataqueue.TopicSpec
			want  map[string]int
		}{
			{[]dataqueue.TopicSpec{dataqueue.Topic(bare), {Name: counted, MinPartitions: 3}}, map[string]int{bare: 1, counted: 3}},
			{[]dataqueue.TopicSpec{dataqueue.Topic(bare), {Name: counted, MinPartitions: 5}}, map[string]int{bare: 1, counted: 5}},
			{[]dataqueue.TopicSpec{{Name: bare, MinPartitions: 2}, {Name: counted, MinPartitions: 2}}, map[string]int{bare: 2, counted: 5}},
		}
		for i, s := range steps {
			if err := a.CreateTopics(ctx, s.specs...); err != nil {
				t.Fatalf("step %d: CreateTopics: %v", i, err)
			}
			for name, n := range s.want {
				if got := partitions(name); got != n {
					t.Errorf("step %d: %s has %d partitions, want %d", i, name, got, n)
				}
			}
		}
		names, err := a.ListTopics(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(names, bare) || !slices.Contains(names, counted) {
			t.Errorf("ListTopics = %v, want both", names)
		}
		if err := a.DeleteTopics(ctx, bare); err != nil {
			t.Fatal(err)
		}
		if names, _ := a.ListTopics(ctx); slices.Contains(names, bare) {
			t.Errorf("ListTopics after delete = %v", names)
		}
		if _, err := a.DescribeTopics(ctx, bare); !errors.Is(err, dataqueue.ErrUnknownTopic) {
			t.Errorf("DescribeTopics(deleted) = %v, want ErrUnknownTopic", err)
		}
		if err := a.DeleteTopics(ctx, bare); !errors.Is(err, dataqueue.ErrUnknownTopic) {
			t.Errorf("DeleteTopics(deleted) = %v, want ErrUnknownTopic", err)
		}
		a.Close()
		if _, err := a.ListTopics(ctx); !errors.Is(err, dataqueue.ErrClosed) {
			t.Errorf("ListTopics after Close = %v", err)
		}
	})
}

// TestIterationEnds: cancelling ctx or closing the consumer ends
// iteration, also while it waits for topics to be set.
func TestIterationEnds(t *testing.T) {
	forEachBroker(t, func(t *testing.T, b broker) {
		topic := newTopic(t, b, 1)
		cases := []struct {
			name   string
			opts   []dataqueue.ConsumerOption
			cancel bool // cancel ctx; otherwise Close
		}{
			{"cancel without topics", nil, true},
			{"cancel with topics", []dataqueue.ConsumerOption{dataqueue.WithTopics(topic)}, true},
			{"close without topics", nil, false},
			{"close with group", []dataqueue.ConsumerOption{dataqueue.WithTopics(topic), dataqueue.WithGroup(topic + "-g")}, false},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				c := newConsumer(t, b, tc.opts...)
				ctx, cancel := context.WithCancel(testCtx(t))
				defer cancel()
				started := make(chan struct{})
				done := make(chan int)
				go func() {
					n := 0
					close(started)
					for range c.Messages(ctx) {
						n++
					}
					done <- n
				}()
				<-started
				if tc.cancel {
					cancel()
				} else if err := c.Close(context.Background()); err != nil {
					t.Error(err)
				}
				select {
				case n := <-done:
					if n != 0 {
						t.Errorf("%d messages from an empty topic", n)
					}
				case <-testCtx(t).Done():
					t.Fatal("iteration did not end")
				}
				if err := c.UpdateTopics(topic); tc.cancel == (err != nil) {
					t.Errorf("UpdateTopics after end = %v", err)
				}
			})
		}
	})
}

// TestAssignInGroupWhileIterating: partitions assigned to a group consumer
// while it waits in a poll start reading (at the group's offsets) at once.
func TestAssignInGroupWhileIterating(t *testing.T) {
	forEachBroker(t, func(t *testing.T, b broker) {
		ctx := testCtx(t)
		t1, t2 := newTopic(t, b, 1), newTopic(t, b, 1)
		p := newProducer(t, b, dataqueue.WithEncoding("utf-8"))
		for _, topic := range []string{t1, t2} {
			if _, err := p.Send(ctx, pyval.Str(topic), dataqueue.WithTopic(topic)); err != nil {
				t.Fatal(err)
			}
		}
		c := newConsumer(t, b, dataqueue.WithGroup(t1+"-g"), dataqueue.WithEncoding("utf-8"),
			dataqueue.WithAssignment(dataqueue.TopicPartition{Topic: t1}))
		if m := collect(t, ctx, c, 1)[0]; m.Topic != t1 {
			t.Fatalf("first message from %s", m.Topic)
		}
		got := make(chan *dataqueue.Message, 1)
		go func() {
			for m, err := range c.Messages(ctx) {
				if err != nil {
					t.Errorf("consuming: %v", err)
					return
				}
				got <- m
				return
			}
		}()
		// Let the loop reach its poll on t1, which has nothing more (the
		// test passes either way; the pause makes it cover the wake-up).
		time.Sleep(200 * time.Millisecond)
		if err := c.AssignTopics(dataqueue.TopicPartition{Topic: t1}, dataqueue.TopicPartition{Topic: t2}); err != nil {
			t.Fatal(err)
		}
		select {
		case m := <-got:
			if m.Topic != t2 || !pyval.Equal(m.Value, pyval.Str(t2)) {
				t.Errorf("got %s from %s, want the record of %s", pyval.Repr(m.Value), m.Topic, t2)
			}
		case <-ctx.Done():
			t.Fatal("the added partition was never read")
		}
	})
}

// TestConcurrentIteration: a second loop over one consumer is refused, and
// a later loop (after the first broke off mid-fetch) continues with the
// next record.
func TestConcurrentIteration(t *testing.T) {
	forEachBroker(t, func(t *testing.T, b broker) {
		ctx := testCtx(t)
		topic := newTopic(t, b, 1)
		p := newProducer(t, b, dataqueue.WithTopic(topic))
		for range 2 {
			if _, err := p.Send(ctx, pyval.Bytes("x")); err != nil {
				t.Fatal(err)
			}
		}
		c := newConsumer(t, b, dataqueue.WithTopics(topic))
		for _, err := range c.Messages(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			for m, err := range c.Messages(ctx) {
				if m != nil || !errors.Is(err, dataqueue.ErrConcurrentIteration) {
					t.Errorf("inner loop got %v, %v", m, err)
				}
			}
			break
		}
		if m := collect(t, ctx, c, 1)[0]; m.Offset != 1 {
			t.Errorf("second loop began at offset %d, want 1", m.Offset)
		}
	})
}

// TestStartOffsets: assigned partitions start at the explicit offsets of
// WithStartOffsets; assigned partitions it does not name start at the reset
// point.
func TestStartOffsets(t *testing.T) {
	forEachBroker(t, func(t *testing.T, b broker) {
		ctx := testCtx(t)
		topic := newTopic(t, b, 2)
		p := newProducer(t, b, dataqueue.WithTopic(topic), dataqueue.WithEncoding("utf-8"))
		perPart := map[int32][]string{}
		for i := range 30 {
			v := fmt.Sprint("v", i)
			md, err := p.Send(ctx, pyval.Str(v), dataqueue.WithKey([]byte(v)))
			if err != nil {
				t.Fatal(err)
			}
			perPart[md.Partition] = append(perPart[md.Partition], v)
		}
		if len(perPart[0]) < 3 || len(perPart[1]) == 0 {
			t.Skipf("keys did not spread over the partitions: %v", perPart)
		}
		p0, p1 := dataqueue.TopicPartition{Topic: topic, Partition: 0}, dataqueue.TopicPartition{Topic: topic, Partition: 1}
		c := newConsumer(t, b, dataqueue.WithAssignment(p0, p1), dataqueue.WithEncoding("utf-8"),
			dataqueue.WithStartOffsets(map[dataqueue.TopicPartition]int64{p0: 2}))
		want := len(perPart[0]) - 2 + len(perPart[1])
		got := map[int32][]string{}
		for _, m := range collect(t, ctx, c, want) {
			s, _ := pyval.AsString(m.Value)
			got[m.Partition] = append(got[m.Partition], s)
		}
		if !slices.Equal(got[0], perPart[0][2:]) {
			t.Errorf("partition 0 from offset 2: got %v, want %v", got[0], perPart[0][2:])
		}
		if !slices.Equal(got[1], perPart[1]) {
			t.Errorf("partition 1 from the start: got %v, want %v", got[1], perPart[1])
		}
	})
}
