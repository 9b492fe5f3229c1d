// Package connector is the queue connector device (ska-sdp-lmc-queue-connector's
// SDPQueueConnector, spec queues.md B1–B3): it turns a descriptor
// (package descriptor) into running exchanges (package exchange), runs them
// under the Tango state machine INIT, STANDBY, OFF, OPEN, ON, CLOSE, FAULT,
// and exposes their attributes (package attribute), counters and state.
//
// Factories maps each descriptor kind to a constructor. DefaultFactories
// has the kinds that need nothing outside the process (in-memory sources
// and sinks, the pipes, the Tango attribute sinks, which write the device's
// attribute store); packages that bring a transport (Kafka, telstate, Tango)
// register theirs, and a kind without a factory fails to build with a
// *NotAvailableError naming the kind and its JSON path.
//
// Device is configured by Configure (a JSON string), by Apply (a file or
// property: configure and start), or from the configuration database:
// WatchKey follows a descriptor stored at a key (4.x/5.x
// exchanges_config_path), WatchFlows the Flow entities of a processing
// block (5.x). NewCollector exports the device to Prometheus.
//
// docs/connector-device.md describes the state machine, the group rules,
// reconfiguration and what "no payload lost" means across it.
package connector
