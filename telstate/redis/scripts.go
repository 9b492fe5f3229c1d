package redis

import (
	"context"

	goredis "github.com/redis/go-redis/v9"
)

// The Lua scripts. Each takes the key as KEYS[1]. They have the effects of
// katsdptelstate's scripts of the same names (the commands they run, what
// they publish and when), but their replies are our own: explicit integers
// and arrays rather than Lua booleans, whose conversion differs between
// RESP2 and RESP3.

// setImmutableLua creates the key with ARGV[1] (the encoded value) if it
// is absent and publishes the value; the reply is nil then. Otherwise the
// reply is the stored value, or a WRONGTYPE error from GET if the key is
// not a string (SETNX does not look at types).
const setImmutableLua = `
if redis.call('SETNX', KEYS[1], ARGV[1]) == 1 then
  redis.call('PUBLISH', 'update/' .. KEYS[1], ARGV[1])
  return nil
end
return redis.call('GET', KEYS[1])
`

// addMutableLua adds the zset member ARGV[1] (packed timestamp + encoded
// value) with score 0 and publishes it if it was new. The reply is 1 for a
// new member, 0 for one already present.
const addMutableLua = `
if redis.call('ZADD', KEYS[1], 0, ARGV[1]) == 1 then
  redis.call('PUBLISH', 'update/' .. KEYS[1], ARGV[1])
  return 1
end
return 0
`

// addMutablesLua is addMutableLua for every member in ARGV, in order, in
// one script call: the batch path (AddMutables). Subscribers receive
// exactly the messages the same adds made one by one would publish. The
// reply is the number of new members.
const addMutablesLua = `
local n = 0
for i = 1, #ARGV do
  if redis.call('ZADD', KEYS[1], 0, ARGV[i]) == 1 then
    redis.call('PUBLISH', 'update/' .. KEYS[1], ARGV[i])
    n = n + 1
  end
end
return n
`

// setIndexedLua sets field ARGV[1] (encoded sub-key) to ARGV[2] (encoded
// value) if the field is absent and publishes 0x03, the decimal length of
// the sub-key, '\n', the sub-key and the value; the reply is nil then.
// Otherwise the reply is the stored value.
const setIndexedLua = `
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then
  redis.call('PUBLISH', 'update/' .. KEYS[1],
    '\3' .. string.len(ARGV[1]) .. '\n' .. ARGV[1] .. ARGV[2])
  return nil
end
return redis.call('HGET', KEYS[1], ARGV[1])
`

// getLua reads a whole key according to its type. The reply is an array
// whose first element is the Redis type name: {"none"}, {"string", value},
// {"zset", newest member}, {"hash", {field, value, ...}}, or {type} for a
// type telstate does not use.
const getLua = `
local t = redis.call('TYPE', KEYS[1])['ok']
if t == 'string' then
  return {t, redis.call('GET', KEYS[1])}
elseif t == 'zset' then
  local m = redis.call('ZREVRANGEBYLEX', KEYS[1], '+', '-', 'LIMIT', 0, 1)
  return {t, m[1]}
elseif t == 'hash' then
  return {t, redis.call('HGETALL', KEYS[1])}
end
return {t}
`

// getIndexedLua reads field ARGV[1]. The reply is the value if the field
// exists, else the integer EXISTS of the key (1: the key exists without
// that sub-key, 0: no key). HGET gives WRONGTYPE for a key of another kind.
const getIndexedLua = `
local v = redis.call('HGET', KEYS[1], ARGV[1])
if v then
  return v
end
return redis.call('EXISTS', KEYS[1])
`

// scripts holds one backend's script objects (each caches its SHA1).
type scripts struct {
	setImmutable, addMutable, addMutables, setIndexed, get, getIndexed *goredis.Script
}

func newScripts() *scripts {
	return &scripts{
		setImmutable: goredis.NewScript(setImmutableLua),
		addMutable:   goredis.NewScript(addMutableLua),
		addMutables:  goredis.NewScript(addMutablesLua),
		setIndexed:   goredis.NewScript(setIndexedLua),
		get:          goredis.NewScript(getLua),
		getIndexed:   goredis.NewScript(getIndexedLua),
	}
}

// runScript sends EVALSHA and, if the server does not have the script
// (NOSCRIPT), SCRIPT LOAD followed by EVALSHA again: the command sequence
// redis-py's registered scripts produce. (goredis.Script.Run would fall
// back to EVAL instead, which has the same effect but a different trace.)
func runScript(ctx context.Context, c goredis.Scripter, s *goredis.Script, keys []string, args ...any) *goredis.Cmd {
	cmd := s.EvalSha(ctx, c, keys, args...)
	if !isNoScript(cmd.Err()) {
		return cmd
	}
	if err := s.Load(ctx, c).Err(); err != nil {
		cmd.SetErr(err)
		return cmd
	}
	return s.EvalSha(ctx, c, keys, args...)
}

func isNoScript(err error) bool {
	return err != nil && goredis.HasErrorPrefix(err, "NOSCRIPT")
}
