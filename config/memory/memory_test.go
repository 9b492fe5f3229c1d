package memory_test

import (
	"sync"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/config/kv"
	"github.com/sdpkit/sdpkit/config/kv/kvtest"
	"github.com/sdpkit/sdpkit/config/memory"
)

// TestConformance runs the etcd behaviour table against the memory store,
// with a manual lease clock so lease cases do not sleep.
func TestConformance(t *testing.T) {
	var mu sync.Mutex
	clocks := map[kv.KV]*memory.ManualClock{}
	kvtest.Run(t, func(t *testing.T) kv.KV {
		c := memory.NewManualClock(time.Unix(0, 0))
		s := memory.New(memory.WithClock(c))
		mu.Lock()
		clocks[s] = c
		mu.Unlock()
		return s
	}, kvtest.WithAdvance(func(s kv.KV, d time.Duration) {
		mu.Lock()
		c := clocks[s]
		mu.Unlock()
		c.Advance(d)
	}))
}

// TestConformanceSystemClock runs the table on the real clock, as etcd
// servers do (lease cases sleep a few seconds).
func TestConformanceSystemClock(t *testing.T) {
	if testing.Short() {
		t.Skip("sleeps")
	}
	kvtest.Run(t, func(t *testing.T) kv.KV { return memory.New() })
}
