package kafkaio_test

import (
	"context"
	"testing"

	"github.com/sdpkit/sdpkit/internal/bench"
	"github.com/sdpkit/sdpkit/internal/testenv"
)

// BenchmarkKafkaPipeKafka moves b.N records (16 float64 each) from one
// kfake topic to another: through a connector exchange (engine) and
// through a bare franz-go consume-decode-encode-produce loop (bare), so
// the engine's cost shows as a ratio. The records/s metric times only the
// move; ns/op also includes producing the input first.
func BenchmarkKafkaPipeKafka(b *testing.B) { benchmarkConnector(b, testenv.KFake(b)) }

// BenchmarkKafkaPipeKafkaBroker is BenchmarkKafkaPipeKafka on the real
// Kafka broker (acks=all, one partition).
func BenchmarkKafkaPipeKafkaBroker(b *testing.B) { benchmarkConnector(b, testenv.SharedKafka(b)) }

func benchmarkConnector(b *testing.B, k testenv.KafkaBroker) {
	for _, enc := range []string{"msgpack_numpy", "carray"} {
		for _, mode := range bench.ConnectorModes {
			b.Run(enc+"/"+mode, func(b *testing.B) {
				r, err := bench.Connector(context.Background(), bench.ConnectorConfig{
					Brokers: k.Brokers(), Mode: mode, N: max(b.N, 100), Encoding: enc})
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(r.OpsPerS, "records/s")
				b.ReportMetric(1e9/r.OpsPerS, "ns/record")
			})
		}
	}
}
