package msgpack

import (
	"unsafe"

	"github.com/sdpkit/sdpkit/pyval"
)

// Boxing a pyval.Int in a pyval.Value costs an allocation, and since Int
// holds a string (for ints beyond 64 bits) the allocation is one the
// garbage collector must scan: for a message of many ints that is most of
// the decoding time. The reader therefore keeps the ints of one decode call
// in shared chunks and makes each Value point into its chunk, which is what
// the conversion would do with a fresh copy. Chunk entries are written once,
// before their Value exists, and never again, so the Values stay immutable.

// intChunk is the most ints one chunk holds; a chunk lives as long as any
// Value pointing into it.
const intChunk = 64

// ifaceWords is the layout of a non-empty interface value: the itab and the
// pointer to the data.
type ifaceWords struct {
	tab  unsafe.Pointer
	data unsafe.Pointer
}

// boxInt returns i as a Value whose data lives in r's current chunk.
func (r *reader) boxInt(i pyval.Int) pyval.Value {
	if len(r.ints) == cap(r.ints) {
		// Every int that gets here took at least 2 input bytes, so chunks
		// stay proportional to the input.
		n := min(intChunk, (len(r.b)-r.pos)/2+1)
		r.ints = make([]pyval.Int, 0, n)
	}
	r.ints = append(r.ints, i)
	v := pyval.Value(pyval.Int{}) // a static: no allocation
	(*ifaceWords)(unsafe.Pointer(&v)).data = unsafe.Pointer(&r.ints[len(r.ints)-1])
	return v
}
