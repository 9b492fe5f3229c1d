// Package jmes evaluates JMESPath expressions on pyval values, for the
// queue connector's TangoObjectScatterAttributeSink (and anything else that
// lets users select parts of a value). It wraps
// github.com/jmespath-community/go-jmespath, which works on JSON-like Go
// values, and owns the one conversion between those and pyval values.
//
// # Conversion
//
// ToJSON maps a pyval value to the JSON data model, as Python's json.dumps
// would see it: None → null, bool → bool, int and float → number (float64;
// integers beyond 2^53 lose precision), str → string, bytes → string when
// valid UTF-8, list and tuple → array, dict → object with keys converted as
// json.dumps converts them (str as is, int and float by their repr, True →
// "true", None → "null"). numpy arrays become nested arrays of their items;
// an element of a structured dtype becomes an object of its fields (Python's
// jmespath sees neither, so this is an extension). Complex numbers and
// msgpack timestamps have no JSON form and are refused.
//
// FromJSON maps back: number → float, object → dict with sorted keys. When
// a search result is an array or object taken unchanged from the input,
// Search returns the original pyval value instead, so ints stay ints and
// dicts keep their insertion order, as in Python; computed results (a
// multiselect, a projection, a number) follow FromJSON, so a Python int
// comes back as a float of equal value. The sinks coerce results to the
// attribute's dtype, which settles int versus float.
//
// # Copies
//
// The library sorts arrays in place for sort_by. Search therefore converts
// the input afresh for every evaluation: the caller's value is never
// touched and one expression cannot alter what the next one sees.
package jmes

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"unicode/utf8"

	jmespath "github.com/jmespath-community/go-jmespath"

	"github.com/sdpkit/sdpkit/pyval"
)

// ErrUnsupported marks a value that has no JSON form.
var ErrUnsupported = errors.New("jmes: value has no JSON form")

// Expr is a compiled JMESPath expression. It is safe for concurrent use.
type Expr struct {
	src string
	jp  jmespath.JMESPath
}

// Compile parses a JMESPath expression.
func Compile(expr string) (*Expr, error) {
	jp, err := jmespath.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("jmes: compile %q: %w", expr, err)
	}
	return &Expr{src: expr, jp: jp}, nil
}

// String returns the expression's source.
func (e *Expr) String() string { return e.src }

// Search evaluates the expression on v and returns the result as a pyval
// value (see the package documentation for the conversions).
func (e *Expr) Search(v pyval.Value) (pyval.Value, error) {
	c := converter{origins: map[ident]pyval.Value{}}
	data, err := c.toJSON(v)
	if err != nil {
		return nil, err
	}
	res, err := e.jp.Search(data)
	if err != nil {
		return nil, fmt.Errorf("jmes: search %q: %w", e.src, err)
	}
	return c.fromJSON(res)
}

// SearchJSON evaluates the expression on JSON-like data (which the library
// may modify) and returns the raw result.
func (e *Expr) SearchJSON(data any) (any, error) {
	res, err := e.jp.Search(data)
	if err != nil {
		return nil, fmt.Errorf("jmes: search %q: %w", e.src, err)
	}
	return res, nil
}

// Truthy reports JMESPath truth: null, false, "", [] and {} are false,
// everything else (0 included) is true. For pyval values: None, False,
// empty str, empty bytes, empty list/tuple, empty dict and empty arrays are
// false.
func Truthy(v pyval.Value) bool {
	switch x := v.(type) {
	case nil, pyval.NoneType:
		return false
	case pyval.Bool:
		return bool(x)
	case pyval.Str:
		return x != ""
	case pyval.Bytes:
		return len(x) != 0
	case pyval.List:
		return len(x) != 0
	case pyval.Tuple:
		return len(x) != 0
	case *pyval.Dict:
		return x.Len() != 0
	case *pyval.NDArray:
		return len(x.Shape) == 0 || x.Len() != 0
	}
	return true
}

// ToJSON converts v to the JSON-like values (nil, bool, float64, string,
// []any, map[string]any) the JMESPath library works on. The result shares
// nothing with v.
func ToJSON(v pyval.Value) (any, error) {
	var c converter
	return c.toJSON(v)
}

// FromJSON converts JSON-like values back to pyval values: numbers become
// Float, objects dicts with sorted keys. It also accepts the Go integer
// types (as Int) and bools, strings, []any and map[string]any.
func FromJSON(x any) (pyval.Value, error) {
	var c converter
	return c.fromJSON(x)
}

// ident identifies a container built by toJSON: a map's pointer, or a
// slice's array pointer and length.
type ident struct {
	ptr uintptr
	n   int
}

type converter struct {
	origins map[ident]pyval.Value // nil: do not track
}

func identOf(x any) (ident, bool) {
	switch t := x.(type) {
	case map[string]any:
		return ident{ptr: reflect.ValueOf(t).Pointer(), n: -1}, true
	case []any:
		if len(t) == 0 {
			return ident{}, false
		}
		return ident{ptr: reflect.ValueOf(t).Pointer(), n: len(t)}, true
	}
	return ident{}, false
}

func (c *converter) remember(x any, v pyval.Value) any {
	if c.origins != nil {
		if id, ok := identOf(x); ok {
			c.origins[id] = v
		}
	}
	return x
}

func (c *converter) toJSON(v pyval.Value) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, fmt.Errorf("%w: nil", ErrUnsupported)
	case pyval.NoneType:
		return nil, nil
	case pyval.Bool:
		return bool(x), nil
	case pyval.Int:
		// JMESPath numbers are float64 here: an int beyond 2**53 is
		// compared rounded, one beyond float64's range as ±Inf; an int
		// returned unchanged comes back exact through origins.
		return x.Float64(), nil
	case pyval.Float:
		return float64(x), nil
	case pyval.Str:
		return string(x), nil
	case pyval.Bytes:
		if !utf8.Valid(x) {
			return nil, fmt.Errorf("%w: bytes that are not UTF-8", ErrUnsupported)
		}
		return string(x), nil
	case pyval.List:
		return c.seq(x, v)
	case pyval.Tuple:
		return c.seq(x, v)
	case *pyval.Dict:
		m := make(map[string]any, x.Len())
		for _, it := range x.Items() {
			k, err := jsonKey(it.Key)
			if err != nil {
				return nil, err
			}
			e, err := c.toJSON(it.Value)
			if err != nil {
				return nil, fmt.Errorf("key %q: %w", k, err)
			}
			m[k] = e
		}
		return c.remember(m, v), nil
	case *pyval.NDArray:
		l, err := x.ToList()
		if err != nil {
			return nil, err
		}
		return c.arrayItems(l, x.DType)
	case *pyval.Scalar:
		it, err := x.Item()
		if err != nil {
			return nil, err
		}
		return c.arrayItems(it, x.DType)
	}
	return nil, fmt.Errorf("%w: %s", ErrUnsupported, v.Kind())
}

func (c *converter) seq(items []pyval.Value, orig pyval.Value) (any, error) {
	out := make([]any, len(items))
	for i, it := range items {
		e, err := c.toJSON(it)
		if err != nil {
			return nil, fmt.Errorf("item %d: %w", i, err)
		}
		out[i] = e
	}
	return c.remember(out, orig), nil
}

// arrayItems converts numpy items (from ToList or Item), turning the tuples
// of a structured dtype into objects of named fields.
func (c *converter) arrayItems(v pyval.Value, dt pyval.DType) (any, error) {
	if dt.Fields == nil {
		return c.toJSON(v)
	}
	switch x := v.(type) {
	case pyval.List:
		out := make([]any, len(x))
		for i, it := range x {
			e, err := c.arrayItems(it, dt)
			if err != nil {
				return nil, err
			}
			out[i] = e
		}
		return out, nil
	case pyval.Tuple:
		m := map[string]any{}
		i := 0
		for _, f := range dt.Fields {
			if f.Name == "" {
				i++
				continue
			}
			if i >= len(x) {
				break
			}
			e, err := c.arrayItems(x[i], f.DType)
			if err != nil {
				return nil, fmt.Errorf("field %q: %w", f.Name, err)
			}
			m[f.Name] = e
			i++
		}
		return m, nil
	}
	return c.toJSON(v)
}

// jsonKey converts a dict key as json.dumps does.
func jsonKey(k pyval.Value) (string, error) {
	switch x := k.(type) {
	case pyval.Str:
		return string(x), nil
	case pyval.Int:
		return x.String(), nil
	case pyval.Float:
		f := float64(x)
		switch {
		case math.IsNaN(f):
			return "NaN", nil
		case math.IsInf(f, 1):
			return "Infinity", nil
		case math.IsInf(f, -1):
			return "-Infinity", nil
		}
		return pyval.FloatRepr(f), nil
	case pyval.Bool:
		if x {
			return "true", nil
		}
		return "false", nil
	case pyval.NoneType:
		return "null", nil
	}
	return "", fmt.Errorf("%w: dict key of type %s", ErrUnsupported, k.Kind())
}

func (c *converter) fromJSON(x any) (pyval.Value, error) {
	if c.origins != nil {
		if id, ok := identOf(x); ok {
			if orig, ok := c.origins[id]; ok {
				// Only if the library did not rearrange it (sort_by
				// sorts in place): the original must still convert to
				// exactly this.
				var fresh converter
				if again, err := fresh.toJSON(orig); err == nil && reflect.DeepEqual(again, x) {
					return orig, nil
				}
			}
		}
	}
	switch t := x.(type) {
	case nil:
		return pyval.None, nil
	case bool:
		return pyval.Bool(t), nil
	case float64:
		return pyval.Float(t), nil
	case float32:
		return pyval.Float(float64(t)), nil
	case int:
		return pyval.IntOf(int64(t)), nil
	case int64:
		return pyval.IntOf(t), nil
	case string:
		return pyval.Str(t), nil
	case []any:
		out := make(pyval.List, len(t))
		for i, e := range t {
			v, err := c.fromJSON(e)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		d := &pyval.Dict{}
		for _, k := range keys {
			v, err := c.fromJSON(t[k])
			if err != nil {
				return nil, err
			}
			d.SetStr(k, v)
		}
		return d, nil
	}
	return nil, fmt.Errorf("%w: Go %T", ErrUnsupported, x)
}
