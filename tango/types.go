//go:build tango

package tango

import (
	"fmt"

	"github.com/sdpkit/sdpkit/connector/attribute"
	"github.com/sdpkit/sdpkit/pyval"
)

// Type is a Tango data type (cppTango's CmdArgType), as used by attributes
// and command arguments.
type Type int

// The Tango types this package carries. The values are cppTango's.
const (
	DevVoid    Type = 0
	DevBoolean Type = 1
	DevShort   Type = 2
	DevLong    Type = 3
	DevFloat   Type = 4
	DevDouble  Type = 5
	DevUShort  Type = 6
	DevULong   Type = 7
	DevString  Type = 8
	DevState   Type = 19
	DevUChar   Type = 22
	DevLong64  Type = 23
	DevULong64 Type = 24
	DevEncoded Type = 28
)

var typeNames = map[Type]string{
	DevVoid: "DevVoid", DevBoolean: "DevBoolean", DevShort: "DevShort", DevLong: "DevLong",
	DevFloat: "DevFloat", DevDouble: "DevDouble", DevUShort: "DevUShort", DevULong: "DevULong",
	DevString: "DevString", DevState: "DevState", DevUChar: "DevUChar", DevLong64: "DevLong64",
	DevULong64: "DevULong64", DevEncoded: "DevEncoded",
}

// String returns the Tango name, e.g. "DevDouble".
func (t Type) String() string {
	if n, ok := typeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("Type(%d)", int(t))
}

// ParseType returns the type of a Tango type name ("DevDouble", …), as
// attribute.TangoType and the connector's attributes property spell them.
func ParseType(name string) (Type, error) {
	for t, n := range typeNames {
		if n == name {
			return t, nil
		}
	}
	return 0, fmt.Errorf("tango: unknown type name %q: %w", name, ErrType)
}

// DType returns the numpy dtype that holds the type's elements (B5 of the
// queues spec): DevString is '<U' (size 0: strings), DevEncoded the bytes
// dtype ('S' of size 0).
func (t Type) DType() (pyval.DType, bool) {
	switch t {
	case DevBoolean:
		return pyval.Bool_, true
	case DevUChar:
		return pyval.Uint8, true
	case DevShort:
		return pyval.Int16, true
	case DevUShort:
		return pyval.Uint16, true
	case DevLong:
		return pyval.Int32, true
	case DevULong:
		return pyval.Uint32, true
	case DevLong64:
		return pyval.Int64, true
	case DevULong64:
		return pyval.Uint64, true
	case DevFloat:
		return pyval.Float32, true
	case DevDouble:
		return pyval.Float64, true
	case DevString:
		return pyval.DType{Kind: 'U', ByteOrder: '<'}, true
	case DevEncoded:
		return pyval.DType{Kind: 'S', ByteOrder: '|'}, true
	}
	return pyval.DType{}, false
}

// size is the element size of numeric and boolean types, 0 otherwise.
func (t Type) size() int {
	switch t {
	case DevBoolean, DevUChar:
		return 1
	case DevShort, DevUShort:
		return 2
	case DevLong, DevULong, DevFloat:
		return 4
	case DevLong64, DevULong64, DevDouble:
		return 8
	}
	return 0
}

// attribute types this package serves and reads.
func (t Type) attrType() bool { return t.size() > 0 || t == DevString || t == DevEncoded }

// format codes shared with the shim.
func formatCode(f attribute.Format) (int, error) {
	switch f {
	case attribute.Scalar:
		return 0, nil
	case attribute.Spectrum:
		return 1, nil
	case attribute.Image:
		return 2, nil
	}
	return 0, fmt.Errorf("tango: data format %q: %w", f, ErrType)
}

func formatOf(code int) attribute.Format {
	switch code {
	case 1:
		return attribute.Spectrum
	case 2:
		return attribute.Image
	}
	return attribute.Scalar
}

// State is a Tango device state.
type State int

// The Tango device states, in Tango's order.
const (
	On State = iota
	Off
	Close
	Open
	Insert
	Extract
	Moving
	Standby
	Fault
	Init
	Running
	Alarm
	Disable
	Unknown
)

var stateNames = [...]string{"ON", "OFF", "CLOSE", "OPEN", "INSERT", "EXTRACT", "MOVING", "STANDBY",
	"FAULT", "INIT", "RUNNING", "ALARM", "DISABLE", "UNKNOWN"}

// String returns the state's Tango name, e.g. "STANDBY".
func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// EventType is a Tango event type.
type EventType int

// The event types a client may subscribe to. The values are cppTango's.
const (
	ChangeEvent   EventType = 0
	PeriodicEvent EventType = 2
	ArchiveEvent  EventType = 3
	UserEvent     EventType = 4
)

// String returns the Tango event name, e.g. "change".
func (e EventType) String() string {
	switch e {
	case ChangeEvent:
		return "change"
	case PeriodicEvent:
		return "periodic"
	case ArchiveEvent:
		return "archive"
	case UserEvent:
		return "user_event"
	}
	return fmt.Sprintf("EventType(%d)", int(e))
}

// AttrSpec defines a dynamic attribute of a Server.
type AttrSpec struct {
	Name   string
	Type   Type
	Format attribute.Format
	// MaxDimX is a spectrum's maximum length or an image's maximum columns;
	// MaxDimY an image's maximum rows. Zero or negative means a large default
	// (DefaultMaxDim).
	MaxDimX, MaxDimY int
	// Access defaults to READ.
	Access attribute.Access
	// OnWrite is called (on a Tango server thread) with each value a client
	// writes, before it becomes the attribute's read value; an error is
	// returned to the client as a DevFailed. Nil accepts every write.
	OnWrite func(v pyval.Value) error
}

// DefaultMaxDim is the maximum dimension given to spectrum and image
// attributes whose spec leaves it unbounded.
const DefaultMaxDim = 1 << 24

// SpecFor derives an AttrSpec from a connector attribute spec (type from the
// dtype per B5, format and maximum dimensions from the shape), so that a
// bridge can mirror a connector/attribute Store as Tango attributes.
func SpecFor(s attribute.Spec) (AttrSpec, error) {
	name := s.TangoType()
	if name == "" {
		return AttrSpec{}, fmt.Errorf("tango: attribute %q: dtype %s has no Tango type: %w", s.Name, s.DType, ErrType)
	}
	t, err := ParseType(name)
	if err != nil {
		return AttrSpec{}, err
	}
	f := s.Format()
	if f == attribute.FormatNone {
		return AttrSpec{}, fmt.Errorf("tango: attribute %q: shape %v has more than 2 dimensions: %w", s.Name, s.Shape, ErrType)
	}
	return AttrSpec{Name: s.Name, Type: t, Format: f, MaxDimX: s.MaxDimX(), MaxDimY: s.MaxDimY(), Access: s.Access}, nil
}
