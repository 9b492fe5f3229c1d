package web_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/connector/attribute"
	"github.com/sdpkit/sdpkit/connector/exchange"
	"github.com/sdpkit/sdpkit/connector/sink"
	"github.com/sdpkit/sdpkit/connector/web"
	"github.com/sdpkit/sdpkit/dataqueue/encoding"
	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/pyval/npy"
)

// fakeDevice is a small stand-in for the connector device: a state machine
// after B2 of the spec over real exchanges writing a real attribute store.
type fakeDevice struct {
	store *attribute.Store
	// build makes the exchanges of a Configure argument.
	build func(store *attribute.Store, arg string) ([]*exchange.Exchange, error)

	mu       sync.Mutex
	state    string
	status   string
	group    *exchange.Group
	watchers map[*watcher]struct{}
}

// watcher keeps the latest undelivered state event of one reader, so a
// slow reader never blocks the device.
type watcher struct {
	mu      sync.Mutex
	pending *web.StateEvent
	wake    chan struct{}
}

func newFakeDevice(build func(*attribute.Store, string) ([]*exchange.Exchange, error)) *fakeDevice {
	return &fakeDevice{store: attribute.NewStore(), build: build, state: "STANDBY", status: "not configured", watchers: map[*watcher]struct{}{}}
}

func (d *fakeDevice) State() string                { d.mu.Lock(); defer d.mu.Unlock(); return d.state }
func (d *fakeDevice) Status() string               { d.mu.Lock(); defer d.mu.Unlock(); return d.status }
func (d *fakeDevice) Attributes() *attribute.Store { return d.store }

func (d *fakeDevice) Exchanges() []web.ExchangeInfo {
	d.mu.Lock()
	g := d.group
	d.mu.Unlock()
	if g == nil {
		return nil
	}
	var out []web.ExchangeInfo
	for _, x := range g.Exchanges() {
		out = append(out, web.ExchangeInfo{Group: g.Name(), Name: x.Name(), Stats: x.Stats()})
	}
	return out
}

func (d *fakeDevice) Events(ctx context.Context) <-chan web.StateEvent {
	w := &watcher{wake: make(chan struct{}, 1)}
	d.mu.Lock()
	d.watchers[w] = struct{}{}
	d.mu.Unlock()
	out := make(chan web.StateEvent)
	go func() {
		defer close(out)
		defer func() { d.mu.Lock(); delete(d.watchers, w); d.mu.Unlock() }()
		for {
			select {
			case <-ctx.Done():
				return
			case <-w.wake:
			}
			w.mu.Lock()
			ev := w.pending
			w.pending = nil
			w.mu.Unlock()
			if ev == nil {
				continue
			}
			select {
			case out <- *ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// setState changes the state and notifies the watchers; d.mu is held.
func (d *fakeDevice) setState(state, status string) {
	d.state, d.status = state, status
	ev := web.StateEvent{State: state, Status: status, Time: time.Now()}
	for w := range d.watchers {
		w.mu.Lock()
		w.pending = &ev
		w.mu.Unlock()
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

func (d *fakeDevice) Command(ctx context.Context, name, arg string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	notAllowed := func() error {
		return fmt.Errorf("%s in state %s: %w", name, d.state, web.ErrNotAllowed)
	}
	switch name {
	case "Configure":
		if d.state != "STANDBY" && d.state != "OFF" {
			return notAllowed()
		}
		if !json.Valid([]byte(arg)) {
			return fmt.Errorf("configure: argument is not JSON: %w", web.ErrBadArgument)
		}
		xs, err := d.build(d.store, arg)
		if err != nil {
			return fmt.Errorf("configure: %w", err)
		}
		d.group = exchange.NewGroup("pb-test", xs...)
		d.setState("OFF", fmt.Sprintf("%d exchanges configured", len(xs)))
	case "Start":
		if d.state != "OFF" {
			return notAllowed()
		}
		if err := d.group.Start(ctx); err != nil {
			d.setState("FAULT", err.Error())
			return err
		}
		d.setState("ON", "streaming")
	case "Stop":
		if d.state != "ON" {
			return notAllowed()
		}
		err := d.group.Stop(ctx)
		if err != nil {
			d.setState("FAULT", err.Error())
			return err
		}
		d.setState("OFF", "stopped")
	case "Standby":
		if d.state != "OFF" {
			return notAllowed()
		}
		d.group = nil
		d.setState("STANDBY", "not configured")
	case "Reset":
		if d.state != "FAULT" {
			return notAllowed()
		}
		d.group = nil
		d.setState("STANDBY", "reset")
	case "Abort":
		if d.group != nil {
			_ = d.group.Stop(ctx)
		}
		d.setState("OFF", "aborted")
	default:
		return fmt.Errorf("%q: %w", name, web.ErrUnknownCommand)
	}
	return nil
}

// pointingDType is the structured pointing record of the demo.
var pointingDType = pyval.DType{Kind: 'V', ByteOrder: '|', Size: 56, Fields: []pyval.Field{
	{Name: "antenna", DType: pyval.DType{Kind: 'U', ByteOrder: '<', Size: 8}},
	{Name: "ts", DType: pyval.Float64},
	{Name: "az", DType: pyval.Float64},
	{Name: "el", DType: pyval.Float64},
}}

type pointing struct {
	antenna    string
	ts, az, el float64
}

func pointingArray(t testing.TB, recs []pointing) *pyval.NDArray {
	t.Helper()
	data := make([]byte, 0, 56*len(recs))
	for _, r := range recs {
		var name [32]byte
		for i, c := range []rune(r.antenna) {
			binary.LittleEndian.PutUint32(name[4*i:], uint32(c))
		}
		data = append(data, name[:]...)
		for _, f := range []float64{r.ts, r.az, r.el} {
			data = binary.LittleEndian.AppendUint64(data, math.Float64bits(f))
		}
	}
	a, err := pyval.NewNDArray(pointingDType, []int{len(recs)}, false, data)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func mustDType(t testing.TB, s string) pyval.DType {
	t.Helper()
	dt, err := pyval.ParseDType(s)
	if err != nil {
		t.Fatal(err)
	}
	return dt
}

// npyCodec is the "npy" wire encoding, for the DevEncoded preview (the
// built-in registry may not have it yet).
type npyCodec struct{}

func (npyCodec) Name() string { return "npy" }
func (npyCodec) Encode(v pyval.Value) ([]byte, error) {
	a, ok := v.(*pyval.NDArray)
	if !ok {
		return nil, errors.New("npy: not an array")
	}
	return npy.Encode(a)
}
func (npyCodec) Decode(b []byte) (pyval.Value, error) { return npy.Decode(b) }

// codecs is the built-in registry plus npy.
func codecs(t testing.TB) *encoding.Registry {
	r := encoding.NewRegistry()
	if err := r.Register(npyCodec{}); err != nil && !errors.Is(err, encoding.ErrDuplicate) {
		t.Fatal(err)
	}
	return r
}

// demoValues are what the demo exchanges carry.
type demoValues struct {
	temperature []float64   // scalar float64
	bandpass    [][]float64 // spectrum of 64 float64
	pointings   [][]pointing
	message     []string
	beam        [][]float32 // images of beamShape
	tracking    []bool
}

var beamShape = []int{18, 32}

func defaultDemo() demoValues {
	var d demoValues
	d.temperature = []float64{20.5, 21.25, 22.125}
	for k := range 3 {
		row := make([]float64, 64)
		for i := range row {
			x := float64(i-32) / 9
			row[i] = math.Round((1000*math.Exp(-x*x/2)+50*math.Sin(float64(i+k)/3))*1000) / 1000
		}
		d.bandpass = append(d.bandpass, row)
	}
	d.pointings = [][]pointing{
		{{"SKA001", 1.7e9, 181.25, 45.5}, {"SKA002", 1.7e9, 181.5, 45.25}},
		{{"SKA001", 1.7e9 + 1, 182.125, 46.75}, {"SKA036", 1.7e9 + 1, 183.5, 47.125}, {"SKA063", 1.7e9 + 1, 179.875, 44.0625}},
	}
	d.message = []string{"hello", "pointing scan 7 of 12"}
	d.beam = [][]float32{beamImage(0)}
	d.tracking = []bool{false, true}
	return d
}

// beamImage is a 2-D Gaussian beam whose centre drifts with k.
func beamImage(k int) []float32 {
	img := make([]float32, beamShape[0]*beamShape[1])
	cy, cx := 8+2*math.Sin(float64(k)/20), 15+4*math.Cos(float64(k)/20)
	for y := range beamShape[0] {
		for x := range beamShape[1] {
			dy, dx := (float64(y)-cy)/4, (float64(x)-cx)/6
			img[y*beamShape[1]+x] = float32(math.Round(1000*math.Exp(-(dx*dx+dy*dy)/2)) / 1000)
		}
	}
	return img
}

// liveDemo is a longer demo whose values keep changing, for watching the
// page update.
func liveDemo(n int) demoValues {
	d := defaultDemo()
	d.temperature, d.bandpass, d.beam = nil, nil, nil
	for k := range n {
		d.temperature = append(d.temperature, math.Round((21+1.5*math.Sin(float64(k)/7)+0.4*math.Sin(float64(k)*1.7))*1000)/1000)
		row := make([]float64, 64)
		for i := range row {
			x := (float64(i-32) - 8*math.Sin(float64(k)/15)) / 9
			row[i] = math.Round((1000*math.Exp(-x*x/2)+60*math.Sin(float64(i+k)/3))*1000) / 1000
		}
		d.bandpass = append(d.bandpass, row)
		d.beam = append(d.beam, beamImage(k))
	}
	return d
}

// demoBuild returns a build function making the demo's exchanges, each an
// InMemorySource feeding a LocalAttributeSink, with delay between values.
func demoBuild(t testing.TB, vals demoValues, delay time.Duration) func(*attribute.Store, string) ([]*exchange.Exchange, error) {
	return func(store *attribute.Store, _ string) ([]*exchange.Exchange, error) {
		var xs []*exchange.Exchange
		add := func(name, attr string, dt pyval.DType, shape []int, data []pyval.Value) error {
			s, err := sink.NewLocalAttributeSink(store, attr, dt, shape, nil)
			if err != nil {
				return err
			}
			x, err := exchange.New([]exchange.Source{exchange.NewInMemorySource(data, delay)}, nil, s, exchange.WithName(name))
			if err != nil {
				return err
			}
			xs = append(xs, x)
			return nil
		}
		var temps, bands, points, encoded, msgs, beams, tracking []pyval.Value
		for _, b := range vals.beam {
			beams = append(beams, pyval.ArrayOf(b, beamShape...))
		}
		for _, b := range vals.tracking {
			tracking = append(tracking, pyval.Bool(b))
		}
		for _, v := range vals.temperature {
			temps = append(temps, pyval.Float(v))
		}
		for _, b := range vals.bandpass {
			bands = append(bands, pyval.ArrayOf(b, len(b)))
		}
		for _, p := range vals.pointings {
			a := pointingArray(t, p)
			points = append(points, a)
			b, err := npy.Encode(a)
			if err != nil {
				return nil, err
			}
			encoded = append(encoded, pyval.Tuple{pyval.Str("npy"), pyval.Bytes(b)})
		}
		for _, m := range vals.message {
			msgs = append(msgs, pyval.Str(m))
		}
		for _, e := range []struct {
			name, attr string
			dt         pyval.DType
			shape      []int
			data       []pyval.Value
		}{
			{"weather", "temperature", pyval.Float64, nil, temps},
			{"bandpass", "bandpass", pyval.Float64, []int{64}, bands},
			{"pointing-table", "pointing_table", pointingDType, []int{-1}, points},
			{"pointing-offsets", "pointing_offsets", mustDType(t, "S"), nil, encoded},
			{"messages", "message", mustDType(t, "<U0"), nil, msgs},
			{"beam-map", "beam_map", pyval.Float32, beamShape, beams},
			{"tracking", "tracking", pyval.Bool_, nil, tracking},
		} {
			if err := add(e.name, e.attr, e.dt, e.shape, e.data); err != nil {
				return nil, err
			}
		}
		return xs, nil
	}
}

// waitDone waits for every exchange of the device to have run to the end.
func waitDone(t testing.TB, d *fakeDevice) {
	t.Helper()
	d.mu.Lock()
	g := d.group
	d.mu.Unlock()
	select {
	case <-g.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("exchanges did not finish")
	}
	if err := g.Err(); err != nil {
		t.Fatal(err)
	}
}
