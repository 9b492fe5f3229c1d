// Package kafkaio is the queue connector's Kafka end: the
// KafkaConsumerSource (Source) and the KafkaProducerSink (Sink) of
// ska-sdp-lmc-queue-connector, built on package dataqueue, so records are
// byte-compatible with the Python data-queue peers.
//
// Both take the servers of their descriptor as a host:port string, a
// comma-joined string or a list; a "kafka://" prefix, as Flow entities
// write hosts, is removed (Brokers). Encodings are looked up in
// encoding.NewConnectorRegistry for the stream's dtype and shape: the data
// queue encodings (utf-8, ascii, json, msgpack_numpy, npy) and the
// connector's own carray (raw C-order element bytes of the exchange dtype
// and shape) and python (the value's Python literal, the default).
//
//	src, _ := kafkaio.NewSource(ctx, ex, ex.Sources[0].(*descriptor.KafkaConsumerSource))
//	pipe := exchange.NewDefaultPipe(ex.DType.NumPy, ex.Shape)
//	snk, _ := kafkaio.NewSink(ctx, ex, ex.Sink.(*descriptor.KafkaProducerSink), pipe.OutputDType(), pipe.OutputShape())
//	x, _ := exchange.New([]exchange.Source{src}, pipe, snk)
//
// The source starts at the latest offset, with no consumer group and no
// commits; a record it cannot decode is skipped and counted. The sink
// pipelines its writes and acknowledges them all in Flush and Stop, which
// is what the exchange's no-payload-lost guarantee needs of a sink. See
// Source and Sink for the details and what is inferred.
package kafkaio
