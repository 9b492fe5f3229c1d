package dataqueue_test

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/dataqueue"
	"github.com/sdpkit/sdpkit/pyval"
)

// TestIdempotentAcrossRestart runs the broker-restart failure test on
// kfake persisted to disk and on a real Kafka broker of its own.
func TestIdempotentAcrossRestart(t *testing.T) {
	for _, be := range restartBackends {
		t.Run(be.name, func(t *testing.T) {
			b := be.start(t)
			rb, ok := b.(restartableBroker)
			if !ok {
				t.Fatalf("%s cannot restart a broker with its data kept", be.name)
			}
			testIdempotentAcrossRestart(t, rb)
		})
	}
}

// testIdempotentAcrossRestart streams sequence-numbered records with the
// default producer (acks=all, idempotent) while the broker restarts under
// it, then reads the topic back: every acknowledged record must be there
// exactly once, and no record at all may be duplicated. Before the stream,
// a group consumer commits its position in the first records; after the
// restart a new member of the group must resume right there.
func testIdempotentAcrossRestart(t *testing.T, b restartableBroker) {
	ctx := testCtx(t)
	topic := newTopic(t, b, 1)
	p := newProducer(t, b, dataqueue.WithTopic(topic), dataqueue.WithEncoding("utf-8"))

	// The group's committed position, before the restart.
	const head, committed = 100, 40
	vals := make([]pyval.Value, head)
	for i := range vals {
		vals[i] = pyval.Str(strconv.Itoa(i))
	}
	if _, err := p.SendMany(ctx, vals); err != nil {
		t.Fatal(err)
	}
	group := topic + "-group"
	gopts := []dataqueue.ConsumerOption{dataqueue.WithTopics(topic), dataqueue.WithGroup(group),
		dataqueue.WithEncoding("utf-8"), dataqueue.WithCommitInterval(0)}
	c1, err := dataqueue.NewConsumer(b.Brokers(), gopts...)
	if err != nil {
		t.Fatal(err)
	}
	collect(t, ctx, c1, committed)
	if err := c1.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c1.Close(ctx); err != nil {
		t.Fatal(err)
	}

	// The stream: records head, head+1, … queued without waiting, paced so
	// that it runs on through the restart, until stop.
	var (
		mu      sync.Mutex
		acked   = map[int]bool{}
		nAcked  atomic.Int64
		sent    atomic.Int64
		stop    = make(chan struct{})
		sendErr = make(chan error, 1)
		wg      sync.WaitGroup
	)
	go func() {
		for i := head; ; i++ {
			select {
			case <-stop:
				sendErr <- nil
				return
			default:
			}
			wg.Add(1)
			err := p.SendAsync(ctx, pyval.Str(strconv.Itoa(i)), func(_ dataqueue.RecordMetadata, err error) {
				defer wg.Done()
				if err == nil {
					mu.Lock()
					acked[i] = true
					mu.Unlock()
					nAcked.Add(1)
				}
			})
			if err != nil {
				wg.Done()
				sendErr <- err
				return
			}
			sent.Add(1)
			if i%10 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
	}()
	waitAcked := func(n int64) {
		t.Helper()
		for nAcked.Load() < n {
			if ctx.Err() != nil {
				t.Fatalf("only %d records acknowledged, waiting for %d", nAcked.Load(), n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitAcked(2000)
	b.Restart(t)
	waitAcked(nAcked.Load() + 2000) // the stream goes on after the restart
	close(stop)
	if err := <-sendErr; err != nil {
		t.Fatalf("queueing: %v", err)
	}
	// Records still unacknowledged after this are counted as not acked.
	flushCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_ = p.Flush(flushCtx)
	wg.Wait()
	n := head + int(sent.Load())

	// The group resumes where it committed, the restart notwithstanding.
	c2 := newConsumer(t, b, gopts...)
	if m := collect(t, ctx, c2, 1)[0]; m.Offset != committed {
		t.Errorf("after the restart the group resumed at offset %d, want %d", m.Offset, committed)
	}

	// Read everything up to the end offset, counting each sequence number.
	ends, err := newAdmin(t, b).Kadm().ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	end, ok := ends.Lookup(topic, 0)
	if !ok || end.Err != nil {
		t.Fatalf("end offset of %s: %+v", topic, end)
	}
	c := newConsumer(t, b, dataqueue.WithTopics(topic), dataqueue.WithEncoding("utf-8"))
	seen := map[int]int{}
	if end.Offset > 0 {
		for m, err := range c.Messages(ctx) {
			if err != nil {
				t.Fatalf("consuming: %v", err)
			}
			s, _ := pyval.AsString(m.Value)
			i, err := strconv.Atoi(s)
			if err != nil || i < 0 || i >= n {
				t.Fatalf("record %d holds %q", m.Offset, s)
			}
			seen[i]++
			if m.Offset == end.Offset-1 {
				break
			}
		}
	}
	for i, k := range seen {
		if k != 1 {
			t.Errorf("record %d stored %d times", i, k)
		}
	}
	for i := range head {
		if seen[i] == 0 {
			t.Errorf("record %d, sent before the restart, lost", i)
		}
	}
	for i := range acked {
		if seen[i] == 0 {
			t.Errorf("acknowledged record %d lost", i)
		}
	}
	t.Logf("%d sent (%d streamed), %d of the stream acknowledged, %d stored", n, n-head, len(acked), len(seen))
}

func newAdmin(t testing.TB, b broker) *dataqueue.Admin {
	t.Helper()
	a, err := dataqueue.NewAdmin(b.Brokers())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a
}
