//go:build tango

package tangoio_test

import (
	"context"
	"log"

	"github.com/sdpkit/sdpkit/connector"
	"github.com/sdpkit/sdpkit/connector/tangoio"
)

// Serve a queue connector device, with the Tango sources and sinks
// available, as Tango device SDPQueueConnector (no database).
func Example() {
	ctx := context.Background()
	f := connector.DefaultFactories()
	tangoio.Register(f)
	dev := connector.NewDevice(connector.WithFactories(f))

	srv, err := tangoio.NewServer(ctx) // one per process
	if err != nil {
		log.Fatal(err)
	}
	b, err := tangoio.Serve(ctx, srv, dev)
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()
	log.Println("pytango: tango.DeviceProxy(" + srv.TRL() + ")")
	// A client's Configure, Start, … now reach dev; dev's attributes are
	// Tango attributes with change events.
}
