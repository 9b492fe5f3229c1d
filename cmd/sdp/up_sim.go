package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/sdpkit/sdpkit/dataqueue"
	"github.com/sdpkit/sdpkit/dataqueue/schema"
	"github.com/sdpkit/sdpkit/pyval"
)

// upAntennas are the simulated dishes of the pointing table.
var upAntennas = []string{"SKA001", "SKA036", "SKA063", "SKA100"}

// simulator publishes pointing-like data: the pointing table and a
// bandpass (msgpack_numpy) and a wind speed (json), a few times a second.
type simulator struct {
	brokers []string
	rate    float64
	log     *slog.Logger
	msgpack *dataqueue.Producer
	json    *dataqueue.Producer
}

func newSimulator(brokers []string, rate float64, log *slog.Logger) (*simulator, error) {
	mp, err := dataqueue.NewProducer(brokers, dataqueue.WithEncoding("msgpack_numpy"), dataqueue.WithClientID("sdp-up-simulator"))
	if err != nil {
		return nil, fmt.Errorf("sdp up: simulator: %w", err)
	}
	js, err := dataqueue.NewProducer(brokers, dataqueue.WithEncoding("json"), dataqueue.WithTopic(upTopicWind), dataqueue.WithClientID("sdp-up-simulator"))
	if err != nil {
		mp.Close(context.Background())
		return nil, fmt.Errorf("sdp up: simulator: %w", err)
	}
	return &simulator{brokers: brokers, rate: rate, log: log, msgpack: mp, json: js}, nil
}

func (s *simulator) close() {
	s.msgpack.Close(context.Background())
	s.json.Close(context.Background())
}

// run publishes until ctx ends. A failed send is retried at the next tick
// (a broker restarting), so run only returns ctx's end.
func (s *simulator) run(ctx context.Context) error {
	tick := time.NewTicker(time.Duration(float64(time.Second) / s.rate))
	defer tick.Stop()
	var lastErr error
	for n := 0; ; n++ {
		t := float64(time.Now().UnixNano()) / 1e9
		err := errors.Join(
			send(ctx, s.msgpack, pointingTable(n, t), upTopicPointing),
			send(ctx, s.msgpack, bandpass(t), upTopicBandpass),
			send(ctx, s.json, pyval.Float(windSpeed(t)), ""),
		)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil && (lastErr == nil || err.Error() != lastErr.Error()) {
			s.log.Warn("simulator: sending failed; retrying", "err", err) // once per distinct error
		}
		lastErr = err
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

func send(ctx context.Context, p *dataqueue.Producer, v pyval.Value, topic string) error {
	var opts []dataqueue.SendOption
	if topic != "" {
		opts = append(opts, dataqueue.WithTopic(topic))
	}
	_, err := p.Send(ctx, v, opts...)
	return err
}

// pointingTable is one structured pointing record (schema.PointingDType)
// per antenna: offsets that wander slowly, widths near the beam's, and
// last_scan_index counting the updates.
func pointingTable(n int, t float64) *pyval.NDArray {
	dt := schema.PointingDType()
	size := dt.ItemSize()
	data := make([]byte, len(upAntennas)*size)
	for i, ant := range upAntennas {
		rec := data[i*size : (i+1)*size]
		for j, r := range ant { // '<U8': UTF-32LE, NUL padded
			binary.LittleEndian.PutUint32(rec[4*j:], uint32(r))
		}
		ph := t/7 + float64(i)*1.3
		vals := []float64{
			float64(n),                              // last_scan_index
			12 * math.Sin(ph), 0.8 + 0.1*float64(i), // xel_offset, _std (arcsec)
			-9 * math.Cos(ph*0.8), 0.7, // el_offset, _std
			1.2, 1.2, // expected_width_h, _v (deg)
			1.2 + 0.02*math.Sin(ph*2), 0.01, // fitted_width_h, _std
			1.19 + 0.02*math.Cos(ph*2), 0.01, // fitted_width_v, _std
			95 + 5*math.Sin(ph/3), 0.5, // fitted_height, _std
		}
		for k, v := range vals {
			binary.LittleEndian.PutUint64(rec[32+8*k:], math.Float64bits(round(v, 1e4)))
		}
	}
	return &pyval.NDArray{DType: dt, Shape: []int{len(upAntennas)}, Data: data}
}

// bandpass is a float64 spectrum: a smooth passband with a ripple that
// drifts in time and a little noise-like structure.
func bandpass(t float64) *pyval.NDArray {
	v := make([]float64, upBandpassLen)
	for i := range v {
		x := float64(i) / float64(upBandpassLen-1)
		edge := 1 / (1 + math.Exp(-40*(x-0.06))) / (1 + math.Exp(40*(x-0.94)))
		v[i] = round(10*edge*(1+0.08*math.Sin(12*x+t)+0.02*math.Sin(97*x*x+3*t)), 1e3)
	}
	return pyval.ArrayOf(v)
}

// windSpeed is a gusty wind in m/s.
func windSpeed(t float64) float64 {
	return round(7+2.5*math.Sin(t/9)+0.8*math.Sin(t*1.7), 100)
}

// round keeps the values short on the page: digits beyond 1/scale are
// noise for simulated data.
func round(v, scale float64) float64 { return math.Round(v*scale) / scale }
