package legacy

import (
	"fmt"
	"strings"
	"time"

	"github.com/sdpkit/sdpkit/config"
	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/pyval/pyjson"
)

// Entity paths, relative to the global prefix (spec §4.2).
const (
	PBPath       = "/pb"
	DeployPath   = "/deploy"
	SBPath       = "/sb"
	SubarrayPath = "/subarray"
	MasterPath   = "/master"
	WorkflowPath = "/workflow"
)

// deleteDepth is how many levels below an entity DeleteDeployment and
// DeleteWorkflow reach (0.3.2 listed with recurse=5).
const deleteDepth = 5

// Txn is the 0.3.2 entity API over one attempt of a config transaction.
// Like the underlying *config.Txn it must only be used inside the
// transaction body.
type Txn struct {
	tx     *config.Txn
	prefix string
}

// NewTxn returns the entity view of tx with entities under prefix (the
// Config's global prefix: "" or a path such as "/sdp").
func NewTxn(tx *config.Txn, prefix string) *Txn { return &Txn{tx: tx, prefix: prefix} }

// Raw returns the underlying transaction.
func (t *Txn) Raw() *config.Txn { return t.tx }

func (t *Txn) path(p string) string { return t.prefix + p }

// list lists the entity names at dir+"/"+prefix (one level, string prefix
// as Python's list_keys), with dir+"/" stripped.
func (t *Txn) list(dir, prefix string) ([]string, error) {
	base := t.path(dir) + "/"
	keys, err := t.tx.List(base + prefix)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, strings.TrimPrefix(k, base))
	}
	return out, nil
}

func (t *Txn) getDict(path string) (*pyval.Dict, error) {
	b, err := t.tx.Get(t.path(path))
	if err != nil || b == nil {
		return nil, err
	}
	d, err := parseDict(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.path(path), err)
	}
	return d, nil
}

func (t *Txn) putDict(path string, v *pyval.Dict, create bool, lease config.LeaseID) error {
	b, err := pyjson.Canonical(v)
	if err != nil {
		return fmt.Errorf("legacy: encoding %s: %w", t.path(path), err)
	}
	if create {
		return t.tx.Create(t.path(path), b, lease)
	}
	return t.tx.Update(t.path(path), b)
}

// deleteTree deletes path (if it exists) and the keys up to deleteDepth
// levels below it — not its same-level prefix siblings.
func (t *Txn) deleteTree(path string) error {
	p := t.path(path)
	below, err := t.tx.List(p+"/", config.Recurse(deleteDepth-1))
	if err != nil {
		return err
	}
	if err := t.tx.Delete(p, config.AllowMissing()); err != nil {
		return err
	}
	for _, k := range below {
		if err := t.tx.Delete(k, config.AllowMissing()); err != nil {
			return err
		}
	}
	return nil
}

// Processing blocks.

// ListProcessingBlocks lists processing block ids starting with prefix.
func (t *Txn) ListProcessingBlocks(prefix string) ([]string, error) { return t.list(PBPath, prefix) }

// NewProcessingBlockID returns a free id pb-<generator>-<YYYYMMDD>-<NNNNN>
// for today (local time): the smallest index not yet used.
func (t *Txn) NewProcessingBlockID(generator string) (string, error) {
	return t.NewProcessingBlockIDOn(generator, time.Now())
}

// NewProcessingBlockIDOn is NewProcessingBlockID for the date of day.
// When all 100000 indices are taken it fails with ErrIDsExhausted.
func (t *Txn) NewProcessingBlockIDOn(generator string, day time.Time) (string, error) {
	prefix := fmt.Sprintf("pb-%s-%s", generator, day.Format("20060102"))
	ids, err := t.ListProcessingBlocks(prefix)
	if err != nil {
		return "", err
	}
	used := make(map[string]bool, len(ids))
	for _, id := range ids {
		used[id] = true
	}
	for n := 0; n < 100000; n++ {
		id := fmt.Sprintf("%s-%05d", prefix, n)
		if !used[id] {
			return id, nil
		}
	}
	return "", fmt.Errorf("%w: all of %s-00000 … 99999 exist", ErrIDsExhausted, prefix)
}

// GetProcessingBlock returns the processing block, or nil if it does not
// exist.
func (t *Txn) GetProcessingBlock(id string) (*ProcessingBlock, error) {
	b, err := t.tx.Get(t.path(PBPath + "/" + id))
	if err != nil || b == nil {
		return nil, err
	}
	pb, err := ParseProcessingBlock(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.path(PBPath+"/"+id), err)
	}
	return pb, nil
}

// CreateProcessingBlock stores a new processing block
// (*config.CollisionError if the id is taken).
func (t *Txn) CreateProcessingBlock(pb *ProcessingBlock) error {
	if err := pb.Validate(); err != nil {
		return err
	}
	return t.putDict(PBPath+"/"+pb.ID, pb.Dict(), true, 0)
}

// UpdateProcessingBlock replaces a processing block
// (*config.VanishedError if it does not exist).
func (t *Txn) UpdateProcessingBlock(pb *ProcessingBlock) error {
	if err := pb.Validate(); err != nil {
		return err
	}
	return t.putDict(PBPath+"/"+pb.ID, pb.Dict(), false, 0)
}

// GetProcessingBlockOwner returns the owner dict, or nil if the block is
// not owned.
func (t *Txn) GetProcessingBlockOwner(id string) (*pyval.Dict, error) {
	return t.getDict(PBPath + "/" + id + "/owner")
}

// IsProcessingBlockOwner reports whether the block exists and its stored
// owner is owner.
func (t *Txn) IsProcessingBlockOwner(id string, owner config.Owner) (bool, error) {
	pb, err := t.tx.Get(t.path(PBPath + "/" + id))
	if err != nil || pb == nil {
		return false, err
	}
	o, err := t.getDict(PBPath + "/" + id + "/owner")
	if err != nil || o == nil {
		return false, err
	}
	// Compare values, not bytes: another writer may format differently.
	return pyval.Equal(o, owner.Dict()), nil
}

// TakeProcessingBlock claims the block for owner: creates its owner key
// attached to lease, so it vanishes when the lease ends. A block owned by
// someone else gives *config.CollisionError.
func (t *Txn) TakeProcessingBlock(id string, owner config.Owner, lease config.LeaseID) error {
	if lease == 0 {
		return fmt.Errorf("%w: taking processing block %s needs a lease", ErrInvalid, id)
	}
	return t.tx.Create(t.path(PBPath+"/"+id+"/owner"), owner.JSON(), lease)
}

// GetProcessingBlockState returns the state dict, or nil.
func (t *Txn) GetProcessingBlockState(id string) (*pyval.Dict, error) {
	return t.getDict(PBPath + "/" + id + "/state")
}

// CreateProcessingBlockState stores the initial state.
func (t *Txn) CreateProcessingBlockState(id string, state *pyval.Dict) error {
	return t.putDict(PBPath+"/"+id+"/state", state, true, 0)
}

// UpdateProcessingBlockState replaces the state.
func (t *Txn) UpdateProcessingBlockState(id string, state *pyval.Dict) error {
	return t.putDict(PBPath+"/"+id+"/state", state, false, 0)
}

// Deployments.

// ListDeployments lists deployment ids starting with prefix.
func (t *Txn) ListDeployments(prefix string) ([]string, error) { return t.list(DeployPath, prefix) }

// GetDeployment returns the deployment, or nil if it does not exist.
func (t *Txn) GetDeployment(id string) (*Deployment, error) {
	b, err := t.tx.Get(t.path(DeployPath + "/" + id))
	if err != nil || b == nil {
		return nil, err
	}
	d, err := ParseDeployment(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.path(DeployPath+"/"+id), err)
	}
	return d, nil
}

// CreateDeployment stores a new deployment.
func (t *Txn) CreateDeployment(d *Deployment) error {
	if err := d.Validate(); err != nil {
		return err
	}
	return t.putDict(DeployPath+"/"+d.ID, d.Dict(), true, 0)
}

// DeleteDeployment deletes the deployment and the keys below it; a
// missing deployment is not an error.
func (t *Txn) DeleteDeployment(d *Deployment) error { return t.deleteTree(DeployPath + "/" + d.ID) }

// Scheduling block instances.

// ListSchedulingBlocks lists scheduling block instance ids starting with
// prefix.
func (t *Txn) ListSchedulingBlocks(prefix string) ([]string, error) { return t.list(SBPath, prefix) }

// GetSchedulingBlock returns the instance's dict, or nil.
func (t *Txn) GetSchedulingBlock(id string) (*pyval.Dict, error) {
	return t.getDict(SBPath + "/" + id)
}

// CreateSchedulingBlock stores a new scheduling block instance.
func (t *Txn) CreateSchedulingBlock(id string, sb *pyval.Dict) error {
	return t.putDict(SBPath+"/"+id, sb, true, 0)
}

// UpdateSchedulingBlock replaces a scheduling block instance.
func (t *Txn) UpdateSchedulingBlock(id string, sb *pyval.Dict) error {
	return t.putDict(SBPath+"/"+id, sb, false, 0)
}

// Subarrays.

// SubarrayID is the id of subarray n as the 0.3 tools write it: at least
// two digits ("01").
func SubarrayID(n int) string { return fmt.Sprintf("%02d", n) }

// ListSubarrays lists subarray ids starting with prefix.
func (t *Txn) ListSubarrays(prefix string) ([]string, error) { return t.list(SubarrayPath, prefix) }

// GetSubarray returns the subarray's dict, or nil.
func (t *Txn) GetSubarray(id string) (*pyval.Dict, error) {
	return t.getDict(SubarrayPath + "/" + id)
}

// CreateSubarray stores a new subarray entry.
func (t *Txn) CreateSubarray(id string, state *pyval.Dict) error {
	return t.putDict(SubarrayPath+"/"+id, state, true, 0)
}

// UpdateSubarray replaces a subarray entry.
func (t *Txn) UpdateSubarray(id string, state *pyval.Dict) error {
	return t.putDict(SubarrayPath+"/"+id, state, false, 0)
}

// Master.

// GetMaster returns the master entry, or nil.
func (t *Txn) GetMaster() (*pyval.Dict, error) { return t.getDict(MasterPath) }

// CreateMaster stores the master entry.
func (t *Txn) CreateMaster(m *pyval.Dict) error { return t.putDict(MasterPath, m, true, 0) }

// UpdateMaster replaces the master entry.
func (t *Txn) UpdateMaster(m *pyval.Dict) error { return t.putDict(MasterPath, m, false, 0) }

// Workflow definitions.

func workflowPath(w Workflow) string { return WorkflowPath + "/" + w.String() }

// GetWorkflow returns the definition ({"image": …}), or nil.
func (t *Txn) GetWorkflow(w Workflow) (*pyval.Dict, error) { return t.getDict(workflowPath(w)) }

// CreateWorkflow stores a new definition.
func (t *Txn) CreateWorkflow(w Workflow, def *pyval.Dict) error {
	return t.putDict(workflowPath(w), def, true, 0)
}

// UpdateWorkflow replaces a definition.
func (t *Txn) UpdateWorkflow(w Workflow, def *pyval.Dict) error {
	return t.putDict(workflowPath(w), def, false, 0)
}

// DeleteWorkflow deletes the definition and the keys below it; a missing
// definition is not an error.
func (t *Txn) DeleteWorkflow(w Workflow) error { return t.deleteTree(workflowPath(w)) }

// ListWorkflows lists the workflow definitions, optionally only those of
// type typ and, if id is given too, of that id. Keys that are not
// "type:id:version" are skipped.
func (t *Txn) ListWorkflows(typ, id string) ([]Workflow, error) {
	prefix := typ
	if typ != "" && id != "" {
		prefix += ":" + id + ":"
	}
	names, err := t.list(WorkflowPath, prefix)
	if err != nil {
		return nil, err
	}
	out := []Workflow{}
	for _, n := range names {
		parts := strings.Split(n, ":")
		if len(parts) != 3 {
			continue
		}
		w := Workflow{Type: parts[0], ID: parts[1], Version: parts[2]}
		if (typ != "" && w.Type != typ) || (id != "" && w.ID != id) {
			continue
		}
		out = append(out, w)
	}
	return out, nil
}
