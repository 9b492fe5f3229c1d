package connector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/sdpkit/sdpkit/connector/attribute"
	"github.com/sdpkit/sdpkit/connector/descriptor"
	"github.com/sdpkit/sdpkit/connector/exchange"
)

// ExchangeInfo is one exchange of the running configuration and its
// counters.
type ExchangeInfo struct {
	Group string
	Name  string // the exchange's JSON path, e.g. exchanges[0]
	Stats exchange.Stats
}

// Option configures a Device.
type Option func(*Device)

// WithLogger sets the structured logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(d *Device) { d.log = l } }

// WithFactories sets the kinds the device can build (default
// DefaultFactories()).
func WithFactories(f *Factories) Option { return func(d *Device) { d.factories = f } }

// WithAttributes sets the attribute store (default a new one).
func WithAttributes(s *attribute.Store) Option { return func(d *Device) { d.attrs = s } }

// WithQueues sets the queues of InMemorySinks (default new ones).
func WithQueues(q *exchange.MemoryQueues) Option { return func(d *Device) { d.queues = q } }

// WithStopTimeout bounds how long Stop (and a reconfiguration) waits for
// the exchanges to drain before aborting them (default 30 s; 0 waits as
// long as the command's context allows).
func WithStopTimeout(t time.Duration) Option { return func(d *Device) { d.stopTimeout = t } }

// WithExchangeOptions adds options to every exchange the device builds
// (buffer size, clock).
func WithExchangeOptions(opts ...exchange.Option) Option {
	return func(d *Device) { d.xopts = append(d.xopts, opts...) }
}

// WithStopped sets a function called with the final counters of every
// exchange the device stops or aborts, before it is discarded (for
// summaries and tests).
func WithStopped(fn func(ExchangeInfo)) Option { return func(d *Device) { d.onStopped = fn } }

// group is one group of exchanges with its own state machine (OFF, OPEN,
// ON, CLOSE, FAULT).
type group struct {
	spec  GroupSpec
	state State
	err   error
	built *Built // nil when nothing is built
	fresh bool   // built and never started (exchanges are single-use)
}

// Device is the queue connector device (spec B2): it holds a configuration
// of exchange groups, runs them, exposes their attributes, and follows the
// Tango state machine INIT, STANDBY, OFF, OPEN, ON, CLOSE, FAULT.
//
// # Groups
//
// A descriptor in list form is one group (DefaultGroup); the dict-of-groups
// form (and one processing block's flows) gives one group per entry. Each
// group has its own state machine, is started, stopped, aborted and reset
// on its own (give the group name as the command's argument), and fails on
// its own: a failing group does not stop the others. Commands without a
// group act on the device: Start starts every group, Stop stops every group
// that is ON, and so on. The device state aggregates the groups' states:
//
//   - FAULT if the configuration is bad or any group is in FAULT;
//   - else STANDBY if there is no group;
//   - else OPEN (CLOSE) if any group is starting (stopping);
//   - else ON if any group is ON;
//   - else OFF.
//
// A device-level command is checked against the aggregate state, a
// group-level command against the group's state.
//
// # Commands and concurrency
//
// Commands run one at a time, as under Tango's default serialisation:
// a command waits for the one in progress, then is checked against the
// state. While a start or stop is in progress (OPEN, CLOSE) every command
// but Abort is refused at once; Abort interrupts it.
//
// Nothing the exchanges do can crash the process: failures put the device
// (or the group) in FAULT and Status shows the error.
type Device struct {
	log         *slog.Logger
	factories   *Factories
	attrs       *attribute.Store
	queues      *exchange.MemoryQueues
	stopTimeout time.Duration
	xopts       []exchange.Option
	onStopped   func(ExchangeInfo)

	ops chan struct{} // a one-slot semaphore serialising commands

	mu         sync.Mutex
	initDone   bool
	fault      error // a configuration error (device-level FAULT)
	groups     []*group
	opCancel   context.CancelFunc // cancels the start or stop in progress
	aborting   bool
	monitoring int
	reapply    []func() // the database watchers' "apply again" triggers
	subs       map[chan StateEvent]*int
	last       State
}

// NewDevice returns a device in STANDBY (it passes through INIT while it is
// built).
func NewDevice(opts ...Option) *Device {
	d := &Device{
		log:         slog.Default(),
		stopTimeout: 30 * time.Second,
		ops:         make(chan struct{}, 1),
		subs:        map[chan StateEvent]*int{},
	}
	for _, o := range opts {
		o(d)
	}
	if d.factories == nil {
		d.factories = DefaultFactories()
	}
	if d.attrs == nil {
		d.attrs = attribute.NewStore()
	}
	if d.queues == nil {
		d.queues = exchange.NewMemoryQueues()
	}
	d.mu.Lock()
	d.initDone = true
	d.changedLocked()
	d.mu.Unlock()
	return d
}

// Attributes returns the device's attribute store.
func (d *Device) Attributes() *attribute.Store { return d.attrs }

// Queues returns the queues of the device's InMemorySinks.
func (d *Device) Queues() *exchange.MemoryQueues { return d.queues }

// State returns the device state.
func (d *Device) State() State {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stateLocked()
}

func (d *Device) stateLocked() State {
	if !d.initDone {
		return Init
	}
	if d.fault != nil {
		return Fault
	}
	if len(d.groups) == 0 {
		return Standby
	}
	has := map[State]bool{}
	for _, g := range d.groups {
		has[g.state] = true
	}
	for _, s := range []State{Fault, Open, Close, On} {
		if has[s] {
			return s
		}
	}
	return Off
}

// GroupState returns the state of one group.
func (d *Device) GroupState(name string) (State, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	g := d.groupLocked(name)
	if g == nil {
		return 0, fmt.Errorf("%w %q", ErrUnknownGroup, name)
	}
	return g.state, nil
}

// Groups returns the names of the configured groups, in order.
func (d *Device) Groups() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for _, g := range d.groups {
		out = append(out, g.spec.Name)
	}
	return out
}

func (d *Device) groupLocked(name string) *group {
	for _, g := range d.groups {
		if g.spec.Name == name {
			return g
		}
	}
	return nil
}

// Status is Tango's status string: the state, then the error that put the
// device in FAULT, then one line per group when there are several or one
// failed.
func (d *Device) Status() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.statusLocked()
}

func (d *Device) statusLocked() string {
	var b strings.Builder
	fmt.Fprintf(&b, "The device is in %s state.", d.stateLocked())
	if d.fault != nil {
		fmt.Fprintf(&b, "\n%v", d.fault)
	}
	for _, g := range d.groups {
		if len(d.groups) == 1 && g.err == nil {
			break
		}
		fmt.Fprintf(&b, "\ngroup %s: %s", g.spec.Name, g.state)
		if g.err != nil {
			fmt.Fprintf(&b, ": %v", g.err)
		}
	}
	return b.String()
}

// Exchanges returns every exchange of the current configuration with a
// snapshot of its counters (none before the first build).
func (d *Device) Exchanges() []ExchangeInfo {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []ExchangeInfo
	for _, g := range d.groups {
		if g.built == nil {
			continue
		}
		for _, x := range g.built.Group.Exchanges() {
			out = append(out, ExchangeInfo{Group: g.spec.Name, Name: x.Name(), Stats: x.Stats()})
		}
	}
	return out
}

// IsMonitoringDB reports whether a configuration database watch is active.
func (d *Device) IsMonitoringDB() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.monitoring > 0
}

// Events returns the state changes, starting with the current state, until
// ctx ends. The device never waits for a subscriber: one that falls behind
// loses older events (counted in Dropped), never the latest.
func (d *Device) Events(ctx context.Context) <-chan StateEvent {
	ch := make(chan StateEvent, 16)
	d.mu.Lock()
	dropped := 0
	d.subs[ch] = &dropped
	ch <- StateEvent{State: d.stateLocked(), Status: d.statusLocked(), Time: time.Now()}
	d.mu.Unlock()
	context.AfterFunc(ctx, func() {
		d.mu.Lock()
		delete(d.subs, ch)
		close(ch)
		d.mu.Unlock()
	})
	return ch
}

// changedLocked publishes the state when it changed.
func (d *Device) changedLocked() {
	s := d.stateLocked()
	if s == d.last && d.initDone {
		return
	}
	prev := d.last
	d.last = s
	ev := StateEvent{State: s, Status: d.statusLocked(), Time: time.Now()}
	d.log.Info("state", "from", prev.String(), "to", s.String())
	for ch, dropped := range d.subs {
		ev.Dropped = *dropped
		select {
		case ch <- ev:
			*dropped = 0
			continue
		default:
		}
		select { // full: make room by dropping the oldest
		case <-ch:
			*dropped++
		default:
		}
		ev.Dropped = *dropped
		select {
		case ch <- ev:
			*dropped = 0
		default:
		}
	}
}

// Command runs a command by its Tango name. arg is the JSON of Configure,
// and for Start, Stop, Abort and Reset an optional group name ("" for the
// whole device). IsMonitoringDB's result is the IsMonitoringDB method.
func (d *Device) Command(ctx context.Context, name, arg string) error {
	switch name {
	case CmdConfigure:
		return d.Configure(ctx, arg)
	case CmdStart:
		return d.Start(ctx, arg)
	case CmdStop:
		return d.Stop(ctx, arg)
	case CmdStandby:
		return d.Standby(ctx)
	case CmdReset:
		return d.Reset(ctx, arg)
	case CmdAbort:
		return d.Abort(ctx, arg)
	case CmdIsMonitoringDB:
		return nil
	}
	return fmt.Errorf("%w %q (commands: %s)", ErrUnknownCommand, name, strings.Join(Commands(), ", "))
}

// stateForLocked is the state a command is checked against.
func (d *Device) stateForLocked(grp string) (State, error) {
	if grp == "" {
		return d.stateLocked(), nil
	}
	g := d.groupLocked(grp)
	if g == nil {
		return 0, fmt.Errorf("%w %q", ErrUnknownGroup, grp)
	}
	return g.state, nil
}

// begin checks cmd against the state, waits for the command in progress,
// and checks again. The caller must call end.
func (d *Device) begin(ctx context.Context, cmd, grp string) error {
	d.mu.Lock()
	s, err := d.stateForLocked(grp)
	if err == nil && (s == Open || s == Close || s == Init) {
		err = &NotAllowedError{Command: cmd, State: s, Group: grp}
	}
	d.mu.Unlock()
	if err != nil {
		return err
	}
	select {
	case d.ops <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if s, err = d.stateForLocked(grp); err == nil && !Allowed(s, cmd) {
		err = &NotAllowedError{Command: cmd, State: s, Group: grp}
	}
	if err != nil {
		<-d.ops
	}
	return err
}

func (d *Device) end() { <-d.ops }

// Configure replaces the configuration with the descriptor JSON (in STANDBY
// or OFF). An empty string, "null", or a descriptor without exchanges
// leaves the device in STANDBY; a good one puts it in OFF with every
// exchange built and its attributes defined; a bad one (invalid JSON,
// invalid descriptor, a kind not available, a sink that cannot be built)
// puts it in FAULT and is returned.
func (d *Device) Configure(ctx context.Context, desc string) error {
	if err := d.begin(ctx, CmdConfigure, ""); err != nil {
		return err
	}
	defer d.end()
	return d.configure(ctx, parseConfig([]byte(desc)))
}

// parsed is a configuration read from somewhere: a descriptor or why there
// is none.
type parsed struct {
	desc *descriptor.Descriptor
	err  error
}

func parseConfig(data []byte) parsed {
	s := strings.TrimSpace(string(data))
	if s == "" || s == "null" {
		return parsed{desc: &descriptor.Descriptor{}}
	}
	d, err := descriptor.Parse(data)
	if err != nil {
		return parsed{err: fmt.Errorf("configuration: %w", err)}
	}
	return parsed{desc: d}
}

// configure drops the current configuration (its groups must not run) and
// builds the new one.
func (d *Device) configure(ctx context.Context, p parsed) error {
	d.mu.Lock()
	old := d.groups
	d.groups = nil
	d.fault = nil
	d.mu.Unlock()
	for _, g := range old {
		d.dropGroup(g)
	}
	err := p.err
	var groups []*group
	if err == nil {
		for _, spec := range Groups(p.desc) {
			b, berr := d.build(ctx, spec)
			if berr != nil {
				err = berr
				for _, g := range groups {
					d.dropGroup(g)
				}
				groups = nil
				break
			}
			groups = append(groups, &group{spec: spec, state: Off, built: b, fresh: true})
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err != nil {
		d.fault = err
		d.log.Error("configuration failed", "err", err)
	} else {
		d.groups = groups
		d.log.Info("configured", "groups", len(groups))
	}
	d.changedLocked()
	return err
}

func (d *Device) build(ctx context.Context, spec GroupSpec) (*Built, error) {
	return d.factories.BuildGroup(ctx, spec, Env{Attributes: d.attrs, Queues: d.queues, Logger: d.log}, d.xopts...)
}

// dropGroup removes the attributes of a group that no longer runs.
func (d *Device) dropGroup(g *group) {
	if g.built == nil {
		return
	}
	for _, a := range g.built.Attributes {
		d.attrs.Remove(a)
	}
}

// targets returns the groups a command acts on: the named one, or every
// group in state from.
func (d *Device) targetsLocked(grp string, from ...State) []*group {
	var out []*group
	for _, g := range d.groups {
		if grp != "" && g.spec.Name != grp {
			continue
		}
		for _, s := range from {
			if g.state == s {
				out = append(out, g)
				break
			}
		}
	}
	return out
}

// opContext returns the context of a start or stop, which Abort cancels.
func (d *Device) opContextLocked(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	d.opCancel = cancel
	d.aborting = false
	return ctx, cancel
}

// Start starts every group in OFF (or the named group): OPEN, then ON once
// every exchange has started. A group that fails to start goes to FAULT.
func (d *Device) Start(ctx context.Context, grp string) error {
	if err := d.begin(ctx, CmdStart, grp); err != nil {
		return err
	}
	defer d.end()
	return d.start(ctx, grp)
}

func (d *Device) start(ctx context.Context, grp string) error {
	d.mu.Lock()
	targets := d.targetsLocked(grp, Off)
	for _, g := range targets {
		g.state = Open
		g.err = nil
	}
	opCtx, cancel := d.opContextLocked(ctx)
	d.changedLocked()
	d.mu.Unlock()
	defer cancel()
	var errs []error
	for _, g := range targets {
		err := d.startGroup(opCtx, g)
		d.mu.Lock()
		switch {
		case err == nil:
			g.state = On
		case d.aborting:
			g.state = Off
		default:
			g.state = Fault
			g.err = err
			d.log.Error("start failed", "group", g.spec.Name, "err", err)
			errs = append(errs, err)
		}
		d.changedLocked()
		d.mu.Unlock()
	}
	return errors.Join(errs...)
}

func (d *Device) startGroup(ctx context.Context, g *group) error {
	if !g.fresh {
		b, err := d.build(ctx, g.spec)
		if err != nil {
			return err
		}
		d.mu.Lock()
		g.built = b
		d.mu.Unlock()
	}
	g.fresh = false
	run := g.built.Group
	if err := run.Start(ctx); err != nil {
		return err
	}
	go d.watchRun(g, run)
	return nil
}

// watchRun puts a group in FAULT when its run fails.
func (d *Device) watchRun(g *group, run *exchange.Group) {
	<-run.Done()
	err := run.Err()
	if err == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if g.built == nil || g.built.Group != run || g.state != On {
		return // stopping or replaced: the command in progress reports it
	}
	g.state = Fault
	g.err = err
	d.log.Error("exchange failed", "group", g.spec.Name, "err", err)
	d.changedLocked()
}

// Stop stops every group that is ON (or the named group): CLOSE while the
// exchanges drain (nothing accepted is lost, see package exchange), then
// OFF. A group whose drain fails goes to FAULT. The drain is bounded by ctx
// and the stop timeout: when either ends first, the exchanges are aborted
// (so a caller such as an HTTP handler should not pass a context that ends
// with its request).
func (d *Device) Stop(ctx context.Context, grp string) error {
	if err := d.begin(ctx, CmdStop, grp); err != nil {
		return err
	}
	defer d.end()
	return d.stop(ctx, grp)
}

func (d *Device) stop(ctx context.Context, grp string) error {
	d.mu.Lock()
	targets := d.targetsLocked(grp, On)
	for _, g := range targets {
		g.state = Close
	}
	if d.stopTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d.stopTimeout)
		defer cancel()
	}
	opCtx, cancel := d.opContextLocked(ctx)
	d.changedLocked()
	d.mu.Unlock()
	defer cancel()
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	for i, g := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = g.built.Group.Stop(opCtx)
			d.reportStopped(g)
		}()
	}
	wg.Wait()
	d.mu.Lock()
	defer d.mu.Unlock()
	var failed []error
	for i, g := range targets {
		switch {
		case errs[i] == nil || d.aborting:
			g.state = Off
		default:
			g.state = Fault
			g.err = errs[i]
			d.log.Error("stop failed", "group", g.spec.Name, "err", errs[i])
			failed = append(failed, errs[i])
		}
	}
	d.changedLocked()
	return errors.Join(failed...)
}

func (d *Device) reportStopped(g *group) {
	for _, x := range g.built.Group.Exchanges() {
		st := x.Stats()
		d.log.Info("exchange stopped", "group", g.spec.Name, "exchange", x.Name(),
			"in", st.In, "out", st.Out, "errors", st.Errors, "state", st.State.String())
		if d.onStopped != nil {
			d.onStopped(ExchangeInfo{Group: g.spec.Name, Name: x.Name(), Stats: st})
		}
	}
}

// abortGroups stops groups without draining (a cancelled context aborts the
// runs; values in flight are lost).
func (d *Device) abortGroups(gs []*group) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, g := range gs {
		if g.built != nil && !g.fresh {
			_ = g.built.Group.Stop(cancelled)
			d.reportStopped(g)
		}
	}
}

// Standby drops the configuration (in OFF): its attributes are removed and
// the device goes to STANDBY.
func (d *Device) Standby(ctx context.Context) error {
	if err := d.begin(ctx, CmdStandby, ""); err != nil {
		return err
	}
	defer d.end()
	return d.configure(ctx, parsed{desc: &descriptor.Descriptor{}})
}

// Abort stops the running groups (or the named group) at once, without
// draining: a start or stop in progress is interrupted, values in flight
// are lost, and the groups go to OFF.
func (d *Device) Abort(ctx context.Context, grp string) error {
	d.mu.Lock()
	s, err := d.stateForLocked(grp)
	if err == nil && !Allowed(s, CmdAbort) {
		err = &NotAllowedError{Command: CmdAbort, State: s, Group: grp}
	}
	// Interrupt the start or stop in progress, unless only a group that
	// is not part of it was named.
	if err == nil && d.opCancel != nil && (grp == "" || s == Open || s == Close) {
		d.aborting = true
		d.opCancel()
	}
	d.mu.Unlock()
	if err != nil {
		return err
	}
	select {
	case d.ops <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer d.end()
	d.mu.Lock()
	targets := d.targetsLocked(grp, On)
	d.mu.Unlock()
	d.abortGroups(targets)
	d.mu.Lock()
	for _, g := range targets {
		g.state = Off
	}
	d.log.Warn("aborted", "group", grp)
	d.changedLocked()
	d.mu.Unlock()
	return nil
}

// Reset leaves FAULT. For the whole device: every group is aborted, the
// configuration dropped and the device goes to STANDBY; a device watching
// the configuration database then applies the database's configuration
// again (as at initialisation). For one group: the group is aborted and
// goes to OFF, ready to Start again.
func (d *Device) Reset(ctx context.Context, grp string) error {
	if err := d.begin(ctx, CmdReset, grp); err != nil {
		return err
	}
	defer d.end()
	d.mu.Lock()
	targets := d.targetsLocked(grp, On, Fault)
	d.mu.Unlock()
	d.abortGroups(targets)
	if grp != "" {
		d.mu.Lock()
		for _, g := range targets {
			g.state = Off
			g.err = nil
		}
		d.changedLocked()
		d.mu.Unlock()
		return nil
	}
	_ = d.configure(ctx, parsed{desc: &descriptor.Descriptor{}})
	d.mu.Lock()
	again := append([]func(){}, d.reapply...)
	d.mu.Unlock()
	for _, f := range again {
		f()
	}
	return nil
}

// Apply is the reconfiguration of a device configured from outside (a
// property, a file, the configuration database): whatever the state, the
// running groups are stopped (drained: nothing accepted is lost; failed
// groups are aborted), the new configuration replaces the old, and the
// device starts it. An empty configuration leaves the device in STANDBY,
// a bad one in FAULT (returned). It waits for the command in progress.
func (d *Device) Apply(ctx context.Context, desc []byte) error {
	return d.apply(ctx, parseConfig(desc))
}

func (d *Device) apply(ctx context.Context, p parsed) error {
	select {
	case d.ops <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer d.end()
	// A stop must drain even when ctx ends (shutdown): it is bounded by
	// the stop timeout instead.
	if err := d.stop(context.WithoutCancel(ctx), ""); err != nil {
		d.log.Error("reconfiguration: stop failed", "err", err)
	}
	d.mu.Lock()
	failed := d.targetsLocked("", Fault)
	d.mu.Unlock()
	d.abortGroups(failed)
	if err := d.configure(ctx, p); err != nil {
		return err
	}
	return d.start(ctx, "")
}

// Shutdown stops every running group, draining (as Stop), whatever the
// state; for a process that is exiting.
func (d *Device) Shutdown(ctx context.Context) error {
	select {
	case d.ops <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer d.end()
	err := d.stop(ctx, "")
	d.mu.Lock()
	failed := d.targetsLocked("", Fault)
	d.mu.Unlock()
	d.abortGroups(failed)
	return err
}
