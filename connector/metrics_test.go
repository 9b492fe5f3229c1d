package connector

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// A scrape of /metrics shows each exchange's counters, read at scrape time,
// and the device state as one gauge per state.
func TestMetricsScrape(t *testing.T) {
	ctx := context.Background()
	d := newTestDevice(t)
	reg := prometheus.NewPedanticRegistry()
	if err := RegisterMetrics(reg, d); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	scrape := func() string {
		t.Helper()
		resp, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("scrape: %v, %s", err, resp.Status)
		}
		return string(b)
	}
	body := scrape()
	for _, want := range []string{`sdp_connector_device_state{state="STANDBY"} 1`, `sdp_connector_device_state{state="ON"} 0`} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape lacks %q:\n%s", want, body)
		}
	}
	if err := d.Configure(ctx, `{"exchanges": [{"dtype": "int64", "source": {"type": "InMemorySource", "data": [1, 2, 3, 4, 5]}, "sink": {"type": "InMemorySink", "key": "q"}}]}`); err != nil {
		t.Fatal(err)
	}
	if err := d.Start(ctx, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the source to end", func() bool { return allDone(d) })
	body = scrape()
	labels := `{exchange="exchanges[0]",group="default"}`
	for _, want := range []string{
		`sdp_connector_device_state{state="ON"} 1`,
		`sdp_connector_device_state{state="STANDBY"} 0`,
		fmt.Sprintf("sdp_connector_exchange_in_total%s 5", labels),
		fmt.Sprintf("sdp_connector_exchange_processed_total%s 5", labels),
		fmt.Sprintf("sdp_connector_exchange_out_total%s 5", labels),
		fmt.Sprintf("sdp_connector_exchange_errors_total%s 0", labels),
		fmt.Sprintf("sdp_connector_exchange_lag%s 0", labels),
	} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape lacks %q:\n%s", want, body)
		}
	}
}
