package connector

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/sdpkit/sdpkit/connector/descriptor"
	"github.com/sdpkit/sdpkit/connector/exchange"
	"github.com/sdpkit/sdpkit/pyval"
)

// Test parts, registered under kinds the default build does not have.

// gateSource blocks in Start until its context ends ("TangoSubscriptionSource").
type gateSource struct{}

func (gateSource) Start(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
func (gateSource) Run(ctx context.Context, emit exchange.Emit) error {
	return nil
}
func (gateSource) Stop(context.Context) error { return nil }

// stuckSink blocks in Write until its context ends; failSink fails every
// write ("TangoRemoteAttributeSink" with attribute_name "stuck" / "fail").
type stuckSink struct{}

func (stuckSink) Start(context.Context) error { return nil }
func (stuckSink) Write(ctx context.Context, v pyval.Value) error {
	<-ctx.Done()
	return ctx.Err()
}
func (stuckSink) Stop(context.Context) error { return nil }

var errSinkBroke = errors.New("the sink broke")

type failSink struct{ stuckSink }

func (failSink) Write(context.Context, pyval.Value) error { return errSinkBroke }

func testFactories() *Factories {
	f := DefaultFactories()
	f.RegisterSource("TangoSubscriptionSource", func(context.Context, *descriptor.Exchange, descriptor.Source, *Env) (exchange.Source, error) {
		return gateSource{}, nil
	})
	f.RegisterSink("TangoRemoteAttributeSink", func(_ context.Context, _ *descriptor.Exchange, s descriptor.Sink, _ Stream, _ *Env) (exchange.Sink, error) {
		if s.(*descriptor.TangoRemoteAttributeSink).AttributeName == "fail" {
			return failSink{}, nil
		}
		return stuckSink{}, nil
	})
	return f
}

const (
	// endless: an in-memory stream that outlives any test.
	endlessExchange = `{"dtype": "int64", "source": {"type": "InMemorySource", "data": [1, 2, 3], "delay": 3600}, "sink": {"type": "InMemorySink", "key": "q"}}`
	goodConfig      = `{"exchanges": [` + endlessExchange + `]}`
	gateConfig      = `{"exchanges": [{"dtype": "int64", "source": {"type": "TangoSubscriptionSource", "device_name": "a/b/c", "attribute_name": "x", "etype": "CHANGE_EVENT"}, "sink": {"type": "InMemorySink", "key": "q"}}]}`
	stuckConfig     = `{"exchanges": [{"dtype": "int64", "source": {"type": "InMemorySource", "data": [1]}, "sink": {"type": "TangoRemoteAttributeSink", "device_name": "a/b/c", "attribute_name": "stuck"}}]}`
	failExchange    = `{"dtype": "int64", "source": {"type": "InMemorySource", "data": [1]}, "sink": {"type": "TangoRemoteAttributeSink", "device_name": "a/b/c", "attribute_name": "fail"}}`
	badConfig       = `{"exchanges": [{"source": {"type": "KafkaConsumerSource", "servers": "h:1", "topic": "t"}, "sink": {"type": "InMemorySink", "key": "q"}}]}`
)

// deviceIn returns a device in state s. For OPEN and CLOSE a start or stop
// is left in progress (blocked); Abort ends it.
func deviceIn(t *testing.T, s State) *Device {
	t.Helper()
	ctx := context.Background()
	d := NewDevice(WithFactories(testFactories()), quiet())
	t.Cleanup(func() {
		_ = d.Abort(ctx, "")
		_ = d.Shutdown(ctx)
	})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	switch s {
	case Standby:
	case Off:
		must(d.Configure(ctx, goodConfig))
	case On:
		must(d.Configure(ctx, goodConfig))
		must(d.Start(ctx, ""))
	case Fault:
		if d.Configure(ctx, badConfig) == nil {
			t.Fatal("bad config accepted")
		}
	case Open:
		must(d.Configure(ctx, gateConfig))
		go func() { _ = d.Start(ctx, "") }()
		waitFor(t, "OPEN", func() bool { return d.State() == Open })
	case Close:
		must(d.Configure(ctx, stuckConfig))
		must(d.Start(ctx, ""))
		waitFor(t, "the value to reach the stuck sink", func() bool {
			xs := d.Exchanges()
			return len(xs) == 1 && xs[0].Stats.Processed == 1
		})
		go func() { _ = d.Stop(ctx, "") }()
		waitFor(t, "CLOSE", func() bool { return d.State() == Close })
	default:
		t.Fatalf("no way to reach %s", s)
	}
	if got := d.State(); got != s {
		t.Fatalf("set-up reached %s, want %s", got, s)
	}
	return d
}

// Every (state, command) pair: a command allowed in a state leads to the
// state the machine says; any other is refused with a NotAllowedError
// naming the state and the command, and changes nothing.
func TestStateMachine(t *testing.T) {
	next := map[State]map[string]State{
		Standby: {CmdConfigure: Off, CmdIsMonitoringDB: Standby},
		Off:     {CmdConfigure: Off, CmdStart: On, CmdStandby: Standby, CmdIsMonitoringDB: Off},
		On:      {CmdStop: Off, CmdAbort: Off, CmdIsMonitoringDB: On},
		Fault:   {CmdReset: Standby, CmdIsMonitoringDB: Fault},
		Open:    {CmdAbort: Off, CmdIsMonitoringDB: Open},
		Close:   {CmdAbort: Off, CmdIsMonitoringDB: Close},
	}
	for _, s := range States() {
		for _, cmd := range Commands() {
			_, want := next[s][cmd]
			want = want || cmd == CmdIsMonitoringDB // in INIT too
			if Allowed(s, cmd) != want {
				t.Errorf("Allowed(%s, %s) = %v", s, cmd, !want)
			}
		}
	}
	for s, row := range next {
		for _, cmd := range Commands() {
			t.Run(fmt.Sprintf("%s/%s", s, cmd), func(t *testing.T) {
				d := deviceIn(t, s)
				arg := ""
				if cmd == CmdConfigure {
					arg = goodConfig
				}
				err := d.Command(context.Background(), cmd, arg)
				to, ok := row[cmd]
				if !ok {
					var na *NotAllowedError
					if !errors.As(err, &na) || na.State != s || na.Command != cmd {
						t.Fatalf("%s in %s: %v, want not allowed", cmd, s, err)
					}
					want := fmt.Sprintf("command %s not allowed when the device is in %s state", cmd, s)
					if err.Error() != want {
						t.Errorf("error %q, want %q", err, want)
					}
					if got := d.State(); got != s {
						t.Errorf("refused %s changed the state to %s", cmd, got)
					}
					return
				}
				if err != nil {
					t.Fatalf("%s in %s: %v", cmd, s, err)
				}
				if got := d.State(); got != to {
					t.Errorf("%s in %s led to %s, want %s", cmd, s, got, to)
				}
			})
		}
	}
	if err := NewDevice(quiet()).Command(context.Background(), "Explode", ""); !errors.Is(err, ErrUnknownCommand) {
		t.Errorf("unknown command: %v", err)
	}
}

// An exchange that fails while running puts the device in FAULT with the
// error in Status; Reset returns it to STANDBY.
func TestRunFailureFaults(t *testing.T) {
	ctx := context.Background()
	d := newTestDevice(t, WithFactories(testFactories()))
	if err := d.Configure(ctx, `{"exchanges": [`+failExchange+`]}`); err != nil {
		t.Fatal(err)
	}
	if err := d.Start(ctx, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "FAULT", func() bool { return d.State() == Fault })
	if !strings.Contains(d.Status(), errSinkBroke.Error()) {
		t.Errorf("status %q does not show the error", d.Status())
	}
	if err := d.Reset(ctx, ""); err != nil || d.State() != Standby {
		t.Errorf("Reset: %v, state %s", err, d.State())
	}
}

// Groups run on their own: one failing leaves the other ON; the device
// aggregates (FAULT while one group is in FAULT); group commands act on
// one group.
func TestGroupsIndependent(t *testing.T) {
	ctx := context.Background()
	d := newTestDevice(t, WithFactories(testFactories()))
	cfg := `{"exchanges": {"good": [` + endlessExchange + `], "bad": [` + failExchange + `]}}`
	if err := d.Configure(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if err := d.Start(ctx, "good"); err != nil {
		t.Fatal(err)
	}
	if s, _ := d.GroupState("bad"); s != Off || d.State() != On {
		t.Fatalf("after starting good: bad %s, device %s", s, d.State())
	}
	if err := d.Start(ctx, "bad"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "bad to fail", func() bool { s, _ := d.GroupState("bad"); return s == Fault })
	if s, _ := d.GroupState("good"); s != On || d.State() != Fault {
		t.Fatalf("good %s, device %s; want ON and FAULT", s, d.State())
	}
	if !strings.Contains(d.Status(), "group bad: FAULT") {
		t.Errorf("status %q", d.Status())
	}
	err := d.Stop(ctx, "bad")
	var na *NotAllowedError
	if !errors.As(err, &na) || na.Group != "bad" || !strings.Contains(err.Error(), "group bad is in FAULT state") {
		t.Errorf("Stop bad: %v", err)
	}
	if err := d.Reset(ctx, "bad"); err != nil {
		t.Fatal(err)
	}
	if s, _ := d.GroupState("bad"); s != Off || d.State() != On {
		t.Errorf("after Reset bad: bad %s, device %s", s, d.State())
	}
	if err := d.Stop(ctx, "good"); err != nil || d.State() != Off {
		t.Errorf("Stop good: %v, device %s", err, d.State())
	}
	if err := d.Start(ctx, "nope"); !errors.Is(err, ErrUnknownGroup) {
		t.Errorf("unknown group: %v", err)
	}
}

// Events delivers the state changes in order, starting with the current
// state.
func TestEvents(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d := newTestDevice(t)
	ev := d.Events(ctx)
	_ = d.Configure(ctx, goodConfig)
	_ = d.Start(ctx, "")
	_ = d.Stop(ctx, "")
	var got []string
	for range 6 {
		e := <-ev
		got = append(got, e.State.String())
	}
	if want := "STANDBY OFF OPEN ON CLOSE OFF"; strings.Join(got, " ") != want {
		t.Errorf("events %v, want %s", got, want)
	}
	cancel()
	for range ev { // closed when ctx ends
	}
}

// A part that panics fails its exchange (FAULT, with the panic in Status)
// and a factory that panics fails the configuration; the process goes on.
func TestPanicsBecomeFaults(t *testing.T) {
	ctx := context.Background()
	f := DefaultFactories()
	f.RegisterSink("TangoRemoteAttributeSink", func(_ context.Context, _ *descriptor.Exchange, s descriptor.Sink, _ Stream, _ *Env) (exchange.Sink, error) {
		if s.(*descriptor.TangoRemoteAttributeSink).AttributeName == "fail" {
			return panicSink{}, nil
		}
		panic("factory bug")
	})
	d := newTestDevice(t, WithFactories(f))
	if err := d.Configure(ctx, stuckConfig); err == nil || !strings.Contains(d.Status(), "factory panicked: factory bug") {
		t.Errorf("Configure: %v; status %q", err, d.Status())
	}
	if err := d.Reset(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if err := d.Configure(ctx, `{"exchanges": [`+failExchange+`]}`); err != nil {
		t.Fatal(err)
	}
	if err := d.Start(ctx, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "FAULT", func() bool { return d.State() == Fault })
	var pe *PanicError
	if xs := d.Exchanges(); len(xs) != 1 || !errors.As(xs[0].Stats.Err, &pe) || pe.Value != "sink bug" {
		t.Errorf("exchanges %+v", xs)
	}
	if !strings.Contains(d.Status(), "TangoRemoteAttributeSink.Write panicked: sink bug") {
		t.Errorf("status %q", d.Status())
	}
}

type panicSink struct{ stuckSink }

func (panicSink) Write(context.Context, pyval.Value) error { panic("sink bug") }
