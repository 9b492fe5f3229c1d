//go:build tango

package tango

/*
#include "shim.h"
*/
import "C"

import (
	"fmt"

	"github.com/sdpkit/sdpkit/pyval"
)

// These functions are called by the shim on cppTango's threads (ORB
// request threads and the event consumer thread).

//export goTangoWrite
func goTangoWrite(h C.uintptr_t, name *C.char, v *C.tg_value) *C.char {
	s, ok := fromHandle[*Server](h)
	if !ok {
		return C.CString("GoError\x1fno server")
	}
	n := C.GoString(name)
	s.mu.Lock()
	spec, ok := s.attrs[n]
	s.mu.Unlock()
	if !ok {
		return C.CString("API_AttrNotFound\x1fno attribute " + n)
	}
	// The shim frees v after we return.
	w := cWireCopy(v)
	w.none = false
	val, err := fromWire(spec.Type, spec.Format, w)
	if err != nil {
		return cErrText(err)
	}
	if spec.OnWrite != nil {
		if err := safeCall(func() error { return spec.OnWrite(val) }); err != nil {
			return cErrText(err)
		}
	}
	return nil
}

//export goTangoCommand
func goTangoCommand(h C.uintptr_t, name *C.char, arg *C.char, hasArg C.int, outStr **C.char, outBool *C.int) *C.char {
	s, ok := fromHandle[*Server](h)
	if !ok {
		return C.CString("GoError\x1fno server")
	}
	n := C.GoString(name)
	s.mu.Lock()
	cmd, ok := s.cmds[n]
	s.mu.Unlock()
	if !ok {
		return C.CString("API_CommandNotFound\x1fno command " + n)
	}
	var in pyval.Value = pyval.None
	if hasArg != 0 {
		in = pyval.Str(C.GoString(arg))
	}
	var out pyval.Value
	err := safeCall(func() error {
		var err error
		out, err = cmd.fn(in)
		return err
	})
	if err != nil {
		return cErrText(err)
	}
	switch cmd.out {
	case DevString:
		str, err := pyval.AsString(orNone(out))
		if err != nil {
			return cErrText(fmt.Errorf("command %s returned %s, not a str: %w", n, pyval.Repr(orNone(out)), ErrType))
		}
		*outStr = C.CString(str)
	case DevBoolean:
		b, err := pyval.AsBool(orNone(out))
		if err != nil {
			return cErrText(fmt.Errorf("command %s returned %s, not a bool: %w", n, pyval.Repr(orNone(out)), ErrType))
		}
		if b {
			*outBool = 1
		}
	}
	return nil
}

//export goTangoEvent
func goTangoEvent(h C.uintptr_t, attr *C.char, event *C.char, v *C.tg_value, errText *C.char) {
	sub, ok := subscriptionOf(h)
	if !ok {
		return
	}
	ev := Event{Attr: C.GoString(attr), Name: C.GoString(event), Type: sub.etype}
	if errText != nil {
		ev.Err = parseErr(C.GoString(errText))
	} else {
		// The shim frees v after we return.
		r, err := cReadingCopy(ev.Attr, v)
		if err != nil {
			ev.Err = err
		} else {
			ev.Reading = r
		}
	}
	sub.deliver(ev)
}

// subscriptionOf returns the Subscription of a callback's handle, or false
// when the handle was deleted: a callback that cppTango had started when the
// shim marked it dead may still arrive after Unsubscribe gave up on an error
// (its Subscription is done and ignores it).
func subscriptionOf(h C.uintptr_t) (s *Subscription, ok bool) {
	defer func() {
		if recover() != nil {
			s, ok = nil, false
		}
	}()
	return fromHandle[*Subscription](h)
}

func orNone(v pyval.Value) pyval.Value {
	if v == nil {
		return pyval.None
	}
	return v
}

// safeCall runs a user handler, turning a panic into an error: a panic
// must not unwind through C++ frames.
func safeCall(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("tango: handler panicked: %v", r)
		}
	}()
	return f()
}
