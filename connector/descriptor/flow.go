package descriptor

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/sdpkit/sdpkit/config"
)

// FlowFunction is the FlowSource function that hands a flow to the queue
// connector: a flow with a source of this function is an exchange whose
// input is the flow the source's uri names.
const FlowFunction = "ska-sdp-lmc-queue-connector:exchange"

// ErrFlow is matched by the errors FromFlowJSON returns for flows it
// cannot map.
var ErrFlow = errors.New("flow cannot be mapped to an exchange")

// FlowOption configures FromFlowJSON.
type FlowOption func(*flowOptions)

type flowOptions struct {
	device string
}

// OwnDevice names the connector's own Tango device (e.g.
// "mid-sdp/queueconnector/01"): a TangoAttribute flow on it becomes a
// TangoLocalAttributeSink, one on any other device a
// TangoRemoteAttributeSink. Without it, a device whose family is
// "queueconnector" counts as the connector's own.
func OwnDevice(name string) FlowOption {
	return func(o *flowOptions) { o.device = strings.ToLower(name) }
}

// The minimal Flow entity this mapping reads (ska-sdp-config 1.x JSON).
// Unknown members are ignored: flows carry more than the connector needs.
// FromFlows converts config.Flow entities to it; it is kept (rather than
// reading config.Flow directly) because it also accepts the list form of
// "topics" that config.DataQueue does not model.
type flowDoc struct {
	Key       flowKey      `json:"key"`
	Sink      flowSink     `json:"sink"`
	DataModel string       `json:"data_model"`
	Sources   []flowSource `json:"sources"`
}

type flowKey struct {
	PBID string `json:"pb_id"`
	Kind string `json:"kind"`
	Name string `json:"name"`
}

func (k flowKey) String() string { return k.PBID + ":" + k.Kind + ":" + k.Name }

// id is the lookup key: the kind without dashes, as the docs write both
// "data-queue" and "dataqueue".
func (k flowKey) id() string {
	return k.PBID + "\x00" + strings.ReplaceAll(k.Kind, "-", "") + "\x00" + k.Name
}

type flowSink struct {
	Kind string `json:"kind"`
	// DataQueue
	Host   string          `json:"host"`
	Topics json.RawMessage `json:"topics"` // a string or a list of strings
	Format string          `json:"format"`
	// TangoAttribute
	AttributeTRL string `json:"attribute_trl"`
	DType        string `json:"dtype"`
	MaxDimX      int    `json:"max_dim_x"`
	MaxDimY      int    `json:"max_dim_y"`
}

type flowSource struct {
	URI      json.RawMessage `json:"uri"` // a Flow key, or a URI string
	Function string          `json:"function"`
}

// FromFlowJSON builds the descriptor the 5.x connector derives from the
// Flow entities (JSON, as stored in the configuration database) of one
// processing block: one group named pbID holding an exchange per flow of
// that block that has a FlowFunction source. flows may include other
// blocks' flows and flows not meant for the connector; they are skipped,
// but they can be the inputs named by the sources' uris.
//
// The mapping is inferred (the upstream code is not public):
//
//   - the input flow's sink is read as the exchange source: a DataQueue
//     (kind "data-queue") becomes a KafkaConsumerSource per topic (host
//     with any kafka:// prefix removed, format as the encoding), a
//     TangoAttribute (kind "tango") a TangoSubscriptionSource on
//     CHANGE_EVENT;
//   - the flow's own sink becomes the exchange sink: a DataQueue a
//     KafkaProducerSink, a TangoAttribute a TangoLocalAttributeSink on the
//     connector's own device (see OwnDevice), else a
//     TangoRemoteAttributeSink;
//   - dtype and shape come from a TangoAttribute end (its Tango type and
//     max_dim_x / max_dim_y), else from data_model when that is a dtype,
//     else "object".
func FromFlowJSON(pbID string, flows [][]byte, opts ...FlowOption) (*Descriptor, error) {
	var o flowOptions
	for _, opt := range opts {
		opt(&o)
	}
	docs := make([]flowDoc, len(flows))
	for i, b := range flows {
		if err := json.Unmarshal(b, &docs[i]); err != nil {
			return nil, fmt.Errorf("flow %d: %w", i, err)
		}
	}
	return o.fromDocs(pbID, docs)
}

// FromFlows is FromFlowJSON for Flow entities already read from the
// configuration database (config.Flow, as tx.Flows() returns them).
func FromFlows(pbID string, flows []config.Flow, opts ...FlowOption) (*Descriptor, error) {
	var o flowOptions
	for _, opt := range opts {
		opt(&o)
	}
	docs := make([]flowDoc, len(flows))
	for i := range flows {
		d, err := flowDocOf(&flows[i])
		if err != nil {
			return nil, fmt.Errorf("flow %s: %w", flows[i].Key, err)
		}
		docs[i] = d
	}
	return o.fromDocs(pbID, docs)
}

// flowDocOf converts an entity to the form the mapping reads.
func flowDocOf(f *config.Flow) (flowDoc, error) {
	d := flowDoc{
		Key:       flowKey{PBID: f.Key.PBID, Kind: f.Key.Kind, Name: f.Key.Name},
		DataModel: f.DataModel,
	}
	switch s := f.Sink.(type) {
	case *config.DataQueue:
		topics, err := json.Marshal(s.Topics)
		if err != nil {
			return d, err
		}
		d.Sink = flowSink{Kind: s.SinkKind(), Host: s.Host, Topics: topics, Format: s.Format}
	case *config.TangoAttribute:
		d.Sink = flowSink{Kind: s.SinkKind(), AttributeTRL: s.AttributeTRL, DType: s.DType, MaxDimX: s.MaxDimX, MaxDimY: s.MaxDimY}
	case nil:
	default:
		d.Sink = flowSink{Kind: s.SinkKind()}
	}
	for _, src := range f.Sources {
		var uri []byte
		var err error
		if src.URI.Key != nil {
			uri, err = json.Marshal(flowKey{PBID: src.URI.Key.PBID, Kind: src.URI.Key.Kind, Name: src.URI.Key.Name})
		} else {
			uri, err = json.Marshal(src.URI.URL)
		}
		if err != nil {
			return d, err
		}
		d.Sources = append(d.Sources, flowSource{URI: uri, Function: src.Function})
	}
	return d, nil
}

func (o *flowOptions) fromDocs(pbID string, docs []flowDoc) (*Descriptor, error) {
	byKey := map[string]*flowDoc{}
	for i := range docs {
		byKey[docs[i].Key.id()] = &docs[i]
	}
	g := Group{Name: pbID, Exchanges: []*Exchange{}}
	for i := range docs {
		f := &docs[i]
		if f.Key.PBID != pbID {
			continue
		}
		ex, err := o.exchange(f, byKey)
		if err != nil {
			return nil, fmt.Errorf("flow %s: %w", f.Key, err)
		}
		if ex != nil {
			g.Exchanges = append(g.Exchanges, ex)
		}
	}
	d := &Descriptor{Form: FormGroups, Groups: []Group{g}}
	// Check the result as any descriptor is checked, and fill defaults.
	v, err := d.Value()
	if err != nil {
		return nil, err
	}
	return ParseValue(v)
}

func (o *flowOptions) exchange(f *flowDoc, byKey map[string]*flowDoc) (*Exchange, error) {
	ex := &Exchange{Pipe: &DefaultPipe{}}
	var ends []*flowSink // the Tango ends, for dtype and shape
	for _, s := range f.Sources {
		if s.Function != FlowFunction {
			continue
		}
		var key flowKey
		if err := json.Unmarshal(s.URI, &key); err != nil || key.Name == "" {
			return nil, fmt.Errorf("%w: the uri of a %s source must be a flow key, got %s", ErrFlow, FlowFunction, bytes.TrimSpace(s.URI))
		}
		in, ok := byKey[key.id()]
		if !ok {
			return nil, fmt.Errorf("%w: input flow %s not found", ErrFlow, key)
		}
		srcs, err := flowSources(&in.Sink)
		if err != nil {
			return nil, fmt.Errorf("input flow %s: %w", key, err)
		}
		ex.Sources = append(ex.Sources, srcs...)
		if isTango(in.Sink.Kind) {
			ends = append(ends, &in.Sink)
		}
	}
	if len(ex.Sources) == 0 {
		return nil, nil // not a connector flow
	}
	ex.SourceList = len(ex.Sources) > 1
	sink, err := o.flowSink(&f.Sink)
	if err != nil {
		return nil, err
	}
	ex.Sink = sink
	if isTango(f.Sink.Kind) {
		ends = append([]*flowSink{&f.Sink}, ends...)
	}
	ex.DType, ex.Shape, err = flowDType(f.DataModel, ends)
	return ex, err
}

func isTango(kind string) bool { return kind == "tango" || kind == "tango-attribute" }

func isDataQueue(kind string) bool { return strings.ReplaceAll(kind, "-", "") == "dataqueue" }

func kafkaServers(host string) Servers {
	return Servers{Addrs: splitServers(strings.ReplaceAll(host, "kafka://", "")), Joined: true}
}

func flowTopics(raw json.RawMessage) ([]string, error) {
	var one string
	if err := json.Unmarshal(raw, &one); err == nil && one != "" {
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err == nil && len(many) > 0 {
		return many, nil
	}
	return nil, fmt.Errorf("%w: topics must be a topic name or a list of them, got %s", ErrFlow, bytes.TrimSpace(raw))
}

func flowEncoding(format string) (Encoding, error) {
	if format == "" {
		return EncodingPython, nil
	}
	for _, e := range Encodings() {
		if string(e) == format {
			return e, nil
		}
	}
	return "", fmt.Errorf("%w: format %q is not a connector encoding", ErrFlow, format)
}

func flowSources(s *flowSink) ([]Source, error) {
	switch {
	case isDataQueue(s.Kind):
		topics, err := flowTopics(s.Topics)
		if err != nil {
			return nil, err
		}
		enc, err := flowEncoding(s.Format)
		if err != nil {
			return nil, err
		}
		var out []Source
		for _, t := range topics {
			out = append(out, &KafkaConsumerSource{Servers: kafkaServers(s.Host), Topic: t, Encoding: enc})
		}
		return out, nil
	case isTango(s.Kind):
		dev, attr, err := parseTRL(s.AttributeTRL)
		if err != nil {
			return nil, err
		}
		return []Source{&TangoSubscriptionSource{DeviceName: dev, AttributeName: attr, EType: ChangeEvent, Stateless: true}}, nil
	}
	return nil, fmt.Errorf("%w: a %q flow cannot feed the queue connector", ErrFlow, s.Kind)
}

func (o *flowOptions) flowSink(s *flowSink) (Sink, error) {
	switch {
	case isDataQueue(s.Kind):
		topics, err := flowTopics(s.Topics)
		if err != nil {
			return nil, err
		}
		if len(topics) != 1 {
			return nil, fmt.Errorf("%w: a sink data queue needs one topic, not %d", ErrFlow, len(topics))
		}
		enc, err := flowEncoding(s.Format)
		if err != nil {
			return nil, err
		}
		return &KafkaProducerSink{Servers: kafkaServers(s.Host), Topic: topics[0], Encoding: enc, MessageMaxBytes: 1048576}, nil
	case isTango(s.Kind):
		dev, attr, err := parseTRL(s.AttributeTRL)
		if err != nil {
			return nil, err
		}
		own := o.device == strings.ToLower(dev)
		if o.device == "" {
			own = strings.EqualFold(strings.Split(dev, "/")[1], "queueconnector")
		}
		if own {
			return &TangoLocalAttributeSink{AttributeName: attr}, nil
		}
		return &TangoRemoteAttributeSink{DeviceName: dev, AttributeName: attr}, nil
	}
	return nil, fmt.Errorf("%w: the queue connector cannot write a %q flow", ErrFlow, s.Kind)
}

// parseTRL splits a Tango resource locator,
// tango://[host:port/]domain/family/member/attribute[#dbase=no], into the
// device name and the attribute.
func parseTRL(trl string) (device, attr string, err error) {
	s := strings.TrimPrefix(trl, "tango://")
	if i := strings.IndexByte(s, '#'); i >= 0 {
		s = s[:i]
	}
	parts := strings.Split(s, "/")
	if len(parts) == 5 && strings.Contains(parts[0], ":") {
		parts = parts[1:]
	}
	if len(parts) != 4 || slicesContainEmpty(parts) {
		return "", "", fmt.Errorf("%w: %q is not a Tango attribute TRL (tango://domain/family/member/attribute)", ErrFlow, trl)
	}
	return strings.Join(parts[:3], "/"), parts[3], nil
}

func slicesContainEmpty(ss []string) bool {
	for _, s := range ss {
		if s == "" {
			return true
		}
	}
	return false
}

// tangoDTypes maps Tango data types to dtype literals (PyTango's standard
// mapping; DevEncoded is the connector's "bytes").
var tangoDTypes = map[string]string{
	"DevBoolean": "bool",
	"DevUChar":   "uint8",
	"DevShort":   "int16",
	"DevUShort":  "uint16",
	"DevLong":    "int32",
	"DevULong":   "uint32",
	"DevLong64":  "int64",
	"DevULong64": "uint64",
	"DevFloat":   "float32",
	"DevDouble":  "float64",
	"DevString":  "str",
	"DevEncoded": "bytes",
}

func flowDType(dataModel string, tangoEnds []*flowSink) (DType, []int, error) {
	if len(tangoEnds) > 0 {
		t := tangoEnds[0]
		lit, ok := tangoDTypes[t.DType]
		if !ok {
			return DType{}, nil, fmt.Errorf("%w: Tango type %q has no dtype", ErrFlow, t.DType)
		}
		d := MustDType(lit)
		shape := []int{}
		switch {
		case d.Encoded():
		case t.MaxDimY > 0:
			shape = []int{t.MaxDimY, t.MaxDimX}
		case t.MaxDimX > 1:
			shape = []int{t.MaxDimX}
		}
		return d, shape, nil
	}
	if d, err := NewDType(dataModel); err == nil && dataModel != "" {
		return d, []int{}, nil
	}
	return MustDType("object"), []int{}, nil
}
