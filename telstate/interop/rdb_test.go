package interop

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"testing"

	"github.com/sdpkit/sdpkit/internal/testenv"
	"github.com/sdpkit/sdpkit/internal/vectors"
	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/pyval/tagjson"
	"github.com/sdpkit/sdpkit/telstate"
	"github.com/sdpkit/sdpkit/telstate/backend"
)

// peerKeys is the JSON form peer.py uses for a database's raw contents.
type peerKeys struct {
	Keys        []peerKey `json:"keys"`
	Undecodable [][]any   `json:"undecodable"`
	Loaded      int       `json:"loaded"`
}

type peerKey struct {
	Key     string      `json:"key"`
	KeyType string      `json:"key_type"`
	Value   string      `json:"value,omitempty"`
	Samples [][2]any    `json:"samples,omitempty"`
	Entries [][2]string `json:"entries,omitempty"`
}

// runPeer runs testdata/peer.py with the peers' Python and decodes its
// JSON output into out.
func runPeer(t *testing.T, out any, args ...string) {
	t.Helper()
	py := testenv.Python(t, "katsdptelstate", "rdbtools")
	cmd := exec.Command(py, append([]string{filepath.Join("testdata", "peer.py")}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("peer.py %v: %v\n%s", args, err, stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
		t.Fatalf("peer.py %v printed bad JSON: %v\n%.500s", args, err, stdout.String())
	}
}

// rawKeys renders a telescope state's raw contents as peer.py does.
func rawKeys(t *testing.T, ts *telstate.TelescopeState) []peerKey {
	t.Helper()
	ctx := context.Background()
	b := ts.Backend()
	keys, err := b.Keys(ctx, []byte("*"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(keys, func(i, j int) bool { return bytes.Compare(keys[i], keys[j]) < 0 })
	var out []peerKey
	for _, k := range keys {
		v, err := b.Get(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		pk := peerKey{Key: hex.EncodeToString(k), KeyType: v.Type.String()}
		switch v.Type {
		case backend.Immutable:
			pk.Value = hex.EncodeToString(v.Value)
		case backend.Mutable:
			samples, err := b.GetRange(ctx, k, math.Inf(-1), math.Inf(1), false, false)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range samples {
				pk.Samples = append(pk.Samples, [2]any{hex.EncodeToString(s.Value), s.Timestamp})
			}
		case backend.Indexed:
			for _, e := range v.Entries {
				pk.Entries = append(pk.Entries, [2]string{hex.EncodeToString(e.SubKey), hex.EncodeToString(e.Value)})
			}
			sort.Slice(pk.Entries, func(i, j int) bool { return pk.Entries[i][0] < pk.Entries[j][0] })
		}
		out = append(out, pk)
	}
	return out
}

// normalise round-trips through JSON so Go and Python forms compare equal.
func normalise(t *testing.T, v any) any {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// vectorValues returns every value of encoding.jsonl that katsdptelstate
// both encodes and decodes, by record name.
func vectorValues(t *testing.T) (names []string, values map[string]pyval.Value) {
	t.Helper()
	type record struct {
		Name        string          `json:"name"`
		Value       json.RawMessage `json:"value"`
		EncodeError string          `json:"encode_error"`
		DecodeError string          `json:"decode_error"`
		DecodeOnly  bool            `json:"decode_only"`
	}
	values = map[string]pyval.Value{}
	for _, rec := range vectors.JSONL[record](t, "telstate", "encoding.jsonl") {
		if rec.DecodeOnly || rec.EncodeError != "" || rec.DecodeError != "" {
			continue
		}
		v, err := tagjson.Parse(rec.Value)
		if err != nil {
			t.Fatalf("%s: %v", rec.Name, err)
		}
		names = append(names, rec.Name)
		values[rec.Name] = v
	}
	return names, values
}

// fillState stores every vector value as an attribute, a sensor sample and
// an indexed entry, plus sensors and hashes large enough to leave the
// ziplist encodings, and a key that is not UTF-8.
func fillState(t *testing.T) *telstate.TelescopeState {
	t.Helper()
	ts := telstate.New()
	fillInto(t, ts)
	return ts
}

// fillInto stores fillState's data into ts.
func fillInto(t *testing.T, ts *telstate.TelescopeState) {
	t.Helper()
	ctx := context.Background()
	names, values := vectorValues(t)
	for i, name := range names {
		v := values[name]
		if err := ts.Set(ctx, "attr_"+name, v); err != nil {
			t.Fatalf("Set %s: %v", name, err)
		}
		if err := ts.Add(ctx, "sensor_all", v, telstate.At(1e9+float64(i))); err != nil {
			t.Fatalf("Add %s: %v", name, err)
		}
		if err := ts.SetIndexed(ctx, "idx_all", pyval.Str(name), v); err != nil {
			t.Fatalf("SetIndexed %s: %v", name, err)
		}
	}
	for i := 0; i < 300; i++ {
		if err := ts.Add(ctx, "sensor_big", pyval.Float(float64(i)/3), telstate.At(float64(i))); err != nil {
			t.Fatal(err)
		}
		if err := ts.SetIndexed(ctx, "idx_big", pyval.IntOf(int64(i)), pyval.Str(fmt.Sprint("v", i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := ts.Set(ctx, "bin\xff\x00key", pyval.Bytes{0, 1, 2}); err != nil {
		t.Fatal(err)
	}
}

// TestGoRDBLoadsInPython: an RDB file written by sdpkit loads in
// katsdptelstate with every byte intact and every value decodable.
func TestGoRDBLoadsInPython(t *testing.T) {
	ctx := context.Background()
	ts := fillState(t)
	path := filepath.Join(t.TempDir(), "go.rdb")
	n, err := ts.DumpFile(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	var got peerKeys
	runPeer(t, &got, "read-rdb", path)
	if got.Loaded != n {
		t.Errorf("Python loaded %d keys, Go wrote %d", got.Loaded, n)
	}
	if len(got.Undecodable) > 0 {
		t.Errorf("Python cannot decode: %v", got.Undecodable)
	}
	want := rawKeys(t, ts)
	if !reflect.DeepEqual(normalise(t, got.Keys), normalise(t, want)) {
		for i := range want {
			if i >= len(got.Keys) || !reflect.DeepEqual(normalise(t, got.Keys[i]), normalise(t, want[i])) {
				t.Fatalf("first difference at key %d (%s)", i, want[i].Key)
			}
		}
		t.Fatalf("Python read %d keys, want %d", len(got.Keys), len(want))
	}
}

// TestPythonRDBLoadsInGo: katsdptelstate's RDBWriter writes the same raw
// data; sdpkit loads it exactly, and sdpkit's writer produces the same file
// byte for byte (but for the checksum Python leaves zero).
func TestPythonRDBLoadsInGo(t *testing.T) {
	ctx := context.Background()
	src := fillState(t)
	dir := t.TempDir()
	spec := filepath.Join(dir, "spec.json")
	data, err := json.Marshal(map[string]any{"keys": rawKeys(t, src)})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(spec, data, 0o644); err != nil {
		t.Fatal(err)
	}
	pyFile := filepath.Join(dir, "py.rdb")
	var res struct {
		Written int `json:"keys_written"`
		Failed  int `json:"keys_failed"`
	}
	runPeer(t, &res, "write-rdb", pyFile, spec)
	if res.Failed != 0 {
		t.Fatalf("Python failed to write %d keys", res.Failed)
	}
	dst := telstate.New()
	n, err := dst.LoadFile(ctx, pyFile)
	if err != nil {
		t.Fatal(err)
	}
	if n != res.Written {
		t.Errorf("loaded %d keys, Python wrote %d", n, res.Written)
	}
	if !reflect.DeepEqual(normalise(t, rawKeys(t, dst)), normalise(t, rawKeys(t, src))) {
		t.Fatalf("contents differ after Python → Go")
	}

	// Same keys in the same order through our writer.
	keys := make([]string, 0, len(rawKeys(t, src)))
	for _, k := range rawKeys(t, src) {
		kb, _ := hex.DecodeString(k.Key)
		keys = append(keys, string(kb))
	}
	var buf bytes.Buffer
	if _, err := src.WriteRDB(ctx, &buf, keys...); err != nil {
		t.Fatal(err)
	}
	pyBytes, err := os.ReadFile(pyFile)
	if err != nil {
		t.Fatal(err)
	}
	goBytes := buf.Bytes()
	if len(goBytes) != len(pyBytes) || !bytes.Equal(goBytes[:len(goBytes)-8], pyBytes[:len(pyBytes)-8]) {
		t.Errorf("Go's RDB (%d bytes) differs from Python's (%d bytes) before the checksum", len(goBytes), len(pyBytes))
	}
}
