package redis

import (
	"context"
	"fmt"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sdpkit/sdpkit/telstate/backend"
)

// Limits of one command in a batch: a chunk ends after this many items or
// once it holds this many bytes, whichever comes first, so that no single
// command or pipeline round trip grows without bound.
const (
	chunkItems = 1000
	chunkBytes = 4 << 20
)

// chunks calls fn with consecutive [i, j) ranges of n items whose sizes
// are given by size.
func chunks(n int, size func(i int) int, fn func(i, j int) error) error {
	for i := 0; i < n; {
		j, bytes := i, 0
		for j < n && j-i < chunkItems && (j == i || bytes+size(j) <= chunkBytes) {
			bytes += size(j)
			j++
		}
		if err := fn(i, j); err != nil {
			return err
		}
		i = j
	}
	return nil
}

// AddMutables adds samples to the sensor key as AddMutable would one by
// one, in order, publishing every new sample exactly as add_mutable does
// (backend.BatchAdder), but with one script call per chunk of up to 1000
// samples (4 MiB): a single round trip, and far less work for the server
// than one EVALSHA per sample. A chunk that fails on the connection is
// sent again once (adding a sample twice stores it once). On error the
// earlier chunks are written.
func (b *Backend) AddMutables(ctx context.Context, key []byte, samples []backend.Sample) error {
	for i, s := range samples {
		if err := backend.CheckTimestamp(s.Timestamp); err != nil {
			return fmt.Errorf("redis add_mutable %q (sample %d): %w", key, i, err)
		}
	}
	keys := []string{string(key)}
	return chunks(len(samples), func(i int) int { return 8 + len(samples[i].Value) }, func(i, j int) error {
		members := make([]any, j-i)
		for n, s := range samples[i:j] {
			members[n] = backend.PackMember(s.Value, s.Timestamp)
		}
		op := fmt.Sprintf("add_mutable (samples %d to %d of %d)", i, j-1, len(samples))
		return b.call(ctx, op, key, func(ctx context.Context) error {
			return runScript(ctx, b.c, b.sc.addMutables, keys, members...).Err()
		})
	})
}

// LoadString stores an immutable, replacing key (SET; backend.Loader).
func (b *Backend) LoadString(ctx context.Context, key, value []byte) error {
	return b.call(ctx, "load string", key, func(ctx context.Context) error {
		return b.c.Set(ctx, string(key), value, 0).Err()
	})
}

// LoadZSet stores a sensor from zset members, replacing key
// (backend.Loader): DEL and ZADD with score 0 in chunks, sent as one
// MULTI/EXEC transaction so that readers never see a half-loaded key and a
// retry after a connection failure repeats the whole replacement. No
// update is published. An empty members list leaves the key absent (Redis
// has no empty sorted sets).
func (b *Backend) LoadZSet(ctx context.Context, key []byte, members [][]byte) error {
	k := string(key)
	return b.call(ctx, "load zset", key, func(ctx context.Context) error {
		_, err := b.c.TxPipelined(ctx, func(p goredis.Pipeliner) error {
			p.Del(ctx, k)
			return chunks(len(members), func(i int) int { return len(members[i]) }, func(i, j int) error {
				zs := make([]goredis.Z, j-i)
				for n, m := range members[i:j] {
					zs[n] = goredis.Z{Score: 0, Member: m}
				}
				p.ZAdd(ctx, k, zs...)
				return nil
			})
		})
		return err
	})
}

// LoadHash stores an indexed key, replacing key (backend.Loader): DEL and
// HSET in chunks in one MULTI/EXEC transaction, as LoadZSet. A repeated
// sub-key keeps the last value. An empty entries list leaves the key
// absent.
func (b *Backend) LoadHash(ctx context.Context, key []byte, entries []backend.Entry) error {
	k := string(key)
	return b.call(ctx, "load hash", key, func(ctx context.Context) error {
		_, err := b.c.TxPipelined(ctx, func(p goredis.Pipeliner) error {
			p.Del(ctx, k)
			return chunks(len(entries), func(i int) int { return len(entries[i].SubKey) + len(entries[i].Value) }, func(i, j int) error {
				fv := make([]any, 0, 2*(j-i))
				for _, e := range entries[i:j] {
					fv = append(fv, e.SubKey, e.Value)
				}
				p.HSet(ctx, k, fv...)
				return nil
			})
		})
		return err
	})
}

// LoadBatch stores many keys, each replacing its key, in one MULTI/EXEC
// transaction: SET for attributes, DEL then chunked ZADD / HSET for
// sensors and indexed keys (backend.BatchLoader). RDB loading and copying
// use it so that a file of many small keys costs one round trip per batch,
// not per key. Like the single-key loads it publishes nothing, and a retry
// after a connection failure repeats the whole batch, which is harmless.
func (b *Backend) LoadBatch(ctx context.Context, recs []backend.Record) error {
	if len(recs) == 0 {
		return nil
	}
	op := fmt.Sprintf("load batch of %d keys", len(recs))
	return b.call(ctx, op, recs[0].Key, func(ctx context.Context) error {
		_, err := b.c.TxPipelined(ctx, func(p goredis.Pipeliner) error {
			for _, r := range recs {
				k := string(r.Key)
				switch r.Type {
				case backend.Immutable:
					p.Set(ctx, k, r.Value, 0)
				case backend.Mutable:
					p.Del(ctx, k)
					_ = chunks(len(r.Members), func(i int) int { return len(r.Members[i]) }, func(i, j int) error {
						zs := make([]goredis.Z, j-i)
						for n, m := range r.Members[i:j] {
							zs[n] = goredis.Z{Score: 0, Member: m}
						}
						p.ZAdd(ctx, k, zs...)
						return nil
					})
				case backend.Indexed:
					p.Del(ctx, k)
					_ = chunks(len(r.Entries), func(i int) int { return len(r.Entries[i].SubKey) + len(r.Entries[i].Value) }, func(i, j int) error {
						fv := make([]any, 0, 2*(j-i))
						for _, e := range r.Entries[i:j] {
							fv = append(fv, e.SubKey, e.Value)
						}
						p.HSet(ctx, k, fv...)
						return nil
					})
				default:
					return fmt.Errorf("key %q: unknown key type %v", r.Key, r.Type)
				}
			}
			return nil
		})
		return err
	})
}
