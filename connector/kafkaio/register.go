package kafkaio

import (
	"context"

	"github.com/sdpkit/sdpkit/connector"
	"github.com/sdpkit/sdpkit/connector/descriptor"
	"github.com/sdpkit/sdpkit/connector/exchange"
)

// Register adds the KafkaConsumerSource and KafkaProducerSink kinds to f.
// Every source and sink logs to the device's logger (with the group and
// JSON path attached); opts apply to all of them, e.g.
// WithFailOnDecodeError for Python's behaviour on undecodable records.
func Register(f *connector.Factories, opts ...Option) {
	f.RegisterSource("KafkaConsumerSource", func(ctx context.Context, ex *descriptor.Exchange, src descriptor.Source, env *connector.Env) (exchange.Source, error) {
		return BuildSource(ctx, ex, src, withEnv(env, opts)...)
	})
	f.RegisterSink("KafkaProducerSink", func(ctx context.Context, ex *descriptor.Exchange, s descriptor.Sink, in connector.Stream, env *connector.Env) (exchange.Sink, error) {
		return BuildSink(ctx, ex, s, in.DType, in.Shape, withEnv(env, opts)...)
	})
}

// withEnv puts the device's logger and the member's place (the key of
// WithResume) first, so an explicit WithLogger in opts still wins.
func withEnv(env *connector.Env, opts []Option) []Option {
	if env == nil {
		return opts
	}
	first := []Option{withPlace(env.Group, env.Path)}
	if env.Logger != nil {
		first = append(first, WithLogger(env.Logger))
	}
	return append(first, opts...)
}
