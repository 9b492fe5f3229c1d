//go:build tango

package tango

import (
	"context"
	"encoding/json"
	"flag"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/pyval"
)

var (
	churnRounds = flag.Int("tango.churn", 6, "subscribe/unsubscribe rounds per worker in TestSubscriptionChurn")
	keepAlive   = flag.Bool("tango.keepalive", false,
		"run the tests that wait for cppTango's keep-alive thread (10 s rounds; about a minute)")
)

// TestSubscriptionChurn subscribes, unsubscribes and closes proxies from
// several goroutines at once while events flow, against our own Go server
// (in this process) and a pytango server. All subscribe to the same
// attribute, so cppTango 9.3 shares one event entry among their proxies,
// which names only the proxy that created it. A "founder" proxy creates
// that entry and closes while the others churn; a "kept" subscription made
// after it must go on receiving events (deleting the founder used to end it
// silently, and other proxies' Unsubscribe then failed with
// API_EventNotFound). No event may reach a callback after its Unsubscribe
// or Close returned.
//
// With -tango.keepalive the pytango case then stops the server with
// subscriptions left and waits for the keep-alive thread's error event: the
// thread calls into each entry's proxy, which crashed (SIGSEGV) when the
// founder had been deleted under an entry that outlived it.
func TestSubscriptionChurn(t *testing.T) {
	targets := []struct {
		name string
		// start returns the TRL and attribute to subscribe to, and a
		// function that pushes a value as a change event.
		start func(t *testing.T) (trl, attr string, push func(v float64) error)
		// stoppable: the server stops at the end of the "churn" subtest.
		stoppable bool
	}{
		{"go", func(t *testing.T) (string, string, func(float64) error) {
			s := goServer(t)
			if err := s.AddAttribute(AttrSpec{Name: "churn", Type: DevDouble}); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.RemoveAttribute("churn") })
			if err := s.Set("churn", pyval.Float(0)); err != nil {
				t.Fatal(err)
			}
			return s.TRL(), "churn", func(v float64) error { return s.Set("churn", pyval.Float(v)) }
		}, false},
		{"pytango", func(t *testing.T) (string, string, func(float64) error) {
			trl := startPeerServer(t, 0)
			d, err := Dial(context.Background(), trl)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = d.Close() })
			return trl, "DevDouble_SCALAR", func(v float64) error {
				b, _ := json.Marshal(map[string]any{"attr": "DevDouble_SCALAR", "value": v})
				_, err := d.CommandInout(context.Background(), "Push", pyval.Str(b))
				return err
			}
		}, true},
	}
	// Ways a worker ends a round.
	ends := []struct {
		name string
		end  func(d *Device, subs []*Subscription) error
	}{
		{"unsubscribe+close", func(d *Device, subs []*Subscription) error {
			var first error
			for _, s := range subs {
				if err := s.Unsubscribe(); err != nil && first == nil {
					first = err
				}
			}
			if err := d.Close(); err != nil && first == nil {
				first = err
			}
			return first
		}},
		{"close", func(d *Device, _ []*Subscription) error { return d.Close() }},
		{"unsubscribe-one+close", func(d *Device, subs []*Subscription) error {
			err := subs[len(subs)-1].Unsubscribe()
			if cerr := d.Close(); err == nil {
				err = cerr
			}
			return err
		}},
	}
	rounds := *churnRounds
	if testing.Short() {
		rounds = 2
	}
	const workers = 4
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			ctx := context.Background()
			keptEvents := make(chan Event, 4096)
			var keep *Device
			var survivors []*Device // proxies left subscribed for the keep-alive phase
			var mu sync.Mutex
			defer func() {
				for _, d := range survivors {
					if err := d.Close(); err != nil {
						t.Errorf("close survivor: %v", err)
					}
				}
				if keep != nil {
					_ = keep.Close()
				}
			}()
			t.Run("churn", func(t *testing.T) {
				trl, attr, push := tg.start(t)
				founder, err := Dial(ctx, trl)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := founder.Subscribe(ctx, attr, ChangeEvent, func(Event) {}); err != nil {
					t.Fatal(err)
				}
				if keep, err = Dial(ctx, trl); err != nil {
					t.Fatal(err)
				}
				if _, err := keep.Subscribe(ctx, attr, ChangeEvent, eventsTo(keptEvents)); err != nil {
					t.Fatal(err)
				}

				stop := make(chan struct{})
				var pushes sync.WaitGroup
				pushes.Add(1)
				go func() {
					defer pushes.Done()
					for k := 1; ; k++ {
						select {
						case <-stop:
							return
						default:
						}
						if err := push(float64(k)); err != nil {
							t.Errorf("push %d: %v", k, err)
							return
						}
						time.Sleep(2 * time.Millisecond) // events flow; the CPU stays shared
					}
				}()

				var late, delivered atomic.Int64
				var wg sync.WaitGroup
				for w := 0; w < workers; w++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for r := 0; r < rounds; r++ {
							d, err := Dial(ctx, trl)
							if err != nil {
								t.Errorf("worker %d round %d: dial: %v", w, r, err)
								return
							}
							var over atomic.Bool
							var subs []*Subscription
							// Change events twice (even rounds) or change and
							// archive events (odd rounds) of the same attribute.
							for i, et := range []EventType{ChangeEvent, []EventType{ChangeEvent, ArchiveEvent}[r%2]} {
								got := make(chan struct{}, 1)
								s, err := d.Subscribe(ctx, attr, et, func(Event) {
									if over.Load() {
										late.Add(1)
									}
									delivered.Add(1)
									select {
									case got <- struct{}{}:
									default:
									}
								})
								if err != nil {
									t.Errorf("worker %d round %d: subscribe %d (%s): %v", w, r, i, et, err)
									break
								}
								subs = append(subs, s)
								<-got // at least the initial event
							}
							if tg.stoppable && *keepAlive && r == rounds-1 {
								mu.Lock()
								survivors = append(survivors, d)
								mu.Unlock()
								return
							}
							end := ends[(w+r)%len(ends)]
							if err := end.end(d, subs); err != nil {
								t.Errorf("worker %d round %d: %s: %v", w, r, end.name, err)
							}
							over.Store(true)
						}
					}()
				}
				// The founder leaves while the others churn.
				if err := founder.Close(); err != nil {
					t.Errorf("founder close: %v", err)
				}
				wg.Wait()
				close(stop)
				pushes.Wait()
				if n := late.Load(); n > 0 {
					t.Errorf("%d events delivered after Unsubscribe or Close returned", n)
				}

				// The kept subscription still receives new values.
				const final = -1.5
				ok := false
				for k := 0; k < 30 && !ok; k++ {
					if err := push(final); err != nil {
						t.Fatal(err)
					}
					ok = waitFor(keptEvents, pyval.Float(final), time.Second)
				}
				if !ok {
					t.Errorf("the kept subscription received no event after the founder proxy closed")
				}
				t.Logf("%d workers × %d rounds: %d events to the churned subscriptions", workers, rounds, delivered.Load())
			})
			if !tg.stoppable || !*keepAlive || keep == nil {
				return
			}
			// The server is gone: the keep-alive thread notices the missing
			// heartbeat and walks every event entry of its channel.
			deadline := time.After(40 * time.Second)
			for {
				select {
				case ev := <-keptEvents:
					if ev.Err != nil {
						t.Logf("keep-alive thread reported: %v", ev.Err)
						return
					}
				case <-deadline:
					t.Fatal("no error event within 40 s of the server stopping")
				}
			}
		})
	}
}
