// Package attribute is the queue connector's attribute store: the named,
// typed values that the Python device exposes as dynamic Tango attributes
// (TangoLocalAttributeSink, the scatter sinks, attribute_shape_names). Sinks
// write them; the web page, the HTTP API and a Tango bridge read them and
// subscribe to their change events.
//
// # Events
//
// Every Set publishes a change event to every subscriber whose filter
// matches, as the Python device pushes a change event on each write (it
// pushes manually, so there is no value-change threshold). Writers never
// wait for subscribers: each subscriber has its own pending set, holding at
// most one event per attribute. When a subscriber falls behind, a newer
// event for an attribute replaces the older one still pending (coalescing)
// and the delivered event's Coalesced field counts the replaced ones. So a
// slow subscriber may miss intermediate values but always ends up with the
// latest value of every attribute it watches, and memory per subscriber is
// bounded by the number of attributes.
package attribute

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/sdpkit/sdpkit/connector/internal/ndconv"
	"github.com/sdpkit/sdpkit/pyval"
)

// Errors a caller can check with errors.Is.
var (
	// ErrNotFound: no attribute of that name.
	ErrNotFound = errors.New("attribute: not found")
	// ErrExists: an attribute of that name exists with a different spec.
	ErrExists = errors.New("attribute: exists with a different definition")
	// ErrInvalid: a spec or a value that does not fit it.
	ErrInvalid = errors.New("attribute: invalid")
)

// Format is Tango's attribute data format, which follows from the number of
// dimensions.
type Format string

// The Tango data formats. FormatNone is for shapes with more than two
// dimensions, which Tango cannot hold (the store can).
const (
	Scalar     Format = "SCALAR"
	Spectrum   Format = "SPECTRUM"
	Image      Format = "IMAGE"
	FormatNone Format = ""
)

// FormatOf returns the format of a (maximum) shape: [] SCALAR, [n]
// SPECTRUM, [m, n] IMAGE.
func FormatOf(shape []int) Format {
	switch len(shape) {
	case 0:
		return Scalar
	case 1:
		return Spectrum
	case 2:
		return Image
	}
	return FormatNone
}

// Quality is Tango's attribute quality.
type Quality int

// The qualities, in Tango's order.
const (
	Valid Quality = iota
	Invalid
	Alarm
	Changing
	Warning
)

func (q Quality) String() string {
	switch q {
	case Valid:
		return "ATTR_VALID"
	case Invalid:
		return "ATTR_INVALID"
	case Alarm:
		return "ATTR_ALARM"
	case Changing:
		return "ATTR_CHANGING"
	case Warning:
		return "ATTR_WARNING"
	}
	return fmt.Sprintf("Quality(%d)", int(q))
}

// Access is the attribute's write type.
type Access string

// The access kinds of the 5.x attributes property.
const (
	Read      Access = "READ"
	Write     Access = "WRITE"
	ReadWrite Access = "READ_WRITE"
)

// TangoType returns the Tango data type name for dtype (B5 of the spec):
// DevBoolean, DevUChar, DevShort, DevUShort, DevLong, DevULong, DevLong64,
// DevULong64, DevFloat, DevDouble, DevString for str, DevEncoded for the
// bytes dtype ('S' of size 0), and "" where Tango has no type (int8,
// float16, complex, datetime, structured, object, sized bytes).
func TangoType(dt pyval.DType) string {
	if dt.Fields != nil {
		return ""
	}
	switch dt.Kind {
	case 'b':
		return "DevBoolean"
	case 'U':
		return "DevString"
	case 'S':
		if dt.Size == 0 {
			return "DevEncoded"
		}
	case 'u':
		switch dt.Size {
		case 1:
			return "DevUChar"
		case 2:
			return "DevUShort"
		case 4:
			return "DevULong"
		case 8:
			return "DevULong64"
		}
	case 'i':
		switch dt.Size {
		case 2:
			return "DevShort"
		case 4:
			return "DevLong"
		case 8:
			return "DevLong64"
		}
	case 'f':
		switch dt.Size {
		case 4:
			return "DevFloat"
		case 8:
			return "DevDouble"
		}
	}
	return ""
}

// Spec defines an attribute.
type Spec struct {
	Name string
	// DType is the element dtype: numeric, bool, str ('U'), bytes ('S' of
	// size 0, a DevEncoded (encoding, payload) pair) or object ('O').
	DType pyval.DType
	// Shape is the maximum shape: [] scalar, [x] spectrum, [y, x] image; a
	// negative dimension is unbounded.
	Shape []int
	// Default is the initial value; nil or None means no value yet (the
	// attribute reads as None with quality INVALID).
	Default pyval.Value
	// Access defaults to READ.
	Access Access
}

// Format returns the spec's Tango data format.
func (s Spec) Format() Format { return FormatOf(s.Shape) }

// TangoType returns the spec's Tango data type name ("" if none).
func (s Spec) TangoType() string { return TangoType(s.DType) }

// MaxDimX and MaxDimY are Tango's maximum dimensions: x is the length of a
// spectrum or the columns of an image, y the rows of an image.
func (s Spec) MaxDimX() int {
	switch len(s.Shape) {
	case 1:
		return s.Shape[0]
	case 2:
		return s.Shape[1]
	}
	return 0
}

// MaxDimY returns the rows of an image, 0 otherwise.
func (s Spec) MaxDimY() int {
	if len(s.Shape) == 2 {
		return s.Shape[0]
	}
	return 0
}

func (s Spec) same(o Spec) bool {
	return s.Name == o.Name && s.DType.Equal(o.DType) && slices.Equal(s.Shape, o.Shape) &&
		s.access() == o.access() && equalValue(s.Default, o.Default)
}

func (s Spec) access() Access {
	if s.Access == "" {
		return Read
	}
	return s.Access
}

func equalValue(a, b pyval.Value) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Kind() == b.Kind() && pyval.Equal(a, b)
}

// Reading is an attribute's current value.
type Reading struct {
	Name    string
	Value   pyval.Value // pyval.None when there is no valid value
	Time    time.Time   // when it was set (definition time for the default)
	Quality Quality
}

// Event is a change event.
type Event struct {
	Reading
	// Seq numbers the store's writes (1, 2, …), so a subscriber can order
	// events and see gaps.
	Seq uint64
	// Coalesced counts the newer-replaces-older events this subscriber did
	// not receive for this attribute since its previous event.
	Coalesced uint64
}

// Snapshot is one attribute's spec and reading.
type Snapshot struct {
	Spec    Spec
	Reading Reading
	Seq     uint64
}

type attr struct {
	spec    Spec
	reading Reading
	seq     uint64
}

// Store holds attributes. It is safe for concurrent use.
type Store struct {
	now func() time.Time

	mu    sync.RWMutex
	attrs map[string]*attr
	order []string
	seq   uint64
	subs  map[*subscriber]struct{}
}

// Option configures a Store.
type Option func(*Store)

// WithClock sets the store's time source (default time.Now).
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// NewStore returns an empty store.
func NewStore(opts ...Option) *Store {
	s := &Store{now: time.Now, attrs: map[string]*attr{}, subs: map[*subscriber]struct{}{}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Define adds an attribute with its default value. Defining an existing
// name again with the same spec is a no-op (its value is kept); with a
// different spec it is ErrExists. The default must fit the spec (see Set),
// except that the descriptor default "" on a non-str attribute means no
// value yet.
func (s *Store) Define(spec Spec) error {
	if spec.Name == "" {
		return fmt.Errorf("%w: attribute without a name", ErrInvalid)
	}
	spec.Shape = append([]int{}, spec.Shape...)
	if spec.Access == "" {
		spec.Access = Read
	}
	value, q, err := initial(spec)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.attrs[spec.Name]; ok {
		if a.spec.same(spec) {
			return nil
		}
		return fmt.Errorf("%w: %q", ErrExists, spec.Name)
	}
	s.seq++
	a := &attr{spec: spec, seq: s.seq, reading: Reading{Name: spec.Name, Value: value, Time: s.now(), Quality: q}}
	s.attrs[spec.Name] = a
	s.order = append(s.order, spec.Name)
	s.publish(a)
	return nil
}

func initial(spec Spec) (pyval.Value, Quality, error) {
	d := spec.Default
	if d == nil || d.Kind() == pyval.KindNone {
		return pyval.None, Invalid, nil
	}
	if str, ok := d.(pyval.Str); ok && str == "" && spec.DType.Kind != 'U' && spec.DType.Kind != 'O' {
		return pyval.None, Invalid, nil
	}
	v, err := ndconv.Coerce(d, spec.DType, spec.Shape)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: default of %q: %w", ErrInvalid, spec.Name, err)
	}
	return v, Valid, nil
}

// Remove deletes an attribute, reporting whether it existed.
func (s *Store) Remove(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.attrs[name]; !ok {
		return false
	}
	delete(s.attrs, name)
	s.order = slices.DeleteFunc(s.order, func(n string) bool { return n == name })
	return true
}

// SetOption refines a Set.
type SetOption func(*Reading)

// WithQuality sets the quality (default VALID, or INVALID for None).
func WithQuality(q Quality) SetOption { return func(r *Reading) { r.Quality = q } }

// WithTime sets the timestamp (default: now).
func WithTime(t time.Time) SetOption { return func(r *Reading) { r.Time = t } }

// Set writes an attribute's value and publishes a change event. The value
// must already have the attribute's representation (ndconv.Coerce gives
// it); Set checks the parts that matter to readers: arrays must have the
// attribute's dtype and fit its maximum shape, DevEncoded values must be
// (str, bytes) pairs. None is always accepted.
func (s *Store) Set(name string, v pyval.Value, opts ...SetOption) error {
	if v == nil {
		v = pyval.None
	}
	r := Reading{Name: name, Value: v, Quality: Valid}
	if v.Kind() == pyval.KindNone {
		r.Quality = Invalid
	}
	for _, o := range opts {
		o(&r)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.attrs[name]
	if !ok {
		return fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	if err := check(a.spec, v); err != nil {
		return err
	}
	if r.Time.IsZero() {
		r.Time = s.now()
	}
	s.seq++
	a.seq = s.seq
	a.reading = r
	s.publish(a)
	return nil
}

func check(spec Spec, v pyval.Value) error {
	switch x := v.(type) {
	case pyval.NoneType:
		return nil
	case *pyval.NDArray:
		if spec.DType.Kind == 'O' {
			return nil
		}
		if x.DType.Kind != spec.DType.Kind || (spec.DType.Kind != 'U' && !x.DType.Equal(spec.DType)) {
			return fmt.Errorf("%w: %q has dtype %s, value has %s", ErrInvalid, spec.Name, spec.DType, x.DType)
		}
		if err := ndconv.CheckShape(x.Shape, spec.Shape); err != nil {
			return fmt.Errorf("%w: %q: %w", ErrInvalid, spec.Name, err)
		}
	default:
		if spec.DType.Kind == 'S' && spec.DType.Size == 0 {
			if _, err := ndconv.DevEncoded(v); err != nil {
				return fmt.Errorf("%w: %q: %w", ErrInvalid, spec.Name, err)
			}
		}
	}
	return nil
}

// Get returns an attribute's spec and reading.
func (s *Store) Get(name string) (Snapshot, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, ok := s.attrs[name]
	if !ok {
		return Snapshot{}, fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	return Snapshot{Spec: a.spec, Reading: a.reading, Seq: a.seq}, nil
}

// Names returns the attribute names in definition order.
func (s *Store) Names() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]string(nil), s.order...)
}

// Snapshot returns every attribute in definition order. Values are shared,
// not copied: treat them as read-only, as everything in the connector does.
func (s *Store) Snapshot() []Snapshot {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Snapshot, 0, len(s.order))
	for _, n := range s.order {
		a := s.attrs[n]
		out = append(out, Snapshot{Spec: a.spec, Reading: a.reading, Seq: a.seq})
	}
	return out
}

type subscriber struct {
	names map[string]bool // nil: every attribute

	mu      sync.Mutex
	pending map[string]Event
	order   []string // pending names, oldest first
	wake    chan struct{}
}

// Subscribe returns a channel of change events for the named attributes
// (all attributes when none are named, including ones defined later). It
// starts with one event per existing matching attribute holding its
// current value, as a Tango subscription does. The channel is closed when
// ctx is done. See the package documentation for the coalescing policy.
func (s *Store) Subscribe(ctx context.Context, names ...string) <-chan Event {
	sub := &subscriber{pending: map[string]Event{}, wake: make(chan struct{}, 1)}
	if len(names) > 0 {
		sub.names = map[string]bool{}
		for _, n := range names {
			sub.names[n] = true
		}
	}
	s.mu.Lock()
	for _, n := range s.order {
		if sub.names == nil || sub.names[n] {
			a := s.attrs[n]
			sub.add(Event{Reading: a.reading, Seq: a.seq})
		}
	}
	s.subs[sub] = struct{}{}
	s.mu.Unlock()

	out := make(chan Event)
	go func() {
		defer close(out)
		defer func() {
			s.mu.Lock()
			delete(s.subs, sub)
			s.mu.Unlock()
		}()
		for {
			ev, ok := sub.next()
			if !ok {
				select {
				case <-sub.wake:
					continue
				case <-ctx.Done():
					return
				}
			}
			select {
			case out <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// publish queues a's reading for every matching subscriber; s.mu is held.
func (s *Store) publish(a *attr) {
	ev := Event{Reading: a.reading, Seq: a.seq}
	for sub := range s.subs {
		if sub.names == nil || sub.names[a.spec.Name] {
			sub.add(ev)
		}
	}
}

func (sub *subscriber) add(ev Event) {
	sub.mu.Lock()
	if old, ok := sub.pending[ev.Name]; ok {
		ev.Coalesced = old.Coalesced + 1
	} else {
		sub.order = append(sub.order, ev.Name)
	}
	sub.pending[ev.Name] = ev
	sub.mu.Unlock()
	select {
	case sub.wake <- struct{}{}:
	default:
	}
}

func (sub *subscriber) next() (Event, bool) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if len(sub.order) == 0 {
		return Event{}, false
	}
	name := sub.order[0]
	sub.order = sub.order[1:]
	ev := sub.pending[name]
	delete(sub.pending, name)
	return ev, true
}
