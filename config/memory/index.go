package memory

import (
	"slices"
	"sort"
)

// chunkMax bounds the chunks of the key index. Inserting moves at most
// chunkMax pointers inside a chunk plus, on a split, the chunk list (n /
// chunkMax entries), so a new key costs O(chunkMax + n/chunkMax) instead of
// the O(n) of one sorted slice, while range scans stay sequential.
const chunkMax = 512

// index is the sorted key index: a list of sorted chunks, each non-empty,
// covering consecutive key intervals.
type index struct {
	chunks [][]*key
	n      int
}

// seek returns the position of the first key >= name: chunk ci, slot i
// (ci == len(chunks) when every key is smaller).
func (ix *index) seek(name string) (ci, i int) {
	ci = sort.Search(len(ix.chunks), func(c int) bool {
		ch := ix.chunks[c]
		return ch[len(ch)-1].name >= name
	})
	if ci == len(ix.chunks) {
		return ci, 0
	}
	ch := ix.chunks[ci]
	i = sort.Search(len(ch), func(j int) bool { return ch[j].name >= name })
	return ci, i
}

// insert adds k, whose name must not be in the index yet.
func (ix *index) insert(k *key) {
	ix.n++
	if len(ix.chunks) == 0 {
		ix.chunks = append(ix.chunks, []*key{k})
		return
	}
	ci, i := ix.seek(k.name)
	if ci == len(ix.chunks) { // after every key: append to the last chunk
		ci = len(ix.chunks) - 1
		i = len(ix.chunks[ci])
	}
	ch := slices.Insert(ix.chunks[ci], i, k)
	if len(ch) <= chunkMax {
		ix.chunks[ci] = ch
		return
	}
	h := len(ch) / 2
	right := make([]*key, len(ch)-h, chunkMax+1)
	copy(right, ch[h:])
	clear(ch[h:]) // drop references the left half no longer owns
	ix.chunks[ci] = ch[:h]
	ix.chunks = slices.Insert(ix.chunks, ci+1, right)
}

// remove drops the key called name if present.
func (ix *index) remove(name string) {
	ci, i := ix.seek(name)
	if ci == len(ix.chunks) || ix.chunks[ci][i].name != name {
		return
	}
	ix.n--
	ch := slices.Delete(ix.chunks[ci], i, i+1)
	if len(ch) == 0 {
		ix.chunks = slices.Delete(ix.chunks, ci, ci+1)
		return
	}
	ix.chunks[ci] = ch
}

// ascend calls fn for every key in [from, end) in order (to the last key
// when toEnd), until fn returns false.
func (ix *index) ascend(from, end string, toEnd bool, fn func(*key) bool) {
	ci, i := ix.seek(from)
	for ; ci < len(ix.chunks); ci, i = ci+1, 0 {
		ch := ix.chunks[ci]
		for ; i < len(ch); i++ {
			k := ch[i]
			if !toEnd && k.name >= end {
				return
			}
			if !fn(k) {
				return
			}
		}
	}
}
