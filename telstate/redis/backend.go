package redis

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sdpkit/sdpkit/telstate/backend"
)

// Backend is a telstate backend on a Redis server. Create one with New or
// Open.
type Backend struct {
	c   goredis.UniversalClient
	own bool // Close closes c
	cfg config
	sc  *scripts

	mu       sync.Mutex
	closed   bool
	monitors map[*monitor]struct{}
}

var (
	_ backend.Backend    = (*Backend)(nil)
	_ backend.Loader     = (*Backend)(nil)
	_ backend.BatchAdder = (*Backend)(nil)
)

// New returns a Backend using client, which stays the caller's: Close does
// not close it. New PINGs the server (with one retry, each attempt bounded
// by DefaultSocketTimeout and by the client's own timeouts) and fails with
// an error wrapping backend.ErrConnection if it cannot. Only
// WithHealthCheckInterval applies; the options that shape a client are for
// Open and are refused here.
//
// The client's own settings stay as they are; if it retries failed
// commands itself (go-redis's MaxRetries, 3 by default), those retries
// come on top of this package's single retry.
func New(client goredis.UniversalClient, opts ...Option) (*Backend, error) {
	if client == nil {
		return nil, errors.New("redis: New: nil client")
	}
	cfg := buildConfig(opts)
	if len(cfg.openOnly) > 0 {
		return nil, fmt.Errorf("redis: New: %s applies to Open only", strings.Join(cfg.openOnly, ", "))
	}
	return newBackend(context.Background(), client, cfg, false)
}

func newBackend(ctx context.Context, client goredis.UniversalClient, cfg config, own bool) (*Backend, error) {
	b := &Backend{c: client, own: own, cfg: cfg, sc: newScripts(), monitors: make(map[*monitor]struct{})}
	if err := b.call(ctx, "ping", nil, func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, cfg.socketTimeout)
		defer cancel()
		return client.Ping(ctx).Err()
	}); err != nil {
		if !errors.Is(err, backend.ErrConnection) {
			// Refused credentials, a wrong database number...: whatever
			// stops the first PING means "cannot connect".
			err = fmt.Errorf("%w: %w", backend.ErrConnection, err)
		}
		return nil, err
	}
	return b, nil
}

// Client returns the go-redis client.
func (b *Backend) Client() goredis.UniversalClient { return b.c }

// Close closes the backend's monitors and, if Open created the client,
// the client. Calling it again does nothing.
func (b *Backend) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	ms := make([]*monitor, 0, len(b.monitors))
	for m := range b.monitors {
		ms = append(ms, m)
	}
	b.mu.Unlock()
	for _, m := range ms {
		_ = m.Close()
	}
	if b.own {
		if err := b.c.Close(); err != nil {
			return fmt.Errorf("redis: closing the client: %w", err)
		}
	}
	return nil
}

// call runs attempt, which must return go-redis errors only (goredis.Nil
// counts as success), and runs it once more if it failed because of the
// connection: see "Failures and retries" in the package doc. The error is
// wrapped with op and key.
func (b *Backend) call(ctx context.Context, op string, key []byte, attempt func(context.Context) error) error {
	err := attempt(ctx)
	if classify(ctx, err) != classConn {
		return wrapErr(ctx, op, key, err, false)
	}
	return wrapErr(ctx, op, key, attempt(ctx), true)
}

// replyErr reports a reply of an unexpected shape.
func replyErr(op string, key []byte, reply any) error {
	return fmt.Errorf("redis %s %q: unexpected reply %T %v", op, key, reply, reply)
}

// Exists reports whether key exists (EXISTS).
func (b *Backend) Exists(ctx context.Context, key []byte) (bool, error) {
	var n int64
	err := b.call(ctx, "exists", key, func(ctx context.Context) (err error) {
		n, err = b.c.Exists(ctx, string(key)).Result()
		return err
	})
	return n > 0, err
}

// Keys returns the keys matching the Redis glob pattern (KEYS, over the
// whole database).
func (b *Backend) Keys(ctx context.Context, pattern []byte) ([][]byte, error) {
	var ks []string
	err := b.call(ctx, "keys", pattern, func(ctx context.Context) (err error) {
		ks, err = b.c.Keys(ctx, string(pattern)).Result()
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(ks))
	for i, k := range ks {
		out[i] = []byte(k)
	}
	return out, nil
}

// Delete removes key (UNLINK: the memory is reclaimed in the background).
func (b *Backend) Delete(ctx context.Context, key []byte) error {
	return b.call(ctx, "delete", key, func(ctx context.Context) error {
		return b.c.Unlink(ctx, string(key)).Err()
	})
}

// Clear removes every key of the database, not only telstate's (FLUSHDB
// ASYNC).
func (b *Backend) Clear(ctx context.Context) error {
	return b.call(ctx, "clear", nil, func(ctx context.Context) error {
		return b.c.FlushDBAsync(ctx).Err()
	})
}

// keyTypeOf maps a Redis type name to a telstate key type.
func keyTypeOf(name string) (backend.KeyType, bool) {
	switch name {
	case "none":
		return backend.KeyNone, true
	case "string":
		return backend.Immutable, true
	case "zset":
		return backend.Mutable, true
	case "hash":
		return backend.Indexed, true
	}
	return backend.KeyNone, false
}

func foreignType(op string, key []byte, name string) error {
	return fmt.Errorf("%w: redis %s %q: key is a Redis %s, which telstate does not use", backend.ErrImmutableKey, op, key, name)
}

// KeyType returns the kind of key (TYPE). A key of a Redis type telstate
// does not use (list, set, stream) gives ErrImmutableKey.
func (b *Backend) KeyType(ctx context.Context, key []byte) (backend.KeyType, error) {
	var name string
	err := b.call(ctx, "key_type", key, func(ctx context.Context) (err error) {
		name, err = b.c.Type(ctx, string(key)).Result()
		return err
	})
	if err != nil {
		return backend.KeyNone, err
	}
	t, ok := keyTypeOf(name)
	if !ok {
		return backend.KeyNone, foreignType("key_type", key, name)
	}
	return t, nil
}

// SetImmutable creates key holding value unless it exists, publishing the
// value on "update/<key>" if it was created (script set_immutable). See
// backend.Backend for the results.
func (b *Backend) SetImmutable(ctx context.Context, key, value []byte) ([]byte, error) {
	var old any
	err := b.call(ctx, "set_immutable", key, func(ctx context.Context) (err error) {
		old, err = runScript(ctx, b.c, b.sc.setImmutable, []string{string(key)}, value).Result()
		return err
	})
	if err != nil {
		return nil, err
	}
	if old == nil { // created
		return nil, nil
	}
	s, ok := old.(string)
	if !ok {
		return nil, replyErr("set_immutable", key, old)
	}
	return []byte(s), nil
}

// AddMutable adds the sample (value, ts) to the sensor key, publishing the
// zset member on "update/<key>" if it is new (script add_mutable).
// ErrInvalidTimestamp for a NaN, infinite or negative ts.
func (b *Backend) AddMutable(ctx context.Context, key, value []byte, ts float64) error {
	if err := backend.CheckTimestamp(ts); err != nil {
		return fmt.Errorf("redis add_mutable %q: %w", key, err)
	}
	m := backend.PackMember(value, ts)
	return b.call(ctx, "add_mutable", key, func(ctx context.Context) error {
		return runScript(ctx, b.c, b.sc.addMutable, []string{string(key)}, m).Err()
	})
}

// SetIndexed sets subKey of the indexed key unless present, publishing the
// indexed update message if it was set (script set_indexed). See
// backend.Backend for the results.
func (b *Backend) SetIndexed(ctx context.Context, key, subKey, value []byte) ([]byte, error) {
	var old any
	err := b.call(ctx, "set_indexed", key, func(ctx context.Context) (err error) {
		old, err = runScript(ctx, b.c, b.sc.setIndexed, []string{string(key)}, subKey, value).Result()
		return err
	})
	if err != nil {
		return nil, err
	}
	if old == nil {
		return nil, nil
	}
	s, ok := old.(string)
	if !ok {
		return nil, replyErr("set_indexed", key, old)
	}
	return []byte(s), nil
}

// Get returns the key's contents (script get): an immutable's value, a
// sensor's latest sample (the greatest member), or an indexed key's
// entries sorted by encoded sub-key. ErrKeyNotFound if absent.
func (b *Backend) Get(ctx context.Context, key []byte) (backend.Value, error) {
	var res any
	err := b.call(ctx, "get", key, func(ctx context.Context) (err error) {
		res, err = runScript(ctx, b.c, b.sc.get, []string{string(key)}).Result()
		return err
	})
	if err != nil {
		return backend.Value{}, err
	}
	arr, ok := res.([]any)
	if !ok || len(arr) == 0 {
		return backend.Value{}, replyErr("get", key, res)
	}
	name, _ := arr[0].(string)
	t, known := keyTypeOf(name)
	if !known {
		return backend.Value{}, foreignType("get", key, name)
	}
	v := backend.Value{Type: t}
	switch t {
	case backend.KeyNone:
		return backend.Value{}, fmt.Errorf("%w: %q", backend.ErrKeyNotFound, key)
	case backend.Immutable:
		s, ok := arrString(arr, 1)
		if !ok {
			return backend.Value{}, replyErr("get", key, res)
		}
		v.Value = []byte(s)
	case backend.Mutable:
		if s, ok := arrString(arr, 1); ok {
			val, ts, err := backend.SplitMember([]byte(s))
			if err != nil {
				return backend.Value{}, fmt.Errorf("redis get %q: %w", key, err)
			}
			v.Value, v.Timestamp = val, ts
		}
	case backend.Indexed:
		var flat []any
		if len(arr) > 1 {
			flat, _ = arr[1].([]any)
		}
		if len(flat)%2 != 0 {
			return backend.Value{}, replyErr("get", key, res)
		}
		v.Entries = make([]backend.Entry, 0, len(flat)/2)
		for i := 0; i < len(flat); i += 2 {
			f, ok1 := flat[i].(string)
			val, ok2 := flat[i+1].(string)
			if !ok1 || !ok2 {
				return backend.Value{}, replyErr("get", key, res)
			}
			v.Entries = append(v.Entries, backend.Entry{SubKey: []byte(f), Value: []byte(val)})
		}
		// HGETALL order is the server's hash order; sort as the memory
		// backend does, so every backend lists entries alike.
		slices.SortFunc(v.Entries, func(x, y backend.Entry) int { return bytes.Compare(x.SubKey, y.SubKey) })
	}
	return v, nil
}

func arrString(arr []any, i int) (string, bool) {
	if i >= len(arr) {
		return "", false
	}
	s, ok := arr[i].(string)
	return s, ok
}

// GetIndexed returns subKey's value of the indexed key (script
// get_indexed). See backend.Backend for the results.
func (b *Backend) GetIndexed(ctx context.Context, key, subKey []byte) ([]byte, bool, error) {
	var res any
	err := b.call(ctx, "get_indexed", key, func(ctx context.Context) (err error) {
		res, err = runScript(ctx, b.c, b.sc.getIndexed, []string{string(key)}, subKey).Result()
		return err
	})
	if err != nil {
		return nil, false, err
	}
	switch r := res.(type) {
	case string:
		return []byte(r), true, nil
	case int64:
		if r == 0 {
			return nil, false, fmt.Errorf("%w: %q", backend.ErrKeyNotFound, key)
		}
		return nil, false, nil
	}
	return nil, false, replyErr("get_indexed", key, res)
}

// GetRange returns samples of the sensor key as katsdptelstate's Redis
// backend does, in one MULTI/EXEC transaction:
//
//	EXISTS key
//	ZREVRANGEBYLEX key <start> - LIMIT 0 1   if includePrevious and start is not "-"
//	ZRANGEBYLEX key <start> <end>            unless start is "+" or end is "-"
//
// with the bounds of backend.RangeBounds. ErrKeyNotFound if the key is
// absent; ErrImmutableKey if it is of another kind (a WRONGTYPE reply);
// ErrInvalidTimestamp if start or end is NaN.
//
// When neither range command would run (start = +Inf without
// includePrevious, or start <= 0 with end <= 0) the transaction is EXISTS
// and TYPE instead, so that a key of another kind is still an error as
// with every other backend, where Python would return an empty list.
func (b *Backend) GetRange(ctx context.Context, key []byte, start, end float64, includePrevious, includeEnd bool) ([]backend.Sample, error) {
	if math.IsNaN(start) || math.IsNaN(end) {
		return nil, fmt.Errorf("%w: redis get_range %q: NaN in time range [%v, %v]", backend.ErrInvalidTimestamp, key, start, end)
	}
	q := backend.RangeBounds(start, end, includePrevious, includeEnd)
	k := string(key)
	var (
		exists    *goredis.IntCmd
		typ       *goredis.StatusCmd
		prev, rng *goredis.StringSliceCmd
	)
	err := b.call(ctx, "get_range", key, func(ctx context.Context) error {
		_, err := b.c.TxPipelined(ctx, func(p goredis.Pipeliner) error {
			exists = p.Exists(ctx, k)
			if q.Previous {
				prev = p.ZRevRangeByLex(ctx, k, &goredis.ZRangeBy{Max: string(q.Start.Redis()), Min: "-", Count: 1})
			}
			if q.Range {
				rng = p.ZRangeByLex(ctx, k, &goredis.ZRangeBy{Min: string(q.Start.Redis()), Max: string(q.End.Redis())})
			}
			if !q.Previous && !q.Range {
				typ = p.Type(ctx, k)
			}
			return nil
		})
		if classify(ctx, err) == classConn {
			return err
		}
		// Error replies inside EXEC (WRONGTYPE) belong to single
		// commands and are looked at below, after EXISTS.
		return exists.Err()
	})
	if err != nil {
		return nil, err
	}
	if exists.Val() == 0 {
		return nil, fmt.Errorf("%w: %q", backend.ErrKeyNotFound, key)
	}
	if typ != nil {
		if err := typ.Err(); err != nil {
			return nil, wrapErr(ctx, "get_range", key, err, false)
		}
		if t := typ.Val(); t != "zset" {
			return nil, fmt.Errorf("%w: redis get_range %q: key is a Redis %s, not a sensor", backend.ErrImmutableKey, key, t)
		}
		return []backend.Sample{}, nil
	}
	var members []string
	for _, c := range []*goredis.StringSliceCmd{prev, rng} {
		if c == nil {
			continue
		}
		if err := c.Err(); err != nil {
			return nil, wrapErr(ctx, "get_range", key, err, false)
		}
		if members == nil {
			members = c.Val()
		} else {
			members = append(members, c.Val()...)
		}
	}
	return splitMembers(key, members)
}

// splitMembers turns zset members into samples whose values share one
// allocation.
func splitMembers(key []byte, members []string) ([]backend.Sample, error) {
	n := 0
	for _, m := range members {
		if len(m) < 8 {
			return nil, fmt.Errorf("redis get_range %q: sensor member of %d bytes is shorter than its 8-byte timestamp", key, len(m))
		}
		n += len(m) - 8
	}
	buf := make([]byte, 0, n)
	out := make([]backend.Sample, len(members))
	for i, m := range members {
		ts := math.Float64frombits(beUint64(m))
		start := len(buf)
		buf = append(buf, m[8:]...)
		out[i] = backend.Sample{Value: buf[start:len(buf):len(buf)], Timestamp: ts}
	}
	return out, nil
}

func beUint64(s string) uint64 {
	_ = s[7]
	return uint64(s[0])<<56 | uint64(s[1])<<48 | uint64(s[2])<<40 | uint64(s[3])<<32 |
		uint64(s[4])<<24 | uint64(s[5])<<16 | uint64(s[6])<<8 | uint64(s[7])
}
