//go:build tango

package tango

/*
#cgo pkg-config: tango
#cgo CXXFLAGS: -std=c++14 -Wno-deprecated-declarations -Wno-deprecated
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"errors"
	"runtime/cgo"
	"time"
	"unsafe"

	"github.com/sdpkit/sdpkit/connector/attribute"
)

// goErr turns the shim's error (malloc'd, may be nil) into a *DevFailed.
func goErr(e *C.tg_err) error {
	if e == nil {
		return nil
	}
	s := C.GoString(e)
	C.free(unsafe.Pointer(e))
	return parseErr(s)
}

// cWire reads a C value into a wire (copying) and frees it.
func cWire(v *C.tg_value) wire {
	defer C.tg_value_free(v)
	return cWireCopy(v)
}

// cWireCopy reads a C value into a wire (copying), leaving it to its owner.
func cWireCopy(v *C.tg_value) wire {
	w := wire{dimX: int(v.dim_x), dimY: int(v.dim_y), nstrs: int(v.nstrs), none: v.has_value == 0}
	if v.data != nil {
		w.data = C.GoBytes(unsafe.Pointer(v.data), C.int(v.len))
	}
	if v.strs != nil {
		w.strs = C.GoBytes(unsafe.Pointer(v.strs), C.int(v.strs_len))
	}
	return w
}

// cReading converts a C value to a Reading and frees it.
func cReading(name string, v *C.tg_value) (Reading, error) {
	defer C.tg_value_free(v)
	return cReadingCopy(name, v)
}

// cReadingCopy converts a C value to a Reading, leaving it to its owner.
func cReadingCopy(name string, v *C.tg_value) (Reading, error) {
	t, f := Type(v._type), formatOf(int(v.format))
	q, ns := attribute.Quality(v.quality), int64(v.time_ns)
	w := cWireCopy(v)
	val, err := fromWire(t, f, w)
	if err != nil {
		return Reading{}, err
	}
	return Reading{Name: name, Value: val, Quality: q, Time: time.Unix(0, ns), Type: t, Format: f}, nil
}

// bytesPtr returns a pointer to b's first byte for the duration of a cgo
// call (nil for empty); the C side copies.
func bytesPtr(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(&b[0])
}

// cErrText formats a Go error for the shim ("reason\x1fdescription",
// malloc'd), which throws it as a DevFailed.
func cErrText(err error) *C.char {
	reason := "GoError"
	var te *Error
	if errors.As(err, &te) {
		reason = te.Reason
	}
	return C.CString(reason + "\x1f" + err.Error())
}

// toHandle and fromHandle keep Go values out of C: C++ holds the handle.
func toHandle(v any) C.uintptr_t { return C.uintptr_t(cgo.NewHandle(v)) }

func fromHandle[T any](h C.uintptr_t) (T, bool) {
	v, ok := cgo.Handle(h).Value().(T)
	return v, ok
}

// exitNow ends the process with code without running C++ static
// destructors (see tg_quick_exit); the tests leave through it.
func exitNow(code int) { C.tg_quick_exit(C.int(code)) }

// ExitNow ends the process with code at once, without running C++ static
// destructors, which can block for ever once cppTango has run (see Limits
// in docs/tango.md). Test binaries of packages that use a Server leave
// through it from TestMain.
func ExitNow(code int) { exitNow(code) }
