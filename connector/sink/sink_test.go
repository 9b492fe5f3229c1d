package sink

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/sdpkit/sdpkit/connector/attribute"
	"github.com/sdpkit/sdpkit/connector/internal/ndconv"
	"github.com/sdpkit/sdpkit/internal/vectors"
	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/pyval/pyjson"
)

func dt(t *testing.T, s string) pyval.DType {
	t.Helper()
	d, err := pyval.ParseDType(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func loads(t *testing.T, raw json.RawMessage) pyval.Value {
	t.Helper()
	v, err := pyjson.Unmarshal(raw)
	if err != nil {
		t.Fatalf("json.loads(%s): %v", raw, err)
	}
	return v
}

func value(t *testing.T, s *attribute.Store, name string) attribute.Reading {
	t.Helper()
	snap, err := s.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	return snap.Reading
}

type arrayVector struct {
	Kind  string `json:"kind"`
	Name  string `json:"name"`
	Input struct {
		DType  string          `json:"dtype"`
		Shape  []int           `json:"shape"`
		Values json.RawMessage `json:"values"`
	} `json:"input"`
	AttributeNames []string `json:"attribute_names"`
	Indices        []int    `json:"indices"`
	Axis           int      `json:"axis"`
	Outputs        map[string]struct {
		Shape  []int           `json:"shape"`
		Values json.RawMessage `json:"values"`
	} `json:"outputs"`
	Error string `json:"error"`
}

// The array_scatter vectors (numpy.split), through Split and through the
// sink.
func TestArrayScatterVectors(t *testing.T) {
	n := 0
	for _, vec := range vectors.JSONL[arrayVector](t, "connector", "scatter_inferred.jsonl") {
		if vec.Kind != "array_scatter" {
			continue
		}
		n++
		t.Run(vec.Name, func(t *testing.T) {
			d := dt(t, vec.Input.DType)
			in, err := ndconv.ToArray(loads(t, vec.Input.Values), d)
			if err != nil {
				t.Fatal(err)
			}
			if !equalInts(in.Shape, vec.Input.Shape) {
				t.Fatalf("input shape %v, vector says %v", in.Shape, vec.Input.Shape)
			}
			store := attribute.NewStore()
			var shapeNames []string
			for _, name := range vec.AttributeNames {
				shapeNames = append(shapeNames, name+"_shape")
			}
			opts := []ScatterOption{WithAxis(vec.Axis), WithShapeNames(shapeNames)}
			if vec.Indices != nil {
				opts = append(opts, WithIndices(vec.Indices))
			}
			// Declare a variable axis so that the uneven case reaches Write.
			declared := append([]int(nil), vec.Input.Shape...)
			declared[vec.Axis] = -1
			s, err := NewArrayScatterSink(store, d, declared, vec.AttributeNames, opts...)
			if err != nil {
				t.Fatal(err)
			}
			parts, splitErr := Split(in, len(vec.AttributeNames), vec.Indices, vec.Axis)
			writeErr := s.Write(context.Background(), in)
			if vec.Error != "" {
				if !errors.Is(splitErr, ErrUnevenSplit) || !errors.Is(writeErr, ErrUnevenSplit) {
					t.Fatalf("errors %v / %v, want %q", splitErr, writeErr, vec.Error)
				}
				if !strings.HasSuffix(vec.Error, ErrUnevenSplit.Error()) {
					t.Errorf("message %q vs numpy's %q", ErrUnevenSplit, vec.Error)
				}
				return
			}
			if splitErr != nil || writeErr != nil {
				t.Fatal(splitErr, writeErr)
			}
			if len(parts) != len(vec.AttributeNames) {
				t.Fatalf("%d parts", len(parts))
			}
			for i, name := range vec.AttributeNames {
				want := vec.Outputs[name]
				wantV := loads(t, want.Values)
				gotL, _ := parts[i].ToList()
				if !equalInts(parts[i].Shape, want.Shape) || !pyval.Equal(gotL, wantV) {
					t.Errorf("part %s = %v %s, want %v %s", name, parts[i].Shape, pyval.Repr(gotL), want.Shape, pyval.Repr(wantV))
				}
				r := value(t, store, name)
				a, ok := r.Value.(*pyval.NDArray)
				if !ok || !a.DType.Equal(d) || !equalInts(a.Shape, want.Shape) {
					t.Fatalf("attribute %s = %s", name, pyval.Repr(r.Value))
				}
				if l, _ := a.ToList(); !pyval.Equal(l, wantV) {
					t.Errorf("attribute %s = %s", name, pyval.Repr(l))
				}
				sh := value(t, store, name+"_shape").Value.(*pyval.NDArray)
				if got, _ := sh.Int64s(); len(got) != len(want.Shape) || int(got[vec.Axis]) != want.Shape[vec.Axis] {
					t.Errorf("shape attribute %v, want %v", got, want.Shape)
				}
			}
		})
	}
	if n == 0 {
		t.Fatal("no array_scatter vectors")
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

type objectVector struct {
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	Attribute struct {
		Name   string  `json:"attribute_name"`
		Filter *string `json:"filter"`
		Path   string  `json:"path"`
	} `json:"attribute"`
	Input   json.RawMessage `json:"input"`
	Updated bool            `json:"updated"`
	Value   json.RawMessage `json:"value"`
}

// The object_scatter vectors through the sink, with an object-dtype
// attribute (no coercion) holding a sentinel default.
func TestObjectScatterVectors(t *testing.T) {
	n := 0
	sentinel := pyval.Str("untouched")
	for _, vec := range vectors.JSONL[objectVector](t, "connector", "scatter_inferred.jsonl") {
		if vec.Kind != "object_scatter" {
			continue
		}
		n++
		t.Run(vec.Name, func(t *testing.T) {
			store := attribute.NewStore()
			attr := ObjectAttribute{Name: vec.Attribute.Name, DType: dt(t, "O"), Path: vec.Attribute.Path, Default: sentinel}
			if vec.Attribute.Filter != nil {
				attr.Filter = *vec.Attribute.Filter
			}
			s, err := NewObjectScatterSink(store, []ObjectAttribute{attr})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Write(context.Background(), loads(t, vec.Input)); err != nil {
				t.Fatal(err)
			}
			got := value(t, store, vec.Attribute.Name).Value
			want := pyval.Value(sentinel)
			if vec.Updated {
				want = loads(t, vec.Value)
			}
			if !pyval.Equal(got, want) {
				t.Errorf("attribute = %s, want %s", pyval.Repr(got), pyval.Repr(want))
			}
		})
	}
	if n == 0 {
		t.Fatal("no object_scatter vectors")
	}
}

// Coercion of path results to the attribute's dtype and maximum shape.
func TestObjectScatterCoercion(t *testing.T) {
	in := pyval.StrDict(
		"antenna_name", pyval.Str("SKA001"),
		"offsets", pyval.List{pyval.Float(9), pyval.Float(3.5), pyval.Float(2.8)},
		"n", pyval.IntOf(7),
		"grid", pyval.List{pyval.List{pyval.IntOf(1), pyval.IntOf(2)}, pyval.List{pyval.IntOf(3), pyval.IntOf(4)}},
		"nested", pyval.StrDict("k", pyval.IntOf(1)),
	)
	cases := []struct {
		name  string
		attr  ObjectAttribute
		want  pyval.Value
		isErr bool
	}{
		{"float scalar from int", ObjectAttribute{DType: pyval.Float64, Path: "n"}, pyval.Float(7), false},
		{"int scalar", ObjectAttribute{DType: pyval.Int32, Path: "n"}, pyval.IntOf(7), false},
		{"str", ObjectAttribute{DType: dt(t, "U"), Path: "antenna_name"}, pyval.Str("SKA001"), false},
		{"str of a number", ObjectAttribute{DType: dt(t, "U"), Path: "n"}, pyval.Str("7.0"), false},
		{"spectrum within max", ObjectAttribute{DType: pyval.Float64, Shape: []int{5}, Path: "offsets"}, pyval.ArrayOf([]float64{9, 3.5, 2.8}), false},
		{"spectrum beyond max", ObjectAttribute{DType: pyval.Float64, Shape: []int{2}, Path: "offsets"}, nil, true},
		{"image", ObjectAttribute{DType: pyval.Int64, Shape: []int{2, 2}, Path: "grid"}, pyval.ArrayOf([]int64{1, 2, 3, 4}, 2, 2), false},
		{"spectrum of str", ObjectAttribute{DType: dt(t, "U"), Shape: []int{2}, Path: "[antenna_name, antenna_name]"}, pyval.StringArray([]string{"SKA001", "SKA001"}), false},
		{"null result", ObjectAttribute{DType: pyval.Float64, Path: "missing"}, pyval.None, false},
		{"dict to float", ObjectAttribute{DType: pyval.Float64, Path: "nested"}, nil, true},
		{"list to scalar", ObjectAttribute{DType: pyval.Float64, Path: "offsets"}, nil, true},
		{"filter false keeps default", ObjectAttribute{DType: pyval.Float64, Path: "n", Filter: "antenna_name == 'X'", Default: pyval.Float(-1)}, pyval.Float(-1), false},
		{"filter on 0 is true", ObjectAttribute{DType: pyval.Float64, Path: "n", Filter: "`0`"}, pyval.Float(7), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			store := attribute.NewStore()
			tc.attr.Name = "a"
			s, err := NewObjectScatterSink(store, []ObjectAttribute{tc.attr, {Name: "other", DType: pyval.Int64, Path: "n"}})
			if err != nil {
				t.Fatal(err)
			}
			err = s.Write(context.Background(), in)
			if pyval.Repr(value(t, store, "other").Value) != "7" {
				t.Error("the other attribute was not set")
			}
			if tc.isErr {
				if err == nil {
					t.Fatalf("no error; attribute %s", pyval.Repr(value(t, store, "a").Value))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := value(t, store, "a").Value
			if pyval.Repr(got) != pyval.Repr(tc.want) {
				t.Errorf("attribute = %s, want %s", pyval.Repr(got), pyval.Repr(tc.want))
			}
		})
	}
}

func TestLocalAttributeSink(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name   string
		dtype  pyval.DType
		shape  []int
		def    pyval.Value
		write  pyval.Value
		want   pyval.Value
		wrErr  bool
		newErr bool
	}{
		{"double", pyval.Float64, nil, pyval.Float(0), pyval.IntOf(3), pyval.Float(3), false, false},
		{"float32 rounds", pyval.Float32, nil, nil, pyval.Float(0.1), pyval.Float(float64(float32(0.1))), false, false},
		{"devencoded", dt(t, "S"), nil, nil, pyval.Tuple{pyval.Str("msgpack_numpy"), pyval.Bytes{0x93}}, pyval.Tuple{pyval.Str("msgpack_numpy"), pyval.Bytes{0x93}}, false, false},
		{"devencoded from bytes encoding", dt(t, "S"), nil, nil, pyval.List{pyval.Bytes("npy"), pyval.Bytes{1}}, pyval.Tuple{pyval.Str("npy"), pyval.Bytes{1}}, false, false},
		{"devencoded not a pair", dt(t, "S"), nil, nil, pyval.Bytes{1}, nil, true, false},
		{"devencoded spectrum refused", dt(t, "S"), []int{2}, nil, nil, nil, false, true},
		{"buffered spectrum", pyval.Float64, []int{-1}, pyval.Str(""), pyval.ArrayOf([]float64{1, 2, 3}), pyval.ArrayOf([]float64{1, 2, 3}), false, false},
		{"buffered image of records", pyval.Int16, []int{-1, 2}, nil, pyval.ArrayOf([]int16{1, 2, 3, 4}, 2, 2), pyval.ArrayOf([]int16{1, 2, 3, 4}, 2, 2), false, false},
		{"wrong rank", pyval.Float64, []int{3}, nil, pyval.Float(1), nil, true, false},
		{"str", dt(t, "U"), nil, pyval.Str(""), pyval.Str("hello"), pyval.Str("hello"), false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			store := attribute.NewStore()
			s, err := NewLocalAttributeSink(store, "attr", tc.dtype, tc.shape, tc.def)
			if tc.newErr {
				if !errors.Is(err, ErrConfig) {
					t.Fatalf("New = %v, want ErrConfig", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Attributes(); len(got) != 1 || got[0] != "attr" {
				t.Errorf("Attributes %v", got)
			}
			if err := s.Start(ctx); err != nil {
				t.Fatal(err)
			}
			err = s.Write(ctx, tc.write)
			if tc.wrErr {
				if err == nil {
					t.Fatal("Write succeeded")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := value(t, store, "attr")
			if pyval.Repr(got.Value) != pyval.Repr(tc.want) || got.Quality != attribute.Valid {
				t.Errorf("attribute %s %v, want %s", pyval.Repr(got.Value), got.Quality, pyval.Repr(tc.want))
			}
			if err := s.Stop(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestSinkConfigErrors(t *testing.T) {
	f8 := pyval.Float64
	cases := []struct {
		name string
		make func(*attribute.Store) error
	}{
		{"scatter without names", func(s *attribute.Store) error {
			_, err := NewArrayScatterSink(s, f8, []int{4}, nil)
			return err
		}},
		{"scatter indices count", func(s *attribute.Store) error {
			_, err := NewArrayScatterSink(s, f8, []int{4}, []string{"a", "b"}, WithIndices([]int{1, 2}))
			return err
		}},
		{"scatter shape names count", func(s *attribute.Store) error {
			_, err := NewArrayScatterSink(s, f8, []int{4}, []string{"a", "b"}, WithShapeNames([]string{"x"}))
			return err
		}},
		{"scatter scalar", func(s *attribute.Store) error {
			_, err := NewArrayScatterSink(s, f8, nil, []string{"a"})
			return err
		}},
		{"scatter axis", func(s *attribute.Store) error {
			_, err := NewArrayScatterSink(s, f8, []int{4}, []string{"a"}, WithAxis(1))
			return err
		}},
		{"scatter uneven known shape", func(s *attribute.Store) error {
			_, err := NewArrayScatterSink(s, f8, []int{5}, []string{"a", "b"})
			return err
		}},
		{"scatter object dtype", func(s *attribute.Store) error {
			_, err := NewArrayScatterSink(s, pyval.DType{Kind: 'O', ByteOrder: '|', Size: 8}, []int{4}, []string{"a"})
			return err
		}},
		{"object without attributes", func(s *attribute.Store) error {
			_, err := NewObjectScatterSink(s, nil)
			return err
		}},
		{"object bad filter", func(s *attribute.Store) error {
			_, err := NewObjectScatterSink(s, []ObjectAttribute{{Name: "a", DType: f8, Filter: "[?"}})
			return err
		}},
		{"object bad path", func(s *attribute.Store) error {
			_, err := NewObjectScatterSink(s, []ObjectAttribute{{Name: "a", DType: f8, Path: "a.."}})
			return err
		}},
		{"object duplicate", func(s *attribute.Store) error {
			_, err := NewObjectScatterSink(s, []ObjectAttribute{{Name: "a", DType: f8}, {Name: "a", DType: f8}})
			return err
		}},
	}
	for _, tc := range cases {
		if err := tc.make(attribute.NewStore()); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v, want ErrConfig", tc.name, err)
		}
	}
	// A name taken with another definition.
	store := attribute.NewStore()
	if _, err := NewLocalAttributeSink(store, "x", f8, nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := NewLocalAttributeSink(store, "x", pyval.Int64, nil, nil); !errors.Is(err, attribute.ErrExists) {
		t.Errorf("conflicting definition: %v", err)
	}
	if _, err := NewLocalAttributeSink(store, "x", f8, nil, nil); err != nil {
		t.Errorf("identical definition: %v", err)
	}
}

func TestSplitSemantics(t *testing.T) {
	a := pyval.ArrayOf([]int32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 2, 3, 2)
	cases := []struct {
		name     string
		sections int
		indices  []int
		axis     int
		want     []string
	}{
		{"negative axis", 2, nil, -1, []string{"[[[0], [2], [4]], [[6], [8], [10]]]", "[[[1], [3], [5]], [[7], [9], [11]]]"}},
		{"middle axis indices", 0, []int{1}, 1, []string{"[[[0, 1]], [[6, 7]]]", "[[[2, 3], [4, 5]], [[8, 9], [10, 11]]]"}},
		{"negative and clamped indices", 0, []int{-1, 10}, 1, []string{"[[[0, 1], [2, 3]], [[6, 7], [8, 9]]]", "[[[4, 5]], [[10, 11]]]", "[[], []]"}},
		{"decreasing indices give empty part", 0, []int{2, 1}, 1, []string{"[[[0, 1], [2, 3]], [[6, 7], [8, 9]]]", "[[], []]", "[[[2, 3], [4, 5]], [[8, 9], [10, 11]]]"}},
	}
	for _, tc := range cases {
		parts, err := Split(a, tc.sections, tc.indices, tc.axis)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(parts) != len(tc.want) {
			t.Fatalf("%s: %d parts", tc.name, len(parts))
		}
		for i, p := range parts {
			l, _ := p.ToList()
			if pyval.Repr(l) != tc.want[i] {
				t.Errorf("%s: part %d = %s, want %s", tc.name, i, pyval.Repr(l), tc.want[i])
			}
		}
	}
	if _, err := Split(a, 2, nil, 3); err == nil {
		t.Error("axis out of range accepted")
	}
}

// A scatter sink fits its default to each part's fixed shape as numpy fills
// an array: a number is broadcast, a default with the part's element count
// but fewer dimensions is reshaped (example 04: [0, 0, 0] for 1×3 parts),
// anything else is left for the store to check.
func TestArrayScatterDefaultFits(t *testing.T) {
	f8 := pyval.Float64
	zeros := pyval.List{pyval.Float(0), pyval.Float(0), pyval.Float(0)}
	tests := []struct {
		name    string
		shape   []int
		names   []string
		opts    []ScatterOption
		def     pyval.Value
		want    pyval.Value // of the first part; nil: configuration fails
		wantErr bool
	}{
		{"row for 1x3 parts", []int{4, 3}, []string{"a", "b", "c", "d"}, nil, zeros, pyval.ArrayOf([]float64{0, 0, 0}, 1, 3), false},
		{"number broadcast", []int{10}, []string{"h", "m", "t"}, []ScatterOption{WithIndices([]int{2, 7})}, pyval.IntOf(7), pyval.ArrayOf([]float64{7, 7}), false},
		{"exact shape kept", []int{4}, []string{"a", "b"}, nil, pyval.List{pyval.Float(1), pyval.Float(2)}, pyval.ArrayOf([]float64{1, 2}), false},
		{"wrong size rejected", []int{4, 3}, []string{"a", "b", "c", "d"}, nil, pyval.List{pyval.Float(1), pyval.Float(2)}, nil, true},
		{"no default", []int{4}, []string{"a", "b"}, nil, nil, pyval.None, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store := attribute.NewStore()
			opts := tc.opts
			if tc.def != nil {
				opts = append(opts, WithDefault(tc.def))
			}
			_, err := NewArrayScatterSink(store, f8, tc.shape, tc.names, opts...)
			if tc.wantErr {
				if err == nil {
					t.Fatal("configuration accepted")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			s, err := store.Get(tc.names[0])
			if err != nil {
				t.Fatal(err)
			}
			if !pyval.Equal(s.Reading.Value, tc.want) {
				t.Errorf("default %s, want %s", pyval.Repr(s.Reading.Value), pyval.Repr(tc.want))
			}
		})
	}
}
