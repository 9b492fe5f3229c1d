package pyval_test

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/sdpkit/sdpkit/pyval"
)

func ExampleArrayOf() {
	a := pyval.ArrayOf([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	fmt.Println(a.DType, a.Shape, a.Len())
	rows, _ := a.ToList()
	fmt.Println(pyval.Repr(rows))
	f, _ := a.Float64s()
	fmt.Println(f)
	// Output:
	// <f4 [2 3] 6
	// [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
	// [1 2 3 4 5 6]
}

func ExampleDict() {
	d := pyval.StrDict("antenna", pyval.Str("m000"), "gain", pyval.Float(1.5))
	// As in Python, 1, 1.0 and True are the same key.
	_ = d.Set(pyval.IntOf(1), pyval.Str("one"))
	_ = d.Set(pyval.Float(1.0), pyval.Str("uno"))
	fmt.Println(pyval.Repr(d))
	v, ok := d.GetStr("gain")
	fmt.Println(pyval.Repr(v), ok)
	err := d.Set(pyval.List{}, pyval.None)
	fmt.Println(errors.Is(err, pyval.ErrUnhashable))
	// Output:
	// {'antenna': 'm000', 'gain': 1.5, 1: 'uno'}
	// 1.5 true
	// true
}

func ExampleEqual() {
	fmt.Println(pyval.Equal(pyval.IntOf(1), pyval.Float(1.0)))
	fmt.Println(pyval.Equal(pyval.Str("a"), pyval.Bytes("a")))
	fmt.Println(pyval.Equal(pyval.Tuple{pyval.IntOf(1)}, pyval.List{pyval.IntOf(1)}))
	fmt.Println(pyval.Equal(pyval.ScalarOf(int32(7)), pyval.IntOf(7)))
	fmt.Println(pyval.Equal(pyval.ArrayOf([]int8{1, 2}), pyval.ArrayOf([]float64{1, 2})))
	// Output:
	// true
	// false
	// false
	// true
	// true
}

func ExampleAsFloat64() {
	for _, v := range []pyval.Value{pyval.Float(2.5), pyval.IntOf(3), pyval.ScalarOf(float32(0.25)), pyval.Str("x")} {
		f, err := pyval.AsFloat64(v)
		fmt.Println(f, err)
	}
	// Output:
	// 2.5 <nil>
	// 3 <nil>
	// 0.25 <nil>
	// 0 pyval: wrong type: want float, got str
}

func ExampleRepr() {
	v := pyval.Tuple{pyval.IntOf(1), pyval.Str("it's"), pyval.Bytes("\x00"), pyval.Complex(1 - 2i), pyval.Float(1e16)}
	fmt.Println(pyval.Repr(v))
	// Output:
	// (1, "it's", b'\x00', (1-2j), 1e+16)
}

func ExampleInt() {
	// Ints of any size are exact; the 64-bit range is held inline.
	small := pyval.IntOf(-5)
	p64, _ := pyval.ParseInt("18446744073709551616") // 2**64
	fmt.Println(small, small.IsBig(), p64, p64.IsBig())
	_, fits := p64.Uint64()
	fmt.Println("fits uint64:", fits, "bits:", p64.BitLen())
	// == is numeric equality, and Python's int/float rules hold.
	fmt.Println(p64 == pyval.IntFromBig(p64.Big()), pyval.Equal(p64, pyval.Float(1<<64)))
	// float(i) fails for ints beyond float64's range, as in Python.
	huge := pyval.IntFromBig(new(big.Int).Lsh(p64.Big(), 1000))
	_, err := huge.Float()
	fmt.Println(errors.Is(err, pyval.ErrOverflow))
	// Output:
	// -5 false 18446744073709551616 true
	// fits uint64: false bits: 65
	// true true
	// true
}
