// Package descriptor reads, checks and writes the queue connector's
// configuration: a QueueConnectorDescriptor (ska-sdp-lmc-queue-connector's
// descriptor form), and generates its JSON Schema.
//
// A descriptor lists exchanges. Each exchange has one or more sources, an
// optional pipe and one sink, each selected by its "type":
//
//	{"exchanges": [{
//	    "dtype": "float64", "shape": [],
//	    "source": {"type": "KafkaConsumerSource", "servers": "localhost:9092", "topic": "t"},
//	    "sink": {"type": "TangoLocalAttributeSink", "attribute_name": "x"}}]}
//
// Parse turns the JSON into Go values (Descriptor, Exchange and one
// struct per kind) with every documented default filled in, and reports
// every problem with its JSON path. Sources, sinks and pipes are the
// sealed interfaces Source, Sink and Pipe: switch on the concrete type.
// Marshal writes a descriptor back as canonical JSON, and Schema returns
// the JSON Schema, generated from the same table the parser walks, so the
// two cannot drift apart.
//
// Two kinds are sdpkit extensions, not part of the upstream connector:
// TelstateSensorSource and TelstateSink. The UpstreamOnly option rejects
// them. FromFlowJSON builds a descriptor from SDP Flow entities, the
// configuration input of the 5.x connector.
//
// docs/connector-descriptors.md is the reference of every kind and field.
package descriptor
