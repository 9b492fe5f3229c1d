package schema

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sdpkit/sdpkit/pyval"
)

// pointingFloatFields are the 13 float64 fields of the pointing record,
// after antenna_name, in record order.
var pointingFloatFields = [...]string{
	"last_scan_index",
	"xel_offset", "xel_offset_std",
	"el_offset", "el_offset_std",
	"expected_width_h", "expected_width_v",
	"fitted_width_h", "fitted_width_h_std",
	"fitted_width_v", "fitted_width_v_std",
	"fitted_height", "fitted_height_std",
}

// PointingFieldNames returns the 14 field names of the pointing record in
// order: antenna_name, then the 13 float64 fields.
func PointingFieldNames() []string {
	return append([]string{"antenna_name"}, pointingFloatFields[:]...)
}

// PointingDType returns the structured dtype of the pointing record that
// the pointing pipeline (ska-sdp-wflow-pointing-offset) publishes to the
// pointing_offset topic: antenna_name '<U8' followed by the 13 float64
// fields of PointingFieldNames, little-endian, packed (136 bytes).
func PointingDType() pyval.DType {
	fields := make([]pyval.Field, 0, 1+len(pointingFloatFields))
	fields = append(fields, pyval.Field{Name: "antenna_name", DType: pyval.DType{Kind: 'U', ByteOrder: '<', Size: 8}})
	for _, n := range pointingFloatFields {
		fields = append(fields, pyval.Field{Name: n, DType: pyval.Float64})
	}
	return pyval.DType{Kind: 'V', ByteOrder: '|', Size: 32 + 8*len(pointingFloatFields), Fields: fields}
}

// PointingRecord is the schema of the structured pointing record, Python's
// PointingNumpyArray (name "PointingNumpyArray"). It accepts three forms:
//
//   - a structured *pyval.NDArray of PointingDType, 0-d or 1-d (one record
//     or several), as PointingNumpyArray.to_numpy() builds and
//     msgpack_numpy sends; a *pyval.Scalar of that dtype (one numpy.void
//     record) likewise;
//   - a dict of the 14 fields (the dataclass's keyword arguments);
//   - a list of such dicts.
//
// For arrays it checks the dtype field by field (every missing, unexpected
// or mistyped field, and the order when the fields are right but ordered
// differently; byte order must be little-endian as numpy writes it on SDP
// hardware), the number of dimensions, and that every record's
// antenna_name is non-empty. For dicts it checks that exactly the 14 keys
// are present, that antenna_name is a str of 1 to 8 characters (the
// '<U8' limit) and that the 13 others are real numbers (int or float, NaN
// allowed: a failed fit may report NaN). The values of float fields are
// otherwise unchecked: the valid ranges are not published.
type PointingRecord struct{}

// Name returns "PointingNumpyArray".
func (PointingRecord) Name() string { return "PointingNumpyArray" }

// pointingDict checks the dict form.
var pointingDict = func() *DictSchema {
	s := &DictSchema{SchemaName: "PointingNumpyArray", Fields: []Field{{Name: "antenna_name", Check: String(1, 8)}}}
	for _, n := range pointingFloatFields {
		s.Fields = append(s.Fields, Field{Name: n, Check: RealNumber})
	}
	return s
}()

// Validate checks v; see PointingRecord.
func (s PointingRecord) Validate(v pyval.Value) error {
	var p problems
	switch x := v.(type) {
	case *pyval.NDArray:
		if checkPointingDType(&p, x.DType) {
			if x.Ndim() > 1 {
				p.add("shape", "want a 0-d or 1-d array of records, got shape %v", x.Shape)
			}
			checkAntennaNames(&p, x)
		} else if x.Ndim() > 1 {
			p.add("shape", "want a 0-d or 1-d array of records, got shape %v", x.Shape)
		}
	case *pyval.Scalar:
		if checkPointingDType(&p, x.DType) {
			checkAntennaNames(&p, &pyval.NDArray{DType: x.DType, Shape: []int{}, Data: x.Data})
		}
	case *pyval.Dict:
		pointingDict.check(&p, "", x)
	case pyval.List:
		if len(x) == 0 {
			p.add("", "want at least one record, got an empty list")
		}
		for i, e := range x {
			pointingDict.check(&p, fmt.Sprintf("[%d]", i), e)
		}
	default:
		p.add("", "want a structured ndarray of the pointing dtype, a dict of its fields or a list of such dicts, got %s", describe(v))
	}
	return p.err(s.Name())
}

// checkPointingDType reports every difference between dt and
// PointingDType, returning whether there was none.
func checkPointingDType(p *problems, dt pyval.DType) bool {
	before := len(p.list)
	if dt.Fields == nil {
		p.add("dtype", "want the structured pointing dtype, got %s", dt)
		return false
	}
	want := PointingDType()
	wantByName := map[string]pyval.Field{}
	for _, f := range want.Fields {
		wantByName[f.Name] = f
	}
	gotByName := map[string]bool{}
	var gotOrder []string
	for _, f := range dt.Fields {
		if f.Name == "" {
			p.add("dtype", "unexpected padding of %d bytes (the record is packed)", f.DType.ItemSize())
			continue
		}
		gotByName[f.Name] = true
		gotOrder = append(gotOrder, f.Name)
		w, ok := wantByName[f.Name]
		switch {
		case !ok:
			p.add(join("dtype", f.Name), "unexpected field")
		case f.Shape != nil:
			p.add(join("dtype", f.Name), "want a scalar field of dtype %s, got a sub-array of shape %v", w.DType, f.Shape)
		case !f.DType.Equal(w.DType):
			p.add(join("dtype", f.Name), "want dtype %s, got %s", w.DType, f.DType)
		}
	}
	for _, f := range want.Fields {
		if !gotByName[f.Name] {
			p.add(join("dtype", f.Name), "missing field")
		}
	}
	if len(p.list) == before && !slices.Equal(gotOrder, PointingFieldNames()) {
		p.add("dtype", "fields in order [%s], want [%s]", strings.Join(gotOrder, ", "), strings.Join(PointingFieldNames(), ", "))
	}
	return len(p.list) == before
}

// checkAntennaNames reports records whose antenna_name is empty. a has
// the pointing dtype.
func checkAntennaNames(p *problems, a *pyval.NDArray) {
	names, err := a.Field("antenna_name")
	if err != nil {
		p.add("", "cannot read the records: %v", err)
		return
	}
	strs, err := names.Strings()
	if err != nil {
		p.add("antenna_name", "cannot read: %v", err)
		return
	}
	for i, s := range strs {
		if s == "" {
			path := "antenna_name"
			if a.Ndim() > 0 {
				path = fmt.Sprintf("[%d].antenna_name", i)
			}
			p.add(path, "want a non-empty antenna name")
		}
	}
}
