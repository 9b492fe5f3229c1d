package msgpack_test

import (
	"fmt"

	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/pyval/msgpack"
)

func ExampleEncoder_Append() {
	enc := msgpack.NewEncoder()
	buf := make([]byte, 0, 64) // reused across calls: no allocation
	for _, v := range []pyval.Value{pyval.IntOf(128), pyval.IntOf(-33), pyval.Float(1), pyval.Bytes("ab")} {
		var err error
		buf, err = enc.Append(buf[:0], v)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%x\n", buf)
	}
	// Output:
	// cc80
	// d0df
	// cb3ff0000000000000
	// c4026162
}
