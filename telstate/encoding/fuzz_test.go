package encoding

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to Decode, seeded with every vector.
// Decoding must never panic and must fail only with ErrDecode (also with
// pickles allowed). A msgpack value that decodes must re-encode, the
// re-encoding must decode to the same value (up to a redundant
// fortran_order flag, which numpy does not write again either), and
// encoding that again must give the same bytes.
func FuzzDecode(f *testing.F) {
	for _, r := range loadRecords(f) {
		if r.EncodedHex != nil {
			f.Add(r.encoded(f))
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		v, err := Decode(in)
		if err != nil && !errors.Is(err, ErrDecode) {
			t.Fatalf("error %v is not ErrDecode", err)
		}
		if len(in) > 0 && in[0] <= MarkerPickle {
			if _, err := Decode(in, AllowPickle(true)); err != nil && !errors.Is(err, ErrDecode) {
				t.Fatalf("pickle error %v is not ErrDecode", err)
			}
		}
		if err != nil {
			return
		}
		if v == nil {
			t.Fatal("Decode returned nil, nil")
		}
		b1, err := Encode(v)
		if err != nil {
			t.Fatalf("decoded %s but cannot re-encode: %v", repr(v), err)
		}
		v2, err := Decode(b1)
		if err != nil {
			t.Fatalf("re-encoding %x of %s does not decode: %v", b1, repr(v), err)
		}
		if !sameLogical(v, v2) {
			t.Fatalf("value changed on re-encoding: %s became %s", repr(v), repr(v2))
		}
		b2, err := Encode(v2)
		if err != nil || !bytes.Equal(b1, b2) {
			t.Fatalf("encoding not a fixed point: %x then %x (%v)", b1, b2, err)
		}
		if !EqualEncoded(b1, b2) {
			t.Fatal("identical encodings not EqualEncoded")
		}
	})
}
