package tagjson

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/sdpkit/sdpkit/pyval"
)

// Render writes v in the tagged rendering, compactly.
func Render(v pyval.Value) (json.RawMessage, error) {
	var buf bytes.Buffer
	if err := render(&buf, v, 0); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// RenderDescr writes a dtype's descr in the rendering.
func RenderDescr(dt pyval.DType) json.RawMessage {
	var buf bytes.Buffer
	renderDescr(&buf, dt.Descr())
	return buf.Bytes()
}

func writeString(buf *bytes.Buffer, s string) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	buf.Truncate(buf.Len() - 1) // Encode adds a newline
}

func render(buf *bytes.Buffer, v pyval.Value, depth int) error {
	if depth > 200 {
		return fmt.Errorf("tagjson: value nested too deeply")
	}
	switch x := v.(type) {
	case pyval.NoneType:
		buf.WriteString("null")
	case pyval.Bool:
		if x {
			buf.WriteString("true")
		} else {
			buf.WriteString("false")
		}
	case pyval.Int:
		buf.WriteString(`{"int": "` + x.String() + `"}`)
	case pyval.Float:
		buf.WriteString(`{"float": "` + pyval.FloatRepr(float64(x)) + `"}`)
	case pyval.Complex:
		fmt.Fprintf(buf, `{"complex": [{"float": "%s"}, {"float": "%s"}]}`, pyval.FloatRepr(real(x)), pyval.FloatRepr(imag(x)))
	case pyval.Str:
		if !utf8.ValidString(string(x)) {
			buf.WriteString(`{"python_repr": `)
			writeString(buf, pyval.Repr(x))
			buf.WriteString("}")
			return nil
		}
		buf.WriteString(`{"str": `)
		writeString(buf, string(x))
		buf.WriteString("}")
	case pyval.Bytes:
		buf.WriteString(`{"bytes": "` + hex.EncodeToString(x) + `"}`)
	case pyval.List:
		return renderSeq(buf, "list", x, depth)
	case pyval.Tuple:
		return renderSeq(buf, "tuple", x, depth)
	case *pyval.Dict:
		buf.WriteString(`{"dict": [`)
		for i, it := range x.Items() {
			if i > 0 {
				buf.WriteString(", ")
			}
			buf.WriteString("[")
			if err := render(buf, it.Key, depth+1); err != nil {
				return err
			}
			buf.WriteString(", ")
			if err := render(buf, it.Value, depth+1); err != nil {
				return err
			}
			buf.WriteString("]")
		}
		buf.WriteString("]}")
	case *pyval.NDArray:
		buf.WriteString(`{"ndarray": {"descr": `)
		renderDescr(buf, x.DType.Descr())
		buf.WriteString(`, "shape": [`)
		for i, n := range x.Shape {
			if i > 0 {
				buf.WriteString(", ")
			}
			fmt.Fprintf(buf, "%d", n)
		}
		fmt.Fprintf(buf, `], "fortran_order": %t, "data_hex": "%s", "values": `, x.FortranOrder, hex.EncodeToString(x.Data))
		if hasDatetime(x.DType) || x.Len() > MaxValues {
			buf.WriteString("null")
		} else if l, err := x.ToList(); err != nil {
			buf.WriteString("null")
		} else if err := render(buf, l, depth+1); err != nil {
			return err
		}
		buf.WriteString("}}")
	case *pyval.Scalar:
		buf.WriteString(`{"npscalar": {"descr": `)
		renderDescr(buf, x.DType.Descr())
		fmt.Fprintf(buf, `, "data_hex": "%s", "value": `, hex.EncodeToString(x.Data))
		item, err := x.Item()
		if _, nested := item.(*pyval.Scalar); err != nil || nested || hasDatetime(x.DType) {
			buf.WriteString("null")
		} else if err := render(buf, item, depth+1); err != nil {
			return err
		}
		buf.WriteString("}}")
	case pyval.Timestamp:
		buf.WriteString(`{"python_repr": `)
		writeString(buf, pyval.Repr(x))
		buf.WriteString("}")
	default:
		return fmt.Errorf("tagjson: cannot render %T", v)
	}
	return nil
}

func hasDatetime(d pyval.DType) bool {
	if d.Kind == 'M' || d.Kind == 'm' {
		return true
	}
	for _, f := range d.Fields {
		if hasDatetime(f.DType) {
			return true
		}
	}
	return false
}

func renderSeq(buf *bytes.Buffer, tag string, items []pyval.Value, depth int) error {
	buf.WriteString(`{"` + tag + `": [`)
	for i, e := range items {
		if i > 0 {
			buf.WriteString(", ")
		}
		if err := render(buf, e, depth+1); err != nil {
			return err
		}
	}
	buf.WriteString("]}")
	return nil
}

func renderDescr(buf *bytes.Buffer, d pyval.Value) {
	switch x := d.(type) {
	case pyval.Str:
		writeString(buf, string(x))
	case pyval.List:
		buf.WriteString("[")
		for i, f := range x {
			if i > 0 {
				buf.WriteString(", ")
			}
			t := f.(pyval.Tuple)
			buf.WriteString("[")
			writeString(buf, string(t[0].(pyval.Str)))
			buf.WriteString(", ")
			renderDescr(buf, t[1])
			if len(t) == 3 {
				buf.WriteString(", [")
				for j, n := range t[2].(pyval.Tuple) {
					if j > 0 {
						buf.WriteString(", ")
					}
					buf.WriteString(n.(pyval.Int).String())
				}
				buf.WriteString("]")
			}
			buf.WriteString("]")
		}
		buf.WriteString("]")
	}
}
