//go:build tango

package tangoio

import (
	"context"
	"fmt"
	"slices"

	"github.com/sdpkit/sdpkit/connector"
	"github.com/sdpkit/sdpkit/connector/descriptor"
	"github.com/sdpkit/sdpkit/connector/exchange"
	"github.com/sdpkit/sdpkit/tango"
)

// Register adds the factories of TangoSubscriptionSource,
// TangoPointingSubscriptionSource and TangoRemoteAttributeSink to f.
func Register(f *connector.Factories) {
	f.RegisterSource("TangoSubscriptionSource", func(ctx context.Context, ex *descriptor.Exchange, src descriptor.Source, env *connector.Env) (exchange.Source, error) {
		d, ok := src.(*descriptor.TangoSubscriptionSource)
		if !ok {
			return nil, fmt.Errorf("tangoio: source is %T, not a TangoSubscriptionSource", src)
		}
		et, err := eventType(d.EType)
		if err != nil {
			return nil, err
		}
		return NewSubscriptionSource(d.DeviceName, d.AttributeName, et, d.Stateless, ex.DType.NumPy, ex.Shape, env.Logger), nil
	})
	f.RegisterSource("TangoPointingSubscriptionSource", func(ctx context.Context, ex *descriptor.Exchange, src descriptor.Source, env *connector.Env) (exchange.Source, error) {
		d, ok := src.(*descriptor.TangoPointingSubscriptionSource)
		if !ok {
			return nil, fmt.Errorf("tangoio: source is %T, not a TangoPointingSubscriptionSource", src)
		}
		et, err := eventType(d.EType)
		if err != nil {
			return nil, err
		}
		if len(ex.Shape) != 0 {
			return nil, fmt.Errorf("tangoio: TangoPointingSubscriptionSource emits scalar records; the exchange's shape is %v", ex.Shape)
		}
		conv, err := pointingConverter(d.DeviceName, ex.DType.NumPy)
		if err != nil {
			return nil, err
		}
		s := NewSubscriptionSource(d.DeviceName, d.AttributeName, et, d.Stateless, ex.DType.NumPy, nil, env.Logger)
		s.convert = conv
		return s, nil
	})
	f.RegisterSink("TangoRemoteAttributeSink", func(ctx context.Context, ex *descriptor.Exchange, s descriptor.Sink, in connector.Stream, env *connector.Env) (exchange.Sink, error) {
		d, ok := s.(*descriptor.TangoRemoteAttributeSink)
		if !ok {
			return nil, fmt.Errorf("tangoio: sink is %T, not a TangoRemoteAttributeSink", s)
		}
		return NewRemoteAttributeSink(d.DeviceName, d.AttributeName, in.DType, in.Shape), nil
	})
}

// eventType maps a descriptor event type to the ones the client subscribes
// to (change, periodic, archive, user).
func eventType(e descriptor.EventType) (tango.EventType, error) {
	n := slices.Index(descriptor.EventTypes(), e)
	switch et := tango.EventType(n); et {
	case tango.ChangeEvent, tango.PeriodicEvent, tango.ArchiveEvent, tango.UserEvent:
		return et, nil
	}
	return 0, fmt.Errorf("tangoio: event type %q is not supported (CHANGE_EVENT, PERIODIC_EVENT, ARCHIVE_EVENT, USER_EVENT are): %w", e, connector.ErrNotAvailable)
}
