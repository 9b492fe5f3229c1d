package exchange

import (
	"context"
	"sync"
	"time"

	"github.com/sdpkit/sdpkit/pyval"
)

// InMemorySource yields a fixed list of values in order, waiting delay
// before each one, then ends. It is the descriptor's InMemorySource, meant
// for tests and demonstrations.
type InMemorySource struct {
	data  []pyval.Value
	delay time.Duration
}

// NewInMemorySource returns a source of data. A negative delay counts as 0.
func NewInMemorySource(data []pyval.Value, delay time.Duration) *InMemorySource {
	return &InMemorySource{data: append([]pyval.Value(nil), data...), delay: max(delay, 0)}
}

// Start does nothing.
func (s *InMemorySource) Start(context.Context) error { return nil }

// Run emits every value, waiting delay before each, until the data ends or
// ctx is done.
func (s *InMemorySource) Run(ctx context.Context, emit Emit) error {
	var timer *time.Timer
	if s.delay > 0 {
		timer = time.NewTimer(s.delay)
		defer timer.Stop()
	}
	for _, v := range s.data {
		if timer != nil {
			timer.Reset(s.delay)
			select {
			case <-timer.C:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if err := emit(ctx, v); err != nil {
			return err
		}
	}
	return nil
}

// Stop does nothing.
func (s *InMemorySource) Stop(context.Context) error { return nil }

// MemoryQueues holds the queues InMemorySinks append to, by key. The Python
// connector keeps them in a class attribute; here the owner (a test, a
// device) creates one MemoryQueues and passes it to the sinks it builds, so
// that separate engines never share queues. It is safe for concurrent use.
type MemoryQueues struct {
	mu     sync.Mutex
	queues map[string][]pyval.Value
}

// NewMemoryQueues returns an empty registry.
func NewMemoryQueues() *MemoryQueues {
	return &MemoryQueues{queues: map[string][]pyval.Value{}}
}

// Append adds v to the queue of key.
func (q *MemoryQueues) Append(key string, v pyval.Value) {
	q.mu.Lock()
	q.queues[key] = append(q.queues[key], v)
	q.mu.Unlock()
}

// Values returns a copy of the queue of key.
func (q *MemoryQueues) Values(key string) []pyval.Value {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]pyval.Value(nil), q.queues[key]...)
}

// Len returns the length of the queue of key.
func (q *MemoryQueues) Len(key string) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.queues[key])
}

// Take removes and returns the queue of key.
func (q *MemoryQueues) Take(key string) []pyval.Value {
	q.mu.Lock()
	defer q.mu.Unlock()
	v := q.queues[key]
	delete(q.queues, key)
	return v
}

// InMemorySink appends every value to one queue of a MemoryQueues.
type InMemorySink struct {
	queues *MemoryQueues
	key    string
}

// NewInMemorySink returns a sink appending to queues under key.
func NewInMemorySink(queues *MemoryQueues, key string) *InMemorySink {
	return &InMemorySink{queues: queues, key: key}
}

// Key returns the queue key.
func (s *InMemorySink) Key() string { return s.key }

// Start does nothing.
func (s *InMemorySink) Start(context.Context) error { return nil }

// Write appends v.
func (s *InMemorySink) Write(ctx context.Context, v pyval.Value) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.queues.Append(s.key, v)
	return nil
}

// Stop does nothing.
func (s *InMemorySink) Stop(context.Context) error { return nil }
