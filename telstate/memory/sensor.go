package memory

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"math"
	"slices"

	"github.com/sdpkit/sdpkit/telstate/backend"
)

// sensor holds a mutable key's members (backend.PackMember form: 8-byte
// big-endian timestamp + encoded value) packed into byte chunks in arrival
// order, and a slice of 16-byte references to them sorted bytewise by
// member, without duplicates.
//
// The layout is chosen for the common case, samples arriving in time
// order: an add writes the member at the end of the last chunk and
// appends a reference, with no allocation of its own and no copying of
// earlier members (chunks never move; only the reference slice grows by
// doubling). Chunks hold no pointers, so the garbage collector does not
// scan samples. Each reference carries the member's timestamp bits, so
// range bounds (which are bare 8-byte timestamps) are located by a binary
// search over the references alone, touching no member bytes; an
// out-of-order add moves references, not members.
//
// Stored bytes are never modified: a rejected duplicate is written past
// the end of every referenced member and then dropped, so slices returned
// by member stay valid after later writes.
type sensor struct {
	chunks [][]byte
	refs   []ref // sorted by member bytes
}

// ref locates one member. ts is the member's first 8 bytes as a
// big-endian uint64 (so comparing ts compares those bytes). loc packs the
// chunk index (high 32 bits), the offset in the chunk (16 bits) and the
// member length (low 16 bits); length 0 means the member fills a chunk of
// its own (members over bigMember bytes).
type ref struct {
	ts  uint64
	loc uint64
}

// Chunk sizes grow from minChunk by doubling up to maxChunk, so a small
// sensor stays small and a big one wastes at most one partial chunk.
// Members longer than bigMember get a chunk each. Offsets and lengths of
// the others fit in 16 bits.
const (
	minChunk  = 256
	maxChunk  = 64 << 10
	bigMember = 32 << 10
)

func (s *sensor) len() int { return len(s.refs) }

func (r ref) size(s *sensor) int {
	if n := int(r.loc & 0xffff); n != 0 {
		return n
	}
	return len(s.chunks[r.loc>>32])
}

// bytes returns the member r refers to, with its capacity limited to its
// length so that a caller's append cannot reach the neighbours.
func (r ref) bytes(s *sensor) []byte {
	c := s.chunks[r.loc>>32]
	n := r.loc & 0xffff
	if n == 0 {
		return c[:len(c):len(c)]
	}
	off := (r.loc >> 16) & 0xffff
	return c[off : off+n : off+n]
}

// member returns the i-th member in sorted order.
func (s *sensor) member(i int) []byte { return s.refs[i].bytes(s) }

// sample returns the i-th member as a sample. The timestamp comes from
// the reference, which holds the member's first 8 bytes.
func (s *sensor) sample(i int) backend.Sample {
	r := s.refs[i]
	return backend.Sample{Value: r.bytes(s)[8:], Timestamp: math.Float64frombits(r.ts)}
}

// reserve returns the index of a chunk with room for n more bytes,
// adding one if needed. Chunks of big members are never shared.
func (s *sensor) reserve(n int) int {
	last := len(s.chunks) - 1
	size := minChunk
	if n > bigMember {
		size = n
	} else if last >= 0 {
		c := s.chunks[last]
		if cap(c) <= maxChunk && cap(c)-len(c) >= n {
			return last
		}
		size = min(2*cap(c), maxChunk)
	}
	s.chunks = append(s.chunks, make([]byte, 0, max(size, n)))
	return last + 1
}

// put writes the member with timestamp bits ts and value at the end of a
// chunk and returns its reference; unput takes it back.
func (s *sensor) put(ts uint64, value []byte) ref {
	n := 8 + len(value)
	ci := s.reserve(n)
	c := s.chunks[ci]
	off := len(c)
	c = binary.BigEndian.AppendUint64(c, ts)
	s.chunks[ci] = append(c, value...) // fits: reserved
	loc := uint64(ci) << 32
	if n <= bigMember {
		loc |= uint64(off)<<16 | uint64(n)
	}
	return ref{ts: ts, loc: loc}
}

func (s *sensor) unput(r ref) {
	ci := r.loc >> 32
	if r.loc&0xffff == 0 {
		s.chunks[ci] = s.chunks[ci][:0]
	} else {
		s.chunks[ci] = s.chunks[ci][:(r.loc>>16)&0xffff]
	}
}

// compare orders two members as bytes.Compare would.
func (s *sensor) compare(a, b ref) int {
	if c := cmp.Compare(a.ts, b.ts); c != 0 {
		return c
	}
	return bytes.Compare(a.bytes(s)[8:], b.bytes(s)[8:])
}

// add inserts the member for (value, ts) unless it is already present.
func (s *sensor) add(value []byte, ts float64) {
	r := s.put(math.Float64bits(math.Abs(ts)), value)
	n := len(s.refs)
	// In-order data: compare with the newest member first, so appends
	// cost O(1) amortised and skip the binary search.
	if n == 0 {
		s.refs = append(s.refs, r)
		return
	}
	switch c := s.compare(r, s.refs[n-1]); {
	case c > 0:
		s.refs = append(s.refs, r)
		return
	case c == 0:
		s.unput(r)
		return
	}
	i, found := slices.BinarySearchFunc(s.refs, r, s.compare)
	if found {
		s.unput(r)
		return
	}
	s.refs = slices.Insert(s.refs, i, r)
}

// searchMin returns the index of the first member admitted by b used as
// a range minimum (backend.LexBound.SearchMin), from the references only.
// A member is at least 8 bytes and b.Value exactly 8, so a member equals
// the bound only if it is the bare 8 bytes.
func (s *sensor) searchMin(b backend.LexBound) int {
	v := binary.BigEndian.Uint64(b.Value[:])
	switch b.Kind {
	case backend.BoundMin:
		return 0
	case backend.BoundMax:
		return len(s.refs)
	case backend.BoundInclusive: // first member >= v
		return s.searchFrom(v)
	default: // first member > v
		return s.searchAbove(v)
	}
}

// searchMax returns how many members are admitted by b used as a range
// maximum (backend.LexBound.SearchMax).
func (s *sensor) searchMax(b backend.LexBound) int {
	v := binary.BigEndian.Uint64(b.Value[:])
	switch b.Kind {
	case backend.BoundMin:
		return 0
	case backend.BoundMax:
		return len(s.refs)
	case backend.BoundInclusive: // members <= v
		return s.searchAbove(v)
	default: // members < v
		return s.searchFrom(v)
	}
}

// searchFrom returns the index of the first member >= v (as bytes): the
// first with a timestamp of at least v. Written out rather than with
// slices.BinarySearchFunc, whose comparison closure is not inlined and
// cost a call per step on every range query.
func (s *sensor) searchFrom(v uint64) int {
	lo, hi := 0, len(s.refs)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if s.refs[mid].ts < v {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// searchAbove returns the index of the first member > v (as bytes): one
// with a greater timestamp, or the same timestamp and a value.
func (s *sensor) searchAbove(v uint64) int {
	lo, hi := 0, len(s.refs)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		r := s.refs[mid]
		if r.ts < v || (r.ts == v && r.size(s) == 8) {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// newSensor builds a sensor from members in any order (copying them),
// sorted and without duplicates. Members must be at least 8 bytes.
func newSensor(members [][]byte) *sensor {
	ms := slices.Clone(members)
	slices.SortFunc(ms, bytes.Compare)
	ms = slices.CompactFunc(ms, bytes.Equal)
	s := &sensor{refs: make([]ref, len(ms))}
	for i, m := range ms {
		s.refs[i] = s.put(binary.BigEndian.Uint64(m[:8]), m[8:])
	}
	return s
}
