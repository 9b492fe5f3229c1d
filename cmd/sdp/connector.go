package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/sdpkit/sdpkit/connector/descriptor"
)

func newConnectorCmd(rc *rootConfig) *cobra.Command {
	c := &cobra.Command{
		Use:   "connector",
		Short: "Queue connector: run it; its JSON Schema, validation, flows",
		Long: `Works with queue connector descriptors (QueueConnectorDescriptor JSON, the
configuration of ska-sdp-lmc-queue-connector): prints their JSON Schema,
validates files, and derives a descriptor from SDP Flow entities.
docs/connector-descriptors.md describes every kind and field.`,
	}
	c.AddCommand(newConnectorSchemaCmd(), newConnectorValidateCmd(), newConnectorFlowsCmd(), newConnectorRunCmd(rc))
	return c
}

func descriptorOpts(upstream bool) []descriptor.Option {
	if upstream {
		return []descriptor.Option{descriptor.UpstreamOnly()}
	}
	return nil
}

func newConnectorSchemaCmd() *cobra.Command {
	var upstream bool
	c := &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema (draft 2020-12) of queue connector descriptors",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			_, err := c.OutOrStdout().Write(descriptor.Schema(descriptorOpts(upstream)...))
			return err
		},
	}
	c.Flags().BoolVar(&upstream, "upstream", false, "leave out the sdpkit extension kinds")
	return c
}

func newConnectorValidateCmd() *cobra.Command {
	var upstream bool
	c := &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check queue connector descriptors; exit status 1 if any is invalid",
		Long: `Checks each FILE ("-" reads standard input) as a queue connector descriptor
and prints "FILE: OK", or "FILE: invalid" followed by one line per problem
naming its JSON path. The exit status is 1 if any file is invalid or
unreadable.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			w := c.OutOrStdout()
			bad := 0
			for _, name := range args {
				data, err := readArg(c, name)
				if err != nil {
					fmt.Fprintf(w, "%s: unreadable: %v\n", name, err)
					bad++
					continue
				}
				_, err = descriptor.Parse(data, descriptorOpts(upstream)...)
				var de *descriptor.Error
				switch {
				case err == nil:
					fmt.Fprintf(w, "%s: OK\n", name)
				case errors.As(err, &de):
					fmt.Fprintf(w, "%s: invalid\n", name)
					for _, p := range de.Problems {
						fmt.Fprintf(w, "  %s\n", p)
					}
					bad++
				default:
					return err
				}
			}
			if bad > 0 {
				return fmt.Errorf("%d of %d descriptors invalid", bad, len(args))
			}
			return nil
		},
	}
	c.Flags().BoolVar(&upstream, "upstream", false, "reject the sdpkit extension kinds")
	return c
}

func newConnectorFlowsCmd() *cobra.Command {
	var pbID, device string
	c := &cobra.Command{
		Use:   "flows --pb PB_ID FILE...",
		Short: "Print the descriptor the connector derives from Flow entities (JSON files)",
		Long: `Reads Flow entities (one JSON object per FILE, "-" for standard input) and
prints, as canonical JSON, the descriptor the queue connector derives for
processing block PB_ID: one group of exchanges, one per flow with a
"ska-sdp-lmc-queue-connector:exchange" source. The mapping is inferred; see
docs/connector-descriptors.md.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			flows := make([][]byte, len(args))
			for i, name := range args {
				data, err := readArg(c, name)
				if err != nil {
					return err
				}
				flows[i] = data
			}
			var opts []descriptor.FlowOption
			if device != "" {
				opts = append(opts, descriptor.OwnDevice(device))
			}
			d, err := descriptor.FromFlowJSON(pbID, flows, opts...)
			if err != nil {
				return err
			}
			out, err := descriptor.Marshal(d)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(c.OutOrStdout(), "%s\n", out)
			return err
		},
	}
	c.Flags().StringVar(&pbID, "pb", "", "processing block whose flows to map (required)")
	c.Flags().StringVar(&device, "device", "", "the connector's own Tango device (default: any .../queueconnector/... device)")
	_ = c.MarkFlagRequired("pb")
	return c
}

// readArg reads a file argument; "-" is standard input.
func readArg(c *cobra.Command, name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(c.InOrStdin())
	}
	return os.ReadFile(name)
}
