package backend

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
)

// BoundKind is the kind of a ZRANGEBYLEX bound.
type BoundKind int

const (
	// BoundMin is "-": below every member.
	BoundMin BoundKind = iota
	// BoundMax is "+": above every member.
	BoundMax
	// BoundInclusive is "[" + Value: members >= Value (as a minimum) or
	// <= Value (as a maximum).
	BoundInclusive
	// BoundExclusive is "(" + Value: members > Value (as a minimum) or
	// < Value (as a maximum).
	BoundExclusive
)

// LexBound is one ZRANGEBYLEX / ZREVRANGEBYLEX bound. Value holds the
// 8-byte big-endian timestamp for the bracketed kinds.
type LexBound struct {
	Kind  BoundKind
	Value [8]byte
}

// Redis returns the bound as a ZRANGEBYLEX argument: "-", "+", or "[" or
// "(" followed by the 8 bytes.
func (b LexBound) Redis() []byte {
	switch b.Kind {
	case BoundMin:
		return []byte{'-'}
	case BoundMax:
		return []byte{'+'}
	case BoundInclusive:
		return append([]byte{'['}, b.Value[:]...)
	default:
		return append([]byte{'('}, b.Value[:]...)
	}
}

// SearchMax returns the number of members admitted by the bound used as
// a maximum: members[:i] are those <= an inclusive bound, or < an
// exclusive one. members must be sorted bytewise, ascending; member(i)
// returns the i-th of n.
func (b LexBound) SearchMax(n int, member func(i int) []byte) int {
	switch b.Kind {
	case BoundMin:
		return 0
	case BoundMax:
		return n
	case BoundInclusive: // first member > Value
		return searchBytes(n, member, b.Value[:], true)
	default: // first member >= Value
		return searchBytes(n, member, b.Value[:], false)
	}
}

// SearchMin returns the index of the first member admitted by the bound
// used as a minimum: members[i:] are those >= an inclusive bound, or > an
// exclusive one.
func (b LexBound) SearchMin(n int, member func(i int) []byte) int {
	switch b.Kind {
	case BoundMin:
		return 0
	case BoundMax:
		return n
	case BoundInclusive: // first member >= Value
		return searchBytes(n, member, b.Value[:], false)
	default: // first member > Value
		return searchBytes(n, member, b.Value[:], true)
	}
}

// searchBytes is a binary search for the first member > v (strict) or
// >= v (!strict).
func searchBytes(n int, member func(i int) []byte, v []byte, strict bool) int {
	lo, hi := 0, n
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		c := bytes.Compare(member(mid), v)
		if c < 0 || (strict && c == 0) {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// RangeQuery is the plan for one get_range call, as katsdptelstate's Redis
// backend runs it inside MULTI/EXEC after "EXISTS key":
//
//	if Previous: ZREVRANGEBYLEX key <Start> - LIMIT 0 1   (newest sample before start)
//	if Range:    ZRANGEBYLEX key <Start> <End>
//
// The result is the Previous reply followed by the Range reply. Every
// backend computes its plan with RangeBounds so that all of them return
// Redis's results, including the corner cases (st > et with
// includePrevious returns the newest sample before st; et == 0 is empty
// unless includeEnd; negative times are "-").
//
// When the plan runs neither query (for instance start 0 and end 0),
// Redis would not notice a key of the wrong type; backends must still
// report ErrImmutableKey for a key that is not a sensor (ask TYPE), as
// the memory backend and the conformance suite do.
type RangeQuery struct {
	Start    LexBound // minimum of the range; maximum of the previous query
	End      LexBound // maximum of the range
	Previous bool     // run the previous-sample query
	Range    bool     // run the range query
}

// RangeBounds computes the RangeQuery for samples with start <= t < end
// (t <= end when includeEnd), preceded when includePrevious by the newest
// sample before start. Neither time may be NaN (callers reject it with
// ErrInvalidTimestamp).
//
// Bounds follow katsdptelstate's pack_query_timestamp:
//
//	time   as start     as end            as end with includeEnd
//	+inf   +            +                 +
//	< 0    -            -                 -
//	0, -0  -            -                 ( 00 00 00 00 00 00 00 01
//	t > 0  [ BE8(t)     ( BE8(t)          ( BE8(t)+1 (the next double up)
//
// A member at time t is BE8(t) followed by the encoded value, so it sorts
// strictly after the bare 8-byte bound BE8(t): "[BE8(st)" admits samples
// at st, "(BE8(et)" excludes samples at et, and the next double up,
// exclusive, admits samples at et but nothing later.
func RangeBounds(start, end float64, includePrevious, includeEnd bool) RangeQuery {
	q := RangeQuery{
		Start: queryBound(start, false, false),
		End:   queryBound(end, true, includeEnd),
	}
	q.Previous = includePrevious && q.Start.Kind != BoundMin
	q.Range = q.Start.Kind != BoundMax && q.End.Kind != BoundMin
	return q
}

func queryBound(t float64, isEnd, includeEnd bool) LexBound {
	switch {
	case math.IsInf(t, 1):
		return LexBound{Kind: BoundMax}
	case t < 0 || (t == 0 && !(isEnd && includeEnd)):
		return LexBound{Kind: BoundMin}
	}
	bits := math.Float64bits(math.Abs(t)) // -0.0 becomes 0.0
	var b LexBound
	switch {
	case !isEnd:
		b.Kind = BoundInclusive
	case includeEnd:
		b.Kind = BoundExclusive
		bits++
	default:
		b.Kind = BoundExclusive
	}
	binary.BigEndian.PutUint64(b.Value[:], bits)
	return b
}

// BatchAdder is implemented by backends that add many samples to one
// sensor more cheaply than one AddMutable call each (a Redis backend
// pipelines them). Timestamps are already checked. The effect is that of
// calling AddMutable for each sample in order; on error some samples may
// have been added.
type BatchAdder interface {
	AddMutables(ctx context.Context, key []byte, samples []Sample) error
}
