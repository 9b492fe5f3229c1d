package jmes

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/sdpkit/sdpkit/internal/vectors"
	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/pyval/pyjson"
)

// objectVector is an object_scatter line of scatter_inferred.jsonl.
type objectVector struct {
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	Attribute struct {
		Filter *string `json:"filter"`
		Path   string  `json:"path"`
	} `json:"attribute"`
	Input        json.RawMessage `json:"input"`
	FilterResult json.RawMessage `json:"filter_result"`
	Updated      bool            `json:"updated"`
	Value        json.RawMessage `json:"value"`
}

func loads(t *testing.T, raw json.RawMessage) pyval.Value {
	t.Helper()
	v, err := pyjson.Unmarshal(raw)
	if err != nil {
		t.Fatalf("json.loads(%s): %v", raw, err)
	}
	return v
}

// The filter and path results of python-jmespath 1.0.1, and whether the
// sink updates the attribute (filter absent or truthy).
func TestObjectScatterVectors(t *testing.T) {
	n := 0
	for _, vec := range vectors.JSONL[objectVector](t, "connector", "scatter_inferred.jsonl") {
		if vec.Kind != "object_scatter" {
			continue
		}
		n++
		t.Run(vec.Name, func(t *testing.T) {
			input := loads(t, vec.Input)
			inputBefore := pyval.Repr(input)
			updated := true
			if vec.Attribute.Filter != nil {
				f, err := Compile(*vec.Attribute.Filter)
				if err != nil {
					t.Fatal(err)
				}
				got, err := f.Search(input)
				if err != nil {
					t.Fatal(err)
				}
				if want := loads(t, vec.FilterResult); !pyval.Equal(got, want) {
					t.Errorf("filter %q = %s, want %s", f, pyval.Repr(got), pyval.Repr(want))
				}
				updated = Truthy(got)
			}
			if updated != vec.Updated {
				t.Fatalf("updated = %v, want %v", updated, vec.Updated)
			}
			if updated {
				p, err := Compile(vec.Attribute.Path)
				if err != nil {
					t.Fatal(err)
				}
				got, err := p.Search(input)
				if err != nil {
					t.Fatal(err)
				}
				if want := loads(t, vec.Value); !pyval.Equal(got, want) {
					t.Errorf("path %q = %s, want %s", p, pyval.Repr(got), pyval.Repr(want))
				}
			}
			if pyval.Repr(input) != inputBefore {
				t.Errorf("input changed: %s", pyval.Repr(input))
			}
		})
	}
	if n == 0 {
		t.Fatal("no object_scatter vectors")
	}
}

func TestToJSON(t *testing.T) {
	d := &pyval.Dict{}
	_ = d.Set(pyval.Str("s"), pyval.IntOf(1))
	_ = d.Set(pyval.IntOf(2), pyval.Float(1.5))
	_ = d.Set(pyval.Bool(true), pyval.None)
	_ = d.Set(pyval.None, pyval.Tuple{pyval.Str("a"), pyval.Bytes("b")})
	_ = d.Set(pyval.Float(0.5), pyval.List{})
	structDT, err := pyval.DTypeFromDescr(pyval.List{
		pyval.Tuple{pyval.Str("name"), pyval.Str("<U6")},
		pyval.Tuple{pyval.Str("az"), pyval.Str("<f8")},
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := make([]byte, structDT.ItemSize())
	copy(rec, []byte{'S', 0, 0, 0, 'K', 0, 0, 0})
	cases := []struct {
		name string
		in   pyval.Value
		want any
		err  bool
	}{
		{"none", pyval.None, nil, false},
		{"int", pyval.IntOf(-3), float64(-3), false},
		{"dict keys as json.dumps", d, map[string]any{
			"s": float64(1), "2": 1.5, "true": nil, "null": []any{"a", "b"}, "0.5": []any{},
		}, false},
		{"2-d array", pyval.ArrayOf([]int32{1, 2, 3, 4}, 2, 2), []any{[]any{float64(1), float64(2)}, []any{float64(3), float64(4)}}, false},
		{"float scalar", pyval.ScalarOf(float32(0.5)), 0.5, false},
		{"structured scalar", &pyval.Scalar{DType: structDT, Data: rec}, map[string]any{"name": "SK", "az": float64(0)}, false},
		{"complex", pyval.Complex(1i), nil, true},
		{"bad bytes", pyval.Bytes{0xff}, nil, true},
		{"tuple key", pyval.List{mustDict(t, pyval.Tuple{}, pyval.None)}, nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ToJSON(tc.in)
			if tc.err {
				if !errors.Is(err, ErrUnsupported) {
					t.Fatalf("err = %v, want ErrUnsupported", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ToJSON = %#v, want %#v", got, tc.want)
			}
		})
	}
}

func mustDict(t *testing.T, k, v pyval.Value) *pyval.Dict {
	t.Helper()
	d := &pyval.Dict{}
	if err := d.Set(k, v); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestFromJSON(t *testing.T) {
	got, err := FromJSON(map[string]any{"b": []any{1.5, true, nil, "x"}, "a": float64(2), "c": int64(3)})
	if err != nil {
		t.Fatal(err)
	}
	if r := pyval.Repr(got); r != "{'a': 2.0, 'b': [1.5, True, None, 'x'], 'c': 3}" {
		t.Errorf("FromJSON = %s", r)
	}
	if _, err := FromJSON(struct{}{}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("struct: %v", err)
	}
}

// Results taken unchanged from the input come back as the original values
// (ints and dict order kept); sort_by, which sorts in place, neither leaks
// into the input nor returns the unsorted original.
func TestSearchIdentityAndCopies(t *testing.T) {
	items := pyval.List{pyval.StrDict("v", pyval.IntOf(3)), pyval.StrDict("v", pyval.IntOf(1)), pyval.StrDict("v", pyval.IntOf(2))}
	in := pyval.StrDict("z", pyval.IntOf(1), "items", items)
	cases := []struct {
		expr string
		want string
	}{
		{"@", "{'z': 1, 'items': [{'v': 3}, {'v': 1}, {'v': 2}]}"},
		{"items", "[{'v': 3}, {'v': 1}, {'v': 2}]"},
		{"sort_by(items, &v)", "[{'v': 1}, {'v': 2}, {'v': 3}]"},
		{"items[*].v", "[3.0, 1.0, 2.0]"},
		{"max_by(items, &v)", "{'v': 3}"},
		{"length(items) > `2`", "True"},
		{"missing", "None"},
		{"[z, missing, z]", "[1.0, None, 1.0]"},
	}
	for _, tc := range cases {
		e, err := Compile(tc.expr)
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.Search(in)
		if err != nil {
			t.Fatal(err)
		}
		if r := pyval.Repr(got); r != tc.want {
			t.Errorf("%s = %s, want %s", tc.expr, r, tc.want)
		}
	}
	if r := pyval.Repr(in); r != "{'z': 1, 'items': [{'v': 3}, {'v': 1}, {'v': 2}]}" {
		t.Errorf("input modified: %s", r)
	}
	if _, err := Compile("items[?"); err == nil {
		t.Error("bad expression compiled")
	}
	e, _ := Compile("abs(@)")
	if _, err := e.Search(pyval.Str("x")); err == nil {
		t.Error("type error not reported")
	}
}

func TestTruthy(t *testing.T) {
	cases := []struct {
		v    pyval.Value
		want bool
	}{
		{pyval.None, false}, {pyval.Bool(false), false}, {pyval.Str(""), false}, {pyval.List{}, false},
		{pyval.Tuple{}, false}, {&pyval.Dict{}, false}, {pyval.ArrayOf([]float64{}), false},
		{pyval.IntOf(0), true}, {pyval.Float(0), true}, {pyval.Float(math.NaN()), true}, {pyval.Str("0"), true},
		{pyval.List{pyval.None}, true}, {pyval.Bool(true), true}, {pyval.StrDict("a", pyval.None), true},
	}
	for _, tc := range cases {
		if got := Truthy(tc.v); got != tc.want {
			t.Errorf("Truthy(%s) = %v", pyval.Repr(tc.v), got)
		}
	}
}
