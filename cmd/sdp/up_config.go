package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/sdpkit/sdpkit/config"
	"github.com/sdpkit/sdpkit/pyval"
)

// upFlowSpec is one exchange sdp up writes as a pair of flows: a data-queue
// flow (the simulator's topic) and a tango flow on the connector's own
// device whose source hands the first to the queue connector.
type upFlowSpec struct {
	name, topic, format string
	tangoType           string
	maxDimX             int
}

var upFlowSpecs = []upFlowSpec{
	// The pointing table travels as TMC's pointing_offsets attribute does:
	// DevEncoded ("msgpack_numpy", payload), previewed as a table.
	{"pointing", upTopicPointing, "msgpack_numpy", "DevEncoded", 1},
	{"bandpass", upTopicBandpass, "msgpack_numpy", "DevDouble", upBandpassLen},
	{"wind_speed", upTopicWind, "json", "DevDouble", 1},
}

// writeConfig writes the execution block and the processing block where
// they are missing, and (re)writes the flows and the telstate device's
// descriptor: they name this run's broker and Redis, whose ports change
// from run to run, so with --data-dir a stale copy would point nowhere.
func (s *upStack) writeConfig(ctx context.Context, date time.Time) error {
	day := date.Format("20060102")
	s.EBID = "eb-sdpup-" + day + "-00001"
	s.PBID = "pb-sdpup-" + day + "-00001"
	host := "kafka://" + s.Brokers[0]
	s.Flows = nil
	err := s.Config.Txn(ctx, func(tx *config.Txn) error {
		eb, err := tx.ExecutionBlocks().Get(s.EBID)
		if err != nil {
			return err
		}
		if eb == nil {
			err := tx.ExecutionBlocks().Create(&config.ExecutionBlock{
				Key: s.EBID, MaxLength: 21600, PBRealtime: pyval.List{pyval.Str(s.PBID)},
			})
			if err != nil {
				return err
			}
		}
		pb, err := tx.ProcessingBlocks().Get(s.PBID)
		if err != nil {
			return err
		}
		if pb == nil {
			ebID := s.EBID
			err := tx.ProcessingBlocks().Create(&config.ProcessingBlock{
				Key: s.PBID, EBID: &ebID,
				Script: config.ScriptKey{Kind: "realtime", Name: "sdp-up-pointing", Version: "0.1.0"},
			})
			if err != nil {
				return err
			}
		}
		for _, f := range upFlowSpecs {
			in := config.FlowKey{PBID: s.PBID, Kind: "data-queue", Name: f.name}
			out := config.FlowKey{PBID: s.PBID, Kind: "tango", Name: f.name}
			flows := []*config.Flow{
				{Key: in, Sink: &config.DataQueue{Host: host, Topics: f.topic, Format: f.format}, Sources: []config.FlowSource{}, DataModel: "object"},
				{
					Key:       out,
					Sink:      &config.TangoAttribute{AttributeTRL: "tango://" + upDevice + "/" + f.name, DType: f.tangoType, MaxDimX: f.maxDimX},
					Sources:   []config.FlowSource{{URI: config.FlowURI{Key: &in}, Function: config.QueueConnectorFunction}},
					DataModel: "object",
				},
			}
			for _, fl := range flows {
				s.Flows = append(s.Flows, fl.Key)
				old, err := tx.Flows().Get(fl.Key)
				if err != nil {
					return err
				}
				if old == nil {
					err = tx.Flows().Create(fl)
				} else {
					err = tx.Flows().Update(fl)
				}
				if err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sdp up: writing the processing block %s and its flows: %w", s.PBID, err)
	}
	desc, err := s.telstateDescriptor()
	if err != nil {
		return err
	}
	err = s.Config.DB().Txn(ctx, func(tx *config.Txn) error {
		old, err := tx.Get(upTelstatePath)
		if err != nil {
			return err
		}
		if old == nil {
			return tx.Create(upTelstatePath, desc, 0)
		}
		return tx.Update(upTelstatePath, desc)
	})
	if err != nil {
		return fmt.Errorf("sdp up: writing the telstate exchange at %s: %w", upTelstatePath, err)
	}
	return nil
}

// telstateDescriptor is the telstate device's configuration: the wind
// speed topic into telstate as sensor samples.
func (s *upStack) telstateDescriptor() ([]byte, error) {
	d := map[string]any{"exchanges": []any{map[string]any{
		"dtype": "float64", "shape": []int{},
		"source": map[string]any{"type": "KafkaConsumerSource", "servers": s.Brokers, "topic": upTopicWind, "encoding": "json"},
		"sink":   map[string]any{"type": "TelstateSink", "db": s.RedisURL, "key": upTelstateKey},
	}}}
	return json.MarshalIndent(d, "", "  ")
}
