package web_test

import (
	"encoding/json"
	"math"
	"net/http/httptest"
	"testing"

	"github.com/sdpkit/sdpkit/connector/attribute"
	"github.com/sdpkit/sdpkit/connector/web"
	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/pyval/msgpack"
	"github.com/sdpkit/sdpkit/pyval/npy"
)

func TestMarshalValue(t *testing.T) {
	big, err := pyval.ParseInt("18446744073709551615")
	if err != nil {
		t.Fatal(err)
	}
	dict, err := pyval.NewDict(
		pyval.Item{Key: pyval.Str("b"), Value: pyval.IntOf(1)},
		pyval.Item{Key: pyval.IntOf(2), Value: pyval.None},
		pyval.Item{Key: pyval.Str("a"), Value: pyval.List{pyval.Bool(true)}},
	)
	if err != nil {
		t.Fatal(err)
	}
	sub := pyval.DType{Kind: 'V', ByteOrder: '|', Size: 10, Fields: []pyval.Field{
		{Name: "id", DType: pyval.Int16},
		{Name: "", DType: pyval.DType{Kind: 'V', ByteOrder: '|', Size: 2}}, // padding
		{Name: "xy", DType: pyval.Int16, Shape: []int{2}},
		{Name: "ok", DType: pyval.Bool_},
		{Name: "", DType: pyval.DType{Kind: 'V', ByteOrder: '|', Size: 1}},
	}}
	rec, err := pyval.NewNDArray(sub, []int{1}, false, []byte{7, 0, 0xff, 0xff, 3, 0, 0xfc, 0xff, 1, 0})
	if err != nil {
		t.Fatal(err)
	}
	zeroD, err := pyval.NewNDArray(pyval.Int64, nil, false, []byte{5, 0, 0, 0, 0, 0, 0, 0})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		v    pyval.Value
		want string
	}{
		{"none", pyval.None, `null`},
		{"nil", nil, `null`},
		{"bool", pyval.Bool(false), `false`},
		{"int", pyval.IntOf(-42), `-42`},
		{"uint64 max keeps its digits", big, `18446744073709551615`},
		{"float", pyval.Float(0.1), `0.1`},
		{"float exponent", pyval.Float(1e-300), `1e-300`},
		{"nan", pyval.Float(math.NaN()), `"NaN"`},
		{"inf", pyval.Float(math.Inf(1)), `"Infinity"`},
		{"-inf", pyval.Float(math.Inf(-1)), `"-Infinity"`},
		{"complex", pyval.Complex(complex(1, -2)), `{"re":1,"im":-2}`},
		{"str escapes", pyval.Str("a\"b\\\n\x01é"), `"a\"b\\\n\u0001é"`},
		{"lone surrogate", pyval.Str("x\xed\xa0\x80"), `"x\ufffd\ufffd\ufffd"`},
		{"bytes", pyval.Bytes{0, 1, 0xff}, `{"base64":"AAH/"}`},
		{"tuple and list", pyval.Tuple{pyval.List{}, pyval.IntOf(1)}, `[[],1]`},
		{"dict in order, repr keys", dict, `{"b":1,"2":null,"a":[true]}`},
		{"float32 array shortest", pyval.ArrayOf([]float32{0.1, 1.5}, 2), `{"dtype":"<f4","shape":[2],"data":[0.1,1.5]}`},
		{"0-d array", zeroD, `{"dtype":"<i8","shape":[],"data":5}`},
		{"2-d", pyval.ArrayOf([]uint16{1, 2, 3, 4, 5, 6}, 3, 2), `{"dtype":"<u2","shape":[3,2],"data":[[1,2],[3,4],[5,6]]}`},
		{"empty", pyval.ArrayOf([]float64{}, 0), `{"dtype":"<f8","shape":[0],"data":[]}`},
		{"complex64 array", pyval.ArrayOf([]complex64{complex(0.1, 2)}, 1), `{"dtype":"<c8","shape":[1],"data":[{"re":0.1,"im":2}]}`},
		{"str array", pyval.StringArray([]string{"ab", ""}, 2), `{"dtype":"<U2","shape":[2],"data":["ab",""]}`},
		{"bool array", pyval.ArrayOf([]bool{true, false}, 2), `{"dtype":"|b1","shape":[2],"data":[true,false]}`},
		{"structured with padding and sub-array", rec, `{"dtype":[["id","<i2"],["","|V2"],["xy","<i2",[2]],["ok","|b1"],["","|V1"]],"shape":[1],"data":[{"id":7,"xy":[3,-4],"ok":true}]}`},
		{"numpy scalar", pyval.ScalarOf(float32(0.1)), `0.1`},
		{"timestamp", pyval.Timestamp{Seconds: 1, Nanoseconds: 5}, `{"timestamp":"1970-01-01T00:00:01.000000005Z"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := web.MarshalValue(tc.v, 0)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if !json.Valid(got) {
				t.Errorf("invalid JSON %s", got)
			}
		})
	}
}

func TestMarshalValueLimits(t *testing.T) {
	got, err := web.MarshalValue(pyval.ArrayOf(make([]int8, 10), 10), 9)
	if err != nil || string(got) != `{"dtype":"|i1","shape":[10],"data":null,"truncated":true}` {
		t.Errorf("truncated array: %s %v", got, err)
	}
	var deep pyval.Value = pyval.List{}
	for range 200 {
		deep = pyval.List{deep}
	}
	if _, err := web.MarshalValue(deep, 0); err == nil {
		t.Error("a 200-deep list rendered without error")
	}
}

// TestDevEncodedPreview: the preview follows the encoding; unknown
// encodings have none and undecodable payloads say why.
func TestDevEncodedPreview(t *testing.T) {
	arr := pyval.ArrayOf([]int32{1, 2, 3}, 3)
	npyBytes, err := npy.Encode(arr)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		encoding string
		payload  []byte
		check    func(t *testing.T, v map[string]json.RawMessage)
	}{
		{"utf-8", "utf-8", []byte("héllo"), func(t *testing.T, v map[string]json.RawMessage) {
			if string(v["preview"]) != `"héllo"` {
				t.Errorf("preview %s", v["preview"])
			}
		}},
		{"npy", "npy", npyBytes, func(t *testing.T, v map[string]json.RawMessage) {
			if string(v["preview"]) != `{"dtype":"<i4","shape":[3],"data":[1,2,3]}` {
				t.Errorf("preview %s", v["preview"])
			}
		}},
		{"unknown encoding", "zstd", []byte{1, 2}, func(t *testing.T, v map[string]json.RawMessage) {
			if _, ok := v["preview"]; ok {
				t.Errorf("preview for an unknown encoding")
			}
			if _, ok := v["preview_error"]; ok {
				t.Errorf("preview_error for an unknown encoding")
			}
		}},
		{"bad payload", "npy", []byte("not npy"), func(t *testing.T, v map[string]json.RawMessage) {
			if _, ok := v["preview_error"]; !ok {
				t.Errorf("no preview_error")
			}
		}},
		{"bad utf-8", "ascii", []byte{0xff}, func(t *testing.T, v map[string]json.RawMessage) {
			if _, ok := v["preview_error"]; !ok {
				t.Errorf("no preview_error")
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := devEncodedJSON(t, tc.encoding, tc.payload)
			var v map[string]json.RawMessage
			if err := json.Unmarshal(body, &v); err != nil {
				t.Fatalf("%v: %s", err, body)
			}
			var b []byte
			if err := json.Unmarshal(v["base64"], &b); err != nil || string(b) != string(tc.payload) {
				t.Errorf("base64 %s does not hold the payload", v["base64"])
			}
			if string(v["encoding"]) != `"`+tc.encoding+`"` || string(v["size"]) != itoa(len(tc.payload)) {
				t.Errorf("encoding %s size %s", v["encoding"], v["size"])
			}
			tc.check(t, v)
		})
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// devEncodedJSON serves one DevEncoded attribute holding (encoding,
// payload) and returns its "value".
func devEncodedJSON(t testing.TB, enc string, payload []byte) json.RawMessage {
	t.Helper()
	dev := newFakeDevice(nil)
	if err := dev.Attributes().Define(attribute.Spec{Name: "enc", DType: mustDType(t, "S")}); err != nil {
		t.Fatal(err)
	}
	if err := dev.Attributes().Set("enc", pyval.Tuple{pyval.Str(enc), pyval.Bytes(payload)}); err != nil {
		t.Fatal(err)
	}
	h := web.NewHandler(dev, web.WithEncodings(codecs(t)))
	defer h.Close()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/attributes/enc", nil))
	var a struct {
		Value json.RawMessage `json:"value"`
	}
	if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &a) != nil {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	return a.Value
}

// FuzzDevEncodedPreview: whatever bytes a DevEncoded attribute holds, its
// JSON is valid and holds the payload.
func FuzzDevEncodedPreview(f *testing.F) {
	npyBytes, err := npy.Encode(pyval.ArrayOf([]float64{1, math.NaN()}, 2))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(uint8(0), npyBytes)
	f.Add(uint8(1), []byte("text"))
	f.Add(uint8(2), []byte{0x80})
	encodings := []string{"npy", "utf-8", "ascii", "other"}
	f.Fuzz(func(t *testing.T, which uint8, payload []byte) {
		enc := encodings[int(which)%len(encodings)]
		v := devEncodedJSON(t, enc, payload)
		var got struct {
			Base64 []byte `json:"base64"`
		}
		if err := json.Unmarshal(v, &got); err != nil {
			t.Fatalf("invalid JSON: %v: %s", err, v)
		}
		if string(got.Base64) != string(payload) {
			t.Fatalf("payload not kept")
		}
	})
}

// FuzzMarshalValue: any value msgpack can carry renders as valid JSON or
// fails with an error, never a panic.
func FuzzMarshalValue(f *testing.F) {
	for _, v := range []pyval.Value{pyval.StrDict("a", pyval.Float(1.5), "b", pyval.List{pyval.Str("x"), pyval.None}), pyval.List{pyval.Bytes("b"), pyval.Float(math.Inf(1))}} {
		b, err := msgpack.Marshal(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := msgpack.Unmarshal(b)
		if err != nil {
			return
		}
		out, err := web.MarshalValue(v, 0)
		if err != nil {
			return // too deep: refused, not rendered wrongly
		}
		if !json.Valid(out) {
			t.Fatalf("invalid JSON %s for %s", out, pyval.Repr(v))
		}
	})
}
