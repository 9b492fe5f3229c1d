package descriptor

import (
	"fmt"
	"reflect"

	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/pyval/pyjson"
)

// Marshal writes d as canonical JSON: every member present with defaults
// filled in, in the SDP configuration database's encoding
// (pyjson.Canonical: sorted keys, two-space indent, as ska-sdp-config's
// dict_to_json). Parse(Marshal(d)) gives d back.
func Marshal(d *Descriptor) ([]byte, error) {
	v, err := d.Value()
	if err != nil {
		return nil, err
	}
	return pyjson.Canonical(v)
}

// Value returns d as a pyval dict in document order (the kind's "type"
// first, then the members in schema order), for callers that store it
// themselves.
func (d *Descriptor) Value() (pyval.Value, error) {
	var ex pyval.Value = pyval.None
	switch d.Form {
	case FormList:
		ex = exchangesValue(d.Exchanges)
	case FormGroups:
		g := &pyval.Dict{}
		for _, grp := range d.Groups {
			g.SetStr(grp.Name, exchangesValue(grp.Exchanges))
		}
		ex = g
	case FormNull:
	default:
		return nil, fmt.Errorf("%w: unknown form %d", ErrInvalid, d.Form)
	}
	return pyval.StrDict("exchanges", ex), nil
}

func exchangesValue(exs []*Exchange) pyval.List {
	l := make(pyval.List, 0, len(exs))
	for _, e := range exs {
		l = append(l, structValue(reflect.ValueOf(e).Elem(), nil))
	}
	return l
}

// kindValue returns a source, sink or pipe as its JSON object.
func kindValue(v reflect.Value) pyval.Value {
	if v.IsNil() {
		return pyval.None
	}
	e := v.Elem() // the pointer
	return structValue(e.Elem(), kindOfType(e.Elem().Type()))
}

func structValue(rv reflect.Value, k *kindInfo) *pyval.Dict {
	d := &pyval.Dict{}
	if k != nil {
		d.SetStr("type", pyval.Str(k.name))
	}
	for _, f := range fieldsOf(rv.Type()) {
		fv := rv.Field(f.index)
		if f.typ == typSources {
			d.SetStr(f.name, sourcesValue(fv.Interface().([]Source), rv.FieldByName("SourceList").Bool()))
			continue
		}
		d.SetStr(f.name, fieldValue(fv, &f))
	}
	return d
}

func sourcesValue(srcs []Source, asList bool) pyval.Value {
	if len(srcs) == 1 && !asList {
		return kindValue(reflect.ValueOf(&srcs[0]).Elem())
	}
	l := make(pyval.List, len(srcs))
	for i := range srcs {
		l[i] = kindValue(reflect.ValueOf(&srcs[i]).Elem())
	}
	return l
}

// defaultValue is the member's default, for zero values that would
// otherwise be invalid (a nil pyval.Value, an unset enum).
func defaultValue(f *fieldInfo) pyval.Value {
	if f == nil || f.def == "" {
		return pyval.None
	}
	v, err := pyjson.Unmarshal([]byte(f.def))
	if err != nil {
		panic("descriptor: bad default tag on " + f.name)
	}
	return v
}

func fieldValue(rv reflect.Value, f *fieldInfo) pyval.Value {
	t := rv.Type()
	switch t {
	case typValue:
		if rv.IsNil() {
			return defaultValue(f)
		}
		return rv.Interface().(pyval.Value)
	case typDType:
		d := rv.Interface().(DType)
		if d.Literal == nil {
			return pyval.Str("str")
		}
		return d.Literal
	case typServers:
		return rv.Interface().(Servers).value()
	case typEventType, typEncoding, typReducer:
		if rv.String() == "" {
			return defaultValue(f)
		}
		return pyval.Str(rv.String())
	case typSlices:
		s := rv.Interface().(Slices)
		l := make(pyval.List, len(s))
		copy(l, s)
		return l
	case typPipe:
		if rv.IsNil() {
			return pyval.StrDict("type", pyval.Str("DefaultPipe"))
		}
		return kindValue(rv)
	case typSink:
		return kindValue(rv)
	}
	switch t.Kind() {
	case reflect.Pointer:
		if rv.IsNil() {
			return pyval.None
		}
		return fieldValue(rv.Elem(), nil)
	case reflect.String:
		return pyval.Str(rv.String())
	case reflect.Bool:
		return pyval.Bool(rv.Bool())
	case reflect.Int:
		return pyval.IntOf(rv.Int())
	case reflect.Float64:
		return pyval.Float(rv.Float())
	case reflect.Slice:
		if rv.IsNil() && f != nil && f.nullable {
			return pyval.None
		}
		l := make(pyval.List, rv.Len())
		for i := range l {
			l[i] = fieldValue(rv.Index(i), nil)
		}
		return l
	case reflect.Struct:
		return structValue(rv, nil)
	}
	panic("descriptor: no encoder for " + t.String())
}
