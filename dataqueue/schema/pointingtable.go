package schema

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sdpkit/sdpkit/pyval"
)

// PointingTable is the schema of the PointingTable data model
// (ska-sdp-datamodels), which ska-sdp-dataqueues validates with an xradio
// schema when an xarray Dataset is sent. Neither xarray nor the xarray
// wire encoding exists in Go (its format is undocumented), so the schema
// checks the Dataset in the dict form xarray itself produces and reads,
// Dataset.to_dict(data="array") / Dataset.from_dict:
//
//	{"coords":    {name: {"dims": (name,), "data": array, "attrs": {…}}, …},
//	 "data_vars": {name: {"dims": (d1, d2, …), "data": array, "attrs": {…}}, …},
//	 "attrs":     {"data_model": "PointingTable", …},
//	 "dims":      {name: length, …}}
//
// What is checked (PointingTable.constructor's layout):
//
//   - coords time (float), antenna (int), frequency (float), receptor
//     (str) and angle (str) are present, each one-dimensional over its own
//     dimension; polarisation (str) too when a data variable uses it;
//   - data vars pointing, nominal and weight over (time, antenna,
//     frequency, receptor, angle); residual over (time, frequency,
//     receptor, angle); expected_width, fitted_width and fitted_width_std
//     over (time, antenna, frequency, receptor, polarisation);
//     fitted_height and fitted_height_std over (time, antenna, frequency,
//     receptor) are present, with exactly those dims, float arrays whose
//     number of dimensions matches; optional pointing_std (as pointing),
//     interval (time, float) and datetime (time, datetime64) are checked
//     when present; other variables are allowed;
//   - every dimension has one length throughout: coordinate lengths, data
//     variable shapes and the "dims" map when given;
//   - attrs, when given, is a dict whose data_model, if present, is
//     "PointingTable".
//
// Coordinate data may be an ndarray or a list (to_dict(data="list"));
// data variables must be ndarrays. Attribute values (ReceptorFrame,
// SkyCoord, Configuration objects in Python) are not checked.
type PointingTable struct{}

// Name returns "PointingTable".
func (PointingTable) Name() string { return "PointingTable" }

// tableVar describes one data variable of the pointing table.
type tableVar struct {
	name     string
	dims     []string
	kind     byte // 'f' float, 'M' datetime64
	optional bool
}

var (
	dimsPointing = []string{"time", "antenna", "frequency", "receptor", "angle"}
	dimsWidth    = []string{"time", "antenna", "frequency", "receptor", "polarisation"}
	dimsHeight   = []string{"time", "antenna", "frequency", "receptor"}
)

var tableVars = []tableVar{
	{name: "pointing", dims: dimsPointing, kind: 'f'},
	{name: "nominal", dims: dimsPointing, kind: 'f'},
	{name: "pointing_std", dims: dimsPointing, kind: 'f', optional: true},
	{name: "expected_width", dims: dimsWidth, kind: 'f'},
	{name: "fitted_width", dims: dimsWidth, kind: 'f'},
	{name: "fitted_width_std", dims: dimsWidth, kind: 'f'},
	{name: "fitted_height", dims: dimsHeight, kind: 'f'},
	{name: "fitted_height_std", dims: dimsHeight, kind: 'f'},
	{name: "weight", dims: dimsPointing, kind: 'f'},
	{name: "residual", dims: []string{"time", "frequency", "receptor", "angle"}, kind: 'f'},
	{name: "interval", dims: []string{"time"}, kind: 'f', optional: true},
	{name: "datetime", dims: []string{"time"}, kind: 'M', optional: true},
}

// tableCoords lists the coordinates and the element kind each holds:
// 'f' float, 'i' integer, 'U' str.
var tableCoords = []struct {
	name     string
	kind     byte
	optional bool // required only when a variable uses the dimension
}{
	{"time", 'f', false},
	{"antenna", 'i', false},
	{"frequency", 'f', false},
	{"receptor", 'U', false},
	{"angle", 'U', false},
	{"polarisation", 'U', true},
}

// Validate checks v; see PointingTable.
func (s PointingTable) Validate(v pyval.Value) error {
	var p problems
	ds, ok := v.(*pyval.Dict)
	if !ok {
		p.add("", "want the dict form of a Dataset (Dataset.to_dict), got %s", describe(v))
		return p.err(s.Name())
	}
	lengths := map[string]int{} // dimension lengths seen so far
	sources := map[string]string{}
	setLen := func(path, dim string, n int) {
		if old, ok := lengths[dim]; ok && old != n {
			p.add(path, "dimension %s has length %d here but %d in %s", dim, n, old, sources[dim])
			return
		}
		if _, ok := lengths[dim]; !ok {
			lengths[dim], sources[dim] = n, path
		}
	}

	coords := subDict(&p, ds, "coords", false)
	vars := subDict(&p, ds, "data_vars", false)
	attrs := subDict(&p, ds, "attrs", true)
	dimsMap := subDict(&p, ds, "dims", true)

	usedDims := map[string]bool{}
	if vars != nil {
		for _, tv := range tableVars {
			path := join("data_vars", tv.name)
			entry, ok := vars.GetStr(tv.name)
			if !ok {
				if !tv.optional {
					p.add(path, "missing data variable")
				}
				continue
			}
			for _, d := range tv.dims {
				usedDims[d] = true
			}
			checkVariable(&p, path, entry, tv, setLen)
		}
	}
	if coords != nil {
		for _, c := range tableCoords {
			path := join("coords", c.name)
			entry, ok := coords.GetStr(c.name)
			if !ok {
				if !c.optional || usedDims[c.name] {
					p.add(path, "missing coordinate")
				}
				continue
			}
			checkCoord(&p, path, c.name, c.kind, entry, setLen)
		}
	}
	if dimsMap != nil {
		for _, it := range dimsMap.Items() {
			name, ok := it.Key.(pyval.Str)
			n, err := pyval.AsInt64(it.Value)
			if !ok || err != nil || n < 0 {
				p.add("dims", "want dimension name: length, got %s: %s", pyval.Repr(it.Key), pyval.Repr(it.Value))
				continue
			}
			setLen(join("dims", string(name)), string(name), int(n))
		}
	}
	if attrs != nil {
		if dm, ok := attrs.GetStr("data_model"); ok && !pyval.Equal(dm, pyval.Str("PointingTable")) {
			p.add("attrs.data_model", "want 'PointingTable', got %s", pyval.Repr(dm))
		}
	}
	return p.err(s.Name())
}

// subDict returns ds[key] as a dict, reporting a missing (unless optional)
// or mistyped entry.
func subDict(p *problems, ds *pyval.Dict, key string, optional bool) *pyval.Dict {
	v, ok := ds.GetStr(key)
	if !ok {
		if !optional {
			p.add(key, "missing")
		}
		return nil
	}
	d, ok := v.(*pyval.Dict)
	if !ok {
		p.add(key, "want a dict, got %s", describe(v))
		return nil
	}
	return d
}

// entryParts returns the dims and data of a {"dims": …, "data": …} entry.
func entryParts(p *problems, path string, entry pyval.Value) (dims []string, data pyval.Value, ok bool) {
	d, isDict := entry.(*pyval.Dict)
	if !isDict {
		p.add(path, "want a dict with dims and data, got %s", describe(entry))
		return nil, nil, false
	}
	dv, hasDims := d.GetStr("dims")
	data, hasData := d.GetStr("data")
	if !hasDims {
		p.add(join(path, "dims"), "missing")
	}
	if !hasData {
		p.add(join(path, "data"), "missing")
	}
	if !hasDims || !hasData {
		return nil, nil, false
	}
	var items []pyval.Value
	switch x := dv.(type) {
	case pyval.Tuple:
		items = x
	case pyval.List:
		items = x
	case pyval.Str:
		items = []pyval.Value{x} // xarray accepts one dimension name
	default:
		p.add(join(path, "dims"), "want a tuple of dimension names, got %s", describe(dv))
		return nil, nil, false
	}
	for _, it := range items {
		s, isStr := it.(pyval.Str)
		if !isStr {
			p.add(join(path, "dims"), "want dimension names (str), got %s", pyval.Repr(dv))
			return nil, nil, false
		}
		dims = append(dims, string(s))
	}
	return dims, data, true
}

func checkVariable(p *problems, path string, entry pyval.Value, tv tableVar, setLen func(path, dim string, n int)) {
	dims, data, ok := entryParts(p, path, entry)
	if !ok {
		return
	}
	dimsOK := slices.Equal(dims, tv.dims)
	if !dimsOK {
		p.add(join(path, "dims"), "want (%s), got (%s)", strings.Join(tv.dims, ", "), strings.Join(dims, ", "))
	}
	a, isArray := data.(*pyval.NDArray)
	if !isArray {
		p.add(join(path, "data"), "want an ndarray, got %s", describe(data))
		return
	}
	if a.DType.Kind != tv.kind || a.DType.Fields != nil {
		want := "a float dtype"
		if tv.kind == 'M' {
			want = "a datetime64 dtype"
		}
		p.add(join(path, "data"), "want %s, got %s", want, a.DType)
	}
	if a.Ndim() != len(tv.dims) {
		p.add(join(path, "data"), "want %d dimensions (%s), got shape %v", len(tv.dims), strings.Join(tv.dims, ", "), a.Shape)
		return
	}
	if dimsOK {
		for i, d := range dims {
			setLen(path, d, a.Shape[i])
		}
	}
}

func checkCoord(p *problems, path, name string, kind byte, entry pyval.Value, setLen func(path, dim string, n int)) {
	dims, data, ok := entryParts(p, path, entry)
	if !ok {
		return
	}
	if len(dims) != 1 || dims[0] != name {
		p.add(join(path, "dims"), "want (%s), got (%s)", name, strings.Join(dims, ", "))
	}
	n, msg := coordValues(data, kind)
	if msg != "" {
		p.add(join(path, "data"), "%s", msg)
		return
	}
	setLen(path, name, n)
}

// coordValues checks coordinate data of the given element kind and
// returns its length.
func coordValues(data pyval.Value, kind byte) (int, string) {
	wantName := map[byte]string{'f': "float", 'i': "int", 'U': "str"}[kind]
	switch x := data.(type) {
	case *pyval.NDArray:
		if x.Ndim() != 1 {
			return 0, fmt.Sprintf("want a one-dimensional array, got shape %v", x.Shape)
		}
		k := x.DType.Kind
		if x.DType.Fields != nil || !(k == kind || kind == 'f' && (k == 'i' || k == 'u') || kind == 'i' && k == 'u') {
			return 0, fmt.Sprintf("want %s values, got dtype %s", wantName, x.DType)
		}
		return x.Shape[0], ""
	case pyval.List, pyval.Tuple:
		var items []pyval.Value
		if l, ok := x.(pyval.List); ok {
			items = l
		} else {
			items = x.(pyval.Tuple)
		}
		for i, e := range items {
			var good bool
			switch kind {
			case 'U':
				_, err := pyval.AsString(e)
				good = err == nil
			case 'i':
				good = NonNegativeInt(e) == "" || e.Kind() == pyval.KindInt
			default:
				good = RealNumber(e) == ""
			}
			if !good {
				return 0, fmt.Sprintf("element %d: want %s, got %s", i, wantName, describe(e))
			}
		}
		return len(items), ""
	}
	return 0, "want an ndarray or a list, got " + describe(data)
}
