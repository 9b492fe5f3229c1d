package legacy

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/pyval/pyjson"
)

// Errors; test with errors.Is.
var (
	// ErrInvalid: an entity breaks a rule of the 0.3.2 data model (bad
	// id, missing workflow field, unsupported deployment type).
	ErrInvalid = errors.New("legacy: invalid entity")
	// ErrIDsExhausted: every processing block index of the day is taken.
	ErrIDsExhausted = errors.New("legacy: processing block ids exhausted")
	// ErrDecode: a stored value is not the JSON object expected.
	ErrDecode = errors.New("legacy: cannot decode stored value")
)

var (
	pbIDRe     = regexp.MustCompile(`^[A-Za-z0-9\-]{1,64}$`)
	deployIDRe = regexp.MustCompile(`^[A-Za-z0-9\-]{1,96}$`)
)

// Workflow names the workflow a processing block runs. Type is
// "realtime" or "batch" by convention.
type Workflow struct {
	Type, ID, Version string
}

// String is the workflow definition key "type:id:version".
func (w Workflow) String() string { return w.Type + ":" + w.ID + ":" + w.Version }

// ProcessingBlock is a 0.3.2 processing block (/pb/<id>).
type ProcessingBlock struct {
	ID string
	// SBIID is the scheduling block instance; "" is stored as null.
	SBIID    string
	Workflow Workflow
	// Parameters is a free dict (nil: {}).
	Parameters *pyval.Dict
	// Dependencies are free dicts such as {"pb_id": …, "type": […]}.
	Dependencies pyval.List
	// Extra holds further keyword fields, kept verbatim.
	Extra *pyval.Dict
}

// Validate checks the id pattern and that the workflow is complete.
func (pb *ProcessingBlock) Validate() error {
	if !pbIDRe.MatchString(pb.ID) {
		return fmt.Errorf("%w: processing block id %q does not match %s", ErrInvalid, pb.ID, pbIDRe)
	}
	if pb.Workflow.Type == "" || pb.Workflow.ID == "" || pb.Workflow.Version == "" {
		return fmt.Errorf("%w: processing block %s: workflow needs type, id and version, got %q", ErrInvalid, pb.ID, pb.Workflow.String())
	}
	return nil
}

// Dict returns the processing block as Python's to_dict: id, sbi_id,
// workflow, parameters, dependencies, then the extra fields.
func (pb *ProcessingBlock) Dict() *pyval.Dict {
	d := &pyval.Dict{}
	d.SetStr("id", pyval.Str(pb.ID))
	if pb.SBIID == "" {
		d.SetStr("sbi_id", pyval.None)
	} else {
		d.SetStr("sbi_id", pyval.Str(pb.SBIID))
	}
	d.SetStr("workflow", pyval.StrDict("id", pyval.Str(pb.Workflow.ID), "type", pyval.Str(pb.Workflow.Type), "version", pyval.Str(pb.Workflow.Version)))
	params := pb.Parameters
	if params == nil {
		params = &pyval.Dict{}
	}
	d.SetStr("parameters", params)
	deps := pb.Dependencies
	if deps == nil {
		deps = pyval.List{}
	}
	d.SetStr("dependencies", deps)
	if pb.Extra != nil {
		for _, it := range pb.Extra.Items() {
			if _, ok := d.Get(it.Key); !ok {
				_ = d.Set(it.Key, it.Value)
			}
		}
	}
	return d
}

// JSON returns the stored bytes (dict_to_json of Dict).
func (pb *ProcessingBlock) JSON() ([]byte, error) { return pyjson.Canonical(pb.Dict()) }

// ParseProcessingBlock decodes a stored processing block.
func ParseProcessingBlock(b []byte) (*ProcessingBlock, error) {
	d, err := parseDict(b)
	if err != nil {
		return nil, err
	}
	pb := &ProcessingBlock{Extra: &pyval.Dict{}}
	for _, it := range d.Items() {
		k, _ := it.Key.(pyval.Str)
		switch k {
		case "id":
			pb.ID, err = str(it.Value, "id")
		case "sbi_id":
			if it.Value.Kind() != pyval.KindNone {
				pb.SBIID, err = str(it.Value, "sbi_id")
			}
		case "workflow":
			pb.Workflow, err = parseWorkflow(it.Value)
		case "parameters":
			p, ok := it.Value.(*pyval.Dict)
			if !ok {
				err = fmt.Errorf("%w: parameters is %s, not a dict", ErrDecode, it.Value.Kind())
			}
			pb.Parameters = p
		case "dependencies":
			l, ok := it.Value.(pyval.List)
			if !ok {
				err = fmt.Errorf("%w: dependencies is %s, not a list", ErrDecode, it.Value.Kind())
			}
			pb.Dependencies = l
		default:
			_ = pb.Extra.Set(it.Key, it.Value)
		}
		if err != nil {
			return nil, err
		}
	}
	if pb.Extra.Len() == 0 {
		pb.Extra = nil
	}
	return pb, nil
}

func parseWorkflow(v pyval.Value) (Workflow, error) {
	d, ok := v.(*pyval.Dict)
	if !ok {
		return Workflow{}, fmt.Errorf("%w: workflow is %s, not a dict", ErrDecode, v.Kind())
	}
	var w Workflow
	for _, f := range []struct {
		name string
		dst  *string
	}{{"type", &w.Type}, {"id", &w.ID}, {"version", &w.Version}} {
		x, ok := d.GetStr(f.name)
		if !ok {
			return Workflow{}, fmt.Errorf("%w: workflow has no %s", ErrDecode, f.name)
		}
		s, err := str(x, "workflow."+f.name)
		if err != nil {
			return Workflow{}, err
		}
		*f.dst = s
	}
	return w, nil
}

// Deployment is a 0.3.2 deployment (/deploy/<id>): a helm chart and its
// values, installed by the helm deployer.
type Deployment struct {
	ID string
	// Type must be "helm".
	Type string
	// Args is for helm {"chart": <name>, "values": {…}} (nil: {}).
	Args *pyval.Dict
}

// Validate checks the id pattern and the type.
func (d *Deployment) Validate() error {
	if !deployIDRe.MatchString(d.ID) {
		return fmt.Errorf("%w: deployment id %q does not match %s", ErrInvalid, d.ID, deployIDRe)
	}
	if d.Type != "helm" {
		return fmt.Errorf("%w: deployment %s: unknown deployment type %q (only helm)", ErrInvalid, d.ID, d.Type)
	}
	return nil
}

// Dict returns {"args": …, "id": …, "type": …}.
func (d *Deployment) Dict() *pyval.Dict {
	args := d.Args
	if args == nil {
		args = &pyval.Dict{}
	}
	return pyval.StrDict("args", args, "id", pyval.Str(d.ID), "type", pyval.Str(d.Type))
}

// JSON returns the stored bytes.
func (d *Deployment) JSON() ([]byte, error) { return pyjson.Canonical(d.Dict()) }

// ParseDeployment decodes a stored deployment.
func ParseDeployment(b []byte) (*Deployment, error) {
	m, err := parseDict(b)
	if err != nil {
		return nil, err
	}
	dep := &Deployment{}
	if v, ok := m.GetStr("id"); ok {
		if dep.ID, err = str(v, "id"); err != nil {
			return nil, err
		}
	}
	if v, ok := m.GetStr("type"); ok {
		if dep.Type, err = str(v, "type"); err != nil {
			return nil, err
		}
	}
	if v, ok := m.GetStr("args"); ok {
		a, ok := v.(*pyval.Dict)
		if !ok {
			return nil, fmt.Errorf("%w: args is %s, not a dict", ErrDecode, v.Kind())
		}
		dep.Args = a
	}
	return dep, nil
}

func parseDict(b []byte) (*pyval.Dict, error) {
	v, err := pyjson.Unmarshal(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDecode, err)
	}
	d, ok := v.(*pyval.Dict)
	if !ok {
		return nil, fmt.Errorf("%w: %s, not a JSON object", ErrDecode, v.Kind())
	}
	return d, nil
}

func str(v pyval.Value, field string) (string, error) {
	s, ok := v.(pyval.Str)
	if !ok {
		return "", fmt.Errorf("%w: %s is %s, not a string", ErrDecode, field, v.Kind())
	}
	return string(s), nil
}
