//go:build tango

package tangoio

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sdpkit/sdpkit/connector/exchange"
	"github.com/sdpkit/sdpkit/connector/internal/ndconv"
	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/tango"
)

// ErrNotStarted is returned by Run and Write before Start.
var ErrNotStarted = errors.New("tangoio: not started")

// SubscriptionSource is an exchange.Source that emits the values of a Tango
// attribute's events (TangoSubscriptionSource, spec B7): first the current
// value Tango sends on subscription, then one value per event, converted to
// the exchange's dtype and shape.
//
// Error events (a lost connection, a device that is not running) and events
// without a value (quality INVALID) or whose value does not convert are
// skipped, logged and counted (Skipped). A stateless source subscribes even
// when the device is not running: cppTango retries every 10 s and the values
// start once the device is up; otherwise Start fails when the subscription
// does.
//
// Events are queued between cppTango's event thread and Run without bound,
// so that a slow downstream never blocks the event thread (which serves
// every subscription of the process).
type SubscriptionSource struct {
	trl, attr string
	etype     tango.EventType
	stateless bool
	convert   func(pyval.Value) (pyval.Value, error)
	log       *slog.Logger

	dev     *tango.Device
	sub     *tango.Subscription
	skipped atomic.Uint64

	mu     sync.Mutex
	queue  []pyval.Value
	notify chan struct{}
	// last is the previous event's time and value: cppTango 9.3 sometimes
	// delivers an event twice around a subscription's start (the same
	// attribute timestamp and value), and the repeat is dropped.
	lastTime time.Time
	lastRaw  pyval.Value
}

// NewSubscriptionSource returns a source of the events of type etype of
// attribute attr of the device at trl (a Tango device name, resolved through
// TANGO_HOST, or a full TRL such as tango://host:port/a/b/c#dbase=no), each
// value converted to dtype dt and maximum shape shape.
func NewSubscriptionSource(trl, attr string, etype tango.EventType, stateless bool, dt pyval.DType, shape []int, log *slog.Logger) *SubscriptionSource {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &SubscriptionSource{trl: trl, attr: attr, etype: etype, stateless: stateless, log: log,
		convert: func(v pyval.Value) (pyval.Value, error) { return ndconv.Coerce(v, dt, shape) },
		notify:  make(chan struct{}, 1)}
}

// Skipped counts the events that were not emitted: error events, events
// without a value, and values that do not convert to the exchange's dtype.
func (s *SubscriptionSource) Skipped() uint64 { return s.skipped.Load() }

// Start connects and subscribes.
func (s *SubscriptionSource) Start(ctx context.Context) error {
	d, err := tango.Dial(ctx, s.trl)
	if err != nil {
		return fmt.Errorf("tangoio: %s: %w", s.trl, err)
	}
	var opts []tango.SubscribeOption
	if s.stateless {
		opts = append(opts, tango.Stateless())
	}
	sub, err := d.Subscribe(ctx, s.attr, s.etype, s.onEvent, opts...)
	if err != nil {
		_ = d.Close()
		return fmt.Errorf("tangoio: subscribe to %s/%s %s events: %w", s.trl, s.attr, s.etype, err)
	}
	s.mu.Lock()
	s.dev, s.sub = d, sub
	s.mu.Unlock()
	return nil
}

// onEvent runs on cppTango's event thread: it only queues.
func (s *SubscriptionSource) onEvent(ev tango.Event) {
	if ev.Err != nil {
		s.skip("error event", ev.Err)
		return
	}
	if ev.Value == nil || ev.Value.Kind() == pyval.KindNone {
		s.skip("event without a value", fmt.Errorf("quality %v", ev.Quality))
		return
	}
	s.mu.Lock()
	repeat := s.lastRaw != nil && ev.Time.Equal(s.lastTime) && pyval.Equal(ev.Value, s.lastRaw)
	s.lastTime, s.lastRaw = ev.Time, ev.Value
	s.mu.Unlock()
	if repeat {
		s.log.Debug("tango event repeated", "attribute", s.trl+"/"+s.attr, "time", ev.Time)
		return
	}
	v, err := s.convert(ev.Value)
	if err != nil {
		s.skip("value does not convert", err)
		return
	}
	s.mu.Lock()
	s.queue = append(s.queue, v)
	s.mu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

func (s *SubscriptionSource) skip(what string, err error) {
	s.skipped.Add(1)
	s.log.Warn("tango event skipped", "attribute", s.trl+"/"+s.attr, "why", what, "err", err)
}

// Run emits the queued values until ctx is done.
func (s *SubscriptionSource) Run(ctx context.Context, emit exchange.Emit) error {
	s.mu.Lock()
	started := s.sub != nil
	s.mu.Unlock()
	if !started {
		return ErrNotStarted
	}
	for {
		s.mu.Lock()
		batch := s.queue
		s.queue = nil
		s.mu.Unlock()
		for _, v := range batch {
			if err := emit(ctx, v); err != nil {
				return err
			}
		}
		if len(batch) > 0 {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.notify:
		}
	}
}

// Stop unsubscribes and disconnects.
func (s *SubscriptionSource) Stop(context.Context) error {
	s.mu.Lock()
	d, sub := s.dev, s.sub
	s.dev, s.sub = nil, nil
	s.mu.Unlock()
	if d == nil {
		return nil
	}
	return errors.Join(sub.Unsubscribe(), d.Close())
}

// PointingDType is the record dtype TangoPointingSubscriptionSource emits
// (the spec leaves it open; this is example 03's): the dish name, the
// pointing's timestamp as a TAI-scale datetime64, azimuth and elevation in
// degrees.
const PointingDType = "[('antenna_name', '<U6'), ('ts', '<M8[ns]'), ('az', '<f8'), ('el', '<f8')]"

// skaEpochUnixNs is the SKA epoch 2000-01-01T00:00:00 TAI (1999-12-31
// 23:59:28 UTC) as a TAI-scale datetime64 reads it: the nanoseconds from
// 1970-01-01 to 2000-01-01 on the calendar.
var skaEpochUnixNs = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()

// pointingConverter returns the conversion of a [timestamp, az, el] float64
// triple (timestamp in TAI seconds since the SKA epoch, as a dish's
// achievedPointing has it) into one 0-d record of dt, which must have the
// fields antenna_name (str), ts (datetime64[ns]), az and el (float64).
func pointingConverter(device string, dt pyval.DType) (func(pyval.Value) (pyval.Value, error), error) {
	type off struct {
		at int
		f  pyval.Field
	}
	get := func(name string, kind byte, unit string) (off, error) {
		at, f, ok := dt.FieldOffset(name)
		if !ok || f.Shape != nil || f.DType.Kind != kind || f.DType.Unit != unit || f.DType.BigEndian() ||
			(kind != 'U' && f.DType.Size != 8) {
			return off{}, fmt.Errorf("tangoio: pointing dtype %s: needs field %q of kind %c%s (see PointingDType)", dt, name, kind, unit)
		}
		return off{at, f}, nil
	}
	ant, err := get("antenna_name", 'U', "")
	if err != nil {
		return nil, err
	}
	ts, err := get("ts", 'M', "ns")
	if err != nil {
		return nil, err
	}
	az, err := get("az", 'f', "")
	if err != nil {
		return nil, err
	}
	el, err := get("el", 'f', "")
	if err != nil {
		return nil, err
	}
	name := []rune(antennaName(device))
	if len(name) > ant.f.DType.Size {
		name = name[:ant.f.DType.Size]
	}
	f8 := pyval.DTypeOf[float64]()
	return func(v pyval.Value) (pyval.Value, error) {
		c, err := ndconv.Coerce(v, f8, []int{3})
		if err != nil {
			return nil, err
		}
		a, ok := c.(*pyval.NDArray)
		if !ok || len(a.Shape) != 1 || a.Shape[0] != 3 {
			return nil, fmt.Errorf("pointing %v is not a [timestamp, az, el] triple", v)
		}
		fs, err := a.Float64s()
		if err != nil {
			return nil, err
		}
		b := make([]byte, dt.ItemSize())
		for i, r := range name {
			binary.LittleEndian.PutUint32(b[ant.at+4*i:], uint32(r))
		}
		if math.IsNaN(fs[0]) || math.IsInf(fs[0], 0) {
			return nil, fmt.Errorf("pointing timestamp %v", fs[0])
		}
		binary.LittleEndian.PutUint64(b[ts.at:], uint64(skaEpochUnixNs+int64(math.Round(fs[0]*1e9))))
		binary.LittleEndian.PutUint64(b[az.at:], math.Float64bits(fs[1]))
		binary.LittleEndian.PutUint64(b[el.at:], math.Float64bits(fs[2]))
		return pyval.NewNDArray(dt, nil, false, b)
	}, nil
}

// antennaName is the last member of a device name ("SKA001" of
// tango://host:10000/mid-dish/dish-manager/SKA001#dbase=no).
func antennaName(device string) string {
	device, _, _ = strings.Cut(device, "#")
	if i := strings.LastIndexByte(device, '/'); i >= 0 {
		device = device[i+1:]
	}
	return device
}
