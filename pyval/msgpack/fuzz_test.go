package msgpack

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/sdpkit/sdpkit/pyval"
)

// tupleExtArray is tupleExt through SubDecoder.DecodeArray.
func tupleExtArray(typ int8, p []byte, sub SubDecoder) (pyval.Value, error) {
	if typ != 1 {
		return nil, fmt.Errorf("%w: %d", ErrUnknownExt, typ)
	}
	items, other, err := sub.DecodeArray(p)
	if err != nil {
		return nil, err
	}
	if other != nil {
		return nil, errors.New("not a list")
	}
	return pyval.Tuple(items), nil
}

// FuzzMsgpack decodes arbitrary input with strict and lenient decoders.
// Decoding must never panic; whatever decodes must re-encode, and the
// re-encoding must be a fixed point (decode then encode gives the same
// bytes and the same value).
func FuzzMsgpack(f *testing.F) {
	for _, s := range []string{
		"c0", "c3", "7f", "cc80", "d1ff7f", "cfffffffffffffffff", "cb3ff8000000000000",
		"ca3fc00000", "a3616263", "d90568656c6c6f", "c4026162", "9301a161c0",
		"82a16101c4016202", "810102", "d6ff00000001", "d7ff0000000400000001",
		"c70cff00000000ffffffffffffffff", "d40190", "c7070192a161a33c6934",
		"dd80000000", "c1", "dc00019190", "de0001a0de0000",
	} {
		f.Add(mustHex(f, s))
	}
	strict := NewDecoder(WithExtHook(tupleExt), StrictMapKeys(true))
	lenient := NewDecoder(WithExtHook(tupleExt), MaxDepth(64))
	// arrays decodes tuples with SubDecoder.DecodeArray: it must agree
	// with strict, which uses SubDecoder.Decode.
	arrays := NewDecoder(WithExtHook(tupleExtArray), StrictMapKeys(true))
	enc := NewEncoder(WithEncodeHook(tupleHook))
	f.Fuzz(func(t *testing.T, in []byte) {
		sv, serr := strict.Decode(in)
		av, aerr := arrays.Decode(in)
		if (serr == nil) != (aerr == nil) || (serr != nil && serr.Error() != aerr.Error()) || (serr == nil && !sameValue(sv, av)) {
			t.Fatalf("decoding %x: %v, %v with Decode; %v, %v with DecodeArray", in, sv, serr, av, aerr)
		}
		if v, n, err := strict.DecodeFirst(in); err == nil && (n <= 0 || n > len(in) || v == nil) {
			t.Fatalf("DecodeFirst used %d of %d bytes", n, len(in))
		}
		v, err := lenient.Decode(in)
		if err != nil {
			return
		}
		b1, err := enc.Encode(v)
		if err != nil {
			t.Fatalf("decoded %s but cannot re-encode: %v", pyval.Repr(v), err)
		}
		v2, err := lenient.Decode(b1)
		if err != nil {
			t.Fatalf("re-encoding %x does not decode: %v", b1, err)
		}
		if !sameValue(v, v2) {
			t.Fatalf("value changed: %s became %s", pyval.Repr(v), pyval.Repr(v2))
		}
		b2, err := enc.Encode(v2)
		if err != nil || !bytes.Equal(b1, b2) {
			t.Fatalf("encoding not a fixed point: %x then %x (%v)", b1, b2, err)
		}
	})
}
