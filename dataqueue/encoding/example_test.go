package encoding_test

import (
	"fmt"

	"github.com/sdpkit/sdpkit/dataqueue/encoding"
	"github.com/sdpkit/sdpkit/pyval"
)

func ExampleRegistry() {
	reg := encoding.NewRegistry()
	fmt.Println(reg.Names())
	c, err := reg.Lookup("json")
	if err != nil {
		panic(err)
	}
	b, _ := c.Encode(pyval.StrDict("name", pyval.Str("café"), "values", pyval.List{pyval.Float(1), pyval.IntOf(2)}))
	fmt.Println(string(b))
	_, err = reg.Lookup("xarray")
	fmt.Println(err)
	// Output:
	// [ascii json msgpack msgpack_numpy npy utf-8]
	// {"name": "caf\u00e9", "values": [1.0, 2]}
	// encoding: unknown encoding "xarray" (known: [ascii json msgpack msgpack_numpy npy utf-8])
}

func ExampleMsgpackNumpyCodec() {
	c := encoding.MsgpackNumpyCodec{}
	b, err := c.Encode(pyval.ArrayOf([]int32{1, 2}))
	if err != nil {
		panic(err)
	}
	fmt.Printf("%x\n", b)
	v, err := c.Decode(b)
	if err != nil {
		panic(err)
	}
	fmt.Println(pyval.Repr(v))
	// Output:
	// 85c4026e64c3c40474797065a33c6934c4046b696e64c400c40573686170659102c40464617461c4080100000002000000
	// array([1, 2], dtype='<i4', shape=(2,))
}

func ExampleNPYCodec() {
	b, err := encoding.NPYCodec{}.Encode(pyval.ArrayOf([]float64{1.5}))
	if err != nil {
		panic(err)
	}
	fmt.Printf("%q\n", b[10:60])
	fmt.Println(len(b))
	// Output:
	// "{'descr': '<f8', 'fortran_order': False, 'shape': "
	// 136
}

func ExampleAppendEncode() {
	// Reuse one buffer for many messages.
	var buf []byte
	c := encoding.MsgpackNumpyCodec{}
	for i := range 3 {
		var err error
		buf, err = encoding.AppendEncode(c, buf[:0], pyval.IntOf(int64(i*100)))
		if err != nil {
			panic(err)
		}
		fmt.Printf("%x\n", buf)
	}
	// Output:
	// 00
	// 64
	// ccc8
}

func ExampleCArrayCodec() {
	// The connector's exchange says dtype int16, shape [-1] (any length).
	c := encoding.CArrayCodec{DType: pyval.Int16, Shape: []int{-1}}
	v, err := c.Decode([]byte{1, 0, 2, 0, 3, 0})
	if err != nil {
		panic(err)
	}
	fmt.Println(pyval.Repr(v))
	// Output: array([1, 2, 3], dtype='<i2', shape=(3,))
}
