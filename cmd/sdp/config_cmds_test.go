package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/config"
	"github.com/sdpkit/sdpkit/config/kv"
)

// stored reads path straight from the store ("" and false if missing).
func stored(t *testing.T, s kv.KV, path string) (string, bool) {
	t.Helper()
	v, _, err := config.NewDB(s).Get(context.Background(), path, 0)
	if err != nil {
		t.Fatal(err)
	}
	return string(v), v != nil
}

// fail runs a command that must fail with status code; stderr must
// contain msg.
func (e *cfgEnv) fail(t *testing.T, code int, msg string, args ...string) runResult {
	t.Helper()
	r := e.run(t, "", args...)
	if r.code != code || !strings.Contains(r.stderr, msg) {
		t.Errorf("sdp config %s: exit %d (want %d), stderr %q (want %q)", strings.Join(args, " "), r.code, code, r.stderr, msg)
	}
	return r
}

func expect(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

// The canonical (dict_to_json) form of {"x": 1.0, "b": [1, "é"]}: spec §3.
const canonicalXB = "{\n  \"b\": [\n    1,\n    \"é\"\n  ],\n  \"x\": 1.0\n}"

func TestConfigPathCommands(t *testing.T) {
	bothBackends(t, func(t *testing.T, e *cfgEnv) {
		expect(t, "create", e.ok(t, "create", "/a/b", `{"x": 1.0, "b": [1, "é"]}`), "/a/b created\n")
		if v, _ := stored(t, e.store, "/a/b"); v != canonicalXB {
			t.Errorf("stored %q, want %q", v, canonicalXB)
		}
		e.fail(t, 1, "ConfigCollision: Cannot create /a/b, as it already exists!", "create", "/a/b", "{}")
		e.ok(t, "create", "/a/c", "hello")
		e.ok(t, "create", "--raw", "/a/d", `{"y": 2}`)
		e.ok(t, "create", "/a/e", "x: [1, 2.5]\ny: yes\n")
		for path, want := range map[string]string{"/a/c": "hello", "/a/d": `{"y": 2}`, "/a/e": "{\n  \"x\": [\n    1,\n    2.5\n  ],\n  \"y\": true\n}"} {
			if v, _ := stored(t, e.store, path); v != want {
				t.Errorf("%s stored %q, want %q", path, v, want)
			}
		}
		e.fail(t, 2, "path must start with /", "create", "a/b", "1")
		e.fail(t, 2, "path must not end with /", "create", "/a/", "1")

		expect(t, "get", e.ok(t, "get", "/a/b"), "/a/b = "+canonicalXB+"\n")
		expect(t, "get -q", e.ok(t, "get", "-q", "/a/c"), "hello\n")
		expect(t, "get missing", e.ok(t, "get", "/nope"), "/nope = None\n")
		var got map[string]any
		if err := json.Unmarshal([]byte(e.ok(t, "get", "--json", "/a/c")), &got); err != nil || got["key"] != "/a/c" || got["value"] != "hello" {
			t.Errorf("get --json: %v %v", got, err)
		}
		expect(t, "get invalid", e.ok(t, "get", "a/c"), "'a/c' is not a valid key in the Config DB. Run 'ska-sdp list -a' to list all valid keys.\n")

		expect(t, "ls /", e.ok(t, "ls"), "Keys with prefix /: \n")
		expect(t, "ls /a", e.ok(t, "ls", "/a"), "Keys with prefix /a/: \n/a/b\n/a/c\n/a/d\n/a/e\n")
		e.ok(t, "create", "/a/b/deep/er", "1")
		expect(t, "ls -R", e.ok(t, "ls", "-R", "-q", "/"), "/a/b\n/a/b/deep/er\n/a/c\n/a/d\n/a/e\n")
		expect(t, "ls -v", e.ok(t, "ls", "-v", "/a/b"), "Keys with prefix /a/b/: \n")
		expect(t, "ls -R -v -q", e.ok(t, "ls", "-R", "-v", "-q", "/a/b"), "1\n")
		var keys []string
		if err := json.Unmarshal([]byte(e.ok(t, "ls", "--json", "/a")), &keys); err != nil || strings.Join(keys, ",") != "/a/b,/a/c,/a/d,/a/e" {
			t.Errorf("ls --json: %q %v", keys, err)
		}

		expect(t, "update", e.ok(t, "update", "/a/c", "[1, 2]"), "/a/c updated.\n")
		if v, _ := stored(t, e.store, "/a/c"); v != "[\n  1,\n  2\n]" {
			t.Errorf("updated /a/c = %q", v)
		}
		e.fail(t, 1, "ConfigVanished: Cannot update /nope, as it does not exist!", "update", "/nope", "1")

		expect(t, "delete", e.ok(t, "delete", "/a/c"), "/a/c\nDeleted above keys with prefix /a/c.\n")
		e.fail(t, 1, "ConfigVanished: Cannot delete /a/c, as it does not exist!", "delete", "/a/c")

		// Recursive deletes ask; no answer means no.
		r := e.run(t, "", "delete", "-R", "/a/b")
		if r.code != 1 || !strings.Contains(r.stderr, "Continue? (yes, no)") || !strings.Contains(r.stderr, "--yes") {
			t.Errorf("delete -R without answer: %+v", r)
		}
		r = e.run(t, "no\n", "delete", "-R", "/a/b")
		if _, ok := stored(t, e.store, "/a/b"); r.code != 1 || !ok {
			t.Errorf("delete -R answered no: %+v, /a/b exists %v", r, ok)
		}
		e.ok(t, "create", "/a/b0", "sibling")
		e.ok(t, "create", "/a/b0/child", "sibling")
		r = e.run(t, "yes\n", "delete", "-R", "/a/b")
		expect(t, "delete -R", r.stdout, "/a/b\n/a/b/deep/er\nDeleted above keys with prefix /a/b.\n")
		if _, ok := stored(t, e.store, "/a/b0/child"); !ok || r.code != 0 {
			t.Errorf("delete -R /a/b: exit %d; sibling /a/b0/child survived: %v", r.code, ok)
		}
		expect(t, "delete -R -y -q", e.ok(t, "delete", "-R", "-y", "-q", "/a/b0"), "Deleted above keys with prefix /a/b0.\n")
		expect(t, "after deletes", e.ok(t, "ls", "-R", "-q", "/"), "/a/d\n/a/e\n")
	})
}

func TestConfigGlobalPrefix(t *testing.T) {
	e := memoryEnv(t)
	e.ok(t, "--prefix", "/sdp", "create", "/pb/x", `{"a": 1}`)
	res, err := e.store.Txn(context.Background(), nil, []kv.Op{{Type: kv.OpRange, Key: []byte{0}, RangeEnd: []byte{0}, KeysOnly: true}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Results[0].KVs) != 1 || string(res.Results[0].KVs[0].Key) != "3/sdp/pb/x" {
		t.Fatalf("keys %v, want only 3/sdp/pb/x", res.Results[0].KVs)
	}
	expect(t, "ls with prefix", e.ok(t, "--prefix", "/sdp", "ls", "-R"), "Keys with prefix /: \n/pb/x\n")
	expect(t, "list -a with prefix", e.ok(t, "--prefix", "/sdp", "list", "-a"), "Keys with prefix /: \n/pb/x\n")
	expect(t, "get with prefix", e.ok(t, "--prefix", "/sdp", "get", "-q", "/pb/x"), "{\n  \"a\": 1\n}\n")
	expect(t, "without prefix", e.ok(t, "ls", "-R", "-q"), "/sdp/pb/x\n")
	e.fail(t, 2, "--prefix", "--prefix", "sdp", "ls")
}

func TestConfigConnection(t *testing.T) {
	e := etcdEnv(t)
	port := e.env["SDP_CONFIG_PORT"]
	// Flags override the environment.
	bad := &cfgEnv{env: map[string]string{"SDP_CONFIG_BACKEND": "bogus", "SDP_CONFIG_PORT": "1"}}
	r := bad.run(t, "", "ls")
	if r.code != 2 || !strings.Contains(r.stderr, "Unknown configuration backend bogus!") {
		t.Errorf("bogus backend: %+v", r)
	}
	bad.ok(t, "--backend", "etcd3", "--port", port, "create", "/k", "v")
	expect(t, "--endpoints", bad.ok(t, "--backend", "etcd3", "--endpoints", "http://127.0.0.1:"+port, "get", "-q", "/k"), "v\n")
	expect(t, "env", e.ok(t, "get", "-q", "/k"), "v\n")
	bad.fail(t, 2, "not a number", "--backend", "etcd", "--port", "x", "ls")
	bad.fail(t, 1, "reading certificate", "--backend", "etcd3", "--port", port, "--protocol", "https", "--cert", filepath.Join(t.TempDir(), "none.pem"), "ls")
	garbage := writeFile(t, t.TempDir(), "garbage.pem", "not pem")
	bad.fail(t, 1, "no PEM certificate found", "--backend", "etcd3", "--port", port, "--protocol", "https", "--cert", garbage, "ls")
	bad.fail(t, 1, "store unavailable", "--backend", "etcd3", "--port", "1", "--timeout", "300ms", "ls")
	mem := &cfgEnv{env: map[string]string{"SDP_CONFIG_BACKEND": "etcd3"}}
	expect(t, "--backend memory", mem.ok(t, "--backend", "memory", "ls"), "Keys with prefix /: \n")
}

// editorScript writes an $EDITOR that saves a copy of the file it was
// given to dir/seen.yaml and then runs sh code on it ($1).
func editorScript(t *testing.T, dir, code string) string {
	t.Helper()
	p := filepath.Join(dir, fmt.Sprintf("editor-%d.sh", time.Now().UnixNano()))
	body := "#!/bin/sh\ncp \"$1\" " + filepath.Join(dir, "seen.yaml") + "\n" + code + "\n"
	if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigEdit(t *testing.T) {
	bothBackends(t, func(t *testing.T, e *cfgEnv) {
		dir := t.TempDir()
		e.ok(t, "create", "/sb/sbi-1", `{"status": "IDLE", "max_length": 21600.0, "scan_types": [{"id": "science"}], "note": "a: b"}`)
		e.env["EDITOR"] = editorScript(t, dir, "")
		expect(t, "unchanged", e.ok(t, "edit", "/sb/sbi-1"), "No change!\n")
		seen, _ := os.ReadFile(filepath.Join(dir, "seen.yaml"))
		if !strings.HasPrefix(string(seen), "# Editing key /sb/sbi-1\n") || !strings.Contains(string(seen), "status: IDLE\n") {
			t.Errorf("editor saw %q", seen)
		}
		e.env["EDITOR"] = editorScript(t, dir, `sed -i 's/IDLE/READY/' "$1"`)
		expect(t, "changed", e.ok(t, "edit", "sbi", "sbi-1"), "/sb/sbi-1 updated.\n")
		want := "{\n  \"max_length\": 21600.0,\n  \"note\": \"a: b\",\n  \"scan_types\": [\n    {\n      \"id\": \"science\"\n    }\n  ],\n  \"status\": \"READY\"\n}"
		if v, _ := stored(t, e.store, "/sb/sbi-1"); v != want {
			t.Errorf("after edit %q, want %q", v, want)
		}
		// Text that is not JSON is edited as text.
		e.ok(t, "create", "/t", "plain words")
		e.env["EDITOR"] = editorScript(t, dir, `sed -i 's/plain/edited/' "$1"`)
		e.ok(t, "edit", "/t")
		if v, _ := stored(t, e.store, "/t"); v != "edited words" {
			t.Errorf("text edit %q", v)
		}
		e.env["EDITOR"] = editorScript(t, dir, `printf 'a: [unclosed\n' > "$1"`)
		e.fail(t, 1, "not valid YAML", "edit", "/sb/sbi-1")
		e.fail(t, 1, "ConfigVanished", "edit", "/missing")
		e.env["EDITOR"] = editorScript(t, dir, "exit 3")
		e.fail(t, 1, "editor", "edit", "/sb/sbi-1")
		delete(e.env, "EDITOR")
		e.fail(t, 1, "EDITOR", "edit", "/sb/sbi-1")
	})
}

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigImport(t *testing.T) {
	bothBackends(t, func(t *testing.T, e *cfgEnv) {
		dir := t.TempDir()
		js := writeFile(t, dir, "a.json", `{"/x/a": {"k": [1, 2.0]}, "/x/b": "verbatim text", "/x/c": 42, "/x/d": null}`)
		expect(t, "import json", e.ok(t, "import", js), "/x/a created\n/x/b created\n/x/c created\n/x/d created\nImported "+js+": 4 created, 0 updated, 0 unchanged.\n")
		for path, want := range map[string]string{"/x/a": "{\n  \"k\": [\n    1,\n    2.0\n  ]\n}", "/x/b": "verbatim text", "/x/c": "42", "/x/d": "null"} {
			if v, _ := stored(t, e.store, path); v != want {
				t.Errorf("%s = %q, want %q", path, v, want)
			}
		}
		ym := writeFile(t, dir, "b.yaml", "/x/a:\n  k: [1, 2.0]\n/x/b: changed\n/x/e:\n  - on\n")
		expect(t, "import yaml", e.ok(t, "import", ym), "/x/b updated.\n/x/e created\nImported "+ym+": 1 created, 1 updated, 1 unchanged.\n")
		if v, _ := stored(t, e.store, "/x/e"); v != "[\n  true\n]" {
			t.Errorf("/x/e = %q", v)
		}
		// Bad input: the error names the file and the entry; nothing is
		// written.
		for _, c := range []struct{ name, body, msg string }{
			{"badpath.yaml", "/x/new: 1\nnot-a-path: 2\n", `entry "not-a-path": config: invalid path "not-a-path": path must start with /`},
			{"trailing.json", `{"/x/new": 1, "/x/": 2}`, `entry "/x/": `},
			{"list.yaml", "- a\n- b\n", "want a mapping of path to value, got list"},
			{"broken.json", `{"/x/new": `, "not JSON or YAML"},
			{"intkey.yaml", "/x/new: 1\n5: x\n", "entry 2: key 5 is not a path string"},
		} {
			p := writeFile(t, dir, c.name, c.body)
			r := e.fail(t, 2, c.msg, "import", p)
			if !strings.Contains(r.stderr, p) {
				t.Errorf("%s: error does not name the file: %q", c.name, r.stderr)
			}
			if _, ok := stored(t, e.store, "/x/new"); ok {
				t.Errorf("%s: /x/new was written", c.name)
			}
		}
		e.fail(t, 1, "no such file", "import", filepath.Join(dir, "missing.json"))
		// ls -R -v --json output imports back byte for byte.
		dump := writeFile(t, dir, "dump.json", e.ok(t, "ls", "-R", "-v", "--json", "/"))
		fresh := memoryEnv(t)
		fresh.ok(t, "import", dump)
		expect(t, "round trip", fresh.ok(t, "list", "-a", "-v"), e.ok(t, "list", "-a", "-v"))
	})
}

func TestConfigWatch(t *testing.T) {
	bothBackends(t, func(t *testing.T, e *cfgEnv) {
		e.ok(t, "create", "/w", "v0")
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		done := make(chan runResult, 1)
		go func() { done <- e.runCtx(t, ctx, "", "watch", "--count", "2", "/w") }()
		// Keep changing the key until the watch has seen a change.
		var r runResult
		for n := 1; ; n++ {
			select {
			case r = <-done:
			case <-time.After(20 * time.Millisecond):
				if r := e.run(t, "", "update", "/w", fmt.Sprintf("v%d", n)); r.code != 0 {
					t.Fatalf("update: %+v", r)
				}
				continue
			}
			break
		}
		lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
		if r.code != 0 || len(lines) != 2 || lines[0] == lines[1] || !strings.HasPrefix(lines[0], "/w = v") || !strings.HasPrefix(lines[1], "/w = v") {
			t.Errorf("watch: %+v", r)
		}
		// An interrupted watch ends quietly.
		ctx2, cancel2 := context.WithCancel(context.Background())
		go func() { time.Sleep(50 * time.Millisecond); cancel2() }()
		if r := e.runCtx(t, ctx2, "", "watch", "/w"); r.code != 0 || !strings.HasPrefix(r.stdout, "/w = v") {
			t.Errorf("interrupted watch: %+v", r)
		}
	})
}

// TestConfigCompatForms covers ska-sdp forms the vector does not run.
func TestConfigCompatForms(t *testing.T) {
	e := memoryEnv(t)
	dir := t.TempDir()
	out := e.ok(t, "create", "pb", "batch:test:0.1", "{length: 21600.0}")
	id, ok := strings.CutPrefix(strings.TrimSpace(out), "Processing block created with pb_id: pb-sdpcli-")
	if !ok {
		t.Fatalf("create pb: %q", out)
	}
	pbID := "pb-sdpcli-" + id
	date := time.Now().Format("20060102")
	if !strings.HasPrefix(id, date+"-") {
		t.Errorf("pb id %s not of today", pbID)
	}
	e.ok(t, "create", "pb-state", pbID, `{"status": "RUNNING"}`)
	e.fail(t, 1, "ConfigVanished", "update", "pb-state", "pb-nope", "{}")
	expect(t, "update pb-state", e.ok(t, "update", "pb-state", pbID, `{"status": "FINISHED"}`), "/pb/"+pbID+"/state updated.\n")
	v, _ := stored(t, e.store, "/pb/"+pbID)
	if !strings.Contains(v, `"length": 21600.0`) || !strings.Contains(v, `"sbi_id": null`) {
		t.Errorf("pb stored %q", v)
	}
	expect(t, "get pb", e.ok(t, "get", "pb", pbID), "/pb/"+pbID+" = "+v+"\n/pb/"+pbID+"/state = {\"status\": \"FINISHED\"}\n")
	var arr []map[string]any
	if err := json.Unmarshal([]byte(e.ok(t, "get", "--json", "pb", pbID)), &arr); err != nil || len(arr) != 2 || arr[1]["key"] != "/pb/"+pbID+"/state" {
		t.Errorf("get --json pb: %v %v", arr, err)
	}
	expect(t, "watch PATH/", e.ok(t, "watch", "--count", "1", "/pb/"+pbID+"/"), "/pb/"+pbID+"/state = {\"status\": \"FINISHED\"}\n")
	expect(t, "get pb without id", e.ok(t, "get", "pb"), "Cannot 'get' processing block without its ID. Run 'ska-sdp get pb <pb_id>'\n")
	expect(t, "list pb date", e.ok(t, "list", "pb", date), "Processing blocks for date "+date+": \n/pb/"+pbID+"\n/pb/"+pbID+"/state\n")
	expect(t, "list pb other date", e.ok(t, "list", "pb", "19990101"), "Processing blocks for date 19990101: \n")
	e.fail(t, 2, "unknown deployment type", "create", "deployment", "d1", "docker", "{}")
	e.ok(t, "create", "deployment", "d1", "helm", "chart: x")
	e.ok(t, "create", "deployment", "d10", "helm", "chart: y")
	e.ok(t, "create", "subarray", "3", `{"state": "OFF"}`)
	expect(t, "update subarray", e.ok(t, "update", "subarray", "3", `{"state": "ON"}`), "/subarray/03 updated.\n")
	e.ok(t, "create", "master", `{"state": "ON"}`)
	expect(t, "get master", e.ok(t, "get", "-q", "master"), `{"state": "ON"}`+"\n")
	// Deleting d1 leaves d10 (0.3.2 deleted both).
	expect(t, "delete deployment", e.ok(t, "delete", "deployment", "d1"), "/deploy/d1\nDeleted above keys with prefix /deploy/d1.\n")
	expect(t, "list deployment", e.ok(t, "list", "deployment"), "Keys with prefix /deploy: \n/deploy/d10\n")
	// delete -a asks first.
	if r := e.run(t, "", "delete", "-a", "deployment"); r.code != 1 {
		t.Errorf("delete -a without answer: %+v", r)
	}
	r := e.run(t, "yes\n", "delete", "-a", "deployment")
	expect(t, "delete -a", r.stdout, "/deploy/d10\nDeleted above keys with prefix /deploy.\n")
	// 1.x object names are path prefixes.
	e.ok(t, "create", "script", "realtime:test:0.1", `{"image": "i"}`)
	expect(t, "list script", e.ok(t, "list", "-q", "script"), "/script/realtime:test:0.1\n")

	// import workflows: flat format, updates, --sync, bad input.
	flat := writeFile(t, dir, "flat.yaml", "workflows:\n- {type: batch, id: a, version: '1.0', image: reg/a:1.0}\n- {type: batch, id: b, version: 0.2, image: reg/b:0.2}\n")
	expect(t, "import flat", e.ok(t, "import", "workflows", flat), "Importing workflow definitions from "+flat+"\nCreating ('batch', 'a', '1.0')\nCreating ('batch', 'b', '0.2')\nImport finished successfully.\n")
	expect(t, "import again", e.ok(t, "import", "workflows", flat), "Importing workflow definitions from "+flat+"\nNo changes\nImport finished successfully.\n")
	flat2 := writeFile(t, dir, "flat2.yaml", "workflows:\n- {type: batch, id: a, version: '1.0', image: reg/a:1.1}\n")
	expect(t, "import sync", e.ok(t, "import", "workflows", "--sync", flat2), "Importing workflow definitions from "+flat2+"\nUpdating ('batch', 'a', '1.0')\nDeleting ('batch', 'b', '0.2')\nImport finished successfully.\n")
	if v, _ := stored(t, e.store, "/workflow/batch:a:1.0"); v != "{\n  \"image\": \"reg/a:1.1\"\n}" {
		t.Errorf("workflow = %q", v)
	}
	r = e.run(t, "", "import", "workflows", filepath.Join(dir, "nope.yaml"))
	if r.code != 1 || !strings.HasSuffix(r.stdout, "Bad file name or URL. Please fix, and retry.\n") {
		t.Errorf("bad file: %+v", r)
	}
	bad := writeFile(t, dir, "bad.yaml", "workflows: [unclosed\n")
	r = e.run(t, "", "import", "workflows", bad)
	if r.code != 1 || !strings.HasSuffix(r.stdout, "Malformed YAML/JSON file. Please fix, and retry.\n") {
		t.Errorf("malformed: %+v", r)
	}
	expect(t, "list usage", e.fail(t, 2, "give -a or an object", "list").stdout, "")
}
