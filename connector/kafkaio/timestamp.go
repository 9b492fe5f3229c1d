package kafkaio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/sdpkit/sdpkit/connector/descriptor"
	"github.com/sdpkit/sdpkit/connector/internal/ndconv"
	"github.com/sdpkit/sdpkit/pyval"
)

// ErrTimestamp marks a value from which timestamp_options cannot extract a
// record timestamp.
var ErrTimestamp = errors.New("kafkaio: cannot extract the record timestamp")

// Timestamp extracts the Kafka record timestamp of v as opts (the sink's
// timestamp_options) describe:
//
//  1. key, when set, selects a field: a dict's key, or a structured array's
//     (or record's) field. A list of dicts or records (a BufferWithTimePipe
//     batch of object values) gives the list of their fields.
//  2. The result is read as numpy reads nested data (an array, nested
//     lists, or one element) and slices select from it, one entry per
//     dimension, as a numpy index tuple: an int picks one index (negative
//     counts from the end; out of range is an error), null the whole axis,
//     a string "start:stop:step" (any part may be empty, e.g. "::2", ":")
//     or an object {"start", "stop", "step"} (each an int or null, missing
//     means null) a Python slice. Fewer entries than dimensions leave the
//     remaining axes whole; more is an error. No slices selects everything.
//  3. One selected element is the timestamp. Several need a reducer: min,
//     max or mean of their times. None selected is an error.
//
// An element is a number of milliseconds since the unix epoch (int,
// float or numpy integer/float; fractions are floored), or a numpy
// datetime64 on the TAI scale, which is converted to UTC (see TAIToUTC).
// Times before the epoch and NaT are errors.
func Timestamp(v pyval.Value, opts *descriptor.TimestampOptions) (time.Time, error) {
	if opts == nil {
		return time.Time{}, nil
	}
	if opts.Key != nil {
		var err error
		if v, err = field(v, *opts.Key); err != nil {
			return time.Time{}, err
		}
	}
	shape, leaves, err := ndconv.Nested(v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %w", ErrTimestamp, err)
	}
	sel, err := selectLeaves(shape, leaves, opts.Slices)
	if err != nil {
		return time.Time{}, err
	}
	switch {
	case len(sel) == 0:
		return time.Time{}, fmt.Errorf("%w: the slices select no element", ErrTimestamp)
	case len(sel) > 1 && opts.Reducer == descriptor.ReducerNone:
		return time.Time{}, fmt.Errorf("%w: %d elements selected and no reducer", ErrTimestamp, len(sel))
	}
	ms := make([]float64, len(sel))
	for i, e := range sel {
		if ms[i], err = elementMillis(e); err != nil {
			return time.Time{}, err
		}
	}
	var r float64
	switch opts.Reducer {
	case descriptor.ReducerNone, descriptor.ReducerMin:
		r = ms[0]
		for _, m := range ms[1:] {
			r = math.Min(r, m)
		}
	case descriptor.ReducerMax:
		r = ms[0]
		for _, m := range ms[1:] {
			r = math.Max(r, m)
		}
	case descriptor.ReducerMean:
		for _, m := range ms {
			r += m
		}
		r /= float64(len(ms))
	default:
		return time.Time{}, fmt.Errorf("%w: unknown reducer %q", ErrTimestamp, opts.Reducer)
	}
	if math.IsNaN(r) || math.IsInf(r, 0) || r < 0 || r > math.MaxInt64/2 {
		return time.Time{}, fmt.Errorf("%w: %v ms is not a record timestamp", ErrTimestamp, r)
	}
	return time.UnixMilli(int64(math.Floor(r))), nil
}

// field selects key from a dict, a structured array or record, or from
// each item of a list or tuple of those.
func field(v pyval.Value, key string) (pyval.Value, error) {
	switch x := v.(type) {
	case *pyval.Dict:
		f, ok := x.GetStr(key)
		if !ok {
			return nil, fmt.Errorf("%w: the dict has no key %q", ErrTimestamp, key)
		}
		return f, nil
	case *pyval.NDArray:
		if !x.DType.IsStructured() {
			return nil, fmt.Errorf("%w: key %q on an array of %s, which has no fields", ErrTimestamp, key, x.DType)
		}
		f, err := x.Field(key)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrTimestamp, err)
		}
		return f, nil
	case *pyval.Scalar:
		f, err := x.Field(key)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrTimestamp, err)
		}
		return f, nil
	case pyval.List:
		out := make(pyval.List, len(x))
		for i, e := range x {
			f, err := field(e, key)
			if err != nil {
				return nil, fmt.Errorf("item %d: %w", i, err)
			}
			out[i] = f
		}
		return out, nil
	case pyval.Tuple:
		return field(pyval.List(x), key)
	}
	return nil, fmt.Errorf("%w: key %q on %s, which is not a dict or structured", ErrTimestamp, key, kindName(v))
}

// selectLeaves applies a numpy index tuple to C-ordered leaves of shape.
func selectLeaves(shape []int, leaves []pyval.Value, sl descriptor.Slices) ([]pyval.Value, error) {
	if len(sl) > len(shape) {
		return nil, fmt.Errorf("%w: %d slices for data of %d dimensions", ErrTimestamp, len(sl), len(shape))
	}
	axes := make([][]int, len(shape))
	for i, n := range shape {
		var idx []int
		var err error
		if i < len(sl) {
			idx, err = axisIndices(sl[i], n)
			if err != nil {
				return nil, fmt.Errorf("%w: slices[%d]: %w", ErrTimestamp, i, err)
			}
		} else {
			idx = sliceRange(nil, nil, nil, n)
		}
		axes[i] = idx
	}
	strides := make([]int, len(shape))
	s := 1
	for i := len(shape) - 1; i >= 0; i-- {
		strides[i] = s
		s *= shape[i]
	}
	var out []pyval.Value
	var walk func(axis, off int)
	walk = func(axis, off int) {
		if axis == len(shape) {
			out = append(out, leaves[off])
			return
		}
		for _, j := range axes[axis] {
			walk(axis+1, off+j*strides[axis])
		}
	}
	walk(0, 0)
	return out, nil
}

// axisIndices returns the indices one slices entry selects on an axis of
// length n.
func axisIndices(e pyval.Value, n int) ([]int, error) {
	switch x := e.(type) {
	case nil, pyval.NoneType:
		return sliceRange(nil, nil, nil, n), nil
	case pyval.Int:
		i, err := pyval.AsInt64(x)
		if err != nil {
			return nil, err
		}
		j := int(i)
		if j < 0 {
			j += n
		}
		if j < 0 || j >= n {
			return nil, fmt.Errorf("index %d is out of bounds for an axis of length %d", i, n)
		}
		return []int{j}, nil
	case pyval.Str:
		parts := strings.Split(string(x), ":")
		if len(parts) < 2 || len(parts) > 3 {
			if len(parts) == 1 {
				// A bare integer written as a string.
				i, err := strconv.Atoi(strings.TrimSpace(parts[0]))
				if err == nil {
					return axisIndices(pyval.IntOf(int64(i)), n)
				}
			}
			return nil, fmt.Errorf("%q is not a slice (start:stop[:step])", string(x))
		}
		var b [3]*int
		for k, p := range parts {
			p = strings.TrimSpace(p)
			if p == "" {
				continue
			}
			v, err := strconv.Atoi(p)
			if err != nil {
				return nil, fmt.Errorf("%q is not a slice: %q is not an integer", string(x), p)
			}
			b[k] = &v
		}
		return checkedRange(b[0], b[1], b[2], n)
	case *pyval.Dict:
		var b [3]*int
		for k, name := range []string{"start", "stop", "step"} {
			v, ok := x.GetStr(name)
			if !ok {
				continue
			}
			if _, none := v.(pyval.NoneType); none {
				continue
			}
			i, err := pyval.AsInt64(v)
			if err != nil {
				return nil, fmt.Errorf("slice %s: want an integer or null", name)
			}
			iv := int(i)
			b[k] = &iv
		}
		for _, k := range x.Keys() {
			if s, ok := k.(pyval.Str); !ok || (s != "start" && s != "stop" && s != "step") {
				return nil, fmt.Errorf("a slice object has start, stop and step, not %s", pyval.Repr(k))
			}
		}
		return checkedRange(b[0], b[1], b[2], n)
	}
	return nil, fmt.Errorf("want an int, null, a slice string or a slice object, not %s", kindName(e))
}

func checkedRange(start, stop, step *int, n int) ([]int, error) {
	if step != nil && *step == 0 {
		return nil, errors.New("slice step cannot be zero")
	}
	return sliceRange(start, stop, step, n), nil
}

// sliceRange is Python's range(*slice(start, stop, step).indices(n)).
func sliceRange(start, stop, step *int, n int) []int {
	st := 1
	if step != nil {
		st = *step
	}
	clamp := func(p *int, def, lo, hi int) int {
		if p == nil {
			return def
		}
		v := *p
		if v < 0 {
			v += n
		}
		return min(max(v, lo), hi)
	}
	var out []int
	if st > 0 {
		a, b := clamp(start, 0, 0, n), clamp(stop, n, 0, n)
		for i := a; i < b; i += st {
			out = append(out, i)
		}
	} else {
		a, b := clamp(start, n-1, -1, n-1), clamp(stop, -1, -1, n-1)
		if stop != nil && *stop < 0 && *stop+n < 0 {
			b = -1
		}
		for i := a; i > b; i += st {
			out = append(out, i)
		}
	}
	return out
}

// elementMillis returns one timestamp element as UTC unix milliseconds.
func elementMillis(e pyval.Value) (float64, error) {
	switch x := e.(type) {
	case pyval.Int:
		i, err := pyval.AsFloat64(x)
		if err != nil {
			return 0, fmt.Errorf("%w: %w", ErrTimestamp, err)
		}
		return i, nil
	case pyval.Float:
		return float64(x), nil
	case *pyval.Scalar:
		switch x.DType.Kind {
		case 'M':
			tai, err := datetimeMillis(x)
			if err != nil {
				return 0, err
			}
			return TAIToUTC(tai), nil
		case 'i', 'u', 'f':
			item, err := x.Item()
			if err != nil {
				return 0, fmt.Errorf("%w: %w", ErrTimestamp, err)
			}
			return elementMillis(item)
		}
	}
	return 0, fmt.Errorf("%w: %s is neither unix milliseconds nor a datetime64", ErrTimestamp, kindName(e))
}

// datetimeMillis returns a datetime64 scalar as milliseconds since
// 1970-01-01 on its own time scale.
func datetimeMillis(s *pyval.Scalar) (float64, error) {
	if len(s.Data) < 8 {
		return 0, fmt.Errorf("%w: short datetime64 scalar", ErrTimestamp)
	}
	var n int64
	if s.DType.BigEndian() {
		n = int64(binary.BigEndian.Uint64(s.Data))
	} else {
		n = int64(binary.LittleEndian.Uint64(s.Data))
	}
	if n == math.MinInt64 {
		return 0, fmt.Errorf("%w: the datetime64 is NaT", ErrTimestamp)
	}
	unit := s.DType.Unit
	mult := int64(1)
	if i := strings.IndexFunc(unit, func(r rune) bool { return r < '0' || r > '9' }); i > 0 {
		m, err := strconv.ParseInt(unit[:i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%w: datetime64 unit %q", ErrTimestamp, unit)
		}
		mult, unit = m, unit[i:]
	}
	count := float64(n) * float64(mult)
	switch unit {
	case "Y":
		return float64(time.Date(1970+int(n*mult), 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()), nil
	case "M":
		return float64(time.Date(1970, time.Month(1+n*mult), 1, 0, 0, 0, 0, time.UTC).UnixMilli()), nil
	}
	perMs := map[string]float64{
		"W": 7 * 86400e3, "D": 86400e3, "h": 3600e3, "m": 60e3, "s": 1e3, "ms": 1,
		"us": 1e-3, "ns": 1e-6, "ps": 1e-9, "fs": 1e-12, "as": 1e-15,
	}
	f, ok := perMs[unit]
	if !ok {
		return 0, fmt.Errorf("%w: datetime64 with unit %q (a generic datetime64 has no time)", ErrTimestamp, s.DType.Unit)
	}
	if unit == "ns" {
		// Exact integer arithmetic for the common case.
		return float64(n*mult/1e6) + float64(n*mult%1e6)/1e6, nil
	}
	return count * f, nil
}

// leapSeconds lists when TAI−UTC changed (the UTC instant) and its new
// value in seconds, from IERS Bulletin C. The last entry, 37 s from
// 2017-01-01, still holds: no leap second has been announced since. A
// leap second announced later must be added here, otherwise timestamps
// after it are one second late.
var leapSeconds = []struct {
	utc    int64 // unix seconds
	offset int64 // TAI−UTC from then on, seconds
}{
	{63072000, 10},   // 1972-01-01
	{78796800, 11},   // 1972-07-01
	{94694400, 12},   // 1973-01-01
	{126230400, 13},  // 1974-01-01
	{157766400, 14},  // 1975-01-01
	{189302400, 15},  // 1976-01-01
	{220924800, 16},  // 1977-01-01
	{252460800, 17},  // 1978-01-01
	{283996800, 18},  // 1979-01-01
	{315532800, 19},  // 1980-01-01
	{362793600, 20},  // 1981-07-01
	{394329600, 21},  // 1982-07-01
	{425865600, 22},  // 1983-07-01
	{489024000, 23},  // 1985-07-01
	{567993600, 24},  // 1988-01-01
	{631152000, 25},  // 1990-01-01
	{662688000, 26},  // 1991-01-01
	{709948800, 27},  // 1992-07-01
	{741484800, 28},  // 1993-07-01
	{773020800, 29},  // 1994-07-01
	{820454400, 30},  // 1996-01-01
	{867715200, 31},  // 1997-07-01
	{915148800, 32},  // 1999-01-01
	{1136073600, 33}, // 2006-01-01
	{1230768000, 34}, // 2009-01-01
	{1341100800, 35}, // 2012-07-01
	{1435708800, 36}, // 2015-07-01
	{1483228800, 37}, // 2017-01-01
}

// TAIToUTC converts milliseconds since 1970-01-01 on the TAI scale (what a
// datetime64 holding TAI reads as) to UTC unix milliseconds by subtracting
// TAI−UTC from the leap-second table: 37 s for every instant since
// 2017-01-01, less before. Before 1972 it subtracts 10 s (the historical
// offset then was fractional and drifting). The table ends with the
// 2017 leap second; see leapSeconds.
func TAIToUTC(taiMs float64) float64 {
	off := int64(10)
	for _, l := range leapSeconds {
		// The change happens when TAI reaches the UTC instant plus the
		// new offset.
		if taiMs >= float64((l.utc+l.offset)*1000) {
			off = l.offset
		} else {
			break
		}
	}
	return taiMs - float64(off*1000)
}
