package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sdpkit/sdpkit/connector/descriptor"
	"github.com/sdpkit/sdpkit/internal/vectors"
)

func TestConnectorSchema(t *testing.T) {
	out := mustRun(t, "connector", "schema")
	if out != string(descriptor.Schema()) {
		t.Error("sdp connector schema does not print descriptor.Schema()")
	}
	up := mustRun(t, "connector", "schema", "--upstream")
	if up != string(descriptor.Schema(descriptor.UpstreamOnly())) || strings.Contains(up, "TelstateSink") {
		t.Error("sdp connector schema --upstream does not print the upstream-only schema")
	}
}

func TestConnectorValidate(t *testing.T) {
	dir := vectors.Dir(t, "connector")
	examples, _ := filepath.Glob(filepath.Join(dir, "examples", "*.json"))
	invalid, _ := filepath.Glob(filepath.Join(dir, "invalid", "*.json"))
	if len(examples) == 0 || len(invalid) == 0 {
		t.Fatal("no connector vectors")
	}

	out := mustRun(t, append([]string{"connector", "validate"}, examples...)...)
	for _, f := range examples {
		if !strings.Contains(out, f+": OK\n") {
			t.Errorf("no OK for %s in\n%s", f, out)
		}
	}

	args := append([]string{"connector", "validate", examples[0]}, invalid...)
	out, errOut, err := run(t, args...)
	var re reportedError
	var ue usageError
	if !errors.As(err, &re) || errors.As(err, &ue) {
		t.Fatalf("invalid files: err %v, want a reported non-usage error (exit status 1)", err)
	}
	if !strings.Contains(errOut, "7 of 8 descriptors invalid") {
		t.Errorf("stderr %q lacks the count", errOut)
	}
	for _, f := range invalid {
		if !strings.Contains(out, f+": invalid\n") {
			t.Errorf("no 'invalid' line for %s", f)
		}
	}
	for _, want := range []string{
		"  exchanges[0].sink.timestamp_options.reducer: \"median\" is not one of min, max, mean\n",
		"  exchanges[0].source.type: \"FileSource\" is not a source kind",
		"  version: unknown field",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	// Standard input, an unreadable file and the upstream-only check.
	ext := []byte(`{"exchanges": [{"source": {"type": "TelstateSensorSource", "db": "memory", "key": "k"}, "sink": {"type": "InMemorySink", "key": "q"}}]}`)
	var stdout, stderr bytes.Buffer
	root := newRootCmd(&stdout, &stderr)
	root.SetIn(bytes.NewReader(ext))
	root.SetArgs([]string{"connector", "validate", "-"})
	if err := root.Execute(); err != nil || stdout.String() != "-: OK\n" {
		t.Errorf("stdin: err %v, stdout %q, stderr %q", err, stdout.String(), stderr.String())
	}
	file := filepath.Join(t.TempDir(), "ext.json")
	if err := os.WriteFile(file, ext, 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err = run(t, "connector", "validate", "--upstream", file, filepath.Join(t.TempDir(), "missing.json"))
	if err == nil || !strings.Contains(out, "is an sdpkit extension") || !strings.Contains(out, "missing.json: unreadable") {
		t.Errorf("--upstream and a missing file: err %v, out\n%s", err, out)
	}
	if _, _, err := run(t, "connector", "validate"); !errors.As(err, &ue) {
		t.Errorf("no files: err %v, want a usage error", err)
	}
}

func TestConnectorFlows(t *testing.T) {
	dir := vectors.Dir(t, "connector")
	input := filepath.Join(t.TempDir(), "input.json")
	if err := os.WriteFile(input, []byte(`{"key": {"pb_id": "pb-test-00000000-0000", "kind": "data-queue", "name": "other-dataqueue"},
		"sink": {"kind": "data-queue", "host": "kafka://k:9092", "topics": "in", "format": "json"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := mustRun(t, "connector", "flows", "--pb", "pb-test-00000000-0000", input, filepath.Join(dir, "docs_examples", "flow_dataqueue_sink.converted.json"))
	d, err := descriptor.Parse([]byte(out))
	if err != nil {
		t.Fatalf("flows output does not parse: %v\n%s", err, out)
	}
	if ex := d.All(); len(ex) != 1 || ex[0].Sink.(*descriptor.KafkaProducerSink).Topic != "my-topic" {
		t.Errorf("flows output:\n%s", out)
	}
	if _, errOut, err := run(t, "connector", "flows", "--pb", "pb-x", filepath.Join(dir, "docs_examples", "flow_dataqueue_sink.converted.json")); err != nil {
		t.Errorf("another block's flow: %v %s", err, errOut)
	}
	if _, errOut, err := run(t, "connector", "flows", "--pb", "pb-test-00000000-0000", filepath.Join(dir, "docs_examples", "flow_dataqueue_sink.converted.json")); err == nil || !strings.Contains(errOut, "not found") {
		t.Errorf("missing input flow: err %v, stderr %q", err, errOut)
	}
}

// TestConnectorExitStatus runs the built binary: 0 for valid files, 1 for
// an invalid one, 2 for a usage error.
func TestConnectorExitStatus(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "sdp")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := vectors.Dir(t, "connector")
	for _, tt := range []struct {
		args []string
		code int
	}{
		{[]string{"connector", "validate", filepath.Join(dir, "examples", "01_kafka_float_to_tango_scalar.json")}, 0},
		{[]string{"connector", "validate", filepath.Join(dir, "examples", "10_empty.json"), filepath.Join(dir, "invalid", "bad_reducer.json")}, 1},
		{[]string{"connector", "validate"}, 2},
		{[]string{"connector", "schema"}, 0},
	} {
		err := exec.Command(bin, tt.args...).Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != tt.code {
			t.Errorf("sdp %s: exit status %d, want %d", strings.Join(tt.args, " "), code, tt.code)
		}
	}
}
