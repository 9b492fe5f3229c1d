package rdb

import (
	"errors"
	"fmt"

	"github.com/sdpkit/sdpkit/telstate/backend"
)

// ParseError reports malformed, truncated or unsupported RDB input.
//
// errors.Is(err, backend.ErrRdbParse) is true for every ParseError. When the
// failure came from the underlying reader rather than from the data (an I/O
// error), errors.Is also matches that cause.
type ParseError struct {
	// Offset is the byte offset in the input where the problem was found
	// (for a truncated file, the input size).
	Offset int64
	// Msg describes the problem.
	Msg string
	// Cause is the underlying I/O error, if any.
	Cause error
}

// Error returns "invalid RDB file at offset N: message".
func (e *ParseError) Error() string {
	s := fmt.Sprintf("invalid RDB file at offset %d: %s", e.Offset, e.Msg)
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

// Unwrap returns backend.ErrRdbParse.
func (e *ParseError) Unwrap() error { return backend.ErrRdbParse }

// Is reports whether target matches the I/O cause, so that for example a
// cancelled read still satisfies errors.Is(err, context.Canceled).
func (e *ParseError) Is(target error) bool {
	return e.Cause != nil && errors.Is(e.Cause, target)
}

// errTruncated is the message for input that ends early.
const errTruncated = "unexpected end of input"
