package config

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/config/kv"
	"github.com/sdpkit/sdpkit/internal/kvtrace"
)

// vectorEnv is one vector scenario on a fresh store: a DB over a
// recorder over the store, and the revision the scenario starts at.
type vectorEnv struct {
	t    *testing.T
	s    kv.KV
	rec  *kvtrace.Recorder
	db   *DB
	rev0 int64
	ctx  context.Context
}

func newVectorEnv(t *testing.T, s kv.KV, opts ...DBOption) *vectorEnv {
	rev0 := kvtrace.Wipe(t, s)
	rec := kvtrace.NewRecorder(s)
	return &vectorEnv{t: t, s: s, rec: rec, db: NewDB(rec, opts...), rev0: rev0, ctx: context.Background()}
}

func (e *vectorEnv) create(paths ...string) {
	e.t.Helper()
	for _, p := range paths {
		must(e.t, e.db.Create(e.ctx, p, []byte("v"), 0))
	}
}

func (e *vectorEnv) createEmpty(paths ...string) {
	e.t.Helper()
	for _, p := range paths {
		must(e.t, e.db.Create(e.ctx, p, nil, 0))
	}
}

func (e *vectorEnv) check(sc *kvtrace.Scenario) {
	e.t.Helper()
	kvtrace.CheckRequests(e.t, sc.Name, e.rec.Take(), sc.EtcdRequests)
	kvtrace.CheckFinalKeys(e.t, e.s, e.rev0, sc.FinalKeys, true)
}

// recurseOpt turns a vector's recurse (int or list) into a ListOption.
func recurseOpt(t *testing.T, v any) ListOption {
	switch x := v.(type) {
	case float64:
		return Recurse(int(x))
	case []any:
		var ds []int
		for _, d := range x {
			ds = append(ds, int(d.(float64)))
		}
		return Depths(ds...)
	}
	t.Fatalf("recurse %v", v)
	return nil
}

func TestVectorsBackendPaths(t *testing.T) {
	scs := kvtrace.Load(t, "backend_paths.json")
	forEachStore(t, func(t *testing.T, s kv.KV) {
		t.Run("basic_paths", func(t *testing.T) {
			sc := scs["basic_paths"]
			e := newVectorEnv(t, s)
			for _, c := range []struct{ p, v string }{
				{"/a", "x"}, {"/a/b", "y"}, {"/a/b/c", "z"}, {"/ab", ""}, {"/u", "ünï€😀"},
				{"/int", strconv.Itoa(42)}, {"/sdp/pb/pb-x-20210101-00000/state", `{"s": 1}`},
			} {
				must(t, e.db.Create(e.ctx, c.p, []byte(c.v), 0))
			}
			must(t, e.db.Update(e.ctx, "/a", []byte("x2")))
			v, r, err := e.db.Get(e.ctx, "/a", 0)
			if err != nil || string(v) != "x2" || r.ModRevision == 0 || r.Revision < r.ModRevision {
				t.Errorf("get /a = %q %+v %v", v, r, err)
			}
			v, r, err = e.db.Get(e.ctx, "/missing", 0)
			if err != nil || v != nil || r.ModRevision != 0 {
				t.Errorf("get /missing = %q %+v %v", v, r, err)
			}
			var results []map[string]any
			json.Unmarshal(sc.Results, &results)
			errs := map[string]string{}
			for _, r := range results {
				if e, ok := r["error"].(string); ok {
					errs[r["op"].(string)] = e
				}
			}
			for op, call := range map[string]func() error{
				"create('')":    func() error { return e.db.Create(e.ctx, "", []byte("v"), 0) },
				"create('foo')": func() error { return e.db.Create(e.ctx, "foo", []byte("v"), 0) },
				"create('/a/')": func() error { return e.db.Create(e.ctx, "/a/", []byte("v"), 0) },
				"create('/a') again": func() error {
					return e.db.Create(e.ctx, "/a", []byte("again"), 0)
				},
				"update('/nope')": func() error { return e.db.Update(e.ctx, "/nope", []byte("v")) },
			} {
				if got := pyErr(call()); got != errs[op] {
					t.Errorf("%s: error %q, want %q", op, got, errs[op])
				}
			}
			// The map above runs in random order; the failing creates and
			// updates send requests, so compare requests ignoring their order
			// past the successful operations.
			got := e.rec.Take()
			want := kvtrace.NormRequests(sc.EtcdRequests).([]any)
			if len(got) != len(want) {
				t.Fatalf("%d requests, want %d", len(got), len(want))
			}
			kvtrace.CheckRequests(t, "ordered part", got[:10], want[:10])
			if !sameMultiset(got[10:], want[10:]) {
				t.Errorf("error-case requests differ: %v vs %v", got[10:], want[10:])
			}
			kvtrace.CheckFinalKeys(t, e.s, e.rev0, sc.FinalKeys, true)
			var pe *PathError
			if err := e.db.Create(e.ctx, "foo", nil, 0); !errors.Is(err, ErrInvalidPath) || !errors.As(err, &pe) || pe.Path != "foo" {
				t.Errorf("create foo: %v", err)
			}
			var ce *CollisionError
			if err := e.db.Create(e.ctx, "/a", nil, 0); !errors.Is(err, ErrCollision) || !errors.As(err, &ce) || ce.Path != "/a" {
				t.Errorf("create /a: %v", err)
			}
			var ve *VanishedError
			if err := e.db.Update(e.ctx, "/nope", nil); !errors.Is(err, ErrVanished) || !errors.As(err, &ve) || ve.Path != "/nope" {
				t.Errorf("update /nope: %v", err)
			}
		})
		t.Run("depth_ten_and_more", func(t *testing.T) {
			sc := scs["depth_ten_and_more"]
			e := newVectorEnv(t, s)
			e.create("/d", "/d/1", "/d/1/2/3/4/5/6/7/8/9", "/d/1/2/3/4/5/6/7/8/9/10")
			runListResults(t, e, sc.Results, "list_keys")
			e.check(sc)
		})
	})
}

func sameMultiset(a, b []any) bool {
	count := map[string]int{}
	for _, x := range a {
		k, _ := json.Marshal(x)
		count[string(k)]++
	}
	for _, x := range b {
		k, _ := json.Marshal(x)
		count[string(k)]--
	}
	for _, n := range count {
		if n != 0 {
			return false
		}
	}
	return true
}

// runListResults replays a vector's list_keys results: entries with
// field [path, recurse] (or "path"/"recurse") and "result" or "error".
func runListResults(t *testing.T, e *vectorEnv, raw json.RawMessage, field string) {
	t.Helper()
	var results []map[string]any
	if err := json.Unmarshal(raw, &results); err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		var path string
		var recurse any
		if args, ok := r[field].([]any); ok {
			path, recurse = args[0].(string), args[1]
		} else {
			path, recurse = r["path"].(string), r["recurse"]
		}
		got, rev, err := e.db.ListKeys(e.ctx, path, recurseOpt(t, recurse))
		if want, ok := r["error"].(string); ok {
			if pyErr(err) != want {
				t.Errorf("list_keys(%q, %v): error %v, want %s", path, recurse, err, want)
			}
			continue
		}
		if err != nil {
			t.Fatalf("list_keys(%q, %v): %v", path, recurse, err)
		}
		want := []string{}
		for _, p := range r["result"].([]any) {
			want = append(want, p.(string))
		}
		if got == nil {
			got = []string{}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("list_keys(%q, %v) = %q, want %q", path, recurse, got, want)
		}
		if rev.ModRevision != 0 || rev.Revision == 0 {
			t.Errorf("list_keys(%q) revision %+v", path, rev)
		}
	}
}

var listData = []string{"/t/a", "/t/ab", "/t/b", "/t/ax", "/t/ab/c", "/t/a/d", "/t/a/d/x", "/tx", "/tx/y"}

var errAbandon = errors.New("abandon the transaction")

func TestVectorsListKeys(t *testing.T) {
	scs := kvtrace.Load(t, "list_keys.json")
	forEachStore(t, func(t *testing.T, s kv.KV) {
		t.Run("list_keys_backend", func(t *testing.T) {
			sc := scs["list_keys_backend"]
			e := newVectorEnv(t, s)
			e.createEmpty(listData...)
			runListResults(t, e, sc.Results, "")
			e.check(sc)
		})
		t.Run("list_keys_txn_overlay", func(t *testing.T) {
			sc := scs["list_keys_txn_overlay"]
			e := newVectorEnv(t, s)
			e.createEmpty(listData...)
			var first, second, third []string
			must(t, e.db.Txn(e.ctx, func(tx *Txn) error {
				var err error
				if first, err = tx.List("/t/"); err != nil {
					return err
				}
				if err := tx.Create("/t/new", []byte("n"), 0); err != nil {
					return err
				}
				if err := tx.Delete("/t/b"); err != nil {
					return err
				}
				if second, err = tx.List("/t/"); err != nil {
					return err
				}
				third, err = tx.List("/t/", Recurse(1))
				return err
			}))
			// 0.3.2 listed the pending delete /t/b in the second and third
			// listings; the intended behaviour hides it.
			want := [][]string{
				{"/t/a", "/t/ab", "/t/ax", "/t/b"},
				{"/t/a", "/t/ab", "/t/ax", "/t/new"},
				{"/t/a", "/t/a/d", "/t/ab", "/t/ab/c", "/t/ax", "/t/new"},
			}
			if got := [][]string{first, second, third}; !reflect.DeepEqual(got, want) {
				t.Errorf("listings %q, want %q", got, want)
			}
			e.check(sc)
		})
		t.Run("list_keys_txn_delete_bug", func(t *testing.T) {
			sc := scs["list_keys_txn_delete_bug"]
			e := newVectorEnv(t, s)
			e.createEmpty("/q/a", "/q/b", "/qq")
			var l1, l2 []string
			err := e.db.Txn(e.ctx, func(tx *Txn) error {
				var err error
				must(t, tx.Delete("/q/a"))
				if l1, err = tx.List("/q/"); err != nil {
					return err
				}
				must(t, tx.Delete("/q/never", AllowMissing()))
				if l2, err = tx.List("/q/"); err != nil {
					return err
				}
				return errAbandon
			})
			if err != errAbandon {
				t.Fatalf("txn: %v", err)
			}
			// 0.3.2: [/q/a /q/b] and [/q/a /q/b /q/never].
			want := []string{"/q/b"}
			if !reflect.DeepEqual(l1, want) || !reflect.DeepEqual(l2, want) {
				t.Errorf("listings %q %q, want %q", l1, l2, want)
			}
			e.check(sc)
		})
	})
}

func TestVectorsDelete(t *testing.T) {
	scs := kvtrace.Load(t, "delete.json")
	data := []string{"/k", "/k/x", "/k/x/y", "/kx", "/kx/y", "/k2"}
	cases := []struct {
		name string
		path string
		opts []DeleteOption
	}{
		{"delete:delete('/k')", "/k", nil},
		{"delete:delete('/k', recursive=True)", "/k", []DeleteOption{Recursive()}},
		{"delete:delete('/k', prefix=True)", "/k", []DeleteOption{Prefix()}},
		{"delete:delete('/k', recursive=True, prefix=True)", "/k", []DeleteOption{Recursive(), Prefix()}},
		{"delete:delete('/nothere', must_exist=False, recursive=True)", "/nothere", []DeleteOption{AllowMissing(), Recursive()}},
		{"delete:delete('/nothere')", "/nothere", nil},
	}
	forEachStore(t, func(t *testing.T, s kv.KV) {
		for _, c := range cases {
			sc := scs[c.name]
			var res struct {
				Error string `json:"error"`
			}
			json.Unmarshal(sc.Results, &res)
			// Exactly 0.3.2's requests with MaxDepth(16); the default
			// (unbounded) recursion leaves the same survivors here.
			for _, exact := range []bool{true, false} {
				t.Run(fmt.Sprintf("%s/exact=%v", c.name, exact), func(t *testing.T) {
					e := newVectorEnv(t, s)
					e.create(data...)
					opts := c.opts
					if exact {
						opts = append(opts[:len(opts):len(opts)], MaxDepth(16))
					}
					err := e.db.Delete(e.ctx, c.path, opts...)
					if got := pyErr(err); got != res.Error {
						t.Errorf("error %q, want %q", got, res.Error)
					}
					reqs := e.rec.Take()
					if exact {
						kvtrace.CheckRequests(t, c.name, reqs, sc.EtcdRequests)
					} else {
						last := reqs[len(reqs)-1].(map[string]any)
						n := len(last["success"].([]any))
						if want := 1 + 127*boolInt(hasRecursive(opts)); n != want {
							t.Errorf("delete sends %d ops, want %d", n, want)
						}
					}
					kvtrace.CheckFinalKeys(t, e.s, e.rev0, sc.FinalKeys, true)
				})
			}
		}
		t.Run("max_depth", func(t *testing.T) {
			sc := scs["delete:max_depth"]
			for _, exact := range []bool{true, false} {
				e := newVectorEnv(t, s)
				p := "/r"
				for i := 0; i < 18; i++ {
					must(t, e.db.Create(e.ctx, p, []byte("v"), 0))
					p += "/x"
				}
				opts := []DeleteOption{Recursive()}
				if exact {
					opts = append(opts, MaxDepth(16))
				}
				must(t, e.db.Delete(e.ctx, "/r", opts...))
				reqs := e.rec.Take()
				if exact {
					kvtrace.CheckRequests(t, "max_depth", reqs, sc.EtcdRequests)
					kvtrace.CheckFinalKeys(t, e.s, e.rev0, sc.FinalKeys, true)
				} else {
					// Fixed: no level survives (0.3.2 kept depths 17 and 18).
					kvtrace.CheckFinalKeys(t, e.s, e.rev0, nil, true)
				}
			}
		})
	})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func hasRecursive(opts []DeleteOption) bool {
	var c deleteConfig
	for _, o := range opts {
		o.applyDelete(&c)
	}
	return c.recursive
}

func TestVectorsTransactions(t *testing.T) {
	scs := kvtrace.Load(t, "transactions.json")
	forEachStore(t, func(t *testing.T, s kv.KV) {
		t.Run("txn_read_write", func(t *testing.T) {
			sc := scs["txn_read_write"]
			e := newVectorEnv(t, s)
			must(t, e.db.Create(e.ctx, "/t/a", []byte("1"), 0))
			must(t, e.db.Create(e.ctx, "/t/c", []byte("3"), 0))
			var tx0 *Txn
			must(t, e.db.Txn(e.ctx, func(tx *Txn) error {
				tx0 = tx
				a, err := tx.Get("/t/a")
				if err != nil || string(a) != "1" {
					return fmt.Errorf("get /t/a = %q, %v", a, err)
				}
				if _, err := tx.List("/t/"); err != nil {
					return err
				}
				if err := tx.Create("/t/b", []byte("2"), 0); err != nil {
					return err
				}
				if err := tx.Update("/t/a", []byte("2")); err != nil {
					return err
				}
				if err := tx.Delete("/t/c"); err != nil {
					return err
				}
				m, err := tx.Get("/t/missing")
				if err != nil || m != nil {
					return fmt.Errorf("get /t/missing = %q, %v", m, err)
				}
				return nil
			}))
			if tx0.Revision() == 0 {
				t.Error("committed revision undefined")
			}
			e.check(sc)
		})
		t.Run("txn_read_only", func(t *testing.T) {
			sc := scs["txn_read_only"]
			e := newVectorEnv(t, s)
			must(t, e.db.Create(e.ctx, "/t/a", []byte("1"), 0))
			must(t, e.db.Txn(e.ctx, func(tx *Txn) error {
				if _, err := tx.Get("/t/a"); err != nil {
					return err
				}
				_, err := tx.List("/t/")
				return err
			}))
			e.check(sc)
		})
		t.Run("txn_same_key_overwrites", func(t *testing.T) {
			sc := scs["txn_same_key_overwrites"]
			e := newVectorEnv(t, s)
			must(t, e.db.Txn(e.ctx, func(tx *Txn) error {
				for _, err := range []error{
					tx.Create("/t/k", []byte("v1"), 0),
					tx.Update("/t/k", []byte("v2")),
					tx.Delete("/t/k"),
					tx.Create("/t/k", []byte("v3"), 0),
				} {
					if err != nil {
						return err
					}
				}
				return nil
			}))
			e.check(sc)
		})
		t.Run("txn_conflict_retry", func(t *testing.T) {
			sc := scs["txn_conflict_retry"]
			e := newVectorEnv(t, s)
			must(t, e.db.Create(e.ctx, "/t/n", []byte("0"), 0))
			var seen []string
			must(t, e.db.Txn(e.ctx, func(tx *Txn) error {
				v, err := tx.Get("/t/n")
				if err != nil {
					return err
				}
				seen = append(seen, string(v))
				if len(seen) == 1 {
					must(t, e.db.Update(e.ctx, "/t/n", []byte("100")))
				}
				n, _ := strconv.Atoi(string(v))
				return tx.Update("/t/n", []byte(strconv.Itoa(n+1)))
			}))
			if !reflect.DeepEqual(seen, []string{"0", "100"}) {
				t.Errorf("values seen %q", seen)
			}
			e.check(sc)
		})
		t.Run("txn_max_retries", func(t *testing.T) {
			sc := scs["txn_max_retries"]
			e := newVectorEnv(t, s)
			must(t, e.db.Create(e.ctx, "/t/r", []byte("0"), 0))
			attempts := 0
			err := e.db.Txn(e.ctx, func(tx *Txn) error {
				v, err := tx.Get("/t/r")
				if err != nil {
					return err
				}
				must(t, e.db.Update(e.ctx, "/t/r", []byte(strconv.Itoa(attempts))))
				attempts++
				return tx.Update("/t/r", append(v, 'x'))
			}, MaxRetries(3))
			if attempts != 4 || !errors.Is(err, ErrTxnRetries) {
				t.Errorf("attempts %d, error %v", attempts, err)
			}
			e.check(sc)
		})
		t.Run("txn_too_many_compares", func(t *testing.T) {
			sc := scs["txn_too_many_compares"]
			e := newVectorEnv(t, s)
			for i := 0; i < 130; i++ {
				must(t, e.db.Create(e.ctx, fmt.Sprintf("/m/%03d", i), []byte("v"), 0))
			}
			e.rec.Take()
			body := func(tx *Txn) error {
				if _, err := tx.List("/m/"); err != nil {
					return err
				}
				return tx.Create("/m/new", []byte("x"), 0)
			}
			// 0.3.2 sent the commit flat and etcd refused it; so does a DB
			// that does not know the store's limit.
			db := NewDB(e.s, WithMaxTxnOps(0))
			if err := db.Txn(e.ctx, body); !errors.Is(err, kv.ErrTooManyOps) {
				t.Errorf("store error %v", err)
			}
			// The vector's commit: "... 132 compares in total".
			last := sc.EtcdRequests[len(sc.EtcdRequests)-1].(map[string]any)["compare"].([]any)
			var wantCompares int
			fmt.Sscanf(last[len(last)-1].(string), "... %d compares in total", &wantCompares)
			// Deliberate difference: knowing the limit, the DB sends the
			// same guards as one transaction of nested transactions, and
			// it commits.
			e.rec.Take()
			if err := e.db.Txn(e.ctx, body); err != nil {
				t.Fatalf("large commit: %v", err)
			}
			var commits []map[string]any
			for _, r := range e.rec.Take() {
				if m := r.(map[string]any); m["rpc"] == "Txn" && len(m["compare"].([]any)) > 0 {
					commits = append(commits, m)
				}
			}
			if len(commits) != 1 {
				t.Fatalf("%d commits sent, want 1", len(commits))
			}
			if n := countCompares(commits[0]); n != wantCompares {
				t.Errorf("commit carries %d compares, want the vector's %d", n, wantCompares)
			}
			if v, _, err := e.db.Get(e.ctx, "/m/new", 0); err != nil || string(v) != "x" {
				t.Fatalf("/m/new = %q, %v", v, err)
			}
			// Back to the vector's final state (Python never created it).
			must(t, e.db.Delete(e.ctx, "/m/new"))
			var keys []kvtrace.FinalKey
			for i := 0; i < 130; i++ {
				var k kvtrace.FinalKey
				k.Key.Hex = hex.EncodeToString(fmt.Appendf(nil, "2/m/%03d", i))
				k.Value.Hex = "76"
				k.Version = 1
				c := int64(i + 1)
				k.CreateRel, k.ModRel = &c, &c
				keys = append(keys, k)
			}
			kvtrace.CheckFinalKeys(t, e.s, e.rev0, keys, true) // final_keys: "(130 keys /m/000 .. /m/129 omitted)"
		})
	})
}

func TestVectorsLeaseOwner(t *testing.T) {
	sc := kvtrace.Load(t, "lease_owner.json")["pb_owner_lease"]
	var res struct {
		WhileLeaseHeld []kvtrace.FinalKey `json:"while_lease_held"`
		SecondTake     string             `json:"second_take"`
	}
	must(t, json.Unmarshal(sc.Results, &res))
	pbValue, _ := hex.DecodeString(res.WhileLeaseHeld[0].Value.Hex)
	ownerValue, _ := hex.DecodeString(res.WhileLeaseHeld[1].Value.Hex)
	owner := Owner{Command: []string{"vis_receive.py", "pb-test-20210101-00000"}, Hostname: "host-1", PID: 1}
	if got := owner.JSON(); string(got) != string(ownerValue) {
		t.Fatalf("owner JSON\n%s\nwant\n%s", got, ownerValue)
	}
	forEachStore(t, func(t *testing.T, s kv.KV) {
		e := newVectorEnv(t, s)
		const pb, ownerPath = "/pb/pb-test-20210101-00000", "/pb/pb-test-20210101-00000/owner"
		must(t, e.db.Txn(e.ctx, func(tx *Txn) error { return tx.Create(pb, pbValue, 0) }))
		lease, err := e.db.Lease(e.ctx, 10)
		must(t, err)
		must(t, e.db.Txn(e.ctx, func(tx *Txn) error { return tx.Create(ownerPath, owner.JSON(), lease.ID()) }))
		e.rec.Pause(true)
		kvtrace.CheckFinalKeys(t, e.s, e.rev0, res.WhileLeaseHeld, true)
		e.rec.Pause(false)
		isOwner := false
		must(t, e.db.Txn(e.ctx, func(tx *Txn) error {
			p, err := tx.Get(pb)
			if err != nil || p == nil {
				return err
			}
			o, err := tx.Get(ownerPath)
			isOwner = err == nil && string(o) == string(owner.JSON())
			return err
		}))
		if !isOwner {
			t.Error("not owner")
		}
		err = e.db.Txn(e.ctx, func(tx *Txn) error { return tx.Create(ownerPath, owner.JSON(), lease.ID()) })
		if got := pyErr(err); got != res.SecondTake {
			t.Errorf("second take: %q, want %q", got, res.SecondTake)
		}
		must(t, lease.Revoke(e.ctx))
		must(t, e.db.Txn(e.ctx, func(tx *Txn) error {
			o, err := tx.Get(ownerPath)
			if o != nil {
				t.Errorf("owner after revoke: %q", o)
			}
			return err
		}))
		e.check(sc)
	})
}

func TestVectorsWatch(t *testing.T) {
	sc := kvtrace.Load(t, "watch.json")["watch_prefix_one_level"]
	var res struct {
		Events []struct {
			Key   string  `json:"key"`
			Value *string `json:"value"`
		} `json:"events"`
	}
	must(t, json.Unmarshal(sc.Results, &res))
	forEachStore(t, func(t *testing.T, s kv.KV) {
		e := newVectorEnv(t, s)
		must(t, e.db.Create(e.ctx, "/w/pre", []byte("p"), 0))
		w, err := e.db.Watch(e.ctx, "/w/", Prefix())
		must(t, err)
		defer w.Stop()
		must(t, e.db.Create(e.ctx, "/w/a", []byte("1"), 0))
		must(t, e.db.Update(e.ctx, "/w/a", []byte("2")))
		must(t, e.db.Create(e.ctx, "/w/a/child", []byte("c"), 0))
		must(t, e.db.Create(e.ctx, "/wx", []byte("x"), 0))
		must(t, e.db.Delete(e.ctx, "/w/a"))
		must(t, e.db.Delete(e.ctx, "/w/pre"))
		for i, want := range res.Events {
			select {
			case ev := <-w.Events():
				wantType := Put
				if want.Value == nil {
					wantType = Deleted
				}
				if ev.Path != want.Key || ev.Type != wantType || (want.Value != nil && string(ev.Value) != *want.Value) || ev.Revision == 0 {
					t.Errorf("event %d: %+v, want %s %v", i, ev, want.Key, want.Value)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("event %d: timeout", i)
			}
		}
		select {
		case ev := <-w.Events():
			t.Errorf("extra event %+v", ev)
		case <-time.After(100 * time.Millisecond):
		}
		e.check(sc)
	})
}

func TestVectorsMemoryBackend(t *testing.T) {
	sc := kvtrace.Load(t, "memory_backend.json")["memory_backend"]
	var res []map[string]any
	must(t, json.Unmarshal(sc.Results, &res))
	forEachStore(t, func(t *testing.T, s kv.KV) {
		e := newVectorEnv(t, s)
		e.create("/a", "/ab", "/b", "/a/d", "/ab/c")
		for _, r := range res {
			if p, ok := r["memory list_keys"].(string); ok {
				got, _, err := e.db.ListKeys(e.ctx, p)
				must(t, err)
				var want []string
				for _, w := range r["etcd3 list_keys(recurse=0) would give"].([]any) {
					want = append(want, w.(string))
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("list %s = %q, want etcd's %q", p, got, want)
				}
			}
			if r["after"] == "delete('/a', recursive=True)" {
				must(t, e.db.Delete(e.ctx, "/a", Recursive()))
				got, _, err := e.db.ListKeys(e.ctx, "/", Recurse(3))
				must(t, err)
				var want []string
				for _, w := range r["etcd3 would keep"].([]any) {
					want = append(want, w.(string))
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("after recursive delete: %q, want %q", got, want)
				}
			}
		}
	})
}

// countCompares counts the compares of a recorded Txn request, nested
// transactions included.
func countCompares(req map[string]any) int {
	n := len(req["compare"].([]any))
	for _, list := range []string{"success", "failure"} {
		for _, op := range req[list].([]any) {
			if nested, ok := op.(map[string]any)["txn"]; ok {
				n += countCompares(nested.(map[string]any))
			}
		}
	}
	return n
}
