package testenv

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestKafkaBenchScripts runs the benchmark's peer runners
// (bench/kafka-perf.sh: Kafka's own perf tools; bench/queue_bench_aiokafka.py)
// on a small workload against the shared broker and checks that each prints
// one JSON result of the agreed shape with the requested record count.
func TestKafkaBenchScripts(t *testing.T) {
	k := SharedKafka(t)
	root, ok := moduleRoot()
	if !ok {
		t.Fatal("no module root")
	}
	const n, size = 2000, 100
	common := []string{"--bootstrap-server", k.Addr(), "--num-records", strconv.Itoa(n), "--record-size", strconv.Itoa(size)}
	type result struct {
		Tool     string   `json:"tool"`
		Op       string   `json:"op"`
		N        int      `json:"n"`
		Size     int      `json:"record_size"`
		MsgsPerS float64  `json:"msgs_per_s"`
		MBPerS   *float64 `json:"mb_per_s"`
		P50us    *float64 `json:"p50_us"`
		P99us    *float64 `json:"p99_us"`
	}
	run := func(t *testing.T, name string, args ...string) result {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir = root
		cmd.Env = append(cmd.Environ(), KafkaLibsEnv+"="+k.Libs())
		out, err := cmd.Output()
		if err != nil {
			stderr := ""
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = string(ee.Stderr)
			}
			t.Fatalf("%s %v: %v; stderr:\n%s", name, args, err, stderr)
		}
		var r result
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatalf("%s printed %q: %v", name, out, err)
		}
		if r.N != n || r.Size != size || r.MsgsPerS <= 0 || r.MBPerS == nil || *r.MBPerS <= 0 {
			t.Fatalf("%s: result %s: want n=%d record_size=%d and positive rates", name, out, n, size)
		}
		return r
	}
	latencies := func(t *testing.T, r result, want bool) {
		t.Helper()
		if want != (r.P50us != nil && r.P99us != nil) {
			t.Fatalf("%s %s: p50_us=%v p99_us=%v, want latencies: %v", r.Tool, r.Op, r.P50us, r.P99us, want)
		}
		if want && (*r.P50us < 0 || *r.P99us < *r.P50us) {
			t.Fatalf("%s %s: p50_us=%v p99_us=%v", r.Tool, r.Op, *r.P50us, *r.P99us)
		}
	}

	t.Run("kafka-perf", func(t *testing.T) {
		Java(t)
		script := filepath.Join(root, "bench", "kafka-perf.sh")
		topic := NewTopic(t, k, 1)
		p := run(t, script, append([]string{"produce", "--topic", topic}, common...)...)
		if p.Tool != "kafka-producer-perf-test" || p.Op != "produce" {
			t.Fatalf("produce result names %s %s", p.Tool, p.Op)
		}
		latencies(t, p, true)
		c := run(t, script, append([]string{"consume", "--topic", topic}, common...)...)
		if c.Tool != "kafka-consumer-perf-test" || c.Op != "consume" {
			t.Fatalf("consume result names %s %s", c.Tool, c.Op)
		}
		latencies(t, c, false)
	})

	t.Run("aiokafka", func(t *testing.T) {
		py := Python(t, "aiokafka")
		script := filepath.Join(root, "bench", "queue_bench_aiokafka.py")
		topic := NewTopic(t, k, 1)
		p := run(t, py, append([]string{script, "produce", "--topic", topic}, common...)...)
		if p.Tool != "aiokafka" || p.Op != "produce" {
			t.Fatalf("produce result names %s %s", p.Tool, p.Op)
		}
		latencies(t, p, true)
		c := run(t, py, append([]string{script, "consume", "--topic", topic}, common...)...)
		if c.Op != "consume" {
			t.Fatalf("consume result names %s %s", c.Tool, c.Op)
		}
		latencies(t, c, false)
	})
}

// BenchmarkKafkaStart measures what a test pays for its own broker
// (Kafka): formatting the storage, starting the JVM, and waiting until the
// broker answers metadata, then a clean stop.
func BenchmarkKafkaStart(b *testing.B) {
	for b.Loop() {
		k := Kafka(b)
		if err := k.Stop(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkKFakeStart is the same for the in-process kfake cluster.
func BenchmarkKFakeStart(b *testing.B) {
	for b.Loop() {
		KFake(b).Stop()
	}
}
