//go:build !tango

package main

import (
	"context"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/sdpkit/sdpkit/connector"
)

// tangoFlags is empty without the tango build tag: no Tango flags, the
// Tango kinds stay NotAvailable and no device is served.
type tangoFlags struct{}

func addTangoFlags(*cobra.Command, *tangoFlags) {}

func registerTango(*connector.Factories) {}

func serveTango(context.Context, tangoFlags, string, *connector.Device, *slog.Logger) (func(), error) {
	return func() {}, nil
}
