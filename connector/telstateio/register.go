package telstateio

import (
	"context"
	"fmt"

	"github.com/sdpkit/sdpkit/connector"
	"github.com/sdpkit/sdpkit/connector/descriptor"
	"github.com/sdpkit/sdpkit/connector/exchange"
)

// Register adds the TelstateSensorSource and TelstateSink kinds to f,
// opening every telescope state they name through stores. The caller owns
// stores and closes it after the device has stopped.
func Register(f *connector.Factories, stores *Stores) {
	f.RegisterSource("TelstateSensorSource", func(ctx context.Context, ex *descriptor.Exchange, src descriptor.Source, env *connector.Env) (exchange.Source, error) {
		d, ok := src.(*descriptor.TelstateSensorSource)
		if !ok {
			return nil, fmt.Errorf("telstateio: source is %T, not a TelstateSensorSource", src)
		}
		return SourceFromDescriptor(ctx, stores, d)
	})
	f.RegisterSink("TelstateSink", func(ctx context.Context, ex *descriptor.Exchange, s descriptor.Sink, in connector.Stream, env *connector.Env) (exchange.Sink, error) {
		d, ok := s.(*descriptor.TelstateSink)
		if !ok {
			return nil, fmt.Errorf("telstateio: sink is %T, not a TelstateSink", s)
		}
		return SinkFromDescriptor(ctx, stores, d)
	})
}
