package config

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/sdpkit/sdpkit/config/kv"
)

// Sentinel errors; test with errors.Is. The typed errors below match them
// and carry the details.
var (
	// ErrInvalidPath: a path breaks a rule of spec §1.1 (*PathError).
	ErrInvalidPath = errors.New("config: invalid path")
	// ErrCollision: Create of a key that exists (*CollisionError); Python's
	// ConfigCollision.
	ErrCollision = errors.New("config: key already exists")
	// ErrVanished: Update or Delete of a key that does not exist, or an
	// Update whose MustBeRev no longer holds (*VanishedError); Python's
	// ConfigVanished.
	ErrVanished = errors.New("config: key does not exist")
	// ErrTxnRetries: a transaction's commit conflicted MaxRetries+1 times
	// in a row.
	ErrTxnRetries = errors.New("config: transaction did not succeed")
	// ErrTxnTooLarge: a commit needs more compares or operations than one
	// store transaction may carry, even nested (*TxnTooLargeError): about
	// (limit/2)² in all, some 4000 under etcd's default. Nothing was sent.
	ErrTxnTooLarge = errors.New("config: transaction too large")
	// ErrTxnDone: a Txn was used after its attempt ended (the Go
	// counterpart of "Attempted to modify committed transaction!").
	ErrTxnDone = errors.New("config: transaction already finished")
	// ErrInvalidRevision: MustBeRev was given a revision without a mod
	// revision (Python's "Did not pass a valid mod_revision!").
	ErrInvalidRevision = errors.New("config: not a valid mod revision")
	// ErrUnsupported: an option that does not apply where it was used
	// (for example Recursive on a transaction's Delete).
	ErrUnsupported = errors.New("config: unsupported option")
	// ErrClosed: the Config was closed.
	ErrClosed = errors.New("config: closed")
)

// PathError reports a path that breaks a rule; it matches ErrInvalidPath.
type PathError struct {
	Path string
	Rule string // one of the Rule* constants
}

func (e *PathError) Error() string {
	return "config: invalid path " + strconv.Quote(e.Path) + ": " + e.Rule
}

// Is makes errors.Is(err, ErrInvalidPath) true.
func (e *PathError) Is(target error) bool { return target == ErrInvalidPath }

// CollisionError reports a Create of an existing key; it matches
// ErrCollision.
type CollisionError struct {
	Path string
}

func (e *CollisionError) Error() string {
	return "config: cannot create " + e.Path + ", as it already exists"
}

// Is makes errors.Is(err, ErrCollision) true.
func (e *CollisionError) Is(target error) bool { return target == ErrCollision }

// PyMessage is the message of Python's ConfigCollision for the same case.
func (e *CollisionError) PyMessage() string {
	return "Cannot create " + e.Path + ", as it already exists!"
}

// VanishedError reports an Update or Delete of a missing key (or a stale
// MustBeRev); it matches ErrVanished.
type VanishedError struct {
	Op   string // "update" or "delete"
	Path string
	// InTxn is set for errors raised inside a transaction (only the
	// Python message differs).
	InTxn bool
}

func (e *VanishedError) Error() string {
	return "config: cannot " + e.Op + " " + e.Path + ", as it does not exist"
}

// Is makes errors.Is(err, ErrVanished) true.
func (e *VanishedError) Is(target error) bool { return target == ErrVanished }

// PyMessage is the message of Python's ConfigVanished for the same case
// (a transaction's delete says "it does not exist", without "as").
func (e *VanishedError) PyMessage() string {
	if e.InTxn && e.Op == "delete" {
		return "Cannot delete " + e.Path + ", it does not exist!"
	}
	return "Cannot " + e.Op + " " + e.Path + ", as it does not exist!"
}

// TxnTooLargeError reports a commit that cannot be one store transaction
// under the operation limit (DB option WithMaxTxnOps, etcd's
// --max-txn-ops), even split into nested transactions. It matches
// ErrTxnTooLarge and kv.ErrTooManyOps.
type TxnTooLargeError struct {
	Compares int // compares the commit needs
	Ops      int // write operations the commit needs
	Limit    int
}

func (e *TxnTooLargeError) Error() string {
	return fmt.Sprintf("config: transaction too large: commit needs %d compares and %d operations, the store allows %d per level of nesting (a listing guards each listed key with its own compare)",
		e.Compares, e.Ops, e.Limit)
}

// Is matches ErrTxnTooLarge and kv.ErrTooManyOps.
func (e *TxnTooLargeError) Is(target error) bool {
	return target == ErrTxnTooLarge || target == kv.ErrTooManyOps
}
