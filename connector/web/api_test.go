package web_test

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sdpkit/sdpkit/connector/attribute"
	"github.com/sdpkit/sdpkit/connector/web"
	"github.com/sdpkit/sdpkit/pyval"
)

type apiAttr struct {
	Name      string          `json:"name"`
	DType     json.RawMessage `json:"dtype"`
	DTypeName string          `json:"dtype_name"`
	Shape     []int           `json:"shape"`
	Format    string          `json:"format"`
	MaxDimX   int             `json:"max_dim_x"`
	TangoType string          `json:"tango_type"`
	Access    string          `json:"access"`
	Quality   string          `json:"quality"`
	Time      string          `json:"time"`
	Seq       uint64          `json:"seq"`
	Value     json.RawMessage `json:"value"`
}

type apiArray[T any] struct {
	DType json.RawMessage `json:"dtype"`
	Shape []int           `json:"shape"`
	Data  T               `json:"data"`
}

type apiRecord struct {
	Antenna string  `json:"antenna"`
	TS      float64 `json:"ts"`
	Az      float64 `json:"az"`
	El      float64 `json:"el"`
}

func get(t *testing.T, url string) (int, http.Header, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

func post(t *testing.T, url, body string) (int, []byte) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%v in %s", err, b)
	}
	return v
}

func recordsOf(ps []pointing) []apiRecord {
	var out []apiRecord
	for _, p := range ps {
		out = append(out, apiRecord{p.antenna, p.ts, p.az, p.el})
	}
	return out
}

// TestAPIValuesFromExchanges reads, over the API, the attributes that the
// demo's exchanges wrote, and compares them with what went in.
func TestAPIValuesFromExchanges(t *testing.T) {
	vals := defaultDemo()
	_, srv := startedDemo(t, vals)
	lastBand := vals.bandpass[len(vals.bandpass)-1]
	lastPointing := recordsOf(vals.pointings[len(vals.pointings)-1])

	tests := []struct {
		name      string
		tango     string
		format    string
		checkJSON func(t *testing.T, a apiAttr)
	}{
		{"temperature", "DevDouble", "SCALAR", func(t *testing.T, a apiAttr) {
			if got := decode[float64](t, a.Value); got != vals.temperature[len(vals.temperature)-1] {
				t.Errorf("value %v, want the last one sent", got)
			}
		}},
		{"bandpass", "DevDouble", "SPECTRUM", func(t *testing.T, a apiAttr) {
			arr := decode[apiArray[[]float64]](t, a.Value)
			if string(arr.DType) != `"<f8"` || len(arr.Shape) != 1 || arr.Shape[0] != len(lastBand) {
				t.Errorf("dtype %s shape %v", arr.DType, arr.Shape)
			}
			for i := range lastBand {
				if arr.Data[i] != lastBand[i] {
					t.Fatalf("data[%d] = %v, want %v", i, arr.Data[i], lastBand[i])
				}
			}
			if a.MaxDimX != len(lastBand) {
				t.Errorf("max_dim_x %d", a.MaxDimX)
			}
		}},
		{"pointing_table", "", "SPECTRUM", func(t *testing.T, a apiAttr) {
			arr := decode[apiArray[[]apiRecord]](t, a.Value)
			if !equalRecords(arr.Data, lastPointing) {
				t.Errorf("records %+v, want %+v", arr.Data, lastPointing)
			}
			descr := decode[[][]string](t, a.DType)
			if len(descr) != 4 || descr[0][0] != "antenna" || descr[0][1] != "<U8" {
				t.Errorf("dtype %s", a.DType)
			}
		}},
		{"pointing_offsets", "DevEncoded", "SCALAR", func(t *testing.T, a apiAttr) {
			enc := decode[struct {
				Encoding string                `json:"encoding"`
				Base64   []byte                `json:"base64"` // encoding/json decodes base64 into []byte
				Size     int                   `json:"size"`
				Preview  apiArray[[]apiRecord] `json:"preview"`
			}](t, a.Value)
			if enc.Encoding != "npy" || enc.Size != len(enc.Base64) || enc.Size == 0 {
				t.Errorf("encoding %q size %d (%d bytes)", enc.Encoding, enc.Size, len(enc.Base64))
			}
			if !equalRecords(enc.Preview.Data, lastPointing) {
				t.Errorf("preview %+v, want %+v", enc.Preview.Data, lastPointing)
			}
			if string(a.DType) != `"bytes"` {
				t.Errorf("dtype %s", a.DType)
			}
		}},
		{"message", "DevString", "SCALAR", func(t *testing.T, a apiAttr) {
			if got := decode[string](t, a.Value); got != vals.message[len(vals.message)-1] {
				t.Errorf("value %q", got)
			}
		}},
		{"beam_map", "DevFloat", "IMAGE", func(t *testing.T, a apiAttr) {
			arr := decode[apiArray[[][]float32]](t, a.Value)
			want := vals.beam[len(vals.beam)-1]
			if len(arr.Data) != beamShape[0] || len(arr.Data[0]) != beamShape[1] {
				t.Fatalf("shape %v", arr.Shape)
			}
			for y, row := range arr.Data {
				for x, v := range row {
					if v != want[y*beamShape[1]+x] {
						t.Fatalf("[%d][%d] = %v, want %v", y, x, v, want[y*beamShape[1]+x])
					}
				}
			}
		}},
		{"tracking", "DevBoolean", "SCALAR", func(t *testing.T, a apiAttr) {
			if got := decode[bool](t, a.Value); got != vals.tracking[len(vals.tracking)-1] {
				t.Errorf("value %v", got)
			}
		}},
	}
	code, _, body := get(t, srv.URL+"/api/attributes")
	if code != http.StatusOK {
		t.Fatalf("GET /api/attributes: %d %s", code, body)
	}
	all := decode[[]apiAttr](t, body)
	if len(all) != len(tests) {
		t.Fatalf("%d attributes, want %d", len(all), len(tests))
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, hdr, body := get(t, srv.URL+"/api/attributes/"+tc.name)
			if code != http.StatusOK || hdr.Get("Content-Type") != "application/json" {
				t.Fatalf("%d %s: %s", code, hdr.Get("Content-Type"), body)
			}
			a := decode[apiAttr](t, body)
			if a.Name != tc.name || all[i].Name != tc.name {
				t.Fatalf("name %q, in the list %q", a.Name, all[i].Name)
			}
			if a.TangoType != tc.tango || a.Format != tc.format || a.Quality != "ATTR_VALID" || a.Access != "READ" {
				t.Errorf("tango %q format %q quality %q access %q", a.TangoType, a.Format, a.Quality, a.Access)
			}
			if a.Time == "" || a.Seq == 0 {
				t.Errorf("time %q seq %d", a.Time, a.Seq)
			}
			tc.checkJSON(t, a)
		})
	}
}

func equalRecords(a, b []apiRecord) bool {
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

// TestAPIEndpoints covers the status codes and answers of every endpoint
// and the command state machine's errors.
func TestAPIEndpoints(t *testing.T) {
	dev := newFakeDevice(demoBuild(t, defaultDemo(), 0))
	h := web.NewHandler(dev, web.WithTitle("qc <test>"))
	srv := serve(t, h)

	steps := []struct {
		name     string
		method   string
		path     string
		body     string
		code     int
		contains []string
		state    string // the device state afterwards
	}{
		{"page", "GET", "/", "", 200, []string{"<title>qc &lt;test&gt;</title>", `src="static/app.js"`}, "STANDBY"},
		{"script", "GET", "/static/app.js", "", 200, []string{"EventSource"}, "STANDBY"},
		{"style", "GET", "/static/style.css", "", 200, []string{"data-state"}, "STANDBY"},
		{"no such page", "GET", "/nope", "", 404, nil, "STANDBY"},
		{"state", "GET", "/api/state", "", 200, []string{`"state":"STANDBY"`, `"status":"not configured"`}, "STANDBY"},
		{"no attributes yet", "GET", "/api/attributes", "", 200, []string{"[]"}, "STANDBY"},
		{"no exchanges yet", "GET", "/api/exchanges", "", 200, []string{"[]"}, "STANDBY"},
		{"unknown attribute", "GET", "/api/attributes/nope", "", 404, []string{`"error":"attribute: not found: \"nope\""`}, "STANDBY"},
		{"start not allowed", "POST", "/api/commands/Start", "", 409, []string{`"ok":false`, "not allowed", `"state":"STANDBY"`}, "STANDBY"},
		{"bad configuration", "POST", "/api/commands/Configure", "{nope", 400, []string{`"command":"Configure"`, "not JSON"}, "STANDBY"},
		{"unknown command", "POST", "/api/commands/Explode", "", 404, []string{"unknown command"}, "STANDBY"},
		{"commands need POST", "GET", "/api/commands/Start", "", 405, nil, "STANDBY"},
		{"configure", "POST", "/api/commands/Configure", `{"exchanges": []}`, 200, []string{`"ok":true`, `"state":"OFF"`}, "OFF"},
		{"attributes defined", "GET", "/api/attributes", "", 200, []string{`"name":"temperature"`, `"quality":"ATTR_INVALID"`, `"value":null`, `"dtype":"<f8"`}, "OFF"},
		{"exchanges listed", "GET", "/api/exchanges", "", 200, []string{`"group":"pb-test"`, `"name":"weather"`, `"state":"new"`, `"last_out":null`}, "OFF"},
		{"start", "POST", "/api/commands/Start", "", 200, []string{`"state":"ON"`}, "ON"},
		{"configure not allowed when on", "POST", "/api/commands/Configure", "{}", 409, []string{"Configure in state ON"}, "ON"},
		{"stop", "POST", "/api/commands/Stop", "", 200, []string{`"state":"OFF"`}, "OFF"},
		{"exchanges counted", "GET", "/api/exchanges", "", 200, []string{`"name":"weather","state":"stopped","in":3,"processed":3,"out":3`}, "OFF"},
		{"standby", "POST", "/api/commands/Standby", "", 200, []string{`"state":"STANDBY"`}, "STANDBY"},
	}
	for _, st := range steps {
		var code int
		var body []byte
		if st.method == "POST" {
			code, body = post(t, srv.URL+st.path, st.body)
		} else {
			code, _, body = get(t, srv.URL+st.path)
		}
		if code != st.code {
			t.Errorf("%s: %s %s: status %d, want %d: %s", st.name, st.method, st.path, code, st.code, body)
		}
		for _, want := range st.contains {
			if !strings.Contains(string(body), want) {
				t.Errorf("%s: answer lacks %s: %s", st.name, want, body)
			}
		}
		if got := dev.State(); got != st.state {
			t.Errorf("%s: device state %s, want %s", st.name, got, st.state)
		}
	}
}

// TestAPICrossOriginCommand: a browser form on another site cannot run
// commands (CSRF); GETs stay open.
func TestAPICrossOriginCommand(t *testing.T) {
	dev := newFakeDevice(demoBuild(t, defaultDemo(), 0))
	h := web.NewHandler(dev)
	defer h.Close()
	req := httptest.NewRequest("POST", "/api/commands/Configure", strings.NewReader("{}"))
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden || dev.State() != "STANDBY" {
		t.Errorf("cross-site POST: %d, state %s", rec.Code, dev.State())
	}
	req = httptest.NewRequest("GET", "/api/state", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Errorf("cross-site GET: %d", rec.Code)
	}
}

// TestAPISpecialValues: NaN and the infinities, None with quality, complex,
// images and big arrays as the package documentation says.
func TestAPISpecialValues(t *testing.T) {
	dev := newFakeDevice(nil)
	store := dev.Attributes()
	define := func(name string, dt pyval.DType, shape []int) {
		if err := store.Define(attribute.Spec{Name: name, DType: dt, Shape: shape}); err != nil {
			t.Fatal(err)
		}
	}
	define("nan", pyval.Float64, nil)
	define("spectrum", pyval.Float32, []int{-1})
	define("image", pyval.Int16, []int{2, 3})
	define("big", pyval.Uint8, []int{-1})
	define("unset", pyval.Float64, nil)
	define("alarm", pyval.Int64, nil)
	set := func(name string, v pyval.Value, opts ...attribute.SetOption) {
		if err := store.Set(name, v, opts...); err != nil {
			t.Fatal(err)
		}
	}
	set("nan", pyval.Float(math.NaN()))
	set("spectrum", pyval.ArrayOf([]float32{0.1, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}, 4))
	set("image", pyval.ArrayOf([]int16{1, -2, 3, 4, 5, -32768}, 2, 3))
	set("big", pyval.ArrayOf(make([]uint8, 100), 100))
	set("alarm", pyval.IntOf(7), attribute.WithQuality(attribute.Alarm))

	h := web.NewHandler(dev, web.WithMaxElements(50))
	defer h.Close()
	tests := []struct {
		name    string
		value   string
		quality string
		format  string
	}{
		{"nan", `"NaN"`, "ATTR_VALID", "SCALAR"},
		{"spectrum", `{"dtype":"<f4","shape":[4],"data":[0.1,"Infinity","-Infinity","NaN"]}`, "ATTR_VALID", "SPECTRUM"},
		{"image", `{"dtype":"<i2","shape":[2,3],"data":[[1,-2,3],[4,5,-32768]]}`, "ATTR_VALID", "IMAGE"},
		{"big", `{"dtype":"|u1","shape":[100],"data":null,"truncated":true}`, "ATTR_VALID", "SPECTRUM"},
		{"unset", `null`, "ATTR_INVALID", "SCALAR"},
		{"alarm", `7`, "ATTR_ALARM", "SCALAR"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/attributes/"+tc.name, nil))
			if rec.Code != 200 {
				t.Fatalf("%d %s", rec.Code, rec.Body)
			}
			a := decode[apiAttr](t, rec.Body.Bytes())
			if string(a.Value) != tc.value || a.Quality != tc.quality || a.Format != tc.format {
				t.Errorf("value %s quality %s format %s, want %s %s %s", a.Value, a.Quality, a.Format, tc.value, tc.quality, tc.format)
			}
		})
	}
}

func TestCommandStatus(t *testing.T) {
	var syn error
	if err := json.Unmarshal([]byte("{"), new(any)); err != nil {
		syn = err
	}
	tests := []struct {
		err  error
		code int
	}{
		{nil, 200},
		{web.ErrNotAllowed, 409},
		{wrap(web.ErrNotAllowed), 409},
		{wrap(web.ErrBadArgument), 400},
		{syn, 400},
		{wrap(web.ErrUnknownCommand), 404},
		{context.DeadlineExceeded, 503},
		{io.ErrUnexpectedEOF, 500},
	}
	for _, tc := range tests {
		if got := web.CommandStatus(tc.err); got != tc.code {
			t.Errorf("CommandStatus(%v) = %d, want %d", tc.err, got, tc.code)
		}
	}
}

func wrap(err error) error { return &wrapped{err} }

type wrapped struct{ err error }

func (w *wrapped) Error() string { return "device: " + w.err.Error() }
func (w *wrapped) Unwrap() error { return w.err }
