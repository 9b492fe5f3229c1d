package redis

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/internal/testenv"
	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/telstate"
	"github.com/sdpkit/sdpkit/telstate/backend"
)

// TestServerRestart streams writes while the server restarts (with an
// append-only file fsynced on every write, so that whatever the server
// acknowledged survives) and checks that every acknowledged write is
// there exactly once, that the failures in between were ErrConnection
// errors, that no sample was published twice, and that a wait that was
// in progress across the restart is woken by a write after it.
func TestServerRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts a server")
	}
	s := testenv.Redis(t, testenv.WithAOF(), testenv.WithArgs("--appendfsync", "always"))
	ctx := context.Background()
	b := openTest(t, s)
	sensor := []byte("restart_sensor")

	// A wait through the telstate API, started before the restart.
	ts := telstate.New(telstate.WithBackend(b))
	waitErr := make(chan error, 1)
	go func() {
		wctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		waitErr <- ts.WaitKey(wctx, "wake", func(v pyval.Value, _ *float64) bool {
			s, ok := v.(pyval.Str)
			return ok && s == "up"
		})
	}()

	// A monitor counting the publications of each sample.
	mon, err := b.Monitor(ctx, [][]byte{sensor})
	if err != nil {
		t.Fatal(err)
	}
	defer mon.Close()
	published := map[float64]int{}
	var checkAgain atomic.Int32
	monCtx, stopMon := context.WithCancel(ctx)
	monDone := make(chan struct{})
	go func() {
		defer close(monDone)
		for {
			u, err := mon.Next(monCtx)
			if err != nil {
				return
			}
			if u.Type == backend.Mutable {
				published[u.Timestamp]++
			} else if u.Type == backend.KeyNone {
				checkAgain.Add(1)
			}
		}
	}()

	// The writer: one attribute, one sample and one indexed entry per
	// round, each recorded once acknowledged.
	type ack struct{ attr, sample, entry bool }
	var (
		mu       sync.Mutex
		acks     []ack
		failures []error
		stop     atomic.Bool
		rounds   atomic.Int32
	)
	val := func(i int) []byte { return []byte(fmt.Sprintf("\xff\xa8v%07d", i)) }
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		for i := 0; !stop.Load(); i++ {
			var a ack
			var errs []error
			_, err := b.SetImmutable(ctx, []byte(fmt.Sprintf("attr_%d", i)), val(i))
			a.attr = err == nil
			errs = append(errs, err)
			err = b.AddMutable(ctx, sensor, val(i), float64(i))
			a.sample = err == nil
			errs = append(errs, err)
			_, err = b.SetIndexed(ctx, []byte("restart_idx"), []byte(fmt.Sprintf("\xff\xa8k%07d", i)), val(i))
			a.entry = err == nil
			errs = append(errs, err)
			mu.Lock()
			acks = append(acks, a)
			for _, e := range errs {
				if e != nil {
					failures = append(failures, e)
				}
			}
			mu.Unlock()
			rounds.Add(1)
			if !a.attr || !a.sample || !a.entry {
				time.Sleep(5 * time.Millisecond) // the server is away
			}
		}
	}()
	waitRounds := func(n int32) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for rounds.Load() < n {
			if time.Now().After(deadline) {
				t.Fatalf("writer stuck at %d rounds", rounds.Load())
			}
			time.Sleep(time.Millisecond)
		}
	}
	waitRounds(300)
	before := rounds.Load()
	s.Restart(t)
	waitRounds(rounds.Load() + 300)
	stop.Store(true)
	<-writerDone

	// The wait is still going and is satisfied by a write now.
	select {
	case err := <-waitErr:
		t.Fatalf("wait ended before its key was written: %v", err)
	default:
	}
	if err := ts.Set(ctx, "wake", pyval.Str("up")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-waitErr:
		if err != nil {
			t.Fatalf("wait across the restart: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("wait across the restart was not woken")
	}

	// Every acknowledged write is there, once.
	n := len(acks)
	var nAttr, nSample, nEntry, extra int
	samples, err := b.GetRange(ctx, sensor, 0, float64(n), false, false)
	if err != nil {
		t.Fatal(err)
	}
	count := map[float64]int{}
	for _, smp := range samples {
		count[smp.Timestamp]++
		if string(smp.Value) != string(val(int(smp.Timestamp))) {
			t.Errorf("sample at %v holds %q", smp.Timestamp, smp.Value)
		}
	}
	idx, err := b.Get(ctx, []byte("restart_idx"))
	if err != nil {
		t.Fatal(err)
	}
	entries := map[string]int{}
	for _, e := range idx.Entries {
		entries[string(e.SubKey)]++
	}
	for i, a := range acks {
		if a.attr {
			nAttr++
			v, err := b.Get(ctx, []byte(fmt.Sprintf("attr_%d", i)))
			if err != nil || string(v.Value) != string(val(i)) {
				t.Errorf("acknowledged attr_%d: %q, %v", i, v.Value, err)
			}
		}
		if c := count[float64(i)]; a.sample && c != 1 {
			t.Errorf("acknowledged sample %d stored %d times", i, c)
		} else if !a.sample && c > 0 {
			extra++ // failed on the client side after the server had it
		}
		if a.sample {
			nSample++
		}
		if c := entries[fmt.Sprintf("\xff\xa8k%07d", i)]; a.entry && c != 1 {
			t.Errorf("acknowledged entry %d stored %d times", i, c)
		}
		if a.entry {
			nEntry++
		}
	}
	if len(samples) > n {
		t.Errorf("%d samples stored for %d rounds", len(samples), n)
	}
	for _, err := range failures {
		if !errors.Is(err, backend.ErrConnection) {
			t.Errorf("failure during the restart is not ErrConnection: %v", err)
		}
	}
	if len(failures) == 0 {
		t.Error("no write failed during the restart")
	}

	stopMon()
	<-monDone
	for ts, c := range published {
		if c > 1 {
			t.Errorf("sample %v published %d times", ts, c)
		}
	}
	if checkAgain.Load() < 2 { // the start and the reconnection
		t.Errorf("monitor said check again %d times", checkAgain.Load())
	}
	t.Logf("%d rounds (%d before the restart): acknowledged %d attributes, %d samples (%d stored, %d more stored though unacknowledged), %d indexed entries; %d ErrConnection failures, e.g. %v; %d samples published, %d check-agains",
		n, before, nAttr, nSample, len(samples), extra, nEntry, len(failures), failures[0], len(published), checkAgain.Load())
}
