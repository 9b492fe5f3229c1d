package connector

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metric names exported by the collector.
const (
	MetricIn        = "sdp_connector_exchange_in_total"
	MetricProcessed = "sdp_connector_exchange_processed_total"
	MetricOut       = "sdp_connector_exchange_out_total"
	MetricErrors    = "sdp_connector_exchange_errors_total"
	MetricLag       = "sdp_connector_exchange_lag"
	MetricState     = "sdp_connector_device_state"
)

var (
	exLabels   = []string{"group", "exchange"}
	descIn     = prometheus.NewDesc(MetricIn, "Values accepted from the exchange's sources.", exLabels, nil)
	descProc   = prometheus.NewDesc(MetricProcessed, "Values the exchange's pipe has taken.", exLabels, nil)
	descOut    = prometheus.NewDesc(MetricOut, "Values written to the exchange's sink.", exLabels, nil)
	descErrors = prometheus.NewDesc(MetricErrors, "Failures of the exchange's sources, pipe or sink.", exLabels, nil)
	descLag    = prometheus.NewDesc(MetricLag, "Values accepted but not yet taken by the pipe.", exLabels, nil)
	descState  = prometheus.NewDesc(MetricState, "1 for the device's current state, 0 for the others.", []string{"state"}, nil)
)

type collector struct{ d *Device }

// NewCollector returns a Prometheus collector of the device: per exchange
// (labels group and exchange, the exchange's JSON path) the in, processed,
// out and error counters and the lag, and the device state as a gauge per
// state label (1 for the current one). Everything is read from snapshots at
// scrape time. The counters belong to the exchanges of the current
// configuration, so they restart from 0 when the device is reconfigured
// or restarted (Prometheus' rate functions treat that as a counter reset).
func NewCollector(d *Device) prometheus.Collector { return collector{d} }

// RegisterMetrics registers the device's collector with reg.
func RegisterMetrics(reg prometheus.Registerer, d *Device) error {
	return reg.Register(NewCollector(d))
}

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descIn, descProc, descOut, descErrors, descLag, descState} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	for _, x := range c.d.Exchanges() {
		lv := []string{x.Group, x.Name}
		ch <- prometheus.MustNewConstMetric(descIn, prometheus.CounterValue, float64(x.Stats.In), lv...)
		ch <- prometheus.MustNewConstMetric(descProc, prometheus.CounterValue, float64(x.Stats.Processed), lv...)
		ch <- prometheus.MustNewConstMetric(descOut, prometheus.CounterValue, float64(x.Stats.Out), lv...)
		ch <- prometheus.MustNewConstMetric(descErrors, prometheus.CounterValue, float64(x.Stats.Errors), lv...)
		ch <- prometheus.MustNewConstMetric(descLag, prometheus.GaugeValue, float64(x.Stats.Lag), lv...)
	}
	cur := c.d.State()
	for _, s := range States() {
		v := 0.0
		if s == cur {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(descState, prometheus.GaugeValue, v, s.String())
	}
}
