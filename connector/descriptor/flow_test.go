package descriptor_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/sdpkit/sdpkit/config"
	"github.com/sdpkit/sdpkit/connector/descriptor"
	"github.com/sdpkit/sdpkit/internal/vectors"
)

const pb = "pb-test-00000000-0000"

// Input flows the docs examples name but do not show.
var (
	otherDataQueue = []byte(`{"key": {"pb_id": "` + pb + `", "kind": "data-queue", "name": "other-dataqueue"},
		"sink": {"kind": "data-queue", "host": "kafka://kafka-0:9092,kafka-1:9092", "topics": "metrics-in", "format": "msgpack_numpy"},
		"data_model": "Metrics", "sources": []}`)
	otherTango = []byte(`{"key": {"pb_id": "` + pb + `", "kind": "tango", "name": "other-tango-attribute"},
		"sink": {"kind": "tango", "attribute_trl": "tango://mid-dish/dish-manager/SKA001/status", "dtype": "DevString", "max_dim_x": 1, "max_dim_y": 0},
		"data_model": "str", "sources": []}`)
)

func docsFlow(t *testing.T, name string) []byte {
	return read(t, vectors.Path(t, "connector", "docs_examples/"+name))
}

func TestFromFlowJSONDocsExamples(t *testing.T) {
	tests := []struct {
		name  string
		flows func(t *testing.T) [][]byte
		opts  []descriptor.FlowOption
		want  string // the exchange, as descriptor JSON
	}{
		{
			name: "data queue to data queue",
			flows: func(t *testing.T) [][]byte {
				return [][]byte{docsFlow(t, "flow_dataqueue_sink.converted.json"), otherDataQueue, docsFlow(t, "signal_display_metrics_flow.json")}
			},
			want: `{"dtype": "object", "shape": [],
				"source": {"type": "KafkaConsumerSource", "servers": "kafka-0:9092,kafka-1:9092", "topic": "metrics-in", "encoding": "msgpack_numpy"},
				"sink": {"type": "KafkaProducerSink", "servers": "localhost:9092", "topic": "my-topic", "encoding": "json"}}`,
		},
		{
			name: "tango to own attribute",
			flows: func(t *testing.T) [][]byte {
				return [][]byte{otherTango, docsFlow(t, "flow_tango_attribute_sink.converted.json")}
			},
			want: `{"dtype": "str", "shape": [],
				"source": {"type": "TangoSubscriptionSource", "device_name": "mid-dish/dish-manager/SKA001", "attribute_name": "status", "etype": "CHANGE_EVENT"},
				"sink": {"type": "TangoLocalAttributeSink", "attribute_name": "my_tango_attribute"}}`,
		},
		{
			name: "tango to a device that is not ours",
			flows: func(t *testing.T) [][]byte {
				return [][]byte{otherTango, docsFlow(t, "flow_tango_attribute_sink.converted.json")}
			},
			opts: []descriptor.FlowOption{descriptor.OwnDevice("mid-sdp/queueconnector/02")},
			want: `{"dtype": "str", "shape": [],
				"source": {"type": "TangoSubscriptionSource", "device_name": "mid-dish/dish-manager/SKA001", "attribute_name": "status", "etype": "CHANGE_EVENT"},
				"sink": {"type": "TangoRemoteAttributeSink", "device_name": "mid-sdp/queueconnector/01", "attribute_name": "my_tango_attribute"}}`,
		},
		{
			name: "data queue to a spectrum attribute",
			flows: func(t *testing.T) [][]byte {
				return [][]byte{otherDataQueue, []byte(`{"key": {"pb_id": "` + pb + `", "kind": "tango", "name": "offsets"},
					"sink": {"kind": "tango", "attribute_trl": "tango://db.example:10000/low-sdp/queueconnector/01/offsets#dbase=no", "dtype": "DevDouble", "max_dim_x": 3, "max_dim_y": 0},
					"data_model": "float64[]",
					"sources": [{"uri": {"pb_id": "` + pb + `", "kind": "dataqueue", "name": "other-dataqueue"}, "function": "ska-sdp-lmc-queue-connector:exchange"}]}`)}
			},
			opts: []descriptor.FlowOption{descriptor.OwnDevice("LOW-SDP/QueueConnector/01")},
			want: `{"dtype": "float64", "shape": [3],
				"source": {"type": "KafkaConsumerSource", "servers": "kafka-0:9092,kafka-1:9092", "topic": "metrics-in", "encoding": "msgpack_numpy"},
				"sink": {"type": "TangoLocalAttributeSink", "attribute_name": "offsets"}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := descriptor.FromFlowJSON(pb, tt.flows(t), tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if d.Form != descriptor.FormGroups || len(d.Groups) != 1 || d.Groups[0].Name != pb {
				t.Fatalf("groups %+v, want one named %s", d.Groups, pb)
			}
			want := mustParse(t, []byte(`{"exchanges": {"`+pb+`": [`+tt.want+`]}}`))
			if !reflect.DeepEqual(d, want) {
				got, _ := descriptor.Marshal(d)
				w, _ := descriptor.Marshal(want)
				t.Errorf("got\n%s\nwant\n%s", got, w)
			}
			// The same flows read as config entities map the same way.
			var flows []config.Flow
			for _, b := range tt.flows(t) {
				var f config.Flow
				if err := config.DecodeEntityJSON(b, &f); err != nil {
					t.Fatalf("DecodeEntityJSON: %v", err)
				}
				flows = append(flows, f)
			}
			d2, err := descriptor.FromFlows(pb, flows, tt.opts...)
			if err != nil {
				t.Fatalf("FromFlows: %v", err)
			}
			if !reflect.DeepEqual(d2, want) {
				got, _ := descriptor.Marshal(d2)
				t.Errorf("FromFlows got\n%s", got)
			}
		})
	}
}

func TestFromFlowJSONSkipsAndFails(t *testing.T) {
	sd := docsFlow(t, "signal_display_metrics_flow.json")
	// A flow not meant for the connector, and flows of another block.
	d, err := descriptor.FromFlowJSON(pb, [][]byte{sd, otherDataQueue})
	if err != nil || len(d.All()) != 0 {
		t.Errorf("non-connector flows: %v, %d exchanges", err, len(d.All()))
	}
	d, err = descriptor.FromFlowJSON("pb-other-00000000-0000", [][]byte{otherTango, docsFlow(t, "flow_tango_attribute_sink.converted.json")})
	if err != nil || len(d.All()) != 0 {
		t.Errorf("other block's flows: %v, %d exchanges", err, len(d.All()))
	}

	withSink := func(sink string) []byte {
		return []byte(`{"key": {"pb_id": "` + pb + `", "kind": "x", "name": "f"}, "sink": ` + sink + `,
			"sources": [{"uri": {"pb_id": "` + pb + `", "kind": "data-queue", "name": "other-dataqueue"}, "function": "ska-sdp-lmc-queue-connector:exchange"}]}`)
	}
	fails := []struct {
		name  string
		flows [][]byte
		want  string
	}{
		{"missing input", [][]byte{docsFlow(t, "flow_dataqueue_sink.converted.json")}, "input flow pb-test-00000000-0000:dataqueue:other-dataqueue not found"},
		{"uri not a key", [][]byte{[]byte(`{"key": {"pb_id": "` + pb + `", "kind": "x", "name": "f"}, "sink": {"kind": "data-queue", "host": "h:1", "topics": "t"},
			"sources": [{"uri": "metrics://x", "function": "ska-sdp-lmc-queue-connector:exchange"}]}`)}, "must be a flow key"},
		{"bad format", [][]byte{otherDataQueue, withSink(`{"kind": "data-queue", "host": "h:1", "topics": "t", "format": "xarray"}`)}, `format "xarray" is not a connector encoding`},
		{"two sink topics", [][]byte{otherDataQueue, withSink(`{"kind": "data-queue", "host": "h:1", "topics": ["a", "b"]}`)}, "needs one topic, not 2"},
		{"bad trl", [][]byte{otherDataQueue, withSink(`{"kind": "tango", "attribute_trl": "tango://a/b", "dtype": "DevDouble"}`)}, "is not a Tango attribute TRL"},
		{"bad tango type", [][]byte{otherDataQueue, withSink(`{"kind": "tango", "attribute_trl": "tango://a/queueconnector/c/d", "dtype": "DevVoid"}`)}, `Tango type "DevVoid" has no dtype`},
		{"unknown sink kind", [][]byte{otherDataQueue, withSink(`{"kind": "data-product", "paths": []}`)}, `cannot write a "data-product" flow`},
		{"not json", [][]byte{[]byte(`{`)}, "flow 0:"},
	}
	for _, tt := range fails {
		t.Run(tt.name, func(t *testing.T) {
			_, err := descriptor.FromFlowJSON(pb, tt.flows)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
			if tt.name != "not json" && !errors.Is(err, descriptor.ErrFlow) {
				t.Errorf("error %v does not match ErrFlow", err)
			}
		})
	}
}

func ExampleFromFlowJSON() {
	input := []byte(`{"key": {"pb_id": "pb-1", "kind": "data-queue", "name": "offsets"},
		"sink": {"kind": "data-queue", "host": "kafka://kafka:9092", "topics": "pointing-offsets", "format": "msgpack_numpy"}}`)
	exchange := []byte(`{"key": {"pb_id": "pb-1", "kind": "tango", "name": "offsets-attr"},
		"sink": {"kind": "tango", "attribute_trl": "tango://mid-sdp/queueconnector/01/pointing_offsets", "dtype": "DevEncoded"},
		"sources": [{"uri": {"pb_id": "pb-1", "kind": "data-queue", "name": "offsets"}, "function": "ska-sdp-lmc-queue-connector:exchange"}]}`)
	d, err := descriptor.FromFlowJSON("pb-1", [][]byte{input, exchange}, descriptor.OwnDevice("mid-sdp/queueconnector/01"))
	if err != nil {
		fmt.Println(err)
		return
	}
	ex := d.Groups[0].Exchanges[0]
	src := ex.Sources[0].(*descriptor.KafkaConsumerSource)
	fmt.Println(d.Groups[0].Name, ex.DType, src.Servers.Addrs, src.Topic, "->", ex.Sink.(*descriptor.TangoLocalAttributeSink).AttributeName)
	// Output: pb-1 bytes [kafka:9092] pointing-offsets -> pointing_offsets
}
