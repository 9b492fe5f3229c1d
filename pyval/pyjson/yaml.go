package pyjson

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/sdpkit/sdpkit/pyval"
)

// FromYAML parses one YAML document into pyval as PyYAML's yaml.safe_load
// does, which is what ska-sdp-config's CLI uses for its YAML/JSON input
// (import, create, edit). The document is parsed with gopkg.in/yaml.v3; the
// values are then built by PyYAML's rules rather than yaml.v3's:
//
//   - Scalars follow YAML 1.1 as PyYAML implements it. Plain yes/no/on/off
//     and true/false (in lower, Title or UPPER case) are bools; ~, null and
//     the empty scalar are None; 0b1010, 0x1f, 017 (octal), 1_000 and
//     sexagesimal 1:30 are ints; a float needs a dot (1.5, 1.e+3, .5, 1:30.5,
//     .inf, -.inf, .nan) and an exponent needs a sign, so 1e3, 1e-07 and
//     1.0e5 are strings, as in PyYAML, while 1.0e+5 is a float. Everything
//     else, and every quoted or block scalar, is a str. (yaml.v3 itself
//     follows YAML 1.2, where yes is a string and 1e3 a float; this follows
//     PyYAML so that imported files mean what they mean to the Python
//     tools.)
//   - JSON is YAML, but note the float rule: JSON numbers with an exponent
//     and no dot (1e-07) become strings here exactly as they do in Python.
//     Use Unmarshal for input known to be JSON.
//   - Mappings become *pyval.Dict in document order; a repeated key keeps
//     its first position and takes its last value; merge keys (<<: *anchor
//     or a list of anchors) are expanded as PyYAML does, with the mapping's
//     own keys winning. Keys may be any hashable value (1: x gives an Int
//     key, which Canonical writes as "1"). Sequences become pyval.List.
//   - Aliases share the anchored value, as in Python.
//   - Explicit tags !!str, !!int, !!float, !!bool, !!null, !!binary (→
//     Bytes), !!seq and !!map are honoured. Timestamps (plain 2024-01-31 and
//     the like), !!set, !!omap, !!pairs and other tags fail with
//     ErrUnsupported: PyYAML builds datetime, set or tuple-list objects that
//     JSON cannot hold anyway.
//   - An empty document is None; more than one document fails, as
//     safe_load does.
//   - A document whose aliases expand to vastly more values than it holds
//     (64 per input byte plus about a million) fails with ErrTooLarge,
//     where Python would build it and then take for ever to encode it.
//
// Integers of any size are kept exact, as in Python (BigIntsAsFloat turns
// those outside -2**63 … 2**64-1 into the nearest Float); decimal integers
// of more than pyval.MaxIntDigits digits fail with ErrRange, as PyYAML's
// int() raises ValueError. Options: MaxDepth, BigIntsAsFloat.
func FromYAML(data []byte, opts ...Option) (v pyval.Value, err error) {
	o := newOptions(opts)
	defer func() {
		// yaml.v3 is third-party code run on untrusted input; a panic in
		// it must not take the caller down.
		if r := recover(); r != nil {
			v, err = nil, fmt.Errorf("%w: YAML parser failed: %v", ErrSyntax, r)
		}
	}()
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return pyval.None, nil
		}
		return nil, fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrSyntax, err)
		}
		return nil, fmt.Errorf("%w: expected a single document in the stream, found another at line %d", ErrSyntax, extra.Line)
	}
	b := yamlBuilder{o: o, done: map[*yaml.Node]built{}, budget: 64*len(data) + 1<<20}
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return pyval.None, nil
		}
		return b.node(doc.Content[0], 0)
	}
	return b.node(&doc, 0)
}

type yamlBuilder struct {
	o options
	// done maps anchored nodes to their value, so every alias shares it
	// (and building a document of nested aliases costs no more than its
	// nodes).
	done map[*yaml.Node]built
	// expanded counts the values the document holds with every alias
	// expanded, which is what an encoder walks; budget caps it so that a
	// "billion laughs" document fails here rather than making Canonical run
	// for ever.
	expanded, budget int
}

type built struct {
	v    pyval.Value
	size int // values inside, aliases expanded
}

func (b *yamlBuilder) spend(n *yaml.Node, k int) error {
	b.expanded += k
	if b.expanded > b.budget {
		return yamlErr(n, ErrTooLarge, "aliases expand to more than %d values", b.budget)
	}
	return nil
}

func yamlErr(n *yaml.Node, sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: line %d column %d: %s", sentinel, n.Line, n.Column, fmt.Sprintf(format, args...))
}

const (
	tagStr    = "!!str"
	tagInt    = "!!int"
	tagFloat  = "!!float"
	tagBool   = "!!bool"
	tagNull   = "!!null"
	tagBinary = "!!binary"
	tagSeq    = "!!seq"
	tagMap    = "!!map"
	tagMerge  = "!!merge"
	tagTime   = "!!timestamp"
	tagValue  = "!!value"
)

func (b *yamlBuilder) node(n *yaml.Node, depth int) (pyval.Value, error) {
	if depth >= b.o.maxDepth {
		return nil, yamlErr(n, ErrDepth, "nested more than %d levels", b.o.maxDepth)
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return nil, yamlErr(n, ErrSyntax, "unknown alias")
		}
		return b.node(n.Alias, depth)
	}
	if d, ok := b.done[n]; ok {
		if err := b.spend(n, d.size); err != nil {
			return nil, err
		}
		return d.v, nil
	}
	before := b.expanded
	if err := b.spend(n, 1); err != nil {
		return nil, err
	}
	var v pyval.Value
	var err error
	switch n.Kind {
	case yaml.ScalarNode:
		v, err = b.scalar(n)
	case yaml.SequenceNode:
		if n.Style&yaml.TaggedStyle != 0 && n.Tag != tagSeq {
			return nil, yamlErr(n, ErrUnsupported, "tag %s on a sequence", n.Tag)
		}
		list := make(pyval.List, 0, len(n.Content))
		for _, c := range n.Content {
			e, err := b.node(c, depth+1)
			if err != nil {
				return nil, err
			}
			list = append(list, e)
		}
		v = list
	case yaml.MappingNode:
		if n.Style&yaml.TaggedStyle != 0 && n.Tag != tagMap {
			return nil, yamlErr(n, ErrUnsupported, "tag %s on a mapping (PyYAML would not build a dict)", n.Tag)
		}
		v, err = b.mapping(n, depth)
	default:
		return nil, yamlErr(n, ErrSyntax, "unexpected YAML node kind %d", n.Kind)
	}
	if err != nil {
		return nil, err
	}
	if n.Anchor != "" {
		b.done[n] = built{v, b.expanded - before}
	}
	return v, nil
}

// mapping builds a dict, expanding merge keys first as PyYAML's
// flatten_mapping does: the merged pairs come before the mapping's own, and
// of several merged mappings the earlier listed wins.
func (b *yamlBuilder) mapping(n *yaml.Node, depth int) (pyval.Value, error) {
	pairs, err := b.flatten(n, depth, 0)
	if err != nil {
		return nil, err
	}
	d := &pyval.Dict{}
	for _, p := range pairs {
		k, err := b.node(p[0], depth+1)
		if err != nil {
			return nil, err
		}
		val, err := b.node(p[1], depth+1)
		if err != nil {
			return nil, err
		}
		if err := d.Set(k, val); err != nil {
			return nil, yamlErr(p[0], ErrUnsupported, "found unhashable key: %v", err)
		}
	}
	return d, nil
}

// flatten returns the key/value node pairs of a mapping with merges
// expanded. level bounds merges of merges.
func (b *yamlBuilder) flatten(n *yaml.Node, depth, level int) ([][2]*yaml.Node, error) {
	if level >= b.o.maxDepth {
		return nil, yamlErr(n, ErrDepth, "merge keys nest more than %d levels", b.o.maxDepth)
	}
	if err := b.spend(n, len(n.Content)/2); err != nil {
		return nil, err // merges of merges multiply pairs too
	}
	var merged, own [][2]*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if !isMergeKey(k) {
			own = append(own, [2]*yaml.Node{k, val})
			continue
		}
		target := deref(val)
		switch target.Kind {
		case yaml.MappingNode:
			sub, err := b.flatten(target, depth, level+1)
			if err != nil {
				return nil, err
			}
			merged = append(merged, sub...)
		case yaml.SequenceNode:
			// Later entries first, so that earlier ones overwrite them.
			var subs [][][2]*yaml.Node
			for _, s := range target.Content {
				s = deref(s)
				if s.Kind != yaml.MappingNode {
					return nil, yamlErr(s, ErrSyntax, "while constructing a mapping: expected a mapping for merging")
				}
				sub, err := b.flatten(s, depth, level+1)
				if err != nil {
					return nil, err
				}
				subs = append(subs, sub)
			}
			for i := len(subs) - 1; i >= 0; i-- {
				merged = append(merged, subs[i]...)
			}
		default:
			return nil, yamlErr(val, ErrSyntax, "while constructing a mapping: expected a mapping or list of mappings for merging")
		}
	}
	return append(merged, own...), nil
}

func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isMergeKey(n *yaml.Node) bool {
	if n.Kind != yaml.ScalarNode {
		return false
	}
	if n.Style&yaml.TaggedStyle != 0 {
		return n.Tag == tagMerge
	}
	return plain(n) && n.Value == "<<"
}

// plain reports an untagged plain scalar, the only kind PyYAML resolves.
func plain(n *yaml.Node) bool {
	return n.Style&(yaml.TaggedStyle|yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0
}

// PyYAML's YAML 1.1 implicit resolvers for plain scalars.
var (
	reBool  = regexp.MustCompile(`^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$`)
	reFloat = regexp.MustCompile(`^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$`)
	reInt   = regexp.MustCompile(`^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$`)
	reNull  = regexp.MustCompile(`^(?:~|null|Null|NULL|)$`)
	reTime  = regexp.MustCompile(`^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$`)
)

// resolve returns the tag PyYAML gives a plain scalar. The resolvers are
// tried in the order PyYAML registers them.
func resolve(s string) string {
	switch {
	case reBool.MatchString(s):
		return tagBool
	case reFloat.MatchString(s):
		return tagFloat
	case reInt.MatchString(s):
		return tagInt
	case s == "<<":
		return tagMerge
	case reNull.MatchString(s):
		return tagNull
	case reTime.MatchString(s):
		return tagTime
	case s == "=":
		return tagValue
	}
	return tagStr
}

func (b *yamlBuilder) scalar(n *yaml.Node) (pyval.Value, error) {
	tag := tagStr
	switch {
	case n.Style&yaml.TaggedStyle != 0:
		tag = n.Tag
	case plain(n):
		tag = resolve(n.Value)
	}
	s := n.Value
	switch tag {
	case tagStr:
		return pyval.Str(s), nil
	case tagNull:
		return pyval.None, nil
	case tagBool:
		switch strings.ToLower(s) {
		case "yes", "true", "on":
			return pyval.Bool(true), nil
		case "no", "false", "off":
			return pyval.Bool(false), nil
		}
		return nil, yamlErr(n, ErrSyntax, "%q is not a bool", s)
	case tagInt:
		return b.yamlInt(n, s)
	case tagFloat:
		f, ok := yamlFloat(s)
		if !ok {
			return nil, yamlErr(n, ErrSyntax, "%q is not a float", s)
		}
		return pyval.Float(f), nil
	case tagBinary:
		raw, err := base64.StdEncoding.DecodeString(strings.Map(dropSpace, s))
		if err != nil {
			return nil, yamlErr(n, ErrSyntax, "!!binary: %v", err)
		}
		return pyval.Bytes(raw), nil
	case tagTime:
		return nil, yamlErr(n, ErrUnsupported, "timestamp %q (PyYAML makes a datetime, which JSON cannot hold; quote it for a str)", s)
	case tagMerge:
		return nil, yamlErr(n, ErrSyntax, "merge key << used as a value")
	}
	return nil, yamlErr(n, ErrUnsupported, "could not determine a constructor for the tag %s", tag)
}

func dropSpace(r rune) rune {
	switch r {
	case ' ', '\t', '\n', '\r':
		return -1
	}
	return r
}

// yamlInt converts as PyYAML's construct_yaml_int: underscores dropped,
// 0b binary, 0x hex, a leading 0 octal, colons sexagesimal (base 60).
func (b *yamlBuilder) yamlInt(n *yaml.Node, s string) (pyval.Value, error) {
	t := strings.ReplaceAll(s, "_", "")
	neg := false
	if t != "" && (t[0] == '-' || t[0] == '+') {
		neg = t[0] == '-'
		t = t[1:]
	}
	z := new(big.Int)
	ok := true
	switch {
	case t == "0":
	case strings.HasPrefix(t, "0b"):
		_, ok = z.SetString(t[2:], 2)
	case strings.HasPrefix(t, "0x"):
		_, ok = z.SetString(t[2:], 16)
	case strings.HasPrefix(t, "0"):
		_, ok = z.SetString(t[1:], 8)
	case strings.Contains(t, ":"):
		if len(t) > pyval.MaxIntDigits {
			// Python would take quadratic time here; nobody writes such a
			// base-60 number.
			return nil, yamlErr(n, ErrRange, "sexagesimal int of %d characters exceeds the limit of %d", len(t), pyval.MaxIntDigits)
		}
		for part := range strings.SplitSeq(t, ":") {
			p, err := strconv.ParseUint(part, 10, 64)
			if err != nil {
				ok = false
				break
			}
			z.Mul(z, big.NewInt(60))
			z.Add(z, new(big.Int).SetUint64(p))
		}
	default:
		if len(t) > pyval.MaxIntDigits {
			// PyYAML's int(value) raises ValueError here.
			return nil, yamlErr(n, ErrRange, "integer of %d digits exceeds the limit (%d digits) for integer string conversion", len(t), pyval.MaxIntDigits)
		}
		_, ok = z.SetString(t, 10)
	}
	if !ok {
		return nil, yamlErr(n, ErrSyntax, "%q is not an int", s)
	}
	if neg {
		z.Neg(z)
	}
	i := pyval.IntFromBig(z)
	if i.IsBig() && b.o.bigFloat {
		f, _ := i.Float()
		return pyval.Float(f), nil
	}
	return i, nil
}

// yamlFloat converts as PyYAML's construct_yaml_float.
func yamlFloat(s string) (float64, bool) {
	t := strings.ToLower(strings.ReplaceAll(s, "_", ""))
	sign := 1.0
	if t != "" && (t[0] == '-' || t[0] == '+') {
		if t[0] == '-' {
			sign = -1
		}
		t = t[1:]
	}
	switch {
	case t == ".inf":
		return sign * math.Inf(1), true
	case t == ".nan":
		return math.NaN(), true
	case strings.Contains(t, ":"):
		// Summed from the last part up, with the same roundings as PyYAML.
		parts := strings.Split(t, ":")
		v, base := 0.0, 1.0
		for i := len(parts) - 1; i >= 0; i-- {
			p, err := strconv.ParseFloat(parts[i], 64)
			if err != nil {
				return 0, false
			}
			v += p * base
			base *= 60
		}
		return sign * v, true
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false
	}
	return sign * f, true
}
