package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/sdpkit/sdpkit/connector"
	"github.com/sdpkit/sdpkit/connector/descriptor"
	"github.com/sdpkit/sdpkit/connector/kafkaio"
	"github.com/sdpkit/sdpkit/connector/telstateio"
	"github.com/sdpkit/sdpkit/connector/web"
)

type runFlags struct {
	file, json, dbPath, pb, subarray, device string
	httpAddr, logFormat                      string
	stopTimeout                              time.Duration
	kafkaResume                              bool
	db                                       *configOpts // how to reach the configuration database
	tango                                    tangoFlags
}

func newConnectorRunCmd(rc *rootConfig) *cobra.Command {
	f := runFlags{db: &configOpts{env: rc}}
	c := &cobra.Command{
		Use:   "run (--config FILE | --config-json JSON | --config-db PATH | --pb PB_ID)",
		Short: "Run the queue connector device until SIGTERM or SIGINT",
		Long: `Runs the queue connector: configures the device and starts its exchanges,
then keeps them running until SIGTERM or SIGINT, when it stops them —
draining every value already accepted into the sinks — and exits 0.

The configuration comes from exactly one of:
  --config FILE        a descriptor file
  --config-json JSON   a descriptor given inline
  --config-db PATH     a descriptor stored at PATH in the SDP configuration
                       database, watched: every change reconfigures the
                       device, a deleted key leaves it in STANDBY. "{}" in
                       PATH is replaced by --subarray.
  --pb PB_ID           the Flow entities of processing block PB_ID in the
                       configuration database, watched.

The database is reached as sdp config reaches it: --endpoints, --host,
--port, --protocol, --cert, --username, --password, --backend and --prefix,
else ska-sdp's environment variables (SDP_CONFIG_HOST, SDP_CONFIG_PORT, …;
default 127.0.0.1:2379). --etcd is an older spelling of --endpoints.
A bad configuration does not stop the process: the device goes to FAULT,
and the error is logged (and shown by the metrics' state).
--http ADDR serves the operator page and JSON API at / and Prometheus
metrics at /metrics (docs/connector-web.md).
On exit it prints one line per stopped exchange with its counters.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error { return runConnector(c, f) },
	}
	fl := c.Flags()
	fl.StringVar(&f.file, "config", "", "descriptor file")
	fl.StringVar(&f.json, "config-json", "", "descriptor JSON")
	fl.StringVar(&f.dbPath, "config-db", "", "configuration database key holding the descriptor (\"{}\" = subarray)")
	fl.StringVar(&f.pb, "pb", "", "processing block whose flows configure the device")
	fl.StringVar(&f.subarray, "subarray", "", "subarray id substituted for \"{}\" in --config-db")
	fl.StringVar(&f.device, "device", "", "the connector's own Tango device name, for flows (default: any .../queueconnector/... device)")
	fl.StringVar(&f.httpAddr, "http", "", "address to serve the web page, API and /metrics on (e.g. 127.0.0.1:8080)")
	f.db.addConnFlags(fl)
	fl.StringVar(&f.db.endpoints, "etcd", "", "the same as --endpoints")
	fl.DurationVar(&f.db.timeout, "db-timeout", 10*time.Second, "give up connecting to the configuration database after this long")
	fl.StringVar(&f.logFormat, "log-format", "text", "log format on stderr: text or json")
	fl.BoolVar(&f.kafkaResume, "kafka-resume", false, "on reconfiguration, start each Kafka source where its predecessor stopped instead of at the latest offset (no record produced during the reconfiguration is skipped; in memory: not across restarts)")
	fl.DurationVar(&f.stopTimeout, "stop-timeout", 30*time.Second, "how long a stop may drain before the exchanges are aborted")
	addTangoFlags(c, &f.tango) // --tango-port in builds with the tango tag
	return c
}

func runConnector(c *cobra.Command, f runFlags) error {
	n := 0
	for _, s := range []string{f.file, f.json, f.dbPath, f.pb} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		return usageError{errors.New("give exactly one of --config, --config-json, --config-db and --pb")}
	}
	var handler slog.Handler
	switch f.logFormat {
	case "text":
		handler = slog.NewTextHandler(c.ErrOrStderr(), nil)
	case "json":
		handler = slog.NewJSONHandler(c.ErrOrStderr(), nil)
	default:
		return usageError{fmt.Errorf("--log-format %q: want text or json", f.logFormat)}
	}
	log := slog.New(handler)
	ctx := c.Context() // cancelled by SIGTERM and SIGINT (main)
	out := c.OutOrStdout()
	var outMu sync.Mutex
	factories := connector.DefaultFactories()
	var kopts []kafkaio.Option
	if f.kafkaResume {
		kopts = append(kopts, kafkaio.WithResume(kafkaio.NewPositions()))
	}
	kafkaio.Register(factories, kopts...)
	stores := telstateio.NewStores()
	defer stores.Close() // runs after d.Shutdown below has stopped every exchange
	telstateio.Register(factories, stores)
	registerTango(factories) // the Tango kinds, in builds with the tango tag
	d := connector.NewDevice(
		connector.WithFactories(factories),
		connector.WithLogger(log),
		connector.WithStopTimeout(f.stopTimeout),
		connector.WithStopped(func(x connector.ExchangeInfo) {
			outMu.Lock()
			defer outMu.Unlock()
			fmt.Fprintf(out, "exchange %s %s: in=%d processed=%d out=%d errors=%d state=%s\n",
				x.Group, x.Name, x.Stats.In, x.Stats.Processed, x.Stats.Out, x.Stats.Errors, x.Stats.State)
		}),
	)

	if f.httpAddr != "" {
		addr, stop, err := serveDevice(f.httpAddr, d)
		if err != nil {
			return err
		}
		defer stop()
		log.Info("serving the device", "addr", addr, "page", "http://"+addr+"/", "metrics", "http://"+addr+"/metrics")
	}

	stopTango, err := serveTango(ctx, f.tango, f.device, d, log)
	if err != nil {
		return err
	}
	defer stopTango()

	var watchDone chan error // nil: no watch
	switch {
	case f.file != "" || f.json != "":
		data := []byte(f.json)
		if f.file != "" {
			var err error
			if data, err = readArg(c, f.file); err != nil {
				return err
			}
		}
		if err := d.Apply(ctx, data); err != nil {
			log.Error("configuration failed; the device is in FAULT", "err", err)
		}
	default:
		cfg, err := f.db.open(ctx)
		if err != nil {
			return fmt.Errorf("configuration database: %w", err)
		}
		defer cfg.Close()
		watchDone = make(chan error, 1)
		go func() {
			if f.pb != "" {
				var opts []descriptor.FlowOption
				if f.device != "" {
					opts = append(opts, descriptor.OwnDevice(f.device))
				}
				watchDone <- d.WatchFlows(ctx, cfg, f.pb, opts...)
				return
			}
			path := connector.TemplatePath(f.dbPath, f.subarray)
			log.Info("watching the configuration database", "path", path)
			watchDone <- d.WatchKey(ctx, cfg.DB(), cfg.Path(path))
		}()
	}

	var werr error
	select {
	case <-ctx.Done():
		if watchDone != nil {
			werr = <-watchDone
		}
	case werr = <-watchDone: // the watch could not run
	}
	log.Info("shutting down: draining the exchanges")
	err = d.Shutdown(context.Background())
	if err != nil {
		log.Error("shutdown", "err", err)
	}
	outMu.Lock()
	defer outMu.Unlock()
	fmt.Fprintf(out, "state %s\n", d.State())
	if werr != nil {
		return fmt.Errorf("configuration database watch: %w", werr)
	}
	return nil
}

// serveDevice serves d on addr: the operator page and JSON API of
// connector/web at /, and Prometheus metrics at /metrics. It returns the
// address it listens on and a function that stops the server, ending open
// event streams first.
func serveDevice(addr string, d *connector.Device, opts ...web.Option) (string, func(), error) {
	reg := prometheus.NewRegistry()
	if err := connector.RegisterMetrics(reg, d); err != nil {
		return "", nil, err
	}
	h := web.NewHandler(web.ForDevice(d), append([]web.Option{web.WithErrorStatus(web.DeviceErrorStatus)}, opts...)...)
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.Handle("/", h)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	srv.RegisterOnShutdown(h.Close)
	go func() { _ = srv.Serve(ln) }()
	return ln.Addr().String(), func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}, nil
}
