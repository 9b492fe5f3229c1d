package encoding

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/pyval/msgpack"
)

// MsgpackNumpyCodec is the "msgpack_numpy" encoding: msgpack_numpy.packb
// and unpackb (msgpack-numpy 0.4.8 on msgpack-python 1.x), byte for byte.
// Values msgpack has a form for are written as MsgpackCodec writes them;
// the others become maps with bin keys:
//
//   - *pyval.NDArray: {nd: true, type: dtype.str (or the descr list of a
//     structured dtype), kind: b"" (b"V" for structured), shape: [...],
//     data: the element bytes in C order}. A Fortran-ordered array is sent
//     in C order, as Python sends it; the map has no order flag.
//   - *pyval.Scalar: {nd: false, type: dtype.str, data: the item's bytes},
//     except that a float64 scalar is a plain float, a str_ scalar a str and
//     a bytes_ scalar bytes (numpy's subclasses of the Python types).
//     datetime64, timedelta64 and structured (void) scalars are refused with
//     ErrUnsupported, as Python raises TypeError.
//   - pyval.Complex: {complex: true, data: repr text such as "(1+2j)"}.
//
// An int outside -2**63 … 2**64-1 fails with ErrUnsupported wrapping
// msgpack.ErrIntOverflow (Python's OverflowError).
//
// Object arrays are refused (ErrObjectArray) both ways: Python pickles
// them. Python also fails on C-contiguous datetime64/timedelta64 arrays
// (ErrDatetimeArray) while sending non-contiguous views of the same data;
// see AllowDatetime.
//
// Decoding follows unpackb(raw=False, strict_map_key=True,
// object_hook=msgpack_numpy.decode) and adds the tolerance that data from
// older writers needs: the keys of an array map may be str as well as bin,
// in any order; data may be a str holding raw bytes that are not UTF-8;
// a missing kind key means a plain dtype. A map whose nd (or complex) key
// is bin is read exactly as Python reads it: a missing key leaves the map
// unchanged (Python swallows the KeyError), other problems are errors. A
// map whose keys are str (which a current Python decoder never converts)
// becomes an array or scalar when it can and otherwise stays a map.
// Unnamed fields of a structured descr get numpy's names f<index>, so an
// aligned struct's padding comes back as a real field, as in Python.
//
// Decoded arrays, scalars and bytes share memory with the input (Python's
// arrays are read-only views on the message too): do not modify the input
// while the values are in use.
type MsgpackNumpyCodec struct {
	// AllowDatetime sends datetime64/timedelta64 arrays (and structured
	// arrays holding them) that Python's encoder refuses because they are
	// C-contiguous. The bytes are exactly what Python sends for a
	// non-contiguous view of the same array, which Python decodes normally.
	// Without it such arrays fail with ErrDatetimeArray, as in Python.
	AllowDatetime bool
}

var (
	mpnEnc         = msgpack.NewEncoder(msgpack.TupleAsArray(true), msgpack.WithEncodeHook(numpyHook(false)))
	mpnEncDatetime = msgpack.NewEncoder(msgpack.TupleAsArray(true), msgpack.WithEncodeHook(numpyHook(true)))
	mpnDec         = msgpack.NewDecoder(msgpack.StrictMapKeys(true), msgpack.AliasInput(true), msgpack.WithMapHook(numpyMapHook))
	// mpnDecLegacy also reads str objects that are not UTF-8, for the raw
	// data of old writers; see Decode.
	mpnDecLegacy = msgpack.NewDecoder(msgpack.StrictMapKeys(true), msgpack.AliasInput(true), msgpack.AllowInvalidUTF8(true), msgpack.WithMapHook(numpyMapHook))
)

func (MsgpackNumpyCodec) Name() string { return MsgpackNumpy }

func (c MsgpackNumpyCodec) Encode(v pyval.Value) ([]byte, error) {
	var dst []byte
	if a, ok := v.(*pyval.NDArray); ok {
		// One allocation for the common single-array message.
		dst = make([]byte, 0, len(a.Data)+64+16*len(a.Shape)+64*len(a.DType.Fields))
	}
	return c.AppendEncode(dst, v)
}

// AppendEncode appends the msgpack_numpy encoding of v to dst.
func (c MsgpackNumpyCodec) AppendEncode(dst []byte, v pyval.Value) ([]byte, error) {
	e := mpnEnc
	if c.AllowDatetime {
		e = mpnEncDatetime
	}
	out, err := e.Append(dst, v)
	if err != nil {
		return dst, msgpackEncodeErr(MsgpackNumpy, err)
	}
	return out, nil
}

// Decode reads one msgpack_numpy message. Bytes after the first object are
// an error (Python's ExtraData).
func (MsgpackNumpyCodec) Decode(data []byte) (pyval.Value, error) {
	v, err := mpnDec.Decode(data)
	if err != nil && errors.Is(err, msgpack.ErrInvalidUTF8) {
		// Old writers (use_bin_type=False) put array data in str objects.
		// Read those leniently, then insist that every str left in the
		// result is UTF-8: only array data may be raw.
		if lv, lerr := mpnDecLegacy.Decode(data); lerr == nil && allStrUTF8(lv) {
			return lv, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: encoding %s: %w", ErrInvalidData, MsgpackNumpy, err)
	}
	return v, nil
}

// allStrUTF8 reports whether every str in v (keys included) is UTF-8.
func allStrUTF8(v pyval.Value) bool {
	switch x := v.(type) {
	case pyval.Str:
		return x.ValidUTF8()
	case pyval.List:
		for _, e := range x {
			if !allStrUTF8(e) {
				return false
			}
		}
	case pyval.Tuple:
		for _, e := range x {
			if !allStrUTF8(e) {
				return false
			}
		}
	case *pyval.Dict:
		for _, it := range x.Items() {
			if !allStrUTF8(it.Key) || !allStrUTF8(it.Value) {
				return false
			}
		}
	}
	return true
}

// The bin keys msgpack_numpy writes, each with its bin8 header.
const (
	keyND      = "\xc4\x02nd"
	keyType    = "\xc4\x04type"
	keyKind    = "\xc4\x04kind"
	keyShape   = "\xc4\x05shape"
	keyData    = "\xc4\x04data"
	keyComplex = "\xc4\x07complex"
)

// numpyHook returns msgpack_numpy.encode as an encoder hook.
func numpyHook(allowDatetime bool) msgpack.EncodeHook {
	return func(dst []byte, v pyval.Value, sub msgpack.SubEncoder) ([]byte, error) {
		switch x := v.(type) {
		case *pyval.NDArray:
			return appendNDArray(dst, x, sub, allowDatetime)
		case *pyval.Scalar:
			return appendScalar(dst, x, sub)
		case pyval.Complex:
			dst = append(dst, 0x82)
			dst = append(dst, keyComplex...)
			dst = append(dst, 0xc3)
			dst = append(dst, keyData...)
			return msgpack.AppendStr(dst, pyval.ComplexRepr(complex128(x)))
		case pyval.Int:
			// msgpack_numpy.encode returns an int unchanged, and the packer
			// then raises OverflowError.
			return dst, fmt.Errorf("%w: %w: int of %d bits", ErrUnsupported, msgpack.ErrIntOverflow, x.BitLen())
		}
		return dst, fmt.Errorf("%w: %w: can not serialize %s", ErrUnsupported, msgpack.ErrUnsupportedType, v.Kind())
	}
}

func appendNDArray(dst []byte, a *pyval.NDArray, sub msgpack.SubEncoder, allowDatetime bool) ([]byte, error) {
	dt := a.DType
	if dt.HasObject() {
		return dst, fmt.Errorf("%w: dtype %s", ErrObjectArray, dt)
	}
	n, ok := pyval.ShapeSize(a.Shape, math.MaxInt)
	if !ok || (dt.ItemSize() > 0 && n > math.MaxInt/dt.ItemSize()) || len(a.Data) != n*dt.ItemSize() {
		return dst, fmt.Errorf("%w: array of shape %v and dtype %s with %d data bytes", ErrUnsupported, a.Shape, dt, len(a.Data))
	}
	if !allowDatetime && hasDatetime(dt) && numpyCContiguous(a) {
		return dst, fmt.Errorf("%w: cannot include dtype '%c' in a buffer (dtype %s)", ErrDatetimeArray, datetimeKind(dt), dt)
	}
	var err error
	dst = append(dst, 0x85)
	dst = append(dst, keyND...)
	dst = append(dst, 0xc3)
	dst = append(dst, keyType...)
	switch {
	case dt.Fields != nil:
		if dst, err = appendDescr(dst, dt.Fields, 0); err != nil {
			return dst, err
		}
	case dt.Kind == 'V':
		// numpy's descr of a plain void dtype is [('', '|V6')].
		dst = append(dst, 0x91, 0x92, 0xa0)
		if dst, err = msgpack.AppendStr(dst, dt.String()); err != nil {
			return dst, err
		}
	default:
		if dst, err = msgpack.AppendStr(dst, dt.String()); err != nil {
			return dst, err
		}
	}
	dst = append(dst, keyKind...)
	if dt.Kind == 'V' {
		dst = append(dst, 0xc4, 0x01, 'V')
	} else {
		dst = append(dst, 0xc4, 0x00)
	}
	dst = append(dst, keyShape...)
	if dst, err = msgpack.AppendArrayHeader(dst, len(a.Shape)); err != nil {
		return dst, err
	}
	for _, d := range a.Shape {
		dst = msgpack.AppendInt(dst, int64(d))
	}
	dst = append(dst, keyData...)
	data := a.CData()
	if dst, err = msgpack.AppendBinHeader(dst, len(data)); err != nil {
		return dst, err
	}
	return append(dst, data...), nil
}

// appendDescr writes dtype.descr for a structured dtype's fields, as
// msgpack writes the list of tuples: [[name, type(, shape)], …], where
// type is a dtype string or, for a nested struct, its own descr. It writes
// directly rather than building pyval values, so that sending a record
// allocates nothing.
func appendDescr(dst []byte, fields []pyval.Field, depth int) ([]byte, error) {
	if depth > 32 {
		return dst, fmt.Errorf("%w: structured dtype nested too deeply", ErrUnsupported)
	}
	dst, err := msgpack.AppendArrayHeader(dst, len(fields))
	if err != nil {
		return dst, err
	}
	for _, f := range fields {
		if f.Shape != nil {
			dst = append(dst, 0x93)
		} else {
			dst = append(dst, 0x92)
		}
		if dst, err = msgpack.AppendStr(dst, f.Name); err != nil {
			return dst, err
		}
		if f.DType.Fields != nil {
			dst, err = appendDescr(dst, f.DType.Fields, depth+1)
		} else {
			dst, err = msgpack.AppendStr(dst, f.DType.String())
		}
		if err != nil {
			return dst, err
		}
		if f.Shape != nil {
			dst, _ = msgpack.AppendArrayHeader(dst, len(f.Shape))
			for _, d := range f.Shape {
				dst = msgpack.AppendInt(dst, int64(d))
			}
		}
	}
	return dst, nil
}

func appendScalar(dst []byte, s *pyval.Scalar, sub msgpack.SubEncoder) ([]byte, error) {
	dt := s.DType
	if len(s.Data) != dt.ItemSize() {
		return dst, fmt.Errorf("%w: numpy scalar of dtype %s with %d data bytes", ErrUnsupported, dt, len(s.Data))
	}
	switch {
	case dt.Fields != nil || dt.Kind == 'V' || dt.Kind == 'M' || dt.Kind == 'm' || dt.Kind == 'O':
		// Not np.number or np.bool_: msgpack_numpy passes them on and
		// msgpack raises TypeError.
		return dst, fmt.Errorf("%w: %w: can not serialize numpy scalar of dtype %s", ErrUnsupported, msgpack.ErrUnsupportedType, dt)
	case dt.Kind == 'U' || dt.Kind == 'S' || (dt.Kind == 'f' && dt.Size == 8):
		// np.str_, np.bytes_ and np.float64 subclass str, bytes and float:
		// msgpack packs them natively before the hook is asked.
		item, err := s.Item()
		if err != nil {
			return dst, fmt.Errorf("%w: %w", ErrUnsupported, err)
		}
		return sub.Append(dst, item)
	}
	dst = append(dst, 0x83)
	dst = append(dst, keyND...)
	dst = append(dst, 0xc2)
	dst = append(dst, keyType...)
	dst, err := msgpack.AppendStr(dst, dt.String())
	if err != nil {
		return dst, err
	}
	dst = append(dst, keyData...)
	dst, _ = msgpack.AppendBinHeader(dst, len(s.Data))
	return append(dst, s.Data...), nil
}

// hasDatetime reports whether dt is or holds datetime64/timedelta64.
func hasDatetime(dt pyval.DType) bool { return datetimeKind(dt) != 0 }

func datetimeKind(dt pyval.DType) byte {
	if dt.Kind == 'M' || dt.Kind == 'm' {
		return dt.Kind
	}
	for _, f := range dt.Fields {
		if k := datetimeKind(f.DType); k != 0 {
			return k
		}
	}
	return 0
}

// numpyCContiguous reports whether numpy would flag a as C-contiguous: a
// C-order array always; a Fortran-order one when it is empty or has at
// most one dimension longer than 1 (then both orders coincide).
func numpyCContiguous(a *pyval.NDArray) bool {
	if !a.FortranOrder {
		return true
	}
	long := 0
	for _, d := range a.Shape {
		if d == 0 {
			return true
		}
		if d > 1 {
			long++
		}
	}
	return long <= 1
}

// mapFields collects the msgpack_numpy keys of a decoded map. Keys are
// matched in the form (bin or str) of the nd/complex key, as Python
// matches only bin keys.
type mapFields struct {
	strKeys                          bool
	nd, typ, kind, shape, data, cplx pyval.Value
}

func collectFields(m *pyval.Dict) (f mapFields, ok bool) {
	items := m.Items()
	// Decide the key form from the nd or complex key; bin wins.
	var sawBin, sawStr bool
	for _, it := range items {
		switch k := it.Key.(type) {
		case pyval.Bytes:
			if string(k) == "nd" || string(k) == "complex" {
				sawBin = true
			}
		case pyval.Str:
			if k == "nd" || k == "complex" {
				sawStr = true
			}
		}
	}
	if !sawBin && !sawStr {
		return f, false
	}
	f.strKeys = !sawBin
	for _, it := range items {
		var name string
		switch k := it.Key.(type) {
		case pyval.Bytes:
			if f.strKeys {
				continue
			}
			name = string(k)
		case pyval.Str:
			if !f.strKeys {
				continue
			}
			name = string(k)
		default:
			continue
		}
		switch name {
		case "nd":
			f.nd = it.Value
		case "type":
			f.typ = it.Value
		case "kind":
			f.kind = it.Value
		case "shape":
			f.shape = it.Value
		case "data":
			f.data = it.Value
		case "complex":
			f.cplx = it.Value
		}
	}
	return f, true
}

// errKeyMissing stands for Python's KeyError, which msgpack_numpy.decode
// swallows by returning the map unchanged.
var errKeyMissing = errors.New("key missing")

// numpyMapHook is msgpack_numpy.decode.
func numpyMapHook(m *pyval.Dict) (pyval.Value, error) {
	f, ok := collectFields(m)
	if !ok {
		return m, nil
	}
	v, err := decodeNumpyMap(f)
	if err != nil {
		if errors.Is(err, errKeyMissing) || f.strKeys {
			return m, nil
		}
		return nil, err
	}
	return v, nil
}

func decodeNumpyMap(f mapFields) (pyval.Value, error) {
	if f.nd == nil {
		// b"complex" in obj: complex(obj[b"data"]).
		if f.data == nil {
			return nil, errKeyMissing
		}
		s, ok := rawBytes(f.data)
		if !ok {
			return nil, fmt.Errorf("%w: complex data must be a str, got %s", ErrInvalidData, f.data.Kind())
		}
		c, err := parsePyComplex(string(s))
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidData, err)
		}
		return pyval.Complex(c), nil
	}
	if f.typ == nil {
		return nil, errKeyMissing
	}
	if b, ok := f.nd.(pyval.Bool); !ok || !bool(b) {
		// Anything but True: a numpy scalar, frombuffer(data, dtype)[0].
		if f.data == nil {
			return nil, errKeyMissing
		}
		dt, err := numpyDType(f.typ)
		if err != nil {
			return nil, err
		}
		data, ok := rawBytes(f.data)
		size := dt.ItemSize()
		switch {
		case !ok:
			return nil, fmt.Errorf("%w: scalar data must be bytes, got %s", ErrInvalidData, f.data.Kind())
		case size == 0 || len(data)%size != 0 || len(data) == 0:
			return nil, fmt.Errorf("%w: %d data bytes for a scalar of dtype %s", ErrInvalidData, len(data), dt)
		}
		return &pyval.Scalar{DType: dt, Data: data[:size:size]}, nil
	}
	if k, ok := f.kind.(pyval.Bytes); ok && string(k) == "O" {
		return nil, fmt.Errorf("%w: pickled object array", ErrObjectArray)
	}
	if k, ok := f.kind.(pyval.Str); ok && string(k) == "O" {
		return nil, fmt.Errorf("%w: pickled object array", ErrObjectArray)
	}
	if f.data == nil {
		return nil, errKeyMissing
	}
	dt, err := numpyDType(f.typ)
	if err != nil {
		return nil, err
	}
	if f.shape == nil {
		return nil, errKeyMissing
	}
	shape, err := numpyShape(f.shape)
	if err != nil {
		return nil, err
	}
	data, ok := rawBytes(f.data)
	if !ok {
		return nil, fmt.Errorf("%w: array data must be bytes, got %s", ErrInvalidData, f.data.Kind())
	}
	n, ok := pyval.ShapeSize(shape, math.MaxInt)
	size := dt.ItemSize()
	if !ok || (size > 0 && n > len(data)/size) {
		return nil, fmt.Errorf("%w: %d data bytes are too few for shape %v and dtype %s", ErrInvalidData, len(data), shape, dt)
	}
	need := n * size
	// numpy takes a view of the first bytes when the buffer is longer.
	return &pyval.NDArray{DType: dt, Shape: shape, Data: data[:need:need]}, nil
}

// rawBytes returns the bytes of a bin or (old writers) str object.
func rawBytes(v pyval.Value) ([]byte, bool) {
	switch x := v.(type) {
	case pyval.Bytes:
		return x, true
	case pyval.Str:
		return []byte(x), true
	}
	return nil, false
}

// numpyDType is msgpack_numpy's _unpack_dtype: a dtype string, or a descr
// list whose entries are [name, type(, shape)] arrays, names possibly bin,
// unnamed fields named f<index> as numpy.dtype names them.
func numpyDType(v pyval.Value) (pyval.DType, error) {
	descr, err := descrValue(v, 0)
	if err != nil {
		return pyval.DType{}, err
	}
	dt, err := pyval.DTypeFromDescr(descr)
	if err != nil {
		return pyval.DType{}, fmt.Errorf("%w: %w", ErrInvalidData, err)
	}
	if dt.HasObject() {
		return pyval.DType{}, fmt.Errorf("%w: dtype %s", ErrObjectArray, dt)
	}
	return dt, nil
}

func descrValue(v pyval.Value, depth int) (pyval.Value, error) {
	if depth > 32 {
		return nil, fmt.Errorf("%w: structured dtype nested too deeply", ErrInvalidData)
	}
	var entries []pyval.Value
	switch x := v.(type) {
	case pyval.Str:
		return x, nil
	case pyval.Bytes:
		return pyval.Str(x), nil
	case pyval.List:
		entries = x
	case pyval.Tuple:
		entries = x
	default:
		return nil, fmt.Errorf("%w: dtype must be a str or a descr list, got %s", ErrInvalidData, v.Kind())
	}
	out := make(pyval.List, len(entries))
	for i, e := range entries {
		var parts []pyval.Value
		switch y := e.(type) {
		case pyval.List:
			parts = y
		case pyval.Tuple:
			parts = y
		}
		if len(parts) < 2 || len(parts) > 3 {
			return nil, fmt.Errorf("%w: descr entry %d must be [name, type(, shape)], got %s", ErrInvalidData, i, pyval.Repr(e))
		}
		var name string
		switch n := parts[0].(type) {
		case pyval.Str:
			name = string(n)
		case pyval.Bytes:
			name = string(n)
		default:
			return nil, fmt.Errorf("%w: descr entry %d has a %s name", ErrInvalidData, i, parts[0].Kind())
		}
		if name == "" {
			name = "f" + strconv.Itoa(i)
		}
		typ, err := descrValue(parts[1], depth+1)
		if err != nil {
			return nil, err
		}
		t := pyval.Tuple{pyval.Str(name), typ}
		if len(parts) == 3 {
			switch sh := parts[2].(type) {
			case pyval.List:
				t = append(t, pyval.Tuple(sh))
			default:
				t = append(t, sh)
			}
		}
		out[i] = t
	}
	return out, nil
}

// numpyShape reads an array's shape: a list of non-negative ints (or one
// int, which numpy also accepts).
func numpyShape(v pyval.Value) ([]int, error) {
	var dims []pyval.Value
	switch x := v.(type) {
	case pyval.List:
		dims = x
	case pyval.Tuple:
		dims = x
	case pyval.Int:
		dims = []pyval.Value{x}
	default:
		return nil, fmt.Errorf("%w: shape must be a list of ints, got %s", ErrInvalidData, v.Kind())
	}
	shape := make([]int, len(dims))
	for i, d := range dims {
		n, ok := d.(pyval.Int)
		k, fits := n.Int64()
		if !ok || !fits || k < 0 || k > math.MaxInt32 {
			return nil, fmt.Errorf("%w: bad shape dimension %s", ErrInvalidData, pyval.Repr(d))
		}
		shape[i] = int(k)
	}
	return shape, nil
}
