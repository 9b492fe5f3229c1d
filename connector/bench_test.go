package connector

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// BenchmarkApply measures one reconfiguration of a running device: stop
// (drain) the running exchanges, build the new configuration, start it.
func BenchmarkApply(b *testing.B) {
	ctx := context.Background()
	d := NewDevice(quiet())
	defer d.Shutdown(ctx)
	cfgs := [][]byte{[]byte(goodConfig), []byte(`{"exchanges": [` + endlessExchange + `,` + endlessExchange + `]}`)}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := d.Apply(ctx, cfgs[i%2]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCollect measures a metrics scrape of a device running 100
// exchanges.
func BenchmarkCollect(b *testing.B) {
	ctx := context.Background()
	d := NewDevice(quiet())
	defer d.Shutdown(ctx)
	xs := make([]string, 100)
	for i := range xs {
		xs[i] = endlessExchange
	}
	if err := d.Apply(ctx, []byte(`{"exchanges": [`+strings.Join(xs, ",")+`]}`)); err != nil {
		b.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	if err := RegisterMetrics(reg, d); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		mfs, err := reg.Gather()
		if err != nil || len(mfs) != 6 {
			b.Fatal(err, len(mfs))
		}
	}
	b.ReportMetric(float64(len(d.Exchanges())), "exchanges")
}
