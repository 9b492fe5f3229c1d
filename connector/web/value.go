package web

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/sdpkit/sdpkit/dataqueue/encoding"
	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/pyval/tagjson"
)

// errTooDeep stops the rendering of absurdly nested values (a decoded
// preview comes from untrusted bytes).
var errTooDeep = errors.New("web: value nested too deeply")

const maxDepth = 64

// valueEncoder appends the plain JSON rendering of pyval values (see the
// package documentation) to buf.
type valueEncoder struct {
	buf []byte
	// maxElems is the largest array whose data is rendered; bigger arrays
	// get "data": null and "truncated": true.
	maxElems int
}

// MarshalValue returns the plain JSON rendering of v that the HTTP API and
// the event stream use (see the package documentation), rendering the data
// of arrays up to maxElems elements (0: no limit).
func MarshalValue(v pyval.Value, maxElems int) (json.RawMessage, error) {
	e := valueEncoder{maxElems: maxElems}
	if err := e.value(v, 0); err != nil {
		return nil, err
	}
	return e.buf, nil
}

func (e *valueEncoder) value(v pyval.Value, depth int) error {
	if depth > maxDepth {
		return errTooDeep
	}
	switch x := v.(type) {
	case nil, pyval.NoneType:
		e.buf = append(e.buf, "null"...)
	case pyval.Bool:
		e.buf = strconv.AppendBool(e.buf, bool(x))
	case pyval.Int:
		e.buf = append(e.buf, x.String()...)
	case pyval.Float:
		e.float(float64(x), 64)
	case pyval.Complex:
		e.complex(complex128(x), 64)
	case pyval.Str:
		e.str(string(x))
	case pyval.Bytes:
		e.bytes(x)
	case pyval.List:
		return e.list(x, depth)
	case pyval.Tuple:
		return e.list(x, depth)
	case *pyval.Dict:
		e.buf = append(e.buf, '{')
		for i, it := range x.Items() {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			if k, ok := it.Key.(pyval.Str); ok {
				e.str(string(k))
			} else {
				e.str(pyval.Repr(it.Key))
			}
			e.buf = append(e.buf, ':')
			if err := e.value(it.Value, depth+1); err != nil {
				return err
			}
		}
		e.buf = append(e.buf, '}')
	case *pyval.NDArray:
		return e.array(x, depth)
	case *pyval.Scalar:
		item, err := x.Item()
		if err != nil {
			return err
		}
		return e.elem(x.DType, item, depth+1)
	case pyval.Timestamp:
		t := time.Unix(x.Seconds, int64(x.Nanoseconds)).UTC()
		e.buf = append(e.buf, `{"timestamp":`...)
		e.str(t.Format(time.RFC3339Nano))
		e.buf = append(e.buf, '}')
	default:
		e.str(pyval.Repr(v))
	}
	return nil
}

func (e *valueEncoder) list(l []pyval.Value, depth int) error {
	e.buf = append(e.buf, '[')
	for i, v := range l {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		if err := e.value(v, depth+1); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, ']')
	return nil
}

// array writes {"dtype", "shape", "data"}: data is the nested lists of the
// elements, a structured element being an object of its named fields.
func (e *valueEncoder) array(a *pyval.NDArray, depth int) error {
	e.buf = append(e.buf, `{"dtype":`...)
	e.buf = append(e.buf, descrJSON(a.DType)...)
	e.buf = append(e.buf, `,"shape":`...)
	e.ints(a.Shape)
	e.buf = append(e.buf, `,"data":`...)
	if e.maxElems > 0 && a.Len() > e.maxElems {
		e.buf = append(e.buf, `null,"truncated":true}`...)
		return nil
	}
	if err := e.arrayData(a, depth); err != nil {
		return err
	}
	e.buf = append(e.buf, '}')
	return nil
}

// arrayData writes only the nested element lists of a.
func (e *valueEncoder) arrayData(a *pyval.NDArray, depth int) error {
	if depth+len(a.Shape) > maxDepth {
		return errTooDeep
	}
	leaf, err := e.leafWriter(a, depth+len(a.Shape)+1)
	if err != nil {
		return err
	}
	var nest func(dim, off int) (int, error)
	nest = func(dim, off int) (int, error) {
		if dim == len(a.Shape) {
			return off + 1, leaf(off)
		}
		e.buf = append(e.buf, '[')
		for j := range a.Shape[dim] {
			if j > 0 {
				e.buf = append(e.buf, ',')
			}
			var err error
			if off, err = nest(dim+1, off); err != nil {
				return off, err
			}
		}
		e.buf = append(e.buf, ']')
		return off, nil
	}
	_, err = nest(0, 0)
	return err
}

// leafWriter returns a function writing element i (in C order) of a.
// Plain numeric and bool arrays are converted once, in bulk: the
// element-by-element path allocates per element.
func (e *valueEncoder) leafWriter(a *pyval.NDArray, depth int) (func(i int) error, error) {
	dt := a.DType
	if dt.Fields == nil {
		switch {
		case dt.Kind == 'f' && (dt.Size == 4 || dt.Size == 8):
			fs, err := a.Float64s()
			if err != nil {
				return nil, err
			}
			bits := dt.Size * 8
			return func(i int) error { e.float(fs[i], bits); return nil }, nil
		case dt.Kind == 'i':
			is, err := a.Int64s()
			if err != nil {
				return nil, err
			}
			return func(i int) error { e.buf = strconv.AppendInt(e.buf, is[i], 10); return nil }, nil
		case dt.Kind == 'u':
			us, err := a.Uint64s()
			if err != nil {
				return nil, err
			}
			return func(i int) error { e.buf = strconv.AppendUint(e.buf, us[i], 10); return nil }, nil
		case dt.Kind == 'b':
			bs, err := a.Bools()
			if err != nil {
				return nil, err
			}
			return func(i int) error { e.buf = strconv.AppendBool(e.buf, bs[i]); return nil }, nil
		}
	}
	n := a.Len()
	items := make([]pyval.Value, n)
	for i := range n {
		v, err := a.At(i)
		if err != nil {
			return nil, err
		}
		items[i] = v
	}
	return func(i int) error { return e.elem(dt, items[i], depth) }, nil
}

// elem writes one element of dtype dt, given as pyval.NDArray.At returns it.
func (e *valueEncoder) elem(dt pyval.DType, v pyval.Value, depth int) error {
	if depth > maxDepth {
		return errTooDeep
	}
	if dt.Fields != nil {
		t, ok := v.(pyval.Tuple)
		if !ok {
			return fmt.Errorf("web: structured element is %s, not a tuple", v.Kind())
		}
		e.buf = append(e.buf, '{')
		i := 0
		for _, f := range dt.Fields {
			if f.Name == "" {
				continue // numpy's padding: not an item of the tuple
			}
			if i >= len(t) {
				return fmt.Errorf("web: structured element has %d items, dtype more fields", len(t))
			}
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.str(f.Name)
			e.buf = append(e.buf, ':')
			var err error
			if sub, ok := t[i].(*pyval.NDArray); ok && f.Shape != nil {
				err = e.arrayData(sub, depth+1)
			} else {
				err = e.elem(f.DType, t[i], depth+1)
			}
			if err != nil {
				return err
			}
			i++
		}
		e.buf = append(e.buf, '}')
		return nil
	}
	bits := 64
	if dt.Size == 4 || dt.Size == 8 && dt.Kind == 'c' {
		bits = 32 // float32 and the parts of complex64: shortest float32 form
	}
	switch x := v.(type) {
	case pyval.Float:
		if dt.Kind == 'f' {
			e.float(float64(x), bits)
			return nil
		}
	case pyval.Complex:
		e.complex(complex128(x), bits)
		return nil
	case *pyval.Scalar:
		// float16 and longdouble arrive as numpy scalars; datetimes too.
		if x.DType.Kind == 'f' {
			if f, err := pyval.AsFloat64(x); err == nil {
				e.float(f, 64)
				return nil
			}
		}
		e.str(pyval.Repr(x))
		return nil
	}
	return e.value(v, depth)
}

func (e *valueEncoder) ints(s []int) {
	e.buf = append(e.buf, '[')
	for i, n := range s {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.buf = strconv.AppendInt(e.buf, int64(n), 10)
	}
	e.buf = append(e.buf, ']')
}

// float writes a number, or for values JSON cannot hold the strings
// "NaN", "Infinity" and "-Infinity" (JavaScript's Number() reads them back).
func (e *valueEncoder) float(f float64, bits int) {
	switch {
	case math.IsNaN(f):
		e.buf = append(e.buf, `"NaN"`...)
	case math.IsInf(f, 1):
		e.buf = append(e.buf, `"Infinity"`...)
	case math.IsInf(f, -1):
		e.buf = append(e.buf, `"-Infinity"`...)
	default:
		e.buf = strconv.AppendFloat(e.buf, f, 'g', -1, bits)
	}
}

func (e *valueEncoder) complex(c complex128, bits int) {
	e.buf = append(e.buf, `{"re":`...)
	e.float(real(c), bits)
	e.buf = append(e.buf, `,"im":`...)
	e.float(imag(c), bits)
	e.buf = append(e.buf, '}')
}

func (e *valueEncoder) bytes(b []byte) {
	e.buf = append(e.buf, `{"base64":"`...)
	e.buf = base64.StdEncoding.AppendEncode(e.buf, b)
	e.buf = append(e.buf, `"}`...)
}

const hexDigits = "0123456789abcdef"

// str writes a JSON string; invalid UTF-8 (Python's lone surrogates) becomes
// U+FFFD.
func (e *valueEncoder) str(s string) {
	e.buf = append(e.buf, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				e.buf = append(e.buf, '\\', c)
			case c == '\n':
				e.buf = append(e.buf, '\\', 'n')
			case c == '\r':
				e.buf = append(e.buf, '\\', 'r')
			case c == '\t':
				e.buf = append(e.buf, '\\', 't')
			case c < 0x20:
				e.buf = append(e.buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				e.buf = append(e.buf, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			e.buf = append(e.buf, `\ufffd`...)
		} else {
			e.buf = append(e.buf, s[i:i+size]...)
		}
		i += size
	}
	e.buf = append(e.buf, '"')
}

// devEncoded writes a DevEncoded (encoding, payload) pair as
// {"encoding", "base64", "size"} plus "preview" (the payload decoded by the
// encoding's codec) or "preview_error".
func (e *valueEncoder) devEncoded(v pyval.Value, codecs *encoding.Registry, maxPreview int) error {
	t, ok := v.(pyval.Tuple)
	if !ok || len(t) != 2 {
		return e.value(v, 0)
	}
	var name string
	switch x := t[0].(type) {
	case pyval.Str:
		name = string(x)
	case pyval.Bytes:
		name = string(x)
	default:
		return e.value(v, 0)
	}
	payload, ok := t[1].(pyval.Bytes)
	if !ok {
		return e.value(v, 0)
	}
	e.buf = append(e.buf, `{"encoding":`...)
	e.str(name)
	e.buf = append(e.buf, `,"base64":"`...)
	e.buf = base64.StdEncoding.AppendEncode(e.buf, payload)
	e.buf = append(e.buf, `","size":`...)
	e.buf = strconv.AppendInt(e.buf, int64(len(payload)), 10)
	if perr := e.preview(name, payload, codecs, maxPreview); perr != nil {
		e.buf = append(e.buf, `,"preview_error":`...)
		e.str(perr.Error())
	}
	e.buf = append(e.buf, '}')
	return nil
}

// preview appends ,"preview":… when the payload decodes; an unknown
// encoding adds nothing, a decoding failure is returned.
func (e *valueEncoder) preview(name string, payload []byte, codecs *encoding.Registry, maxPreview int) error {
	if codecs == nil {
		return nil
	}
	c, err := codecs.Lookup(name)
	if err != nil {
		return nil // unknown encoding: the raw bytes only
	}
	if maxPreview > 0 && len(payload) > maxPreview {
		return fmt.Errorf("payload of %d bytes is larger than the preview limit of %d", len(payload), maxPreview)
	}
	dv, err := safeDecode(c, payload)
	if err != nil {
		return fmt.Errorf("decoding %s: %w", name, err)
	}
	mark := len(e.buf)
	e.buf = append(e.buf, `,"preview":`...)
	if err := e.value(dv, 1); err != nil {
		e.buf = e.buf[:mark]
		return fmt.Errorf("rendering the decoded %s value: %w", name, err)
	}
	return nil
}

// safeDecode calls a codec, turning a panic of a user-registered codec into
// an error: a bad payload must not take the server down.
func safeDecode(c encoding.Codec, b []byte) (v pyval.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("codec panicked: %v", r)
		}
	}()
	return c.Decode(b)
}

// descrJSON is the dtype's numpy descr as compact JSON: "<f8", or a list of
// [name, descr] / [name, descr, shape] lists.
func descrJSON(dt pyval.DType) []byte {
	raw := tagjson.RenderDescr(dt)
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return raw
	}
	return buf.Bytes()
}
