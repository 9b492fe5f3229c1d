package descriptor_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sdpkit/sdpkit/connector/descriptor"
	"github.com/sdpkit/sdpkit/internal/vectors"
	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/pyval/pyjson"
)

// validFiles are every file that must parse: examples/*.json and the
// docs' exchanges_json property example.
func validFiles(t *testing.T) []string {
	t.Helper()
	dir := vectors.Dir(t, "connector")
	files, err := filepath.Glob(filepath.Join(dir, "examples", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples in %s: %v", dir, err)
	}
	return append(files, filepath.Join(dir, "docs_examples", "tango_property_exchanges_json.json"))
}

func invalidFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(vectors.Dir(t, "connector"), "invalid", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no invalid examples: %v", err)
	}
	return files
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustParse(t *testing.T, data []byte, opts ...descriptor.Option) *descriptor.Descriptor {
	t.Helper()
	d, err := descriptor.Parse(data, opts...)
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, data)
	}
	return d
}

func TestParseExamples(t *testing.T) {
	for _, f := range validFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			d := mustParse(t, read(t, f))
			for _, ex := range d.All() {
				if len(ex.Sources) == 0 || ex.Sink == nil || ex.Pipe == nil {
					t.Errorf("exchange not filled: %+v", ex)
				}
			}
		})
	}
}

// TestExampleContents checks what Parse made of the examples, defaults
// included, through the typed API.
func TestExampleContents(t *testing.T) {
	dir := vectors.Dir(t, "connector")
	load := func(name string) *descriptor.Descriptor {
		return mustParse(t, read(t, filepath.Join(dir, "examples", name)))
	}

	d := load("01_kafka_float_to_tango_scalar.json")
	ex := d.Exchanges[0]
	src := ex.Sources[0].(*descriptor.KafkaConsumerSource)
	if src.Encoding != descriptor.EncodingPython || !reflect.DeepEqual(src.Servers, descriptor.OneServer("localhost:9092")) {
		t.Errorf("01 source: %+v", src)
	}
	if ex.DType.NumPy.String() != "<f8" || ex.DType.Builtin != "" || len(ex.Shape) != 0 {
		t.Errorf("01 dtype %v (%q) shape %v", ex.DType.NumPy, ex.DType.Builtin, ex.Shape)
	}
	sink := ex.Sink.(*descriptor.TangoLocalAttributeSink)
	if f, ok := sink.DefaultValue.(pyval.Float); !ok || f != 0 {
		t.Errorf("01 default_value %#v, want float 0.0", sink.DefaultValue)
	}

	d = load("02_tango_array_to_kafka_with_timestamp.json")
	ex = d.Exchanges[0]
	if _, ok := ex.Pipe.(*descriptor.DefaultPipe); !ok {
		t.Errorf("02 pipe %T, want the default", ex.Pipe)
	}
	ts := ex.Sources[0].(*descriptor.TangoSubscriptionSource)
	if ts.EType != descriptor.ChangeEvent || !ts.Stateless {
		t.Errorf("02 source %+v", ts)
	}
	ks := ex.Sink.(*descriptor.KafkaProducerSink)
	if ks.Servers.Joined || len(ks.Servers.Addrs) != 1 || ks.MessageMaxBytes != 1048576 || ks.TimestampOptions == nil ||
		ks.TimestampOptions.Key != nil || ks.TimestampOptions.Reducer != descriptor.ReducerNone || len(ks.TimestampOptions.Slices) != 1 {
		t.Errorf("02 sink %+v %+v", ks, ks.TimestampOptions)
	}

	d = load("03_pointing_sources_buffered_to_kafka.json")
	ex = d.Exchanges[0]
	if len(ex.Sources) != 3 || !ex.SourceList {
		t.Fatalf("03: %d sources, list %v", len(ex.Sources), ex.SourceList)
	}
	if ps := ex.Sources[2].(*descriptor.TangoPointingSubscriptionSource); ps.Stateless || ps.DeviceName != "mid-dish/dish-manager/SKA063" {
		t.Errorf("03 third source %+v", ps)
	}
	if got := ex.DType.NumPy.Names(); !reflect.DeepEqual(got, []string{"antenna_name", "ts", "az", "el"}) {
		t.Errorf("03 dtype fields %v", got)
	}
	if bp := ex.Pipe.(*descriptor.BufferWithTimePipe); bp.Timespan != 1 {
		t.Errorf("03 pipe %+v", bp)
	}
	if to := ex.Sink.(*descriptor.KafkaProducerSink).TimestampOptions; *to.Key != "ts" || to.Reducer != descriptor.ReducerMax || to.Slices == nil {
		t.Errorf("03 timestamp options %+v", to)
	}

	d = load("04_kafka_array_scatter_to_tango.json")
	as := d.Exchanges[0].Sink.(*descriptor.TangoArrayScatterAttributeSink)
	if as.Indices != nil || as.AttributeShapeNames != nil || as.Axis != 0 {
		t.Errorf("04 first sink: null defaults not kept: %+v", as)
	}
	as = d.Exchanges[1].Sink.(*descriptor.TangoArrayScatterAttributeSink)
	if !reflect.DeepEqual(as.Indices, []int{2, 7}) || len(as.AttributeShapeNames) != 3 {
		t.Errorf("04 second sink %+v", as)
	}

	d = load("05_kafka_json_object_scatter_jmespath.json")
	ex = d.Exchanges[0]
	if !ex.DType.Object() || ex.DType.Builtin != "object" {
		t.Errorf("05 dtype %+v", ex.DType)
	}
	attrs := ex.Sink.(*descriptor.TangoObjectScatterAttributeSink).Attributes
	last := attrs[2]
	if last.Path != "antenna_name" || last.Filter != nil || len(last.Shape) != 0 || last.DType.Builtin != "str" || last.DefaultValue != pyval.Str("") {
		t.Errorf("05 last attribute %+v", last)
	}
	if attrs[0].Path != "[last_scan_index, xel_offset, el_offset]" || *attrs[0].Filter != "antenna_name == 'SKA001'" {
		t.Errorf("05 first attribute %+v", attrs[0])
	}

	d = load("06_kafka_bytes_to_devencoded.json")
	if dt := d.Exchanges[0].DType; !dt.Encoded() || dt.NumPy.Kind != 'S' {
		t.Errorf("06 dtype %+v", dt)
	}

	d = load("07_in_memory_test.json")
	im := d.Exchanges[0].Sources[0].(*descriptor.InMemorySource)
	if !pyval.Equal(pyval.List(im.Data), pyval.List{pyval.IntOf(1), pyval.IntOf(2), pyval.IntOf(3)}) || im.Delay != 0.1 {
		t.Errorf("07 source %+v", im)
	}
	if ex := d.Exchanges[1]; ex.DType.Builtin != "str" || ex.Shape == nil || len(ex.Shape) != 0 || ex.Sources[0].(*descriptor.InMemorySource).Delay != 0 {
		t.Errorf("07 second exchange defaults: %+v", ex)
	}

	d = load("08_tango_to_remote_tango.json")
	if rs := d.Exchanges[0].Sink.(*descriptor.TangoRemoteAttributeSink); rs.DeviceName != "test/target/1" || rs.AttributeName != "mirrored_flag" {
		t.Errorf("08 sink %+v", rs)
	}

	d = load("09_grouped_exchanges_experimental.json")
	if d.Form != descriptor.FormGroups || len(d.Groups) != 2 || d.Groups[1].Name != "pb-test-20240101-00001" || len(d.All()) != 2 {
		t.Errorf("09 groups %+v", d.Groups)
	}

	if d := load("10_empty.json"); d.Form != descriptor.FormList || len(d.All()) != 0 {
		t.Errorf("10: %+v", d)
	}
	if d := load("11_null.json"); d.Form != descriptor.FormNull || len(d.All()) != 0 {
		t.Errorf("11: %+v", d)
	}
}

func TestParseInvalidFiles(t *testing.T) {
	want := map[string]struct{ path, reason string }{
		"bad_encoding.json":         {"exchanges[0].source.encoding", `"pickle" is not one of utf-8, ascii, python, json, msgpack_numpy, npy, carray`},
		"bad_reducer.json":          {"exchanges[0].sink.timestamp_options.reducer", `"median" is not one of min, max, mean`},
		"dtype_entry_too_long.json": {"exchanges[0].dtype[0]", "2 or 3 items"},
		"extra_field.json":          {"exchanges[0].unknown", "unknown field"},
		"missing_sink.json":         {"exchanges[0].sink", "required field is missing"},
		"top_level_extra.json":      {"version", "unknown field"},
		"unknown_source_type.json":  {"exchanges[0].source.type", `"FileSource" is not a source kind`},
	}
	files := invalidFiles(t)
	if len(files) != len(want) {
		t.Errorf("%d invalid files, %d expectations: update the table", len(files), len(want))
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			w, ok := want[name]
			if !ok {
				t.Fatalf("no expectation for %s", name)
			}
			_, err := descriptor.Parse(read(t, f))
			var de *descriptor.Error
			if !errors.As(err, &de) || !errors.Is(err, descriptor.ErrInvalid) {
				t.Fatalf("Parse error %v, want a *descriptor.Error", err)
			}
			if len(de.Problems) != 1 {
				t.Errorf("problems %v, want one", de.Problems)
			}
			p := de.Problems[0]
			if p.Path != w.path || !strings.Contains(p.Msg, w.reason) || p.Semantic {
				t.Errorf("problem %q, want path %q and reason containing %q", p, w.path, w.reason)
			}
			if !strings.Contains(err.Error(), w.path+": ") {
				t.Errorf("error text %q does not name the path", err)
			}
		})
	}
}

// minimal wraps one exchange's members (JSON text) into a descriptor.
func minimal(members string) []byte {
	return []byte(`{"exchanges": [{` + members + `}]}`)
}

const memSource = `"source": {"type": "InMemorySource", "data": []}`
const memSink = `"sink": {"type": "InMemorySink", "key": "k"}`

func TestParseProblems(t *testing.T) {
	tests := []struct {
		name  string
		doc   []byte
		opts  []descriptor.Option
		probs []string // "path: reason-substring"
		// semantic: every problem is one the schema cannot express
		semantic bool
	}{
		{"not json", []byte(`{"exchanges": [`), nil, []string{"not JSON"}, false},
		{"not an object", []byte(`[1]`), nil, []string{`want a JSON object with an "exchanges" member`}, false},
		{"exchanges wrong type", []byte(`{"exchanges": 3}`), nil, []string{"exchanges: want null, a list"}, false},
		{"group not a list", []byte(`{"exchanges": {"g": 1}}`), nil, []string{`exchanges["g"]: want a list of exchanges`}, false},
		{"several at once", minimal(`"dtype": 3, "shape": ["x"], "source": {"type": "KafkaConsumerSource", "servers": 1, "topic": "t", "extra": 0}, "pipe": {"type": "BufferWithTimePipe", "timespan": -1}, "sink": {}`), nil, []string{
			"exchanges[0].dtype: want a dtype string",
			"exchanges[0].shape[0]: want an integer",
			"exchanges[0].source.extra: unknown field (KafkaConsumerSource has servers, topic, encoding)",
			"exchanges[0].source.servers: want a host:port string",
			"exchanges[0].pipe.timespan: -1 is less than the minimum 0",
			"exchanges[0].sink.type: required field is missing",
		}, false},
		{"group path", []byte(`{"exchanges": {"pb-1": [{` + memSource + `, "sink": {"type": "InMemorySink"}}]}}`), nil, []string{`exchanges["pb-1"][0].sink.key: required field is missing`}, false},
		{"source list item", minimal(memSource[:len(`"source": `)] + `[{"type": "InMemorySource", "data": []}, {"type": "InMemorySource"}], ` + memSink), nil, []string{"exchanges[0].source[1].data: required field is missing"}, false},
		{"etype number out of range", minimal(`"source": {"type": "TangoSubscriptionSource", "device_name": "a/b/c", "attribute_name": "x", "etype": 9}, ` + memSink), nil, []string{"exchanges[0].source.etype: 9 is not a Tango event type number"}, false},
		{"etype unknown name", minimal(`"source": {"type": "TangoSubscriptionSource", "device_name": "a/b/c", "attribute_name": "x", "etype": "NO_EVENT"}, ` + memSink), nil, []string{`exchanges[0].source.etype: "NO_EVENT" is not one of CHANGE_EVENT`}, false},
		{"int field float", minimal(memSource + `, "sink": {"type": "TangoArrayScatterAttributeSink", "attribute_names": ["a"], "axis": 1.5}`), nil, []string{"exchanges[0].sink.axis: want an integer, got 1.5"}, false},
		{"null not allowed", minimal(memSource + `, "sink": {"type": "KafkaProducerSink", "servers": "h:1", "topic": "t", "message_max_bytes": null}`), nil, []string{"exchanges[0].sink.message_max_bytes: want an integer, got null"}, false},
		{"nan delay", minimal(`"source": {"type": "InMemorySource", "data": [], "delay": NaN}, ` + memSink), nil, []string{"exchanges[0].source.delay: want a finite number"}, false},
		{"slices item", minimal(memSource + `, "sink": {"type": "KafkaProducerSink", "servers": "h:1", "topic": "t", "timestamp_options": {"slices": [0, 1.5]}}`), nil, []string{"exchanges[0].sink.timestamp_options.slices[1]: want an integer index"}, false},
		{"pipe without type", minimal(memSource + `, "pipe": {}, ` + memSink), nil, []string{"exchanges[0].pipe.type: required field is missing (the pipe kind: one of DefaultPipe, BufferWithTimePipe)"}, false},
		{"structured field name", minimal(`"dtype": [[1, "<f8"]], ` + memSource + ", " + memSink), nil, []string{"exchanges[0].dtype[0][0]: want a field name string"}, false},
		{"nested structured", minimal(`"dtype": [["a", [["b", 2]]]], ` + memSource + ", " + memSink), nil, []string{"exchanges[0].dtype[0][1][0][1]: want a dtype string or a structured list"}, false},

		// Checks the schema cannot express.
		{"unknown dtype", minimal(`"dtype": "float65", ` + memSource + ", " + memSink), nil, []string{`exchanges[0].dtype: "float65" is not a dtype`}, true},
		{"unknown field dtype", minimal(`"dtype": [["a", "nope"]], ` + memSource + ", " + memSink), nil, []string{`exchanges[0].dtype[0][1]: "nope" is not a dtype`}, true},
		{"duplicate field", minimal(`"dtype": [["a", "<f8"], ["a", "<i4"]], ` + memSource + ", " + memSink), nil, []string{`exchanges[0].dtype: `, "twice"}, true},
		{"bytes not scalar", minimal(`"dtype": "bytes", "shape": [2], ` + memSource + ", " + memSink), nil, []string{`exchanges[0].shape: dtype "bytes" is scalar only`}, true},
		{"object attribute not scalar", minimal(memSource + `, "sink": {"type": "TangoObjectScatterAttributeSink", "attributes": [{"attribute_name": "a", "dtype": "object_", "shape": [3]}]}`), nil, []string{`exchanges[0].sink.attributes[0].shape: dtype "object_" is scalar only`}, true},
		{"no sources", minimal(`"source": [], ` + memSink), nil, []string{"exchanges[0].source: an exchange needs at least one source"}, true},
		{"scatter lengths", minimal(memSource + `, "sink": {"type": "TangoArrayScatterAttributeSink", "attribute_names": ["a", "b"], "attribute_shape_names": ["s"], "indices": [1, 2]}`), nil, []string{
			"exchanges[0].sink.attribute_shape_names: has 1 names, but attribute_names has 2",
			"exchanges[0].sink.indices: 2 split boundaries make 3 parts",
		}, true},
		{"no servers", minimal(`"source": {"type": "KafkaConsumerSource", "servers": [], "topic": "t"}, ` + memSink), nil, []string{"exchanges[0].source.servers: needs at least one host:port"}, true},

		{"extension rejected upstream", minimal(memSource + `, "sink": {"type": "TelstateSink", "db": "memory", "key": "k"}`), []descriptor.Option{descriptor.UpstreamOnly()}, []string{`exchanges[0].sink.type: "TelstateSink" is an sdpkit extension`}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := descriptor.Parse(tt.doc, tt.opts...)
			var de *descriptor.Error
			if !errors.As(err, &de) {
				t.Fatalf("Parse error %v, want a *descriptor.Error", err)
			}
			text := err.Error()
			for _, want := range tt.probs {
				if !strings.Contains(text, want) {
					t.Errorf("error %q\ndoes not contain %q", text, want)
				}
			}
			if tt.name != "duplicate field" && len(de.Problems) != len(tt.probs) {
				t.Errorf("%d problems, want %d: %v", len(de.Problems), len(tt.probs), de.Problems)
			}
			for _, p := range de.Problems {
				if p.Semantic != tt.semantic {
					t.Errorf("problem %q: semantic %v, want %v", p, p.Semantic, tt.semantic)
				}
			}
		})
	}
}

func TestSyntaxErrorUnwraps(t *testing.T) {
	_, err := descriptor.Parse([]byte(`{"exchanges": `))
	var se *pyjson.SyntaxError
	if !errors.As(err, &se) || !errors.Is(err, descriptor.ErrInvalid) {
		t.Fatalf("error %v (%T) does not unwrap to a *pyjson.SyntaxError and ErrInvalid", err, err)
	}
}

// TestDefaults: every documented default, applied to a minimal object.
func TestDefaults(t *testing.T) {
	d := mustParse(t, []byte(`{"exchanges": [
		{"source": {"type": "KafkaConsumerSource", "servers": "a:1,b:2", "topic": "t"},
		 "sink": {"type": "KafkaProducerSink", "servers": ["c:3"], "topic": "u"}},
		{"source": [{"type": "TangoSubscriptionSource", "device_name": "d/e/f", "attribute_name": "x", "etype": 2},
		            {"type": "InMemorySource", "data": [1, 1.0, "s", null, {"k": [true]}]}],
		 "pipe": {"type": "BufferWithTimePipe"},
		 "sink": {"type": "TangoObjectScatterAttributeSink", "attributes": [{"attribute_name": "a", "dtype": "int"}]}},
		{"source": {"type": "TelstateSensorSource", "db": "memory", "key": "k"},
		 "sink": {"type": "TelstateSink", "db": "redis://h:6379/0", "key": "out"}},
		{"source": {"type": "InMemorySource", "data": []},
		 "sink": {"type": "TangoArrayScatterAttributeSink", "attribute_names": ["a"]}}]}`))
	ex := d.Exchanges[0]
	if ex.DType.Builtin != "str" || ex.DType.String() != "str" || ex.DType.NumPy.Kind != 'U' || ex.Shape == nil || len(ex.Shape) != 0 {
		t.Errorf("exchange dtype/shape defaults: %+v %v", ex.DType, ex.Shape)
	}
	if _, ok := ex.Pipe.(*descriptor.DefaultPipe); !ok {
		t.Errorf("pipe default %T", ex.Pipe)
	}
	ks := ex.Sources[0].(*descriptor.KafkaConsumerSource)
	if ks.Encoding != "python" || !ks.Servers.Joined || !reflect.DeepEqual(ks.Servers.Addrs, []string{"a:1", "b:2"}) {
		t.Errorf("kafka source %+v", ks)
	}
	kp := ex.Sink.(*descriptor.KafkaProducerSink)
	if kp.Encoding != "python" || kp.MessageMaxBytes != 1048576 || kp.TimestampOptions != nil || kp.Servers.Joined {
		t.Errorf("kafka sink %+v", kp)
	}

	ex = d.Exchanges[1]
	ts := ex.Sources[0].(*descriptor.TangoSubscriptionSource)
	if ts.EType != descriptor.PeriodicEvent || !ts.Stateless {
		t.Errorf("tango source %+v", ts)
	}
	im := ex.Sources[1].(*descriptor.InMemorySource)
	wantData := pyval.List{pyval.IntOf(1), pyval.Float(1), pyval.Str("s"), pyval.None, pyval.StrDict("k", pyval.List{pyval.Bool(true)})}
	if im.Delay != 0 || !pyval.Equal(pyval.List(im.Data), wantData) {
		t.Errorf("in-memory source %+v", im)
	}
	if _, isInt := im.Data[0].(pyval.Int); !isInt {
		t.Errorf("data[0] %T, want pyval.Int", im.Data[0])
	}
	if _, isFloat := im.Data[1].(pyval.Float); !isFloat {
		t.Errorf("data[1] %T, want pyval.Float", im.Data[1])
	}
	if bp := ex.Pipe.(*descriptor.BufferWithTimePipe); bp.Timespan != 0 {
		t.Errorf("buffer pipe %+v", bp)
	}
	a := ex.Sink.(*descriptor.TangoObjectScatterAttributeSink).Attributes[0]
	if a.Path != "@" || a.Filter != nil || a.Shape == nil || len(a.Shape) != 0 || a.DefaultValue != pyval.Str("") || a.DType.NumPy.String() != "<i8" {
		t.Errorf("attribute %+v", a)
	}

	ex = d.Exchanges[2]
	if s := ex.Sources[0].(*descriptor.TelstateSensorSource); s.Namespace != "" || s.DB != "memory" {
		t.Errorf("telstate source %+v", s)
	}
	if s := ex.Sink.(*descriptor.TelstateSink); s.Immutable || s.Namespace != "" || s.DB != "redis://h:6379/0" {
		t.Errorf("telstate sink %+v", s)
	}

	as := d.Exchanges[3].Sink.(*descriptor.TangoArrayScatterAttributeSink)
	if as.Axis != 0 || as.Indices != nil || as.AttributeShapeNames != nil || as.DefaultValue != pyval.Str("") {
		t.Errorf("array scatter %+v", as)
	}
}

func TestDTypes(t *testing.T) {
	tests := []struct {
		lit, builtin, numpy string
		encoded, object     bool
	}{
		{"str", "str", "<U0", false, false},
		{"str_", "str", "<U0", false, false},
		{"bool", "bool", "|b1", false, false},
		{"int", "int", "<i8", false, false},
		{"float", "float", "<f8", false, false},
		{"object", "object", "|O", false, true},
		{"object_", "object", "|O", false, true},
		{"bytes", "bytes", "|S0", true, false},
		{"bytes_", "", "|S0", false, false},
		{"uint8", "", "|u1", false, false},
		{"float32", "", "<f4", false, false},
		{"datetime64", "", "<M8", false, false},
		{"<M8[ns]", "", "<M8[ns]", false, false},
		{">i2", "", ">i2", false, false},
		{"U6", "", "<U6", false, false},
	}
	for _, tt := range tests {
		d, err := descriptor.NewDType(tt.lit)
		if err != nil {
			t.Errorf("NewDType(%q): %v", tt.lit, err)
			continue
		}
		if d.Builtin != tt.builtin || d.NumPy.String() != tt.numpy || d.Encoded() != tt.encoded || d.Object() != tt.object || d.String() != tt.lit {
			t.Errorf("NewDType(%q) = %+v (numpy %s, encoded %v, object %v)", tt.lit, d, d.NumPy, d.Encoded(), d.Object())
		}
	}
	if _, err := descriptor.NewDType("float65"); !errors.Is(err, descriptor.ErrInvalid) {
		t.Errorf("NewDType(float65) error %v", err)
	}
	// A structured dtype may use builtin names and sub-array shapes.
	d := mustParse(t, minimal(`"dtype": [["name", "str_"], ["pos", "float", [2]], ["inner", [["x", "int32"]]]], `+memSource+", "+memSink))
	dt := d.Exchanges[0].DType
	if got := dt.NumPy.String(); got != "[('name', '<U0'), ('pos', '<f8', (2,)), ('inner', [('x', '<i4')])]" {
		t.Errorf("structured dtype %s", got)
	}
}

// TestRoundTrip: Marshal writes every member with its default, and
// parsing that gives the same descriptor (and the same bytes again).
func TestRoundTrip(t *testing.T) {
	for _, f := range validFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			d1 := mustParse(t, read(t, f))
			m1, err := descriptor.Marshal(d1)
			if err != nil {
				t.Fatal(err)
			}
			d2 := mustParse(t, m1)
			if !reflect.DeepEqual(d1, d2) {
				t.Errorf("Parse(Marshal(d)) differs from d\n%s", m1)
			}
			m2, err := descriptor.Marshal(d2)
			if err != nil || string(m2) != string(m1) {
				t.Errorf("Marshal not stable (%v):\n%s\n---\n%s", err, m1, m2)
			}
			// Everything the file says is kept, and the defaults are
			// added: the file is a sub-document of the output.
			in, _ := pyjson.Unmarshal(read(t, f))
			out, _ := pyjson.Unmarshal(m1)
			if path, ok := subDocument(in, out, ""); !ok {
				t.Errorf("input member %s is not kept in\n%s", path, m1)
			}
		})
	}
}

// subDocument reports whether every member of a is in b with an equal
// value (objects compared member by member).
func subDocument(a, b pyval.Value, path string) (string, bool) {
	ad, ok1 := a.(*pyval.Dict)
	bd, ok2 := b.(*pyval.Dict)
	if ok1 && ok2 {
		for _, it := range ad.Items() {
			k := string(it.Key.(pyval.Str))
			bv, ok := bd.GetStr(k)
			if !ok {
				return path + "." + k, false
			}
			if p, ok := subDocument(it.Value, bv, path+"."+k); !ok {
				return p, false
			}
		}
		return "", true
	}
	al, ok1 := a.(pyval.List)
	bl, ok2 := b.(pyval.List)
	if ok1 && ok2 && len(al) == len(bl) {
		for i := range al {
			if p, ok := subDocument(al[i], bl[i], path+"[]"); !ok {
				return p, false
			}
		}
		return "", true
	}
	// A number member is a float (2 is written 2.0); data keep their kind.
	promoted := a.Kind() == pyval.KindInt && b.Kind() == pyval.KindFloat
	if ad == nil && pyval.Equal(a, b) && (a.Kind() == b.Kind() || promoted) {
		return "", true
	}
	return path, false
}

func TestMarshalBuiltValues(t *testing.T) {
	// A descriptor built in Go, with zero values where defaults apply.
	d := &descriptor.Descriptor{Form: descriptor.FormList, Exchanges: []*descriptor.Exchange{{
		DType:   descriptor.MustDType("float64"),
		Shape:   []int{3},
		Sources: []descriptor.Source{&descriptor.KafkaConsumerSource{Servers: descriptor.OneServer("k:9092"), Topic: "in"}},
		Sink:    &descriptor.TangoLocalAttributeSink{AttributeName: "x"},
	}}}
	m, err := descriptor.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	back := mustParse(t, m)
	ex := back.Exchanges[0]
	if ex.Sources[0].(*descriptor.KafkaConsumerSource).Encoding != "python" || ex.Sink.(*descriptor.TangoLocalAttributeSink).DefaultValue != pyval.Str("") {
		t.Errorf("defaults not written:\n%s", m)
	}
	if _, ok := ex.Pipe.(*descriptor.DefaultPipe); !ok {
		t.Errorf("nil pipe not written as DefaultPipe:\n%s", m)
	}
}
