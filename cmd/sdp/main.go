// Command sdp is sdpkit's one binary: the telescope state, configuration
// database, data queues and queue connector of the SDP, from the command
// line.
//
//	sdp up                       the whole data layer in one process (docs/sdp-up.md)
//	sdp demo                     a tour of the telescope state
//	sdp telstate --db FILE ...   query and edit telescope state
//	sdp config ...               query and edit the configuration database
//	sdp connector validate FILE  check queue connector descriptors
//	sdp queue ...                send, read and manage data queues (Kafka)
//	sdp connector run ...        run the queue connector device
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/sdpkit/sdpkit/config/kv"
)

func main() {
	// SIGTERM too: "sdp connector run" drains its exchanges on either.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCmd(os.Stdout, os.Stderr).ExecuteContext(ctx)
	stop()
	if err != nil {
		var re reportedError
		if !errors.As(err, &re) {
			fmt.Fprintf(os.Stderr, "sdp: %v\n", err)
		}
	}
	os.Exit(exitCode(err))
}

// exitCode is the exit status for the error a command returned: 0 for
// none, 2 for unknown commands and bad arguments, 1 for other failures.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var re reportedError
	var ue usageError
	if errors.As(err, &ue) || !errors.As(err, &re) {
		return 2
	}
	return 1
}

// rootConfig is what the commands take from their environment; tests
// replace it.
type rootConfig struct {
	getenv func(string) string
	// memory, if set, is the store of the memory config backend, shared
	// by every run (otherwise each run starts empty).
	memory kv.KV
}

// rootOption configures newRootCmd.
type rootOption func(*rootConfig)

// withEnv makes the commands read environment variables from env.
func withEnv(env func(string) string) rootOption { return func(c *rootConfig) { c.getenv = env } }

// withMemoryStore sets the store of the memory config backend.
func withMemoryStore(s kv.KV) rootOption { return func(c *rootConfig) { c.memory = s } }

// usageError marks errors in how the command was called (exit status 2).
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// reportedError marks errors already printed to stderr.
type reportedError struct{ error }

func (e reportedError) Unwrap() error { return e.error }

func newRootCmd(stdout, stderr io.Writer, opts ...rootOption) *cobra.Command {
	rc := &rootConfig{getenv: os.Getenv}
	for _, o := range opts {
		o(rc)
	}
	root := &cobra.Command{
		Use:           "sdp",
		Short:         "sdpkit: the data layer of the radio-telescope Science Data Processor",
		Long:          "sdp works with the SDP's telescope state (katsdptelstate-compatible), in memory, in RDB files and, later, in Redis.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		fmt.Fprintf(stderr, "%s: %v\n%s", c.CommandPath(), err, c.UsageString())
		return reportedError{usageError{err}}
	})
	root.AddCommand(newTelstateCmd(), newDemoCmd(), newBenchCmd(), newConfigCmd(rc), newConnectorCmd(rc), newQueueCmd(), newUpCmd())
	wrapErrors(root, stderr)
	return root
}

// wrapErrors prints errors once, prefixed with the command path, since
// cobra's own printing is silenced.
func wrapErrors(c *cobra.Command, stderr io.Writer) {
	for _, sub := range c.Commands() {
		wrapErrors(sub, stderr)
	}
	if c.RunE == nil {
		return
	}
	run := c.RunE
	c.RunE = func(cmd *cobra.Command, args []string) error {
		err := run(cmd, args)
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", cmd.CommandPath(), err)
			return reportedError{err}
		}
		return nil
	}
	if c.Args != nil {
		check := c.Args
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := check(cmd, args); err != nil {
				fmt.Fprintf(stderr, "%s: %v\n%s", cmd.CommandPath(), err, cmd.UsageString())
				return reportedError{usageError{err}}
			}
			return nil
		}
	}
}
