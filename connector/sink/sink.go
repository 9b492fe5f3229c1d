// Package sink holds the queue connector's attribute sinks: the Go forms of
// TangoLocalAttributeSink, TangoArrayScatterAttributeSink and
// TangoObjectScatterAttributeSink. They write to an attribute.Store, which
// the device exposes (web page, HTTP API, a Tango bridge). Each satisfies
// exchange.Sink.
//
// Every sink defines its attributes when it is built (so they exist, with
// their default values, as soon as the exchange is configured, before it
// starts) and reports their names through Attributes, so that whoever
// reconfigures the device can remove them. Defining an attribute that
// already exists with the same definition reuses it.
package sink

import (
	"context"
	"errors"
	"fmt"

	"github.com/sdpkit/sdpkit/connector/attribute"
	"github.com/sdpkit/sdpkit/connector/internal/ndconv"
	"github.com/sdpkit/sdpkit/connector/jmes"
	"github.com/sdpkit/sdpkit/pyval"
)

// ErrConfig marks a sink configuration that cannot work.
var ErrConfig = errors.New("sink: invalid configuration")

func isBytes(dt pyval.DType) bool { return dt.Fields == nil && dt.Kind == 'S' && dt.Size == 0 }

// LocalAttributeSink sets one attribute of the device to every value it
// receives (TangoLocalAttributeSink). The attribute's dtype and maximum
// shape are the pipe's output dtype and shape; the bytes dtype makes a
// DevEncoded attribute whose values are (encoding, payload) pairs.
type LocalAttributeSink struct {
	store *attribute.Store
	spec  attribute.Spec
}

// NewLocalAttributeSink defines the attribute name in store and returns a
// sink writing it. def is the initial value (nil: none; the descriptor's
// default "" on a non-str attribute also means none).
func NewLocalAttributeSink(store *attribute.Store, name string, dtype pyval.DType, shape []int, def pyval.Value) (*LocalAttributeSink, error) {
	if isBytes(dtype) && len(shape) != 0 {
		return nil, fmt.Errorf("%w: attribute %q: the bytes dtype (DevEncoded) must be scalar, shape is %v", ErrConfig, name, shape)
	}
	spec := attribute.Spec{Name: name, DType: dtype, Shape: shape, Default: def}
	if err := store.Define(spec); err != nil {
		return nil, fmt.Errorf("sink: %w", err)
	}
	return &LocalAttributeSink{store: store, spec: spec}, nil
}

// Attributes returns the attribute the sink writes.
func (s *LocalAttributeSink) Attributes() []string { return []string{s.spec.Name} }

// Start does nothing.
func (s *LocalAttributeSink) Start(context.Context) error { return nil }

// Write converts v to the attribute's dtype and shape and sets it, which
// publishes a change event.
func (s *LocalAttributeSink) Write(ctx context.Context, v pyval.Value) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c, err := ndconv.Coerce(v, s.spec.DType, s.spec.Shape)
	if err != nil {
		return fmt.Errorf("attribute %q: %w", s.spec.Name, err)
	}
	return s.store.Set(s.spec.Name, c)
}

// Stop does nothing; the attribute keeps its last value.
func (s *LocalAttributeSink) Stop(context.Context) error { return nil }

// ObjectAttribute is one attribute of an ObjectScatterSink (the
// descriptor's TangoAttributeDescriptor).
type ObjectAttribute struct {
	Name  string
	DType pyval.DType
	// Shape is the maximum shape ([] scalar).
	Shape []int
	// Filter is a JMESPath predicate; "" means none (the descriptor's null).
	Filter string
	// Path is the JMESPath expression selecting the value; "" means "@".
	Path string
	// Default is the initial value (nil: none).
	Default pyval.Value
}

type objectAttr struct {
	spec   attribute.Spec
	filter *jmes.Expr // nil: none
	path   *jmes.Expr
}

// ObjectScatterSink spreads hierarchical values (dtype object: dicts and
// lists) over several attributes (TangoObjectScatterAttributeSink). For
// every value and every attribute: if the attribute has no filter, or the
// filter's result is truthy by JMESPath's rules (null, false, "", [] and {}
// are false; 0 is true), the attribute is set to the path's result coerced
// to the attribute's dtype and maximum shape; otherwise it keeps its value.
// A null path result sets the attribute to None (quality INVALID).
type ObjectScatterSink struct {
	store *attribute.Store
	attrs []objectAttr
}

// NewObjectScatterSink compiles the expressions, defines the attributes in
// store and returns the sink.
func NewObjectScatterSink(store *attribute.Store, attrs []ObjectAttribute) (*ObjectScatterSink, error) {
	if len(attrs) == 0 {
		return nil, fmt.Errorf("%w: object scatter sink without attributes", ErrConfig)
	}
	s := &ObjectScatterSink{store: store}
	seen := map[string]bool{}
	for _, a := range attrs {
		if seen[a.Name] {
			return nil, fmt.Errorf("%w: attribute %q listed twice", ErrConfig, a.Name)
		}
		seen[a.Name] = true
		oa := objectAttr{spec: attribute.Spec{Name: a.Name, DType: a.DType, Shape: a.Shape, Default: a.Default}}
		var err error
		if a.Filter != "" {
			if oa.filter, err = jmes.Compile(a.Filter); err != nil {
				return nil, fmt.Errorf("%w: attribute %q filter: %w", ErrConfig, a.Name, err)
			}
		}
		path := a.Path
		if path == "" {
			path = "@"
		}
		if oa.path, err = jmes.Compile(path); err != nil {
			return nil, fmt.Errorf("%w: attribute %q path: %w", ErrConfig, a.Name, err)
		}
		s.attrs = append(s.attrs, oa)
	}
	for _, a := range s.attrs {
		if err := store.Define(a.spec); err != nil {
			return nil, fmt.Errorf("sink: %w", err)
		}
	}
	return s, nil
}

// Attributes returns the attributes the sink writes, in order.
func (s *ObjectScatterSink) Attributes() []string {
	out := make([]string, len(s.attrs))
	for i, a := range s.attrs {
		out[i] = a.spec.Name
	}
	return out
}

// Start does nothing.
func (s *ObjectScatterSink) Start(context.Context) error { return nil }

// Write evaluates every attribute's filter and path on v (each on its own
// copy of v) and sets the selected attributes. A failure for one attribute
// does not keep the others from being set; Write returns all failures
// joined.
func (s *ObjectScatterSink) Write(ctx context.Context, v pyval.Value) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var errs []error
	for _, a := range s.attrs {
		ok, val, err := a.eval(v)
		if err == nil && ok {
			err = s.store.Set(a.spec.Name, val)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("attribute %q: %w", a.spec.Name, err))
		}
	}
	return errors.Join(errs...)
}

func (a objectAttr) eval(v pyval.Value) (bool, pyval.Value, error) {
	if a.filter != nil {
		f, err := a.filter.Search(v)
		if err != nil {
			return false, nil, err
		}
		if !jmes.Truthy(f) {
			return false, nil, nil
		}
	}
	r, err := a.path.Search(v)
	if err != nil {
		return false, nil, err
	}
	c, err := ndconv.Coerce(r, a.spec.DType, a.spec.Shape)
	if err != nil {
		return false, nil, err
	}
	return true, c, nil
}

// Stop does nothing; the attributes keep their last values.
func (s *ObjectScatterSink) Stop(context.Context) error { return nil }
