package kafkaio_test

import (
	"encoding/binary"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/connector/descriptor"
	"github.com/sdpkit/sdpkit/connector/exchange"
	"github.com/sdpkit/sdpkit/connector/kafkaio"
	"github.com/sdpkit/sdpkit/pyval"
)

// pointingDType is example 03's record: antenna_name <U6, ts <M8[ns] (TAI),
// az and el <f8.
func pointingDType(t testing.TB) pyval.DType {
	t.Helper()
	dt, err := pyval.DTypeFromDescr(pyval.List{
		pyval.Tuple{pyval.Str("antenna_name"), pyval.Str("<U6")},
		pyval.Tuple{pyval.Str("ts"), pyval.Str("<M8[ns]")},
		pyval.Tuple{pyval.Str("az"), pyval.Str("<f8")},
		pyval.Tuple{pyval.Str("el"), pyval.Str("<f8")},
	})
	if err != nil {
		t.Fatal(err)
	}
	return dt
}

// pointing returns one record whose ts holds utc on the TAI scale, i.e.
// utc plus TAI−UTC (37 s for instants since 2017).
func pointing(t testing.TB, name string, utc time.Time, az, el float64) *pyval.Scalar {
	dt := pointingDType(t)
	b := make([]byte, dt.ItemSize())
	for i, r := range name {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(r))
	}
	binary.LittleEndian.PutUint64(b[24:], uint64(utc.Add(37*time.Second).UnixNano()))
	binary.LittleEndian.PutUint64(b[32:], math.Float64bits(az))
	binary.LittleEndian.PutUint64(b[40:], math.Float64bits(el))
	return &pyval.Scalar{DType: dt, Data: b}
}

func datetime(unit string, n int64) *pyval.Scalar {
	b := make([]byte, 8)
	binary.LittleEndian.PutUint64(b, uint64(n))
	return &pyval.Scalar{DType: pyval.DType{Kind: 'M', ByteOrder: '<', Size: 8, Unit: unit}, Data: b}
}

var pointingBase = time.Date(2026, 11, 22, 1, 2, 3, 0, time.UTC)

func key(s string) *string { return &s }

func TestTimestamp(t *testing.T) {
	base := time.Date(2026, 11, 22, 1, 2, 3, 456_000_000, time.UTC)
	ms := base.UnixMilli()
	p := func(i int) *pyval.Scalar {
		return pointing(t, "SKA00"+string(rune('1'+i)), base.Add(time.Duration(i)*time.Second), 1, 2)
	}
	// A BufferWithTimePipe batch of three records (leading axis).
	batch, err := exchange.Stack([]pyval.Value{p(0), p(1), p(2)}, pointingDType(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	// A batch of [ms, az, el] triples (example 02 after a buffer): shape [3, 3].
	triples, err := exchange.Stack([]pyval.Value{
		pyval.ArrayOf([]float64{float64(ms), 1, 2}),
		pyval.ArrayOf([]float64{float64(ms + 1000), 1, 2}),
		pyval.ArrayOf([]float64{float64(ms + 4000), 1, 2}),
	}, pyval.DTypeOf[float64](), []int{3})
	if err != nil {
		t.Fatal(err)
	}
	grid := pyval.ArrayOf([]int64{ms, ms + 1, ms + 2, ms + 10, ms + 11, ms + 12}, 2, 3)
	slice := func(start, stop, step pyval.Value) *pyval.Dict {
		return pyval.StrDict("start", start, "stop", stop, "step", step)
	}

	tests := []struct {
		name string
		v    pyval.Value
		opts descriptor.TimestampOptions
		want int64 // unix ms
	}{
		{"int ms", pyval.IntOf(ms), descriptor.TimestampOptions{}, ms},
		{"float ms floors", pyval.Float(float64(ms) + 0.9), descriptor.TimestampOptions{}, ms},
		{"dict key", pyval.StrDict("time", pyval.IntOf(ms), "v", pyval.Float(1)), descriptor.TimestampOptions{Key: key("time")}, ms},
		{"example 02: slices [0]", pyval.ArrayOf([]float64{float64(ms), 10, 20}), descriptor.TimestampOptions{Slices: descriptor.Slices{pyval.IntOf(0)}}, ms},
		{"negative index", pyval.ArrayOf([]float64{1, 2, float64(ms)}), descriptor.TimestampOptions{Slices: descriptor.Slices{pyval.IntOf(-1)}}, ms},
		{"numpy int scalar", pyval.ScalarOf(ms), descriptor.TimestampOptions{}, ms},
		{"structured record TAI", p(0), descriptor.TimestampOptions{Key: key("ts")}, ms},
		{"example 03: batch max", batch, descriptor.TimestampOptions{Key: key("ts"), Reducer: descriptor.ReducerMax}, ms + 2000},
		{"batch min", batch, descriptor.TimestampOptions{Key: key("ts"), Reducer: descriptor.ReducerMin}, ms},
		{"batch mean", batch, descriptor.TimestampOptions{Key: key("ts"), Reducer: descriptor.ReducerMean}, ms + 1000},
		{"batch index", batch, descriptor.TimestampOptions{Key: key("ts"), Slices: descriptor.Slices{pyval.IntOf(1)}}, ms + 1000},
		{"buffered triples string slice", triples, descriptor.TimestampOptions{Slices: descriptor.Slices{pyval.Str(":"), pyval.IntOf(0)}, Reducer: descriptor.ReducerMax}, ms + 4000},
		{"buffered triples null axis", triples, descriptor.TimestampOptions{Slices: descriptor.Slices{pyval.None, pyval.IntOf(0)}, Reducer: descriptor.ReducerMean}, ms + 1666},
		{"slice string with step", grid, descriptor.TimestampOptions{Slices: descriptor.Slices{pyval.Str("1:"), pyval.Str("::2")}, Reducer: descriptor.ReducerMin}, ms + 10},
		{"negative step", grid, descriptor.TimestampOptions{Slices: descriptor.Slices{pyval.IntOf(0), pyval.Str("::-1")}, Reducer: descriptor.ReducerMax}, ms + 2},
		{"slice object", grid, descriptor.TimestampOptions{Slices: descriptor.Slices{slice(pyval.IntOf(1), pyval.None, pyval.None), slice(pyval.IntOf(1), pyval.IntOf(2), pyval.None)}}, ms + 11},
		{"fewer slices than dims", grid, descriptor.TimestampOptions{Slices: descriptor.Slices{pyval.IntOf(1)}, Reducer: descriptor.ReducerMax}, ms + 12},
		{"list of dicts", pyval.List{pyval.StrDict("t", pyval.IntOf(ms)), pyval.StrDict("t", pyval.IntOf(ms+5))}, descriptor.TimestampOptions{Key: key("t"), Reducer: descriptor.ReducerMax}, ms + 5},
		{"datetime64[ms] TAI", datetime("ms", ms+37000), descriptor.TimestampOptions{}, ms},
		{"datetime64[s] TAI", datetime("s", base.Unix()+37), descriptor.TimestampOptions{}, base.Unix() * 1000},
		{"datetime64[us] TAI", datetime("us", (ms+37000)*1000+999), descriptor.TimestampOptions{}, ms},
		{"datetime64[D] TAI", datetime("D", 20000), descriptor.TimestampOptions{}, 20000*86400*1000 - 37000},
		{"datetime64[10ms] TAI", datetime("10ms", (ms+37000)/10), descriptor.TimestampOptions{}, (ms+37000)/10*10 - 37000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := kafkaio.Timestamp(tc.v, &tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got.UnixMilli() != tc.want {
				t.Fatalf("got %d (%v), want %d (%v)", got.UnixMilli(), got.UTC(), tc.want, time.UnixMilli(tc.want).UTC())
			}
		})
	}
}

func TestTimestampNil(t *testing.T) {
	got, err := kafkaio.Timestamp(pyval.Float(1), nil)
	if err != nil || !got.IsZero() {
		t.Fatalf("nil options: %v, %v; want the zero time (the producer stamps the record)", got, err)
	}
}

func TestTimestampErrors(t *testing.T) {
	arr := pyval.ArrayOf([]float64{1e12, 2e12, 3e12})
	tests := []struct {
		name string
		v    pyval.Value
		opts descriptor.TimestampOptions
	}{
		{"several without reducer", arr, descriptor.TimestampOptions{}},
		{"index out of range", arr, descriptor.TimestampOptions{Slices: descriptor.Slices{pyval.IntOf(3)}}},
		{"too many slices", arr, descriptor.TimestampOptions{Slices: descriptor.Slices{pyval.IntOf(0), pyval.IntOf(0)}}},
		{"empty selection", arr, descriptor.TimestampOptions{Slices: descriptor.Slices{pyval.Str("2:1")}, Reducer: descriptor.ReducerMax}},
		{"zero step", arr, descriptor.TimestampOptions{Slices: descriptor.Slices{pyval.Str("::0")}, Reducer: descriptor.ReducerMax}},
		{"bad slice string", arr, descriptor.TimestampOptions{Slices: descriptor.Slices{pyval.Str("a:b")}, Reducer: descriptor.ReducerMax}},
		{"bad slice object key", arr, descriptor.TimestampOptions{Slices: descriptor.Slices{pyval.StrDict("begin", pyval.IntOf(0))}, Reducer: descriptor.ReducerMax}},
		{"missing key", pyval.StrDict("a", pyval.IntOf(1)), descriptor.TimestampOptions{Key: key("ts")}},
		{"key on a plain array", arr, descriptor.TimestampOptions{Key: key("ts")}},
		{"key on a number", pyval.IntOf(1), descriptor.TimestampOptions{Key: key("ts")}},
		{"str element", pyval.Str("2026-01-01"), descriptor.TimestampOptions{}},
		{"bool element", pyval.Bool(true), descriptor.TimestampOptions{}},
		{"NaT", datetime("ns", math.MinInt64), descriptor.TimestampOptions{}},
		{"generic datetime64", datetime("", 5), descriptor.TimestampOptions{}},
		{"negative time", pyval.IntOf(-5), descriptor.TimestampOptions{}},
		{"nan", pyval.Float(math.NaN()), descriptor.TimestampOptions{}},
		{"ragged", pyval.List{pyval.List{pyval.IntOf(1)}, pyval.IntOf(2)}, descriptor.TimestampOptions{Reducer: descriptor.ReducerMax}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := kafkaio.Timestamp(tc.v, &tc.opts)
			if !errors.Is(err, kafkaio.ErrTimestamp) {
				t.Fatalf("got %v, %v; want an ErrTimestamp error", got, err)
			}
		})
	}
}

// TestTAIToUTC checks the leap-second table at the 2016/2017 leap second
// and far from it: TAI−UTC was 36 s before 2017-01-01 and is 37 s since.
func TestTAIToUTC(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s int) time.Time {
		return time.Date(y, mo, d, h, mi, s, 0, time.UTC)
	}
	tests := []struct {
		utc    time.Time
		offset time.Duration
	}{
		{utc(2016, 12, 31, 23, 59, 59), 36 * time.Second},
		{utc(2017, 1, 1, 0, 0, 0), 37 * time.Second},
		{utc(2026, 6, 1, 12, 0, 0), 37 * time.Second},
		{utc(2015, 6, 30, 23, 59, 59), 35 * time.Second},
		{utc(2015, 7, 1, 0, 0, 0), 36 * time.Second},
		{utc(1999, 1, 1, 0, 0, 0), 32 * time.Second},
		{utc(1972, 1, 1, 0, 0, 0), 10 * time.Second},
	}
	for _, tc := range tests {
		tai := float64(tc.utc.Add(tc.offset).UnixMilli())
		if got := kafkaio.TAIToUTC(tai); got != float64(tc.utc.UnixMilli()) {
			t.Errorf("TAI %v: got UTC %v, want %v", tc.utc.Add(tc.offset), time.UnixMilli(int64(got)).UTC(), tc.utc)
		}
	}
}
