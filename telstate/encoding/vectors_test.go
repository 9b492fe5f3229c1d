package encoding

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/sdpkit/sdpkit/internal/vectors"
	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/pyval/tagjson"
)

// record is one line of shared/vectors/telstate/encoding.jsonl.
type record struct {
	Name                       string          `json:"name"`
	PythonType                 string          `json:"python_type"`
	Value                      json.RawMessage `json:"value"`
	EncodedHex                 *string         `json:"encoded_hex"`
	EncodeError                string          `json:"encode_error"`
	Decoded                    json.RawMessage `json:"decoded"`
	DecodeError                string          `json:"decode_error"`
	DecodeOnly                 bool            `json:"decode_only"`
	DecodedIfPickleAllowed     json.RawMessage `json:"decoded_if_pickle_allowed"`
	DecodeErrorIfPickleAllowed string          `json:"decode_error_if_pickle_allowed"`
}

func loadRecords(t testing.TB) []record {
	t.Helper()
	return vectors.JSONL[record](t, "telstate", "encoding.jsonl")
}

func (r record) encoded(t testing.TB) []byte {
	t.Helper()
	if r.EncodedHex == nil {
		t.Fatalf("%s: no encoded_hex", r.Name)
	}
	b, err := hex.DecodeString(*r.EncodedHex)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// unencodableValue builds the Go form of a vector value that tagjson
// cannot: a str with a lone surrogate becomes the invalid UTF-8 that Go
// would hold for it, and object arrays and scalars are built by hand. It
// returns nil for values with no pyval form at all (set, class instances,
// ints beyond 64 bits).
func unencodableValue(t *testing.T, raw json.RawMessage) pyval.Value {
	var tagged map[string]json.RawMessage
	if err := json.Unmarshal(raw, &tagged); err != nil {
		t.Fatalf("value: %v", err)
	}
	if rep, ok := tagged["python_repr"]; ok {
		if string(rep) == `"'\\udcff'"` {
			return pyval.Str("\xed\xb3\xbf") // U+DCFF in generalised UTF-8
		}
		return nil
	}
	if i, ok := tagged["int"]; ok {
		var s string
		_ = json.Unmarshal(i, &s)
		if _, err := pyval.ParseInt(s); err == nil {
			t.Errorf("int %s is representable but Python refused it", s)
		}
		return nil
	}
	var body struct {
		Descr   json.RawMessage `json:"descr"`
		Shape   []int           `json:"shape"`
		DataHex string          `json:"data_hex"`
	}
	obj := tagged["ndarray"]
	if obj == nil {
		obj = tagged["npscalar"]
	}
	if obj == nil {
		t.Fatalf("cannot build value %s", raw)
	}
	if err := json.Unmarshal(obj, &body); err != nil {
		t.Fatal(err)
	}
	dt, err := tagjson.ParseDescr(body.Descr)
	if err != nil {
		t.Fatalf("descr %s: %v", body.Descr, err)
	}
	data, _ := hex.DecodeString(body.DataHex)
	if tagged["ndarray"] != nil {
		return &pyval.NDArray{DType: dt, Shape: body.Shape, Data: data}
	}
	return &pyval.Scalar{DType: dt, Data: data}
}

func TestVectors(t *testing.T) {
	recs := loadRecords(t)
	var counts struct{ encode, encodeErr, decode, decodeErr, pickle, skipped int }
	for _, r := range recs {
		t.Run(r.Name, func(t *testing.T) {
			if !r.DecodeOnly {
				src := r.Value
				if r.PythonType == "numpy.ma.core.MaskedArray" {
					// The value rendering shows masked elements as the fill
					// value; the bytes numpy stores (and Python encodes) are
					// those of the decoded array.
					src = r.Decoded
				}
				v, err := parseVector(src)
				if r.EncodeError != "" {
					if err != nil {
						v = unencodableValue(t, r.Value)
					}
					if v == nil {
						t.Logf("%s has no pyval form; Python's %s cannot arise", r.Value, r.EncodeError)
						counts.skipped++
						return
					}
					if b, err := Encode(v); !errors.Is(err, ErrEncode) {
						t.Errorf("Encode = %x, %v; want ErrEncode (Python: %s)", b, err, r.EncodeError)
					}
					counts.encodeErr++
					return
				}
				if err != nil {
					t.Fatalf("parse value: %v", err)
				}
				got, err := Encode(v)
				if err != nil {
					t.Fatalf("Encode: %v", err)
				}
				if want := *r.EncodedHex; hex.EncodeToString(got) != want {
					t.Errorf("Encode =\n%x\nwant\n%s", got, want)
				}
				counts.encode++
			}
			in := r.encoded(t)
			got, err := Decode(in)
			switch {
			case r.DecodeError != "":
				if !errors.Is(err, ErrDecode) {
					t.Errorf("Decode = %s, %v; want ErrDecode (Python: %s)", repr(got), err, r.DecodeError)
				}
				counts.decodeErr++
			case err != nil:
				t.Errorf("Decode: %v", err)
			default:
				want := r.Decoded
				if want == nil {
					want = r.Value
				}
				checkDecoded(t, got, want)
				counts.decode++
			}
			if r.DecodedIfPickleAllowed != nil || r.DecodeErrorIfPickleAllowed != "" {
				got, err := Decode(in, AllowPickle(true))
				if r.DecodeErrorIfPickleAllowed != "" {
					if !errors.Is(err, ErrDecode) {
						t.Errorf("Decode(AllowPickle) = %s, %v; want ErrDecode", repr(got), err)
					}
				} else if err != nil {
					t.Errorf("Decode(AllowPickle): %v", err)
				} else {
					checkDecoded(t, got, r.DecodedIfPickleAllowed)
				}
				counts.pickle++
			}
		})
	}
	if len(recs) < 194 {
		t.Errorf("read %d records of encoding.jsonl, want all 194", len(recs))
	}
	t.Logf("%d records: %d encoded byte-exact, %d encode errors, %d decoded, %d decode errors, %d pickle decodes, %d without a pyval form",
		len(recs), counts.encode, counts.encodeErr, counts.decode, counts.decodeErr, counts.pickle, counts.skipped)
}

// checkDecoded compares a decoded value with a vector rendering. A
// python_repr rendering (the msgpack Timestamp) is compared with pyval's
// repr, which uses the same format.
func checkDecoded(t *testing.T, got pyval.Value, want json.RawMessage) {
	t.Helper()
	var tagged map[string]json.RawMessage
	if json.Unmarshal(want, &tagged) == nil && tagged["python_repr"] != nil {
		var rep string
		_ = json.Unmarshal(tagged["python_repr"], &rep)
		if repr(got) != rep {
			t.Errorf("decoded %s, want %s", repr(got), rep)
		}
		return
	}
	w, err := parseVector(want)
	if err != nil {
		t.Fatalf("parse expected value: %v", err)
	}
	if !sameValue(got, w) {
		t.Errorf("decoded\n%s\nwant\n%s", repr(got), repr(w))
	}
}

// parseVector parses a rendering. A rendered "nan" is Python's
// float('nan'), whose bits are 0x7ff8000000000000 (tagjson gives Go's
// math.NaN(), which differs in the last bit), and a byte-exact encoder
// must see Python's bits.
func parseVector(raw json.RawMessage) (pyval.Value, error) {
	v, err := tagjson.Parse(raw)
	if err != nil {
		return nil, err
	}
	return pythonNaN(v), nil
}

func pythonNaN(v pyval.Value) pyval.Value {
	nan := math.Float64frombits(0x7ff8000000000000)
	fix := func(f float64) float64 {
		if math.IsNaN(f) {
			return nan
		}
		return f
	}
	switch x := v.(type) {
	case pyval.Float:
		return pyval.Float(fix(float64(x)))
	case pyval.Complex:
		return pyval.Complex(complex(fix(real(x)), fix(imag(x))))
	case pyval.List:
		for i := range x {
			x[i] = pythonNaN(x[i])
		}
	case pyval.Tuple:
		for i := range x {
			x[i] = pythonNaN(x[i])
		}
	case *pyval.Dict:
		d := &pyval.Dict{}
		for _, it := range x.Items() {
			_ = d.Set(pythonNaN(it.Key), pythonNaN(it.Value))
		}
		return d
	}
	return v
}

func repr(v pyval.Value) string {
	if v == nil {
		return "<nil>"
	}
	return pyval.Repr(v)
}

// sameValue compares structurally: same kinds (Str is not Bytes, Tuple is
// not List), floats bitwise (so -0.0 and NaN count), dicts in order,
// arrays and scalars by descr, shape, order and raw bytes.
func sameValue(a, b pyval.Value) bool { return same(a, b, false) }

// sameLogical is sameValue except that arrays compare by their elements in
// C order, ignoring a fortran_order flag that numpy would not write again
// (an array that is also C-contiguous, such as an empty one, is saved with
// fortran_order False).
func sameLogical(a, b pyval.Value) bool { return same(a, b, true) }

func same(a, b pyval.Value, logical bool) bool {
	if a == nil || b == nil || a.Kind() != b.Kind() {
		return false
	}
	switch x := a.(type) {
	case pyval.Float:
		return math.Float64bits(float64(x)) == math.Float64bits(float64(b.(pyval.Float)))
	case pyval.Complex:
		y := b.(pyval.Complex)
		return math.Float64bits(real(x)) == math.Float64bits(real(y)) && math.Float64bits(imag(x)) == math.Float64bits(imag(y))
	case pyval.Int:
		return x.Cmp(b.(pyval.Int)) == 0
	case pyval.Bytes:
		return bytes.Equal(x, b.(pyval.Bytes))
	case pyval.List:
		return sameSeq(x, b.(pyval.List), logical)
	case pyval.Tuple:
		return sameSeq(x, b.(pyval.Tuple), logical)
	case *pyval.Dict:
		y := b.(*pyval.Dict)
		if x.Len() != y.Len() {
			return false
		}
		for i, it := range x.Items() {
			jt := y.Items()[i]
			if !same(it.Key, jt.Key, logical) || !same(it.Value, jt.Value, logical) {
				return false
			}
		}
		return true
	case *pyval.NDArray:
		y := b.(*pyval.NDArray)
		if logical {
			return x.DType.String() == y.DType.String() && x.DType.Equal(y.DType) && slices.Equal(x.Shape, y.Shape) &&
				bytes.Equal(x.CData(), y.CData())
		}
		return x.DType.String() == y.DType.String() && x.DType.Equal(y.DType) && slices.Equal(x.Shape, y.Shape) &&
			x.FortranOrder == y.FortranOrder && bytes.Equal(x.Data, y.Data)
	case *pyval.Scalar:
		y := b.(*pyval.Scalar)
		return x.DType.String() == y.DType.String() && x.DType.Equal(y.DType) && bytes.Equal(x.Data, y.Data)
	}
	return a == b
}

func sameSeq(a, b []pyval.Value, logical bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !same(a[i], b[i], logical) {
			return false
		}
	}
	return true
}
