// Package redis is the Redis telstate backend: a backend.Backend that keeps
// the telescope state in a Redis database, laid out exactly as Python's
// katsdptelstate RedisBackend lays it out, so that Go and Python clients
// can read, write and wait on the same database at the same time.
//
// # Connecting
//
// Open connects from a connection string as users write them:
//
//	redis://[user:password@]host[:port][/db]   plain TCP (default port 6379, db 0)
//	rediss://...                               the same over TLS
//	unix:///path/to/redis.sock?db=N            a Unix socket
//	host[:port], [ipv6]:port                   katsdptelstate's endpoint form
//
// and owns the client it creates (Close closes it). New wraps a go-redis
// client the caller made and leaves it open on Close. Both PING the server
// first; a failure is an error wrapping backend.ErrConnection.
//
// Clients made by Open use katsdptelstate's settings: a 5 s socket timeout
// for dialling, reading and writing (WithSocketTimeout), and RESP2; they
// also make no go-redis internal retries of commands or dials (the retry
// policy below is ours) and apply context deadlines to socket operations.
//
// # Data layout
//
// Keys are the full keys (view prefix included) as raw bytes, in one
// logical database:
//
//   - immutable: a STRING holding the encoded value;
//   - mutable (sensor): a ZSET whose scores are all 0 and whose members are
//     backend.PackMember(value, ts), the 8-byte big-endian timestamp
//     followed by the encoded value, so that byte order is time order;
//   - indexed: a HASH from encoded sub-key to encoded value.
//
// Writes run as server-side Lua scripts (written for this package, with
// the effects of katsdptelstate's set_immutable, add_mutable and
// set_indexed), so that "create if absent, else return what is there" and
// the PUBLISH of the change are one atomic step. Reads of a whole key and
// of one sub-key are scripts too (get, get_indexed). Scripts are sent as
// EVALSHA; when the server does not know one (NOSCRIPT, for instance after
// a restart) it is loaded with SCRIPT LOAD and the EVALSHA repeated, as
// redis-py does. GetRange is katsdptelstate's MULTI/EXEC transaction:
// EXISTS, then ZREVRANGEBYLEX ... LIMIT 0 1 for the previous sample and
// ZRANGEBYLEX for the range, with bounds from backend.RangeBounds. Keys is
// KEYS, Delete is UNLINK, Clear is FLUSHDB ASYNC (the whole database) and
// KeyType is TYPE.
//
// A WRONGTYPE reply, also when it comes from inside a script, means the
// key is of another kind and is reported as backend.ErrImmutableKey. A key
// of a type telstate does not use (a Redis list, set or stream) is
// reported the same way.
//
// # Updates (Monitor)
//
// Every write that creates something (a new key, a new sample, a new
// sub-key) publishes on channel "update/" + key, with katsdptelstate's
// message formats: the encoded value for an immutable, the zset member
// (timestamp + value) for a sample, and 0x03, the ASCII decimal length of
// the encoded sub-key, '\n', the sub-key and the value for an indexed
// entry. Python's waiters understand exactly these messages.
//
// A Monitor holds one pub/sub connection subscribed to the channels of
// all its keys. It reports a "check again" update (Type backend.KeyNone)
// once every channel is subscribed, both at the start and after each
// reconnection, because anything may have changed while it was not
// listening. Messages are decoded as katsdptelstate does: a first byte of
// 1, 2 or 3 is a key-type byte; otherwise the key's type is asked with
// TYPE (and the message dropped if the key has gone). A message that
// cannot be decoded, or whose key type cannot be asked, becomes a "check
// again" update instead of an error, and so does a backlog of more than
// maxQueued unread messages: the waiter then re-reads the state.
//
// # Failures and retries
//
// Every command and script this package sends is idempotent: writing the
// same immutable value, sample or sub-key twice stores it once and
// publishes once, and the loader's transactions replace a key as a whole.
// So when a call fails because of the connection (refused, reset, timed
// out, or the server is still loading its data after a restart), it is
// sent once more on a new connection, as katsdptelstate's asyncio backend
// does, and only then reported. A retried write whose first attempt did
// reach the server returns what the second attempt sees: SetImmutable and
// SetIndexed then return the value just written as the "old" value, which
// the telstate package accepts as an equal re-set. Server error replies are
// not retried, and neither is anything after the context has ended.
//
// Each call therefore either succeeds or returns an error that says what
// failed (operation and key) and wraps backend.ErrConnection (for
// connection failures), backend.ErrImmutableKey, backend.ErrKeyNotFound or
// the context's error. Batched calls (AddMutables, the Loader methods)
// retry one pipeline chunk at a time; an error part-way leaves the
// earlier chunks written, as the backend.BatchAdder contract allows.
//
// Monitors reconnect by themselves: go-redis re-subscribes on a new
// connection when the old one breaks, the monitor retries with a short
// back-off while the server is away, and it pings the server when it has
// heard nothing for the health-check interval (WithHealthCheckInterval,
// default 30 s, katsdptelstate's health_check_interval) and starts a new
// subscription if the ping is not answered either. A wait that is in
// progress when the server restarts therefore carries on and sees the
// writes made after the restart.
//
// # Concurrency
//
// A Backend is safe for concurrent use; it shares the go-redis client's
// connection pool. A Monitor's Next must be called from one goroutine at a
// time; Close may be called from any.
package redis
