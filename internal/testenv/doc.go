// Package testenv starts the external servers that integration tests need,
// as child processes private to one test: redis-server (Redis), etcd
// (Etcd), and Kafka brokers.
//
// # Kafka
//
// Two kinds of broker serve the same interface, KafkaBroker:
//
//   - Kafka / SharedKafka: a real Apache Kafka broker (KafkaVersion), one
//     JVM running a single-node KRaft cluster (combined broker and
//     controller) on two free loopback ports, from the jars that
//     scripts/kafka.sh fetches from Maven Central. Starting one takes
//     seconds, so most tests share one per test binary (SharedKafka) and
//     give each test its own topics (Topic, NewTopic). Tests that restart or
//     reconfigure the broker start their own (Kafka).
//   - KFake: franz-go's in-process fake broker (pkg/kfake), ready in a
//     millisecond; good for protocol-level tests, not a proof of
//     compatibility with the real broker.
//
// Interop peers: Kcat(t) gives Debian's kcat (librdkafka); Python(t,
// "aiokafka") gives the peers' virtualenv, which scripts/peers.sh fills from
// scripts/requirements-peers.txt. A package's Python peer scripts live in its
// testdata directory (for example dataqueue/testdata/dq_peer.py).
//
// Without the jars (or java, or kcat) a test is skipped, or fails when
// SDP_REQUIRE_PEERS=1, as `make test` sets it.
//
// A package whose tests share the real broker sets it up in TestMain:
//
//	func TestMain(m *testing.M) { testenv.MainWithKafka(m) }
//
//	func TestSomething(t *testing.T) {
//		k := testenv.SharedKafka(t)            // or testenv.KFake(t)
//		topic := testenv.NewTopic(t, k, 1)     // unique to this test
//		cl := testenv.KafkaClient(t, k)        // *kgo.Client, closed at the end
//		…
//	}
package testenv
