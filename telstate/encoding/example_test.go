package encoding_test

import (
	"errors"
	"fmt"

	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/telstate/encoding"
)

func Example() {
	b, err := encoding.Encode(pyval.Tuple{pyval.Str("m000"), pyval.Float(1.5)})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%x\n", b)
	v, err := encoding.Decode(b)
	if err != nil {
		panic(err)
	}
	fmt.Println(pyval.Repr(v))

	// Old values may be pickles, which are refused unless allowed.
	_, err = encoding.Decode([]byte("\x80\x02K\x01."))
	fmt.Println(errors.Is(err, encoding.ErrPickleNotAllowed))
	// Output:
	// ffc70f0192a46d303030cb3ff8000000000000
	// ('m000', 1.5)
	// true
}
