package dataqueue_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/dataqueue"
	"github.com/sdpkit/sdpkit/pyval"
)

// TestIdempotentAcrossRestart runs the broker-restart failure test on
// every backend that can restart.
func TestIdempotentAcrossRestart(t *testing.T) {
	for _, be := range restartBackends {
		t.Run(be.name, func(t *testing.T) {
			b := be.start(t)
			rb, ok := b.(restartableBroker)
			if !ok {
				// LEAD: testenv.Kafka(t) should restart a real KRaft broker on
				// the same port with its log dir kept (Restart(t testing.TB));
				// it then satisfies restartableBroker and this test runs on it.
				t.Skipf("%s cannot restart a broker with its data kept: this test runs on kfake-disk and a real Kafka", be.name)
			}
			testIdempotentAcrossRestart(t, rb)
		})
	}
}

// testIdempotentAcrossRestart streams sequence-numbered records with the
// default producer (acks=all, idempotent) while the broker restarts, then
// reads the topic back: every acknowledged record must be there exactly
// once, and no record at all may be duplicated.
func testIdempotentAcrossRestart(t *testing.T, b restartableBroker) {
	ctx := testCtx(t)
	topic := newTopic(t, b, 1)
	p := newProducer(t, b, dataqueue.WithTopic(topic), dataqueue.WithEncoding("utf-8"))
	const n = 20000
	var mu sync.Mutex
	acked := map[int]bool{}
	var wg sync.WaitGroup
	for i := range n {
		if i == n/2 {
			// Half the stream is queued or in flight: restart under it.
			b.Restart(t)
		}
		wg.Add(1)
		err := p.SendAsync(ctx, pyval.Str(strconv.Itoa(i)), func(_ dataqueue.RecordMetadata, err error) {
			defer wg.Done()
			if err == nil {
				mu.Lock()
				acked[i] = true
				mu.Unlock()
			}
		})
		if err != nil {
			wg.Done()
			t.Fatalf("queueing %d: %v", i, err)
		}
	}
	// Records still unacknowledged after this are counted as not acked.
	flushCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_ = p.Flush(flushCtx)
	wg.Wait()
	if len(acked) == 0 {
		t.Fatal("no record was acknowledged")
	}

	c := newConsumer(t, b, dataqueue.WithTopics(topic), dataqueue.WithEncoding("utf-8"))
	seen := map[int]int{}
	readCtx, cancelRead := context.WithTimeout(ctx, 20*time.Second)
	defer cancelRead()
	for m, err := range c.Messages(readCtx) {
		if err != nil {
			t.Fatalf("consuming: %v", err)
		}
		s, _ := pyval.AsString(m.Value)
		i, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("record %d holds %q", m.Offset, s)
		}
		seen[i]++
		if len(seen) == n {
			break
		}
	}
	for i, k := range seen {
		if k != 1 {
			t.Errorf("record %d stored %d times", i, k)
		}
	}
	for i := range acked {
		if seen[i] == 0 {
			t.Errorf("acknowledged record %d lost", i)
		}
	}
	t.Logf("%d sent, %d acknowledged, %d stored", n, len(acked), len(seen))
}
