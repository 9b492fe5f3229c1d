//go:build tango

package tango

import (
	"bytes"
	"errors"
	"testing"

	"github.com/sdpkit/sdpkit/connector/attribute"
	"github.com/sdpkit/sdpkit/pyval"
)

// TestWireRoundTrip converts every case to the shim's layout and back.
func TestWireRoundTrip(t *testing.T) {
	for _, c := range cases(7) {
		t.Run(c.name(), func(t *testing.T) {
			w, err := toWire(c.typ, c.f, c.v)
			if err != nil {
				t.Fatal(err)
			}
			v, err := fromWire(c.typ, c.f, w)
			if err != nil {
				t.Fatal(err)
			}
			if !pyval.Equal(v, c.v) {
				t.Errorf("round trip %s, want %s", pyval.Repr(v), pyval.Repr(c.v))
			}
		})
	}
}

// TestToWireConversions checks the accepted alternatives and the refusals.
func TestToWireConversions(t *testing.T) {
	S, P, I := attribute.Scalar, attribute.Spectrum, attribute.Image
	tests := []struct {
		name string
		typ  Type
		f    attribute.Format
		in   pyval.Value
		want pyval.Value // nil: expect ErrType
	}{
		{"int array to DevShort", DevShort, P, pyval.ArrayOf([]int64{1, -2}), pyval.ArrayOf([]int16{1, -2})},
		{"float64 array to DevFloat", DevFloat, P, pyval.ArrayOf([]float64{0.5}), pyval.ArrayOf([]float32{0.5})},
		{"bool array to DevUChar", DevUChar, P, pyval.ArrayOf([]bool{true, false}), pyval.ArrayOf([]uint8{1, 0})},
		{"numpy scalar", DevLong, S, pyval.ScalarOf(int32(-5)), pyval.IntOf(-5)},
		{"one-element array", DevDouble, S, pyval.ArrayOf([]float64{2.5}), pyval.Float(2.5)},
		{"int to DevDouble", DevDouble, S, pyval.IntOf(3), pyval.Float(3)},
		{"list of str", DevString, P, pyval.List{pyval.Str("a"), pyval.Str("bc")}, pyval.StringArray([]string{"a", "bc"})},
		{"encoded list pair", DevEncoded, S, pyval.List{pyval.Str("utf-8"), pyval.Bytes("x")}, pyval.Tuple{pyval.Str("utf-8"), pyval.Bytes("x")}},
		{"None", DevDouble, S, pyval.None, pyval.None},
		{"float array to int", DevLong, P, pyval.ArrayOf([]float64{1.5}), nil},
		{"str to number", DevDouble, S, pyval.Str("1"), nil},
		{"1-d for image", DevDouble, I, pyval.ArrayOf([]float64{1}), nil},
		{"2-d for spectrum", DevDouble, P, pyval.ArrayOf([]float64{1, 2}, 1, 2), nil},
		{"array for scalar", DevDouble, S, pyval.ArrayOf([]float64{1, 2}), nil},
		{"encoded not a pair", DevEncoded, S, pyval.Bytes("x"), nil},
		{"encoded spectrum", DevEncoded, P, pyval.Tuple{pyval.Str("a"), pyval.Bytes("b")}, nil},
		{"unsupported type", DevState, S, pyval.IntOf(1), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, err := toWire(tc.typ, tc.f, tc.in)
			if tc.want == nil {
				if !errors.Is(err, ErrType) {
					t.Fatalf("error %v, want ErrType", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := fromWire(tc.typ, tc.f, w)
			if err != nil {
				t.Fatal(err)
			}
			if !pyval.Equal(got, tc.want) {
				t.Errorf("got %s, want %s", pyval.Repr(got), pyval.Repr(tc.want))
			}
		})
	}
}

// TestSpecFor maps connector attribute specs (B5) to Tango specs.
func TestSpecFor(t *testing.T) {
	tests := []struct {
		spec   attribute.Spec
		typ    Type
		f      attribute.Format
		mx, my int
		bad    bool
	}{
		{spec: attribute.Spec{Name: "a", DType: pyval.Float64}, typ: DevDouble, f: attribute.Scalar},
		{spec: attribute.Spec{Name: "b", DType: pyval.Uint16, Shape: []int{8}}, typ: DevUShort, f: attribute.Spectrum, mx: 8},
		{spec: attribute.Spec{Name: "c", DType: pyval.Float32, Shape: []int{3, 4}}, typ: DevFloat, f: attribute.Image, mx: 4, my: 3},
		{spec: attribute.Spec{Name: "d", DType: pyval.DType{Kind: 'S', ByteOrder: '|'}}, typ: DevEncoded, f: attribute.Scalar},
		{spec: attribute.Spec{Name: "e", DType: pyval.DType{Kind: 'U', ByteOrder: '<'}, Shape: []int{2}}, typ: DevString, f: attribute.Spectrum, mx: 2},
		{spec: attribute.Spec{Name: "f", DType: pyval.Int8}, bad: true},
		{spec: attribute.Spec{Name: "g", DType: pyval.Float64, Shape: []int{2, 2, 2}}, bad: true},
	}
	for _, tc := range tests {
		t.Run(tc.spec.Name, func(t *testing.T) {
			got, err := SpecFor(tc.spec)
			if tc.bad {
				if !errors.Is(err, ErrType) {
					t.Fatalf("error %v, want ErrType", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Type != tc.typ || got.Format != tc.f || got.MaxDimX != tc.mx || got.MaxDimY != tc.my {
				t.Errorf("got %s %s %dx%d, want %s %s %dx%d", got.Type, got.Format, got.MaxDimY, got.MaxDimX, tc.typ, tc.f, tc.my, tc.mx)
			}
		})
	}
}

// TestParseErr decodes the shim's flattened DevFailed.
func TestParseErr(t *testing.T) {
	df := parseErr("API_AttrNotFound\x1fno attribute x\x1fDeviceProxy::read\x1f1\x1eOuter\x1fouter\x1fhere\x1f2")
	if len(df.Errors) != 2 || df.Reason() != "API_AttrNotFound" || df.Errors[1].Severity != 2 || df.Errors[0].Origin != "DeviceProxy::read" {
		t.Errorf("parsed %+v", df.Errors)
	}
}

// TestScalarFastMatchesArrays checks that the scalar shortcut converts
// Python bools, ints and floats exactly as the general path (a
// one-element array through elements) does, and declines what that path
// rejects.
func TestScalarFastMatchesArrays(t *testing.T) {
	vals := []pyval.Value{pyval.Bool(true), pyval.Bool(false), pyval.IntOf(0), pyval.IntOf(-5),
		pyval.IntOf(300), pyval.IntOf(1 << 40), pyval.IntOf(-1 << 62), pyval.UintOf(1 << 63),
		pyval.Float(1.5), pyval.Float(-0.25), pyval.Str("x")}
	for _, typ := range []Type{DevBoolean, DevUChar, DevShort, DevUShort, DevLong, DevULong,
		DevLong64, DevULong64, DevFloat, DevDouble} {
		for _, v := range vals {
			a := numberArray(v)
			fast, ok := scalarFast(typ, v)
			if a == nil {
				if ok {
					t.Errorf("%s from %s: shortcut took a value the general path rejects", typ, pyval.Repr(v))
				}
				continue
			}
			want, err := elements(typ, a)
			if !ok {
				continue // declining is always safe: the general path runs
			}
			if err != nil {
				t.Errorf("%s from %s: shortcut took %x, general path fails: %v", typ, pyval.Repr(v), fast, err)
			} else if !bytes.Equal(fast, want) {
				t.Errorf("%s from %s: shortcut %x, general path %x", typ, pyval.Repr(v), fast, want)
			}
		}
	}
}
