package descriptor_test

import (
	"os"
	"testing"

	"github.com/sdpkit/sdpkit/connector/descriptor"
	"github.com/sdpkit/sdpkit/internal/vectors"
)

func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile(vectors.Path(b, "connector", "examples/05_kafka_json_object_scatter_jmespath.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := descriptor.Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSchema(b *testing.B) {
	for b.Loop() {
		descriptor.Schema()
	}
}
