//go:build tango

package tangoio

import (
	"context"
	"fmt"
	"sync"

	"github.com/sdpkit/sdpkit/connector/internal/ndconv"
	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/tango"
)

// RemoteAttributeSink is an exchange.Sink that writes each value to an
// attribute of another Tango device (TangoRemoteAttributeSink, spec B9),
// with write_attribute: the value is converted to the attribute's Tango
// type and format, which the device is asked for once.
type RemoteAttributeSink struct {
	trl, attr string
	dt        pyval.DType
	shape     []int

	mu  sync.Mutex
	dev *tango.Device
}

// NewRemoteAttributeSink returns a sink writing attribute attr of the device
// at trl (a device name resolved through TANGO_HOST, or a full TRL). Values
// are first given dtype dt and maximum shape shape (the stream's), as the
// values of an exchange may be Python lists.
func NewRemoteAttributeSink(trl, attr string, dt pyval.DType, shape []int) *RemoteAttributeSink {
	return &RemoteAttributeSink{trl: trl, attr: attr, dt: dt, shape: shape}
}

// Start connects (cppTango connects lazily: a device that is not running
// fails the first Write, not Start).
func (s *RemoteAttributeSink) Start(ctx context.Context) error {
	d, err := tango.Dial(ctx, s.trl)
	if err != nil {
		return fmt.Errorf("tangoio: %s: %w", s.trl, err)
	}
	s.mu.Lock()
	s.dev = d
	s.mu.Unlock()
	return nil
}

// Write writes one value; a DevFailed or a value that does not fit the
// attribute fails the write (and so the exchange).
func (s *RemoteAttributeSink) Write(ctx context.Context, v pyval.Value) error {
	s.mu.Lock()
	d := s.dev
	s.mu.Unlock()
	if d == nil {
		return ErrNotStarted
	}
	c, err := ndconv.Coerce(v, s.dt, s.shape)
	if err != nil {
		return fmt.Errorf("tangoio: write %s/%s: %w", s.trl, s.attr, err)
	}
	if err := d.WriteAttribute(ctx, s.attr, c); err != nil {
		return fmt.Errorf("tangoio: write %s/%s: %w", s.trl, s.attr, err)
	}
	return nil
}

// Stop disconnects.
func (s *RemoteAttributeSink) Stop(context.Context) error {
	s.mu.Lock()
	d := s.dev
	s.dev = nil
	s.mu.Unlock()
	if d == nil {
		return nil
	}
	return d.Close()
}
