//go:build tango

package tango

import (
	"errors"
	"strconv"
	"strings"
)

// Errors a caller can check with errors.Is.
var (
	// ErrType: a value that does not fit the attribute's type or format, or a
	// type this package does not carry.
	ErrType = errors.New("tango: wrong type")
	// ErrClosed: the Server or Device was closed.
	ErrClosed = errors.New("tango: closed")
)

// ErrorItem is one entry of a DevFailed error stack.
type ErrorItem struct {
	Reason, Desc, Origin string
	// Severity: 0 WARN, 1 ERR, 2 PANIC.
	Severity int
}

// DevFailed is Tango's exception, as a Go error: the error stack, most
// recent first as cppTango orders it. Use errors.As to get it.
type DevFailed struct {
	Errors []ErrorItem
}

func (e *DevFailed) Error() string {
	var b strings.Builder
	b.WriteString("tango: DevFailed")
	for i, it := range e.Errors {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(it.Reason)
		if it.Desc != "" {
			b.WriteString(": ")
			b.WriteString(strings.TrimSpace(it.Desc))
		}
		if it.Origin != "" {
			b.WriteString(" (")
			b.WriteString(it.Origin)
			b.WriteString(")")
		}
	}
	return b.String()
}

// Reason returns the first (outermost) reason, e.g. "API_AttrNotFound".
func (e *DevFailed) Reason() string {
	if len(e.Errors) == 0 {
		return ""
	}
	return e.Errors[0].Reason
}

// parseErr decodes the shim's flattened DevFailed.
func parseErr(s string) *DevFailed {
	df := &DevFailed{}
	for _, rec := range strings.Split(s, "\x1e") {
		f := strings.Split(rec, "\x1f")
		for len(f) < 4 {
			f = append(f, "")
		}
		sev, _ := strconv.Atoi(f[3])
		df.Errors = append(df.Errors, ErrorItem{Reason: f[0], Desc: f[1], Origin: f[2], Severity: sev})
	}
	return df
}

// Error lets a write or command handler choose the DevFailed reason the
// client sees (other errors are reported with reason "GoError").
type Error struct {
	Reason string
	Err    error
}

func (e *Error) Error() string { return e.Reason + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }
