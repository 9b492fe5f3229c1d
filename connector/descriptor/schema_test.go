package descriptor_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/sdpkit/sdpkit/connector/descriptor"
	"github.com/sdpkit/sdpkit/internal/vectors"
	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/pyval/pyjson"
)

func compile(t *testing.T, schema []byte) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("schema.json")
	if err != nil {
		t.Fatalf("schema does not compile: %v", err)
	}
	return s
}

func validate(s *jsonschema.Schema, data []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return err
	}
	return s.Validate(inst)
}

func referenceSchema(t *testing.T) []byte {
	return read(t, vectors.Path(t, "connector", "queue_connector_descriptor.schema.json"))
}

// TestSchemaOnVectors: our schema, the upstream-only variant and the
// reconstructed reference schema all accept every example and reject
// every invalid file.
func TestSchemaOnVectors(t *testing.T) {
	schemas := map[string]*jsonschema.Schema{
		"ours":      compile(t, descriptor.Schema()),
		"upstream":  compile(t, descriptor.Schema(descriptor.UpstreamOnly())),
		"reference": compile(t, referenceSchema(t)),
	}
	for name, s := range schemas {
		for _, f := range validFiles(t) {
			if err := validate(s, read(t, f)); err != nil {
				t.Errorf("%s schema rejects %s: %v", name, filepath.Base(f), err)
			}
		}
		for _, f := range invalidFiles(t) {
			if err := validate(s, read(t, f)); err == nil {
				t.Errorf("%s schema accepts %s", name, filepath.Base(f))
			}
		}
	}
}

// TestSchemaExtensions: the extension kinds are in the schema, marked
// x-sdpkit, and validate; UpstreamOnly leaves them out.
func TestSchemaExtensions(t *testing.T) {
	doc := minimal(`"source": {"type": "TelstateSensorSource", "db": "memory", "key": "k"}, "sink": {"type": "TelstateSink", "db": "memory", "key": "o", "immutable": true}`)
	if err := validate(compile(t, descriptor.Schema()), doc); err != nil {
		t.Errorf("schema rejects the extension kinds: %v", err)
	}
	if err := validate(compile(t, descriptor.Schema(descriptor.UpstreamOnly())), doc); err == nil {
		t.Error("upstream-only schema accepts the extension kinds")
	}
	defs := defsOf(t, descriptor.Schema())
	for _, name := range []string{"TelstateSensorSourceDescriptor", "TelstateSinkDescriptor"} {
		if m, _ := defs[name]["x-sdpkit"].(string); !strings.Contains(m, "extension") {
			t.Errorf("%s has no x-sdpkit marker: %v", name, defs[name])
		}
	}
	for name, d := range defsOf(t, descriptor.Schema(descriptor.UpstreamOnly())) {
		if _, ok := d["x-sdpkit"]; ok {
			t.Errorf("upstream-only schema has extension %s", name)
		}
	}
}

func defsOf(t *testing.T, schema []byte) map[string]map[string]any {
	t.Helper()
	var doc struct {
		Defs map[string]map[string]any `json:"$defs"`
	}
	if err := json.Unmarshal(schema, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Defs
}

// schemaDiff lists how b's object definitions differ from a's: kinds only
// in one, and per shared definition the property names, required sets,
// defaults and union members.
func schemaDiff(a, b map[string]map[string]any) []string {
	var diffs []string
	names := map[string]bool{}
	for n := range a {
		names[n] = true
	}
	for n := range b {
		names[n] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, n := range sorted {
		da, okA := a[n]
		db, okB := b[n]
		switch {
		case !okA:
			diffs = append(diffs, n+": only in ours")
			continue
		case !okB:
			diffs = append(diffs, n+": missing from ours")
			continue
		}
		pa, _ := da["properties"].(map[string]any)
		pb, _ := db["properties"].(map[string]any)
		if !reflect.DeepEqual(keys(pa), keys(pb)) {
			diffs = append(diffs, fmt.Sprintf("%s: properties %v, reference %v", n, keys(pb), keys(pa)))
		}
		if ra, rb := strSet(da["required"]), strSet(db["required"]); !reflect.DeepEqual(ra, rb) {
			diffs = append(diffs, fmt.Sprintf("%s: required %v, reference %v", n, rb, ra))
		}
		for p, sa := range pa {
			sb, ok := pb[p].(map[string]any)
			if !ok {
				continue
			}
			dA, hasA := defaultOf(a, sa.(map[string]any))
			dB, hasB := defaultOf(b, sb)
			if hasA != hasB || !reflect.DeepEqual(dA, dB) {
				diffs = append(diffs, fmt.Sprintf("%s.%s: default %v (%v), reference %v (%v)", n, p, dB, hasB, dA, hasA))
			}
		}
		for _, kw := range []string{"oneOf", "enum", "default"} {
			ua, ub := refSet(da[kw]), refSet(db[kw])
			for _, r := range ub {
				if !slices.Contains(ua, r) {
					diffs = append(diffs, fmt.Sprintf("%s: %s adds %s", n, kw, r))
				}
			}
			for _, r := range ua {
				if !slices.Contains(ub, r) {
					diffs = append(diffs, fmt.Sprintf("%s: %s lacks %s", n, kw, r))
				}
			}
		}
	}
	return diffs
}

// defaultOf is a property's default: its own, or that of the definition
// it refers to (the reference gives Encoding's default only there).
func defaultOf(defs map[string]map[string]any, prop map[string]any) (any, bool) {
	if d, ok := prop["default"]; ok {
		return d, true
	}
	if r, ok := prop["$ref"].(string); ok {
		d, ok := defs[strings.TrimPrefix(r, "#/$defs/")]["default"]
		return d, ok
	}
	return nil, false
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func strSet(v any) []string {
	l, _ := v.([]any)
	out := []string{}
	for _, e := range l {
		out = append(out, fmt.Sprint(e))
	}
	sort.Strings(out)
	return out
}

// refSet renders a oneOf/enum/default as a set of strings.
func refSet(v any) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		out := []string{}
		for _, e := range x {
			if m, ok := e.(map[string]any); ok {
				out = append(out, fmt.Sprint(m["$ref"]))
			} else {
				out = append(out, fmt.Sprint(e))
			}
		}
		sort.Strings(out)
		return out
	}
	return []string{fmt.Sprint(v)}
}

// TestSchemaMatchesReference compares the generated schema structurally
// with the reconstructed upstream schema: the same kinds, field names,
// defaults, required sets and enums. The only differences allowed are the
// ones listed here.
func TestSchemaMatchesReference(t *testing.T) {
	intended := []string{
		// Our extension kinds (x-sdpkit), and their places in the unions.
		"SinkDescriptor: oneOf adds #/$defs/TelstateSinkDescriptor",
		"SourceDescriptor: oneOf adds #/$defs/TelstateSensorSourceDescriptor",
		"TelstateSensorSourceDescriptor: only in ours",
		"TelstateSinkDescriptor: only in ours",
	}
	ref := defsOf(t, referenceSchema(t))
	got := schemaDiff(ref, defsOf(t, descriptor.Schema()))
	if !reflect.DeepEqual(got, intended) {
		t.Errorf("differences from the reference schema:\n  %s\nwant exactly:\n  %s", strings.Join(got, "\n  "), strings.Join(intended, "\n  "))
	}
	if got := schemaDiff(ref, defsOf(t, descriptor.Schema(descriptor.UpstreamOnly()))); len(got) != 0 {
		t.Errorf("upstream-only schema differs from the reference:\n  %s", strings.Join(got, "\n  "))
	}
	// The root: the same members and default.
	var a, b map[string]any
	json.Unmarshal(referenceSchema(t), &a)
	json.Unmarshal(descriptor.Schema(), &b)
	ea := a["properties"].(map[string]any)["exchanges"].(map[string]any)
	eb := b["properties"].(map[string]any)["exchanges"].(map[string]any)
	if !reflect.DeepEqual(keys(a["properties"].(map[string]any)), keys(b["properties"].(map[string]any))) || ea["default"] != eb["default"] || b["additionalProperties"] != false {
		t.Errorf("root differs: %v / %v", b["properties"], a["properties"])
	}
}

// TestParserAgreesWithSchema: for thousands of one-change mutations of the
// examples (a member removed, a value replaced by each JSON type, an
// unknown member added), Parse accepts (or finds only Semantic problems)
// exactly when the generated schema accepts.
func TestParserAgreesWithSchema(t *testing.T) {
	s := compile(t, descriptor.Schema())
	n, accepted := 0, 0
	for _, f := range validFiles(t) {
		v, err := pyjson.Unmarshal(read(t, f))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mutants(v) {
			data, err := pyjson.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			n++
			_, perr := descriptor.Parse(data)
			parseOK := perr == nil
			var de *descriptor.Error
			if errors.As(perr, &de) && !slices.ContainsFunc(de.Problems, func(p descriptor.Problem) bool { return !p.Semantic }) {
				parseOK = true
			}
			serr := validate(s, data)
			if serr == nil {
				accepted++
			}
			if parseOK != (serr == nil) {
				t.Errorf("%s: Parse says %v, schema says %v, on\n%s", filepath.Base(f), perr, serr, data)
			}
		}
	}
	t.Logf("%d mutants, %d valid", n, accepted)
	if n < 1000 || accepted < n/10 || accepted > n*9/10 {
		t.Errorf("%d mutants, %d valid: too few, or too one-sided to show anything", n, accepted)
	}
}

var replacements = []pyval.Value{
	pyval.None, pyval.IntOf(0), pyval.IntOf(-1), pyval.Float(1.5), pyval.Str("x"),
	pyval.Bool(true), pyval.List{}, &pyval.Dict{}, pyval.List{pyval.IntOf(1)},
}

// mutants returns copies of v with one change each.
func mutants(v pyval.Value) []pyval.Value {
	var out []pyval.Value
	switch x := v.(type) {
	case *pyval.Dict:
		items := x.Items()
		rebuild := func(i int, nv pyval.Value, drop bool) *pyval.Dict {
			d := &pyval.Dict{}
			for j, it := range items {
				switch {
				case j != i:
					d.Set(it.Key, it.Value)
				case !drop:
					d.Set(it.Key, nv)
				}
			}
			return d
		}
		for i, it := range items {
			out = append(out, rebuild(i, nil, true))
			for _, r := range replacements {
				out = append(out, rebuild(i, r, false))
			}
			for _, m := range mutants(it.Value) {
				out = append(out, rebuild(i, m, false))
			}
		}
		extra := rebuild(-1, nil, false)
		extra.SetStr("zz_unknown", pyval.IntOf(1))
		out = append(out, extra)
	case pyval.List:
		for i := range x {
			drop := slices.Delete(slices.Clone(x), i, i+1)
			out = append(out, drop)
			for _, r := range replacements {
				c := slices.Clone(x)
				c[i] = r
				out = append(out, c)
			}
			for _, m := range mutants(x[i]) {
				c := slices.Clone(x)
				c[i] = m
				out = append(out, c)
			}
		}
	}
	return out
}
