package telstate

import (
	"context"
	"errors"
	"fmt"

	"github.com/sdpkit/sdpkit/telstate/backend"
	"github.com/sdpkit/sdpkit/telstate/encoding"
)

// The errors of this package. Test for them with errors.Is; the error text
// adds the key and the reason.
var (
	// ErrImmutableKey: a write conflicts with what is stored (another
	// value for an immutable key or sub-key, or a key of another kind),
	// or a read asks a key for something its kind lacks (GetRange of an
	// attribute, GetIndexed of a sensor).
	ErrImmutableKey = backend.ErrImmutableKey
	// ErrKeyNotFound: the key exists under no prefix of the view.
	ErrKeyNotFound = backend.ErrKeyNotFound
	// ErrInvalidTimestamp: a NaN, infinite or negative sample time, or a
	// NaN query time.
	ErrInvalidTimestamp = backend.ErrInvalidTimestamp
	// ErrConnection: the backend's server cannot be reached.
	ErrConnection = backend.ErrConnection
	// ErrRdbParse: an RDB file is malformed.
	ErrRdbParse = backend.ErrRdbParse
	// ErrEncode: a value cannot be encoded.
	ErrEncode = encoding.ErrEncode
	// ErrDecode: a stored value cannot be decoded.
	ErrDecode = encoding.ErrDecode

	// ErrSubKeyNotFound: the indexed key exists but lacks the sub-key. It
	// wraps ErrKeyNotFound, so errors.Is(err, ErrKeyNotFound) holds for
	// both "no such key" and "no such sub-key"; test ErrSubKeyNotFound
	// to tell them apart.
	ErrSubKeyNotFound error = subKeyNotFound{}
	// ErrTimeout: a wait ended because its context's deadline passed.
	// The error also matches the context's error
	// (context.DeadlineExceeded).
	ErrTimeout = errors.New("telstate: timed out")
	// ErrCancelled: a wait ended because its context was cancelled. The
	// error also matches context.Canceled.
	ErrCancelled = errors.New("telstate: cancelled")
)

type subKeyNotFound struct{}

func (subKeyNotFound) Error() string { return "telstate: sub-key not found" }
func (subKeyNotFound) Unwrap() error { return ErrKeyNotFound }

// waitErr is the error of a wait ended by ctx: it wraps ErrTimeout or
// ErrCancelled and ctx.Err().
func waitErr(ctx context.Context, what string, key []byte) error {
	cerr := ctx.Err()
	if cerr == nil {
		cerr = context.Canceled
	}
	sentinel := ErrCancelled
	if errors.Is(cerr, context.DeadlineExceeded) {
		sentinel = ErrTimeout
	}
	return fmt.Errorf("%w: %s %s: %w", sentinel, what, displayKey(key), cerr)
}
