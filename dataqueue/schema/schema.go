// Package schema validates data-queue messages before they are sent, as
// ska-sdp-dataqueues does with send(..., schema=S, validate=True). A Schema
// checks a pyval value (what a codec in package encoding encodes) and
// returns nil or a *ValidationError that lists every problem found, each
// naming the field or path it concerns.
//
// Three schema families exist in Python. Their exact checks are not
// published; what each Go schema checks is documented on it and in
// docs/dataqueue-encodings.md:
//
//   - PointingRecord: the structured pointing record (PointingNumpyArray)
//     that the pointing pipeline publishes.
//   - PointingTable: the PointingTable xarray Dataset (xradio schema in
//     Python), here in the dict form of xarray's Dataset.to_dict.
//   - SignalDisplayMetrics: the signal-display metric payload, whose field
//     list is not published; the schema is an assumption, built from a
//     DictSchema that can be adjusted.
//
// Python raises the problems of the dataclass schemas one at a time and
// those of the xarray schema together; every Go schema reports them all at
// once.
package schema

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sdpkit/sdpkit/pyval"
)

// A Schema validates values before they are sent. Validate returns nil or
// a *ValidationError (which wraps ErrInvalid). Implementations are safe
// for concurrent use.
type Schema interface {
	// Name is the schema's name, e.g. "PointingNumpyArray".
	Name() string
	// Validate checks v and reports every problem in one error.
	Validate(v pyval.Value) error
}

// ErrInvalid is wrapped by every *ValidationError, for errors.Is.
var ErrInvalid = errors.New("schema: validation failed")

// Problem is one thing wrong with a value.
type Problem struct {
	// Path locates the offending part: a field name ("xel_offset"), a
	// dotted path ("data_vars.pointing.dims"), an element ("[2].antenna_name"),
	// or "" for the value itself.
	Path string
	// Message says what is wrong and what was expected.
	Message string
}

func (p Problem) String() string {
	if p.Path == "" {
		return p.Message
	}
	return p.Path + ": " + p.Message
}

// ValidationError lists every problem a schema found in a value.
type ValidationError struct {
	// Schema is the name of the schema that failed.
	Schema string
	// Problems lists what is wrong, in the order found; never empty.
	Problems []Problem
}

// Error joins the problems: `schema PointingNumpyArray: 2 problems:
// antenna_name: …; xel_offset: …`.
func (e *ValidationError) Error() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "schema %s: ", e.Schema)
	if len(e.Problems) == 1 {
		sb.WriteString("1 problem: ")
	} else {
		fmt.Fprintf(&sb, "%d problems: ", len(e.Problems))
	}
	for i, p := range e.Problems {
		if i > 0 {
			sb.WriteString("; ")
		}
		sb.WriteString(p.String())
	}
	return sb.String()
}

// Unwrap returns ErrInvalid.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

// problems collects Problems while a schema walks a value.
type problems struct {
	list []Problem
}

func (p *problems) add(path, format string, args ...any) {
	p.list = append(p.list, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

func (p *problems) err(schema string) error {
	if len(p.list) == 0 {
		return nil
	}
	return &ValidationError{Schema: schema, Problems: p.list}
}

// join appends a field name to a path.
func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// describe names a value's type for messages, numpy types included.
func describe(v pyval.Value) string {
	switch x := v.(type) {
	case nil:
		return "nothing"
	case *pyval.NDArray:
		return fmt.Sprintf("ndarray of dtype %s and shape %v", x.DType, x.Shape)
	case *pyval.Scalar:
		return fmt.Sprintf("numpy scalar of dtype %s", x.DType)
	}
	return v.Kind().String()
}
