// Package pickle reads Python pickles of plain data into pyval values,
// without ever running code.
//
// It exists for old MeerKAT telescope-state data (written before March 2019),
// which stores values as pickles instead of msgpack. Decode behaves like
// Python's
//
//	pickle.loads(data, encoding='latin1')
//
// for the values such data holds: None, bool, int, float, complex, str,
// bytes and bytearray (both become pyval.Bytes), tuple, list, dict, numpy
// arrays (*pyval.NDArray) and numpy scalars (*pyval.Scalar). Every protocol
// from 0 (Python 2's text format) to 5 is understood.
//
// # Python 2 strings
//
// A Python 2 str (the STRING, BINSTRING and SHORT_BINSTRING opcodes) is
// decoded as latin1 into a pyval.Str, as encoding='latin1' does. Where numpy
// expects raw bytes (array data, scalar data) such a string is turned back
// into the original bytes.
//
// # Safety
//
// A pickle normally names Python callables (GLOBAL, STACK_GLOBAL, INST) and
// calls them (REDUCE, NEWOBJ, BUILD). This package resolves names against a
// fixed allow-list and implements each allowed callable in Go:
//
//	numpy.core.multiarray._reconstruct, numpy.ndarray, numpy.dtype
//	    (with ndarray and dtype __setstate__ through BUILD)
//	numpy.core.multiarray.scalar            numpy scalars
//	numpy.core.numeric._frombuffer          protocol-5 arrays
//	_codecs.encode                          bytes in protocols 0-2
//	builtins.complex, builtins.bytes, builtins.bytearray
//
// (numpy 2's numpy._core.* names and Python 2's __builtin__ are accepted
// too). Any other name fails with an error wrapping ErrUnsupported whose
// text starts "pickle: refusing to load global module.name". Sets and
// frozensets, object arrays, persistent IDs, the extension registry and
// out-of-band buffers are refused the same way, because pyval has no value
// for them.
//
// Hostile input cannot crash the decoder or make it allocate much more than
// the input's size: length prefixes are checked against the remaining
// input, and the stack, memo, nesting depth and the size of the decoded
// value (counting shared sub-values once per use) are bounded. Exceeding a
// bound fails with ErrLimit.
//
// # Differences from Python
//
// Ints of any size are decoded exactly (LONG1 and LONG4 of any length); a
// protocol-0 INT or LONG of more than pyval.MaxIntDigits digits fails with
// ErrLimit, as Python's int() raises ValueError for it. A str is held in a pyval.Str as Python's surrogateescape
// would encode it: a lone surrogate U+DC80…U+DCFF becomes the byte it
// escapes, and other lone surrogates fail with ErrUnsupported. Recursive
// structures (a list containing itself) fail with
// ErrUnsupported. Dtype field titles and out-of-order structured fields,
// which a numpy descr cannot express, fail with ErrUnsupported. Bytes after
// the STOP opcode are ignored, as pickle.loads ignores them.
package pickle

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"github.com/sdpkit/sdpkit/pyval"
)

// The error classes. Every error returned by Decode and Read is an *Error
// that wraps exactly one of them; test with errors.Is.
var (
	// ErrInvalid reports malformed pickle data: an unknown opcode,
	// truncated input, a stack underflow, a missing memo entry, arguments of
	// the wrong type, or anything else Python's unpickler would reject.
	ErrInvalid = errors.New("pickle: invalid pickle data")
	// ErrUnsupported reports a well-formed pickle whose content this
	// package will not or cannot load: a global outside the allow-list, a
	// set, an object array, ….
	ErrUnsupported = errors.New("pickle: unsupported pickle content")
	// ErrLimit reports input that exceeds one of the decoder's resource
	// bounds (stack, memo, nesting depth, decoded value size).
	ErrLimit = errors.New("pickle: resource limit exceeded")
)

// Error describes a decoding failure and where it happened.
type Error struct {
	// Class is ErrInvalid, ErrUnsupported or ErrLimit.
	Class error
	// Op is the name of the opcode being executed (as in Python's
	// pickletools, e.g. "BINUNICODE"), or "" when the failure is not tied to
	// one opcode (such as an empty input).
	Op string
	// Offset is the byte offset of that opcode in the input.
	Offset int64
	// Msg says what went wrong.
	Msg string
	// Err is an underlying cause (an I/O error from Read, a pyval error),
	// or nil.
	Err error
}

// Error returns "pickle: <Msg> (<Op> at offset <Offset>)[: <Err>]".
func (e *Error) Error() string {
	s := "pickle: " + e.Msg
	if e.Op != "" {
		s += fmt.Sprintf(" (%s at offset %d)", e.Op, e.Offset)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the class and, if present, the underlying cause, so that
// errors.Is works for both.
func (e *Error) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Class, e.Err}
	}
	return []error{e.Class}
}

// Decode decodes the pickle at the start of b. It does not retain b.
// Bytes after the pickle's STOP opcode are ignored.
func Decode(b []byte) (pyval.Value, error) {
	m := newMachine(input{buf: b})
	return m.run()
}

// Read decodes one pickle from r, reading up to and including its STOP
// opcode, as Python's pickle.load does. If r is not an io.ByteReader it is
// wrapped in a bufio.Reader, which may consume bytes beyond the pickle;
// pass a *bufio.Reader (or other io.ByteReader) to read several pickles in
// sequence from one stream. An I/O error from r is wrapped in the returned
// error; a stream that ends early gives ErrInvalid.
func Read(r io.Reader) (pyval.Value, error) {
	br, ok := r.(byteReader)
	if !ok {
		br = bufio.NewReader(r)
	}
	m := newMachine(input{r: br})
	return m.run()
}

type byteReader interface {
	io.Reader
	io.ByteReader
}
