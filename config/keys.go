package config

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sdpkit/sdpkit/config/kv"
)

// MaxWriteDepth is the deepest path (number of '/') that Create, Update
// and transaction writes accept. It makes recursive deletes complete: a
// recursive Delete without MaxDepth removes 127 levels below its path in
// one etcd transaction (the most etcd's default --max-txn-ops=128 allows),
// which reaches every key this package can write from any ancestor.
const MaxWriteDepth = 128

// KeyCodec maps library paths ("/pb/pb-1/state") to store keys and back.
//
// The codec is the one place that knows the on-disk key layout (spec §1),
// so a different layout (should 1.x turn out to differ) is one type.
// A codec must keep string prefixes as byte prefixes: for every path p and
// string prefix q of p, Key(q, d) must be a byte prefix of Key(p, d), so
// that a listing of q at depth d is the key range [Key(q,d),
// kv.PrefixEnd(Key(q,d))).
type KeyCodec interface {
	// Key returns the store key of path tagged with depth.
	Key(path string, depth int) []byte
	// Path returns the library path stored under key. ok is false when
	// the key is not in the codec's layout.
	Path(key []byte) (path string, ok bool)
}

// DepthTagged is the key layout of ska-sdp-config 0.3.2 (and, as far as
// public material shows, 1.x): the path prefixed by its depth in plain
// decimal, the depth being the number of '/' in the path ("/pb/x" →
// "2/pb/x", "/d/1/2/3/4/5/6/7/8/9" → "10/d/1/2/3/4/5/6/7/8/9"). The tag
// makes a prefix range return exactly one level of the tree.
type DepthTagged struct{}

// Key implements KeyCodec.
func (DepthTagged) Key(path string, depth int) []byte {
	b := make([]byte, 0, len(path)+3)
	b = strconv.AppendInt(b, int64(depth), 10)
	return append(b, path...)
}

// Path implements KeyCodec: everything from the first '/' on.
func (DepthTagged) Path(key []byte) (string, bool) {
	i := bytes.IndexByte(key, '/')
	if i < 0 {
		return "", false
	}
	return string(key[i:]), true
}

// Depth is the depth of a path: the number of '/' in it, including a
// trailing one ("/t/" has depth 2, so listing it lists the children of /t).
func Depth(path string) int { return strings.Count(path, "/") }

// Path rules, as reported by PathError.Rule.
const (
	RuleLeadingSlash  = "path must start with /"
	RuleTrailingSlash = "path must not end with /"
	RuleUTF8          = "path must be valid UTF-8"
	RuleTooDeep       = "path is deeper than 128 levels"
)

// CheckPath reports whether path is acceptable to listings, deletes and
// prefix watches: non-empty, starting with '/', valid UTF-8. A trailing
// '/' is allowed.
func CheckPath(path string) error {
	if !strings.HasPrefix(path, "/") {
		return &PathError{Path: path, Rule: RuleLeadingSlash}
	}
	if !utf8.ValidString(path) {
		return &PathError{Path: path, Rule: RuleUTF8}
	}
	return nil
}

// CheckKeyPath reports whether path names a single key (Get, Create,
// Update, single-key watches): CheckPath and no trailing '/'.
func CheckKeyPath(path string) error {
	if err := CheckPath(path); err != nil {
		return err
	}
	if strings.HasSuffix(path, "/") {
		return &PathError{Path: path, Rule: RuleTrailingSlash}
	}
	return nil
}

// checkWritePath is CheckKeyPath plus the MaxWriteDepth limit.
func checkWritePath(path string) error {
	if err := CheckKeyPath(path); err != nil {
		return err
	}
	if Depth(path) > MaxWriteDepth {
		return &PathError{Path: path, Rule: RuleTooDeep}
	}
	return nil
}

// key is the store key of a single-key path at its own depth.
func (db *DB) key(path string) []byte { return db.codec.Key(path, Depth(path)) }

// keyRange is the range of keys at depth whose path starts with prefix.
func (db *DB) keyRange(prefix string, depth int) (key, end []byte) {
	key = db.codec.Key(prefix, depth)
	return key, kv.PrefixEnd(key)
}

// path un-tags a store key; keys outside the codec's layout come back
// verbatim so they stay visible rather than vanish.
func (db *DB) path(key []byte) string {
	if p, ok := db.codec.Path(key); ok {
		return p
	}
	return string(key)
}

// levels resolves a listing's relative depths (nil: just 0), dropping
// duplicates but keeping the caller's order, as the requests are sent in
// that order.
func levels(depths []int) []int {
	if len(depths) == 0 {
		return []int{0}
	}
	out := make([]int, 0, len(depths))
	for _, d := range depths {
		dup := false
		for _, o := range out {
			if o == d {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, d)
		}
	}
	return out
}
