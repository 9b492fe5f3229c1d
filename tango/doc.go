//go:build tango

// Package tango is a thin cgo layer over cppTango 9.3 (Debian's
// libtango-dev): a device server whose dynamic attributes and commands are
// served from Go, and a client (DeviceProxy) that reads, writes, runs
// commands and subscribes to events. Every file carries the build tag
// `tango`, so the default build stays pure Go; build with
// `go build -tags tango` after `apt-get install libtango-dev`.
//
// # Values
//
// Values are pyval values. SCALAR attributes read as Python scalars (bool,
// int, float, str); SPECTRUM and IMAGE attributes as ndarrays of the type's
// dtype with shape [x] and [y, x] (rows, columns), str arrays for
// DevString; DevEncoded as an (encoding, bytes) tuple. Writes and Set
// accept the same, numeric arrays of another dtype being converted as
// numpy's astype would (but never float to an integer type).
//
// # No-database mode
//
// NewServer runs its device with `-nodb -dlist DEVICE -ORBendPoint
// giop:tcp:HOST:PORT`; clients address it as
// tango://HOST:PORT/DEVICE#dbase=no (Server.TRL). See docs/tango.md.
package tango
