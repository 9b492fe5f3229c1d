package kafkaio

import (
	"context"
	"fmt"

	"github.com/sdpkit/sdpkit/connector/descriptor"
	"github.com/sdpkit/sdpkit/connector/exchange"
	"github.com/sdpkit/sdpkit/pyval"
)

// Kinds of the descriptors this package builds.
const (
	SourceKind = "KafkaConsumerSource"
	SinkKind   = "KafkaProducerSink"
)

// BuildSource is NewSource for a descriptor source of any kind, shaped for
// a device's factory registry: it fails unless src is a
// *descriptor.KafkaConsumerSource.
func BuildSource(ctx context.Context, ex *descriptor.Exchange, src descriptor.Source, opts ...Option) (exchange.Source, error) {
	k, ok := src.(*descriptor.KafkaConsumerSource)
	if !ok {
		return nil, fmt.Errorf("kafkaio: BuildSource: a %s is not a %s", kindOf(src), SourceKind)
	}
	return NewSource(ctx, ex, k, opts...)
}

// BuildSink is NewSink for a descriptor sink of any kind, shaped for a
// device's factory registry: it fails unless snk is a
// *descriptor.KafkaProducerSink. dtype and shape are what the exchange's
// pipe emits.
func BuildSink(ctx context.Context, ex *descriptor.Exchange, snk descriptor.Sink, dtype pyval.DType, shape []int, opts ...Option) (exchange.Sink, error) {
	k, ok := snk.(*descriptor.KafkaProducerSink)
	if !ok {
		return nil, fmt.Errorf("kafkaio: BuildSink: a %s is not a %s", kindOf(snk), SinkKind)
	}
	return NewSink(ctx, ex, k, dtype, shape, opts...)
}

func kindOf(v interface{ Kind() string }) string {
	if v == nil {
		return "nil descriptor"
	}
	return v.Kind()
}
