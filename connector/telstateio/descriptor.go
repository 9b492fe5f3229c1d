package telstateio

import (
	"context"
	"fmt"

	"github.com/sdpkit/sdpkit/connector/descriptor"
	"github.com/sdpkit/sdpkit/telstate"
)

// view returns the namespace's view of ts ("" is ts itself).
func view(ts *telstate.TelescopeState, namespace string) *telstate.TelescopeState {
	if namespace == "" {
		return ts
	}
	return ts.View(namespace)
}

// SourceFromDescriptor builds the SensorSource a TelstateSensorSource
// descriptor describes, opening its db through stores (which keeps it open;
// the source does not close it). opts add to what the descriptor says, for
// instance FromStart.
func SourceFromDescriptor(ctx context.Context, stores *Stores, d *descriptor.TelstateSensorSource, opts ...SourceOption) (*SensorSource, error) {
	ts, err := stores.Open(ctx, d.DB)
	if err != nil {
		return nil, fmt.Errorf("TelstateSensorSource: %w", err)
	}
	s, err := NewSensorSource(view(ts, d.Namespace), d.Key, opts...)
	if err != nil {
		return nil, fmt.Errorf("TelstateSensorSource: %w", err)
	}
	return s, nil
}

// SinkFromDescriptor builds the Sink a TelstateSink descriptor describes,
// opening its db through stores (which keeps it open; the sink does not
// close it). opts add to what the descriptor says.
func SinkFromDescriptor(ctx context.Context, stores *Stores, d *descriptor.TelstateSink, opts ...SinkOption) (*Sink, error) {
	ts, err := stores.Open(ctx, d.DB)
	if err != nil {
		return nil, fmt.Errorf("TelstateSink: %w", err)
	}
	if d.Immutable {
		opts = append([]SinkOption{Immutable()}, opts...)
	}
	s, err := NewSink(view(ts, d.Namespace), d.Key, opts...)
	if err != nil {
		return nil, fmt.Errorf("TelstateSink: %w", err)
	}
	return s, nil
}
