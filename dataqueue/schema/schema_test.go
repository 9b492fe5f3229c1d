package schema

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/sdpkit/sdpkit/internal/vectors"
	"github.com/sdpkit/sdpkit/internal/vectors/dqvalue"
	"github.com/sdpkit/sdpkit/pyval"
)

// vectorValues returns the values of the named msgpack_numpy and json
// vectors.
func vectorValues(t *testing.T) map[string]pyval.Value {
	t.Helper()
	out := map[string]pyval.Value{}
	for _, file := range []string{"msgpack_numpy.jsonl", "text_json.jsonl"} {
		for _, r := range vectors.JSONL[struct {
			Name  string          `json:"name"`
			Value json.RawMessage `json:"value"`
		}](t, "dataqueues", file) {
			v, err := dqvalue.Parse(r.Value)
			if err != nil {
				t.Fatalf("%s: %v", r.Name, err)
			}
			out[r.Name] = v
		}
	}
	return out
}

// wantProblems checks that err is a *ValidationError from schema whose
// problems are exactly at the given paths (in any order), each message
// containing the matching fragment.
func wantProblems(t *testing.T, err error, schema string, want map[string]string) {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) || !errors.Is(err, ErrInvalid) {
		t.Fatalf("error %v is not a *ValidationError wrapping ErrInvalid", err)
	}
	if ve.Schema != schema {
		t.Errorf("schema %q, want %q", ve.Schema, schema)
	}
	got := map[string]string{}
	for _, p := range ve.Problems {
		if _, dup := got[p.Path]; dup {
			t.Errorf("two problems at %q: %v", p.Path, ve)
		}
		got[p.Path] = p.Message
	}
	for path, frag := range want {
		msg, ok := got[path]
		if !ok {
			t.Errorf("no problem reported at %q; got %v", path, ve)
		} else if !strings.Contains(msg, frag) {
			t.Errorf("problem at %q is %q, want it to mention %q", path, msg, frag)
		}
		if !strings.Contains(ve.Error(), path) {
			t.Errorf("Error() %q does not name %q", ve.Error(), path)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d problems, want %d: %v", len(got), len(want), ve)
	}
}

// pointingArray builds n pointing records named by names.
func pointingArray(names ...string) *pyval.NDArray {
	dt := PointingDType()
	a := &pyval.NDArray{DType: dt, Shape: []int{len(names)}, Data: make([]byte, len(names)*dt.ItemSize())}
	for i, n := range names {
		for j, r := range n {
			a.Data[i*dt.ItemSize()+4*j] = byte(r)
		}
	}
	return a
}

// withFields returns the pointing dtype's fields changed by edit.
func withFields(t *testing.T, edit func([]pyval.Field) []pyval.Field) *pyval.NDArray {
	t.Helper()
	dt := PointingDType()
	fields := edit(slices.Clone(dt.Fields))
	l := pyval.List{}
	for _, f := range fields {
		l = append(l, pyval.Tuple{pyval.Str(f.Name), f.DType.Descr()})
	}
	nd, err := pyval.DTypeFromDescr(l)
	if err != nil {
		t.Fatal(err)
	}
	return &pyval.NDArray{DType: nd, Shape: []int{1}, Data: make([]byte, nd.ItemSize())}
}

func TestPointingDType(t *testing.T) {
	vals := vectorValues(t)
	a := vals["struct_pointing_1"].(*pyval.NDArray)
	if !a.DType.Equal(PointingDType()) || PointingDType().ItemSize() != 136 {
		t.Errorf("PointingDType %s (%d bytes) differs from the vector's %s", PointingDType(), PointingDType().ItemSize(), a.DType)
	}
	if n := PointingFieldNames(); len(n) != 14 || n[0] != "antenna_name" || n[13] != "fitted_height_std" {
		t.Errorf("PointingFieldNames %v", n)
	}
}

func TestPointingRecordValid(t *testing.T) {
	vals := vectorValues(t)
	dict := vals["pointing_dict"]
	rec := vals["struct_pointing_1"].(*pyval.NDArray)
	for name, v := range map[string]pyval.Value{
		"struct_pointing_1":  rec,
		"struct_pointing_3":  vals["struct_pointing_3"],
		"struct_pointing_0d": vals["struct_pointing_0d"],
		"pointing_dict":      dict,
		"list of dicts":      pyval.List{dict, dict},
		"numpy.void record":  &pyval.Scalar{DType: rec.DType, Data: rec.Data},
	} {
		if err := (PointingRecord{}).Validate(v); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestPointingRecordProblems(t *testing.T) {
	vals := vectorValues(t)
	f32 := pyval.Float32
	cases := []struct {
		name string
		v    pyval.Value
		want map[string]string
	}{
		{"not a record", pyval.Str("x"), map[string]string{"": "want a structured ndarray"}},
		{"plain array", pyval.ArrayOf([]float64{1}), map[string]string{"dtype": "structured pointing dtype"}},
		{"missing field", withFields(t, func(f []pyval.Field) []pyval.Field { return f[:13] }),
			map[string]string{"dtype.fitted_height_std": "missing field"}},
		{"extra, mistyped and missing fields at once", withFields(t, func(f []pyval.Field) []pyval.Field {
			f[2].DType = f32
			f = append(f[:5], f[6:]...)
			return append(f, pyval.Field{Name: "extra", DType: pyval.Int8})
		}), map[string]string{"dtype.xel_offset": "want dtype <f8, got <f4", "dtype.el_offset_std": "missing field", "dtype.extra": "unexpected field"}},
		{"order", withFields(t, func(f []pyval.Field) []pyval.Field { f[1], f[2] = f[2], f[1]; return f }),
			map[string]string{"dtype": "fields in order [antenna_name, xel_offset, last_scan_index"}},
		{"big-endian", withFields(t, func(f []pyval.Field) []pyval.Field { f[3].DType.ByteOrder = '>'; return f }),
			map[string]string{"dtype.xel_offset_std": "want dtype <f8, got >f8"}},
		{"2-d and empty names", func() pyval.Value {
			a := pointingArray("SKA001", "", "SKA003", "")
			a.Shape = []int{2, 2}
			return a
		}(), map[string]string{"shape": "0-d or 1-d", "[1].antenna_name": "non-empty", "[3].antenna_name": "non-empty"}},
		{"dict problems", func() pyval.Value {
			d := &pyval.Dict{}
			for _, it := range vals["pointing_dict"].(*pyval.Dict).Items() {
				d.Set(it.Key, it.Value)
			}
			d.SetStr("antenna_name", pyval.Str("SKA001-long"))
			d.SetStr("xel_offset", pyval.Str("3.5"))
			d.SetStr("el_offset", pyval.Bool(true))
			d.Delete(pyval.Str("fitted_height"))
			d.SetStr("comment", pyval.Str("x"))
			d.SetStr("last_scan_index", pyval.IntOf(9))
			return d
		}(), map[string]string{
			"antenna_name": "at most 8 characters", "xel_offset": "want a real number", "el_offset": "got bool",
			"fitted_height": "missing", "comment": "unexpected field",
		}},
		{"list of bad records", pyval.List{pyval.IntOf(1), pyval.StrDict("antenna_name", pyval.Str(""))}, func() map[string]string {
			m := map[string]string{"[0]": "want a dict", "[1].antenna_name": "non-empty"}
			for _, n := range PointingFieldNames()[1:] {
				m["[1]."+n] = "missing"
			}
			return m
		}()},
		{"empty list", pyval.List{}, map[string]string{"": "at least one record"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantProblems(t, (PointingRecord{}).Validate(c.v), "PointingNumpyArray", c.want)
		})
	}
}

// validTable returns a PointingTable in Dataset.to_dict form: 1 time, 2
// antennas, 1 frequency, 1 receptor, 2 angles, 2 polarisations.
func validTable() *pyval.Dict {
	zeros := func(shape ...int) *pyval.NDArray {
		n := 1
		for _, d := range shape {
			n *= d
		}
		return pyval.ArrayOf(make([]float64, n), shape...)
	}
	entry := func(data pyval.Value, dims ...string) *pyval.Dict {
		t := pyval.Tuple{}
		for _, d := range dims {
			t = append(t, pyval.Str(d))
		}
		return pyval.StrDict("dims", t, "attrs", &pyval.Dict{}, "data", data)
	}
	coords := pyval.StrDict(
		"time", entry(pyval.ArrayOf([]float64{5.179e9}), "time"),
		"antenna", entry(pyval.ArrayOf([]int64{0, 1}), "antenna"),
		"frequency", entry(pyval.ArrayOf([]float64{1.329e9}), "frequency"),
		"receptor", entry(pyval.StringArray([]string{"I"}), "receptor"),
		"angle", entry(pyval.List{pyval.Str("az"), pyval.Str("el")}, "angle"),
		"polarisation", entry(pyval.StringArray([]string{"H", "V"}), "polarisation"),
	)
	p5 := []string{"time", "antenna", "frequency", "receptor", "angle"}
	w5 := []string{"time", "antenna", "frequency", "receptor", "polarisation"}
	h4 := []string{"time", "antenna", "frequency", "receptor"}
	vars := pyval.StrDict(
		"pointing", entry(zeros(1, 2, 1, 1, 2), p5...),
		"nominal", entry(zeros(1, 2, 1, 1, 2), p5...),
		"expected_width", entry(zeros(1, 2, 1, 1, 2), w5...),
		"fitted_width", entry(zeros(1, 2, 1, 1, 2), w5...),
		"fitted_width_std", entry(zeros(1, 2, 1, 1, 2), w5...),
		"fitted_height", entry(zeros(1, 2, 1, 1), h4...),
		"fitted_height_std", entry(zeros(1, 2, 1, 1), h4...),
		"weight", entry(zeros(1, 2, 1, 1, 2), p5...),
		"residual", entry(zeros(1, 1, 1, 2), "time", "frequency", "receptor", "angle"),
		"interval", entry(zeros(1), "time"),
		"datetime", entry(&pyval.NDArray{DType: pyval.DType{Kind: 'M', ByteOrder: '<', Size: 8, Unit: "ns"}, Shape: []int{1}, Data: make([]byte, 8)}, "time"),
	)
	return pyval.StrDict("coords", coords, "data_vars", vars,
		"attrs", pyval.StrDict("data_model", pyval.Str("PointingTable"), "pointing_frame", pyval.Str("local")),
		"dims", pyval.StrDict("time", pyval.IntOf(1), "antenna", pyval.IntOf(2)))
}

func sub(d *pyval.Dict, path ...string) *pyval.Dict {
	for _, p := range path {
		v, _ := d.GetStr(p)
		d = v.(*pyval.Dict)
	}
	return d
}

func TestPointingTable(t *testing.T) {
	if err := (PointingTable{}).Validate(validTable()); err != nil {
		t.Fatalf("valid table: %v", err)
	}
	cases := []struct {
		name string
		edit func(d *pyval.Dict)
		want map[string]string
	}{
		{"missing coord and variables", func(d *pyval.Dict) {
			sub(d, "coords").Delete(pyval.Str("frequency"))
			sub(d, "coords").Delete(pyval.Str("polarisation"))
			sub(d, "data_vars").Delete(pyval.Str("residual"))
			sub(d, "data_vars").Delete(pyval.Str("interval")) // optional
		}, map[string]string{"coords.frequency": "missing coordinate", "coords.polarisation": "missing coordinate", "data_vars.residual": "missing data variable"}},
		{"dims, dtype and shape", func(d *pyval.Dict) {
			sub(d, "data_vars", "nominal").SetStr("dims", pyval.Tuple{pyval.Str("time"), pyval.Str("antenna")})
			sub(d, "data_vars", "weight").SetStr("data", pyval.ArrayOf(make([]int32, 4), 1, 2, 1, 1, 2))
			sub(d, "data_vars", "fitted_height").SetStr("data", pyval.ArrayOf(make([]float64, 3), 1, 3, 1, 1))
			sub(d, "data_vars", "pointing").SetStr("data", pyval.ArrayOf(make([]float64, 4), 2, 2))
			sub(d, "coords", "antenna").SetStr("data", pyval.ArrayOf([]float64{0, 1}))
			sub(d, "coords", "angle").SetStr("dims", pyval.Tuple{pyval.Str("ang")})
		}, map[string]string{
			"data_vars.nominal.dims":  "want (time, antenna, frequency, receptor, angle), got (time, antenna)",
			"data_vars.weight.data":   "want a float dtype, got <i4",
			"data_vars.fitted_height": "dimension antenna has length 3 here but 2",
			"data_vars.pointing.data": "want 5 dimensions",
			"coords.antenna.data":     "want int values",
			"coords.angle.dims":       "want (angle), got (ang)",
		}},
		{"dims map, attrs and layout", func(d *pyval.Dict) {
			sub(d, "dims").SetStr("time", pyval.IntOf(5))
			sub(d, "attrs").SetStr("data_model", pyval.Str("GainTable"))
			sub(d, "data_vars").SetStr("datetime", pyval.StrDict("dims", pyval.Str("time"), "data", pyval.ArrayOf([]float64{1})))
			sub(d, "data_vars").SetStr("expected_width", pyval.IntOf(1))
			sub(d, "data_vars", "fitted_width").Delete(pyval.Str("data"))
		}, map[string]string{
			"dims.time":                   "length 5 here but 1",
			"attrs.data_model":            "want 'PointingTable'",
			"data_vars.datetime.data":     "datetime64",
			"data_vars.expected_width":    "want a dict with dims and data",
			"data_vars.fitted_width.data": "missing",
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := validTable()
			c.edit(d)
			wantProblems(t, (PointingTable{}).Validate(d), "PointingTable", c.want)
		})
	}
	wantProblems(t, (PointingTable{}).Validate(pyval.List{}), "PointingTable", map[string]string{"": "want the dict form"})
	wantProblems(t, (PointingTable{}).Validate(pyval.StrDict("coords", pyval.IntOf(1))), "PointingTable",
		map[string]string{"coords": "want a dict", "data_vars": "missing"})
}

func TestSignalDisplayMetrics(t *testing.T) {
	vals := vectorValues(t)
	s := SignalDisplayMetrics()
	for _, name := range []string{"dict_with_array", "json_signal_display_like"} {
		if err := s.Validate(vals[name]); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	bad := pyval.StrDict("timestamp", pyval.Float(-1), "spectral_window", pyval.IntOf(-2),
		"processing_block_id", pyval.Str(""), "baseline", pyval.IntOf(1), "other", pyval.None)
	wantProblems(t, s.Validate(bad), "MetricPayload", map[string]string{
		"data": "missing", "timestamp": "non-negative", "spectral_window": "non-negative int",
		"processing_block_id": "non-empty", "baseline": "want a str",
	})
	wantProblems(t, s.Validate(pyval.StrDict("data", pyval.StringArray([]string{"x"}))), "MetricPayload",
		map[string]string{"data": "numeric array"})
	wantProblems(t, s.Validate(pyval.StrDict("data", pyval.List{pyval.Float(1), pyval.Str("x")})), "MetricPayload",
		map[string]string{"data": "element 1"})
	wantProblems(t, s.Validate(pyval.IntOf(1)), "MetricPayload", map[string]string{"": "want a dict"})
}

func TestDictSchemaStrictKeys(t *testing.T) {
	s := &DictSchema{SchemaName: "S", Fields: []Field{{Name: "a"}}}
	d := pyval.StrDict("a", pyval.None)
	d.Set(pyval.IntOf(1), pyval.None)
	wantProblems(t, s.Validate(d), "S", map[string]string{"": "key 1 is not a str"})
}
