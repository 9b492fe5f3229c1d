package pickle

import (
	"math"
	"slices"
	"strconv"

	"github.com/sdpkit/sdpkit/pyval"
)

// numpy pickles an array as
//
//	_reconstruct(ndarray, (0,), b'b')  then BUILD (version, shape, dtype, is_fortran, rawdata)
//
// and, from protocol 5 on, as _frombuffer(buffer, dtype, shape, order). A
// dtype is pickled as dtype('f8', False, True) then BUILD with its state
// tuple (version, byteorder, subarray, names, fields, elsize, alignment,
// flags[, metadata]). A scalar is scalar(dtype, rawbytes).

// arrayObj is an ndarray made by _reconstruct, filled in by BUILD.
type arrayObj struct {
	arr *pyval.NDArray
}

// dtypeObj is a numpy.dtype under construction. A sub-array dtype (the type
// of a field such as ('x', '<f4', (2, 3))) has hasSub set: dt is then the
// base dtype and sub the shape.
type dtypeObj struct {
	dt     pyval.DType
	hasSub bool
	sub    []int
	depth  int // nesting of structured dtypes, bounded by maxDTypeDepth
}

// maxDTypeDepth bounds structured dtypes nested in each other (pyval's
// descr parser has the same bound).
const maxDTypeDepth = 32

// newDType implements numpy.dtype(obj, align=False, copy=False) for a
// dtype string or another dtype.
func (m *machine) newDType(g *global, args []any) (any, error) {
	if len(args) < 1 || len(args) > 3 {
		return nil, m.argErr(g, args)
	}
	if d, ok := args[0].(*dtypeObj); ok {
		c := *d
		return &c, nil
	}
	s, ok := asString(args[0])
	if !ok {
		return nil, m.argErr(g, args)
	}
	dt, err := pyval.ParseDType(s)
	if err != nil {
		return nil, &Error{Class: ErrUnsupported, Op: opName(m.op), Offset: m.opOff, Msg: "numpy.dtype", Err: err}
	}
	return &dtypeObj{dt: dt}, nil
}

// build implements BUILD (inst.__setstate__(state)) for arrays and dtypes.
func (m *machine) build(inst, state any) error {
	switch x := inst.(type) {
	case *arrayObj:
		return m.setArrayState(x, state)
	case *dtypeObj:
		return m.setDTypeState(x, state)
	}
	return m.fail(ErrUnsupported, "BUILD (setting the state) of %s is not supported", typeName(inst))
}

func (m *machine) setArrayState(a *arrayObj, state any) error {
	t, ok := state.(*tupleObj)
	if !ok {
		return m.fail(ErrInvalid, "ndarray state must be a tuple, got %s", typeName(state))
	}
	items := t.items
	if len(items) == 5 { // (version, shape, dtype, is_fortran, rawdata)
		if _, ok := items[0].(pyval.Int); !ok {
			return m.fail(ErrInvalid, "ndarray state version must be an int")
		}
		items = items[1:]
	}
	if len(items) != 4 {
		return m.fail(ErrInvalid, "ndarray state must have 4 or 5 items, got %d", len(t.items))
	}
	shape, err := m.shapeOf(items[0])
	if err != nil {
		return err
	}
	dt, err := m.arrayDType(items[1])
	if err != nil {
		return err
	}
	fortran, ok := truth(items[2])
	if !ok {
		return m.fail(ErrInvalid, "ndarray is_fortran must be a bool, got %s", typeName(items[2]))
	}
	if _, ok := items[3].(*listObj); ok {
		return m.fail(ErrUnsupported, "object arrays are not supported")
	}
	raw, ok := bytesOf(items[3])
	if !ok {
		return m.fail(ErrInvalid, "ndarray data must be bytes, got %s", typeName(items[3]))
	}
	arr, err := m.newArray(dt, shape, fortran, raw)
	if err != nil {
		return err
	}
	// ndarray.__setstate__ converts a byte-swapped array to native order
	// (numpy 1.x and 2.x alike); _frombuffer and scalars keep the order.
	if dt.Fields == nil && dt.ByteOrder == '>' {
		arr.DType, arr.Data = toLittleEndian(dt, arr.Data)
	}
	a.arr = arr
	return nil
}

// toLittleEndian byte-swaps the elements of a big-endian simple dtype
// into a new buffer.
func toLittleEndian(dt pyval.DType, data []byte) (pyval.DType, []byte) {
	unit := dt.ItemSize()
	switch dt.Kind {
	case 'c':
		unit /= 2 // real and imaginary parts swap separately
	case 'U':
		unit = 4
	}
	out := clone(data)
	if unit > 1 {
		for i := 0; i+unit <= len(out); i += unit {
			slices.Reverse(out[i : i+unit])
		}
	}
	dt.ByteOrder = '<'
	return dt, out
}

// arrayDType checks that x is a dtype an array can have.
func (m *machine) arrayDType(x any) (pyval.DType, error) {
	d, ok := x.(*dtypeObj)
	if !ok {
		return pyval.DType{}, m.fail(ErrInvalid, "expected a numpy.dtype, got %s", typeName(x))
	}
	if d.hasSub {
		return pyval.DType{}, m.fail(ErrUnsupported, "sub-array dtype %s%v as an array or scalar dtype", d.dt, d.sub)
	}
	if d.dt.HasObject() {
		return pyval.DType{}, m.fail(ErrUnsupported, "object arrays and scalars (dtype %s) are not supported", d.dt)
	}
	return d.dt, nil
}

func (m *machine) newArray(dt pyval.DType, shape []int, fortran bool, raw []byte) (*pyval.NDArray, error) {
	// A zero-size dtype lets a tiny pickle claim billions of elements.
	n, ok := pyval.ShapeSize(shape, math.MaxInt32*64)
	if !ok || n > len(raw)+minExpand {
		return nil, m.fail(ErrLimit, "array shape %v is too large", shape)
	}
	// numpy writes is_fortran only for arrays that are not also C-ordered;
	// with at most one dimension above 1 both orders are the same bytes.
	big := 0
	for _, s := range shape {
		if s > 1 {
			big++
		}
	}
	arr, err := pyval.NewNDArray(dt, shape, fortran && big > 1, raw)
	if err != nil {
		return nil, &Error{Class: ErrInvalid, Op: opName(m.op), Offset: m.opOff, Msg: "bad ndarray", Err: err}
	}
	return arr, nil
}

// fromBuffer implements numpy's _frombuffer(buf, dtype, shape, order),
// used by protocol 5.
func (m *machine) fromBuffer(g *global, args []any) (any, error) {
	if len(args) != 4 {
		return nil, m.argErr(g, args)
	}
	raw, ok := bytesOf(args[0])
	if !ok {
		return nil, m.argErr(g, args)
	}
	dt, err := m.arrayDType(args[1])
	if err != nil {
		return nil, err
	}
	shape, err := m.shapeOf(args[2])
	if err != nil {
		return nil, err
	}
	order, ok := asString(args[3])
	if !ok || (order != "C" && order != "F") {
		return nil, m.argErr(g, args)
	}
	arr, err := m.newArray(dt, shape, order == "F", raw)
	if err != nil {
		return nil, err
	}
	return &arrayObj{arr: arr}, nil
}

// newScalar implements numpy.core.multiarray.scalar(dtype, rawbytes).
func (m *machine) newScalar(g *global, args []any) (any, error) {
	if len(args) != 2 {
		return nil, m.argErr(g, args)
	}
	dt, err := m.arrayDType(args[0])
	if err != nil {
		return nil, err
	}
	raw, ok := bytesOf(args[1])
	if !ok {
		return nil, m.argErr(g, args)
	}
	n := dt.ItemSize()
	if len(raw) < n {
		return nil, m.fail(ErrInvalid, "numpy scalar of dtype %s needs %d bytes, got %d", dt, n, len(raw))
	}
	return &pyval.Scalar{DType: dt, Data: clone(raw[:n])}, nil
}

// setDTypeState implements numpy.dtype.__setstate__.
func (m *machine) setDTypeState(d *dtypeObj, state any) error {
	t, ok := state.(*tupleObj)
	if !ok {
		return m.fail(ErrInvalid, "dtype state must be a tuple, got %s", typeName(state))
	}
	it := t.items
	var endian, sub, names, fields, elsize, metadata any
	metadata = pyval.None
	names = pyval.None
	// The layouts numpy has used, by tuple length.
	switch len(it) {
	case 9:
		metadata = it[8]
		fallthrough
	case 8, 7:
		endian, sub, names, fields, elsize = it[1], it[2], it[3], it[4], it[5]
	case 6: // version 1: no names
		endian, sub, fields, elsize = it[1], it[2], it[3], it[4]
	case 5: // version 0
		endian, sub, fields, elsize = it[0], it[1], it[2], it[3]
	default:
		return m.fail(ErrInvalid, "dtype state has %d items", len(it))
	}
	order, ok := asString(endian)
	if !ok || len(order) != 1 || !(order == "<" || order == ">" || order == "|" || order == "=") {
		return m.fail(ErrInvalid, "bad dtype byte order %s", typeName(endian))
	}
	size, ok := intOf(elsize)
	if !ok {
		return m.fail(ErrInvalid, "dtype elsize must be an int, got %s", typeName(elsize))
	}

	if _, none := names.(pyval.NoneType); !none {
		dt, err := m.structDType(d, names, fields, size)
		if err != nil {
			return err
		}
		d.dt = dt
	} else if _, none := fields.(pyval.NoneType); !none {
		return m.fail(ErrUnsupported, "old dtype state with fields but no names")
	} else if err := m.simpleDType(d, order[0], size, metadata); err != nil {
		return err
	}

	if _, none := sub.(pyval.NoneType); !none {
		return m.subArray(d, sub, size)
	}
	return nil
}

// simpleDType applies byte order, item size (for flexible kinds) and
// datetime unit to a non-structured dtype.
func (m *machine) simpleDType(d *dtypeObj, order byte, elsize int64, metadata any) error {
	dt := d.dt
	if dt.Fields != nil {
		return m.fail(ErrInvalid, "structured dtype state without names")
	}
	size := dt.Size
	switch dt.Kind {
	case 'S', 'V':
		size = int(elsize)
		if elsize < 0 || elsize > math.MaxInt32 {
			return m.fail(ErrInvalid, "bad dtype elsize %d", elsize)
		}
	case 'U':
		if elsize < 0 || elsize%4 != 0 || elsize > math.MaxInt32 {
			return m.fail(ErrInvalid, "bad dtype elsize %d for a unicode dtype", elsize)
		}
		size = int(elsize / 4)
	}
	if order == '=' {
		order = '<' // native order of the little-endian machines the data came from
	}
	descr := string(order) + string(dt.Kind)
	if dt.Kind != 'O' {
		descr += strconv.Itoa(size)
	}
	if dt.Kind == 'M' || dt.Kind == 'm' {
		unit, err := m.datetimeUnit(metadata)
		if err != nil {
			return err
		}
		if unit != "" {
			descr += "[" + unit + "]"
		}
	}
	nd, err := pyval.ParseDType(descr)
	if err != nil {
		return &Error{Class: ErrInvalid, Op: opName(m.op), Offset: m.opOff, Msg: "bad dtype state", Err: err}
	}
	d.dt = nd
	return nil
}

// datetimeUnit reads the unit from a datetime dtype's metadata: either
// (unit, num, den, events) or (dict-or-None, (unit, num, den, events)).
func (m *machine) datetimeUnit(metadata any) (string, error) {
	t, ok := metadata.(*tupleObj)
	if !ok {
		return "", nil // no metadata: generic unit
	}
	if len(t.items) == 2 {
		if inner, ok := t.items[1].(*tupleObj); ok {
			t = inner
		}
	}
	if len(t.items) != 4 {
		return "", m.fail(ErrInvalid, "bad datetime metadata")
	}
	var unit string
	if b, ok := t.items[0].(pyval.Bytes); ok {
		unit = string(b)
	} else if unit, ok = asString(t.items[0]); !ok {
		return "", m.fail(ErrInvalid, "bad datetime unit %s", typeName(t.items[0]))
	}
	num, ok := intOf(t.items[1])
	if !ok || num < 1 || num > math.MaxInt32 {
		return "", m.fail(ErrInvalid, "bad datetime unit multiplier")
	}
	if unit == "generic" {
		return "", nil
	}
	if num != 1 {
		unit = strconv.FormatInt(num, 10) + unit
	}
	return unit, nil
}

// structDType builds a structured dtype from names and fields, laid out as
// numpy's descr lists it: fields in names order with (”, '|Vn') padding
// for gaps and at the end.
func (m *machine) structDType(d *dtypeObj, namesV, fieldsV any, elsize int64) (pyval.DType, error) {
	if d.dt.Kind != 'V' {
		return pyval.DType{}, m.fail(ErrUnsupported, "structured dtype based on %s", d.dt)
	}
	names, ok := namesV.(*tupleObj)
	if !ok {
		return pyval.DType{}, m.fail(ErrInvalid, "dtype names must be a tuple, got %s", typeName(namesV))
	}
	fd, ok := fieldsV.(*dictObj)
	if !ok {
		return pyval.DType{}, m.fail(ErrInvalid, "dtype fields must be a dict, got %s", typeName(fieldsV))
	}
	if elsize < 0 || elsize > math.MaxInt32 {
		return pyval.DType{}, m.fail(ErrInvalid, "bad dtype elsize %d", elsize)
	}
	entries := make(map[string]any, len(fd.kv)/2)
	for i := 0; i+1 < len(fd.kv); i += 2 {
		if k, ok := asString(fd.kv[i]); ok {
			entries[k] = fd.kv[i+1]
		}
	}
	out := pyval.DType{Kind: 'V', ByteOrder: '|', Fields: make([]pyval.Field, 0, len(names.items))}
	var offset int64
	pad := func(n int64) {
		out.Fields = append(out.Fields, pyval.Field{DType: pyval.DType{Kind: 'V', ByteOrder: '|', Size: int(n)}})
	}
	for _, nv := range names.items {
		name, ok := asString(nv)
		if !ok {
			return pyval.DType{}, m.fail(ErrInvalid, "dtype field name must be a str, got %s", typeName(nv))
		}
		ev, ok := entries[name]
		if !ok {
			return pyval.DType{}, m.fail(ErrInvalid, "dtype field %q missing from fields", name)
		}
		e, ok := ev.(*tupleObj)
		if !ok || len(e.items) < 2 || len(e.items) > 3 {
			return pyval.DType{}, m.fail(ErrInvalid, "dtype field %q entry must be (dtype, offset[, title])", name)
		}
		if len(e.items) == 3 {
			if _, none := e.items[2].(pyval.NoneType); !none {
				return pyval.DType{}, m.fail(ErrUnsupported, "dtype field titles (field %q) are not supported", name)
			}
		}
		ft, ok := e.items[0].(*dtypeObj)
		if !ok {
			return pyval.DType{}, m.fail(ErrInvalid, "dtype field %q type must be a dtype, got %s", name, typeName(e.items[0]))
		}
		if ft.depth >= maxDTypeDepth {
			return pyval.DType{}, m.fail(ErrLimit, "structured dtypes nested more than %d deep", maxDTypeDepth)
		}
		d.depth = max(d.depth, ft.depth+1)
		off, ok := intOf(e.items[1])
		if !ok || off < 0 || off > math.MaxInt32 {
			return pyval.DType{}, m.fail(ErrInvalid, "bad offset for dtype field %q", name)
		}
		if off < offset {
			return pyval.DType{}, m.fail(ErrUnsupported, "dtype with overlapping or out-of-order fields (field %q)", name)
		}
		if off > offset {
			pad(off - offset)
			offset = off
		}
		f := pyval.Field{Name: name, DType: ft.dt}
		if ft.hasSub && len(ft.sub) > 0 {
			f.Shape = slices.Clone(ft.sub)
		}
		n, _ := pyval.ShapeSize(f.Shape, math.MaxInt32)
		offset += int64(f.DType.ItemSize()) * int64(n)
		if offset > math.MaxInt32 {
			return pyval.DType{}, m.fail(ErrInvalid, "structured dtype too large")
		}
		out.Fields = append(out.Fields, f)
	}
	if offset > elsize {
		return pyval.DType{}, m.fail(ErrInvalid, "dtype fields end at byte %d beyond elsize %d", offset, elsize)
	}
	if elsize > offset {
		pad(elsize - offset)
	}
	out.Size = out.ItemSize()
	return out, nil
}

// subArray turns d into a sub-array dtype from the state's (base, shape).
func (m *machine) subArray(d *dtypeObj, sub any, elsize int64) error {
	t, ok := sub.(*tupleObj)
	if !ok || len(t.items) != 2 {
		return m.fail(ErrInvalid, "dtype subarray must be (dtype, shape), got %s", typeName(sub))
	}
	base, ok := t.items[0].(*dtypeObj)
	if !ok || base.hasSub {
		return m.fail(ErrInvalid, "dtype subarray base must be a plain dtype, got %s", typeName(t.items[0]))
	}
	var shape []int
	if n, ok := intOf(t.items[1]); ok {
		if n < 0 || n > math.MaxInt32 {
			return m.fail(ErrInvalid, "bad dtype subarray shape")
		}
		shape = []int{int(n)}
	} else {
		var err error
		if shape, err = m.shapeOf(t.items[1]); err != nil {
			return err
		}
	}
	n, ok := pyval.ShapeSize(shape, math.MaxInt32)
	if !ok || int64(n)*int64(base.dt.ItemSize()) != elsize {
		return m.fail(ErrInvalid, "dtype subarray %s%v does not match elsize %d", base.dt, shape, elsize)
	}
	d.dt, d.hasSub, d.sub, d.depth = base.dt, true, shape, base.depth
	return nil
}

// shapeOf reads an array shape: a tuple of non-negative ints.
func (m *machine) shapeOf(x any) ([]int, error) {
	t, ok := x.(*tupleObj)
	if !ok {
		return nil, m.fail(ErrInvalid, "array shape must be a tuple, got %s", typeName(x))
	}
	shape := make([]int, len(t.items))
	for i, e := range t.items {
		n, ok := intOf(e)
		if !ok || n < 0 || n > math.MaxInt32*64 {
			return nil, m.fail(ErrInvalid, "bad array dimension %s", typeName(e))
		}
		shape[i] = int(n)
	}
	return shape, nil
}

// intOf returns an int (or bool) argument.
func intOf(x any) (int64, bool) {
	switch v := x.(type) {
	case pyval.Int:
		return v.Int64()
	case pyval.Bool:
		if v {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// truth returns the truth value of a bool, int or None argument.
func truth(x any) (bool, bool) {
	switch v := x.(type) {
	case pyval.Bool:
		return bool(v), true
	case pyval.Int:
		return v != pyval.Int{}, true
	case pyval.NoneType:
		return false, true
	}
	return false, false
}

// bytesOf returns raw bytes given as bytes, a Python 2 str, or a str of
// latin1 code points (what numpy accepts when loading Python 2 pickles).
func bytesOf(x any) ([]byte, bool) {
	switch v := x.(type) {
	case pyval.Bytes:
		return v, true
	case latin1:
		return v, true
	case pyval.Str:
		return latin1Bytes(string(v))
	}
	return nil, false
}
