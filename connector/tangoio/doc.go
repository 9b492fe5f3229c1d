//go:build tango

// Package tangoio brings Tango to the queue connector (spec queues.md B2,
// B7, B9), over package tango (cgo and cppTango, build tag tango):
//
//   - Bridge serves a connector.Device as the Tango device
//     SDPQueueConnector: state and status mirrored, the commands dispatched
//     to the device, every attribute of its store a dynamic Tango attribute
//     whose changes are pushed as change events.
//   - Register adds the factories of the Tango sources and sinks
//     (TangoSubscriptionSource, TangoPointingSubscriptionSource,
//     TangoRemoteAttributeSink) to a connector.Factories.
//
// docs/tango.md describes both and their limits.
package tangoio
