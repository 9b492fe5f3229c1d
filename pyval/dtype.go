package pyval

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// ErrDType reports a dtype descr that sdpkit cannot represent or that numpy
// would refuse.
var ErrDType = errors.New("pyval: invalid dtype")

// DType is a numpy dtype, held as numpy's descr (what a .npy header
// stores), so that a decoded array re-encodes to the same bytes.
//
// A simple dtype has Kind, ByteOrder and Size: "<f8" is {Kind 'f',
// ByteOrder '<', Size 8}; "<U3" is {Kind 'U', ByteOrder '<', Size 3} (Size
// counts characters for 'U', bytes otherwise); "<M8[D]" also has Unit "D".
// A structured dtype has Fields (in descr order, including numpy's unnamed
// padding fields) and Kind 'V'.
type DType struct {
	// Kind is numpy's kind character: 'b' bool, 'i' signed int, 'u'
	// unsigned int, 'f' float, 'c' complex, 'U' unicode, 'S' bytes, 'V'
	// void/structured, 'M' datetime64, 'm' timedelta64, 'O' object.
	Kind byte
	// ByteOrder is '<' little, '>' big or '|' not applicable.
	ByteOrder byte
	// Size is the descr's number: bytes per item, or characters for 'U'.
	Size int
	// Unit is the datetime64/timedelta64 unit, e.g. "D", "s", "10ms"; ""
	// for generic units and other kinds.
	Unit string
	// Fields is non-nil for structured dtypes.
	Fields []Field
}

// Field is one field of a structured dtype.
type Field struct {
	// Name is the field name; "" marks numpy's padding.
	Name string
	// DType is the field's dtype.
	DType DType
	// Shape is the sub-array shape, nil for a plain field.
	Shape []int
}

// Common dtypes, little-endian as numpy writes them on x86.
var (
	Bool_      = DType{Kind: 'b', ByteOrder: '|', Size: 1}
	Int8       = DType{Kind: 'i', ByteOrder: '|', Size: 1}
	Int16      = DType{Kind: 'i', ByteOrder: '<', Size: 2}
	Int32      = DType{Kind: 'i', ByteOrder: '<', Size: 4}
	Int64      = DType{Kind: 'i', ByteOrder: '<', Size: 8}
	Uint8      = DType{Kind: 'u', ByteOrder: '|', Size: 1}
	Uint16     = DType{Kind: 'u', ByteOrder: '<', Size: 2}
	Uint32     = DType{Kind: 'u', ByteOrder: '<', Size: 4}
	Uint64     = DType{Kind: 'u', ByteOrder: '<', Size: 8}
	Float16    = DType{Kind: 'f', ByteOrder: '<', Size: 2}
	Float32    = DType{Kind: 'f', ByteOrder: '<', Size: 4}
	Float64    = DType{Kind: 'f', ByteOrder: '<', Size: 8}
	Complex64  = DType{Kind: 'c', ByteOrder: '<', Size: 8}
	Complex128 = DType{Kind: 'c', ByteOrder: '<', Size: 16}
)

// IsStructured reports whether d has fields.
func (d DType) IsStructured() bool { return d.Fields != nil }

// ItemSize returns the bytes per element.
func (d DType) ItemSize() int {
	if d.Fields != nil {
		n := 0
		for _, f := range d.Fields {
			n += f.DType.ItemSize() * shapeLen(f.Shape)
		}
		return n
	}
	switch d.Kind {
	case 'U':
		return 4 * d.Size
	case 'O':
		return 8
	}
	return d.Size
}

// HasObject reports whether d contains Python objects, which no format
// here can carry.
func (d DType) HasObject() bool {
	if d.Kind == 'O' {
		return true
	}
	for _, f := range d.Fields {
		if f.DType.HasObject() {
			return true
		}
	}
	return false
}

// BigEndian reports whether multi-byte values are stored big-endian.
func (d DType) BigEndian() bool { return d.ByteOrder == '>' }

// String returns numpy's dtype.str for a simple dtype ("<f8", "|b1",
// "<M8[D]") and the Python repr of the descr list for a structured one.
func (d DType) String() string {
	if d.Fields != nil {
		return Repr(d.Descr())
	}
	var sb strings.Builder
	sb.WriteByte(d.ByteOrder)
	sb.WriteByte(d.Kind)
	if d.Kind != 'O' {
		sb.WriteString(strconv.Itoa(d.Size))
	}
	if d.Kind == 'M' || d.Kind == 'm' {
		if d.Unit != "" {
			sb.WriteString("[" + d.Unit + "]")
		}
	}
	return sb.String()
}

// Descr returns numpy's descr: a Str for simple dtypes, or for structured
// ones a List of (name, descr) / (name, descr, shape) Tuples.
func (d DType) Descr() Value {
	if d.Fields == nil {
		return Str(d.String())
	}
	l := make(List, len(d.Fields))
	for i, f := range d.Fields {
		t := Tuple{Str(f.Name), f.DType.Descr()}
		if f.Shape != nil {
			sh := make(Tuple, len(f.Shape))
			for j, n := range f.Shape {
				sh[j] = IntOf(int64(n))
			}
			t = append(t, sh)
		}
		l[i] = t
	}
	return l
}

// Equal reports whether d and e are the same dtype (same descr).
func (d DType) Equal(e DType) bool {
	if (d.Fields == nil) != (e.Fields == nil) {
		return false
	}
	if d.Fields == nil {
		return d.Kind == e.Kind && d.ByteOrder == e.ByteOrder && d.Size == e.Size && d.Unit == e.Unit
	}
	if len(d.Fields) != len(e.Fields) {
		return false
	}
	for i := range d.Fields {
		f, g := d.Fields[i], e.Fields[i]
		if f.Name != g.Name || !f.DType.Equal(g.DType) || !slices.Equal(f.Shape, g.Shape) {
			return false
		}
	}
	return true
}

// FieldOffset returns the byte offset of the named field and the field.
func (d DType) FieldOffset(name string) (int, Field, bool) {
	off := 0
	for _, f := range d.Fields {
		if f.Name == name && name != "" {
			return off, f, true
		}
		off += f.DType.ItemSize() * shapeLen(f.Shape)
	}
	return 0, Field{}, false
}

// Names returns the names of the non-padding fields.
func (d DType) Names() []string {
	var names []string
	for _, f := range d.Fields {
		if f.Name != "" {
			names = append(names, f.Name)
		}
	}
	return names
}

var dtypeAliases = map[string]DType{
	"bool": Bool_, "bool_": Bool_, "?": Bool_,
	"int8": Int8, "int16": Int16, "int32": Int32, "int64": Int64, "int": Int64,
	"uint8": Uint8, "uint16": Uint16, "uint32": Uint32, "uint64": Uint64,
	"float16": Float16, "float32": Float32, "float64": Float64, "float": Float64, "double": Float64, "single": Float32, "half": Float16,
	"complex64": Complex64, "complex128": Complex128, "complex": Complex128,
	"b": Int8, "B": Uint8, "h": Int16, "H": Uint16, "i": Int32, "I": Uint32, "l": Int64, "L": Uint64, "q": Int64, "Q": Uint64,
	"e": Float16, "f": Float32, "d": Float64, "F": Complex64, "D": Complex128,
}

// ParseDType parses a numpy dtype string: a descr such as "<f8", ">i2",
// "|S3", "<U5", "|V4", "<M8[ms]", "|O", the native order "=" (taken as
// little-endian, as on the machines numpy data comes from), or a name such
// as "float64", "int32", "bool". The result uses numpy's canonical byte
// order character ('|' for one-byte and byte-string kinds).
func ParseDType(s string) (DType, error) {
	if d, ok := dtypeAliases[s]; ok {
		return d, nil
	}
	if len(s) == 0 {
		return DType{}, fmt.Errorf("%w: empty dtype string", ErrDType)
	}
	d := DType{ByteOrder: '<'}
	rest := s
	switch rest[0] {
	case '<', '>', '|', '=':
		d.ByteOrder = rest[0]
		if d.ByteOrder == '=' {
			d.ByteOrder = '<'
		}
		rest = rest[1:]
	}
	if len(rest) == 0 {
		return DType{}, fmt.Errorf("%w: %q has no type character", ErrDType, s)
	}
	d.Kind = rest[0]
	rest = rest[1:]
	if d.Kind == 'M' || d.Kind == 'm' {
		if i := strings.IndexByte(rest, '['); i >= 0 {
			if !strings.HasSuffix(rest, "]") || i == len(rest)-2 {
				return DType{}, fmt.Errorf("%w: bad datetime unit in %q", ErrDType, s)
			}
			unit, ok := normalizeDatetimeUnit(rest[i+1 : len(rest)-1])
			if !ok {
				return DType{}, fmt.Errorf("%w: unknown datetime unit %q in %q", ErrDType, rest[i+1:len(rest)-1], s)
			}
			d.Unit = unit
			rest = rest[:i]
		}
	}
	if d.Kind == 'O' && (rest == "" || rest == "8") {
		d.Size = 8
		d.ByteOrder = '|'
		return d, nil
	}
	if rest == "" {
		switch d.Kind {
		case 'U', 'S', 'V':
			d.Size = 0
		case 'M', 'm':
			d.Size = 8
		case 'b', '?':
			d.Size = 1
		default:
			return DType{}, fmt.Errorf("%w: %q has no item size", ErrDType, s)
		}
	} else {
		n, err := strconv.Atoi(rest)
		if err != nil || n < 0 || n > math.MaxInt32 || (d.Kind == 'U' && n > math.MaxInt32/4) {
			return DType{}, fmt.Errorf("%w: bad item size in %q", ErrDType, s)
		}
		d.Size = n
	}
	if d.Kind == '?' {
		d.Kind = 'b'
	}
	ok := false
	switch d.Kind {
	case 'b':
		ok = d.Size == 1
	case 'i', 'u':
		ok = d.Size == 1 || d.Size == 2 || d.Size == 4 || d.Size == 8
	case 'f':
		ok = d.Size == 2 || d.Size == 4 || d.Size == 8 || d.Size == 12 || d.Size == 16
	case 'c':
		ok = d.Size == 8 || d.Size == 16 || d.Size == 24 || d.Size == 32
	case 'M', 'm':
		ok = d.Size == 8
	case 'U', 'S', 'V':
		ok = true
	}
	if !ok {
		return DType{}, fmt.Errorf("%w: data type %q not understood", ErrDType, s)
	}
	d.ByteOrder = canonicalOrder(d.Kind, d.Size, d.ByteOrder)
	return d, nil
}

func canonicalOrder(kind byte, size int, order byte) byte {
	switch kind {
	case 'b', 'S', 'V', 'O':
		return '|'
	case 'U':
		if order == '|' {
			return '<'
		}
		return order
	}
	if size == 1 {
		return '|'
	}
	if order == '|' {
		return '<'
	}
	return order
}

// normalizeDatetimeUnit returns the unit as numpy's dtype.str spells it:
// "μs" becomes "us", a multiplier of 1 and leading zeros are dropped
// ("01s" → "s"), and the generic unit is "" whatever its multiplier.
func normalizeDatetimeUnit(u string) (string, bool) {
	i := 0
	for i < len(u) && u[i] >= '0' && u[i] <= '9' {
		i++
	}
	base := u[i:]
	switch base {
	case "generic":
		return "", true
	case "μs":
		base = "us"
	case "Y", "M", "W", "D", "h", "m", "s", "ms", "us", "ns", "ps", "fs", "as":
	default:
		return "", false
	}
	if i == 0 {
		return base, true
	}
	n, err := strconv.Atoi(u[:i])
	if err != nil || n > math.MaxInt32 {
		return "", false
	}
	if n == 1 {
		return base, true
	}
	return strconv.Itoa(n) + base, true
}

// DTypeFromDescr builds a dtype from numpy's descr value: a Str, or a List
// of (name, descr[, shape]) Tuples (a sub-array shape is an Int or a Tuple
// of Ints). It refuses lists as fields, as numpy does.
func DTypeFromDescr(v Value) (DType, error) {
	return dtypeFromDescr(v, 0)
}

func dtypeFromDescr(v Value, depth int) (DType, error) {
	if depth > 32 {
		return DType{}, fmt.Errorf("%w: structured dtype nested too deeply", ErrDType)
	}
	switch x := v.(type) {
	case Str:
		return ParseDType(string(x))
	case List:
		d := DType{Kind: 'V', ByteOrder: '|', Fields: make([]Field, 0, len(x))}
		seen := map[string]bool{}
		for i, fv := range x {
			t, ok := fv.(Tuple)
			if !ok || len(t) < 2 || len(t) > 3 {
				return DType{}, fmt.Errorf("%w: field %d of a structured descr must be a (name, dtype[, shape]) tuple, got %s", ErrDType, i, Repr(fv))
			}
			name, ok := t[0].(Str)
			if !ok {
				return DType{}, fmt.Errorf("%w: field %d name must be a str, got %s", ErrDType, i, Repr(t[0]))
			}
			if name != "" && seen[string(name)] {
				return DType{}, fmt.Errorf("%w: field name %q appears twice", ErrDType, string(name))
			}
			seen[string(name)] = true
			fd, err := dtypeFromDescr(t[1], depth+1)
			if err != nil {
				return DType{}, fmt.Errorf("field %q: %w", string(name), err)
			}
			f := Field{Name: string(name), DType: fd}
			if len(t) == 3 {
				sh, err := shapeFromValue(t[2])
				if err != nil {
					return DType{}, fmt.Errorf("field %q: %w", string(name), err)
				}
				if len(sh) > 0 { // numpy drops an empty sub-array shape
					f.Shape = sh
				}
			}
			d.Fields = append(d.Fields, f)
		}
		size, ok := checkedItemSize(d, 0)
		if !ok {
			return DType{}, fmt.Errorf("%w: structured dtype larger than 2**31-1 bytes", ErrDType)
		}
		d.Size = size
		return d, nil
	}
	return DType{}, fmt.Errorf("%w: descr must be a str or a list of tuples, got %s", ErrDType, Repr(v))
}

func shapeFromValue(v Value) ([]int, error) {
	switch x := v.(type) {
	case Int:
		n, ok := x.Int64()
		if !ok || n < 0 || n > 1<<31 {
			return nil, fmt.Errorf("%w: bad sub-array shape %s", ErrDType, x)
		}
		if n == 1 {
			// numpy 1.24 reads (dtype, 1) as plain dtype (with a
			// FutureWarning), unlike (dtype, (1,)).
			return nil, nil
		}
		return []int{int(n)}, nil
	case Tuple:
		sh := make([]int, len(x))
		for i, e := range x {
			n, ok := e.(Int)
			v, fits := n.Int64()
			if !ok || !fits || v < 0 || v > 1<<31 {
				return nil, fmt.Errorf("%w: bad sub-array shape %s", ErrDType, Repr(x))
			}
			sh[i] = int(v)
		}
		return sh, nil
	}
	return nil, fmt.Errorf("%w: bad sub-array shape %s", ErrDType, Repr(v))
}

// checkedItemSize returns d.ItemSize(), and false if it or any part of
// it exceeds numpy's limit of 2**31-1 bytes.
func checkedItemSize(d DType, depth int) (int, bool) {
	if d.Fields == nil {
		n := d.ItemSize()
		return n, n >= 0 && n <= math.MaxInt32
	}
	if depth > 64 {
		return 0, false
	}
	total := 0
	for _, f := range d.Fields {
		n, ok := checkedItemSize(f.DType, depth+1)
		if !ok {
			return 0, false
		}
		for _, s := range f.Shape {
			if s < 0 || (s > 0 && n > math.MaxInt32/s) {
				return 0, false
			}
			n *= s
		}
		total += n
		if total > math.MaxInt32 {
			return 0, false
		}
	}
	return total, true
}

func shapeLen(shape []int) int {
	n := 1
	for _, s := range shape {
		n *= s
	}
	return n
}
