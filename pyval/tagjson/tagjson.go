// Package tagjson reads and writes pyval values in sdpkit's tagged JSON
// rendering: the one the golden vectors, `sdp telstate export` and the CLI's
// VALUE arguments use. Every value that is not JSON-native is a one-key
// object naming its Python type:
//
//	null, true, false                 None, True, False
//	{"int": "123"}                    int (decimal string, any size: exact)
//	{"float": "1.5"}                  float, as Python's repr ("inf", "nan", "-0.0")
//	{"complex": [<float>, <float>]}   complex (real, imaginary)
//	{"str": "text"}                   str
//	{"bytes": "00ff"}                 bytes, lower-case hex
//	{"list": [...]}, {"tuple": [...]} list, tuple
//	{"dict": [[k, v], ...]}           dict, in insertion order
//	{"ndarray": {"descr", "shape", "fortran_order", "data_hex", "values"}}
//	{"npscalar": {"descr", "data_hex", "value"}}
//	{"python_repr": "..."}            anything else (output only)
//
// A descr is numpy's: a string such as "<f8", or a list of [name, descr]
// or [name, descr, shape] lists. "values" and "value" are informative (numpy's
// tolist() and item()); Parse ignores them.
//
// For convenience Parse also takes plain JSON: a bare number is an int if
// it has no fraction or exponent and a float otherwise, a bare string is a
// str and a bare array a list.
package tagjson

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/sdpkit/sdpkit/pyval"
)

// ErrSyntax marks input that is not a valid rendering.
var ErrSyntax = errors.New("tagjson: invalid value rendering")

// MaxValues is the element count above which Render writes "values": null
// for arrays, as the vectors do.
const MaxValues = 4096

// Parse reads one rendered value.
func Parse(raw []byte) (pyval.Value, error) {
	return parse(raw, "$", 0)
}

func errAt(path, format string, args ...any) error {
	return fmt.Errorf("%w at %s: %s", ErrSyntax, path, fmt.Sprintf(format, args...))
}

func parse(raw json.RawMessage, path string, depth int) (pyval.Value, error) {
	if depth > 200 {
		return nil, errAt(path, "nested too deeply")
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, errAt(path, "empty value")
	}
	switch raw[0] {
	case 'n':
		if string(raw) == "null" {
			return pyval.None, nil
		}
	case 't':
		if string(raw) == "true" {
			return pyval.Bool(true), nil
		}
	case 'f':
		if string(raw) == "false" {
			return pyval.Bool(false), nil
		}
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, errAt(path, "%v", err)
		}
		return pyval.Str(s), nil
	case '[':
		items, err := parseArray(raw, path, depth)
		if err != nil {
			return nil, err
		}
		return pyval.List(items), nil
	case '{':
		return parseTagged(raw, path, depth)
	default:
		s := string(raw)
		if strings.ContainsAny(s, ".eE") {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return nil, errAt(path, "bad number %s", s)
			}
			return pyval.Float(f), nil
		}
		i, err := pyval.ParseInt(s)
		if err != nil {
			return nil, errAt(path, "%v", err)
		}
		return i, nil
	}
	return nil, errAt(path, "unexpected %q", truncate(string(raw)))
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

func parseArray(raw json.RawMessage, path string, depth int) ([]pyval.Value, error) {
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		return nil, errAt(path, "want an array: %v", err)
	}
	out := make([]pyval.Value, len(elems))
	for i, e := range elems {
		v, err := parse(e, fmt.Sprintf("%s[%d]", path, i), depth+1)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func parseTagged(raw json.RawMessage, path string, depth int) (pyval.Value, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, errAt(path, "%v", err)
	}
	if len(obj) != 1 {
		return nil, errAt(path, "a tagged value has exactly one key, got %d", len(obj))
	}
	for tag, body := range obj {
		p := path + "." + tag
		switch tag {
		case "int":
			var s string
			if err := json.Unmarshal(body, &s); err != nil {
				return nil, errAt(p, "want a decimal string")
			}
			i, err := pyval.ParseInt(s)
			if err != nil {
				return nil, errAt(p, "%v", err)
			}
			return i, nil
		case "float":
			f, err := parseFloat(body, p)
			if err != nil {
				return nil, err
			}
			return pyval.Float(f), nil
		case "complex":
			var parts []json.RawMessage
			if err := json.Unmarshal(body, &parts); err != nil || len(parts) != 2 {
				return nil, errAt(p, "want [real, imag]")
			}
			var re, im float64
			for i, part := range parts {
				v, err := parse(part, fmt.Sprintf("%s[%d]", p, i), depth+1)
				if err != nil {
					return nil, err
				}
				f, err := pyval.AsFloat64(v)
				if err != nil {
					return nil, errAt(p, "complex part: %v", err)
				}
				if i == 0 {
					re = f
				} else {
					im = f
				}
			}
			return pyval.Complex(complex(re, im)), nil
		case "str":
			var s string
			if err := json.Unmarshal(body, &s); err != nil {
				return nil, errAt(p, "want a string")
			}
			return pyval.Str(s), nil
		case "bytes":
			b, err := parseHex(body, p)
			if err != nil {
				return nil, err
			}
			return pyval.Bytes(b), nil
		case "list", "tuple":
			items, err := parseArray(body, p, depth)
			if err != nil {
				return nil, err
			}
			if tag == "list" {
				return pyval.List(items), nil
			}
			return pyval.Tuple(items), nil
		case "dict":
			var pairs []json.RawMessage
			if err := json.Unmarshal(body, &pairs); err != nil {
				return nil, errAt(p, "want a list of [key, value] pairs")
			}
			d := &pyval.Dict{}
			for i, pr := range pairs {
				kv, err := parseArray(pr, fmt.Sprintf("%s[%d]", p, i), depth)
				if err != nil {
					return nil, err
				}
				if len(kv) != 2 {
					return nil, errAt(fmt.Sprintf("%s[%d]", p, i), "want [key, value]")
				}
				if err := d.Set(kv[0], kv[1]); err != nil {
					return nil, errAt(fmt.Sprintf("%s[%d]", p, i), "%v", err)
				}
			}
			return d, nil
		case "ndarray":
			return parseNDArray(body, p)
		case "npscalar":
			var s struct {
				Descr   json.RawMessage `json:"descr"`
				DataHex json.RawMessage `json:"data_hex"`
			}
			if err := json.Unmarshal(body, &s); err != nil {
				return nil, errAt(p, "%v", err)
			}
			dt, data, err := parseDescrData(s.Descr, s.DataHex, p)
			if err != nil {
				return nil, err
			}
			if len(data) < dt.ItemSize() {
				return nil, errAt(p, "dtype %s needs %d bytes, data_hex has %d", dt, dt.ItemSize(), len(data))
			}
			return &pyval.Scalar{DType: dt, Data: data}, nil
		case "python_repr":
			var s string
			_ = json.Unmarshal(body, &s)
			var ts pyval.Timestamp
			if _, err := fmt.Sscanf(s, "Timestamp(seconds=%d, nanoseconds=%d)", &ts.Seconds, &ts.Nanoseconds); err == nil {
				return ts, nil
			}
			return nil, errAt(p, "%s cannot be represented", truncate(s))
		default:
			return nil, errAt(path, "unknown tag %q", tag)
		}
	}
	panic("unreachable")
}

func parseFloat(body json.RawMessage, p string) (float64, error) {
	var s string
	if err := json.Unmarshal(body, &s); err != nil {
		var f float64
		if err2 := json.Unmarshal(body, &f); err2 == nil {
			return f, nil
		}
		return 0, errAt(p, "want a float string")
	}
	switch s {
	case "inf":
		return math.Inf(1), nil
	case "-inf":
		return math.Inf(-1), nil
	case "nan":
		// Python's float('nan') bits, not Go's math.NaN() (…01), so that a
		// parsed NaN re-encodes to Python's bytes.
		return math.Float64frombits(0x7ff8000000000000), nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, errAt(p, "bad float %q", s)
	}
	return f, nil
}

func parseHex(body json.RawMessage, p string) ([]byte, error) {
	var s string
	if err := json.Unmarshal(body, &s); err != nil {
		return nil, errAt(p, "want a hex string")
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, errAt(p, "bad hex: %v", err)
	}
	return b, nil
}

// parseDescrData reads the "descr" and "data_hex" members that arrays and
// scalars share.
func parseDescrData(descr, dataHex json.RawMessage, p string) (pyval.DType, []byte, error) {
	dt, err := parseDescr(descr, p+".descr")
	if err != nil {
		return pyval.DType{}, nil, err
	}
	data, err := parseHex(dataHex, p+".data_hex")
	if err != nil {
		return pyval.DType{}, nil, err
	}
	return dt, data, nil
}

func parseNDArray(body json.RawMessage, p string) (pyval.Value, error) {
	var s struct {
		Descr        json.RawMessage `json:"descr"`
		Shape        []int           `json:"shape"`
		FortranOrder bool            `json:"fortran_order"`
		DataHex      json.RawMessage `json:"data_hex"`
	}
	if err := json.Unmarshal(body, &s); err != nil {
		return nil, errAt(p, "%v", err)
	}
	dt, data, err := parseDescrData(s.Descr, s.DataHex, p)
	if err != nil {
		return nil, err
	}
	if s.Shape == nil {
		s.Shape = []int{}
	}
	a, err := pyval.NewNDArray(dt, s.Shape, s.FortranOrder, data)
	if err != nil {
		return nil, errAt(p, "%v", err)
	}
	return a, nil
}

// ParseDescr reads a descr rendering ("<f8", or [[name, descr(, shape)], …]).
func ParseDescr(raw []byte) (pyval.DType, error) { return parseDescr(raw, "$") }

func parseDescr(raw json.RawMessage, p string) (pyval.DType, error) {
	v, err := descrValue(raw, p, 0)
	if err != nil {
		return pyval.DType{}, err
	}
	dt, err := pyval.DTypeFromDescr(v)
	if err != nil {
		return pyval.DType{}, errAt(p, "%v", err)
	}
	return dt, nil
}

// descrValue converts the JSON descr (lists for fields) into numpy's Python
// form (a list of tuples).
func descrValue(raw json.RawMessage, p string, depth int) (pyval.Value, error) {
	if depth > 32 {
		return nil, errAt(p, "descr nested too deeply")
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, errAt(p, "%v", err)
		}
		return pyval.Str(s), nil
	}
	var fields [][]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, errAt(p, "descr must be a string or a list of [name, descr(, shape)]")
	}
	out := make(pyval.List, len(fields))
	for i, f := range fields {
		fp := fmt.Sprintf("%s[%d]", p, i)
		if len(f) < 2 || len(f) > 3 {
			return nil, errAt(fp, "a field is [name, descr] or [name, descr, shape]")
		}
		var name string
		if err := json.Unmarshal(f[0], &name); err != nil {
			return nil, errAt(fp, "field name must be a string")
		}
		sub, err := descrValue(f[1], fp, depth+1)
		if err != nil {
			return nil, err
		}
		t := pyval.Tuple{pyval.Str(name), sub}
		if len(f) == 3 {
			var shape []int
			if err := json.Unmarshal(f[2], &shape); err != nil {
				return nil, errAt(fp, "shape must be a list of ints")
			}
			sh := make(pyval.Tuple, len(shape))
			for j, n := range shape {
				sh[j] = pyval.IntOf(int64(n))
			}
			t = append(t, sh)
		}
		out[i] = t
	}
	return out, nil
}
