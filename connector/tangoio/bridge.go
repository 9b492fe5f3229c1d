//go:build tango

package tangoio

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/sdpkit/sdpkit/connector"
	"github.com/sdpkit/sdpkit/connector/attribute"
	"github.com/sdpkit/sdpkit/connector/internal/ndconv"
	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/tango"
)

// Bridge serves a connector.Device as the Tango device SDPQueueConnector
// (spec B2) on a tango.Server: state and status mirror the device, the
// commands are dispatched to it, and every attribute of its store is a
// dynamic Tango attribute whose store changes are pushed as change events.
type Bridge struct {
	srv    *tango.Server
	dev    *connector.Device
	log    *slog.Logger
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// kick asks the mirroring goroutine to re-read the state and drop
	// removed attributes (after a command).
	kick chan struct{}
	// attrs are the attributes created on srv. Only the mirroring goroutine
	// uses it (and Close after it ended): Tango's command threads hold the
	// device monitor that every srv call needs, so no lock that a command
	// handler could wait for may be held across a srv call.
	attrs map[string]attribute.Spec
	// unserved are the attributes Tango cannot carry, logged once per spec.
	unserved map[string]attribute.Spec
}

// Option refines a Bridge.
type Option func(*Bridge)

// WithLogger sets the logger for what the bridge cannot report otherwise
// (an attribute Tango cannot carry, a failed Set).
func WithLogger(l *slog.Logger) Option { return func(b *Bridge) { b.log = l } }

// The commands the bridge adds, with Tango's argument and result types.
// Start, Stop, Reset and Abort take no argument (as in the Python device)
// and act on the whole device.
var commands = []struct {
	name    string
	in, out tango.Type
}{
	{connector.CmdConfigure, tango.DevString, tango.DevVoid},
	{"Start", tango.DevVoid, tango.DevVoid},
	{"Stop", tango.DevVoid, tango.DevVoid},
	{"Standby", tango.DevVoid, tango.DevVoid},
	{"Reset", tango.DevVoid, tango.DevVoid},
	{"Abort", tango.DevVoid, tango.DevVoid},
	{"IsMonitoringDB", tango.DevVoid, tango.DevBoolean},
}

// Serve starts serving dev on srv until ctx is done or Close is called.
// srv should be otherwise unused (the bridge owns its attributes, commands,
// state and status).
func Serve(ctx context.Context, srv *tango.Server, dev *connector.Device, opts ...Option) (*Bridge, error) {
	ctx, cancel := context.WithCancel(ctx)
	b := &Bridge{srv: srv, dev: dev, log: slog.New(slog.DiscardHandler), cancel: cancel,
		kick: make(chan struct{}, 1), attrs: map[string]attribute.Spec{}, unserved: map[string]attribute.Spec{}}
	for _, o := range opts {
		o(b)
	}
	for i, c := range commands {
		if err := srv.AddCommand(c.name, c.in, c.out, b.handler(ctx, c.name)); err != nil {
			cancel()
			for _, done := range commands[:i] {
				_ = srv.RemoveCommand(done.name)
			}
			return nil, fmt.Errorf("tangoio: add command %s: %w", c.name, err)
		}
	}
	b.mirrorState(dev.State(), dev.Status())
	states := dev.Events(ctx)
	events := dev.Attributes().Subscribe(ctx)
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		for {
			select {
			case ev, ok := <-states:
				if !ok {
					return
				}
				b.mirrorState(ev.State, ev.Status)
				b.reconcile()
			case ev, ok := <-events:
				if !ok {
					return
				}
				b.push(ev)
			case <-b.kick:
				b.mirrorState(b.dev.State(), b.dev.Status())
				b.reconcile()
			}
		}
	}()
	return b, nil
}

// Close stops mirroring and removes the bridge's commands and attributes
// from the server.
func (b *Bridge) Close() error {
	b.cancel()
	b.wg.Wait()
	var errs []error
	for _, c := range commands {
		if err := b.srv.RemoveCommand(c.name); err != nil && !errors.Is(err, tango.ErrClosed) {
			errs = append(errs, err)
		}
	}
	for name := range b.attrs {
		if err := b.srv.RemoveAttribute(name); err != nil && !errors.Is(err, tango.ErrClosed) {
			errs = append(errs, err)
		}
		delete(b.attrs, name)
	}
	return errors.Join(errs...)
}

// TangoState maps a connector state to its Tango state (they share names).
func TangoState(s connector.State) tango.State {
	switch s {
	case connector.Init:
		return tango.Init
	case connector.Standby:
		return tango.Standby
	case connector.Off:
		return tango.Off
	case connector.Open:
		return tango.Open
	case connector.On:
		return tango.On
	case connector.Close:
		return tango.Close
	case connector.Fault:
		return tango.Fault
	}
	return tango.Unknown
}

func (b *Bridge) mirrorState(s connector.State, status string) {
	if err := b.srv.SetState(TangoState(s)); err != nil {
		b.log.Warn("tango: set state", "err", err)
	}
	if err := b.srv.SetStatus(status); err != nil {
		b.log.Warn("tango: set status", "err", err)
	}
}

// handler dispatches a Tango command to the device. A command not allowed
// in the current state is a DevFailed with reason API_CommandNotAllowed.
func (b *Bridge) handler(ctx context.Context, name string) func(pyval.Value) (pyval.Value, error) {
	return func(arg pyval.Value) (pyval.Value, error) {
		if name == "IsMonitoringDB" {
			return pyval.Bool(b.dev.IsMonitoringDB()), nil
		}
		var s string
		if str, ok := arg.(pyval.Str); ok {
			s = string(str)
		}
		err := b.dev.Command(ctx, name, s)
		// A reconfiguration may leave the state as it was (OFF → OFF), so
		// no state event would tell the bridge of removed attributes.
		select {
		case b.kick <- struct{}{}:
		default: // one is pending
		}
		if err != nil {
			reason := "SDPQueueConnector_CommandFailed"
			if errors.Is(err, connector.ErrNotAllowed) {
				reason = "API_CommandNotAllowed"
			}
			return nil, &tango.Error{Reason: reason, Err: err}
		}
		return nil, nil
	}
}

// push makes ev's attribute exist on the server and sets its value there,
// which pushes the change event.
func (b *Bridge) push(ev attribute.Event) {
	snap, err := b.dev.Attributes().Get(ev.Name)
	if err != nil {
		return // removed since
	}
	if !b.ensure(snap.Spec) {
		return
	}
	if err := b.srv.Set(ev.Name, ev.Value, tango.WithQuality(ev.Quality), tango.WithTime(ev.Time)); err != nil {
		b.log.Warn("tango: set attribute", "attribute", ev.Name, "err", err)
	}
}

// ensure creates spec's attribute on the server, or recreates it when the
// store's spec changed; false if Tango cannot carry it.
func (b *Bridge) ensure(spec attribute.Spec) bool {
	if old, ok := b.attrs[spec.Name]; ok {
		if sameSpec(old, spec) {
			return true
		}
		_ = b.srv.RemoveAttribute(spec.Name)
		delete(b.attrs, spec.Name)
	}
	if old, ok := b.unserved[spec.Name]; ok && sameSpec(old, spec) {
		return false
	}
	as, err := tango.SpecFor(spec)
	if err != nil {
		b.log.Warn("tango: attribute not served", "attribute", spec.Name, "err", err)
		b.unserved[spec.Name] = spec
		return false
	}
	delete(b.unserved, spec.Name)
	if spec.Access != attribute.Read {
		store, name, dt, shape := b.dev.Attributes(), spec.Name, spec.DType, spec.Shape
		as.OnWrite = func(v pyval.Value) error {
			c, err := ndconv.Coerce(v, dt, shape)
			if err != nil {
				return &tango.Error{Reason: "API_WAttrOutsideLimit", Err: err}
			}
			return store.Set(name, c)
		}
	}
	if err := b.srv.AddAttribute(as); err != nil {
		b.log.Warn("tango: add attribute", "attribute", spec.Name, "err", err)
		return false
	}
	b.attrs[spec.Name] = spec
	return true
}

func sameSpec(a, b attribute.Spec) bool {
	return a.DType.Equal(b.DType) && slices.Equal(a.Shape, b.Shape) && a.Access == b.Access
}

// reconcile removes the server attributes the store no longer has.
func (b *Bridge) reconcile() {
	store := b.dev.Attributes()
	for name, spec := range b.attrs {
		snap, err := store.Get(name)
		if err == nil && sameSpec(snap.Spec, spec) {
			continue
		}
		if err := b.srv.RemoveAttribute(name); err != nil {
			b.log.Warn("tango: remove attribute", "attribute", name, "err", err)
		}
		delete(b.attrs, name)
	}
}

// NewServer starts the Tango device server for a Bridge: class
// SDPQueueConnector, server SDPQueueConnector/1, in no-database mode (see
// tango.NewServer; opts come after these defaults and may override them).
// cppTango allows one server per process.
func NewServer(ctx context.Context, opts ...tango.ServerOption) (*tango.Server, error) {
	base := []tango.ServerOption{
		tango.WithClass("SDPQueueConnector"),
		tango.WithInstance("SDPQueueConnector", "1"),
		tango.WithDevice("sdp/queueconnector/1"),
	}
	return tango.NewServer(ctx, append(base, opts...)...)
}
