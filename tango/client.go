//go:build tango

package tango

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"context"
	"fmt"
	"runtime/cgo"
	"sync"
	"time"
	"unsafe"

	"github.com/sdpkit/sdpkit/connector/attribute"
	"github.com/sdpkit/sdpkit/pyval"
)

// Reading is an attribute value read from a device or carried by an event.
type Reading struct {
	Name string
	// Value is a Python scalar (bool, int, float, str) for SCALAR, an ndarray
	// of the type's dtype for SPECTRUM ([x]) and IMAGE ([y, x]), a str array
	// for DevString arrays, an (encoding, bytes) tuple for DevEncoded, and
	// None when the quality is INVALID.
	Value   pyval.Value
	Quality attribute.Quality
	Time    time.Time
	Type    Type
	Format  attribute.Format
}

// Device is a client of one Tango device (cppTango's DeviceProxy). It is
// safe for concurrent use; calls on one Device are serialised.
//
// cppTango calls cannot be interrupted: the contexts of Device's methods are
// checked before each call, and the call itself is bounded by the proxy's
// timeout (WithTimeout, default 3 s).
type Device struct {
	mu     sync.Mutex
	p      *C.tg_proxy
	trl    string
	info   map[string]attrInfo
	subs   map[int]*Subscription
	closed bool
}

type attrInfo struct {
	t  Type
	f  attribute.Format
	wt int
}

type dialConfig struct{ timeout time.Duration }

// DialOption configures Dial.
type DialOption func(*dialConfig)

// WithTimeout sets the proxy's call timeout.
func WithTimeout(d time.Duration) DialOption { return func(c *dialConfig) { c.timeout = d } }

// Dial opens a proxy to the device at trl: a TRL such as
// tango://127.0.0.1:PORT/dev/name#dbase=no for a no-database server, or a
// device name resolved through TANGO_HOST.
func Dial(ctx context.Context, trl string, opts ...DialOption) (*Device, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var c dialConfig
	for _, o := range opts {
		o(&c)
	}
	ct := C.CString(trl)
	defer C.free(unsafe.Pointer(ct))
	var p *C.tg_proxy
	if err := goErr(C.tg_proxy_new(ct, &p)); err != nil {
		return nil, fmt.Errorf("tango: dial %s: %w", trl, err)
	}
	d := &Device{p: p, trl: trl, info: map[string]attrInfo{}, subs: map[int]*Subscription{}}
	if c.timeout > 0 {
		if err := goErr(C.tg_proxy_set_timeout(p, C.int(c.timeout/time.Millisecond))); err != nil {
			C.tg_proxy_delete(p)
			return nil, fmt.Errorf("tango: dial %s: set timeout: %w", trl, err)
		}
	}
	return d, nil
}

// TRL returns the address the Device was opened with.
func (d *Device) TRL() string { return d.trl }

func (d *Device) lock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return ErrClosed
	}
	return nil
}

// ReadAttribute reads an attribute.
func (d *Device) ReadAttribute(ctx context.Context, name string) (Reading, error) {
	if err := d.lock(ctx); err != nil {
		return Reading{}, err
	}
	defer d.mu.Unlock()
	cn := C.CString(name)
	defer C.free(unsafe.Pointer(cn))
	var v C.tg_value
	if err := goErr(C.tg_read(d.p, cn, &v)); err != nil {
		C.tg_value_free(&v)
		return Reading{}, fmt.Errorf("tango: read %s/%s: %w", d.trl, name, err)
	}
	r, err := cReading(name, &v)
	if err != nil {
		return Reading{}, fmt.Errorf("tango: read %s/%s: %w", d.trl, name, err)
	}
	return r, nil
}

// attrInfo returns (and caches) an attribute's type and format; d.mu held.
func (d *Device) attrInfo(name string) (attrInfo, error) {
	if in, ok := d.info[name]; ok {
		return in, nil
	}
	cn := C.CString(name)
	defer C.free(unsafe.Pointer(cn))
	var t, f, wt C.int
	if err := goErr(C.tg_attr_info(d.p, cn, &t, &f, &wt)); err != nil {
		return attrInfo{}, err
	}
	in := attrInfo{t: Type(t), f: formatOf(int(f)), wt: int(wt)}
	d.info[name] = in
	return in, nil
}

// WriteAttribute writes an attribute, converting v to its type and format
// (queried once per attribute and cached).
func (d *Device) WriteAttribute(ctx context.Context, name string, v pyval.Value) error {
	if err := d.lock(ctx); err != nil {
		return err
	}
	defer d.mu.Unlock()
	in, err := d.attrInfo(name)
	if err != nil {
		return fmt.Errorf("tango: write %s/%s: %w", d.trl, name, err)
	}
	w, err := toWire(in.t, in.f, v)
	if err == nil && w.none {
		err = fmt.Errorf("tango: cannot write None: %w", ErrType)
	}
	if err != nil {
		return fmt.Errorf("tango: write %s/%s: %w", d.trl, name, err)
	}
	cn := C.CString(name)
	defer C.free(unsafe.Pointer(cn))
	fc, _ := formatCode(in.f)
	err = goErr(C.tg_write(d.p, cn, C.int(in.t), C.int(fc), C.int(w.dimX), C.int(w.dimY),
		bytesPtr(w.data), C.size_t(len(w.data)), (*C.char)(bytesPtr(w.strs)), C.size_t(len(w.strs)), C.int(w.nstrs)))
	if err != nil {
		delete(d.info, name) // the device may have changed
		return fmt.Errorf("tango: write %s/%s: %w", d.trl, name, err)
	}
	return nil
}

// CommandInout runs a command. arg nil or None sends no argument; a str
// argument is sent as DevString. The result is None for DevVoid, or a
// bool, int, float or str as the command returns (a DevState as its int
// value; State converts it).
func (d *Device) CommandInout(ctx context.Context, name string, arg pyval.Value) (pyval.Value, error) {
	if err := d.lock(ctx); err != nil {
		return nil, err
	}
	defer d.mu.Unlock()
	cn := C.CString(name)
	defer C.free(unsafe.Pointer(cn))
	has := 0
	var ca *C.char
	if arg != nil {
		if _, none := arg.(pyval.NoneType); !none {
			s, err := pyval.AsString(arg)
			if err != nil {
				return nil, fmt.Errorf("tango: command %s/%s: argument must be a str: %w", d.trl, name, ErrType)
			}
			ca = C.CString(s)
			defer C.free(unsafe.Pointer(ca))
			has = 1
		}
	}
	var v C.tg_value
	if err := goErr(C.tg_command(d.p, cn, C.int(has), ca, &v)); err != nil {
		C.tg_value_free(&v)
		return nil, fmt.Errorf("tango: command %s/%s: %w", d.trl, name, err)
	}
	t := Type(v._type)
	w := cWire(&v)
	switch t {
	case DevVoid:
		return pyval.None, nil
	case DevState:
		if len(w.data) < 4 {
			return nil, fmt.Errorf("tango: command %s/%s: short state: %w", d.trl, name, ErrType)
		}
		return pyval.IntOf(int64(int32(uint32(w.data[0]) | uint32(w.data[1])<<8 | uint32(w.data[2])<<16 | uint32(w.data[3])<<24))), nil
	}
	return fromWire(t, attribute.Scalar, w)
}

// State reads the device state.
func (d *Device) State(ctx context.Context) (State, error) {
	v, err := d.CommandInout(ctx, "State", nil)
	if err != nil {
		return Unknown, err
	}
	i, err := pyval.AsInt64(v)
	if err != nil {
		return Unknown, fmt.Errorf("tango: State returned %s: %w", pyval.Repr(v), ErrType)
	}
	return State(i), nil
}

// Status reads the device status text.
func (d *Device) Status(ctx context.Context) (string, error) {
	v, err := d.CommandInout(ctx, "Status", nil)
	if err != nil {
		return "", err
	}
	return pyval.AsString(v)
}

// Event is one event of a subscription: a Reading, or Err (a *DevFailed
// for Tango error events such as a lost connection).
type Event struct {
	Reading
	Attr string // the attribute's full name as Tango reports it
	Name string // the event name Tango reports, e.g. "change"
	Type EventType
	Err  error
}

// Subscription is an event subscription.
type Subscription struct {
	d      *Device
	id     int
	etype  EventType
	handle cgo.Handle

	mu   sync.Mutex
	fn   func(Event)
	done bool
}

func (s *Subscription) deliver(ev Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return
	}
	s.fn(ev)
}

type subConfig struct{ stateless bool }

// SubscribeOption configures Subscribe.
type SubscribeOption func(*subConfig)

// Stateless makes the subscription survive a device that is not running
// yet: cppTango then retries every 10 s, delivering an error event per
// failed attempt, and the events start once the device is up.
func Stateless() SubscribeOption { return func(c *subConfig) { c.stateless = true } }

// Subscribe subscribes to an attribute's events. fn is called for each
// event, one at a time, on cppTango's event thread, starting with the
// initial event Tango sends on subscription (for change, archive and
// periodic events): keep it short (hand values to a channel, for
// example), and do not call Subscribe, Unsubscribe or Close from it (on
// any Device: they wait for running callbacks; from a callback they fail
// or deadlock). Error events arrive as Events with Err set.
//
// Subscribe, Unsubscribe and Close of all Devices of the process run one
// at a time: cppTango 9.3 shares one event entry among the proxies that
// subscribe to the same event, and that entry keeps using the proxy that
// subscribed first (see Close).
func (d *Device) Subscribe(ctx context.Context, attr string, et EventType, fn func(Event), opts ...SubscribeOption) (*Subscription, error) {
	var c subConfig
	for _, o := range opts {
		o(&c)
	}
	if err := d.lock(ctx); err != nil {
		return nil, err
	}
	defer d.mu.Unlock()
	s := &Subscription{d: d, etype: et, fn: fn}
	s.handle = cgo.NewHandle(s)
	ca := C.CString(attr)
	defer C.free(unsafe.Pointer(ca))
	stateless := 0
	if c.stateless {
		stateless = 1
	}
	var id C.int
	// d.mu is held: the initial event is delivered (on the subscribing
	// thread in cppTango 9.3) through s.deliver, which does not take d.mu.
	if err := goErr(C.tg_subscribe(d.p, ca, C.int(et), C.int(stateless), C.uintptr_t(s.handle), &id)); err != nil {
		s.handle.Delete()
		return nil, fmt.Errorf("tango: subscribe %s/%s %s: %w", d.trl, attr, et, err)
	}
	s.id = int(id)
	d.subs[s.id] = s
	return s, nil
}

// Unsubscribe ends the subscription; no events are delivered after it
// returns.
func (s *Subscription) Unsubscribe() error {
	d := s.d
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.unsubscribe(s)
}

func (d *Device) unsubscribe(s *Subscription) error {
	if _, ok := d.subs[s.id]; !ok {
		return nil
	}
	delete(d.subs, s.id)
	err := goErr(C.tg_unsubscribe(d.p, C.int(s.id)))
	s.mu.Lock()
	s.done = true
	s.mu.Unlock()
	s.handle.Delete()
	if err != nil {
		return fmt.Errorf("tango: unsubscribe %s: %w", d.trl, err)
	}
	return nil
}

// Close unsubscribes everything and releases the proxy. While another
// Device's subscription still uses an event entry that this proxy created
// in cppTango, the proxy itself is kept (cppTango's keep-alive thread calls
// into it, and deleting it would end those subscriptions) and released by a
// later Unsubscribe or Close once no entry needs it.
func (d *Device) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	var first error
	for _, s := range d.subs {
		if err := d.unsubscribe(s); err != nil && first == nil {
			first = err
		}
	}
	d.closed = true
	C.tg_proxy_delete(d.p)
	return first
}
