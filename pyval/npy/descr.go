package npy

import (
	"fmt"

	"github.com/sdpkit/sdpkit/pyval"
)

// DescrToDType builds the dtype that numpy.lib.format.descr_to_dtype builds
// from a .npy header's descr: a Str such as '<f8', or a List of fields, each
// a Tuple or List (name, descr) or (name, descr, shape). Unlike
// pyval.DTypeFromDescr (which follows numpy.dtype), it accepts lists as
// fields, and it treats unnamed void fields as padding: consecutive padding
// fields merge into one and zero-length ones vanish, so that the result
// re-encodes exactly as numpy re-saves the array.
//
// Two things numpy accepts are refused, because pyval.DType cannot hold
// them: field titles ((title, name) pairs as names) and a top-level
// (descr, shape) sub-array descr.
func DescrToDType(descr pyval.Value) (pyval.DType, error) {
	norm, err := normalizeDescr(descr, 0)
	if err != nil {
		return pyval.DType{}, err
	}
	return pyval.DTypeFromDescr(norm)
}

// normalizeDescr rewrites descr into the canonical form that
// pyval.DTypeFromDescr reads: fields as Tuples, sub-array shapes as
// Tuples, and padding merged.
func normalizeDescr(descr pyval.Value, depth int) (pyval.Value, error) {
	if depth > 32 {
		return nil, fmt.Errorf("%w: structured dtype nested too deeply", pyval.ErrDType)
	}
	switch x := descr.(type) {
	case pyval.Str:
		return x, nil
	case pyval.List:
		out := make(pyval.List, 0, len(x))
		pad := 0
		flush := func() {
			if pad > 0 {
				out = append(out, pyval.Tuple{pyval.Str(""), pyval.Str(fmt.Sprintf("|V%d", pad))})
			}
			pad = 0
		}
		for i, f := range x {
			var parts []pyval.Value
			switch ft := f.(type) {
			case pyval.Tuple:
				parts = ft
			case pyval.List:
				parts = ft
			}
			if len(parts) < 2 || len(parts) > 3 {
				return nil, fmt.Errorf("%w: field %d must be (name, descr) or (name, descr, shape), got %s", pyval.ErrDType, i, clip(pyval.Repr(f)))
			}
			name, ok := parts[0].(pyval.Str)
			if !ok {
				return nil, fmt.Errorf("%w: field %d: name must be a str, got %s", pyval.ErrDType, i, clip(pyval.Repr(parts[0])))
			}
			sub, err := normalizeDescr(parts[1], depth+1)
			if err != nil {
				return nil, fmt.Errorf("field %q: %w", string(name), err)
			}
			field := pyval.Tuple{name, sub}
			count := 1
			if len(parts) == 3 {
				shape, n, err := normalizeShape(parts[2])
				if err != nil {
					return nil, fmt.Errorf("field %q: %w", string(name), err)
				}
				if shape != nil {
					field = append(field, shape)
				}
				count = n
			}
			if name == "" {
				if s, ok := sub.(pyval.Str); ok {
					dt, err := pyval.ParseDType(string(s))
					if err != nil {
						return nil, fmt.Errorf("field %d: %w", i, err)
					}
					if dt.Kind == 'V' && dt.Fields == nil {
						// numpy keeps padding only as a gap between offsets.
						size := dt.ItemSize()
						if count > 0 && size > (1<<31)/count {
							return nil, fmt.Errorf("%w: padding field %d too large", pyval.ErrDType, i)
						}
						pad += size * count
						if pad > 1<<31 {
							return nil, fmt.Errorf("%w: padding too large", pyval.ErrDType)
						}
						continue
					}
				}
			}
			flush()
			out = append(out, field)
		}
		flush()
		return out, nil
	}
	return nil, fmt.Errorf("%w: descr must be a str or a list of fields, got %s", pyval.ErrDType, clip(pyval.Repr(descr)))
}

// normalizeShape turns a field's sub-array shape into a Tuple (nil for no
// sub-array) and returns its element count. As numpy 1.24 does (with a
// FutureWarning), the int 1 means no sub-array at all.
func normalizeShape(v pyval.Value) (pyval.Value, int, error) {
	var dims []pyval.Value
	switch x := v.(type) {
	case pyval.Int:
		if n, ok := x.Int64(); ok && n == 1 {
			return nil, 1, nil
		}
		dims = []pyval.Value{x}
	case pyval.Tuple:
		dims = x
	default:
		return nil, 0, fmt.Errorf("%w: invalid sub-array shape %s", pyval.ErrDType, clip(pyval.Repr(v)))
	}
	count := 1
	for _, d := range dims {
		i, ok := d.(pyval.Int)
		n, fits := i.Int64()
		if !ok || !fits || n < 0 || n > 1<<31 {
			return nil, 0, fmt.Errorf("%w: invalid sub-array shape %s", pyval.ErrDType, clip(pyval.Repr(v)))
		}
		if n != 0 && count > (1<<31)/int(n) {
			return nil, 0, fmt.Errorf("%w: sub-array shape %s too large", pyval.ErrDType, clip(pyval.Repr(v)))
		}
		count *= int(n)
	}
	if len(dims) == 0 {
		return nil, 1, nil
	}
	return pyval.Tuple(dims), count, nil
}
