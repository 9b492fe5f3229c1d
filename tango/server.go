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
	"math"
	"net"
	"runtime/cgo"
	"strconv"
	"sync"
	"time"
	"unsafe"

	"github.com/sdpkit/sdpkit/connector/attribute"
	"github.com/sdpkit/sdpkit/pyval"
)

// Server is a Tango device server running one device in no-database mode,
// inside this process. Its attributes and commands are added and removed
// at run time; attribute values are set from Go and served to clients
// without calling back into Go.
//
// cppTango holds one device server per process (Tango::Util is a
// singleton that cannot be re-initialised), so NewServer succeeds once per
// process; Close withdraws the device but a new Server cannot be started
// after it.
type Server struct {
	trl, device string
	port        int
	handle      cgo.Handle

	// opMu serialises the operations that change the device (add, remove,
	// close). mu guards the Go-side registry and is never held across a
	// call into the shim: the shim takes the device monitor, and Tango
	// threads holding that monitor call back into Go (goTangoWrite,
	// goTangoCommand), which take mu.
	opMu   sync.Mutex
	mu     sync.Mutex
	attrs  map[string]AttrSpec
	cmds   map[string]command
	closed bool
}

type command struct {
	in, out Type
	fn      func(arg pyval.Value) (pyval.Value, error)
}

type serverConfig struct {
	device, class, server, instance, host string
	port                                  int
}

// ServerOption configures NewServer.
type ServerOption func(*serverConfig)

// WithDevice sets the device name (default "sdp/go/1").
func WithDevice(name string) ServerOption { return func(c *serverConfig) { c.device = name } }

// WithClass sets the device class name (default "GoDevice").
func WithClass(name string) ServerOption { return func(c *serverConfig) { c.class = name } }

// WithInstance sets the server executable and instance names Tango reports
// (default "GoDeviceServer" and "1").
func WithInstance(server, instance string) ServerOption {
	return func(c *serverConfig) { c.server, c.instance = server, instance }
}

// WithEndpoint sets the host and port the ORB listens on (default
// 127.0.0.1 and a free port chosen at start).
func WithEndpoint(host string, port int) ServerOption {
	return func(c *serverConfig) { c.host, c.port = host, port }
}

// NewServer starts the device server: cppTango's ORB runs on its own
// threads until Close. The device starts in state UNKNOWN with no dynamic
// attributes and no commands beyond Tango's standard ones (State, Status,
// Init).
func NewServer(ctx context.Context, opts ...ServerOption) (*Server, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c := serverConfig{device: "sdp/go/1", class: "GoDevice", server: "GoDeviceServer", instance: "1", host: "127.0.0.1"}
	for _, o := range opts {
		o(&c)
	}
	if c.port == 0 {
		p, err := freePort(c.host)
		if err != nil {
			return nil, fmt.Errorf("tango: server port: %w", err)
		}
		c.port = p
	}
	s := &Server{
		device: c.device, port: c.port,
		trl:   fmt.Sprintf("tango://%s:%d/%s#dbase=no", c.host, c.port, c.device),
		attrs: map[string]AttrSpec{}, cmds: map[string]command{},
	}
	s.handle = cgo.NewHandle(s)
	args := []string{c.server, c.instance, "-nodb", "-dlist", c.device,
		"-ORBendPoint", "giop:tcp:" + c.host + ":" + strconv.Itoa(c.port)}
	argv := make([]*C.char, len(args))
	for i, a := range args {
		argv[i] = C.CString(a)
	}
	// argv lives in C memory: the shim copies it before returning.
	cargv := (**C.char)(C.malloc(C.size_t(len(argv)) * C.size_t(unsafe.Sizeof(argv[0]))))
	copy(unsafe.Slice(cargv, len(argv)), argv)
	cclass := C.CString(c.class)
	err := goErr(C.tg_server_start(C.uintptr_t(s.handle), cclass, C.int(len(args)), cargv))
	C.free(unsafe.Pointer(cclass))
	for _, a := range argv {
		C.free(unsafe.Pointer(a))
	}
	C.free(unsafe.Pointer(cargv))
	if err != nil {
		s.handle.Delete()
		return nil, fmt.Errorf("tango: start device server %s: %w", c.device, err)
	}
	return s, nil
}

func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// TRL returns the device's Tango resource locator for clients,
// tango://HOST:PORT/DEVICE#dbase=no.
func (s *Server) TRL() string { return s.trl }

// Device returns the device name.
func (s *Server) Device() string { return s.device }

// Port returns the port the ORB listens on.
func (s *Server) Port() int { return s.port }

// check reports ErrClosed; s.mu held.
func (s *Server) check() error {
	if s.closed {
		return ErrClosed
	}
	return nil
}

// checkLocked is check taking s.mu.
func (s *Server) checkLocked() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.check()
}

// AddAttribute adds a dynamic attribute. Its change and archive events are
// declared as pushed by the device (Tango's set_change_event(name, true,
// false)): clients may subscribe without polling and Set pushes them. It
// reads as INVALID until its first Set.
func (s *Server) AddAttribute(spec AttrSpec) error {
	if !spec.Type.attrType() {
		return fmt.Errorf("tango: attribute %q: type %s: %w", spec.Name, spec.Type, ErrType)
	}
	if spec.Format == "" {
		spec.Format = attribute.Scalar
	}
	fc, err := formatCode(spec.Format)
	if err != nil {
		return err
	}
	if spec.Type == DevEncoded && spec.Format != attribute.Scalar {
		return fmt.Errorf("tango: attribute %q: DevEncoded must be SCALAR: %w", spec.Name, ErrType)
	}
	wt := 0
	switch spec.Access {
	case attribute.ReadWrite:
		wt = 1
	case attribute.Write:
		wt = 2
	}
	mx, my := spec.MaxDimX, spec.MaxDimY
	if mx <= 0 {
		mx = DefaultMaxDim
	}
	if my <= 0 {
		my = DefaultMaxDim
	}
	switch spec.Format {
	case attribute.Scalar:
		mx, my = 1, 0
	case attribute.Spectrum:
		my = 0
	}
	s.opMu.Lock()
	defer s.opMu.Unlock()
	s.mu.Lock()
	if err := s.check(); err != nil {
		s.mu.Unlock()
		return err
	}
	old, had := s.attrs[spec.Name]
	s.attrs[spec.Name] = spec
	s.mu.Unlock()
	name := C.CString(spec.Name)
	defer C.free(unsafe.Pointer(name))
	if err := goErr(C.tg_attr_add(name, C.int(spec.Type), C.int(fc), C.int(wt), C.long(mx), C.long(my))); err != nil {
		s.mu.Lock()
		if had {
			s.attrs[spec.Name] = old
		} else {
			delete(s.attrs, spec.Name)
		}
		s.mu.Unlock()
		return fmt.Errorf("tango: add attribute %q: %w", spec.Name, err)
	}
	return nil
}

// RemoveAttribute removes a dynamic attribute.
func (s *Server) RemoveAttribute(name string) error {
	return s.remove("attribute", name, func(c *C.char) *C.tg_err { return C.tg_attr_remove(c) },
		func() { delete(s.attrs, name) })
}

// remove removes an attribute or command from cppTango (rm), then from the
// server's record of them (forget, called holding s.mu).
func (s *Server) remove(what, name string, rm func(*C.char) *C.tg_err, forget func()) error {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	if err := s.checkLocked(); err != nil {
		return err
	}
	cn := C.CString(name)
	defer C.free(unsafe.Pointer(cn))
	if err := goErr(rm(cn)); err != nil {
		return fmt.Errorf("tango: remove %s %q: %w", what, name, err)
	}
	s.mu.Lock()
	forget()
	s.mu.Unlock()
	return nil
}

type setConfig struct {
	quality  attribute.Quality
	qualSet  bool
	time     time.Time
	noChange bool
	archive  bool
}

// SetOption refines Set.
type SetOption func(*setConfig)

// WithQuality sets the quality (default VALID, INVALID for None).
func WithQuality(q attribute.Quality) SetOption {
	return func(c *setConfig) { c.quality, c.qualSet = q, true }
}

// WithTime sets the value's timestamp (default now).
func WithTime(t time.Time) SetOption { return func(c *setConfig) { c.time = t } }

// WithoutEvents sets the value without pushing change or archive events.
func WithoutEvents() SetOption { return func(c *setConfig) { c.noChange, c.archive = true, false } }

// WithArchiveEvent also pushes an archive event (Set pushes a change event
// only by default).
func WithArchiveEvent() SetOption { return func(c *setConfig) { c.archive = true } }

// Set sets an attribute's value and pushes a change event (as the Python
// connector's set_attr does; there is no change threshold). The value is
// converted to the attribute's type (see the package documentation); None
// makes the attribute INVALID.
func (s *Server) Set(name string, v pyval.Value, opts ...SetOption) error {
	var c setConfig
	if len(opts) > 0 { // options take a pointer: keep c off the heap without them
		cp := new(setConfig)
		for _, o := range opts {
			o(cp)
		}
		c = *cp
	}
	s.mu.Lock()
	spec, ok := s.attrs[name]
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return ErrClosed
	}
	if !ok {
		return fmt.Errorf("tango: set %q: no such attribute: %w", name, attribute.ErrNotFound)
	}
	w, err := toWire(spec.Type, spec.Format, v)
	if err != nil {
		return fmt.Errorf("tango: set %q: %w", name, err)
	}
	if max := spec.MaxDimX; max > 0 && w.dimX > max && spec.Format != attribute.Scalar {
		return fmt.Errorf("tango: set %q: %d columns exceed the maximum %d: %w", name, w.dimX, max, ErrType)
	}
	if max := spec.MaxDimY; max > 0 && w.dimY > max {
		return fmt.Errorf("tango: set %q: %d rows exceed the maximum %d: %w", name, w.dimY, max, ErrType)
	}
	q := attribute.Valid
	if w.none {
		q = attribute.Invalid
	}
	if c.qualSet {
		q = c.quality
	}
	tns := int64(math.MinInt64) // the shim reads the clock: one read instead of time.Now's two
	if !c.time.IsZero() {
		tns = c.time.UnixNano()
	}
	push := 0
	if !c.noChange {
		push |= 1
	}
	if c.archive {
		push |= 2
	}
	// The shim copies the name, so Go's bytes can be passed as they are
	// (a CString would cost a malloc and a free per Set).
	cn := (*C.char)(unsafe.Pointer(unsafe.StringData(name)))
	var data, strs unsafe.Pointer
	has := 0
	if !w.none {
		has = 1
		if len(w.data) > 0 {
			data = unsafe.Pointer(&w.data[0])
		}
		if len(w.strs) > 0 {
			strs = unsafe.Pointer(&w.strs[0])
		}
	}
	err = goErr(C.tg_attr_set(cn, C.size_t(len(name)), C.int(has), C.int(w.dimX), C.int(w.dimY), data, C.size_t(len(w.data)),
		(*C.char)(strs), C.size_t(len(w.strs)), C.int(w.nstrs), C.int(q), C.int64_t(tns), C.int(push)))
	if err != nil {
		return fmt.Errorf("tango: set %q: %w", name, err)
	}
	return nil
}

// AddCommand adds a command. in is DevVoid or DevString; out is DevVoid,
// DevString or DevBoolean. fn runs on a Tango server thread with the
// argument (None or a str) and returns the result (ignored for DevVoid);
// an error reaches the client as a DevFailed (reason "GoError", or that of
// an *Error).
func (s *Server) AddCommand(name string, in, out Type, fn func(arg pyval.Value) (pyval.Value, error)) error {
	if in != DevVoid && in != DevString {
		return fmt.Errorf("tango: command %q: argument type %s: %w", name, in, ErrType)
	}
	if out != DevVoid && out != DevString && out != DevBoolean {
		return fmt.Errorf("tango: command %q: result type %s: %w", name, out, ErrType)
	}
	s.opMu.Lock()
	defer s.opMu.Unlock()
	s.mu.Lock()
	if err := s.check(); err != nil {
		s.mu.Unlock()
		return err
	}
	s.cmds[name] = command{in: in, out: out, fn: fn}
	s.mu.Unlock()
	cn := C.CString(name)
	defer C.free(unsafe.Pointer(cn))
	if err := goErr(C.tg_cmd_add(cn, C.int(in), C.int(out))); err != nil {
		s.mu.Lock()
		delete(s.cmds, name)
		s.mu.Unlock()
		return fmt.Errorf("tango: add command %q: %w", name, err)
	}
	return nil
}

// RemoveCommand removes a command added with AddCommand.
func (s *Server) RemoveCommand(name string) error {
	return s.remove("command", name, func(c *C.char) *C.tg_err { return C.tg_cmd_remove(c) },
		func() { delete(s.cmds, name) })
}

// setFastEvents turns the shim's fast event path on or off (tests compare
// its frames with cppTango's).
func (s *Server) setFastEvents(on bool) {
	v := 0
	if on {
		v = 1
	}
	C.tg_set_fast_events(C.int(v))
}

// fastPushes counts the events the shim's fast path sent.
func fastPushes() uint64 { return uint64(C.tg_fast_pushed()) }

// eventEndpoint is cppTango's event publisher endpoint, "" until a client
// first subscribed.
func eventEndpoint() string {
	p := C.tg_event_endpoint()
	defer C.free(unsafe.Pointer(p))
	return C.GoString(p)
}

// SetState sets the device state (what the State command and attribute
// return).
func (s *Server) SetState(st State) error {
	if err := goErr(C.tg_set_state(C.int(st))); err != nil {
		return fmt.Errorf("tango: set state: %w", err)
	}
	return nil
}

// SetStatus sets the device status text.
func (s *Server) SetStatus(status string) error {
	cs := C.CString(status)
	defer C.free(unsafe.Pointer(cs))
	if err := goErr(C.tg_set_status(cs)); err != nil {
		return fmt.Errorf("tango: set status: %w", err)
	}
	return nil
}

// Close withdraws the device: its dynamic attributes and commands are
// removed, its state becomes OFF, and the Server refuses further use
// (ErrClosed). The ORB itself keeps running until the process exits:
// shutting it down made cppTango 9.3 abort (an uncaught
// CORBA::OBJECT_NOT_EXIST on one of its threads), and no new server could
// be started anyway.
func (s *Server) Close() error {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	attrs, cmds := s.attrs, s.cmds
	s.attrs, s.cmds = map[string]AttrSpec{}, map[string]command{}
	s.mu.Unlock()
	var first error
	keep := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	for name := range attrs {
		cn := C.CString(name)
		keep(goErr(C.tg_attr_remove(cn)))
		C.free(unsafe.Pointer(cn))
	}
	for name := range cmds {
		cn := C.CString(name)
		keep(goErr(C.tg_cmd_remove(cn)))
		C.free(unsafe.Pointer(cn))
	}
	keep(goErr(C.tg_set_state(C.int(Off))))
	status := C.CString("The device server was closed.")
	keep(goErr(C.tg_set_status(status)))
	C.free(unsafe.Pointer(status))
	if first != nil {
		return fmt.Errorf("tango: close: %w", first)
	}
	return nil
}
