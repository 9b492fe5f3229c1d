package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/sdpkit/sdpkit/pyval"
)

// Entity type prefixes (relative to the global prefix) of ska-sdp-config
// 1.x; see docs/config-compat.md for which are documented and which
// assumed.
const (
	PrefixExecutionBlock  = "/eb"
	PrefixProcessingBlock = "/pb"
	PrefixDeployment      = "/deploy"
	PrefixScript          = "/script"
	PrefixFlow            = "/flow"
	PrefixDependency      = "/dependency"
	PrefixComponent       = "/component"
	PrefixSubarray        = "/lmc/subarray"
	PathController        = "/lmc/controller"
	PathSystem            = "/system"
)

func stringKey(entity string, part keyPart) func(string) (string, error) {
	return func(s string) (string, error) {
		if err := part.check(entity, s); err != nil {
			return "", err
		}
		return s, nil
	}
}

func identity(s string) string { return s }

func checkPart(entity string, part keyPart) func(string) error {
	return func(s string) error { return part.check(entity, s) }
}

// ExecutionBlocks gives access to /eb/<eb_id> and their states.
func (t *Txn) ExecutionBlocks() Collection[ExecutionBlock, string] {
	return newCollection(t, &entityType[ExecutionBlock, string]{
		name: "execution block", prefix: PrefixExecutionBlock,
		keyOf:  func(e *ExecutionBlock) string { return e.Key },
		format: identity, parse: stringKey("execution block", ebIDPart), check: checkPart("execution block", ebIDPart),
	})
}

// ProcessingBlocks gives access to /pb/<pb_id>, their states and owners.
func (t *Txn) ProcessingBlocks() Collection[ProcessingBlock, string] {
	return newCollection(t, &entityType[ProcessingBlock, string]{
		name: "processing block", prefix: PrefixProcessingBlock,
		keyOf:  func(e *ProcessingBlock) string { return e.Key },
		format: identity, parse: stringKey("processing block", pbIDPart), check: checkPart("processing block", pbIDPart),
	})
}

// Deployments gives access to /deploy/<deploy_id> and their states.
func (t *Txn) Deployments() Collection[Deployment, string] {
	return newCollection(t, &entityType[Deployment, string]{
		name: "deployment", prefix: PrefixDeployment,
		keyOf:  func(e *Deployment) string { return e.Key },
		format: identity, parse: stringKey("deployment", deployIDPart), check: checkPart("deployment", deployIDPart),
	})
}

// Scripts gives access to the processing script definitions
// /script/<kind>:<name>:<version>.
func (t *Txn) Scripts() Collection[Script, ScriptKey] {
	return newCollection(t, &entityType[Script, ScriptKey]{
		name: "script", prefix: PrefixScript,
		keyOf:  func(e *Script) ScriptKey { return e.Key },
		format: ScriptKey.String, parse: ParseScriptKey, check: ScriptKey.Check,
	})
}

// Flows gives access to /flow/<pb_id>:<kind>:<name>, their states and
// owners. Flows().ListKeys(pbID + ":") lists the flows of one processing
// block.
func (t *Txn) Flows() Collection[Flow, FlowKey] {
	return newCollection(t, &entityType[Flow, FlowKey]{
		name: "flow", prefix: PrefixFlow,
		keyOf:  func(e *Flow) FlowKey { return e.Key },
		format: FlowKey.String, parse: ParseFlowKey, check: FlowKey.Check,
	})
}

// Dependencies gives access to /dependency/<pb_id>:<kind>:<name>:<origin>
// and their states.
func (t *Txn) Dependencies() Collection[Dependency, DependencyKey] {
	return newCollection(t, &entityType[Dependency, DependencyKey]{
		name: "dependency", prefix: PrefixDependency,
		keyOf:  func(e *Dependency) DependencyKey { return e.Key },
		format: DependencyKey.String, parse: ParseDependencyKey, check: DependencyKey.Check,
	})
}

// Components gives access to /component/<component_name>: free-dict
// entries whose owner key (/component/<name>/owner) is the component's
// keep-alive key (Config.SetAlive).
func (t *Txn) Components() DictCollection {
	return DictCollection{tx: t, name: "component", prefix: PrefixComponent, part: componentPart}
}

// Subarrays gives access to the subarray LMC entries /lmc/subarray/<id>
// (id two digits, "01").
func (t *Txn) Subarrays() DictCollection {
	return DictCollection{tx: t, name: "subarray", prefix: PrefixSubarray, part: subarrayIDPart}
}

// Controller gives access to the controller LMC entry /lmc/controller.
func (t *Txn) Controller() DictEntry {
	return DictEntry{tx: t, path: t.entityScope().prefix + PathController}
}

// System gives access to the system definition /system (one per
// database).
func (t *Txn) System() DictEntry {
	return DictEntry{tx: t, path: t.entityScope().prefix + PathSystem}
}

// DictEntry is one entry whose value is a free dict (Python keeps these
// as plain dicts).
type DictEntry struct {
	tx   *Txn
	path string
	err  error
}

// Path returns the database path of the entry.
func (e DictEntry) Path() string { return e.path }

// Get returns the value, or nil if there is none.
func (e DictEntry) Get() (*pyval.Dict, error) { return e.state().Get() }

// Create stores a new value (nil: {}).
func (e DictEntry) Create(d *pyval.Dict) error { return e.state().Create(d) }

// Update replaces the value.
func (e DictEntry) Update(d *pyval.Dict) error { return e.state().Update(d) }

// Delete removes the entry and everything below it.
func (e DictEntry) Delete() error {
	if e.err != nil {
		return e.err
	}
	return deleteTree(e.tx, e.path)
}

func (e DictEntry) state() *State { return &State{tx: e.tx, path: e.path, err: e.err} }

// DictCollection gives access to entities whose values are free dicts
// (components, subarrays), keyed by one key part.
type DictCollection struct {
	tx     *Txn
	name   string
	prefix string
	part   keyPart
}

// Path returns the database path of the entity key (or a *KeyError).
func (c DictCollection) Path(key string) (string, error) {
	if err := c.part.check(c.name, key); err != nil {
		return "", err
	}
	return c.tx.entityScope().prefix + c.prefix + "/" + key, nil
}

// Entry returns the entry of key; an invalid key gives an entry whose
// methods return the *KeyError.
func (c DictCollection) Entry(key string) DictEntry {
	p, err := c.Path(key)
	return DictEntry{tx: c.tx, path: p, err: err}
}

// Get returns the value of key, or nil if there is none.
func (c DictCollection) Get(key string) (*pyval.Dict, error) { return c.Entry(key).Get() }

// Create stores a new entity.
func (c DictCollection) Create(key string, d *pyval.Dict) error { return c.Entry(key).Create(d) }

// Update replaces an entity's value.
func (c DictCollection) Update(key string, d *pyval.Dict) error { return c.Entry(key).Update(d) }

// Delete removes an entity and everything below it.
func (c DictCollection) Delete(key string) error { return c.Entry(key).Delete() }

// ListKeys lists the keys starting with prefix, sorted.
func (c DictCollection) ListKeys(prefix string) ([]string, error) {
	if err := checkListPrefix(c.name, prefix); err != nil {
		return nil, err
	}
	base := c.tx.entityScope().prefix + c.prefix + "/"
	paths, err := c.tx.List(base + prefix)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(paths))
	for _, p := range paths {
		k := strings.TrimPrefix(p, base)
		if c.part.check(c.name, k) == nil {
			out = append(out, k)
		}
	}
	return out, nil
}

// State returns the state entry of key.
func (c DictCollection) State(key string) *State {
	p, err := c.Path(key)
	return &State{tx: c.tx, path: p + "/state", err: err}
}

// Owner returns the owner of key (nil if not owned).
func (c DictCollection) Owner(key string) (*Owner, error) {
	p, err := c.Path(key)
	if err != nil {
		return nil, err
	}
	return getOwner(c.tx, p+"/owner")
}

// IsOwner reports whether this client owns key.
func (c DictCollection) IsOwner(key string) (bool, error) {
	p, err := c.Path(key)
	if err != nil {
		return false, err
	}
	return isOwner(c.tx, p+"/owner")
}

// Take creates the owner key of key with the client lease.
func (c DictCollection) Take(key string) error { return c.TakeWithLease(key, 0) }

// TakeWithLease creates the owner key of key with lease (0: the client
// lease).
func (c DictCollection) TakeWithLease(key string, lease LeaseID) error {
	p, err := c.Path(key)
	if err != nil {
		return err
	}
	return take(c.tx, p+"/owner", lease)
}

// IsAlive reports whether key's owner entry exists.
func (c DictCollection) IsAlive(key string) (bool, error) {
	o, err := c.Owner(key)
	return o != nil, err
}

// NewProcessingBlockID returns an unused processing block id
// pb-<generator>-<YYYYMMDD>-<NNNNN> for today's local date: the smallest
// five-digit index not yet listed under /pb/ (0.3.2's rule; the id fits
// 1.x's pattern). The listing guards the transaction, so two clients
// creating PBs at once cannot both get the same id.
func (t *Txn) NewProcessingBlockID(generator string) (string, error) {
	return t.newProcessingBlockID(generator, time.Now())
}

func (t *Txn) newProcessingBlockID(generator string, now time.Time) (string, error) {
	prefix := "pb-" + generator + "-" + now.Format("20060102") + "-"
	if err := pbIDPart.check("processing block", prefix+"00000"); err != nil {
		return "", fmt.Errorf("config: generator %q: %w", generator, err)
	}
	keys, err := t.ProcessingBlocks().ListKeys(prefix)
	if err != nil {
		return "", err
	}
	used := map[string]bool{}
	for _, k := range keys {
		used[strings.TrimPrefix(k, prefix)] = true
	}
	for i := range 100000 {
		n := fmt.Sprintf("%05d", i)
		if !used[n] {
			return prefix + n, nil
		}
	}
	return "", fmt.Errorf("config: no free processing block id with prefix %s", prefix)
}

// EntityJSON returns the bytes Python's dict_to_json writes for an entity
// model (any of this package's entity or state structs): what Create and
// Update store.
func EntityJSON(v any) ([]byte, error) { return encodeEntity(v) }

// DecodeEntityJSON parses stored entity bytes into the model into points
// to, keeping unknown members in its Extra.
func DecodeEntityJSON(data []byte, into any) error { return decodeEntity("(value)", data, into) }
