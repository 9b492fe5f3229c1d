package memory

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/sdpkit/sdpkit/telstate/backend"
)

// The sensor's reference-only searches agree with the generic bytewise
// searches of backend.LexBound, and its members with a sorted,
// de-duplicated list of everything added, across chunk boundaries, big
// members, bare 8-byte members and duplicates.
func TestSensorAgainstSortedList(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for round := range 20 {
		s := &sensor{}
		var want [][]byte
		n := 1 + rng.IntN(3000)
		for range n {
			ts := uint64(rng.IntN(50)) << 52 // few distinct timestamps: many ties
			var v []byte
			switch rng.IntN(20) {
			case 0: // bare timestamp
			case 1:
				v = bytes.Repeat([]byte{byte(rng.IntN(3))}, bigMember+rng.IntN(100)) // big member
			default:
				v = []byte{0xff, byte(rng.IntN(8)), byte(rng.IntN(2))}
			}
			m := binary.BigEndian.AppendUint64(nil, ts)
			m = append(m, v...)
			want = append(want, m)
			if round%2 == 0 {
				r := s.put(ts, v)
				// add's path, but with raw timestamp bits
				i, found := slices.BinarySearchFunc(s.refs, r, s.compare)
				if found {
					s.unput(r)
				} else {
					s.refs = slices.Insert(s.refs, i, r)
				}
			}
		}
		slices.SortFunc(want, bytes.Compare)
		want = slices.CompactFunc(want, bytes.Equal)
		if round%2 == 1 {
			s = newSensor(want)
		}
		if s.len() != len(want) {
			t.Fatalf("round %d: %d members, want %d", round, s.len(), len(want))
		}
		for i := range want {
			if !bytes.Equal(s.member(i), want[i]) {
				t.Fatalf("round %d: member %d = %x, want %x", round, i, s.member(i)[:min(12, len(s.member(i)))], want[i][:min(12, len(want[i]))])
			}
		}
		at := func(i int) []byte { return want[i] }
		for range 200 {
			var b backend.LexBound
			b.Kind = backend.BoundKind(rng.IntN(4))
			binary.BigEndian.PutUint64(b.Value[:], uint64(rng.IntN(52))<<52)
			if got, exp := s.searchMin(b), b.SearchMin(len(want), at); got != exp {
				t.Fatalf("searchMin(%v %x) = %d, want %d", b.Kind, b.Value, got, exp)
			}
			if got, exp := s.searchMax(b), b.SearchMax(len(want), at); got != exp {
				t.Fatalf("searchMax(%v %x) = %d, want %d", b.Kind, b.Value, got, exp)
			}
		}
	}
}
