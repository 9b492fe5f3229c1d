package memory

import (
	"bytes"
	"encoding/binary"
	"math"
	"slices"
)

// sensor holds a mutable key's members: the packed bytes
// (backend.PackMember form) appended to one buffer in arrival order, and a
// slice of references to them sorted bytewise. Neither slice holds
// pointers, so a sensor of millions of samples costs the garbage collector
// nothing to scan and an add costs no allocation of its own (amortised);
// an out-of-order insert moves 16-byte references, not the members.
//
// Stored bytes are never modified: rejected duplicates are only ever
// written past the end of every referenced member and then dropped, so
// slices handed out by member stay valid after later writes.
type sensor struct {
	data []byte
	refs []ref // sorted by member bytes, no duplicates
}

type ref struct {
	off int
	n   int32 // member length (8 + encoded value)
}

func (s *sensor) len() int { return len(s.refs) }

// member returns the i-th member in sorted order (capacity-limited, so an
// append by a caller cannot reach the neighbours).
func (s *sensor) member(i int) []byte {
	r := s.refs[i]
	end := r.off + int(r.n)
	return s.data[r.off:end:end]
}

// add inserts the member for (value, ts) unless it is already present.
func (s *sensor) add(value []byte, ts float64) {
	start := len(s.data)
	s.data = binary.BigEndian.AppendUint64(s.data, math.Float64bits(math.Abs(ts)))
	s.data = append(s.data, value...)
	m := s.data[start:]
	r := ref{off: start, n: int32(len(m))}
	n := len(s.refs)
	// In-order data: compare with the newest member first, so appends
	// cost O(1) amortised and skip the binary search.
	if n == 0 {
		s.refs = append(s.refs, r)
		return
	}
	switch c := bytes.Compare(m, s.member(n-1)); {
	case c > 0:
		s.refs = append(s.refs, r)
		return
	case c == 0:
		s.data = s.data[:start]
		return
	}
	i, found := slices.BinarySearchFunc(s.refs, m, func(r ref, m []byte) int {
		return bytes.Compare(s.data[r.off:r.off+int(r.n)], m)
	})
	if found {
		s.data = s.data[:start]
		return
	}
	s.refs = slices.Insert(s.refs, i, r)
}

// newSensor builds a sensor from members in any order, sorting them and
// dropping duplicates.
func newSensor(members [][]byte) *sensor {
	ms := slices.Clone(members)
	slices.SortFunc(ms, bytes.Compare)
	ms = slices.CompactFunc(ms, bytes.Equal)
	total := 0
	for _, m := range ms {
		total += len(m)
	}
	s := &sensor{data: make([]byte, 0, total), refs: make([]ref, len(ms))}
	for i, m := range ms {
		s.refs[i] = ref{off: len(s.data), n: int32(len(m))}
		s.data = append(s.data, m...)
	}
	return s
}
