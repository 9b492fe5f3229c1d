package pyval

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ErrUnhashable is returned when a list, dict, ndarray or structured scalar
// is used as a dict key or indexed sub-key, as Python raises TypeError.
var ErrUnhashable = errors.New("pyval: unhashable type")

// Item is one key/value pair of a Dict.
type Item struct {
	Key   Value
	Value Value
}

// Dict is a Python dict: insertion-ordered, keyed by any hashable Value.
// Keys that Python considers equal are the same key (1, 1.0 and True;
// "a" and numpy.str_("a")), as in Python: setting an existing key keeps its
// original key object and position and replaces the value.
//
// The zero Dict is empty and ready to use.
type Dict struct {
	items []Item
	index map[string]int
}

// NewDict returns a dict holding items, in order. It fails on an unhashable
// key.
func NewDict(items ...Item) (*Dict, error) {
	d := &Dict{}
	for _, it := range items {
		if err := d.Set(it.Key, it.Value); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// StrDict builds a dict with str keys from alternating key, value
// arguments, for literals in code: StrDict("a", Int(1), "b", Str("x")).
// It panics on an odd argument count or a non-string key.
func StrDict(kv ...any) *Dict {
	if len(kv)%2 != 0 {
		panic("pyval.StrDict: odd number of arguments")
	}
	d := &Dict{}
	for i := 0; i < len(kv); i += 2 {
		d.SetStr(kv[i].(string), kv[i+1].(Value))
	}
	return d
}

// Len returns the number of items.
func (d *Dict) Len() int {
	if d == nil {
		return 0
	}
	return len(d.items)
}

// Items returns the items in insertion order. The slice is the dict's own:
// do not modify it.
func (d *Dict) Items() []Item {
	if d == nil {
		return nil
	}
	return d.items
}

// Keys returns the keys in insertion order.
func (d *Dict) Keys() []Value {
	keys := make([]Value, d.Len())
	for i, it := range d.Items() {
		keys[i] = it.Key
	}
	return keys
}

// Set sets d[k] = v. It fails with ErrUnhashable for unhashable keys.
func (d *Dict) Set(k, v Value) error {
	h, err := HashKey(k)
	if err != nil {
		return err
	}
	if i, ok := d.index[h]; ok {
		d.items[i].Value = v
		return nil
	}
	if d.index == nil {
		d.index = make(map[string]int)
	}
	d.index[h] = len(d.items)
	d.items = append(d.items, Item{Key: k, Value: v})
	return nil
}

// SetStr sets d[Str(k)] = v.
func (d *Dict) SetStr(k string, v Value) {
	_ = d.Set(Str(k), v) // a str is always hashable
}

// Get returns d[k] and whether it was present.
func (d *Dict) Get(k Value) (Value, bool) {
	if d == nil || d.index == nil {
		return nil, false
	}
	h, err := HashKey(k)
	if err != nil {
		return nil, false
	}
	i, ok := d.index[h]
	if !ok {
		return nil, false
	}
	return d.items[i].Value, true
}

// GetStr returns d[Str(k)] and whether it was present.
func (d *Dict) GetStr(k string) (Value, bool) { return d.Get(Str(k)) }

// Delete removes k, reporting whether it was present.
func (d *Dict) Delete(k Value) bool {
	if d == nil || d.index == nil {
		return false
	}
	h, err := HashKey(k)
	if err != nil {
		return false
	}
	i, ok := d.index[h]
	if !ok {
		return false
	}
	delete(d.index, h)
	d.items = append(d.items[:i], d.items[i+1:]...)
	for j := i; j < len(d.items); j++ {
		hj, _ := HashKey(d.items[j].Key)
		d.index[hj] = j
	}
	return true
}

// HashKey returns a string that is equal for two hashable values exactly
// when Python considers them equal (so 1, 1.0, True and numpy.int64(1)
// share a key), or ErrUnhashable. All NaNs share one key.
func HashKey(v Value) (string, error) {
	var sb strings.Builder
	if err := hashKey(&sb, v); err != nil {
		return "", err
	}
	return sb.String(), nil
}

func hashKey(sb *strings.Builder, v Value) error {
	switch x := v.(type) {
	case NoneType:
		sb.WriteByte('N')
	case Bool:
		if x {
			hashInt(sb, IntOf(1))
		} else {
			hashInt(sb, IntOf(0))
		}
	case Int:
		hashInt(sb, x)
	case Float:
		hashFloat(sb, float64(x))
	case Complex:
		if imag(x) == 0 {
			hashFloat(sb, real(x))
		} else {
			sb.WriteByte('c')
			var b [16]byte
			binary.BigEndian.PutUint64(b[:8], math.Float64bits(real(x)))
			binary.BigEndian.PutUint64(b[8:], math.Float64bits(imag(x)))
			sb.Write(b[:])
		}
	case Str:
		hashBlob(sb, 's', string(x))
	case Bytes:
		hashBlob(sb, 'b', string(x))
	case Tuple:
		sb.WriteByte('(')
		for _, e := range x {
			if err := hashKey(sb, e); err != nil {
				return err
			}
		}
		sb.WriteByte(')')
	case Timestamp:
		fmt.Fprintf(sb, "T%d.%d", x.Seconds, x.Nanoseconds)
	case *Scalar:
		if x.DType.IsStructured() || x.DType.Kind == 'V' {
			return fmt.Errorf("%w: numpy.void", ErrUnhashable)
		}
		item, err := x.Item()
		if err != nil {
			return err
		}
		if s, ok := item.(*Scalar); ok { // e.g. longdouble: hash its bytes
			hashBlob(sb, 'x', s.DType.String()+string(s.Data))
			return nil
		}
		return hashKey(sb, item)
	case nil:
		return fmt.Errorf("%w: nil Value", ErrUnhashable)
	default:
		return fmt.Errorf("%w: '%s'", ErrUnhashable, v.Kind())
	}
	return nil
}

func hashInt(sb *strings.Builder, i Int) {
	sb.WriteByte('i')
	if i.IsBig() {
		// The magnitude bytes are canonical and cheaper than decimal.
		if i.Negative() {
			sb.WriteByte('-')
		}
		hashBlob(sb, 'm', string(i.Bytes()))
		return
	}
	var b [24]byte
	sb.Write(i.AppendDecimal(b[:0]))
	sb.WriteByte(';')
}

func hashFloat(sb *strings.Builder, f float64) {
	// Integral floats equal to an Int must share its key.
	if i, ok := IntFromFloat(f); ok {
		hashInt(sb, i)
		return
	}
	if math.IsNaN(f) {
		sb.WriteString("fnan")
		return
	}
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], math.Float64bits(f))
	sb.WriteByte('f')
	sb.Write(b[:])
}

func hashBlob(sb *strings.Builder, tag byte, s string) {
	var n [20]byte
	sb.WriteByte(tag)
	sb.Write(strconv.AppendInt(n[:0], int64(len(s)), 10))
	sb.WriteByte(':')
	sb.WriteString(s)
}
