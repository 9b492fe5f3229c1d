package msgpack

import (
	"testing"

	"github.com/sdpkit/sdpkit/pyval"
)

// intList is an int-heavy value: small, 16-bit, 32-bit and 64-bit ints of
// both signs, as sensor and counter streams hold.
func intList() pyval.List {
	l := make(pyval.List, 1000)
	for i := range l {
		switch i % 4 {
		case 0:
			l[i] = pyval.IntOf(int64(i % 100))
		case 1:
			l[i] = pyval.IntOf(-int64(i) * 97)
		case 2:
			l[i] = pyval.IntOf(int64(i) << 40)
		default:
			l[i] = pyval.UintOf(uint64(1)<<63 + uint64(i))
		}
	}
	return l
}

func BenchmarkEncodeInts(b *testing.B) {
	v := intList()
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		var err error
		if buf, err = Append(buf[:0], v); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkDecodeInts(b *testing.B) {
	in, err := Marshal(intList())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := Unmarshal(in); err != nil {
			b.Fatal(err)
		}
	}
}
