package config

import (
	"github.com/sdpkit/sdpkit/pyval"
)

// The entity models of ska-sdp-config 1.x. Every model field is always
// written (pydantic's model_dump writes every field, defaults included):
// a nil pointer is written as null, a nil slice as [] and a nil
// *pyval.Dict as {}. Fields tagged omitempty (only in state structs, which
// Python keeps as free dicts) are left out when zero. Members a model does
// not know are kept in its Extra and written back. docs/config-compat.md
// ("1.x entities") lists every field with its evidence.

// ExecutionBlock is /eb/<eb_id>, created by the subarray's
// AssignResources.
type ExecutionBlock struct {
	Key           string      `json:"key"` // the eb_id
	Beams         pyval.List  `json:"beams"`
	Channels      pyval.List  `json:"channels"`
	Context       *pyval.Dict `json:"context"`
	Fields        pyval.List  `json:"fields"`
	MaxLength     float64     `json:"max_length"` // seconds; a float in Python (21600.0)
	PBBatch       pyval.List  `json:"pb_batch"`
	PBRealtime    pyval.List  `json:"pb_realtime"`
	Polarisations pyval.List  `json:"polarisations"`
	ScanTypes     pyval.List  `json:"scan_types"`
	SubarrayID    pyval.Value `json:"subarray_id"` // null until assigned
	Extra         Extra       `json:"-"`
}

// ExecutionBlockState is /eb/<eb_id>/state. Status is ACTIVE while the EB
// runs, then FINISHED or CANCELLED.
type ExecutionBlockState struct {
	Status   string      `json:"status,omitempty"`
	ScanType pyval.Value `json:"scan_type,omitempty"`
	ScanID   pyval.Value `json:"scan_id,omitempty"`
	Scans    []EBScan    `json:"scans,omitempty"`
	Extra    Extra       `json:"-"`
}

// EBScan is one entry of ExecutionBlockState.Scans.
type EBScan struct {
	ScanID   int64  `json:"scan_id"`
	ScanType string `json:"scan_type"`
	Status   string `json:"status"`
	Extra    Extra  `json:"-"`
}

// ProcessingBlock is /pb/<pb_id>: static after creation.
type ProcessingBlock struct {
	Key          string         `json:"key"`   // the pb_id
	EBID         *string        `json:"eb_id"` // null for PBs outside an EB
	Script       ScriptKey      `json:"script"`
	Parameters   *pyval.Dict    `json:"parameters"`
	Dependencies []PBDependency `json:"dependencies"`
	Extra        Extra          `json:"-"`
}

// PBDependency is a processing block another one depends on; Kind lists
// what kind of dependency (e.g. ["visibilities"]).
type PBDependency struct {
	Kind  []string `json:"kind"`
	PBID  string   `json:"pb_id"`
	Extra Extra    `json:"-"`
}

// ProcessingBlockState is /pb/<pb_id>/state (a free dict in Python).
// Status values used by the controller and scripts: STARTING, WAITING,
// READY, RUNNING, FINISHED, FAILED, CANCELLED.
type ProcessingBlockState struct {
	Status             string      `json:"status,omitempty"`
	ResourcesAvailable *bool       `json:"resources_available,omitempty"`
	ReceiveAddresses   pyval.Value `json:"receive_addresses,omitempty"`
	Extra              Extra       `json:"-"`
}

// Deployment is /deploy/<deploy_id>: something the helm deployer installs.
type Deployment struct {
	Key   string      `json:"key"`  // the deploy_id
	Kind  string      `json:"kind"` // "helm"
	Args  *pyval.Dict `json:"args"` // for helm {"chart": …, "values": {…}}
	Extra Extra       `json:"-"`
}

// DeploymentState is /deploy/<deploy_id>/state (a free dict): per-pod
// statuses PENDING, RUNNING, FINISHED, CANCELLED, FAILED or UNSET.
type DeploymentState struct {
	Status string      `json:"status,omitempty"`
	Pods   *pyval.Dict `json:"pods,omitempty"`
	Extra  Extra       `json:"-"`
}

// Script is a processing script definition, /script/<kind>:<name>:<version>.
type Script struct {
	Key   ScriptKey `json:"key"`
	Image string    `json:"image"`
	Extra Extra     `json:"-"`
}

// Flow is /flow/<pb_id>:<kind>:<name>: a data flow of a processing block,
// written to Sink (DataProduct, DataQueue or TangoAttribute) from
// Sources.
type Flow struct {
	Key       FlowKey      `json:"key"`
	Sink      FlowSink     `json:"sink"`
	Sources   []FlowSource `json:"sources"`
	DataModel string       `json:"data_model"`
	Extra     Extra        `json:"-"`
}

// FlowState is /flow/<key>/state (a free dict), e.g. {"status": "FLOWING"}.
type FlowState struct {
	Status string `json:"status,omitempty"`
	Extra  Extra  `json:"-"`
}

// FlowSource is one input of a flow: URI is another flow's key or a URL;
// Function names what turns the input into the flow (the queue connector
// handles sources with Function "ska-sdp-lmc-queue-connector:exchange").
type FlowSource struct {
	URI        FlowURI     `json:"uri"`
	Function   string      `json:"function"`
	Parameters *pyval.Dict `json:"parameters"`
	Extra      Extra       `json:"-"`
}

// QueueConnectorFunction is the FlowSource.Function of flows the LMC queue
// connector runs.
const QueueConnectorFunction = "ska-sdp-lmc-queue-connector:exchange"

// FlowURI is a flow source's uri: either another flow's key (stored as an
// object) or a URL string.
type FlowURI struct {
	Key *FlowKey // set for a flow key
	URL string   // set otherwise
}

func (u FlowURI) encodePy() (pyval.Value, error) {
	if u.Key != nil {
		return toPy(reflectValue(u.Key), "uri")
	}
	return pyval.Str(u.URL), nil
}

func (u *FlowURI) decodePy(v pyval.Value, field string) error {
	*u = FlowURI{}
	switch x := v.(type) {
	case pyval.Str:
		u.URL = string(x)
		return nil
	case *pyval.Dict:
		u.Key = &FlowKey{}
		return fromPy(x, reflectValue(u.Key).Elem(), field)
	}
	return decodeErr(field, "want a flow key or a URL string, got %s", kindName(v))
}

// Flow sink kinds, the "kind" member of a stored sink.
const (
	SinkDataProduct    = "data-product"
	SinkDataQueue      = "data-queue"
	SinkTangoAttribute = "tango"
)

// FlowSink is a flow's sink: *DataProduct, *DataQueue, *TangoAttribute,
// or *OtherSink for a kind this package does not model.
type FlowSink interface {
	SinkKind() string
}

// DataProduct is a sink writing files of a data product.
type DataProduct struct {
	DataDir DataDir    `json:"data_dir"`
	Paths   pyval.List `json:"paths"`
	Extra   Extra      `json:"-"`
}

// SinkKind implements FlowSink.
func (*DataProduct) SinkKind() string { return SinkDataProduct }

// DataQueue is a sink (or source) on Kafka: Host such as
// "kafka://localhost:9092", Topics the topic, Format the encoding
// ("json", "msgpack_numpy", …).
type DataQueue struct {
	Host   string `json:"host"`
	Topics string `json:"topics"`
	Format string `json:"format"`
	Extra  Extra  `json:"-"`
}

// SinkKind implements FlowSink.
func (*DataQueue) SinkKind() string { return SinkDataQueue }

// TangoAttribute is a sink (or source) on a Tango attribute.
type TangoAttribute struct {
	AttributeTRL string `json:"attribute_trl"`
	DType        string `json:"dtype"` // a Tango type name, e.g. "DevString"
	MaxDimX      int    `json:"max_dim_x"`
	MaxDimY      int    `json:"max_dim_y"`
	Extra        Extra  `json:"-"`
}

// SinkKind implements FlowSink.
func (*TangoAttribute) SinkKind() string { return SinkTangoAttribute }

// OtherSink keeps a sink of a kind this package does not model, verbatim.
type OtherSink struct {
	Kind   string
	Fields *pyval.Dict // every member, "kind" included
}

// SinkKind implements FlowSink.
func (s *OtherSink) SinkKind() string { return s.Kind }

// PVCPath is a location on a Kubernetes persistent volume claim.
type PVCPath struct {
	K8sNamespaces []string `json:"k8s_namespaces"`
	K8sPVCName    string   `json:"k8s_pvc_name"`
	PVCMountPath  string   `json:"pvc_mount_path"`
	PVCSubpath    string   `json:"pvc_subpath"`
	Extra         Extra    `json:"-"`
}

// DataDir is a data product's directory: a PVC location or a plain path.
type DataDir struct {
	PVC  *PVCPath
	Path string
}

func (d DataDir) encodePy() (pyval.Value, error) {
	if d.PVC != nil {
		return toPy(reflectValue(d.PVC), "data_dir")
	}
	return pyval.Str(d.Path), nil
}

func (d *DataDir) decodePy(v pyval.Value, field string) error {
	*d = DataDir{}
	switch x := v.(type) {
	case pyval.Str:
		d.Path = string(x)
		return nil
	case *pyval.Dict:
		d.PVC = &PVCPath{}
		return fromPy(x, reflectValue(d.PVC).Elem(), field)
	}
	return decodeErr(field, "want a PVC path or a path string, got %s", kindName(v))
}

// encodeSink writes a sink with its "kind" member.
func encodeSink(s FlowSink) (pyval.Value, error) {
	if s == nil {
		return pyval.None, nil
	}
	if o, ok := s.(*OtherSink); ok {
		if o.Fields == nil {
			return pyval.StrDict("kind", pyval.Str(o.Kind)), nil
		}
		return o.Fields, nil
	}
	v, err := toPy(reflectValue(s), "sink")
	if err != nil {
		return nil, err
	}
	d := v.(*pyval.Dict)
	d.SetStr("kind", pyval.Str(s.SinkKind()))
	return d, nil
}

func decodeSink(v pyval.Value, field string) (FlowSink, error) {
	if _, ok := v.(pyval.NoneType); ok {
		return nil, nil
	}
	d, ok := v.(*pyval.Dict)
	if !ok {
		return nil, decodeErr(field, "want a dict, got %s", kindName(v))
	}
	kv, _ := d.GetStr("kind")
	kind, ok := kv.(pyval.Str)
	if !ok {
		return nil, decodeErr(field, "sink without a string kind")
	}
	var s FlowSink
	switch string(kind) {
	case SinkDataProduct:
		s = &DataProduct{}
	case SinkDataQueue:
		s = &DataQueue{}
	case SinkTangoAttribute:
		s = &TangoAttribute{}
	default:
		return &OtherSink{Kind: string(kind), Fields: d}, nil
	}
	rest := &pyval.Dict{}
	for _, it := range d.Items() {
		if k, ok := it.Key.(pyval.Str); ok && k == "kind" {
			continue
		}
		_ = rest.Set(it.Key, it.Value)
	}
	if err := fromPy(rest, reflectValue(s).Elem(), field); err != nil {
		return nil, err
	}
	return s, nil
}

func (f Flow) encodePy() (pyval.Value, error) {
	type plain Flow // without the methods: the reflective codec
	p := plain(f)
	p.Sink = nil
	v, err := toPy(reflectValue(p), "")
	if err != nil {
		return nil, err
	}
	s, err := encodeSink(f.Sink)
	if err != nil {
		return nil, err
	}
	v.(*pyval.Dict).SetStr("sink", s)
	return v, nil
}

func (f *Flow) decodePy(v pyval.Value, field string) error {
	d, ok := v.(*pyval.Dict)
	if !ok {
		return decodeErr(field, "want a dict, got %s", kindName(v))
	}
	rest := &pyval.Dict{}
	var sink pyval.Value = pyval.None
	for _, it := range d.Items() {
		if k, ok := it.Key.(pyval.Str); ok && k == "sink" {
			sink = it.Value
			continue
		}
		_ = rest.Set(it.Key, it.Value)
	}
	type plain Flow
	var p plain
	if err := fromPy(rest, reflectValue(&p).Elem(), field); err != nil {
		return err
	}
	s, err := decodeSink(sink, joinField(field, "sink"))
	if err != nil {
		return err
	}
	p.Sink = s
	*f = Flow(p)
	return nil
}

// Dependency is /dependency/<pb_id>:<kind>:<name>:<origin>: a lock a
// component (Origin) holds on a flow's data; ExpiryTime -1 means none.
type Dependency struct {
	Key         DependencyKey `json:"key"`
	ExpiryTime  int64         `json:"expiry_time"`
	Description *string       `json:"description"`
	Extra       Extra         `json:"-"`
}

// DependencyState is /dependency/<key>/state (a free dict): status
// WORKING, FINISHED or FAILED.
type DependencyState struct {
	Status string `json:"status,omitempty"`
	Extra  Extra  `json:"-"`
}
