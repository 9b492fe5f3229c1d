// Package telstate is the telescope state client: a key-value store of
// attributes, sensors and indexed attributes shared by the components of
// the Science Data Processor, byte-compatible with Python's katsdptelstate
// (both can use the same Redis database or RDB file).
//
// # Keys and values
//
// A key is a string (any bytes; katsdptelstate's str keys are their UTF-8
// form). A value is a pyval.Value, stored in katsdptelstate's encoding
// (package telstate/encoding). Each key is of one of three kinds, fixed by
// the first write:
//
//   - immutable (an attribute): one value, set once with Set. Setting it
//     again with an equal value is accepted; a different value fails with
//     ErrImmutableKey.
//   - mutable (a sensor): timestamped samples, added with Add and read with
//     Get (the latest) or GetRange.
//   - indexed: a set of immutable values addressed by sub-keys, written
//     with SetIndexed and read with GetIndexed or Get (all of them).
//
// # Views
//
// A TelescopeState has a list of key prefixes (namespaces), by default just
// "". View adds one in front: reads try each prefix in turn and use the
// first under which the key exists (so a key in a view shadows the same
// key further out, whatever its kind), writes always go to the first
// prefix. Keys, Clear, the RDB functions and Backend work on the whole
// store and ignore the view.
//
// # Backends
//
// The storage is a backend.Backend: by default the in-process
// telstate/memory backend; WithBackend selects another (for instance a
// Redis backend). Backends store bytes only; this package does the
// encoding, the namespaces and the katsdptelstate rules.
//
// # Errors
//
// Errors wrap the sentinels below and can be tested with errors.Is; their
// text names the key (the full key, prefix included, quoted as Python
// displays it) and the reason.
//
// # Concurrency
//
// A TelescopeState is safe for concurrent use if its backend is (the
// memory backend is). Views are cheap values sharing the backend.
package telstate

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/telstate/backend"
	"github.com/sdpkit/sdpkit/telstate/encoding"
	"github.com/sdpkit/sdpkit/telstate/memory"
)

// SEPARATOR joins the parts of a namespaced key name (see Join and View).
const SEPARATOR = "_"

// KeyType is the kind of a key; see backend.KeyType.
type KeyType = backend.KeyType

// The key kinds, re-exported from the backend package with a Key prefix
// (Immutable is the AddOption).
const (
	KeyNone      = backend.KeyNone
	KeyImmutable = backend.Immutable
	KeyMutable   = backend.Mutable
	KeyIndexed   = backend.Indexed
)

// Sample is one decoded sensor sample.
type Sample struct {
	Value     pyval.Value
	Timestamp float64 // seconds since the Unix epoch, by convention
}

// TelescopeState is a client of one telescope state store, seen through a
// view (a list of key prefixes). Create one with New; derive views with
// View and Root.
type TelescopeState struct {
	be          backend.Backend
	prefixes    []string
	allowPickle bool
	pickleErr   error // a bad KATSDPTELSTATE_ALLOW_PICKLE, reported by New only via Err
}

// Option configures New.
type Option func(*config)

type config struct {
	be          backend.Backend
	allowPickle *bool
}

// WithBackend makes the TelescopeState use b instead of a new memory
// backend.
func WithBackend(b backend.Backend) Option {
	return func(c *config) { c.be = b }
}

// WithAllowPickle sets whether values stored as Python pickles may be
// decoded. The default comes from the environment variable
// KATSDPTELSTATE_ALLOW_PICKLE ("1" allows), read by New, as katsdptelstate
// reads it at import. Pickles are never written.
func WithAllowPickle(allow bool) Option {
	return func(c *config) { c.allowPickle = &allow }
}

// New returns a TelescopeState with the root view (prefix "") over a new
// memory backend, or over the backend given by WithBackend.
//
// Unless WithAllowPickle is given, pickle decoding is allowed exactly when
// KATSDPTELSTATE_ALLOW_PICKLE is "1"; an unrecognised value of the
// variable disallows it (Python warns; Err reports the problem here).
func New(opts ...Option) *TelescopeState {
	var c config
	for _, o := range opts {
		o(&c)
	}
	ts := &TelescopeState{be: c.be, prefixes: []string{""}}
	if ts.be == nil {
		ts.be = memory.New()
	}
	if c.allowPickle != nil {
		ts.allowPickle = *c.allowPickle
	} else {
		ts.allowPickle, ts.pickleErr = encoding.AllowPickleFromEnv()
		if ts.pickleErr != nil {
			ts.allowPickle = false
		}
	}
	return ts
}

// Err reports a problem found by New that did not stop it: currently an
// unrecognised KATSDPTELSTATE_ALLOW_PICKLE value (pickles are then not
// allowed). It is nil normally.
func (ts *TelescopeState) Err() error { return ts.pickleErr }

// Backend returns the backend, shared by all views.
func (ts *TelescopeState) Backend() backend.Backend { return ts.be }

// Prefixes returns the view's key prefixes, innermost first; the root view
// has [""].
func (ts *TelescopeState) Prefixes() []string { return slices.Clone(ts.prefixes) }

// ViewOption configures View.
type ViewOption func(*viewConfig)

type viewConfig struct {
	exclusive   bool
	noSeparator bool
}

// Exclusive makes the view see only its own namespace, dropping the
// current prefixes (katsdptelstate's exclusive=True).
func Exclusive() ViewOption { return func(c *viewConfig) { c.exclusive = true } }

// NoSeparator uses name as the prefix verbatim, without appending
// SEPARATOR (katsdptelstate's add_separator=False).
func NoSeparator() ViewOption { return func(c *viewConfig) { c.noSeparator = true } }

// View returns a TelescopeState on the same backend whose prefixes are
// name (with SEPARATOR appended unless it is empty, already ends with it,
// or NoSeparator is given) followed by the current prefixes (none with
// Exclusive). For example New().View("ns").Prefixes() is ["ns_", ""], and
// its View("ns_child") has ["ns_child_", "ns_", ""].
func (ts *TelescopeState) View(name string, opts ...ViewOption) *TelescopeState {
	var c viewConfig
	for _, o := range opts {
		o(&c)
	}
	if name != "" && !c.noSeparator && !strings.HasSuffix(name, SEPARATOR) {
		name += SEPARATOR
	}
	v := *ts
	if c.exclusive {
		v.prefixes = []string{name}
	} else {
		v.prefixes = append([]string{name}, ts.prefixes...)
	}
	return &v
}

// Root returns the view with only the root prefix "".
func (ts *TelescopeState) Root() *TelescopeState {
	v := *ts
	v.prefixes = []string{""}
	return &v
}

// Join joins names with SEPARATOR: Join("cbf", "n_chans") is
// "cbf_n_chans".
func Join(names ...string) string { return strings.Join(names, SEPARATOR) }

// full returns the key under the i-th prefix.
func (ts *TelescopeState) full(i int, key string) []byte {
	p := ts.prefixes[i]
	b := make([]byte, 0, len(p)+len(key))
	return append(append(b, p...), key...)
}

// displayKey renders a full key as katsdptelstate's display_str does: the
// repr of its str form (undecodable bytes shown as surrogate escapes).
func displayKey(key []byte) string { return pyval.StrRepr(string(key)) }

func (ts *TelescopeState) decodeOpts() []encoding.DecodeOption {
	return []encoding.DecodeOption{encoding.AllowPickle(ts.allowPickle)}
}

// Decode decodes a stored value (as returned by GetEncoded,
// GetRangeEncoded or a backend.Monitor update) as this TelescopeState's
// reads do, honouring its pickle setting (WithAllowPickle). Errors wrap
// ErrDecode.
func (ts *TelescopeState) Decode(b []byte) (pyval.Value, error) {
	return encoding.Decode(b, ts.decodeOpts()...)
}

func (ts *TelescopeState) decode(key []byte, b []byte) (pyval.Value, error) {
	v, err := encoding.Decode(b, ts.decodeOpts()...)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", displayKey(key), err)
	}
	return v, nil
}

// backendErr adds the key to an error from the backend.
func backendErr(op string, key []byte, err error) error {
	return fmt.Errorf("telstate: %s %s: %w", op, displayKey(key), err)
}

// Keys returns the full names of the keys in the store that match the
// Redis glob pattern (see backend.MatchGlob; "*" for all), sorted. It
// ignores the view.
func (ts *TelescopeState) Keys(ctx context.Context, pattern string) ([]string, error) {
	ks, err := ts.be.Keys(ctx, []byte(pattern))
	if err != nil {
		return nil, fmt.Errorf("telstate: keys %s: %w", pyval.StrRepr(pattern), err)
	}
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = string(k)
	}
	slices.Sort(out)
	return out, nil
}

// Exists reports whether key exists under any prefix of the view.
func (ts *TelescopeState) Exists(ctx context.Context, key string) (bool, error) {
	for i := range ts.prefixes {
		fk := ts.full(i, key)
		ok, err := ts.be.Exists(ctx, fk)
		if err != nil {
			return false, backendErr("exists", fk, err)
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}

// KeyType returns the kind of key under the first prefix where it exists,
// or KeyNone.
func (ts *TelescopeState) KeyType(ctx context.Context, key string) (KeyType, error) {
	for i := range ts.prefixes {
		fk := ts.full(i, key)
		t, err := ts.be.KeyType(ctx, fk)
		if err != nil {
			return KeyNone, backendErr("key_type", fk, err)
		}
		if t != KeyNone {
			return t, nil
		}
	}
	return KeyNone, nil
}

// IsImmutable reports whether key is an immutable (not indexed) key. It
// is KeyType(ctx, key) == Immutable, kept for katsdptelstate users.
func (ts *TelescopeState) IsImmutable(ctx context.Context, key string) (bool, error) {
	t, err := ts.KeyType(ctx, key)
	return t == KeyImmutable, err
}

// Delete removes key under every prefix of the view. Absent keys are not
// an error.
func (ts *TelescopeState) Delete(ctx context.Context, key string) error {
	for i := range ts.prefixes {
		fk := ts.full(i, key)
		if err := ts.be.Delete(ctx, fk); err != nil {
			return backendErr("delete", fk, err)
		}
	}
	return nil
}

// Clear removes every key in the store, not only the view's.
func (ts *TelescopeState) Clear(ctx context.Context) error {
	if err := ts.be.Clear(ctx); err != nil {
		return fmt.Errorf("telstate: clear: %w", err)
	}
	return nil
}
