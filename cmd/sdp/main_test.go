package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sdpkit/sdpkit/internal/bench"
	"github.com/sdpkit/sdpkit/internal/testenv"
	"github.com/sdpkit/sdpkit/internal/vectors"
)

// run executes the CLI in-process and returns stdout, stderr and the error.
func run(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	root := newRootCmd(&stdout, &stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return stdout.String(), stderr.String(), err
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := run(t, args...)
	if err != nil {
		t.Fatalf("sdp %s: %v\nstderr: %s", strings.Join(args, " "), err, errOut)
	}
	return out
}

// copyFile copies src into dir, so tests never write beside the vectors.
func copyFile(t *testing.T, src, dir string) string {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, filepath.Base(src))
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

// manifestKeys returns a manifest's "keys" array as generic JSON, with the
// informative ndarray "values" of longdouble arrays removed (Python renders
// their items recursively).
func manifestKeys(t *testing.T, data []byte) []any {
	t.Helper()
	var m struct {
		Keys []any `json:"keys"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("not a manifest: %v\n%.300s", err, data)
	}
	return m.Keys
}

var rdbVectors = []string{
	"telstate-writer-tiny",
	"telstate-writer-memory",
	"redis-server-save",
	"telstate-writer-from-redis7",
}

// TestExportMatchesManifests: `export` of each vector RDB file prints the
// keys of its manifest exactly.
func TestExportMatchesManifests(t *testing.T) {
	dir := vectors.Dir(t, "telstate")
	for _, name := range rdbVectors {
		t.Run(name, func(t *testing.T) {
			db := copyFile(t, filepath.Join(dir, name+".rdb"), t.TempDir())
			out := mustRun(t, "telstate", "--db", db, "export")
			want, err := os.ReadFile(filepath.Join(dir, name+".manifest.json"))
			if err != nil {
				t.Fatal(err)
			}
			compareKeys(t, manifestKeys(t, []byte(out)), manifestKeys(t, want))
		})
	}
}

func compareKeys(t *testing.T, got, want []any) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d keys, want %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			g, _ := json.Marshal(got[i])
			w, _ := json.Marshal(want[i])
			t.Errorf("key %d differs:\n got %.600s\nwant %.600s", i, g, w)
		}
	}
}

// TestImportEncodesLikePython: importing a manifest encodes every value
// itself; exporting again must reproduce Python's encoded bytes exactly.
func TestImportEncodesLikePython(t *testing.T) {
	dir := vectors.Dir(t, "telstate")
	for _, name := range []string{"telstate-writer-tiny", "telstate-writer-memory"} {
		t.Run(name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "imported.rdb")
			mustRun(t, "telstate", "--db", db, "import", filepath.Join(dir, name+".manifest.json"))
			out := mustRun(t, "telstate", "--db", db, "export")
			want, _ := os.ReadFile(filepath.Join(dir, name+".manifest.json"))
			compareKeys(t, manifestKeys(t, []byte(out)), manifestKeys(t, want))
		})
	}
}

func TestCommands(t *testing.T) {
	t.Run("rdb", func(t *testing.T) { testCommands(t, filepath.Join(t.TempDir(), "obs.rdb")) })
	t.Run("redis", func(t *testing.T) { testCommands(t, testenv.Redis(t).URL()) })
	t.Run("redis-endpoint", func(t *testing.T) { testCommands(t, testenv.Redis(t).Addr()) })
}

// snapshot is what a refused write must leave unchanged: the .rdb file's
// bytes, or for Redis the export.
func snapshot(t *testing.T, db string) string {
	if data, err := os.ReadFile(db); err == nil {
		return string(data)
	}
	return mustRun(t, "telstate", "--db", db, "export")
}

func testCommands(t *testing.T, db string) {
	ts := func(args ...string) string { return mustRun(t, append([]string{"telstate", "--db", db}, args...)...) }

	ts("set", "sdp_n_chans", `{"int": "4096"}`)
	ts("set", "sdp_n_chans", `4096`) // an equal value again: fine
	ts("add", "m000_activity", `{"str": "slew"}`, "--ts", "100")
	ts("add", "m000_activity", `"track"`, "--ts", "110")
	ts("add", "m000_activity", `"stop"`, "--ts", "120")
	ts("add", "obs_label", `"calibration"`, "--immutable")
	ts("set-indexed", "delays", `"m000"`, `{"tuple": [1, 2.5]}`)
	ts("set-indexed", "delays", `7`, `{"complex": [{"float": "1.0"}, {"float": "-2.0"}]}`)

	if got := ts("get", "sdp_n_chans"); got != "4096\n" {
		t.Errorf("get sdp_n_chans = %q", got)
	}
	if got := ts("get", "m000_activity", "--json"); got != `{"str": "stop"}`+"\n" {
		t.Errorf("get --json m000_activity = %q", got)
	}
	if got := ts("range", "m000_activity", "--start", "105", "--end", "120"); got != "110.0\t'track'\n" {
		t.Errorf("range [105, 120) = %q", got)
	}
	if got := ts("range", "m000_activity", "--start", "105", "--end", "120", "--include-previous", "--include-end"); got != "100.0\t'slew'\n110.0\t'track'\n120.0\t'stop'\n" {
		t.Errorf("range [105, 120] with previous = %q", got)
	}
	if got := ts("range", "m000_activity", "--end", "115"); got != "110.0\t'track'\n" {
		t.Errorf("range --end 115 (latest before) = %q", got)
	}
	if got := ts("get-indexed", "delays", `"m000"`); got != "(1, 2.5)\n" {
		t.Errorf("get-indexed = %q", got)
	}
	if got := ts("keys"); got != "indexed    delays\nmutable    m000_activity\nimmutable  obs_label\nimmutable  sdp_n_chans\n" {
		t.Errorf("keys = %q", got)
	}
	if got := ts("keys", "m0*", "--json"); got != `["m000_activity"]`+"\n" {
		t.Errorf("keys m0* --json = %q", got)
	}

	// Refused writes leave the stored data as it was.
	before := snapshot(t, db)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"set", "sdp_n_chans", `4097`}, "immutable"},
		{[]string{"add", "sdp_n_chans", `1`, "--ts", "1"}, "immutable"},
		{[]string{"add", "m000_activity", `1`, "--ts", "-1"}, "negative"},
		{[]string{"set", "x", `{"int": "nope"}`}, `VALUE`},
		{[]string{"get", "missing"}, "not found"},
		{[]string{"range", "sdp_n_chans"}, "immutable"},
		{[]string{"add", "m000_activity", "1", "--ts", "soon"}, "--ts"},
	} {
		_, errOut, err := run(t, append([]string{"telstate", "--db", db}, c.args...)...)
		if err == nil || !strings.Contains(strings.ToLower(errOut), strings.ToLower(c.want)) {
			t.Errorf("sdp telstate %v: err %v, stderr %q; want an error mentioning %q", c.args, err, errOut, c.want)
		}
	}
	if after := snapshot(t, db); before != after {
		t.Errorf("a refused write changed the database")
	}

	ts("delete", "obs_label")
	if _, _, err := run(t, "telstate", "--db", db, "get", "obs_label"); err == nil {
		t.Errorf("obs_label still there after delete")
	}

	snap := filepath.Join(t.TempDir(), "snap.rdb")
	ts("dump", snap)
	if got := mustRun(t, "telstate", "--db", snap, "get", "sdp_n_chans"); got != "4096\n" {
		t.Errorf("dumped snapshot get = %q", got)
	}
}

// TestCopy: rdb → Redis → another Redis database → rdb keeps every byte.
func TestCopy(t *testing.T) {
	dir := vectors.Dir(t, "telstate")
	srv := testenv.Redis(t)
	src := filepath.Join(dir, "telstate-writer-memory.rdb")
	db1 := "redis://" + srv.Addr() + "/1"
	db2 := "redis://" + srv.Addr() + "/2"
	out := filepath.Join(t.TempDir(), "copy.rdb")
	mustRun(t, "telstate", "copy", src, db1)
	mustRun(t, "telstate", "copy", db1, db2)
	mustRun(t, "telstate", "copy", db2, out)
	want, _ := os.ReadFile(filepath.Join(dir, "telstate-writer-memory.manifest.json"))
	for _, db := range []string{db1, db2, out} {
		got := mustRun(t, "telstate", "--db", db, "export")
		compareKeys(t, manifestKeys(t, []byte(got)), manifestKeys(t, want))
	}
	// Copying again replaces keys rather than failing on immutables.
	mustRun(t, "telstate", "copy", src, db1)
	if _, errOut, err := run(t, "telstate", "copy", filepath.Join(t.TempDir(), "none.rdb"), db1); err == nil || !strings.Contains(errOut, "none.rdb") {
		t.Errorf("copy from a missing file: err %v, stderr %q", err, errOut)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"telstate", "get"},
		{"telstate", "--db", "x.rdb", "get", "a", "b"},
		{"telstate", "--nope"},
		{"nope"},
	} {
		_, _, err := run(t, args...)
		var ue usageError
		if err == nil || (!errors.As(err, &ue) && args[0] != "nope") {
			t.Errorf("sdp %v: err = %v, want a usage error", args, err)
		}
	}
	_, errOut, err := run(t, "telstate", "get", "k")
	if err == nil || !strings.Contains(errOut, "--db") {
		t.Errorf("no --db: err %v, stderr %q", err, errOut)
	}
	_, errOut, err = run(t, "telstate", "--db", filepath.Join(t.TempDir(), "missing.rdb"), "keys")
	if err == nil || !strings.Contains(errOut, "missing.rdb") {
		t.Errorf("missing file: err %v, stderr %q", err, errOut)
	}
}

func TestDemo(t *testing.T) {
	out := filepath.Join(t.TempDir(), "demo.rdb")
	stdout := mustRun(t, "demo", "--out", out)
	for _, want := range []string{"refused", "became 'stop'", "every key matches", "load_from_file"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("demo output lacks %q:\n%s", want, stdout)
		}
	}
	if got := mustRun(t, "telstate", "--db", out, "get", "sdp_n_chans"); got != "4096\n" {
		t.Errorf("demo snapshot: sdp_n_chans = %q", got)
	}
}

// TestBenchTelstate: `sdp bench telstate` prints one JSON object with the
// documented fields, in memory and against Redis.
func TestBenchTelstate(t *testing.T) {
	srv := testenv.Redis(t)
	for _, db := range []string{"", srv.URL()} {
		for _, op := range []string{"add", "add-batch", "get", "range", "set-indexed", "get-indexed"} {
			args := []string{"bench", "telstate", "--op", op, "--n", "300", "--clients", "2", "--range-size", "20", "--batch", "100"}
			if db != "" {
				args = append(args, "--db", db)
			}
			out := mustRun(t, args...)
			var r map[string]any
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatalf("sdp %v printed %q: %v", args, out, err)
			}
			for _, f := range []string{"op", "n", "clients", "ops_per_s", "p50_us", "p99_us"} {
				if _, ok := r[f]; !ok {
					t.Errorf("sdp %v: no %q in %s", args, f, out)
				}
			}
			if r["op"] != op || r["n"] != float64(300) || r["clients"] != float64(2) {
				t.Errorf("sdp %v: %s", args, out)
			}
		}
	}
	if _, _, err := run(t, "bench", "telstate", "--op", "nope"); err == nil {
		t.Error("unknown op accepted")
	}
}

// TestBenchConfig: `sdp bench config` prints one JSON object per op and
// layer, with positive figures, and with --both the ratio line.
func TestBenchConfig(t *testing.T) {
	srv := testenv.Etcd(t)
	ep := strings.Join(srv.Endpoints(), ",")
	out := mustRun(t, "bench", "config", "--endpoints", ep, "--op", "all", "--n", "40", "--clients", "2", "--list-size", "30", "--both")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3*len(bench.ConfigOps) {
		t.Fatalf("%d lines, want 3 per op:\n%s", len(lines), out)
	}
	for i, line := range lines {
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		op := bench.ConfigOps[i/3]
		fields := []string{"ops_per_s", "p50_us", "p99_us", "n", "clients"}
		want := map[string]any{"op": op, "clients": float64(2), "n": float64(40), "layer": []string{"sdp", "raw"}[min(i%3, 1)]}
		if i%3 == 2 {
			fields = []string{"ratio_ops_per_s", "ratio_p50", "ratio_p99"}
			want = map[string]any{"op": op, "clients": float64(2)}
		}
		for k, v := range want {
			if r[k] != v {
				t.Errorf("line %d: %s = %v, want %v (%s)", i, k, r[k], v, line)
			}
		}
		for _, f := range fields {
			if v, ok := r[f].(float64); !ok || v <= 0 {
				t.Errorf("line %d: %s = %v, want a positive number (%s)", i, f, r[f], line)
			}
		}
	}
	out = mustRun(t, "bench", "config", "--endpoints", ep, "--op", "watch-latency", "--n", "10", "--raw")
	var r bench.Result
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.Layer != "raw" || r.Op != "watch-latency" || r.N != 10 || r.P99us <= 0 {
		t.Errorf("--raw printed %q (%v)", out, err)
	}
	for _, args := range [][]string{
		{"bench", "config", "--op", "get"},
		{"bench", "config", "--endpoints", ep, "--op", "nope"},
		{"bench", "config", "--endpoints", ep, "--raw", "--both"},
	} {
		if _, _, err := run(t, args...); err == nil {
			t.Errorf("sdp %v accepted", args)
		}
	}
}

// TestBenchConnector: `sdp bench connector` without --brokers runs on an
// in-process kfake (labelled), prints one JSON object per mode and the
// ratio line, for both sinks; a bad mode is a usage error.
func TestBenchConnector(t *testing.T) {
	for _, snk := range bench.ConnectorSinks {
		t.Run(snk, func(t *testing.T) {
			out := mustRun(t, "bench", "connector", "--n", "200", "--latency", "30", "--sink", snk, "--encoding", "carray", "--elements", "8")
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != 3 {
				t.Fatalf("%d lines, want engine, bare and ratio:\n%s", len(lines), out)
			}
			for i, line := range lines {
				var r map[string]any
				if err := json.Unmarshal([]byte(line), &r); err != nil {
					t.Fatalf("line %q: %v", line, err)
				}
				if r["sink"] != snk || !strings.HasPrefix(fmt.Sprint(r["broker"]), "kfake") {
					t.Errorf("line %d: sink %v broker %v (%s)", i, r["sink"], r["broker"], line)
				}
				fields := []string{"ops_per_s", "p50_us", "p99_us", "elapsed_s"}
				if i == 2 {
					fields = []string{"ratio_ops_per_s", "ratio_p50", "ratio_p99"}
				} else if r["layer"] != bench.ConnectorModes[i] || r["n"] != float64(200) || r["latency_n"] != float64(30) || r["encoding"] != "carray" || r["elements"] != float64(8) {
					t.Errorf("line %d: %s", i, line)
				}
				for _, f := range fields {
					if v, ok := r[f].(float64); !ok || v <= 0 {
						t.Errorf("line %d: %s = %v, want a positive number (%s)", i, f, r[f], line)
					}
				}
			}
		})
	}
	out := mustRun(t, "bench", "connector", "--n", "50", "--latency", "-1", "--mode", "bare")
	if n := strings.Count(strings.TrimSpace(out), "\n"); n != 0 || !strings.Contains(out, `"layer":"bare"`) {
		t.Errorf("--mode bare printed %q", out)
	}
	if _, _, err := run(t, "bench", "connector", "--mode", "sideways"); err == nil {
		t.Error("--mode sideways accepted")
	}
}
