// Package dqvalue reads the language-neutral value rendering of the
// data-queue golden vectors (shared/vectors/dataqueues/README.md): plain
// JSON for None, bools, ints, str and lists, and one-key "$" objects for
// the rest ({"$float": 1.5}, {"$map": [[k, v], …]}, {"$ndarray": {…}}, …).
// It differs from package tagjson, which reads the telstate vectors'
// rendering ({"int": "1"}, {"dict": …}).
package dqvalue

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"

	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/pyval/tagjson"
)

// ErrSyntax marks input that is not a valid rendering.
var ErrSyntax = errors.New("dqvalue: invalid value rendering")

// Parse reads one rendered value.
func Parse(raw []byte) (pyval.Value, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var x any
	if err := d.Decode(&x); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	return conv(x, "$")
}

func bad(path, format string, args ...any) error {
	return fmt.Errorf("%w at %s: %s", ErrSyntax, path, fmt.Sprintf(format, args...))
}

func conv(x any, path string) (pyval.Value, error) {
	switch y := x.(type) {
	case nil:
		return pyval.None, nil
	case bool:
		return pyval.Bool(y), nil
	case string:
		return pyval.Str(y), nil
	case json.Number:
		i, err := pyval.ParseInt(string(y))
		if err != nil {
			return nil, bad(path, "integer %s: %v", y, err)
		}
		return i, nil
	case []any:
		l := make(pyval.List, len(y))
		for i, e := range y {
			v, err := conv(e, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			l[i] = v
		}
		return l, nil
	case map[string]any:
		if len(y) != 1 {
			return nil, bad(path, "want a one-key $ object, got %d keys", len(y))
		}
		for k, v := range y {
			return tagged(k, v, path+"."+k)
		}
	}
	return nil, bad(path, "unexpected %T", x)
}

func tagged(tag string, v any, path string) (pyval.Value, error) {
	switch tag {
	case "$float":
		f, err := float(v, path)
		return pyval.Float(f), err
	case "$complex":
		p, ok := v.([]any)
		if !ok || len(p) != 2 {
			return nil, bad(path, "want [re, im]")
		}
		re, err := float(p[0], path+"[0]")
		if err != nil {
			return nil, err
		}
		im, err := float(p[1], path+"[1]")
		return pyval.Complex(complex(re, im)), err
	case "$bytes":
		b, err := hexString(v, path)
		return pyval.Bytes(b), err
	case "$tuple":
		l, err := conv(v, path)
		if err != nil {
			return nil, err
		}
		ll, ok := l.(pyval.List)
		if !ok {
			return nil, bad(path, "want a list")
		}
		return pyval.Tuple(ll), nil
	case "$map":
		pairs, ok := v.([]any)
		if !ok {
			return nil, bad(path, "want a list of pairs")
		}
		d := &pyval.Dict{}
		for i, p := range pairs {
			kv, ok := p.([]any)
			if !ok || len(kv) != 2 {
				return nil, bad(path, "pair %d is not [key, value]", i)
			}
			k, err := conv(kv[0], fmt.Sprintf("%s[%d][0]", path, i))
			if err != nil {
				return nil, err
			}
			val, err := conv(kv[1], fmt.Sprintf("%s[%d][1]", path, i))
			if err != nil {
				return nil, err
			}
			if err := d.Set(k, val); err != nil {
				return nil, bad(path, "pair %d: %v", i, err)
			}
		}
		return d, nil
	case "$npscalar":
		m, dt, err := numpyObject(v, path)
		if err != nil {
			return nil, err
		}
		data, err := hexString(m["data_hex"], path+".data_hex")
		if err != nil {
			return nil, err
		}
		if len(data) != dt.ItemSize() {
			return nil, bad(path, "%d data bytes for dtype %s", len(data), dt)
		}
		return &pyval.Scalar{DType: dt, Data: data}, nil
	case "$ndarray":
		m, dt, err := numpyObject(v, path)
		if err != nil {
			return nil, err
		}
		shapeRaw, ok := m["shape"].([]any)
		if !ok {
			return nil, bad(path, "shape missing")
		}
		shape := make([]int, len(shapeRaw))
		for i, s := range shapeRaw {
			n, ok := s.(json.Number)
			k, err := strconv.Atoi(string(n))
			if !ok || err != nil || k < 0 {
				return nil, bad(path, "bad shape %v", shapeRaw)
			}
			shape[i] = k
		}
		data, err := hexString(m["data_hex_c_order"], path+".data_hex_c_order")
		if err != nil {
			return nil, err
		}
		a, err := pyval.NewNDArray(dt, shape, false, data)
		if err != nil {
			return nil, bad(path, "%v", err)
		}
		switch m["order"] {
		case "C", nil:
		case "F":
			a.Data = ToFortran(data, shape, dt.ItemSize())
			a.FortranOrder = true
		default:
			return nil, bad(path, "order %v", m["order"])
		}
		return a, nil
	}
	return nil, bad(path, "unknown tag %q", tag)
}

// numpyObject reads the object of a $npscalar or $ndarray and its dtype.
func numpyObject(v any, path string) (map[string]any, pyval.DType, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, pyval.DType{}, bad(path, "want an object")
	}
	dt, err := dtype(m["dtype"], path+".dtype")
	return m, dt, err
}

func float(v any, path string) (float64, error) {
	switch y := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(y), 64)
		if err != nil {
			return 0, bad(path, "%v", err)
		}
		return f, nil
	case string:
		switch y {
		case "nan":
			return pythonNaN, nil
		case "inf":
			return math.Inf(1), nil
		case "-inf":
			return math.Inf(-1), nil
		case "-0.0":
			return math.Copysign(0, -1), nil
		}
	}
	return 0, bad(path, "not a float rendering: %v", v)
}

// pythonNaN is float("nan") in CPython: the quiet NaN with an empty
// payload (Go's math.NaN() sets the lowest payload bit).
var pythonNaN = math.Float64frombits(0x7ff8000000000000)

func hexString(v any, path string) ([]byte, error) {
	s, ok := v.(string)
	if !ok {
		return nil, bad(path, "want a hex string")
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, bad(path, "%v", err)
	}
	return b, nil
}

// elided matches the dtype text of vectors whose descr is too long to
// write out: "4000 fields f00000..f03999 each |u1 (elided)".
var elided = regexp.MustCompile(`^(\d+) fields f(\d+)\.\.f(\d+) each (\S+) \(elided\)$`)

func dtype(v any, path string) (pyval.DType, error) {
	if s, ok := v.(string); ok {
		if m := elided.FindStringSubmatch(s); m != nil {
			return elidedDType(m, path)
		}
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return pyval.DType{}, bad(path, "%v", err)
	}
	dt, err := tagjson.ParseDescr(raw)
	if err != nil {
		return pyval.DType{}, bad(path, "%v", err)
	}
	return dt, nil
}

// ToFortran reorders C-order element bytes into Fortran (column-major)
// order for the given shape and item size.
func ToFortran(c []byte, shape []int, size int) []byte {
	out := make([]byte, len(c))
	n := len(c) / max(size, 1)
	if size == 0 || n == 0 {
		return out
	}
	idx := make([]int, len(shape))
	for i := 0; i < n; i++ {
		off, stride := 0, 1
		for d := range shape {
			off += idx[d] * stride
			stride *= shape[d]
		}
		copy(out[off*size:(off+1)*size], c[i*size:(i+1)*size])
		for d := len(shape) - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < shape[d] {
				break
			}
			idx[d] = 0
		}
	}
	return out
}

// elidedDType builds the structured dtype an elided descr describes:
// fields named f<first>…f<last>, zero-padded to the width shown, all of
// one type.
func elidedDType(m []string, path string) (pyval.DType, error) {
	n, _ := strconv.Atoi(m[1])
	first, _ := strconv.Atoi(m[2])
	last, _ := strconv.Atoi(m[3])
	if n <= 0 || last-first+1 != n || len(m[2]) != len(m[3]) {
		return pyval.DType{}, bad(path, "inconsistent elided descr %q", m[0])
	}
	l := make(pyval.List, n)
	for i := range l {
		l[i] = pyval.Tuple{pyval.Str(fmt.Sprintf("f%0*d", len(m[2]), first+i)), pyval.Str(m[4])}
	}
	dt, err := pyval.DTypeFromDescr(l)
	if err != nil {
		return pyval.DType{}, bad(path, "%v", err)
	}
	return dt, nil
}
