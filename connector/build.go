package connector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/sdpkit/sdpkit/connector/attribute"
	"github.com/sdpkit/sdpkit/connector/descriptor"
	"github.com/sdpkit/sdpkit/connector/exchange"
	"github.com/sdpkit/sdpkit/connector/sink"
	"github.com/sdpkit/sdpkit/pyval"
)

// ErrNotAvailable is matched (errors.Is) by a *NotAvailableError: the
// descriptor names a kind no factory is registered for.
var ErrNotAvailable = errors.New("not available in this build")

// NotAvailableError reports a source, pipe or sink kind that has no
// factory in the Factories used to build, with the JSON path of the
// descriptor member that names it.
type NotAvailableError struct {
	Kind string // e.g. "KafkaConsumerSource"
	Path string // e.g. "exchanges[0].source"
}

func (e *NotAvailableError) Error() string {
	return fmt.Sprintf("%s: %s: %v", e.Path, e.Kind, ErrNotAvailable)
}

// Is makes errors.Is(err, ErrNotAvailable) hold.
func (e *NotAvailableError) Is(target error) bool { return target == ErrNotAvailable }

// BuildError reports a member of a descriptor that could not be built:
// the JSON path of the member and the factory's error.
type BuildError struct {
	Path string
	Err  error
}

func (e *BuildError) Error() string { return e.Path + ": " + e.Err.Error() }

// Unwrap returns the factory's error.
func (e *BuildError) Unwrap() error { return e.Err }

// Env is what factories build with: the device's attribute store and
// in-memory queues, its logger, and where in the descriptor the member
// being built is.
type Env struct {
	// Attributes is the device's attribute store (attribute sinks define
	// their attributes in it).
	Attributes *attribute.Store
	// Queues holds the InMemorySink queues.
	Queues *exchange.MemoryQueues
	// Logger is the device's logger, with the group and exchange attached.
	Logger *slog.Logger
	// Group is the name of the group being built (DefaultGroup for the
	// list form).
	Group string
	// Path is the JSON path of the member being built, e.g.
	// exchanges[0].source[1] or exchanges["pb-1"][0].sink.
	Path string
}

// Stream describes the values a sink receives: the pipe's output dtype and
// shape (a -1 dimension varies).
type Stream struct {
	DType pyval.DType
	Shape []int
}

// SourceFactory builds a source of exchange ex from its descriptor src.
// Every source of an exchange produces values of ex.DType and ex.Shape.
type SourceFactory func(ctx context.Context, ex *descriptor.Exchange, src descriptor.Source, env *Env) (exchange.Source, error)

// PipeFactory builds the pipe of exchange ex for its input ex.DType and
// ex.Shape.
type PipeFactory func(ctx context.Context, ex *descriptor.Exchange, p descriptor.Pipe, env *Env) (exchange.Pipe, error)

// SinkFactory builds the sink of exchange ex for the values in, the pipe's
// output.
type SinkFactory func(ctx context.Context, ex *descriptor.Exchange, s descriptor.Sink, in Stream, env *Env) (exchange.Sink, error)

// Attributed is implemented by sinks that define attributes in the device's
// store; the device removes them when the configuration is replaced.
type Attributed interface {
	Attributes() []string
}

// Factories maps descriptor kinds ("InMemorySource", "KafkaProducerSink",
// …) to the constructors that turn them into running parts. Packages that
// bring a transport register their kinds (connector/kafkaio the Kafka
// ones, connector/telstateio the telstate ones); a kind without a factory
// fails to build with a *NotAvailableError. A Factories is not safe for
// concurrent registration; register everything before building.
type Factories struct {
	sources map[string]SourceFactory
	pipes   map[string]PipeFactory
	sinks   map[string]SinkFactory
}

// NewFactories returns an empty set.
func NewFactories() *Factories {
	return &Factories{sources: map[string]SourceFactory{}, pipes: map[string]PipeFactory{}, sinks: map[string]SinkFactory{}}
}

// DefaultFactories returns the kinds that need nothing outside the
// process: InMemorySource, DefaultPipe, BufferWithTimePipe, InMemorySink,
// TangoLocalAttributeSink, TangoArrayScatterAttributeSink and
// TangoObjectScatterAttributeSink (the Tango attribute sinks write the
// device's attribute store).
func DefaultFactories() *Factories {
	f := NewFactories()
	f.RegisterSource("InMemorySource", buildInMemorySource)
	f.RegisterPipe("DefaultPipe", buildDefaultPipe)
	f.RegisterPipe("BufferWithTimePipe", buildBufferPipe)
	f.RegisterSink("InMemorySink", buildInMemorySink)
	f.RegisterSink("TangoLocalAttributeSink", buildLocalAttributeSink)
	f.RegisterSink("TangoArrayScatterAttributeSink", buildArrayScatterSink)
	f.RegisterSink("TangoObjectScatterAttributeSink", buildObjectScatterSink)
	return f
}

// RegisterSource sets the factory of a source kind, replacing any.
func (f *Factories) RegisterSource(kind string, fn SourceFactory) { f.sources[kind] = fn }

// RegisterPipe sets the factory of a pipe kind, replacing any.
func (f *Factories) RegisterPipe(kind string, fn PipeFactory) { f.pipes[kind] = fn }

// RegisterSink sets the factory of a sink kind, replacing any.
func (f *Factories) RegisterSink(kind string, fn SinkFactory) { f.sinks[kind] = fn }

// Kinds lists the registered kinds, sorted.
func (f *Factories) Kinds() []string {
	var out []string
	for k := range f.sources {
		out = append(out, k)
	}
	for k := range f.pipes {
		out = append(out, k)
	}
	for k := range f.sinks {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Clone returns a copy that can be extended without changing f.
func (f *Factories) Clone() *Factories {
	c := NewFactories()
	for k, v := range f.sources {
		c.sources[k] = v
	}
	for k, v := range f.pipes {
		c.pipes[k] = v
	}
	for k, v := range f.sinks {
		c.sinks[k] = v
	}
	return c
}

// DefaultGroup names the one group of a descriptor in list form.
const DefaultGroup = "default"

// GroupSpec is one group of a descriptor with the JSON path of each of
// its exchanges.
type GroupSpec struct {
	Name      string
	Exchanges []*descriptor.Exchange
	Paths     []string
}

// Groups splits a descriptor into its groups: the list form is one group
// named DefaultGroup, the dict-of-groups form one group per entry, the null
// form and empty lists none.
func Groups(d *descriptor.Descriptor) []GroupSpec {
	switch d.Form {
	case descriptor.FormList:
		if len(d.Exchanges) == 0 {
			return nil
		}
		g := GroupSpec{Name: DefaultGroup, Exchanges: d.Exchanges}
		for i := range d.Exchanges {
			g.Paths = append(g.Paths, "exchanges["+strconv.Itoa(i)+"]")
		}
		return []GroupSpec{g}
	case descriptor.FormGroups:
		var out []GroupSpec
		for _, dg := range d.Groups {
			if len(dg.Exchanges) == 0 {
				continue
			}
			g := GroupSpec{Name: dg.Name, Exchanges: dg.Exchanges}
			for i := range dg.Exchanges {
				g.Paths = append(g.Paths, "exchanges["+strconv.Quote(dg.Name)+"]["+strconv.Itoa(i)+"]")
			}
			out = append(out, g)
		}
		return out
	}
	return nil
}

// Built is a group built into running parts: an exchange.Group and the
// attributes its sinks defined.
type Built struct {
	Group      *exchange.Group
	Attributes []string
}

// BuildGroup builds every exchange of g. The flow of dtypes is B1's: every
// source is built for the exchange's dtype and shape, the pipe for the same
// input, and the sink for the pipe's output dtype and shape. Errors name the
// JSON path of the member that failed; a kind without a factory gives a
// *NotAvailableError. On error, attributes already defined are removed
// again.
func (f *Factories) BuildGroup(ctx context.Context, g GroupSpec, env Env, opts ...exchange.Option) (*Built, error) {
	b := &Built{}
	var xs []*exchange.Exchange
	for i, ex := range g.Exchanges {
		x, attrs, err := f.buildExchange(ctx, ex, g.Name, g.Paths[i], env, opts)
		b.Attributes = append(b.Attributes, attrs...)
		if err != nil {
			for _, a := range b.Attributes {
				env.Attributes.Remove(a)
			}
			return nil, err
		}
		xs = append(xs, x)
	}
	b.Group = exchange.NewGroup(g.Name, xs...)
	return b, nil
}

func (f *Factories) buildExchange(ctx context.Context, ex *descriptor.Exchange, group, path string, env Env, opts []exchange.Option) (*exchange.Exchange, []string, error) {
	if env.Logger == nil {
		env.Logger = slog.Default()
	}
	env.Group = group
	env.Logger = env.Logger.With("group", group, "exchange", path)
	var srcs []exchange.Source
	for j, s := range ex.Sources {
		e := env
		e.Path = path + ".source"
		if ex.SourceList || len(ex.Sources) > 1 {
			e.Path += "[" + strconv.Itoa(j) + "]"
		}
		fn, ok := f.sources[s.Kind()]
		if !ok {
			return nil, nil, &NotAvailableError{Kind: s.Kind(), Path: e.Path}
		}
		var src exchange.Source
		err := safely(e.Path+": "+s.Kind()+" factory", func() (err error) {
			src, err = fn(ctx, ex, s, &e)
			return err
		})
		if err != nil {
			return nil, nil, &BuildError{Path: e.Path, Err: fmt.Errorf("%s: %w", s.Kind(), err)}
		}
		srcs = append(srcs, guardSource(src, e.Path+": "+s.Kind()))
	}
	pd := ex.Pipe
	if pd == nil {
		pd = &descriptor.DefaultPipe{}
	}
	e := env
	e.Path = path + ".pipe"
	pfn, ok := f.pipes[pd.Kind()]
	if !ok {
		return nil, nil, &NotAvailableError{Kind: pd.Kind(), Path: e.Path}
	}
	var pipe exchange.Pipe
	err := safely(e.Path+": "+pd.Kind()+" factory", func() (err error) {
		pipe, err = pfn(ctx, ex, pd, &e)
		return err
	})
	if err != nil {
		return nil, nil, &BuildError{Path: e.Path, Err: fmt.Errorf("%s: %w", pd.Kind(), err)}
	}
	e.Path = path + ".sink"
	sfn, ok := f.sinks[ex.Sink.Kind()]
	if !ok {
		return nil, nil, &NotAvailableError{Kind: ex.Sink.Kind(), Path: e.Path}
	}
	var snk exchange.Sink
	err = safely(e.Path+": "+ex.Sink.Kind()+" factory", func() (err error) {
		snk, err = sfn(ctx, ex, ex.Sink, Stream{DType: pipe.OutputDType(), Shape: pipe.OutputShape()}, &e)
		return err
	})
	if err != nil {
		return nil, nil, &BuildError{Path: e.Path, Err: fmt.Errorf("%s: %w", ex.Sink.Kind(), err)}
	}
	var attrs []string
	if a, ok := snk.(Attributed); ok {
		attrs = a.Attributes()
	}
	pipe = guardPipe(pipe, path+".pipe: "+pd.Kind())
	snk = guardSink(snk, e.Path+": "+ex.Sink.Kind())
	x, err := exchange.New(srcs, pipe, snk, append([]exchange.Option{exchange.WithName(path)}, opts...)...)
	if err != nil {
		return nil, attrs, &BuildError{Path: path, Err: err}
	}
	return x, attrs, nil
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func buildInMemorySource(_ context.Context, _ *descriptor.Exchange, src descriptor.Source, _ *Env) (exchange.Source, error) {
	s := src.(*descriptor.InMemorySource)
	return exchange.NewInMemorySource(s.Data, seconds(s.Delay)), nil
}

func buildDefaultPipe(_ context.Context, ex *descriptor.Exchange, _ descriptor.Pipe, _ *Env) (exchange.Pipe, error) {
	return exchange.NewDefaultPipe(ex.DType.NumPy, ex.Shape), nil
}

func buildBufferPipe(_ context.Context, ex *descriptor.Exchange, p descriptor.Pipe, _ *Env) (exchange.Pipe, error) {
	return exchange.NewBufferWithTimePipe(ex.DType.NumPy, ex.Shape, seconds(p.(*descriptor.BufferWithTimePipe).Timespan))
}

func buildInMemorySink(_ context.Context, _ *descriptor.Exchange, s descriptor.Sink, _ Stream, env *Env) (exchange.Sink, error) {
	if env.Queues == nil {
		return nil, errors.New("no in-memory queues")
	}
	return exchange.NewInMemorySink(env.Queues, s.(*descriptor.InMemorySink).Key), nil
}

func buildLocalAttributeSink(_ context.Context, _ *descriptor.Exchange, s descriptor.Sink, in Stream, env *Env) (exchange.Sink, error) {
	d := s.(*descriptor.TangoLocalAttributeSink)
	return sink.NewLocalAttributeSink(env.Attributes, d.AttributeName, in.DType, in.Shape, d.DefaultValue)
}

func buildArrayScatterSink(_ context.Context, _ *descriptor.Exchange, s descriptor.Sink, in Stream, env *Env) (exchange.Sink, error) {
	d := s.(*descriptor.TangoArrayScatterAttributeSink)
	opts := []sink.ScatterOption{sink.WithAxis(d.Axis), sink.WithDefault(d.DefaultValue)}
	if d.Indices != nil {
		opts = append(opts, sink.WithIndices(d.Indices))
	}
	if d.AttributeShapeNames != nil {
		opts = append(opts, sink.WithShapeNames(d.AttributeShapeNames))
	}
	return sink.NewArrayScatterSink(env.Attributes, in.DType, in.Shape, d.AttributeNames, opts...)
}

func buildObjectScatterSink(_ context.Context, _ *descriptor.Exchange, s descriptor.Sink, _ Stream, env *Env) (exchange.Sink, error) {
	d := s.(*descriptor.TangoObjectScatterAttributeSink)
	attrs := make([]sink.ObjectAttribute, len(d.Attributes))
	for i, a := range d.Attributes {
		attrs[i] = sink.ObjectAttribute{Name: a.AttributeName, DType: a.DType.NumPy, Shape: a.Shape, Path: a.Path, Default: a.DefaultValue}
		if a.Filter != nil {
			attrs[i].Filter = *a.Filter
		}
	}
	return sink.NewObjectScatterSink(env.Attributes, attrs)
}
