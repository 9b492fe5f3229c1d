package encoding

import (
	"errors"
	"fmt"

	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/pyval/msgpack"
)

// MsgpackCodec is plain MessagePack as msgpack-python 1.x writes and reads
// it with default options: packb(v) (use_bin_type: str and bytes stay
// apart; floats always float64; ints in the smallest form; tuples as
// arrays; dicts in insertion order) and unpackb(b) (raw=False: str must
// be UTF-8; strict_map_key: only str and bytes map keys).
//
// ska-sdp-dataqueues has no "msgpack" encoding; this codec is the base of
// msgpack_numpy without the numpy extension, for topics written with plain
// msgpack.packb. Arrays, numpy scalars and complex numbers are refused with
// ErrUnsupported, as Python raises TypeError, and so are ints outside
// -2**63 … 2**64-1 (also wrapping msgpack.ErrIntOverflow; Python's
// OverflowError). Decoded bytes alias the input.
type MsgpackCodec struct {
	// AllowAnyMapKey accepts map keys other than str and bytes on decode,
	// as unpackb(strict_map_key=False).
	AllowAnyMapKey bool
	// SingleFloat writes floats as float32, as packb(use_single_float=True).
	SingleFloat bool
}

var (
	msgpackEnc       = msgpack.NewEncoder(msgpack.TupleAsArray(true))
	msgpackEncSingle = msgpack.NewEncoder(msgpack.TupleAsArray(true), msgpack.SingleFloat(true))
	msgpackDec       = msgpack.NewDecoder(msgpack.StrictMapKeys(true), msgpack.AliasInput(true))
	msgpackDecLoose  = msgpack.NewDecoder(msgpack.AliasInput(true))
)

func (MsgpackCodec) Name() string { return Msgpack }

func (c MsgpackCodec) Encode(v pyval.Value) ([]byte, error) { return c.AppendEncode(nil, v) }

// AppendEncode appends the msgpack encoding of v to dst.
func (c MsgpackCodec) AppendEncode(dst []byte, v pyval.Value) ([]byte, error) {
	e := msgpackEnc
	if c.SingleFloat {
		e = msgpackEncSingle
	}
	out, err := e.Append(dst, v)
	if err != nil {
		return dst, msgpackEncodeErr(Msgpack, err)
	}
	return out, nil
}

func (c MsgpackCodec) Decode(data []byte) (pyval.Value, error) {
	d := msgpackDec
	if c.AllowAnyMapKey {
		d = msgpackDecLoose
	}
	v, err := d.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%w: encoding %s: %w", ErrInvalidData, Msgpack, err)
	}
	return v, nil
}

// msgpackEncodeErr adds this package's sentinels to an encoder error.
func msgpackEncodeErr(name string, err error) error {
	switch {
	case errors.Is(err, ErrUnsupported), errors.Is(err, ErrDatetimeArray), errors.Is(err, ErrObjectArray), errors.Is(err, ErrUnicode):
		return fmt.Errorf("encoding %s: %w", name, err)
	case errors.Is(err, msgpack.ErrUnsupportedType), errors.Is(err, msgpack.ErrIntOverflow):
		return fmt.Errorf("%w: encoding %s: %w", ErrUnsupported, name, err)
	case errors.Is(err, msgpack.ErrInvalidUTF8):
		return fmt.Errorf("%w: encoding %s: %w", ErrUnicode, name, err)
	}
	return fmt.Errorf("encoding %s: %w", name, err)
}
