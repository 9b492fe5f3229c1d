// Package encoding holds the wire encodings of SDP data queues: the byte
// formats ska-sdp-dataqueues (and the queue connector) put in Kafka
// messages, each a Codec between pyval values and bytes, byte-exact with
// the Python peers, and a Registry that maps the wire names ("utf-8",
// "msgpack_numpy", …) to codecs so that users can add their own.
package encoding

import (
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/sdpkit/sdpkit/pyval"
)

// Wire names of the built-in encodings, as ska-sdp-dataqueues spells them
// (its Encoding enum values). The queue connector uses the same strings.
const (
	UTF8         = "utf-8"
	ASCII        = "ascii"
	JSON         = "json"
	MsgpackNumpy = "msgpack_numpy"
	NPY          = "npy"
	Msgpack      = "msgpack"
)

// Wire names of the queue connector's own encodings (see ConnectorCodecs).
// They are not in NewRegistry: ska-sdp-dataqueues does not know them.
const (
	CArray = "carray"
	Python = "python"
)

// ErrUnknownEncoding is returned by Registry.Lookup for a name no codec is
// registered under.
var ErrUnknownEncoding = errors.New("encoding: unknown encoding")

// ErrDuplicate is returned by Registry.Register when the name is taken.
var ErrDuplicate = errors.New("encoding: encoding already registered")

// Errors the codecs return, wrapped with detail; test with errors.Is.
var (
	// ErrUnsupported: the encoding has no form for the value (Python's
	// TypeError "can not serialize …" or "Object of type … is not JSON
	// serializable").
	ErrUnsupported = errors.New("encoding: value not supported by this encoding")
	// ErrUnicode: text that the encoding cannot carry (Python's
	// UnicodeEncodeError / UnicodeDecodeError).
	ErrUnicode = errors.New("encoding: text not representable")
	// ErrDatetimeArray: msgpack_numpy cannot send a C-contiguous
	// datetime64/timedelta64 array, or a structured array holding one
	// (Python's ValueError "cannot include dtype 'M' in a buffer"); see
	// MsgpackNumpyCodec.AllowDatetime.
	ErrDatetimeArray = errors.New("encoding: msgpack_numpy cannot send a contiguous datetime64/timedelta64 array")
	// ErrObjectArray: an object (dtype 'O') array, which Python carries only
	// as a pickle; no codec here reads or writes pickles.
	ErrObjectArray = errors.New("encoding: object arrays are not supported")
	// ErrInvalidData: Decode was given bytes that are not a valid message
	// of the encoding. The error also wraps the underlying package's
	// sentinel (msgpack.ErrTruncated, npy.ErrFormat, pyjson.ErrSyntax, …).
	ErrInvalidData = errors.New("encoding: invalid data")
)

// An Appender is a Codec that can also encode into a caller-owned buffer,
// for hot paths that reuse one buffer per message. AppendEncode appends the
// encoding of v to dst and returns the extended slice; on error it returns
// dst with nothing appended. Every built-in codec implements it.
type Appender interface {
	AppendEncode(dst []byte, v pyval.Value) ([]byte, error)
}

// AppendEncode encodes v with c into dst, through c's AppendEncode when c
// is an Appender and through Encode otherwise.
func AppendEncode(c Codec, dst []byte, v pyval.Value) ([]byte, error) {
	if a, ok := c.(Appender); ok {
		return a.AppendEncode(dst, v)
	}
	b, err := c.Encode(v)
	if err != nil {
		return dst, err
	}
	return append(dst, b...), nil
}

// A Codec converts between pyval values and the bytes of one wire
// encoding. Implementations must be safe for concurrent use, and Decode
// must return an error, never panic, on hostile bytes.
type Codec interface {
	// Name is the wire name, e.g. "msgpack_numpy".
	Name() string
	// Encode returns the bytes Python would send for v.
	Encode(v pyval.Value) ([]byte, error)
	// Decode returns the value Python would receive from data. The result
	// may alias data; callers that reuse data must copy first.
	Decode(data []byte) (pyval.Value, error)
}

// Registry maps wire names to codecs. The zero value is empty; NewRegistry
// returns one holding every built-in codec. A Registry is safe for
// concurrent use.
type Registry struct {
	mu     sync.RWMutex
	codecs map[string]Codec
}

// NewRegistry returns a registry holding the built-in codecs.
func NewRegistry() *Registry {
	r := &Registry{}
	for _, c := range builtins() {
		if err := r.Register(c); err != nil {
			panic(err) // built-in names are distinct
		}
	}
	return r
}

// Register adds c under c.Name(). It fails with ErrDuplicate if the name
// is taken.
func (r *Registry) Register(c Codec) error {
	if c == nil || c.Name() == "" {
		return errors.New("encoding: register: codec without a name")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.codecs[c.Name()]; ok {
		return fmt.Errorf("%w: %q", ErrDuplicate, c.Name())
	}
	if r.codecs == nil {
		r.codecs = map[string]Codec{}
	}
	r.codecs[c.Name()] = c
	return nil
}

// Lookup returns the codec registered under name.
func (r *Registry) Lookup(name string) (Codec, error) {
	r.mu.RLock()
	c, ok := r.codecs[name]
	r.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w %q (known: %v)", ErrUnknownEncoding, name, r.Names())
	}
	return c, nil
}

// Names lists the registered wire names, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.codecs))
	for n := range r.codecs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
