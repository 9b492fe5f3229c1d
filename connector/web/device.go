package web

import (
	"context"
	"errors"
	"net/http"

	"github.com/sdpkit/sdpkit/connector"
	"github.com/sdpkit/sdpkit/connector/attribute"
	"github.com/sdpkit/sdpkit/connector/descriptor"
)

// ForDevice adapts a *connector.Device to the Device the handler serves.
// Use it with DeviceErrorStatus, which maps the device's errors to HTTP
// statuses:
//
//	h := web.NewHandler(web.ForDevice(d), web.WithErrorStatus(web.DeviceErrorStatus))
func ForDevice(d *connector.Device) Device { return device{d} }

type device struct{ d *connector.Device }

func (x device) State() string                { return x.d.State().String() }
func (x device) Status() string               { return x.d.Status() }
func (x device) Attributes() *attribute.Store { return x.d.Attributes() }

func (x device) Command(ctx context.Context, name, arg string) error {
	return x.d.Command(ctx, name, arg)
}

func (x device) Exchanges() []ExchangeInfo {
	in := x.d.Exchanges()
	out := make([]ExchangeInfo, len(in))
	for i, e := range in {
		out[i] = ExchangeInfo{Group: e.Group, Name: e.Name, Stats: e.Stats}
	}
	return out
}

// Events relays the device's state events. The device already keeps only
// the latest pending change per reader, and so does this relay: if the
// handler is slow, a newer event replaces the one waiting.
func (x device) Events(ctx context.Context) <-chan StateEvent {
	in := x.d.Events(ctx)
	out := make(chan StateEvent, 1)
	go func() {
		defer close(out)
		for e := range in {
			ev := StateEvent{State: e.State.String(), Status: e.Status, Time: e.Time}
			select {
			case out <- ev:
			default:
				select { // replace the stale pending event
				case <-out:
				default:
				}
				out <- ev
			}
		}
	}()
	return out
}

// DeviceErrorStatus maps the errors of a *connector.Device's commands to
// HTTP statuses: 409 for a command not allowed in the current state, 404
// for an unknown command or group, 400 for a bad configuration (a
// descriptor that does not parse, or one that does not build), and the
// handler's default mapping otherwise.
func DeviceErrorStatus(err error) int {
	var build *connector.BuildError
	var avail *connector.NotAvailableError
	switch {
	case errors.Is(err, connector.ErrNotAllowed):
		return http.StatusConflict
	case errors.Is(err, connector.ErrUnknownCommand), errors.Is(err, connector.ErrUnknownGroup):
		return http.StatusNotFound
	case errors.Is(err, descriptor.ErrInvalid), errors.As(err, &build), errors.As(err, &avail):
		return http.StatusBadRequest
	}
	return CommandStatus(err)
}
