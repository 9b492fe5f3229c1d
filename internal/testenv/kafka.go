package testenv

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// KafkaVersion is the Apache Kafka release that scripts/kafka/pom.xml pins;
// a test checks that the two agree.
const KafkaVersion = "4.1.1"

// KafkaLibsEnv names the directory of Kafka jars, overriding the default
// ${XDG_CACHE_HOME:-$HOME/.cache}/sdpkit/kafka-<KafkaVersion>/libs that
// scripts/kafka.sh fills.
const KafkaLibsEnv = "SDP_KAFKA_LIBS"

const (
	// A JVM on a 2-CPU machine shared with other test binaries can take a
	// while to come up; a real failure shows in the log long before this.
	kafkaStartTimeout = 120 * time.Second
	// Controlled shutdown of a combined broker+controller takes a few
	// seconds; killing it instead would still keep acknowledged data (the
	// page cache survives the process) but loses the clean-shutdown marker.
	kafkaStopTimeout = 30 * time.Second
)

// KafkaBroker is what a test needs of a Kafka broker, real or fake: the
// bootstrap addresses (host:port) for a client.
type KafkaBroker interface {
	Brokers() []string
}

// KafkaServer is a single-node Apache Kafka broker (KRaft, combined broker
// and controller) running as a JVM child process with its own directory.
type KafkaServer struct {
	serverProc
	java, libs, log4j string
	dir               string // server.properties, kafka.log, data/
	cfg               kafkaConfig
	clusterID         string
	brokerPort        int
	controllerPort    int
	formatted         bool
}

type kafkaConfig struct {
	props map[string]string
	jvm   []string
}

// KafkaOption configures Kafka.
type KafkaOption func(*kafkaConfig)

// WithKafkaConfig sets one broker property (server.properties), overriding
// the test defaults, e.g. WithKafkaConfig("message.max.bytes", "10485760").
func WithKafkaConfig(key, value string) KafkaOption {
	return func(c *kafkaConfig) { c.props[key] = value }
}

// WithKafkaAutoCreateTopics lets the broker create topics that clients ask
// for (auto.create.topics.enable=true); off by default, as in SDP, where
// topics are created explicitly.
func WithKafkaAutoCreateTopics() KafkaOption {
	return WithKafkaConfig("auto.create.topics.enable", "true")
}

// WithKafkaJVMArgs adds JVM options after the defaults (a later -Xmx wins),
// e.g. WithKafkaJVMArgs("-Xmx1g").
func WithKafkaJVMArgs(args ...string) KafkaOption {
	return func(c *kafkaConfig) { c.jvm = append(c.jvm, args...) }
}

// kafkaDefaults are the broker properties for fast, single-node tests.
// message.max.bytes keeps Kafka's default (1 MiB), as in production; a test
// of bigger records starts its own broker with WithKafkaConfig.
func kafkaDefaults() map[string]string {
	return map[string]string{
		"num.partitions":                                   "1",
		"default.replication.factor":                       "1",
		"min.insync.replicas":                              "1",
		"offsets.topic.replication.factor":                 "1",
		"offsets.topic.num.partitions":                     "1",
		"transaction.state.log.replication.factor":         "1",
		"transaction.state.log.min.isr":                    "1",
		"transaction.state.log.num.partitions":             "1",
		"share.coordinator.state.topic.replication.factor": "1",
		"share.coordinator.state.topic.min.isr":            "1",
		"group.initial.rebalance.delay.ms":                 "0",
		"auto.create.topics.enable":                        "false",
		"delete.topic.enable":                              "true",
		// Small segments and indexes: a run makes many short-lived topics,
		// and each preallocates its index files.
		"log.segment.bytes":        strconv.Itoa(16 << 20),
		"log.index.size.max.bytes": strconv.Itoa(1 << 20),
		// No retention sweeps while tests run.
		"log.retention.check.interval.ms": "600000",
	}
}

// kafkaJVMDefaults keep one test broker small and quick to start: the
// serial collector and a small heap suit a 2-CPU machine shared with other
// tests, and the client compiler alone (TieredStopAtLevel=1) halves the
// start-up time at some cost in peak throughput. A benchmark that wants the
// full JIT passes WithKafkaJVMArgs("-XX:TieredStopAtLevel=4").
var kafkaJVMDefaults = []string{
	"-Xms128m", "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
	"-Djava.awt.headless=true", "-XX:-UsePerfData",
}

// KafkaLibs returns the directory of Apache Kafka jars ($SDP_KAFKA_LIBS, or
// the cache directory scripts/kafka.sh fills). Without it the test is
// skipped, or fails when SDP_REQUIRE_PEERS=1.
func KafkaLibs(t testing.TB) string {
	t.Helper()
	libs, err := kafkaLibsDir()
	if err != nil {
		missingPeer(t, err.Error()+": run scripts/kafka.sh or `make deps`")
	}
	return libs
}

func kafkaLibsDir() (string, error) {
	libs := os.Getenv(KafkaLibsEnv)
	if libs == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("Kafka jars: no cache directory: %w", err)
		}
		libs = filepath.Join(cache, "sdpkit", "kafka-"+KafkaVersion, "libs")
	}
	jars, _ := filepath.Glob(filepath.Join(libs, "kafka_2.13-*.jar"))
	if len(jars) == 0 {
		return "", fmt.Errorf("Kafka jars not found in %s", libs)
	}
	return libs, nil
}

// missingPeer skips the test, or fails it when SDP_REQUIRE_PEERS=1.
func missingPeer(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv(RequirePeersEnv) == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// Java returns the path of the java launcher ($JAVA_HOME/bin/java, else
// java on PATH); without it the test is skipped, or fails when
// SDP_REQUIRE_PEERS=1.
func Java(t testing.TB) string {
	t.Helper()
	java, err := findJava()
	if err != nil {
		missingPeer(t, err.Error()+": run `make deps` or apt-get install default-jre-headless")
	}
	return java
}

func findJava() (string, error) {
	if home := os.Getenv("JAVA_HOME"); home != "" {
		p := filepath.Join(home, "bin", "java")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return exec.LookPath("java")
}

// Kcat returns the path of kcat (Debian's package kcat; older releases
// call it kafkacat); without it the test is skipped, or fails when
// SDP_REQUIRE_PEERS=1.
func Kcat(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"kcat", "kafkacat"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	missingPeer(t, "kcat not found: run `make deps` or apt-get install kcat")
	return ""
}

// Kafka starts a Kafka broker for the test alone, with a temporary
// directory, waits until it answers metadata requests, and stops it when
// the test ends. Prefer SharedKafka unless the test restarts or
// reconfigures the broker: each start costs seconds of JVM start-up.
func Kafka(t testing.TB, opts ...KafkaOption) *KafkaServer {
	t.Helper()
	libs := KafkaLibs(t)
	java := Java(t)
	s, err := newKafka(java, libs, t.TempDir(), opts...)
	if s != nil {
		t.Cleanup(func() { _ = s.Stop() })
	}
	if err != nil {
		t.Fatalf("testenv: starting Kafka: %v", err)
	}
	return s
}

// newKafka formats a data directory in dir and starts a broker on it; on a
// port clash it tries other ports. The returned server (nil only when
// nothing was started) must be stopped even with an error.
func newKafka(java, libs, dir string, opts ...KafkaOption) (*KafkaServer, error) {
	s := &KafkaServer{
		java: java, libs: libs, dir: dir,
		cfg:       kafkaConfig{props: kafkaDefaults()},
		clusterID: newClusterID(),
	}
	s.serverProc = serverProc{name: "kafka", logPath: s.LogPath(), tailBytes: 6000, poll: 100 * time.Millisecond}
	if root, ok := moduleRoot(); ok {
		if p := filepath.Join(root, "scripts", "kafka", "log4j2.xml"); fileExists(p) {
			s.log4j = p
		}
	}
	for _, o := range opts {
		o(&s.cfg)
	}
	err := startOnFreePorts(2, func(ports []int) error {
		s.brokerPort, s.controllerPort = ports[0], ports[1]
		// The static quorum (controller.quorum.voters) keeps no port in
		// the formatted directory, so a retry on new ports reuses it.
		if err := s.writeProperties(); err != nil {
			return err
		}
		if !s.formatted {
			if err := s.format(); err != nil {
				return err
			}
			s.formatted = true
		}
		return s.start()
	})
	return s, err
}

// newClusterID makes a KRaft cluster ID: 16 random bytes, base64url without
// padding, like `kafka-storage random-uuid`.
func newClusterID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// Brokers returns the bootstrap address, for kgo.SeedBrokers.
func (s *KafkaServer) Brokers() []string { return []string{s.Addr()} }

// Addr returns the broker listener's host:port.
func (s *KafkaServer) Addr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.brokerPort))
}

// Dir returns the server's directory (server.properties, kafka.log, data/).
func (s *KafkaServer) Dir() string { return s.dir }

// DataDir returns the broker's log directory (log.dirs).
func (s *KafkaServer) DataDir() string { return filepath.Join(s.dir, "data") }

// LogPath returns the file that receives the JVM's output (warnings and
// errors with scripts/kafka/log4j2.xml).
func (s *KafkaServer) LogPath() string { return filepath.Join(s.dir, "kafka.log") }

// Libs returns the directory of Kafka jars the server runs from, for tests
// that run Kafka's own tools against it.
func (s *KafkaServer) Libs() string { return s.libs }

func (s *KafkaServer) propertiesPath() string { return filepath.Join(s.dir, "server.properties") }

func (s *KafkaServer) writeProperties() error {
	ctrl := net.JoinHostPort("127.0.0.1", strconv.Itoa(s.controllerPort))
	props := map[string]string{
		"process.roles":                  "broker,controller",
		"node.id":                        "1",
		"controller.quorum.voters":       "1@" + ctrl,
		"listeners":                      "PLAINTEXT://" + s.Addr() + ",CONTROLLER://" + ctrl,
		"advertised.listeners":           "PLAINTEXT://" + s.Addr(),
		"controller.listener.names":      "CONTROLLER",
		"inter.broker.listener.name":     "PLAINTEXT",
		"listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
		"log.dirs":                       s.DataDir(),
		"metadata.log.dir":               s.DataDir(),
	}
	for k, v := range s.cfg.props {
		if _, fixed := props[k]; !fixed {
			props[k] = v
		}
	}
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString("# Written by internal/testenv for one test broker.\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, props[k])
	}
	return os.WriteFile(s.propertiesPath(), []byte(b.String()), 0o644)
}

// jvmArgs returns the java command line before the main class.
func (s *KafkaServer) jvmArgs() []string {
	args := slices.Clone(kafkaJVMDefaults)
	if s.log4j != "" {
		args = append(args, "-Dlog4j2.configurationFile="+s.log4j)
	}
	args = append(args, s.cfg.jvm...)
	return append(args, "-cp", filepath.Join(s.libs, "*"))
}

// format runs Kafka's storage tool (what `kafka-storage.sh format` runs) on
// the data directory.
func (s *KafkaServer) format() error {
	args := append(s.jvmArgs(), "kafka.tools.StorageTool", "format",
		"--cluster-id", s.clusterID, "--config", s.propertiesPath(), "--ignore-formatted")
	cmd := exec.Command(s.java, args...)
	cmd.Dir = s.dir
	dieWithParent(cmd)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("formatting %s: %w; output:\n%s", s.DataDir(), err, out)
	}
	return nil
}

func (s *KafkaServer) start() error {
	logf, err := os.OpenFile(s.LogPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	args := append(s.jvmArgs(), "kafka.Kafka", s.propertiesPath())
	cmd := exec.Command(s.java, args...)
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = logf, logf
	dieWithParent(cmd)
	err = s.launch(cmd)
	logf.Close() // the child has its own descriptor
	if err != nil {
		return err
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(s.Addr()), kgo.DialTimeout(time.Second),
		kgo.RequestRetries(0), kgo.RetryTimeout(time.Second))
	if err != nil {
		_ = s.Stop()
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	return s.waitReady(kafkaStartTimeout, func() error { return kafkaReady(adm) }, s.Stop)
}

// kafkaReady reports whether the broker answers a metadata request, is
// registered, and leads every partition it has (after a restart the
// partitions come back one by one).
func kafkaReady(adm *kadm.Client) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	md, err := adm.Metadata(ctx)
	if err != nil {
		return err
	}
	if len(md.Brokers) == 0 {
		return errors.New("no broker registered yet")
	}
	for _, td := range md.Topics {
		if td.Err != nil {
			return fmt.Errorf("topic %s: %w", td.Topic, td.Err)
		}
		for _, pd := range td.Partitions {
			if pd.Err != nil || pd.Leader < 0 {
				return fmt.Errorf("partition %s/%d has no leader yet (%v)", td.Topic, pd.Partition, pd.Err)
			}
		}
	}
	return nil
}

// Stop shuts the broker down cleanly (SIGTERM: a controlled shutdown that
// flushes the logs), killing it if it takes longer than 30 s. Stopping a
// stopped server does nothing.
func (s *KafkaServer) Stop() error { return s.stop(kafkaStopTimeout, sigterm) }

// Restart stops the broker and starts it again on the same ports and data
// directory, waiting until it leads its partitions again; acknowledged
// records survive. Clients reconnect by themselves.
func (s *KafkaServer) Restart(t testing.TB) {
	t.Helper()
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	s.restart(t, 500*time.Millisecond, s.start)
}
