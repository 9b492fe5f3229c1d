package schema

import (
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/sdpkit/sdpkit/pyval"
)

// A Check inspects one field's value and returns what is wrong with it, or
// "" if nothing is.
type Check func(v pyval.Value) string

// Field describes one key of a DictSchema.
type Field struct {
	// Name is the dict key (a str).
	Name string
	// Optional fields may be absent; present ones are still checked.
	Optional bool
	// Check validates the value; nil accepts anything.
	Check Check
}

// DictSchema validates a dict with str keys field by field: required keys
// present, each value passing its field's Check, and (unless AllowExtra)
// no other keys. Key order is not checked: Python builds these dicts from
// dataclasses with keyword arguments.
type DictSchema struct {
	// SchemaName is returned by Name.
	SchemaName string
	// Fields lists the known keys.
	Fields []Field
	// AllowExtra accepts keys that Fields does not list.
	AllowExtra bool
}

// Name returns SchemaName.
func (s *DictSchema) Name() string { return s.SchemaName }

// Validate checks that v is a dict that matches the fields.
func (s *DictSchema) Validate(v pyval.Value) error {
	var p problems
	s.check(&p, "", v)
	return p.err(s.SchemaName)
}

func (s *DictSchema) check(p *problems, path string, v pyval.Value) {
	d, ok := v.(*pyval.Dict)
	if !ok {
		p.add(path, "want a dict, got %s", describe(v))
		return
	}
	known := make(map[string]bool, len(s.Fields))
	for _, f := range s.Fields {
		known[f.Name] = true
		fv, ok := d.GetStr(f.Name)
		if !ok {
			if !f.Optional {
				p.add(join(path, f.Name), "missing")
			}
			continue
		}
		if f.Check != nil {
			if msg := f.Check(fv); msg != "" {
				p.add(join(path, f.Name), "%s", msg)
			}
		}
	}
	if s.AllowExtra {
		return
	}
	for _, k := range d.Keys() {
		name, ok := k.(pyval.Str)
		if !ok {
			p.add(path, "key %s is not a str", pyval.Repr(k))
			continue
		}
		if !known[string(name)] {
			p.add(join(path, string(name)), "unexpected field")
		}
	}
}

// RealNumber accepts a Python int or float or a numpy integer or float
// scalar (not a bool, which Python counts as an int but which is not a
// measurement).
func RealNumber(v pyval.Value) string {
	switch x := v.(type) {
	case pyval.Int, pyval.Float:
		return ""
	case *pyval.Scalar:
		if x.DType.Kind == 'i' || x.DType.Kind == 'u' || x.DType.Kind == 'f' {
			return ""
		}
	}
	return "want a real number (int or float), got " + describe(v)
}

// Timestamp accepts a finite, non-negative real number (seconds).
func Timestamp(v pyval.Value) string {
	if msg := RealNumber(v); msg != "" {
		return msg
	}
	f, err := pyval.AsFloat64(v)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
		return fmt.Sprintf("want a finite non-negative time in seconds, got %s", pyval.Repr(v))
	}
	return ""
}

// NonNegativeInt accepts an int (Python or numpy) >= 0.
func NonNegativeInt(v pyval.Value) string {
	var neg bool
	switch x := v.(type) {
	case pyval.Int:
		neg = x.Negative()
	case *pyval.Scalar:
		if x.DType.Kind != 'i' && x.DType.Kind != 'u' {
			return "want a non-negative int, got " + describe(v)
		}
		i, err := pyval.AsInt64(x)
		neg = err == nil && i < 0
	default:
		return "want a non-negative int, got " + describe(v)
	}
	if neg {
		return "want a non-negative int, got " + pyval.Repr(v)
	}
	return ""
}

// String returns a Check accepting a str (Python or numpy str_) of
// between min and max characters (max < 0: no limit).
func String(min, max int) Check {
	return func(v pyval.Value) string {
		s, err := pyval.AsString(v)
		if err != nil {
			return "want a str, got " + describe(v)
		}
		n := utf8.RuneCountInString(s)
		switch {
		case n < min && min == 1:
			return "want a non-empty str"
		case n < min:
			return fmt.Sprintf("want at least %d characters, got %d", min, n)
		case max >= 0 && n > max:
			return fmt.Sprintf("want at most %d characters, got %d (%s)", max, n, pyval.StrRepr(s))
		}
		return ""
	}
}

// NumericArray accepts an ndarray of a bool, integer, float or complex
// dtype, or a list of real numbers (what a producer may send before
// converting to numpy).
func NumericArray(v pyval.Value) string {
	switch x := v.(type) {
	case *pyval.NDArray:
		switch x.DType.Kind {
		case 'b', 'i', 'u', 'f', 'c':
			return ""
		}
		return fmt.Sprintf("want a numeric array, got dtype %s", x.DType)
	case pyval.List:
		for i, e := range x {
			if msg := RealNumber(e); msg != "" {
				return fmt.Sprintf("element %d: %s", i, msg)
			}
		}
		return ""
	}
	return "want a numeric ndarray or a list of numbers, got " + describe(v)
}
