//go:build tango

package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/sdpkit/sdpkit/connector"
	"github.com/sdpkit/sdpkit/connector/tangoio"
	"github.com/sdpkit/sdpkit/tango"
)

// tangoFlags are the Tango options of sdp connector run (builds with the
// tango tag).
type tangoFlags struct {
	port int
}

func addTangoFlags(c *cobra.Command, f *tangoFlags) {
	fl := c.Flags()
	fl.IntVar(&f.port, "tango-port", 0, "serve the device as Tango device SDPQueueConnector (no database) on this port; its name is --device, default sdp/queueconnector/1")
}

// registerTango adds the Tango sources and sinks.
func registerTango(f *connector.Factories) { tangoio.Register(f) }

// serveTango serves d over Tango when --tango-port is given; stop ends it.
func serveTango(ctx context.Context, f tangoFlags, device string, d *connector.Device, log *slog.Logger) (stop func(), err error) {
	if f.port == 0 {
		return func() {}, nil
	}
	opts := []tango.ServerOption{tango.WithEndpoint("0.0.0.0", f.port)}
	if device != "" {
		opts = append(opts, tango.WithDevice(device))
	}
	srv, err := tangoio.NewServer(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("--tango-port: %w", err)
	}
	b, err := tangoio.Serve(ctx, srv, d, tangoio.WithLogger(log))
	if err != nil {
		_ = srv.Close()
		return nil, fmt.Errorf("--tango-port: %w", err)
	}
	log.Info("serving the Tango device", "trl", srv.TRL())
	return func() {
		if err := b.Close(); err != nil {
			log.Warn("tango bridge close", "err", err)
		}
		if err := srv.Close(); err != nil {
			log.Warn("tango server close", "err", err)
		}
	}, nil
}
