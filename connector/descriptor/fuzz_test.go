package descriptor_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/sdpkit/sdpkit/connector/descriptor"
	"github.com/sdpkit/sdpkit/internal/vectors"
)

// FuzzParse: Parse never panics, and what it accepts Marshal writes and
// Parse reads back to the same descriptor.
func FuzzParse(f *testing.F) {
	root := vectors.Dir(f, "connector")
	for _, dir := range []string{"examples", "invalid"} {
		files, _ := filepath.Glob(filepath.Join(root, dir, "*.json"))
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte(`{"exchanges": {"g": [{"dtype": [["a", [["b", "<f8", [2, 3]]]]], "source": [{"type": "TelstateSensorSource", "db": "memory", "key": "k"}], "sink": {"type": "TangoArrayScatterAttributeSink", "attribute_names": ["a", "b"], "indices": [1]}}]}}`))
	f.Add([]byte(`{"exchanges": [{"source": {"type": "TangoSubscriptionSource", "device_name": "a/b/c", "attribute_name": "x", "etype": 3}, "sink": {"type": "KafkaProducerSink", "servers": "a,b", "topic": "t", "timestamp_options": {"slices": [null, "1:2", {"start": 0}, 1.0]}}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := descriptor.Parse(data)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error text")
			}
			return
		}
		m, err := descriptor.Marshal(d)
		if err != nil {
			t.Fatalf("Marshal of a parsed descriptor: %v", err)
		}
		d2, err := descriptor.Parse(m)
		if err != nil {
			t.Fatalf("Parse(Marshal(d)): %v\n%s", err, m)
		}
		// Bytes, not reflect.DeepEqual: a NaN datum is never equal to itself.
		if m2, err := descriptor.Marshal(d2); err != nil || !bytes.Equal(m, m2) {
			t.Fatalf("round trip changed the descriptor (%v):\n%s\n---\n%s", err, m, m2)
		}
	})
}
