package npy_test

import (
	"bytes"
	"fmt"

	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/pyval/npy"
)

func Example() {
	a := pyval.ArrayOf([]int64{1, 2, 3})
	b, err := npy.Encode(a)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d bytes, header %q\n", len(b), bytes.TrimRight(b[10:128], " \n"))

	back, err := npy.Decode(b)
	if err != nil {
		panic(err)
	}
	v, _ := back.Int64s()
	fmt.Println(back.DType, back.Shape, v)
	// Output:
	// 152 bytes, header "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }"
	// <i8 [3] [1 2 3]
}

func ExampleDecodeHeader() {
	a := &pyval.NDArray{DType: pyval.Float32, Shape: []int{2, 3}, FortranOrder: true, Data: make([]byte, 24)}
	b, _ := npy.Encode(a)
	h, n, err := npy.DecodeHeader(b)
	fmt.Println(h.DType, h.Shape, h.FortranOrder, h.Version, n, err)
	// Output:
	// <f4 [2 3] true 1.0 128 <nil>
}
