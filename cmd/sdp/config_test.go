package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/config/etcd"
	"github.com/sdpkit/sdpkit/config/kv"
	"github.com/sdpkit/sdpkit/config/memory"
	"github.com/sdpkit/sdpkit/internal/kvtrace"
	"github.com/sdpkit/sdpkit/internal/testenv"
)

// cfgEnv is where `sdp config` runs in a test: its environment variables
// and, for the memory backend, the store shared by every run.
type cfgEnv struct {
	env   map[string]string
	mem   kv.KV
	store kv.KV // a direct handle on the same data, for checks
}

// runResult is one in-process run of the CLI.
type runResult struct {
	stdout, stderr string
	code           int
}

// run runs `sdp config ARGS…` in-process with stdin and the environment.
func (e *cfgEnv) run(t *testing.T, stdin string, args ...string) runResult {
	t.Helper()
	return e.runCtx(t, context.Background(), stdin, args...)
}

func (e *cfgEnv) runCtx(t *testing.T, ctx context.Context, stdin string, args ...string) runResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	opts := []rootOption{withEnv(func(k string) string { return e.env[k] })}
	if e.mem != nil {
		opts = append(opts, withMemoryStore(e.mem))
	}
	root := newRootCmd(&stdout, &stderr, opts...)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(append([]string{"config"}, args...))
	err := root.ExecuteContext(ctx)
	return runResult{stdout.String(), stderr.String(), exitCode(err)}
}

// ok runs a command that must succeed and returns its stdout.
func (e *cfgEnv) ok(t *testing.T, args ...string) string {
	t.Helper()
	r := e.run(t, "", args...)
	if r.code != 0 {
		t.Fatalf("sdp config %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

func memoryEnv(t *testing.T) *cfgEnv {
	s := memory.New()
	t.Cleanup(func() { s.Close() })
	return &cfgEnv{env: map[string]string{"SDP_CONFIG_BACKEND": "memory"}, mem: s, store: s}
}

// etcdEnv starts a real etcd and points the environment variables at it,
// as a deployment of ska-sdp would.
func etcdEnv(t *testing.T) *cfgEnv {
	srv := testenv.Etcd(t)
	u, err := url.Parse(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := etcd.Open(ctx, srv.Endpoints())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &cfgEnv{env: map[string]string{"SDP_CONFIG_HOST": u.Hostname(), "SDP_CONFIG_PORT": u.Port()}, store: s}
}

func bothBackends(t *testing.T, f func(t *testing.T, e *cfgEnv)) {
	t.Run("memory", func(t *testing.T) { f(t, memoryEnv(t)) })
	t.Run("etcd", func(t *testing.T) { f(t, etcdEnv(t)) })
}

// workflowsYAML stands for the vector's <workflows.yaml>: the vector does
// not hold the file, so this one is reconstructed from what the runs show
// (two definitions created, the earlier batch:test:0.0.0 deleted by
// --sync, image names in the final keys), in ska-sdp's structured format
// (repositories + workflows with versions).
const workflowsYAML = `repositories:
  - name: nexus
    path: artefact.skao.int
workflows:
  - type: batch
    id: test_batch
    repository: nexus
    image: workflow-test-batch
    versions:
      - 0.2.2
  - type: realtime
    id: test_realtime
    repository: nexus
    image: workflow-test-realtime
    versions:
      - 0.2.2
`

// TestVectorsCLI replays every ska-sdp run of cli_v0.3.2.json in order
// against a fresh etcd: stdout and exit status byte for byte, then the
// final keys with their versions and revisions. Our stderr differs from
// Python's traceback (the last line is checked to name the same
// exception and message).
func TestVectorsCLI(t *testing.T) {
	sc := kvtrace.Load(t, "cli_v0.3.2.json")["cli_v0.3.2"]
	var runs []struct {
		Argv     []string `json:"argv"`
		ExitCode int      `json:"exit_code"`
		Stdout   string   `json:"stdout"`
		Stderr   string   `json:"stderr_last_line"`
	}
	if err := json.Unmarshal(sc.Runs, &runs); err != nil {
		t.Fatal(err)
	}
	wf := filepath.Join(t.TempDir(), "workflows.yaml")
	if err := os.WriteFile(wf, []byte(workflowsYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	e := etcdEnv(t)
	rev0 := kvtrace.Wipe(t, e.store)
	for i, r := range runs {
		args := make([]string, len(r.Argv)-1)
		for j, a := range r.Argv[1:] {
			args[j] = strings.ReplaceAll(a, "<workflows.yaml>", wf)
		}
		want := strings.ReplaceAll(r.Stdout, "<workflows.yaml>", wf)
		got := e.run(t, "", args...)
		if got.stdout != want || got.code != r.ExitCode {
			t.Errorf("run %d: ska-sdp %s\nexit %d, want %d\nstdout: %q\nwant:   %q\nstderr: %s", i, strings.Join(r.Argv[1:], " "), got.code, r.ExitCode, got.stdout, want, got.stderr)
		}
		if r.Stderr != "" {
			_, exc, _ := strings.Cut(r.Stderr, "common.")
			if !strings.Contains(got.stderr, exc) {
				t.Errorf("run %d: stderr %q does not contain %q", i, got.stderr, exc)
			}
		}
	}
	kvtrace.CheckFinalKeys(t, e.store, rev0, sc.FinalKeys, true)
}
