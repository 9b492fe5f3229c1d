package main

import (
	"math"
	"strings"
	"testing"

	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/pyval/pyjson"
)

// TestYAMLDumpRoundTrip: what edit shows in the editor reads back (with
// PyYAML's rules) as the same value, for the values that trip YAML 1.1.
func TestYAMLDumpRoundTrip(t *testing.T) {
	for _, js := range []string{
		`{}`, `[]`, `"yes"`, `"no"`, `"on"`, `"~"`, `"null"`, `""`, `" padded "`, `"1e3"`, `"1.5"`, `"0x1f"`, `"1:30"`,
		`"2024-01-31"`, `"a: b"`, `"# c"`, `"- x"`, `"multi\nline"`, `"tab\there"`, `"quote\"s"`, `"é ünï 😀"`, "\"\\u2028\\u0001\\u007f\"",
		`1e-07`, `1e+16`, `21600.0`, `-0.0`, `0.1`, `18446744073709551615`, `-9223372036854775808`, `true`, `null`,
		`{"b": {"c": [1, {"d": []}, [[]], [1, [2, 3]]]}, "a": {}, "": "empty key", "yes": "key"}`,
		`[{"a": 1, "b": [{"c": {}}]}, "x", [{"y": null}]]`,
	} {
		v, err := pyjson.Unmarshal([]byte(js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		doc, err := yamlDump(v)
		if err != nil {
			t.Errorf("%s: %v", js, err)
			continue
		}
		back, err := pyjson.FromYAML([]byte(doc))
		if err != nil || !pyval.Equal(back, v) {
			t.Errorf("%s: dumped as %q, read back %v (%v)", js, doc, back, err)
		}
	}
}

func TestYAMLFloat(t *testing.T) {
	for f, want := range map[float64]string{1e16: "1.0e+16", 1e-07: "1.0e-07", 21600: "21600.0", 1.5e300: "1.5e+300", math.Inf(1): ".inf", math.Inf(-1): "-.inf"} {
		if got := yamlFloat(f); got != want {
			t.Errorf("yamlFloat(%v) = %q, want %q", f, got, want)
		}
	}
}

// FuzzYAMLDump: every JSON value without NaN that edit shows as YAML
// reads back as itself.
func FuzzYAMLDump(f *testing.F) {
	for _, s := range []string{`{"a": [1, 2.5, "x: y"]}`, `"yes"`, `[{"b": {}}]`, `1e-07`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := pyjson.Unmarshal(data)
		if err != nil || hasNaN(v) {
			return
		}
		if _, err := yamlDump(v); err != nil {
			t.Fatalf("%q: %v", data, err)
		}
	})
}

func hasNaN(v pyval.Value) bool {
	switch x := v.(type) {
	case pyval.Float:
		return math.IsNaN(float64(x))
	case pyval.List:
		for _, e := range x {
			if hasNaN(e) {
				return true
			}
		}
	case *pyval.Dict:
		for _, it := range x.Items() {
			if hasNaN(it.Value) {
				return true
			}
		}
	}
	return false
}

// FuzzImportFiles: import files are user input. Parsing either format
// never panics, and every accepted entry has a valid key path.
func FuzzImportFiles(f *testing.F) {
	f.Add([]byte("/a: {b: 1}\n/c: text\n"))
	f.Add([]byte(workflowsYAML))
	f.Add([]byte("workflows:\n- {type: batch, id: a, version: 0.1, image: i}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if entries, err := parseImport("f", data); err == nil {
			for _, e := range entries {
				if !strings.HasPrefix(e.path, "/") || strings.HasSuffix(e.path, "/") {
					t.Fatalf("%q: accepted path %q", data, e.path)
				}
			}
		}
		if v, err := pyjson.FromYAML(data); err == nil {
			order, images, err := workflowDefs(v)
			if err == nil && len(order) != len(images) {
				t.Fatalf("%q: %d definitions, %d images", data, len(order), len(images))
			}
		}
	})
}
