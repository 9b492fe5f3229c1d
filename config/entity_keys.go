package config

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// ErrInvalidKey: an entity key (or one of its parts) does not match its
// pattern (*KeyError).
var ErrInvalidKey = errors.New("config: invalid entity key")

// KeyError reports a bad entity key part; it matches ErrInvalidKey.
type KeyError struct {
	Entity  string // entity type, e.g. "processing block"
	Part    string // key part, e.g. "pb_id"
	Value   string // the bad value
	Pattern string // the pattern it must match ("" when the key does not split into parts)
	Reason  string // set when the problem is not a pattern mismatch
}

func (e *KeyError) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("config: %s key %s: %s", e.Entity, strconv.Quote(e.Value), e.Reason)
	}
	return fmt.Sprintf("config: %s key part %s %s does not match %s", e.Entity, e.Part, strconv.Quote(e.Value), e.Pattern)
}

// Is makes errors.Is(err, ErrInvalidKey) true.
func (e *KeyError) Is(target error) bool { return target == ErrInvalidKey }

// keyPart is a named key part and its pattern.
type keyPart struct {
	name string
	re   *regexp.Regexp
}

func (p keyPart) check(entity, v string) error {
	if !p.re.MatchString(v) {
		return &KeyError{Entity: entity, Part: p.name, Value: v, Pattern: p.re.String()}
	}
	return nil
}

// Key part patterns. The PB id pattern is documented for 1.x; the EB id
// pattern is assumed to follow it; the others are assumptions (0.3.2's
// deployment id pattern, and for names the characters 1.x examples use).
// Every pattern excludes '/' and ':', which separate paths and key parts.
var (
	pbIDPart       = keyPart{"pb_id", regexp.MustCompile(`^pb-[a-z0-9]+-[0-9]{8}-[a-z0-9]+$`)}
	ebIDPart       = keyPart{"eb_id", regexp.MustCompile(`^eb-[a-z0-9]+-[0-9]{8}-[a-z0-9]+$`)}
	deployIDPart   = keyPart{"deploy_id", regexp.MustCompile(`^[A-Za-z0-9\-]{1,96}$`)}
	scriptKindPart = keyPart{"kind", regexp.MustCompile(`^[a-z0-9\-]{1,32}$`)}
	scriptNamePart = keyPart{"name", regexp.MustCompile(`^[A-Za-z0-9\-_]{1,96}$`)}
	scriptVerPart  = keyPart{"version", regexp.MustCompile(`^[A-Za-z0-9\-_.+]{1,64}$`)}
	flowKindPart   = keyPart{"kind", regexp.MustCompile(`^[A-Za-z0-9\-]{1,96}$`)}
	flowNamePart   = keyPart{"name", regexp.MustCompile(`^[A-Za-z0-9\-_.]{1,96}$`)}
	depKindPart    = keyPart{"kind", regexp.MustCompile(`^[A-Za-z0-9\-]{1,96}$`)}
	depOriginPart  = keyPart{"origin", regexp.MustCompile(`^[A-Za-z0-9\-_.]{1,96}$`)}
	componentPart  = keyPart{"component_name", regexp.MustCompile(`^[A-Za-z0-9\-_.]{1,96}$`)}
	subarrayIDPart = keyPart{"subarray_id", regexp.MustCompile(`^[0-9]{2}$`)}
)

// splitKey splits a composite key string into n parts at ':'.
func splitKey(entity, key string, parts ...keyPart) ([]string, error) {
	s := strings.Split(key, ":")
	if len(s) != len(parts) {
		names := make([]string, len(parts))
		for i, p := range parts {
			names[i] = p.name
		}
		return nil, &KeyError{Entity: entity, Value: key,
			Reason: fmt.Sprintf("want %d parts %s separated by ':'", len(parts), strings.Join(names, ":"))}
	}
	for i, p := range parts {
		if err := p.check(entity, s[i]); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// ScriptKey identifies a processing script: /script/<kind>:<name>:<version>.
// In a processing block it is stored as the object {"kind", "name",
// "version"}.
type ScriptKey struct {
	Kind    string `json:"kind"` // "realtime" or "batch" by convention
	Name    string `json:"name"`
	Version string `json:"version"`
	Extra   Extra  `json:"-"`
}

// String is the key as it appears in the path: kind:name:version.
func (k ScriptKey) String() string { return k.Kind + ":" + k.Name + ":" + k.Version }

// Check validates the key parts.
func (k ScriptKey) Check() error {
	for _, c := range []struct {
		p keyPart
		v string
	}{{scriptKindPart, k.Kind}, {scriptNamePart, k.Name}, {scriptVerPart, k.Version}} {
		if err := c.p.check("script", c.v); err != nil {
			return err
		}
	}
	return nil
}

// ParseScriptKey parses kind:name:version.
func ParseScriptKey(s string) (ScriptKey, error) {
	p, err := splitKey("script", s, scriptKindPart, scriptNamePart, scriptVerPart)
	if err != nil {
		return ScriptKey{}, err
	}
	return ScriptKey{Kind: p[0], Name: p[1], Version: p[2]}, nil
}

// FlowKey identifies a flow: /flow/<pb_id>:<kind>:<name>. Stored inside
// values as the object {"kind", "name", "pb_id"}.
type FlowKey struct {
	PBID  string `json:"pb_id"`
	Kind  string `json:"kind"`
	Name  string `json:"name"`
	Extra Extra  `json:"-"`
}

// String is the key as it appears in the path: pb_id:kind:name.
func (k FlowKey) String() string { return k.PBID + ":" + k.Kind + ":" + k.Name }

// Check validates the key parts.
func (k FlowKey) Check() error {
	if err := pbIDPart.check("flow", k.PBID); err != nil {
		return err
	}
	if err := flowKindPart.check("flow", k.Kind); err != nil {
		return err
	}
	return flowNamePart.check("flow", k.Name)
}

// ParseFlowKey parses pb_id:kind:name.
func ParseFlowKey(s string) (FlowKey, error) {
	p, err := splitKey("flow", s, pbIDPart, flowKindPart, flowNamePart)
	if err != nil {
		return FlowKey{}, err
	}
	return FlowKey{PBID: p[0], Kind: p[1], Name: p[2]}, nil
}

// DependencyKey identifies a dependency (a lock another component holds
// on a flow's data): /dependency/<pb_id>:<kind>:<name>:<origin>.
type DependencyKey struct {
	PBID   string `json:"pb_id"`
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	Origin string `json:"origin"`
	Extra  Extra  `json:"-"`
}

// String is the key as it appears in the path: pb_id:kind:name:origin.
func (k DependencyKey) String() string {
	return k.PBID + ":" + k.Kind + ":" + k.Name + ":" + k.Origin
}

// Check validates the key parts.
func (k DependencyKey) Check() error {
	if err := pbIDPart.check("dependency", k.PBID); err != nil {
		return err
	}
	if err := depKindPart.check("dependency", k.Kind); err != nil {
		return err
	}
	if err := flowNamePart.check("dependency", k.Name); err != nil {
		return err
	}
	return depOriginPart.check("dependency", k.Origin)
}

// ParseDependencyKey parses pb_id:kind:name:origin.
func ParseDependencyKey(s string) (DependencyKey, error) {
	p, err := splitKey("dependency", s, pbIDPart, depKindPart, flowNamePart, depOriginPart)
	if err != nil {
		return DependencyKey{}, err
	}
	return DependencyKey{PBID: p[0], Kind: p[1], Name: p[2], Origin: p[3]}, nil
}

// CheckProcessingBlockID validates a PB id (^pb-[a-z0-9]+-[0-9]{8}-[a-z0-9]+$).
func CheckProcessingBlockID(id string) error { return pbIDPart.check("processing block", id) }

// CheckExecutionBlockID validates an EB id (^eb-[a-z0-9]+-[0-9]{8}-[a-z0-9]+$).
func CheckExecutionBlockID(id string) error { return ebIDPart.check("execution block", id) }
