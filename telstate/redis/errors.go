package redis

import (
	"context"
	"errors"
	"fmt"
	"strings"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sdpkit/sdpkit/telstate/backend"
)

// ErrClosed is returned by a Monitor after Close (its own or its
// backend's).
var ErrClosed = errors.New("redis: monitor closed")

// errClass sorts a go-redis error for the retry policy.
type errClass int

const (
	classNone      errClass = iota // no error
	classReply                     // an error reply from the server: final
	classWrongType                 // a WRONGTYPE reply: final, ErrImmutableKey
	classConn                      // the connection failed: retry once
	classContext                   // the caller's context ended: final
	classClosed                    // the client was closed: final
)

// classify sorts err. ctx is the caller's context: once it has ended,
// whatever the socket reported is put down to it.
func classify(ctx context.Context, err error) errClass {
	switch {
	case err == nil || err == goredis.Nil:
		return classNone
	case ctx.Err() != nil:
		return classContext
	case errors.Is(err, goredis.ErrClosed):
		return classClosed
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		// A context error that is not the caller's: go-redis's own dial
		// timeout, for instance.
		return classConn
	}
	var re goredis.Error
	if errors.As(err, &re) {
		msg := re.Error()
		switch {
		case strings.Contains(msg, "WRONGTYPE"):
			return classWrongType
		case strings.HasPrefix(msg, "LOADING"), strings.HasPrefix(msg, "MASTERDOWN"), strings.HasPrefix(msg, "TRYAGAIN"):
			// The server is up but not serving yet (loading its AOF or
			// RDB after a restart): as good as not connected.
			return classConn
		}
		return classReply
	}
	return classConn
}

// wrapErr turns a go-redis error from operation op on key into one of ours,
// naming both; retried tells whether the call was already sent twice.
func wrapErr(ctx context.Context, op string, key []byte, err error, retried bool) error {
	where := op
	if key != nil {
		where = fmt.Sprintf("%s %q", op, key)
	}
	switch classify(ctx, err) {
	case classNone:
		return nil
	case classWrongType:
		return fmt.Errorf("%w: redis %s: key holds another kind of value (%w)", backend.ErrImmutableKey, where, err)
	case classConn:
		again := ""
		if retried {
			again = " (also on retry after reconnecting)"
		}
		return fmt.Errorf("%w: redis %s failed%s: %w", backend.ErrConnection, where, again, err)
	case classClosed:
		return fmt.Errorf("%w: redis %s: %w", backend.ErrConnection, where, err)
	case classContext:
		return fmt.Errorf("redis %s: %w", where, ctx.Err())
	}
	return fmt.Errorf("redis %s: %w", where, err)
}
