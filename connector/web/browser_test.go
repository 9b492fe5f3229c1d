package web_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/connector/web"
	"github.com/sdpkit/sdpkit/internal/testenv"
)

// UPDATE_DOCS_IMG=1 copies the screenshot to docs/img/connector-web.png.
const updateDocsImg = "UPDATE_DOCS_IMG"

// startedDemo is a device that has been configured and started, its
// exchanges run to the end, served by a test server.
func startedDemo(t *testing.T, vals demoValues) (*fakeDevice, *httptest.Server) {
	t.Helper()
	dev := newFakeDevice(demoBuild(t, vals, 0))
	h := web.NewHandler(dev, web.WithTitle("lmc-queueconnector-01"), web.WithEncodings(codecs(t)), web.WithStatsInterval(100*time.Millisecond), web.WithMaxStreamDuration(time.Second))
	srv := serve(t, h)
	ctx := context.Background()
	for _, c := range []string{"Configure", "Start"} {
		if err := dev.Command(ctx, c, "{}"); err != nil {
			t.Fatal(err)
		}
	}
	waitDone(t, dev)
	return dev, srv
}

// TestBrowserShowsExchangedData loads the page in headless Chromium and
// checks that values which came through the exchanges were put in the DOM
// by the page's script.
func TestBrowserShowsExchangedData(t *testing.T) {
	b := testenv.Chromium(t)
	vals := defaultDemo()
	_, srv := startedDemo(t, vals)

	dom, err := b.DumpDOM(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(dom, `data-ready="1"`) {
		t.Fatalf("the page never received the snapshot:\n%s", dom)
	}
	if !strings.Contains(dom, `id="state" class="state" data-state="ON">ON<`) {
		t.Errorf("state not shown as ON")
	}
	lastTemp := vals.temperature[len(vals.temperature)-1]
	lastBand := vals.bandpass[len(vals.bandpass)-1]
	lastPointing := vals.pointings[len(vals.pointings)-1]
	want := map[string][]string{
		"temperature": {`class="value scalar">` + num(lastTemp) + `<`, ">DevDouble<"},
		"bandpass":    {`data-points="` + strconv.Itoa(len(lastBand)) + `"`, "max <b>" + num(slices.Max(lastBand)) + "</b>", "last <b>" + num(lastBand[len(lastBand)-1]) + "</b>"},
		"message":     {`class="value scalar str">` + vals.message[len(vals.message)-1] + `<`},
		"beam_map":    {`data-shape="` + strconv.Itoa(beamShape[0]) + "x" + strconv.Itoa(beamShape[1]) + `"`, ">IMAGE<"},
		"tracking":    {`class="value scalar bool-true">True<`},
	}
	for _, name := range []string{"pointing_table", "pointing_offsets"} {
		for _, p := range lastPointing {
			want[name] = append(want[name], "<td class=\"s\">"+p.antenna+"</td><td>"+num(p.ts)+"</td><td>"+num(p.az)+"</td><td>"+num(p.el)+"</td>")
		}
		want[name] = append(want[name], strconv.Itoa(len(lastPointing))+" records")
	}
	want["pointing_offsets"] = append(want["pointing_offsets"], `<span class="tag">npy</span>`)
	for name, parts := range want {
		card := cardHTML(dom, name)
		if card == "" {
			t.Errorf("no card for %s", name)
			continue
		}
		for _, p := range parts {
			if !strings.Contains(card, p) {
				t.Errorf("card %s lacks %s:\n%s", name, p, card)
			}
		}
	}
	for _, x := range []struct {
		name string
		n    int
	}{{"weather", len(vals.temperature)}, {"bandpass", len(vals.bandpass)}, {"pointing-offsets", len(vals.pointings)}} {
		row := `<tr data-exchange="` + x.name + `">`
		i := strings.Index(dom, row)
		if i < 0 || !strings.Contains(dom[i:], `<td class="num" data-k="out">`+strconv.Itoa(x.n)+`</td>`) {
			t.Errorf("exchange %s: no row with out = %d", x.name, x.n)
		}
	}
	if t.Failed() {
		t.Logf("DOM:\n%s", dom)
	}

}

// TestBrowserScreenshot takes a screenshot of the page while the
// exchanges stream; UPDATE_DOCS_IMG=1 copies it to
// docs/img/connector-web.png.
func TestBrowserScreenshot(t *testing.T) {
	b := testenv.Chromium(t)
	dev := newFakeDevice(demoBuild(t, liveDemo(400), 25*time.Millisecond))
	h := web.NewHandler(dev, web.WithTitle("lmc-queueconnector-01"), web.WithEncodings(codecs(t)),
		web.WithStatsInterval(100*time.Millisecond), web.WithMaxStreamDuration(300*time.Millisecond))
	srv := serve(t, h)
	ctx := context.Background()
	for _, c := range []string{"Configure", "Start"} {
		if err := dev.Command(ctx, c, "{}"); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _ = dev.Command(ctx, "Stop", "") })

	shot := filepath.Join(t.TempDir(), "connector-web.png")
	b.Budget = 8 * time.Second
	b.WindowSize = "1280,1400"
	if err := b.Screenshot(srv.URL+"/", shot); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(shot)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("%s is not a PNG", shot)
	}
	if os.Getenv(updateDocsImg) == "1" {
		if err := os.WriteFile(filepath.Join("..", "..", "docs", "img", "connector-web.png"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// num formats a float as the page does for these (short, exact) values.
func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// cardHTML returns the part of dom holding the attribute card of name.
func cardHTML(dom, name string) string {
	i := strings.Index(dom, `data-attr="`+name+`"`)
	if i < 0 {
		return ""
	}
	rest := dom[i+1:]
	if j := strings.Index(rest, `data-attr="`); j >= 0 {
		rest = rest[:j]
	}
	return rest
}
