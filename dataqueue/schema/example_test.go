package schema_test

import (
	"errors"
	"fmt"

	"github.com/sdpkit/sdpkit/dataqueue/schema"
	"github.com/sdpkit/sdpkit/pyval"
)

func ExamplePointingRecord() {
	rec := pyval.StrDict("antenna_name", pyval.Str("SKA001"))
	for _, n := range schema.PointingFieldNames()[1:] {
		rec.SetStr(n, pyval.Float(0))
	}
	fmt.Println(schema.PointingRecord{}.Validate(rec))

	rec.SetStr("antenna_name", pyval.Str("SKA001-extra"))
	rec.SetStr("xel_offset", pyval.Str("3.5"))
	err := schema.PointingRecord{}.Validate(rec)
	var ve *schema.ValidationError
	if errors.As(err, &ve) {
		for _, p := range ve.Problems {
			fmt.Println(p)
		}
	}
	// Output:
	// <nil>
	// antenna_name: want at most 8 characters, got 12 ('SKA001-extra')
	// xel_offset: want a real number (int or float), got str
}

func ExamplePointingDType() {
	dt := schema.PointingDType()
	fmt.Println(dt.ItemSize(), len(dt.Fields), dt.Fields[0].DType, dt.Fields[1].Name)
	// Output: 136 14 <U8 last_scan_index
}

func ExampleSignalDisplayMetrics() {
	s := schema.SignalDisplayMetrics()
	msg := pyval.StrDict("timestamp", pyval.Float(-1), "spectral_window", pyval.IntOf(0))
	fmt.Println(s.Validate(msg))
	// Output: schema MetricPayload: 2 problems: data: missing; timestamp: want a finite non-negative time in seconds, got -1.0
}

func ExamplePointingTable() {
	// A Dataset.to_dict() with nothing in it.
	ds := pyval.StrDict("coords", &pyval.Dict{}, "data_vars", &pyval.Dict{})
	err := schema.PointingTable{}.Validate(ds)
	fmt.Println(len(err.(*schema.ValidationError).Problems), errors.Is(err, schema.ErrInvalid))
	// Output: 14 true
}
