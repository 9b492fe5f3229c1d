package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/twmb/franz-go/pkg/kfake"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"

	"github.com/sdpkit/sdpkit/config"
	"github.com/sdpkit/sdpkit/config/etcd"
	"github.com/sdpkit/sdpkit/connector"
	"github.com/sdpkit/sdpkit/connector/descriptor"
	"github.com/sdpkit/sdpkit/connector/kafkaio"
	"github.com/sdpkit/sdpkit/connector/telstateio"
	"github.com/sdpkit/sdpkit/connector/web"
	"github.com/sdpkit/sdpkit/dataqueue"
)

// The names sdp up gives what it writes into the stack.
const (
	upDevice        = "sdp/queueconnector/up" // the connector's own Tango device name
	upTopicPointing = "sdp-up-pointing"
	upTopicBandpass = "sdp-up-bandpass"
	upTopicWind     = "sdp-up-wind-speed"
	upTelstateKey   = "sdp_up_wind_speed"
	// upTelstatePath holds the descriptor of the second device, which writes
	// the wind speed stream into telstate (flows have no telstate sink).
	upTelstatePath = "/component/lmc-queueconnector-up-telstate/exchanges"
	upBandpassLen  = 64
)

// upOptions says what sdp up starts and where.
type upOptions struct {
	httpAddr    string // "" serves no page
	httpDefault bool   // httpAddr is the default: fall back to a free port if busy
	dataDir     string // etcd data; "" is a temporary directory removed at Close
	kafka       string // a real broker's bootstrap; "" starts kfake
	kafkaPort   int    // kfake's port; 0 is free
	redis       string // a real Redis URL; "" starts miniredis
	noSim       bool
	simRate     float64 // simulator records per second per topic
	date        time.Time
	webOpts     []web.Option // more options for the page (tests)
	log         *slog.Logger
}

// upStack is a running sdp up: every server, the devices and the simulator.
type upStack struct {
	EtcdURL     string   // http://127.0.0.1:port
	EtcdPort    string   // for SDP_CONFIG_PORT
	Brokers     []string // Kafka bootstrap
	DevBroker   bool     // Brokers is the in-process kfake
	RedisURL    string
	MemoryRedis bool // RedisURL is the in-process miniredis
	HTTPAddr    string
	HTTPMoved   string // the busy address given up for HTTPAddr
	PBID, EBID  string
	Flows       []config.FlowKey
	Started     time.Time

	Device   *connector.Device // driven by the flows: the page shows it
	TSDevice *connector.Device // the telstate exchange, driven by upTelstatePath
	Config   *config.Config

	log     *slog.Logger
	cancel  context.CancelFunc
	closers []func() // in start order; Close runs them backwards
	wg      sync.WaitGroup
	watchMu sync.Mutex
	errs    []error
}

// startUp starts the stack. On error everything already started is stopped.
func startUp(ctx context.Context, o upOptions) (s *upStack, err error) {
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	if o.simRate <= 0 {
		o.simRate = 4
	}
	if o.date.IsZero() {
		o.date = time.Now().UTC()
	}
	s = &upStack{log: o.log, Started: time.Now()}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	s.closers = append(s.closers, cancel)

	if err := s.startEtcd(o.dataDir); err != nil {
		return s, err
	}
	if err := s.startKafka(o.kafka, o.kafkaPort); err != nil {
		return s, err
	}
	if err := s.startRedis(o.redis); err != nil {
		return s, err
	}
	store, err := etcd.Open(ctx, []string{s.EtcdURL})
	if err != nil {
		return s, fmt.Errorf("sdp up: the embedded etcd at %s: %w", s.EtcdURL, err)
	}
	cfg, err := config.New(store)
	if err != nil {
		_ = store.Close()
		return s, err
	}
	s.Config = cfg
	s.closers = append(s.closers, func() { _ = cfg.Close() })

	// The topics exist before the consumers start, so that a consumer
	// starting at the latest offset never waits for metadata.
	adm, err := dataqueue.NewAdmin(s.Brokers)
	if err != nil {
		return s, err
	}
	err = adm.CreateTopics(ctx, dataqueue.Topic(upTopicPointing), dataqueue.Topic(upTopicBandpass), dataqueue.Topic(upTopicWind))
	adm.Close()
	if err != nil {
		return s, fmt.Errorf("sdp up: creating the topics on %s: %w", strings.Join(s.Brokers, ","), err)
	}

	if err := s.writeConfig(ctx, o.date); err != nil {
		return s, err
	}

	// Two devices: the flows' device (attributes on the page) and the
	// telstate device, configured by a descriptor in the config DB.
	stores := telstateio.NewStores()
	mk := func(name string) *connector.Device {
		f := connector.DefaultFactories()
		kafkaio.Register(f)
		telstateio.Register(f, stores)
		return connector.NewDevice(connector.WithFactories(f), connector.WithLogger(o.log.With("device", name)), connector.WithStopTimeout(10*time.Second))
	}
	s.Device = mk(upDevice)
	s.TSDevice = mk("telstate")
	s.closers = append(s.closers, func() { _ = stores.Close() }, func() {
		sctx, c := context.WithTimeout(context.Background(), 15*time.Second)
		defer c()
		for _, d := range []*connector.Device{s.Device, s.TSDevice} {
			if err := d.Shutdown(sctx); err != nil {
				s.log.Error("shutdown", "err", err)
			}
		}
	})

	if o.httpAddr != "" {
		wo := append([]web.Option{web.WithTitle("sdp up: " + upDevice)}, o.webOpts...)
		addr, stop, err := serveDevice(o.httpAddr, s.Device, wo...)
		if err != nil && o.httpDefault && isAddrInUse(err) {
			s.HTTPMoved = o.httpAddr
			host, _, _ := net.SplitHostPort(o.httpAddr)
			addr, stop, err = serveDevice(net.JoinHostPort(host, "0"), s.Device, wo...)
		}
		if err != nil {
			return s, fmt.Errorf("sdp up: serving the page on %s: %w", o.httpAddr, err)
		}
		s.HTTPAddr = addr
		s.closers = append(s.closers, stop)
	}

	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		s.watchDone(s.Device.WatchFlows(wctx, cfg, s.PBID, descriptor.OwnDevice(upDevice)))
	}()
	go func() {
		defer s.wg.Done()
		s.watchDone(s.TSDevice.WatchKey(wctx, cfg.DB(), upTelstatePath))
	}()
	// Close stops the watches before it shuts the devices down.
	s.closers = append(s.closers, func() { cancel(); s.wg.Wait() })

	if !o.noSim {
		sim, err := newSimulator(s.Brokers, o.simRate, o.log)
		if err != nil {
			return s, err
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := sim.run(wctx); err != nil {
				s.log.Error("simulator", "err", err)
			}
		}()
		s.closers = append(s.closers, func() { cancel(); s.wg.Wait(); sim.close() })
	}
	return s, nil
}

func (s *upStack) watchDone(err error) {
	if err != nil && !errors.Is(err, context.Canceled) {
		s.log.Error("configuration database watch", "err", err)
		s.watchMu.Lock()
		s.errs = append(s.errs, err)
		s.watchMu.Unlock()
	}
}

// Err returns the first error of a watch that ended by itself.
func (s *upStack) Err() error {
	s.watchMu.Lock()
	defer s.watchMu.Unlock()
	return errors.Join(s.errs...)
}

// Close stops the simulator, the watches, the page, the devices (draining
// their exchanges) and the servers, and removes temporary data.
func (s *upStack) Close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
}

// startEtcd runs an embedded single-member etcd on free loopback ports.
func (s *upStack) startEtcd(dataDir string) error {
	dir := dataDir
	if dir == "" {
		d, err := os.MkdirTemp("", "sdp-up-etcd-*")
		if err != nil {
			return err
		}
		dir = d
		s.closers = append(s.closers, func() { _ = os.RemoveAll(d) })
	}
	var lastErr error
	for range 5 { // a free port can be taken between choosing and binding
		e, u, err := startEmbeddedEtcd(dir, dataDir == "")
		if err == nil {
			s.closers = append(s.closers, e.Close)
			s.EtcdURL = u.String()
			s.EtcdPort = u.Port()
			return nil
		}
		lastErr = err
		if !isAddrInUse(err) {
			break
		}
	}
	return fmt.Errorf("sdp up: starting the embedded etcd (data in %s): %w", dir, lastErr)
}

func startEmbeddedEtcd(dir string, throwaway bool) (*embed.Etcd, url.URL, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, url.URL{}, err
	}
	cu := url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))}
	pu := url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1]))}
	cfg := embed.NewConfig()
	cfg.Name = "sdp-up"
	cfg.Dir = dir
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{cu}, []url.URL{cu}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{pu}, []url.URL{pu}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	cfg.UnsafeNoFsync = throwaway // a temporary directory is lost anyway
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, url.URL{}, err
	}
	select {
	case <-e.Server.ReadyNotify():
		return e, cu, nil
	case err := <-e.Err():
		e.Close()
		return nil, url.URL{}, err
	case <-time.After(60 * time.Second):
		e.Close()
		return nil, url.URL{}, errors.New("not ready within 60 s")
	}
}

// startKafka uses the broker at addr, or starts kfake on port (0: free).
func (s *upStack) startKafka(addr string, port int) error {
	if addr != "" {
		s.Brokers = strings.Split(addr, ",")
		return nil
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(port), kfake.AllowAutoTopicCreation())
	if err != nil {
		return fmt.Errorf("sdp up: starting the development Kafka broker on port %d: %w", port, err)
	}
	s.closers = append(s.closers, c.Close)
	s.Brokers = c.ListenAddrs()
	s.DevBroker = true
	return nil
}

// startRedis uses the Redis at u, or starts miniredis on a free port.
func (s *upStack) startRedis(u string) error {
	if u != "" {
		s.RedisURL = u
		return nil
	}
	m := miniredis.NewMiniRedis()
	if err := m.StartAddr("127.0.0.1:0"); err != nil {
		return fmt.Errorf("sdp up: starting the in-memory Redis: %w", err)
	}
	s.closers = append(s.closers, m.Close)
	s.RedisURL = "redis://" + m.Addr() + "/0"
	s.MemoryRedis = true
	return nil
}

func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func isAddrInUse(err error) bool {
	return err != nil && strings.Contains(err.Error(), "address already in use")
}
