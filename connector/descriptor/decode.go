package descriptor

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/pyval/pyjson"
)

// ErrInvalid is matched (errors.Is) by every error Parse returns.
var ErrInvalid = errors.New("invalid queue connector descriptor")

// Problem is one thing wrong with a descriptor.
type Problem struct {
	// Path locates the offending member, e.g.
	// exchanges[0].sink.timestamp_options.reducer; "" is the whole document.
	// Group names appear quoted: exchanges["pb-1"][0].
	Path string
	// Msg says what is wrong.
	Msg string
	// Semantic marks a check the JSON Schema cannot express (a dtype
	// string numpy does not know, list lengths that must agree, a bytes
	// dtype with a non-scalar shape …): the schema accepts what only
	// these problems reject.
	Semantic bool
}

func (p Problem) String() string {
	if p.Path == "" {
		return p.Msg
	}
	return p.Path + ": " + p.Msg
}

// Error is the error Parse returns: every problem found, in document
// order. It matches ErrInvalid, and a JSON syntax error
// (*pyjson.SyntaxError) when the text is not JSON.
type Error struct {
	Problems []Problem
	syntax   error
}

func (e *Error) Error() string {
	if len(e.Problems) == 1 {
		return "invalid queue connector descriptor: " + e.Problems[0].String()
	}
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	return fmt.Sprintf("invalid queue connector descriptor: %d problems: %s", len(e.Problems), strings.Join(parts, "; "))
}

// Unwrap returns ErrInvalid and any syntax error.
func (e *Error) Unwrap() []error {
	if e.syntax != nil {
		return []error{ErrInvalid, e.syntax}
	}
	return []error{ErrInvalid}
}

// Option changes how Parse reads or Schema describes descriptors.
type Option func(*options)

type options struct {
	upstreamOnly bool
}

// UpstreamOnly rejects (Parse) or leaves out (Schema) the sdpkit extension
// kinds TelstateSensorSource and TelstateSink, for descriptors that must
// also work with the Python connector.
func UpstreamOnly() Option { return func(o *options) { o.upstreamOnly = true } }

// Parse reads a QueueConnectorDescriptor from JSON, checks it, fills every
// default and returns it. On failure the error is an *Error listing every
// problem found with its JSON path.
//
// Values of free-form members (InMemorySource.data, default_value) are
// read as Python's json module reads them (pyjson.Unmarshal): 1 is an int,
// 1.0 a float, objects are ordered dicts.
func Parse(data []byte, opts ...Option) (*Descriptor, error) {
	v, err := pyjson.Unmarshal(data)
	if err != nil {
		return nil, &Error{Problems: []Problem{{Msg: "not JSON: " + err.Error()}}, syntax: err}
	}
	return ParseValue(v, opts...)
}

// ParseValue is Parse for a descriptor already decoded to pyval (a config
// database value, say).
func ParseValue(v pyval.Value, opts ...Option) (*Descriptor, error) {
	p := &parser{}
	for _, o := range opts {
		o(&p.opts)
	}
	d := p.descriptor(v)
	if len(p.probs) > 0 {
		return nil, &Error{Problems: p.probs}
	}
	return d, nil
}

type parser struct {
	opts  options
	probs []Problem
}

func (p *parser) add(path, format string, args ...any) {
	p.probs = append(p.probs, Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) addSemantic(path, format string, args ...any) {
	p.probs = append(p.probs, Problem{Path: path, Msg: fmt.Sprintf(format, args...), Semantic: true})
}

func member(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// show renders an offending value briefly, as JSON where possible.
func show(v pyval.Value) string {
	b, err := pyjson.Marshal(v)
	s := string(b)
	if err != nil {
		s = pyval.Repr(v)
	}
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}

func (p *parser) descriptor(v pyval.Value) *Descriptor {
	d := &Descriptor{}
	doc, ok := v.(*pyval.Dict)
	if !ok {
		p.add("", "want a JSON object with an \"exchanges\" member, got %s", show(v))
		return d
	}
	for _, it := range doc.Items() {
		if k, _ := it.Key.(pyval.Str); k != "exchanges" {
			p.add(member("", string(k)), "unknown field (a descriptor has only \"exchanges\")")
		}
	}
	ex, _ := doc.GetStr("exchanges")
	switch x := ex.(type) {
	case nil, pyval.NoneType:
		d.Form = FormNull
	case pyval.List:
		d.Form = FormList
		d.Exchanges = p.exchanges(x, "exchanges")
	case *pyval.Dict:
		d.Form = FormGroups
		for _, it := range x.Items() {
			k, isStr := it.Key.(pyval.Str)
			name := string(k)
			path := "exchanges[" + strconv.Quote(name) + "]"
			if !isStr {
				p.add("exchanges", "group names must be strings, got %s", pyval.Repr(it.Key))
				continue
			}
			l, ok := it.Value.(pyval.List)
			if !ok {
				p.add(path, "want a list of exchanges, got %s", show(it.Value))
				continue
			}
			d.Groups = append(d.Groups, Group{Name: name, Exchanges: p.exchanges(l, path)})
		}
	default:
		p.add("exchanges", "want null, a list of exchanges or an object mapping group names to lists of exchanges, got %s", show(ex))
	}
	return d
}

func (p *parser) exchanges(l pyval.List, path string) []*Exchange {
	out := make([]*Exchange, 0, len(l))
	for i, e := range l {
		ex := &Exchange{}
		p.object(reflect.ValueOf(ex).Elem(), e, index(path, i), nil)
		out = append(out, ex)
	}
	return out
}

// object decodes a JSON object into the struct rv; k is its kind, for the
// members of a tagged union (whose "type" was already read).
func (p *parser) object(rv reflect.Value, v pyval.Value, path string, k *kindInfo) {
	dict, ok := v.(*pyval.Dict)
	if !ok {
		p.add(path, "want a JSON object, got %s", show(v))
		return
	}
	fs := fieldsOf(rv.Type())
	before := len(p.probs)
	for _, it := range dict.Items() {
		key, _ := it.Key.(pyval.Str)
		if k != nil && key == "type" {
			continue
		}
		if !slices.ContainsFunc(fs, func(f fieldInfo) bool { return f.name == string(key) }) {
			what := structName(rv.Type())
			if k != nil {
				what = k.name
			}
			p.add(member(path, string(key)), "unknown field (%s has %s)", what, fieldNames(fs))
		}
	}
	for i := range fs {
		f := &fs[i]
		fv := rv.Field(f.index)
		mpath := member(path, f.name)
		val, present := dict.GetStr(f.name)
		if !present {
			if f.required() {
				p.add(mpath, "required field is missing")
				continue
			}
			var err error
			val, err = pyjson.Unmarshal([]byte(f.def))
			if err != nil {
				panic("descriptor: bad default tag on " + rv.Type().Name() + "." + f.name)
			}
		}
		p.value(fv, val, mpath, f)
		if f.typ == typSources {
			if _, isList := val.(pyval.List); isList {
				rv.FieldByName("SourceList").SetBool(true)
			}
		}
	}
	if len(p.probs) == before {
		if c, ok := rv.Addr().Interface().(checker); ok {
			c.check(p, path)
		}
	}
}

// checker is implemented by types with checks the schema cannot express.
type checker interface {
	check(p *parser, path string)
}

// asInt reads an integer: a JSON integer, or a float with no fraction (as
// JSON Schema's "integer" accepts 1.0).
func asInt(v pyval.Value) (int64, bool) {
	switch x := v.(type) {
	case pyval.Int:
		return x.Int64()
	case pyval.Float:
		f := float64(x)
		if f == math.Trunc(f) && math.Abs(f) < 1<<62 {
			return int64(f), true
		}
	}
	return 0, false
}

func isNull(v pyval.Value) bool {
	_, ok := v.(pyval.NoneType)
	return ok
}

// value decodes v into rv, whose member description is f.
func (p *parser) value(rv reflect.Value, v pyval.Value, path string, f *fieldInfo) {
	t := rv.Type()
	if f != nil && f.nullable && isNull(v) {
		rv.SetZero()
		return
	}
	switch t {
	case typValue:
		rv.Set(reflect.ValueOf(&v).Elem())
		return
	case typDType:
		d, probs := parseDType(v)
		for _, pr := range probs {
			pr.Path = path + pr.Path
			p.probs = append(p.probs, pr)
		}
		rv.Set(reflect.ValueOf(d))
		return
	case typServers:
		p.servers(rv, v, path)
		return
	case typEventType:
		if n, ok := asInt(v); ok {
			if _, isBool := v.(pyval.Bool); !isBool {
				if n < 0 || n >= int64(len(EventTypes())) {
					p.add(path, "%d is not a Tango event type number (0 to %d)", n, len(EventTypes())-1)
					return
				}
				rv.SetString(string(EventTypes()[n]))
				return
			}
		}
		p.enum(rv, v, path)
		return
	case typEncoding, typReducer:
		p.enum(rv, v, path)
		return
	case typSlices:
		l, ok := v.(pyval.List)
		if !ok {
			p.add(path, "want a list with one entry per dimension, got %s", show(v))
			return
		}
		out := make(Slices, len(l))
		for i, e := range l {
			switch x := e.(type) {
			case pyval.Int, pyval.NoneType, pyval.Str, *pyval.Dict:
				out[i] = x
			default:
				if n, ok := asInt(e); ok {
					out[i] = pyval.IntOf(n)
					continue
				}
				p.add(index(path, i), "want an integer index, null (the whole axis), a slice string or object, got %s", show(e))
			}
		}
		rv.Set(reflect.ValueOf(out))
		return
	case typSources:
		switch x := v.(type) {
		case *pyval.Dict:
			if s := p.kind(roleSource, v, path); s.IsValid() {
				rv.Set(reflect.Append(reflect.MakeSlice(t, 0, 1), s))
			}
		case pyval.List:
			out := reflect.MakeSlice(t, 0, len(x))
			for i, e := range x {
				if s := p.kind(roleSource, e, index(path, i)); s.IsValid() {
					out = reflect.Append(out, s)
				}
			}
			rv.Set(out)
		default:
			p.add(path, "want a source object or a list of them, got %s", show(v))
		}
		return
	case typPipe:
		if s := p.kind(rolePipe, v, path); s.IsValid() {
			rv.Set(s)
		}
		return
	case typSink:
		if s := p.kind(roleSink, v, path); s.IsValid() {
			rv.Set(s)
		}
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		if isNull(v) {
			rv.SetZero()
			return
		}
		nv := reflect.New(t.Elem())
		p.value(nv.Elem(), v, path, nil)
		rv.Set(nv)
	case reflect.String:
		s, ok := v.(pyval.Str)
		if !ok {
			p.add(path, "want a string, got %s", show(v))
			return
		}
		rv.SetString(string(s))
	case reflect.Bool:
		b, ok := v.(pyval.Bool)
		if !ok {
			p.add(path, "want true or false, got %s", show(v))
			return
		}
		rv.SetBool(bool(b))
	case reflect.Int:
		n, ok := asInt(v)
		if _, isBool := v.(pyval.Bool); !ok || isBool {
			p.add(path, "want an integer, got %s", show(v))
			return
		}
		if f != nil && f.minimum != nil && float64(n) < *f.minimum {
			p.add(path, "%d is less than the minimum %g", n, *f.minimum)
			return
		}
		rv.SetInt(n)
	case reflect.Float64:
		var x float64
		switch n := v.(type) {
		case pyval.Int:
			x = n.Float64()
		case pyval.Float:
			x = float64(n)
		default:
			p.add(path, "want a number, got %s", show(v))
			return
		}
		if math.IsNaN(x) || math.IsInf(x, 0) {
			p.add(path, "want a finite number, got %s", show(v))
			return
		}
		if f != nil && f.minimum != nil && x < *f.minimum {
			p.add(path, "%s is less than the minimum %g", show(v), *f.minimum)
			return
		}
		rv.SetFloat(x)
	case reflect.Slice:
		l, ok := v.(pyval.List)
		if !ok {
			p.add(path, "want a list, got %s", show(v))
			return
		}
		out := reflect.MakeSlice(t, len(l), len(l))
		for i, e := range l {
			p.value(out.Index(i), e, index(path, i), nil)
		}
		rv.Set(out)
	case reflect.Struct:
		p.object(rv, v, path, nil)
	default:
		panic("descriptor: no decoder for " + t.String())
	}
}

func (p *parser) enum(rv reflect.Value, v pyval.Value, path string) {
	vals := enumValues(rv.Type())
	s, ok := v.(pyval.Str)
	if !ok || !slices.Contains(vals, string(s)) {
		p.add(path, "%s is not one of %s", show(v), strings.Join(vals, ", "))
		return
	}
	rv.SetString(string(s))
}

func (p *parser) servers(rv reflect.Value, v pyval.Value, path string) {
	var s Servers
	switch x := v.(type) {
	case pyval.Str:
		s = Servers{Addrs: splitServers(string(x)), Joined: true}
	case pyval.List:
		s.Addrs = make([]string, 0, len(x))
		for i, e := range x {
			a, ok := e.(pyval.Str)
			if !ok {
				p.add(index(path, i), "want a host:port string, got %s", show(e))
				continue
			}
			s.Addrs = append(s.Addrs, string(a))
		}
	default:
		p.add(path, "want a host:port string or a list of them, got %s", show(v))
		return
	}
	rv.Set(reflect.ValueOf(s))
}

// kind decodes one member of a tagged union: a source, sink or pipe. It
// returns the invalid Value when the kind is unknown.
func (p *parser) kind(r role, v pyval.Value, path string) reflect.Value {
	dict, ok := v.(*pyval.Dict)
	if !ok {
		p.add(path, "want a %s object with a \"type\", got %s", r, show(v))
		return reflect.Value{}
	}
	allowed := kindsOf(r, p.opts.upstreamOnly)
	tv, ok := dict.GetStr("type")
	if !ok {
		p.add(member(path, "type"), "required field is missing (the %s kind: one of %s)", r, kindNames(allowed))
		return reflect.Value{}
	}
	name, ok := tv.(pyval.Str)
	if !ok {
		p.add(member(path, "type"), "want a %s kind name, got %s", r, show(tv))
		return reflect.Value{}
	}
	k := kindNamed(r, string(name))
	if k == nil || !slices.Contains(allowed, k) {
		why := "is not a " + r.String() + " kind"
		if k != nil {
			why = "is an sdpkit extension, not allowed for the upstream connector"
		}
		p.add(member(path, "type"), "%q %s (one of %s)", string(name), why, kindNames(allowed))
		return reflect.Value{}
	}
	nv := k.new()
	p.object(nv.Elem(), dict, path, k)
	return nv
}

// The checks the schema cannot express.

func (e *Exchange) check(p *parser, path string) {
	if len(e.Sources) == 0 {
		p.addSemantic(member(path, "source"), "an exchange needs at least one source")
	}
	scalarOnly(p, path, e.DType, e.Shape)
}

func (a *TangoAttributeDescriptor) check(p *parser, path string) {
	scalarOnly(p, path, a.DType, a.Shape)
}

func scalarOnly(p *parser, path string, d DType, shape []int) {
	if (d.Encoded() || d.Object()) && len(shape) > 0 {
		p.addSemantic(member(path, "shape"), "dtype %q is scalar only, so the shape must be [], not %v", d.String(), shape)
	}
}

func (s *TangoArrayScatterAttributeSink) check(p *parser, path string) {
	n := len(s.AttributeNames)
	if n == 0 {
		p.addSemantic(member(path, "attribute_names"), "needs at least one attribute")
	}
	if s.AttributeShapeNames != nil && len(s.AttributeShapeNames) != n {
		p.addSemantic(member(path, "attribute_shape_names"), "has %d names, but attribute_names has %d", len(s.AttributeShapeNames), n)
	}
	if s.Indices != nil && n > 0 && len(s.Indices) != n-1 {
		p.addSemantic(member(path, "indices"), "%d split boundaries make %d parts, but attribute_names has %d", len(s.Indices), len(s.Indices)+1, n)
	}
}

func (s *KafkaConsumerSource) check(p *parser, path string) {
	checkServers(p, path, s.Servers)
}

func (s *KafkaProducerSink) check(p *parser, path string) {
	checkServers(p, path, s.Servers)
}

func checkServers(p *parser, path string, s Servers) {
	if len(s.Addrs) == 0 {
		p.addSemantic(member(path, "servers"), "needs at least one host:port")
	}
}
