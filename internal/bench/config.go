package bench

import (
	"context"
	"fmt"
	"strconv"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/sdpkit/sdpkit/config"
	"github.com/sdpkit/sdpkit/config/etcd"
)

// ConfigOps are the workloads of Config.
var ConfigOps = []string{"get", "create", "txn-rmw", "list", "watch-latency"}

// Layers of a configuration benchmark: the sdpkit config layer, or the
// equivalent bare etcd client requests.
const (
	LayerSDP = "sdp"
	LayerRaw = "raw"
)

// ConfigConfig describes one configuration-database benchmark run.
type ConfigConfig struct {
	Op      string
	N       int
	Clients int
	// Raw runs the equivalent bare clientv3 requests instead of the
	// config layer, so that the layer's cost shows as a ratio.
	Raw bool
	// ListSize is the number of keys the list workload lists (default
	// 100).
	ListSize int
	// Prefix is the path under which the workloads write (default
	// "/bench"); each op uses Prefix/op, deleted first and left behind.
	Prefix string
	// WatchBarePut makes the config-layer variant of watch-latency write
	// with a bare Put too (instead of DB.Update's guarded Txn), so that
	// only the watch path differs from raw.
	WatchBarePut bool
}

// Config runs one workload against etcd: through the config layer
// (config.DB on writer), or with cfg.Raw the same requests made with the
// bare client. watcher is a second client (its own connection), on which
// watch-latency receives its events. Keys are depth-tagged as the config
// layer stores them, so both variants touch the same keys in the same
// way. A few untimed operations warm up first.
//
//   - get: read one key (DB.Get; raw: Range of the tagged key).
//   - create: create a new key (DB.Create; raw: Txn version == 0 → put).
//   - txn-rmw: increment a per-client counter (DB.Txn with Get and
//     Update; raw: Range, then Txn mod_revision == read → put).
//   - list: list the ListSize children of a path (DB.ListKeys; raw: a
//     keys-only Range over the tagged prefix).
//   - watch-latency: put a per-client key and wait until a watch on
//     the other client reports it (DB.Update and DB.Watch; raw: Put and
//     Watch); latency is from the write's start to the event's arrival.
//     DB.Update is a Txn guarded by version != 0, which etcd serves more
//     slowly than a Put under concurrency; WatchBarePut isolates the
//     watch path.
func Config(ctx context.Context, writer, watcher *clientv3.Client, cfg ConfigConfig) (Result, error) {
	if cfg.Prefix == "" {
		cfg.Prefix = "/bench"
	}
	if cfg.ListSize <= 0 {
		cfg.ListSize = 100
	}
	db := config.NewDB(etcd.New(writer))
	base := cfg.Prefix + "/" + cfg.Op
	if err := config.CheckKeyPath(base); err != nil {
		return Result{}, fmt.Errorf("bench: prefix %q: %w", cfg.Prefix, err)
	}
	// Setup, not timed: an empty tree under base.
	if err := db.Delete(ctx, base, config.Recursive(), config.AllowMissing()); err != nil {
		return Result{}, err
	}
	tag := func(path string) string { return string(db.Codec().Key(path, config.Depth(path))) }
	layer := LayerSDP
	if cfg.Raw {
		layer = LayerRaw
	}
	var op OpFunc
	switch cfg.Op {
	case "get":
		path := base + "/k"
		if err := db.Create(ctx, path, []byte(`{"status": "RUNNING"}`), 0); err != nil {
			return Result{}, err
		}
		key := tag(path)
		if cfg.Raw {
			op = func(ctx context.Context, c, i int) (int, error) {
				r, err := writer.Get(ctx, key)
				if err == nil && len(r.Kvs) != 1 {
					err = fmt.Errorf("%s missing", key)
				}
				return 1, err
			}
		} else {
			op = func(ctx context.Context, c, i int) (int, error) {
				v, _, err := db.Get(ctx, path, 0)
				if err == nil && v == nil {
					err = fmt.Errorf("%s missing", path)
				}
				return 1, err
			}
		}
	case "create":
		val := []byte(`{"id": 1}`)
		path := func(i int) string { return base + "/" + layer + "-" + strconv.Itoa(i) }
		if cfg.Raw {
			op = func(ctx context.Context, c, i int) (int, error) {
				key := tag(path(i))
				r, err := writer.Txn(ctx).If(clientv3.Compare(clientv3.Version(key), "=", 0)).
					Then(clientv3.OpPut(key, string(val))).Commit()
				if err == nil && !r.Succeeded {
					err = fmt.Errorf("%s exists", key)
				}
				return 1, err
			}
		} else {
			op = func(ctx context.Context, c, i int) (int, error) {
				return 1, db.Create(ctx, path(i), val, 0)
			}
		}
	case "txn-rmw":
		path := func(c int) string { return base + "/c" + strconv.Itoa(c) }
		for c := 0; c < cfg.Clients; c++ {
			if err := db.Create(ctx, path(c), []byte("0"), 0); err != nil {
				return Result{}, err
			}
		}
		if cfg.Raw {
			op = func(ctx context.Context, c, i int) (int, error) { return 1, rawIncrement(ctx, writer, tag(path(c))) }
		} else {
			op = func(ctx context.Context, c, i int) (int, error) {
				p := path(c)
				return 1, db.Txn(ctx, func(tx *config.Txn) error {
					v, err := tx.Get(p)
					if err != nil {
						return err
					}
					n, err := strconv.Atoi(string(v))
					if err != nil {
						return fmt.Errorf("counter %s = %q: %w", p, v, err)
					}
					return tx.Update(p, strconv.AppendInt(nil, int64(n+1), 10))
				})
			}
		}
	case "list":
		dir := base + "/d/"
		for lo := 0; lo < cfg.ListSize; lo += 100 {
			err := db.Txn(ctx, func(tx *config.Txn) error {
				for i := lo; i < min(lo+100, cfg.ListSize); i++ {
					if err := tx.Create(fmt.Sprintf("%sk%05d", dir, i), []byte("{}"), 0); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return Result{}, err
			}
		}
		want := cfg.ListSize
		if cfg.Raw {
			prefix := tag(dir)
			op = func(ctx context.Context, c, i int) (int, error) {
				r, err := writer.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithKeysOnly())
				if err == nil && len(r.Kvs) != want {
					err = fmt.Errorf("listed %d keys, want %d", len(r.Kvs), want)
				}
				return 1, err
			}
		} else {
			op = func(ctx context.Context, c, i int) (int, error) {
				keys, _, err := db.ListKeys(ctx, dir)
				if err == nil && len(keys) != want {
					err = fmt.Errorf("listed %d keys, want %d", len(keys), want)
				}
				return 1, err
			}
		}
	case "watch-latency":
		var stop func()
		var err error
		op, stop, err = watchLatency(ctx, db, writer, watcher, base, cfg, tag)
		if err != nil {
			return Result{}, err
		}
		defer stop()
	default:
		return Result{}, fmt.Errorf("bench: unknown config op %q (want one of %v)", cfg.Op, ConfigOps)
	}
	// Warm up (connections, server caches) so that the first of two
	// back-to-back runs is not at a disadvantage; negative operation
	// numbers keep the warm-up's keys and values apart.
	for k := 0; k < min(cfg.N, 20); k++ {
		if _, err := op(ctx, 0, -2-k); err != nil {
			return Result{}, fmt.Errorf("bench: warm-up: %w", err)
		}
	}
	r, err := Run(ctx, cfg.Op, cfg.N, cfg.Clients, op)
	r.Layer = layer
	return r, err
}

// rawIncrement is txn-rmw with the bare client: read, then write guarded
// by the read's mod revision, again on conflict.
func rawIncrement(ctx context.Context, c *clientv3.Client, key string) error {
	for {
		r, err := c.Get(ctx, key)
		if err != nil {
			return err
		}
		if len(r.Kvs) != 1 {
			return fmt.Errorf("counter %s missing", key)
		}
		n, err := strconv.Atoi(string(r.Kvs[0].Value))
		if err != nil {
			return fmt.Errorf("counter %s = %q: %w", key, r.Kvs[0].Value, err)
		}
		t, err := c.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(key), "=", r.Kvs[0].ModRevision)).
			Then(clientv3.OpPut(key, strconv.Itoa(n+1))).Commit()
		if err != nil || t.Succeeded {
			return err
		}
	}
}

// watchLatency sets up one watched key per client, each watched on the
// watcher client, and returns the op that writes the key and waits for
// its event, and the function that ends the watches.
func watchLatency(ctx context.Context, db *config.DB, writer, watcher *clientv3.Client, base string, cfg ConfigConfig,
	tag func(string) string) (OpFunc, func(), error) {
	wdb := config.NewDB(etcd.New(watcher))
	path := func(c int) string { return base + "/w" + strconv.Itoa(c) }
	// One channel of received values per client, fed by its watch.
	got := make([]chan string, cfg.Clients)
	wctx, cancel := context.WithCancel(ctx)
	for c := range got {
		if err := db.Create(ctx, path(c), []byte("-1"), 0); err != nil {
			cancel()
			return nil, nil, err
		}
		got[c] = make(chan string, 64)
		if cfg.Raw {
			wch := watcher.Watch(wctx, tag(path(c)), clientv3.WithCreatedNotify())
			if r, ok := <-wch; !ok || !r.Created {
				cancel()
				return nil, nil, fmt.Errorf("bench: watch of %s not created: %v", path(c), r.Err())
			}
			go func(out chan<- string) {
				for r := range wch {
					for _, ev := range r.Events {
						out <- string(ev.Kv.Value)
					}
				}
			}(got[c])
		} else {
			w, err := wdb.Watch(wctx, path(c))
			if err != nil {
				cancel()
				return nil, nil, err
			}
			go func(out chan<- string) {
				for ev := range w.Events() {
					out <- string(ev.Value)
				}
			}(got[c])
		}
	}
	wait := func(ctx context.Context, c int, want string) error {
		timeout := time.NewTimer(10 * time.Second)
		defer timeout.Stop()
		for {
			select {
			case v := <-got[c]:
				if v == want {
					return nil
				}
			case <-timeout.C:
				return fmt.Errorf("no watch event for %s = %s within 10 s", path(c), want)
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	return func(ctx context.Context, c, i int) (int, error) {
		v := strconv.Itoa(i)
		var err error
		if cfg.Raw || cfg.WatchBarePut {
			_, err = writer.Put(ctx, tag(path(c)), v)
		} else {
			err = db.Update(ctx, path(c), []byte(v))
		}
		if err != nil {
			return 1, err
		}
		return 1, wait(ctx, c, v)
	}, cancel, nil
}
