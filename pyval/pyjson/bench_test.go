package pyjson

import (
	"testing"

	"github.com/sdpkit/sdpkit/pyval"
)

// benchPB is a processing block as ska-sdp-config stores it.
func benchPB(b *testing.B) (pyval.Value, []byte) {
	b.Helper()
	const pb = `{"pb_id": "pb-mvp01-20200425-00000", "sbi_id": "sbi-mvp01-20200425-00000",
	"workflow": {"type": "realtime", "id": "vis_receive", "version": "0.3.2"},
	"parameters": {"channels_per_stream": 6912, "scan_time": 21600.0, "frequency": 1.4e9,
	  "fields": {"0": {"ra": 2.7114, "dec": -0.3768, "name": "J1939-6342"}},
	  "spectral_windows": [{"count": 13824, "start": 0, "freq_min": 0.35e9, "freq_max": 1.05e9, "stride": 2}],
	  "beams": ["vis0", "pss1", "pst1"], "enabled": true, "notes": "first light — été"},
	"dependencies": [{"pb_id": "pb-mvp01-20200425-00001", "type": ["calibration"]}],
	"eb_id": null}`
	v, err := Unmarshal([]byte(pb))
	if err != nil {
		b.Fatal(err)
	}
	c, err := Canonical(v)
	if err != nil {
		b.Fatal(err)
	}
	return v, c
}

func BenchmarkCanonical(b *testing.B) {
	v, c := benchPB(b)
	b.SetBytes(int64(len(c)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Canonical(v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshal(b *testing.B) {
	_, c := benchPB(b)
	b.SetBytes(int64(len(c)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Unmarshal(c); err != nil {
			b.Fatal(err)
		}
	}
}
