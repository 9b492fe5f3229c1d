package backend

import (
	"bytes"
	"encoding/hex"
	"math"
	"testing"
)

// The query bounds of redis-layout.txt §7 (katsdptelstate's
// pack_query_timestamp).
func TestQueryBounds(t *testing.T) {
	negZero := math.Copysign(0, -1)
	cases := []struct {
		t                 float64
		isEnd, includeEnd bool
		want              string // "-", "+", or prefix char + hex
	}{
		{0, false, false, "-"},
		{-1, false, false, "-"},
		{0, true, false, "-"},
		{0, true, true, "(0000000000000001"},
		{negZero, true, true, "(0000000000000001"},
		{negZero, false, false, "-"},
		{1.5, false, false, "[3ff8000000000000"},
		{1.5, true, false, "(3ff8000000000000"},
		{1.5, true, true, "(3ff8000000000001"},
		{math.Inf(1), false, false, "+"},
		{math.Inf(1), true, false, "+"},
		{math.Inf(1), true, true, "+"},
		{math.Inf(-1), true, true, "-"},
		{-1, true, true, "-"},
		{1700000000.0, true, true, "(41d954fc40000001"},
	}
	for _, c := range cases {
		b := queryBound(c.t, c.isEnd, c.includeEnd)
		r := b.Redis()
		got := string(r)
		if len(r) == 9 {
			got = string(r[:1]) + hex.EncodeToString(r[1:])
		}
		if got != c.want {
			t.Errorf("bound(%v, end=%v, include=%v) = %s, want %s", c.t, c.isEnd, c.includeEnd, got, c.want)
		}
	}
}

func TestRangeBoundsPlan(t *testing.T) {
	cases := []struct {
		st, et              float64
		prev, incl          bool
		wantPrev, wantRange bool
	}{
		{math.Inf(1), math.Inf(1), true, false, true, false}, // get_range(k): newest only
		{0, math.Inf(1), true, false, false, true},           // start "-": no previous query
		{5, 5, true, false, true, true},                      // et=5: previous, empty range
		{1, 0, false, false, false, false},                   // end "-"
		{1, 0, true, false, true, false},
		{-1, math.Copysign(0, -1), true, true, false, true}, // ( 00..01: samples at 0
	}
	for _, c := range cases {
		q := RangeBounds(c.st, c.et, c.prev, c.incl)
		if q.Previous != c.wantPrev || q.Range != c.wantRange {
			t.Errorf("RangeBounds(%v, %v, %v, %v) = %+v", c.st, c.et, c.prev, c.incl, q)
		}
	}
}

func TestSearch(t *testing.T) {
	var ms [][]byte
	for _, ts := range []float64{1, 2, 2, 3} {
		ms = append(ms, PackMember([]byte{0xff, byte(len(ms))}, ts))
	}
	at := func(i int) []byte { return ms[i] }
	b2 := queryBound(2, false, false) // [BE8(2)
	if i := b2.SearchMin(len(ms), at); i != 1 {
		t.Errorf("SearchMin [2 = %d", i)
	}
	if i := b2.SearchMax(len(ms), at); i != 1 {
		t.Errorf("SearchMax [2 = %d", i)
	}
	e2 := queryBound(2, true, true) // (next(2)
	if i := e2.SearchMax(len(ms), at); i != 3 {
		t.Errorf("SearchMax (next(2) = %d", i)
	}
	// A member equal to the bare bound (an empty value) is admitted by
	// "[" and excluded by "(".
	ms = [][]byte{PackMember(nil, 2)}
	if b2.SearchMin(1, at) != 0 || queryBound(2, true, false).SearchMax(1, at) != 0 || b2.SearchMax(1, at) != 1 {
		t.Error("bare-bound member handled wrongly")
	}
	if !bytes.Equal(LexBound{Kind: BoundMin}.Redis(), []byte("-")) {
		t.Error("BoundMin")
	}
}
