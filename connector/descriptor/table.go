package descriptor

import (
	"reflect"
	"strconv"
	"strings"

	"github.com/sdpkit/sdpkit/pyval"
)

// This file is the one description of the descriptor format. The parser,
// the encoder and the JSON Schema generator all walk it (the kind table
// below plus the struct tags of the Go types in types.go), so they cannot
// disagree.
//
// Struct tags of a field:
//
//	json:"name"         the JSON member ("-" skips the field)
//	default:"<json>"    the documented default; a field without one is required
//	nullable:"true"     null is allowed (pointer fields always allow it)
//	minimum:"<number>"  the smallest allowed number
//	doc:"..."           the schema description
//	confidence:"..."    x-confidence: how sure we are of an inferred detail

type role int

const (
	roleSource role = iota
	roleSink
	rolePipe
)

func (r role) String() string {
	return [...]string{"source", "sink", "pipe"}[r]
}

// kindInfo describes one descriptor kind, selected by its "type".
type kindInfo struct {
	name       string
	role       role
	typ        reflect.Type // the struct type
	doc        string
	ext        bool   // an sdpkit extension, not upstream
	confidence string // x-confidence of the whole kind, if inferred
}

func (k *kindInfo) new() reflect.Value { return reflect.New(k.typ) }

// kinds is the kind table, in schema order.
var kinds = []kindInfo{
	{name: "InMemorySource", role: roleSource, typ: reflect.TypeFor[InMemorySource](), doc: "Yields the values of data in order, then ends (for tests)."},
	{name: "TangoSubscriptionSource", role: roleSource, typ: reflect.TypeFor[TangoSubscriptionSource](), doc: "Yields the values of a Tango attribute's events."},
	{name: "TangoPointingSubscriptionSource", role: roleSource, typ: reflect.TypeFor[TangoPointingSubscriptionSource](), doc: "A Tango subscription to a dish pointing attribute, converting each event to one structured record.", confidence: "fields inferred (same as TangoSubscriptionSourceDescriptor)"},
	{name: "KafkaConsumerSource", role: roleSource, typ: reflect.TypeFor[KafkaConsumerSource](), doc: "Yields the decoded messages of a Kafka topic."},
	{name: "TelstateSensorSource", role: roleSource, typ: reflect.TypeFor[TelstateSensorSource](), ext: true, doc: "sdpkit extension (not upstream): yields the new samples of a telescope-state key as they are added."},

	{name: "InMemorySink", role: roleSink, typ: reflect.TypeFor[InMemorySink](), doc: "Appends each value to a process-wide in-memory queue (for tests)."},
	{name: "TangoLocalAttributeSink", role: roleSink, typ: reflect.TypeFor[TangoLocalAttributeSink](), doc: "Publishes each value as a dynamic attribute of the connector device."},
	{name: "TangoArrayScatterAttributeSink", role: roleSink, typ: reflect.TypeFor[TangoArrayScatterAttributeSink](), doc: "Splits each array along an axis and writes each part to its own attribute."},
	{name: "TangoObjectScatterAttributeSink", role: roleSink, typ: reflect.TypeFor[TangoObjectScatterAttributeSink](), doc: "Sets attributes from parts of a hierarchical value selected with JMESPath."},
	{name: "TangoRemoteAttributeSink", role: roleSink, typ: reflect.TypeFor[TangoRemoteAttributeSink](), doc: "Writes each value to an attribute of another Tango device.", confidence: "fields inferred (only the class name is public in what we could read)"},
	{name: "KafkaProducerSink", role: roleSink, typ: reflect.TypeFor[KafkaProducerSink](), doc: "Encodes each value and produces it to a Kafka topic."},
	{name: "TelstateSink", role: roleSink, typ: reflect.TypeFor[TelstateSink](), ext: true, doc: "sdpkit extension (not upstream): writes each value to a telescope-state key, as a sensor sample or once as an immutable attribute."},

	{name: "DefaultPipe", role: rolePipe, typ: reflect.TypeFor[DefaultPipe](), doc: "Passes values through unchanged."},
	{name: "BufferWithTimePipe", role: rolePipe, typ: reflect.TypeFor[BufferWithTimePipe](), doc: "Collects the values of each time window into one array with an extra leading dimension."},
}

// extMarker is the x-sdpkit value marking our extension kinds.
const extMarker = "extension: not part of ska-sdp-lmc-queue-connector"

func kindsOf(r role, upstreamOnly bool) []*kindInfo {
	var out []*kindInfo
	for i := range kinds {
		if kinds[i].role == r && !(upstreamOnly && kinds[i].ext) {
			out = append(out, &kinds[i])
		}
	}
	return out
}

func kindNamed(r role, name string) *kindInfo {
	for i := range kinds {
		if kinds[i].role == r && kinds[i].name == name {
			return &kinds[i]
		}
	}
	return nil
}

func kindOfType(t reflect.Type) *kindInfo {
	for i := range kinds {
		if kinds[i].typ == t {
			return &kinds[i]
		}
	}
	return nil
}

// fieldInfo is one JSON member of a struct type, from its tags.
type fieldInfo struct {
	name       string
	index      int
	typ        reflect.Type
	def        string // JSON text of the default; "" if required
	nullable   bool
	minimum    *float64
	doc        string
	confidence string
}

func (f *fieldInfo) required() bool { return f.def == "" }

func fieldsOf(t reflect.Type) []fieldInfo {
	var out []fieldInfo
	for i := range t.NumField() {
		sf := t.Field(i)
		name := sf.Tag.Get("json")
		if name == "" || name == "-" || !sf.IsExported() {
			continue
		}
		f := fieldInfo{
			name: name, index: i, typ: sf.Type,
			def:        sf.Tag.Get("default"),
			nullable:   sf.Tag.Get("nullable") == "true" || sf.Type.Kind() == reflect.Pointer,
			doc:        sf.Tag.Get("doc"),
			confidence: sf.Tag.Get("confidence"),
		}
		if m := sf.Tag.Get("minimum"); m != "" {
			x, err := strconv.ParseFloat(m, 64)
			if err != nil {
				panic("descriptor: bad minimum tag on " + t.Name() + "." + sf.Name)
			}
			f.minimum = &x
		}
		out = append(out, f)
	}
	return out
}

func fieldNames(fs []fieldInfo) string {
	names := make([]string, len(fs))
	for i := range fs {
		names[i] = fs[i].name
	}
	return strings.Join(names, ", ")
}

func kindNames(ks []*kindInfo) string {
	names := make([]string, len(ks))
	for i, k := range ks {
		names[i] = k.name
	}
	return strings.Join(names, ", ")
}

// The Go types with their own JSON forms.
var (
	typValue     = reflect.TypeFor[pyval.Value]()
	typDType     = reflect.TypeFor[DType]()
	typServers   = reflect.TypeFor[Servers]()
	typEventType = reflect.TypeFor[EventType]()
	typEncoding  = reflect.TypeFor[Encoding]()
	typReducer   = reflect.TypeFor[Reducer]()
	typSlices    = reflect.TypeFor[Slices]()
	typSources   = reflect.TypeFor[[]Source]()
	typPipe      = reflect.TypeFor[Pipe]()
	typSink      = reflect.TypeFor[Sink]()
)

func enumValues(t reflect.Type) []string {
	var out []string
	switch t {
	case typEncoding:
		for _, e := range Encodings() {
			out = append(out, string(e))
		}
	case typReducer:
		out = []string{string(ReducerMin), string(ReducerMax), string(ReducerMean)}
	case typEventType:
		for _, e := range EventTypes() {
			out = append(out, string(e))
		}
	}
	return out
}

// structName is the schema name of an untagged struct type.
func structName(t reflect.Type) string {
	if t == reflect.TypeFor[Exchange]() {
		return "ExchangeDescriptor"
	}
	return t.Name()
}
