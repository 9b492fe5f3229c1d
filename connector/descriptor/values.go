package descriptor

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sdpkit/sdpkit/pyval"
)

// Encoding names how Kafka message values are encoded.
type Encoding string

// The connector's encodings. Python is the default.
const (
	EncodingUTF8         Encoding = "utf-8"
	EncodingASCII        Encoding = "ascii"
	EncodingPython       Encoding = "python"
	EncodingJSON         Encoding = "json"
	EncodingMsgpackNumpy Encoding = "msgpack_numpy"
	EncodingNPY          Encoding = "npy"
	EncodingCArray       Encoding = "carray"
)

// Encodings lists every valid Encoding, in the upstream order.
func Encodings() []Encoding {
	return []Encoding{EncodingUTF8, EncodingASCII, EncodingPython, EncodingJSON, EncodingMsgpackNumpy, EncodingNPY, EncodingCArray}
}

// Reducer collapses several selected timestamps into one.
type Reducer string

// The reducers; "" stands for null (no reduction).
const (
	ReducerNone Reducer = ""
	ReducerMin  Reducer = "min"
	ReducerMax  Reducer = "max"
	ReducerMean Reducer = "mean"
)

// EventType is a Tango event type, held by name. A descriptor may give it
// by name or by its Tango number; Parse stores the name.
type EventType string

// The Tango event types, in Tango's numbering (CHANGE_EVENT is 0).
const (
	ChangeEvent          EventType = "CHANGE_EVENT"
	QualityEvent         EventType = "QUALITY_EVENT"
	PeriodicEvent        EventType = "PERIODIC_EVENT"
	ArchiveEvent         EventType = "ARCHIVE_EVENT"
	UserEvent            EventType = "USER_EVENT"
	AttrConfEvent        EventType = "ATTR_CONF_EVENT"
	DataReadyEvent       EventType = "DATA_READY_EVENT"
	InterfaceChangeEvent EventType = "INTERFACE_CHANGE_EVENT"
	PipeEvent            EventType = "PIPE_EVENT"
)

// EventTypes lists the event types in Tango's numbering: EventTypes()[n]
// is event type number n.
func EventTypes() []EventType {
	return []EventType{ChangeEvent, QualityEvent, PeriodicEvent, ArchiveEvent, UserEvent, AttrConfEvent, DataReadyEvent, InterfaceChangeEvent, PipeEvent}
}

// Servers is a Kafka bootstrap server list. In JSON it is a string (one
// host:port, or several joined by commas as Kafka clients accept) or a
// list of strings.
type Servers struct {
	// Addrs are the host:port addresses.
	Addrs []string
	// Joined records the string form: Marshal writes the addresses
	// joined with commas instead of as a list.
	Joined bool
}

// OneServer returns the string form for one address.
func OneServer(addr string) Servers { return Servers{Addrs: []string{addr}, Joined: true} }

func (s Servers) value() pyval.Value {
	if s.Joined {
		return pyval.Str(strings.Join(s.Addrs, ","))
	}
	l := make(pyval.List, len(s.Addrs))
	for i, a := range s.Addrs {
		l[i] = pyval.Str(a)
	}
	return l
}

func splitServers(s string) []string {
	parts := strings.Split(s, ",")
	out := parts[:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Slices selects timestamp elements from multidimensional data, one entry
// per dimension: a pyval.Int index, pyval.None for the whole axis, or (the
// JSON form upstream is not documented) a pyval.Str slice such as "1:3" or
// a *pyval.Dict; those two are kept as written.
type Slices []pyval.Value

// DType is an exchange's (or attribute's) element type as written, with
// its resolved numpy form.
type DType struct {
	// Literal is the dtype as written: a pyval.Str, or for a structured
	// dtype a pyval.List of [name, type] / [name, type, shape] lists.
	Literal pyval.Value
	// Builtin is the Python builtin the literal names: "bool", "int",
	// "float", "str", "object" or "bytes" ("str_" and "object_" count as
	// "str" and "object"). It is "" for numpy names, type strings and
	// structured dtypes.
	Builtin string
	// NumPy is the resolved numpy dtype: "str" is <U0 (unsized unicode),
	// "object" |O, "bytes" |S0, "int" <i8, "float" <f8.
	NumPy pyval.DType
}

// Encoded reports whether values are (encoding, payload bytes) pairs
// passed through without decoding: the "bytes" dtype, a Tango DevEncoded.
func (d DType) Encoded() bool { return d.Builtin == "bytes" }

// Object reports whether values are arbitrary Python containers (dtype
// "object").
func (d DType) Object() bool { return d.NumPy.Kind == 'O' && !d.NumPy.IsStructured() }

// String returns the literal as written: the string, or the Python repr
// of a structured list.
func (d DType) String() string {
	if s, ok := d.Literal.(pyval.Str); ok {
		return string(s)
	}
	if d.Literal == nil {
		return "str"
	}
	return pyval.Repr(d.Literal)
}

// builtinDTypes resolves the Python builtin names of B5.
var builtinDTypes = map[string]struct {
	builtin string
	descr   string
}{
	"bool":    {"bool", "|b1"},
	"int":     {"int", "<i8"},
	"float":   {"float", "<f8"},
	"str":     {"str", "<U0"},
	"str_":    {"str", "<U0"},
	"object":  {"object", "|O"},
	"object_": {"object", "|O"},
	"bytes":   {"bytes", "|S0"},
}

// numpyNames resolves numpy generic names pyval.ParseDType does not know.
var numpyNames = map[string]string{
	"bytes_":      "|S0",
	"unicode_":    "<U0",
	"void":        "|V0",
	"datetime64":  "<M8",
	"timedelta64": "<m8",
	"longlong":    "<i8",
	"ulonglong":   "<u8",
	"intc":        "<i4",
	"uintc":       "<u4",
	"intp":        "<i8",
	"uintp":       "<u8",
	"short":       "<i2",
	"ushort":      "<u2",
	"byte":        "|i1",
	"ubyte":       "|u1",
	"longdouble":  "<f16",
	"clongdouble": "<c32",
	"csingle":     "<c8",
	"cdouble":     "<c16",
}

// NewDType resolves a dtype written as a string: a Python builtin name, a
// numpy name or a numpy type string ("<f8", "U6", "M8[ns]").
func NewDType(s string) (DType, error) {
	d, probs := parseDType(pyval.Str(s))
	if len(probs) > 0 {
		return DType{}, fmt.Errorf("%w: %s", ErrInvalid, probs[0].Msg)
	}
	return d, nil
}

// MustDType is NewDType that panics, for literals in code.
func MustDType(s string) DType {
	d, err := NewDType(s)
	if err != nil {
		panic(err)
	}
	return d
}

func resolveName(s string) (builtin, descr string, err error) {
	if b, ok := builtinDTypes[s]; ok {
		return b.builtin, b.descr, nil
	}
	if n, ok := numpyNames[s]; ok {
		return "", n, nil
	}
	if _, err := pyval.ParseDType(s); err != nil {
		return "", "", fmt.Errorf("%q is not a dtype (a Python builtin name such as str or float, a numpy name such as float64, or a type string such as <f8)", s)
	}
	return "", s, nil
}

// parseDType checks a dtype literal. Problems carry paths relative to the
// dtype ("" or "[0]", "[1][1]" …).
func parseDType(v pyval.Value) (DType, []Problem) {
	switch x := v.(type) {
	case pyval.Str:
		b, descr, err := resolveName(string(x))
		if err != nil {
			return DType{}, []Problem{{Msg: err.Error(), Semantic: true}}
		}
		nd, err := pyval.ParseDType(descr)
		if err != nil {
			return DType{}, []Problem{{Msg: fmt.Sprintf("%q: %v", string(x), err), Semantic: true}}
		}
		return DType{Literal: x, Builtin: b, NumPy: nd}, nil
	case pyval.List:
		var probs []Problem
		descr := structuredDescr(x, "", &probs, 0)
		if len(probs) > 0 {
			return DType{}, probs
		}
		nd, err := pyval.DTypeFromDescr(descr)
		if err != nil {
			return DType{}, []Problem{{Msg: err.Error(), Semantic: true}}
		}
		return DType{Literal: x, NumPy: nd}, nil
	}
	return DType{}, []Problem{{Msg: "want a dtype string or a list of [name, type] / [name, type, shape] entries, got " + show(v)}}
}

// structuredDescr turns the JSON form of a structured dtype into numpy's
// descr (a list of tuples), resolving builtin names in field types.
func structuredDescr(l pyval.List, path string, probs *[]Problem, depth int) pyval.Value {
	if depth > 32 {
		*probs = append(*probs, Problem{Path: path, Msg: "structured dtype nested too deeply"})
		return nil
	}
	out := make(pyval.List, 0, len(l))
	for i, e := range l {
		p := path + "[" + strconv.Itoa(i) + "]"
		entry, ok := e.(pyval.List)
		if !ok {
			*probs = append(*probs, Problem{Path: p, Msg: "want a [name, type] or [name, type, shape] list, got " + show(e)})
			continue
		}
		if len(entry) < 2 || len(entry) > 3 {
			*probs = append(*probs, Problem{Path: p, Msg: fmt.Sprintf("a structured dtype entry has 2 or 3 items ([name, type] or [name, type, shape]), not %d", len(entry))})
			continue
		}
		t := make(pyval.Tuple, len(entry))
		if _, ok := entry[0].(pyval.Str); !ok {
			*probs = append(*probs, Problem{Path: p + "[0]", Msg: "want a field name string, got " + show(entry[0])})
		}
		t[0] = entry[0]
		switch ft := entry[1].(type) {
		case pyval.Str:
			_, descr, err := resolveName(string(ft))
			if err != nil {
				*probs = append(*probs, Problem{Path: p + "[1]", Msg: err.Error(), Semantic: true})
			}
			t[1] = pyval.Str(descr)
		case pyval.List:
			t[1] = structuredDescr(ft, p+"[1]", probs, depth+1)
		default:
			*probs = append(*probs, Problem{Path: p + "[1]", Msg: "want a dtype string or a structured list, got " + show(entry[1])})
		}
		if len(entry) == 3 {
			if n, ok := asInt(entry[2]); ok {
				t[2] = pyval.IntOf(n)
			} else if sh, ok := entry[2].(pyval.List); ok {
				tt := make(pyval.Tuple, len(sh))
				for j, e := range sh {
					n, ok := asInt(e)
					if !ok {
						*probs = append(*probs, Problem{Path: p + "[2][" + strconv.Itoa(j) + "]", Msg: "want an integer, got " + show(e)})
					}
					tt[j] = pyval.IntOf(n)
				}
				t[2] = tt
			} else {
				*probs = append(*probs, Problem{Path: p + "[2]", Msg: "want a sub-array shape (an integer or a list of integers), got " + show(entry[2])})
			}
		}
		out = append(out, t)
	}
	return out
}
