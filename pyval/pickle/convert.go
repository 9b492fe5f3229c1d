package pickle

import (
	"github.com/sdpkit/sdpkit/pyval"
)

// converted is a finished container and its expanded size.
type converted struct {
	v    pyval.Value
	size int64
}

// converter turns the internal objects left by the machine into pyval
// values. A container reached twice (a memo reference) is converted once
// and shared, but its size counts at every use, so budget bounds the work
// any consumer walking the result can be made to do.
type converter struct {
	m      *machine
	done   map[any]converted // keyed by *listObj, *tupleObj, *dictObj
	budget int64
}

func (c *converter) convert(x any, depth int) (pyval.Value, error) {
	v, _, err := c.conv(x, depth)
	return v, err
}

func (c *converter) conv(x any, depth int) (pyval.Value, int64, error) {
	switch o := x.(type) {
	case latin1:
		return pyval.Str(latin1String(o)), 1, nil
	case *arrayObj:
		if o.arr == nil {
			// _reconstruct without BUILD: numpy's empty placeholder.
			return &pyval.NDArray{DType: pyval.Int8, Shape: []int{0}, Data: []byte{}}, 1, nil
		}
		return o.arr, 1, nil
	case *dtypeObj:
		return nil, 0, c.m.fail(ErrUnsupported, "a numpy.dtype object (%s) cannot be a value", o.dt)
	case *global:
		return nil, 0, c.m.fail(ErrUnsupported, "the callable %s.%s cannot be a value", o.module, o.name)
	case *listObj, *tupleObj, *dictObj:
		return c.container(x, depth)
	case pyval.Value:
		return o, 1, nil
	}
	return nil, 0, c.m.fail(ErrInvalid, "unexpected %T on the stack", x)
}

func (c *converter) container(x any, depth int) (pyval.Value, int64, error) {
	if r, ok := c.done[x]; ok {
		if r.v == nil {
			return nil, 0, c.m.fail(ErrUnsupported, "recursive structure (a %s containing itself)", typeName(x))
		}
		return r.v, r.size, nil
	}
	if depth >= maxDepth {
		return nil, 0, c.m.fail(ErrLimit, "containers nested more than %d deep", maxDepth)
	}
	c.done[x] = converted{} // in progress: meeting it again means a cycle
	size := int64(1)
	add := func(n int64) error {
		size += n
		if size > c.budget {
			return c.m.fail(ErrLimit, "decoded value would exceed %d nodes (shared sub-values count at every use)", c.budget)
		}
		return nil
	}
	var out pyval.Value
	switch o := x.(type) {
	case *listObj, *tupleObj:
		var items []any
		if l, ok := o.(*listObj); ok {
			items = l.items
		} else {
			items = o.(*tupleObj).items
		}
		vs := make([]pyval.Value, len(items))
		for i, it := range items {
			v, n, err := c.conv(it, depth+1)
			if err != nil {
				return nil, 0, err
			}
			if err := add(n); err != nil {
				return nil, 0, err
			}
			vs[i] = v
		}
		if _, ok := o.(*listObj); ok {
			out = pyval.List(vs)
		} else {
			out = pyval.Tuple(vs)
		}
	case *dictObj:
		d := &pyval.Dict{}
		for i := 0; i+1 < len(o.kv); i += 2 {
			k, nk, err := c.conv(o.kv[i], depth+1)
			if err != nil {
				return nil, 0, err
			}
			v, nv, err := c.conv(o.kv[i+1], depth+1)
			if err != nil {
				return nil, 0, err
			}
			if err := add(nk + nv); err != nil {
				return nil, 0, err
			}
			if err := d.Set(k, v); err != nil {
				return nil, 0, &Error{Class: ErrInvalid, Op: opName(c.m.op), Offset: c.m.opOff, Msg: "bad dict key", Err: err}
			}
		}
		out = d
	}
	c.done[x] = converted{v: out, size: size}
	return out, size, nil
}
