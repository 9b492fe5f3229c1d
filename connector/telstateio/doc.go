// Package telstateio connects the queue connector's exchanges to the
// telescope state (package telstate): SensorSource streams the new samples
// of one telstate sensor into an exchange, and Sink writes an exchange's
// values to a telstate key, as sensor samples or as an immutable attribute.
// Both are sdpkit extensions (descriptor kinds TelstateSensorSource and
// TelstateSink), not part of the Python ska-sdp-lmc-queue-connector.
//
// # Opening a telescope state
//
// The constructors take a *telstate.TelescopeState that the caller opened
// and keeps open while the source or sink is in use; the namespace of a
// descriptor is a view (TelescopeState.View). Open maps a descriptor's db
// string to a TelescopeState: "memory", a Redis URL (redis://, rediss://,
// unix://) or katsdptelstate's host:port. Stores does the same for a whole
// connector, opening each db once, so that all the "memory" sources and
// sinks of one device share one in-process store.
//
// # Sources: what is streamed
//
// A SensorSource does not replay history by default: Start notes the newest
// sample present, and Run emits every sample that is newer, in timestamp
// order, as it is added. FromStart replays the whole sensor first, and
// Since(t) everything from time t on. Samples are ordered as katsdptelstate
// orders them, by (timestamp, encoded value); several samples may share a
// timestamp, and each is emitted exactly once, even one that arrives after
// a sample with the same timestamp was emitted. A sample older than the
// newest one already emitted (a writer adding samples out of time order) is
// not emitted: the source follows the sensor's present, it does not patch
// its past.
//
// Run waits on the backend's monitor (telstate's WaitKey mechanism): Redis
// pub/sub messages, which carry each new sample, and the memory backend's
// in-process wake-ups, after which the source reads the samples newer than
// the last one it emitted with one GetRange. After a Redis reconnection or a
// backlog of the monitor, the source also reads with GetRange, so nothing
// published while it was not listening is missed. It never polls.
//
// # Sinks: how values are written
//
// A Sink appends each value as a sensor sample stamped with the time of
// writing (the time Write is called). Stamps are strictly increasing: if
// the clock has not moved past the previous stamp, the next float64 after it
// is used, so two equal values written in quick succession stay two samples
// (katsdptelstate stores an identical (timestamp, value) pair once). With
// TimestampedValues each value must be a (timestamp, value) pair, as a
// SensorSource with EmitTimestamps produces, and the pair's timestamp is
// used as it is.
//
// Writes are batched: Write encodes the value (so an unencodable value fails
// its own Write) and queues it; one goroutine adds the queued samples with
// one backend call (a Redis pipeline) per batch. While a batch is on its
// way, new values gather into the next one, so a sink fed faster than one
// round trip writes in batches and a slow stream writes each value at once.
// Flush (called by the exchange at the end of every run) waits until every
// queued sample is stored: the exchange's no-payload-lost guarantee holds.
// A failed batch fails the next Write or Flush.
//
// With Immutable the sink sets the key as an attribute instead, synchronously
// on each Write: writing the same value again is accepted (as katsdptelstate
// accepts it), a different value fails with telstate.ErrImmutableKey.
//
// # Lost connections
//
// A read or batch that fails because the connection is lost (an error
// matching telstate.ErrConnection: a Redis server restarting, or still
// loading its data) is retried with back-off for up to DefaultRetry (see
// RetryConnection and RetryWrites) before the source or sink fails. The
// source does not emit samples straight from messages until a catch-up read
// has succeeded again, so nothing added meanwhile is skipped. Other errors
// fail at once.
package telstateio
