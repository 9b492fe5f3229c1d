package schema

// SignalDisplayMetrics returns the schema of a signal-display metric
// payload ("MetricPayload"): the dict that the signal-display metrics
// generator (ska-sdp-realtime-receive-processors) sends msgpack_numpy
// encoded to topics such as metrics-amplitude-01, for the Signal Display
// API.
//
// ASSUMED: the payload's field list is not published (a gap noted in the
// specification). The fields below are those the golden vectors use for
// metric-like messages, and only "data" is required:
//
//	data                 required  numeric ndarray or list of numbers
//	timestamp            optional  finite, non-negative seconds
//	processing_block_id  optional  non-empty str (the SDP_PB_ID)
//	spectral_window      optional  non-negative int
//	baseline             optional  non-empty str, e.g. "SKA001_SKA002"
//	polarisation         optional  non-empty str, e.g. "XX"
//
// Other keys are allowed. The result is a *DictSchema: adjust its Fields
// (or build another DictSchema) once the real dataclass is known.
func SignalDisplayMetrics() *DictSchema {
	return &DictSchema{
		SchemaName: "MetricPayload",
		AllowExtra: true,
		Fields: []Field{
			{Name: "data", Check: NumericArray},
			{Name: "timestamp", Optional: true, Check: Timestamp},
			{Name: "processing_block_id", Optional: true, Check: String(1, -1)},
			{Name: "spectral_window", Optional: true, Check: NonNegativeInt},
			{Name: "baseline", Optional: true, Check: String(1, -1)},
			{Name: "polarisation", Optional: true, Check: String(1, -1)},
		},
	}
}

// Compile-time checks that the schemas implement Schema.
var (
	_ Schema = PointingRecord{}
	_ Schema = PointingTable{}
	_ Schema = (*DictSchema)(nil)
)
