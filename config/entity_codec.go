package config

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"

	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/pyval/pyjson"
)

// Extra holds the members of a stored JSON object that the Go struct does
// not model (a Python peer may write fields a newer or older model has).
// Decoding fills it; encoding writes its members back next to the modelled
// ones (a modelled field wins over an Extra member of the same name), so a
// Get followed by an Update keeps them.
type Extra map[string]pyval.Value

// ErrDecode: a stored entity value is not the JSON the model expects
// (*DecodeError).
var ErrDecode = errors.New("config: cannot decode entity")

// DecodeError reports a stored value that does not fit an entity model; it
// matches ErrDecode.
type DecodeError struct {
	Path  string // database path of the value
	Field string // dotted field path inside the value ("" for the top)
	Err   string // what was wrong
}

func (e *DecodeError) Error() string {
	f := e.Field
	if f == "" {
		f = "value"
	}
	return fmt.Sprintf("config: decoding %s: %s: %s", e.Path, f, e.Err)
}

// Is makes errors.Is(err, ErrDecode) true.
func (e *DecodeError) Is(target error) bool { return target == ErrDecode }

// The entity codec maps Go structs to Python values and back, so entity
// bytes come out of pyjson.Canonical exactly as Python's dict_to_json
// writes them (json.Marshal would turn the float 21600.0 into 21600 and
// escape '<', '>' and '&').
//
// Rules (struct fields are named by their json tags; "-" is skipped):
//
//   - string → str, bool → bool, integers → int, floats → float (always
//     with a fraction: 21600.0);
//   - a nil pointer or nil pyval.Value → null, unless the tag has
//     omitempty (then the member is left out);
//   - slices → lists (a nil slice is an empty list: the models have no
//     nullable lists); a nil *pyval.Dict is an empty dict;
//   - pyval values are written as they are;
//   - a field of type Extra adds its members;
//   - types implementing pyEncoder/pyDecoder (unions such as a flow's sink
//     or a source's uri) encode themselves.
//
// Decoding is the reverse; it accepts an int for a float field (pydantic
// coerces it) and null for pointer, slice, dict and pyval fields (a
// pyval.Value field keeps null as pyval.None).

type pyEncoder interface {
	encodePy() (pyval.Value, error)
}

type pyDecoder interface {
	decodePy(v pyval.Value, field string) error
}

var (
	extraType   = reflect.TypeFor[Extra]()
	valueType   = reflect.TypeFor[pyval.Value]()
	dictPtrType = reflect.TypeFor[*pyval.Dict]()
	encoderType = reflect.TypeFor[pyEncoder]()
	decoderType = reflect.TypeFor[pyDecoder]()
)

// encodeEntity returns the canonical bytes of a model value.
func encodeEntity(v any) ([]byte, error) {
	pv, err := toPy(reflect.ValueOf(v), "")
	if err != nil {
		return nil, err
	}
	return pyjson.Canonical(pv)
}

// decodeEntity parses stored bytes at path into the model pointed to by
// into.
func decodeEntity(path string, data []byte, into any) error {
	v, err := pyjson.Unmarshal(data)
	if err != nil {
		return &DecodeError{Path: path, Err: err.Error()}
	}
	if err := fromPy(v, reflect.ValueOf(into).Elem(), ""); err != nil {
		var de *DecodeError
		if errors.As(err, &de) {
			de.Path = path
		}
		return err
	}
	return nil
}

func reflectValue(v any) reflect.Value { return reflect.ValueOf(v) }

func joinField(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

type fieldInfo struct {
	index     int
	name      string
	omitEmpty bool
	extra     bool
}

func structFields(t reflect.Type) []fieldInfo {
	var out []fieldInfo
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		if f.Type == extraType {
			out = append(out, fieldInfo{index: i, extra: true})
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		out = append(out, fieldInfo{index: i, name: name, omitEmpty: strings.Contains(","+opts+",", ",omitempty,")})
	}
	return out
}

func toPy(rv reflect.Value, field string) (pyval.Value, error) {
	if !rv.IsValid() {
		return pyval.None, nil
	}
	if rv.Type().Implements(encoderType) && !(rv.Kind() == reflect.Pointer && rv.IsNil()) {
		return rv.Interface().(pyEncoder).encodePy()
	}
	if rv.Type() == dictPtrType {
		if rv.IsNil() {
			return &pyval.Dict{}, nil
		}
		return rv.Interface().(*pyval.Dict), nil
	}
	if rv.Type().Implements(valueType) && rv.Kind() != reflect.Interface {
		return rv.Interface().(pyval.Value), nil
	}
	switch rv.Kind() {
	case reflect.Interface:
		if rv.IsNil() {
			return pyval.None, nil
		}
		return toPy(rv.Elem(), field)
	case reflect.Pointer:
		if rv.IsNil() {
			return pyval.None, nil
		}
		return toPy(rv.Elem(), field)
	case reflect.String:
		return pyval.Str(rv.String()), nil
	case reflect.Bool:
		return pyval.Bool(rv.Bool()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return pyval.IntOf(rv.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return pyval.UintOf(rv.Uint()), nil
	case reflect.Float32, reflect.Float64:
		return pyval.Float(rv.Float()), nil
	case reflect.Slice, reflect.Array:
		out := make(pyval.List, rv.Len())
		for i := range out {
			e, err := toPy(rv.Index(i), fmt.Sprintf("%s[%d]", field, i))
			if err != nil {
				return nil, err
			}
			out[i] = e
		}
		return out, nil
	case reflect.Map:
		d := &pyval.Dict{}
		iter := rv.MapRange()
		for iter.Next() {
			if iter.Key().Kind() != reflect.String {
				return nil, fmt.Errorf("config: encoding %s: map key type %s", field, iter.Key().Type())
			}
			e, err := toPy(iter.Value(), joinField(field, iter.Key().String()))
			if err != nil {
				return nil, err
			}
			d.SetStr(iter.Key().String(), e)
		}
		return d, nil
	case reflect.Struct:
		d := &pyval.Dict{}
		var extra Extra
		for _, f := range structFields(rv.Type()) {
			fv := rv.Field(f.index)
			if f.extra {
				extra = fv.Interface().(Extra)
				continue
			}
			if f.omitEmpty && fv.IsZero() {
				continue
			}
			e, err := toPy(fv, joinField(field, f.name))
			if err != nil {
				return nil, err
			}
			d.SetStr(f.name, e)
		}
		for k, v := range extra {
			if _, ok := d.GetStr(k); !ok {
				if v == nil {
					v = pyval.None
				}
				d.SetStr(k, v)
			}
		}
		return d, nil
	}
	return nil, fmt.Errorf("config: encoding %s: unsupported Go type %s", field, rv.Type())
}

func decodeErr(field, format string, args ...any) error {
	return &DecodeError{Field: field, Err: fmt.Sprintf(format, args...)}
}

func kindName(v pyval.Value) string {
	if v == nil {
		return "nothing"
	}
	return v.Kind().String()
}

func fromPy(v pyval.Value, rv reflect.Value, field string) error {
	if rv.CanAddr() && rv.Addr().Type().Implements(decoderType) {
		return rv.Addr().Interface().(pyDecoder).decodePy(v, field)
	}
	_, isNone := v.(pyval.NoneType)
	t := rv.Type()
	if t == dictPtrType {
		switch d := v.(type) {
		case *pyval.Dict:
			rv.Set(reflect.ValueOf(d))
		case pyval.NoneType:
			rv.SetZero()
		default:
			return decodeErr(field, "want a dict, got %s", kindName(v))
		}
		return nil
	}
	if t == valueType {
		// null stays pyval.None (not nil), so an omitempty field that
		// was stored as null is written back as null.
		rv.Set(reflect.ValueOf(v))
		return nil
	}
	if t.Implements(valueType) { // a concrete pyval type such as pyval.List
		if isNone {
			rv.SetZero()
			return nil
		}
		pv := reflect.ValueOf(v)
		if pv.Type() == reflect.TypeFor[pyval.Tuple]() && t == reflect.TypeFor[pyval.List]() {
			pv = reflect.ValueOf(pyval.List(v.(pyval.Tuple)))
		}
		if pv.Type() != t {
			return decodeErr(field, "want %s, got %s", t, kindName(v))
		}
		rv.Set(pv)
		return nil
	}
	switch rv.Kind() {
	case reflect.Pointer:
		if isNone {
			rv.SetZero()
			return nil
		}
		p := reflect.New(t.Elem())
		if err := fromPy(v, p.Elem(), field); err != nil {
			return err
		}
		rv.Set(p)
		return nil
	case reflect.String:
		s, ok := v.(pyval.Str)
		if !ok {
			return decodeErr(field, "want a string, got %s", kindName(v))
		}
		rv.SetString(string(s))
		return nil
	case reflect.Bool:
		b, ok := v.(pyval.Bool)
		if !ok {
			return decodeErr(field, "want a bool, got %s", kindName(v))
		}
		rv.SetBool(bool(b))
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, ok := v.(pyval.Int)
		if !ok {
			return decodeErr(field, "want an int, got %s", kindName(v))
		}
		n, ok := i.Int64()
		if !ok || rv.OverflowInt(n) {
			return decodeErr(field, "int %s out of range", i)
		}
		rv.SetInt(n)
		return nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		i, ok := v.(pyval.Int)
		if !ok {
			return decodeErr(field, "want an int, got %s", kindName(v))
		}
		n, ok := i.Uint64()
		if !ok || rv.OverflowUint(n) {
			return decodeErr(field, "int %s out of range", i)
		}
		rv.SetUint(n)
		return nil
	case reflect.Float32, reflect.Float64:
		switch x := v.(type) {
		case pyval.Float:
			rv.SetFloat(float64(x))
		case pyval.Int:
			f, err := x.Float()
			if err != nil {
				return decodeErr(field, "int of %d bits too large for a float", x.BitLen())
			}
			rv.SetFloat(f)
		default:
			return decodeErr(field, "want a float, got %s", kindName(v))
		}
		if rv.Kind() == reflect.Float32 && !math.IsInf(rv.Float(), 0) && rv.OverflowFloat(rv.Float()) {
			return decodeErr(field, "float out of range")
		}
		return nil
	case reflect.Slice:
		if isNone {
			rv.SetZero()
			return nil
		}
		var items []pyval.Value
		switch x := v.(type) {
		case pyval.List:
			items = x
		case pyval.Tuple:
			items = x
		default:
			return decodeErr(field, "want a list, got %s", kindName(v))
		}
		s := reflect.MakeSlice(t, len(items), len(items))
		for i, it := range items {
			if err := fromPy(it, s.Index(i), fmt.Sprintf("%s[%d]", field, i)); err != nil {
				return err
			}
		}
		rv.Set(s)
		return nil
	case reflect.Map:
		if isNone {
			rv.SetZero()
			return nil
		}
		d, ok := v.(*pyval.Dict)
		if !ok {
			return decodeErr(field, "want a dict, got %s", kindName(v))
		}
		m := reflect.MakeMapWithSize(t, d.Len())
		for _, it := range d.Items() {
			k, ok := it.Key.(pyval.Str)
			if !ok {
				return decodeErr(field, "non-string key %s", pyval.Repr(it.Key))
			}
			e := reflect.New(t.Elem()).Elem()
			if err := fromPy(it.Value, e, joinField(field, string(k))); err != nil {
				return err
			}
			m.SetMapIndex(reflect.ValueOf(string(k)).Convert(t.Key()), e)
		}
		rv.Set(m)
		return nil
	case reflect.Struct:
		d, ok := v.(*pyval.Dict)
		if !ok {
			return decodeErr(field, "want a dict, got %s", kindName(v))
		}
		fields := structFields(t)
		byName := map[string]fieldInfo{}
		extraIdx := -1
		for _, f := range fields {
			if f.extra {
				extraIdx = f.index
			} else {
				byName[f.name] = f
			}
		}
		var extra Extra
		for _, it := range d.Items() {
			k, ok := it.Key.(pyval.Str)
			if !ok {
				return decodeErr(field, "non-string key %s", pyval.Repr(it.Key))
			}
			f, known := byName[string(k)]
			if !known {
				if extra == nil {
					extra = Extra{}
				}
				extra[string(k)] = it.Value
				continue
			}
			if err := fromPy(it.Value, rv.Field(f.index), joinField(field, string(k))); err != nil {
				return err
			}
		}
		if extraIdx >= 0 {
			rv.Field(extraIdx).Set(reflect.ValueOf(extra))
		}
		return nil
	}
	return decodeErr(field, "unsupported Go type %s", t)
}
