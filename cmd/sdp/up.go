package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

const upDefaultHTTP = "127.0.0.1:8080"

func newUpCmd() *cobra.Command {
	var (
		o         upOptions
		logFormat string
		verbose   bool
	)
	c := &cobra.Command{
		Use:   "up",
		Short: "Run a whole development SDP data layer in one process: config DB, Kafka, telstate, queue connector, simulator",
		Long: `Runs an all-in-one development stack in this process, with nothing to
install:

  - an embedded etcd as the configuration database (data in a temporary
    directory, or --data-dir to keep it);
  - a development Kafka broker (franz-go's kfake: in memory, NOT durable),
    unless --kafka names a real broker;
  - telescope state in an in-memory Redis (miniredis), unless --redis names
    a real one;
  - a queue connector device driven by the Flow entities of a processing
    block that sdp up writes into the configuration database (edit them with
    "sdp config" and the device reconfigures), serving its web page, JSON API
    and /metrics on --http;
  - a second connector device, configured by a descriptor in the
    configuration database, writing the wind speed stream into telstate;
  - a simulator publishing a pointing table, a bandpass and a wind speed to
    Kafka (unless --no-sim).

It prints where everything runs and the environment lines for the other
sdp commands, then runs until Ctrl-C or SIGTERM, when it drains the
exchanges, stops the servers and removes its temporary data.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			o.httpDefault = !c.Flags().Changed("http")
			var h slog.Handler
			lvl := slog.LevelWarn
			if verbose {
				lvl = slog.LevelInfo
			}
			switch logFormat {
			case "text":
				h = slog.NewTextHandler(c.ErrOrStderr(), &slog.HandlerOptions{Level: lvl})
			case "json":
				h = slog.NewJSONHandler(c.ErrOrStderr(), &slog.HandlerOptions{Level: lvl})
			default:
				return usageError{fmt.Errorf("--log-format %q: want text or json", logFormat)}
			}
			o.log = slog.New(h)
			return runUp(c.Context(), c.OutOrStdout(), o)
		},
	}
	f := c.Flags()
	f.StringVar(&o.httpAddr, "http", upDefaultHTTP, "address of the web page, API and /metrics (the default falls back to a free port when busy)")
	f.StringVar(&o.dataDir, "data-dir", "", "keep the configuration database in this directory (default: a temporary one, removed on exit)")
	f.StringVar(&o.kafka, "kafka", "", "use this Kafka broker (host:port[,host:port…]) instead of the in-process development broker")
	f.IntVar(&o.kafkaPort, "kafka-port", 0, "port of the development broker (default: a free one)")
	f.StringVar(&o.redis, "redis", "", "use this Redis (redis://host:port/db) for telstate instead of the in-memory one")
	f.BoolVar(&o.noSim, "no-sim", false, "do not run the simulator")
	f.Float64Var(&o.simRate, "sim-rate", 4, "simulator updates per second")
	f.StringVar(&logFormat, "log-format", "text", "log format on stderr: text or json")
	f.BoolVarP(&verbose, "verbose", "v", false, "log the devices' state changes (Info), not only warnings")
	return c
}

// runUp starts the stack, prints it, and runs until ctx ends.
func runUp(ctx context.Context, out io.Writer, o upOptions) error {
	s, err := startUp(ctx, o)
	if err != nil {
		return err
	}
	printUp(out, s)
	first := make(chan time.Duration, 1)
	go func() { first <- s.waitFirstValue(ctx, "pointing") }()
	select {
	case d := <-first:
		if d > 0 {
			fmt.Fprintf(out, "data flowing: first pointing value on the page %.1f s after start\n", d.Seconds())
		}
	case <-ctx.Done():
	}
	<-ctx.Done()
	fmt.Fprintln(out, "stopping: draining the exchanges")
	s.Close()
	for _, x := range append(s.Device.Exchanges(), s.TSDevice.Exchanges()...) {
		fmt.Fprintf(out, "exchange %s %s: in=%d processed=%d out=%d errors=%d state=%s\n",
			x.Group, x.Name, x.Stats.In, x.Stats.Processed, x.Stats.Out, x.Stats.Errors, x.Stats.State)
	}
	fmt.Fprintln(out, "stopped")
	return s.Err()
}

// waitFirstValue returns how long after the start the attribute got its
// first value, or 0 if ctx ended first.
func (s *upStack) waitFirstValue(ctx context.Context, attr string) time.Duration {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		if r, err := s.Device.Attributes().Get(attr); err == nil && r.Reading.Value != nil {
			return time.Since(s.Started)
		}
		select {
		case <-ctx.Done():
			return 0
		case <-t.C:
		}
	}
}

// printUp says what runs where, and how to reach it.
func printUp(out io.Writer, s *upStack) {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	p := func(k, v string) { fmt.Fprintf(w, "  %s\t%s\n", k, v) }
	fmt.Fprintln(w, "sdp up: a development SDP data layer in one process")
	if s.HTTPAddr != "" {
		if s.HTTPMoved != "" {
			fmt.Fprintf(w, "  (%s is busy: serving on a free port instead)\n", s.HTTPMoved)
		}
		p("web page", "http://"+s.HTTPAddr+"/")
		p("API", "http://"+s.HTTPAddr+"/api/attributes")
		p("metrics", "http://"+s.HTTPAddr+"/metrics")
	}
	p("config DB", "etcd (embedded) "+s.EtcdURL)
	kafka := strings.Join(s.Brokers, ",")
	if s.DevBroker {
		p("Kafka", kafka+"  (development broker: not durable)")
	} else {
		p("Kafka", kafka)
	}
	if s.MemoryRedis {
		p("telstate", s.RedisURL+"  (in-memory Redis: lost on exit)")
	} else {
		p("telstate", s.RedisURL)
	}
	p("connector", upDevice+": processing block "+s.PBID+", "+fmt.Sprint(len(s.Flows))+" flows")
	p("telstate exchange", "descriptor at "+upTelstatePath+" → key "+upTelstateKey)
	_ = w.Flush()
	fmt.Fprintf(out, `
In another shell:
  export SDP_CONFIG_HOST=127.0.0.1 SDP_CONFIG_PORT=%s
  export SDP_KAFKA_BROKERS=%s
  sdp config ls -R /
  sdp queue consume %s --encoding msgpack_numpy -n 3
  sdp telstate --db %s keys
  sdp telstate --db %s range %s
(sdp is "go run ./cmd/sdp" in a checkout.) Ctrl-C stops everything.
`, s.EtcdPort, kafka, upTopicPointing, s.RedisURL, s.RedisURL, upTelstateKey)
}
