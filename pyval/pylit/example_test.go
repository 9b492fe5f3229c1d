package pylit_test

import (
	"errors"
	"fmt"

	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/pyval/pylit"
)

func ExampleParse() {
	v, err := pylit.Parse(`{'name': 'm000', 'pos': (1.5, -2e3, 0x10), 'gain': 1+2j, "raw": b'\x00\xff'}`)
	if err != nil {
		panic(err)
	}
	d := v.(*pyval.Dict)
	pos, _ := d.GetStr("pos")
	fmt.Println(pylit.Format(pos))
	fmt.Println(pylit.Format(v))

	_, err = pylit.Parse("[1, 2")
	fmt.Println(err)
	_, err = pylit.Parse("{1, 2}")
	fmt.Println(errors.Is(err, pylit.ErrUnsupported))
	// Output:
	// (1.5, -2000.0, 16)
	// {'name': 'm000', 'pos': (1.5, -2000.0, 16), 'gain': (1+2j), 'raw': b'\x00\xff'}
	// pylit: offset 5: expected ',' or ']' after list item, found end of input
	// true
}
