package pyjson_test

import (
	"fmt"

	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/pyval/pyjson"
)

func ExampleMarshal() {
	v := pyval.StrDict("name", pyval.Str("été"), "scan", pyval.Float(21600), "n", pyval.IntOf(3))
	b, _ := pyjson.Marshal(v) // json.dumps(v)
	fmt.Println(string(b))
	b, _ = pyjson.Marshal(v, pyjson.SortKeys(), pyjson.Separators(",", ":"), pyjson.EnsureASCII(false))
	fmt.Println(string(b))
	// Output:
	// {"name": "\u00e9t\u00e9", "scan": 21600.0, "n": 3}
	// {"n":3,"name":"été","scan":21600.0}
}

func ExampleCanonical() {
	v, _ := pyjson.Unmarshal([]byte(`{"b": 1, "a": {"d": [], "c": 1e16}}`))
	b, _ := pyjson.Canonical(v)
	fmt.Println(string(b))
	// Output:
	// {
	//   "a": {
	//     "c": 1e+16,
	//     "d": []
	//   },
	//   "b": 1
	// }
}

func ExampleUnmarshal() {
	v, _ := pyjson.Unmarshal([]byte(`{"f": 21600.0, "i": 21600, "x": NaN, "i": 7}`))
	fmt.Println(pyval.Repr(v))
	_, err := pyjson.Unmarshal([]byte("{\n  \"a\": 1,\n}"))
	fmt.Println(err)
	// Output:
	// {'f': 21600.0, 'i': 7, 'x': nan}
	// pyjson: Expecting property name enclosed in double quotes: line 3 column 1 (byte 12)
}

func ExampleFromYAML() {
	v, _ := pyjson.FromYAML([]byte("image: repo/x:1.0\nreplicas: 010\nenabled: yes\nratio: 1e3\n"))
	fmt.Println(pyval.Repr(v)) // PyYAML's YAML 1.1 rules: octal 010, yes, and 1e3 a str
	// Output:
	// {'image': 'repo/x:1.0', 'replicas': 8, 'enabled': True, 'ratio': '1e3'}
}

func ExampleDefault() {
	asHex := func(v pyval.Value) (pyval.Value, error) {
		if b, ok := v.(pyval.Bytes); ok {
			return pyval.Str(fmt.Sprintf("%x", []byte(b))), nil
		}
		return nil, fmt.Errorf("cannot encode %s", v.Kind())
	}
	b, err := pyjson.Marshal(pyval.List{pyval.Bytes{0xca, 0xfe}}, pyjson.Default(asHex))
	fmt.Println(string(b), err)
	_, err = pyjson.Marshal(pyval.List{pyval.Bytes{0xca, 0xfe}})
	fmt.Println(err)
	// Output:
	// ["cafe"] <nil>
	// pyjson: unsupported type: Object of type bytes is not JSON serializable (in list item 0)
}
