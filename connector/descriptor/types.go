package descriptor

import (
	"github.com/sdpkit/sdpkit/pyval"
)

// Form says how the "exchanges" member of a descriptor was written.
type Form int

const (
	// FormNull: "exchanges" is null or absent. The device stays in STANDBY.
	FormNull Form = iota
	// FormList: "exchanges" is a list of exchange descriptors.
	FormList
	// FormGroups: "exchanges" is an object mapping group names to lists of
	// exchange descriptors (experimental upstream).
	FormGroups
)

// Descriptor is a QueueConnectorDescriptor: the whole configuration of a
// queue connector device.
type Descriptor struct {
	// Form is how Exchanges or Groups were written; Marshal writes the same
	// form back.
	Form Form
	// Exchanges holds the exchanges of FormList.
	Exchanges []*Exchange
	// Groups holds the groups of FormGroups, in document order.
	Groups []Group
}

// Group is one named group of exchanges of the dict-of-groups form. All
// exchanges of a group share one state machine.
type Group struct {
	Name      string
	Exchanges []*Exchange
}

// All returns every exchange: those of the list form, or those of every
// group in order.
func (d *Descriptor) All() []*Exchange {
	if d.Form != FormGroups {
		return d.Exchanges
	}
	var all []*Exchange
	for _, g := range d.Groups {
		all = append(all, g.Exchanges...)
	}
	return all
}

// Exchange is an ExchangeDescriptor: sources feed one pipe that feeds one
// sink. All sources share DType and Shape.
type Exchange struct {
	DType DType `json:"dtype" default:"\"str\"" doc:"Element type of the data the sources produce: a Python builtin name (bool, int, float, str, object, bytes), a numpy name or type string, or a structured dtype as a list of [name, type] / [name, type, shape] entries."`
	Shape []int `json:"shape" default:"[]" doc:"Dimensions of each value the sources produce; [] is a scalar."`
	// Sources is never empty after Parse: a single source object is read
	// as a one-element list.
	Sources []Source `json:"source" doc:"One source descriptor, or a list of them whose streams are merged."`
	// SourceList records that "source" was written as a list; Marshal
	// writes a list when it is set or when there are several sources.
	SourceList bool `json:"-"`
	// Pipe is never nil after Parse; it defaults to &DefaultPipe{}.
	Pipe Pipe `json:"pipe" default:"{\"type\":\"DefaultPipe\"}" confidence:"default inferred" doc:"The pipe between the sources and the sink."`
	Sink Sink `json:"sink" doc:"The sink descriptor."`
}

// Source is one of *InMemorySource, *TangoSubscriptionSource,
// *TangoPointingSubscriptionSource, *KafkaConsumerSource (upstream kinds)
// and *TelstateSensorSource (an sdpkit extension). The set is closed.
type Source interface {
	// Kind returns the descriptor's "type", e.g. "KafkaConsumerSource".
	Kind() string
	isSource()
}

// Sink is one of *InMemorySink, *TangoLocalAttributeSink,
// *TangoArrayScatterAttributeSink, *TangoObjectScatterAttributeSink,
// *TangoRemoteAttributeSink, *KafkaProducerSink (upstream kinds) and
// *TelstateSink (an sdpkit extension). The set is closed.
type Sink interface {
	Kind() string
	isSink()
}

// Pipe is *DefaultPipe or *BufferWithTimePipe. The set is closed.
type Pipe interface {
	Kind() string
	isPipe()
}

// InMemorySource yields the values of Data in order, then ends (for tests).
type InMemorySource struct {
	Data  []pyval.Value `json:"data" doc:"The values to yield, in order."`
	Delay float64       `json:"delay" default:"0" minimum:"0" doc:"Seconds to wait before each value."`
}

// TangoSubscriptionSource yields the values of a Tango attribute's events.
type TangoSubscriptionSource struct {
	DeviceName    string    `json:"device_name" doc:"Tango device name, e.g. mid-dish/dish-manager/SKA001."`
	AttributeName string    `json:"attribute_name" doc:"Attribute of that device."`
	EType         EventType `json:"etype" confidence:"inferred" doc:"Tango event type to subscribe to, by name (CHANGE_EVENT) or number."`
	Stateless     bool      `json:"stateless" default:"true" doc:"Retry a failed subscription every 10 s instead of failing at start."`
}

// TangoPointingSubscriptionSource is a TangoSubscriptionSource specialised
// for dish pointing attributes: each event becomes one structured record.
// Its fields are inferred to be those of TangoSubscriptionSource.
type TangoPointingSubscriptionSource struct {
	DeviceName    string    `json:"device_name" doc:"Tango device name of the dish."`
	AttributeName string    `json:"attribute_name" doc:"Pointing attribute, e.g. achievedPointing."`
	EType         EventType `json:"etype" confidence:"inferred" doc:"Tango event type to subscribe to, by name (CHANGE_EVENT) or number."`
	Stateless     bool      `json:"stateless" default:"true" doc:"Retry a failed subscription every 10 s instead of failing at start."`
}

// KafkaConsumerSource yields the decoded messages of a Kafka topic.
type KafkaConsumerSource struct {
	Servers  Servers  `json:"servers" doc:"Kafka bootstrap servers: a host:port string or a list of them."`
	Topic    string   `json:"topic" doc:"Topic to consume."`
	Encoding Encoding `json:"encoding" default:"\"python\"" doc:"How message values are encoded."`
}

// TelstateSensorSource yields the new samples of a telescope-state key as
// they are added (an sdpkit extension, not part of the upstream connector).
// For an immutable key it yields its value once.
type TelstateSensorSource struct {
	DB        string `json:"db" doc:"Telescope state to read: a redis URL (redis://host:port[/db]) or \"memory\" for the process's in-memory store (tests)."`
	Key       string `json:"key" doc:"The telstate key (sensor) to follow."`
	Namespace string `json:"namespace" default:"\"\"" doc:"Telstate namespace (view prefix) the key is looked up in; \"\" is the root."`
}

// InMemorySink appends each value to a process-wide queue named Key (for
// tests).
type InMemorySink struct {
	Key string `json:"key" doc:"Name of the in-memory queue."`
}

// TangoLocalAttributeSink publishes each value as a dynamic attribute of
// the connector device itself.
type TangoLocalAttributeSink struct {
	AttributeName string      `json:"attribute_name" doc:"Name of the attribute to create."`
	DefaultValue  pyval.Value `json:"default_value" default:"\"\"" doc:"Value of the attribute before the first write."`
}

// TangoArrayScatterAttributeSink splits each array along Axis and writes
// part i to AttributeNames[i].
type TangoArrayScatterAttributeSink struct {
	AttributeNames      []string    `json:"attribute_names" doc:"Attributes receiving the parts, in order."`
	AttributeShapeNames []string    `json:"attribute_shape_names" default:"null" nullable:"true" doc:"Attributes receiving the shape of each part, parallel to attribute_names, or null."`
	Axis                int         `json:"axis" default:"0" doc:"Axis to split along (non-zero values may be slower)."`
	DefaultValue        pyval.Value `json:"default_value" default:"\"\"" doc:"Value of every attribute before the first write."`
	Indices             []int       `json:"indices" default:"null" nullable:"true" doc:"Ordered split boundaries (as numpy.split), or null for equal parts."`
}

// TangoObjectScatterAttributeSink sets attributes from parts of a
// hierarchical value selected with JMESPath.
type TangoObjectScatterAttributeSink struct {
	Attributes []TangoAttributeDescriptor `json:"attributes" doc:"The attributes to set."`
}

// TangoAttributeDescriptor is one attribute of a
// TangoObjectScatterAttributeSink. It has no "type".
type TangoAttributeDescriptor struct {
	AttributeName string      `json:"attribute_name" doc:"Name of the attribute to create."`
	DefaultValue  pyval.Value `json:"default_value" default:"\"\"" doc:"Value of the attribute before the first write."`
	DType         DType       `json:"dtype" doc:"Element type of the attribute."`
	// Filter is nil when no filter is set.
	Filter *string `json:"filter" default:"null" doc:"JMESPath predicate: the attribute is only updated when it is truthy; null updates always."`
	Path   string  `json:"path" default:"\"@\"" doc:"JMESPath expression selecting the attribute's value."`
	Shape  []int   `json:"shape" default:"[]" doc:"Maximum shape of the attribute; [] is a scalar."`
}

// TangoRemoteAttributeSink writes each value to an attribute of another
// device. Its field names are inferred.
type TangoRemoteAttributeSink struct {
	DeviceName    string `json:"device_name" doc:"Tango device to write to."`
	AttributeName string `json:"attribute_name" doc:"Attribute of that device."`
}

// KafkaProducerSink encodes each value and produces it to a Kafka topic.
type KafkaProducerSink struct {
	Servers         Servers  `json:"servers" doc:"Kafka bootstrap servers: a host:port string or a list of them."`
	Topic           string   `json:"topic" doc:"Topic to produce to."`
	Encoding        Encoding `json:"encoding" default:"\"python\"" doc:"How message values are encoded."`
	MessageMaxBytes int      `json:"message_max_bytes" default:"1048576" minimum:"1" doc:"Largest message the producer sends (max_request_size)."`
	// TimestampOptions is nil for null: records carry the time of sending.
	TimestampOptions *TimestampOptions `json:"timestamp_options" default:"null" doc:"Where the Kafka record timestamp comes from; null uses the current time."`
}

// TimestampOptions extracts a Kafka record timestamp from the data: unix
// milliseconds, or a TAI datetime64.
type TimestampOptions struct {
	// Key is nil for null.
	Key *string `json:"key" default:"null" doc:"Field of dict-like or structured data holding the timestamp, or null."`
	// Reducer is "" for null.
	Reducer Reducer `json:"reducer" default:"null" nullable:"true" doc:"How several selected timestamps become one, or null."`
	Slices  Slices  `json:"slices" default:"[]" confidence:"inferred for non-integers" doc:"One entry per data dimension selecting the timestamp element(s): an integer index, null for the whole axis, or a slice."`
}

// TelstateSink writes each value to a telescope-state key (an sdpkit
// extension, not part of the upstream connector): as a new sensor sample
// stamped with the time of writing, or, when Immutable, as an immutable
// attribute set once.
type TelstateSink struct {
	DB        string `json:"db" doc:"Telescope state to write: a redis URL (redis://host:port[/db]) or \"memory\" for the process's in-memory store (tests)."`
	Key       string `json:"key" doc:"The telstate key to write."`
	Namespace string `json:"namespace" default:"\"\"" doc:"Telstate namespace (view prefix) the key is written in; \"\" is the root."`
	Immutable bool   `json:"immutable" default:"false" doc:"Write the first value as an immutable attribute instead of appending sensor samples."`
}

// DefaultPipe passes values through unchanged.
type DefaultPipe struct{}

// BufferWithTimePipe collects the values of each time window into one
// array with an extra leading dimension.
type BufferWithTimePipe struct {
	Timespan float64 `json:"timespan" default:"0" minimum:"0" doc:"Window length in seconds."`
}

func (*InMemorySource) Kind() string                  { return "InMemorySource" }
func (*TangoSubscriptionSource) Kind() string         { return "TangoSubscriptionSource" }
func (*TangoPointingSubscriptionSource) Kind() string { return "TangoPointingSubscriptionSource" }
func (*KafkaConsumerSource) Kind() string             { return "KafkaConsumerSource" }
func (*TelstateSensorSource) Kind() string            { return "TelstateSensorSource" }
func (*InMemorySink) Kind() string                    { return "InMemorySink" }
func (*TangoLocalAttributeSink) Kind() string         { return "TangoLocalAttributeSink" }
func (*TangoArrayScatterAttributeSink) Kind() string  { return "TangoArrayScatterAttributeSink" }
func (*TangoObjectScatterAttributeSink) Kind() string { return "TangoObjectScatterAttributeSink" }
func (*TangoRemoteAttributeSink) Kind() string        { return "TangoRemoteAttributeSink" }
func (*KafkaProducerSink) Kind() string               { return "KafkaProducerSink" }
func (*TelstateSink) Kind() string                    { return "TelstateSink" }
func (*DefaultPipe) Kind() string                     { return "DefaultPipe" }
func (*BufferWithTimePipe) Kind() string              { return "BufferWithTimePipe" }

func (*InMemorySource) isSource()                  {}
func (*TangoSubscriptionSource) isSource()         {}
func (*TangoPointingSubscriptionSource) isSource() {}
func (*KafkaConsumerSource) isSource()             {}
func (*TelstateSensorSource) isSource()            {}
func (*InMemorySink) isSink()                      {}
func (*TangoLocalAttributeSink) isSink()           {}
func (*TangoArrayScatterAttributeSink) isSink()    {}
func (*TangoObjectScatterAttributeSink) isSink()   {}
func (*TangoRemoteAttributeSink) isSink()          {}
func (*KafkaProducerSink) isSink()                 {}
func (*TelstateSink) isSink()                      {}
func (*DefaultPipe) isPipe()                       {}
func (*BufferWithTimePipe) isPipe()                {}
