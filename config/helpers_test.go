package config

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sync"
	"testing"

	"github.com/sdpkit/sdpkit/config/kv"
	"github.com/sdpkit/sdpkit/config/memory"
	"github.com/sdpkit/sdpkit/internal/vectors"
)

// storeFactory makes a fresh (empty) store for one test.
type storeFactory struct {
	name string
	new  func(t *testing.T) kv.KV
}

// testStores lists the stores every behavioural test runs against: the
// memory store always, real etcd when available (etcdStores, in
// etcd_test.go).
func testStores(t *testing.T) []storeFactory {
	stores := []storeFactory{{"memory", func(t *testing.T) kv.KV {
		s := memory.New()
		t.Cleanup(func() { s.Close() })
		return s
	}}}
	return append(stores, etcdStores(t)...)
}

// forEachStore runs f as a subtest per store.
func forEachStore(t *testing.T, f func(t *testing.T, s kv.KV)) {
	for _, sf := range testStores(t) {
		t.Run(sf.name, func(t *testing.T) { f(t, sf.new(t)) })
	}
}

// wipe deletes every key and returns the revision after it.
func wipe(t *testing.T, s kv.KV) int64 {
	t.Helper()
	res, err := s.Txn(context.Background(), nil, []kv.Op{{Type: kv.OpDelete, Key: []byte{0}, RangeEnd: []byte{0}}}, nil)
	if err != nil {
		t.Fatalf("wipe: %v", err)
	}
	return res.Revision
}

// recorder is a kv.KV that logs every request in the shape of the
// vectors' etcd_requests, with revisions and lease IDs replaced by the
// vectors' placeholders.
type recorder struct {
	kv.KV
	mu  sync.Mutex
	log []any
	on  bool
}

func newRecorder(s kv.KV) *recorder { return &recorder{KV: s, on: true} }

func (r *recorder) add(m map[string]any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.on {
		r.log = append(r.log, m)
	}
}

// take returns the log as generic JSON values and clears it.
func (r *recorder) take() []any {
	r.mu.Lock()
	defer r.mu.Unlock()
	b, _ := json.Marshal(r.log)
	r.log = nil
	var out []any
	json.Unmarshal(b, &out)
	return out
}

func (r *recorder) pause(on bool) {
	r.mu.Lock()
	r.on = on
	r.mu.Unlock()
}

func bstr(b []byte) any {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return map[string]any{"hex": hex.EncodeToString(b)}
		}
	}
	return string(b)
}

func (r *recorder) Get(ctx context.Context, key []byte, rev int64) (*kv.KeyValue, int64, error) {
	m := map[string]any{"rpc": "Range", "key": bstr(key)}
	if rev != 0 {
		m["revision"] = "<pinned read revision>"
	}
	r.add(m)
	return r.KV.Get(ctx, key, rev)
}

var (
	targetNames = map[kv.CompareTarget]string{kv.Version: "VERSION", kv.Create: "CREATE", kv.Mod: "MOD", kv.Value: "VALUE"}
	resultNames = map[kv.CompareResult]string{kv.Equal: "EQUAL", kv.NotEqual: "NOT_EQUAL", kv.Less: "LESS", kv.Greater: "GREATER"}
)

func opsJSON(ops []kv.Op) []any {
	out := []any{}
	for _, o := range ops {
		switch o.Type {
		case kv.OpPut:
			p := map[string]any{"key": bstr(o.Key), "value": bstr(o.Value)}
			if o.Lease != 0 {
				p["lease"] = "<lease id>"
			}
			out = append(out, map[string]any{"put": p})
		case kv.OpDelete:
			d := map[string]any{"key": bstr(o.Key)}
			if o.RangeEnd != nil {
				d["range_end"] = bstr(o.RangeEnd)
			}
			out = append(out, map[string]any{"delete_range": d})
		case kv.OpRange:
			g := map[string]any{"key": bstr(o.Key), "range_end": bstr(o.RangeEnd), "keys_only": o.KeysOnly}
			if o.Revision != 0 {
				g["revision"] = "<pinned read revision>"
			}
			out = append(out, map[string]any{"range": g})
		case kv.OpTxn:
			out = append(out, map[string]any{"txn": map[string]any{
				"compare": cmpsJSON(o.Txn.Compares), "success": opsJSON(o.Txn.Success), "failure": opsJSON(o.Txn.Failure)}})
		}
	}
	return out
}

func (r *recorder) Txn(ctx context.Context, cmps []kv.Compare, success, failure []kv.Op) (kv.TxnResult, error) {
	r.add(map[string]any{"rpc": "Txn", "compare": cmpsJSON(cmps), "success": opsJSON(success), "failure": opsJSON(failure)})
	return r.KV.Txn(ctx, cmps, success, failure)
}

func cmpsJSON(cmps []kv.Compare) []any {
	cs := []any{}
	for _, c := range cmps {
		m := map[string]any{"key": bstr(c.Key), "target": targetNames[c.Target], "result": resultNames[c.Result]}
		if c.RangeEnd != nil {
			m["range_end"] = bstr(c.RangeEnd)
		}
		if c.Target == kv.Version {
			m["against"] = c.Number
		} else {
			m["against"] = "<revision>"
		}
		cs = append(cs, m)
	}
	return cs
}

func (r *recorder) Watch(ctx context.Context, key, rangeEnd []byte, startRev int64) <-chan kv.WatchResponse {
	m := map[string]any{"rpc": "Watch.create", "key": bstr(key)}
	if rangeEnd != nil {
		m["range_end"] = bstr(rangeEnd)
	}
	if startRev != 0 {
		m["start_revision"] = "<revision>"
	}
	r.add(m)
	return r.KV.Watch(ctx, key, rangeEnd, startRev)
}

func (r *recorder) Grant(ctx context.Context, ttl int64) (kv.Lease, error) {
	r.add(map[string]any{"rpc": "LeaseGrant", "TTL": ttl})
	l, err := r.KV.Grant(ctx, ttl)
	if err != nil {
		return nil, err
	}
	return &recLease{Lease: l, r: r}, nil
}

type recLease struct {
	kv.Lease
	r *recorder
}

func (l *recLease) Revoke(ctx context.Context) error {
	l.r.add(map[string]any{"rpc": "LeaseRevoke"})
	return l.Lease.Revoke(ctx)
}

// normRequests turns a vector's etcd_requests into the recorder's form:
// non-printable strings keep only their hex.
func normRequests(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if h, ok := x["hex"]; ok {
			return map[string]any{"hex": h}
		}
		out := map[string]any{}
		for k, e := range x {
			out[k] = normRequests(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normRequests(e)
		}
		return out
	}
	return v
}

func checkRequests(t *testing.T, what string, got []any, want any) {
	t.Helper()
	w := normRequests(want)
	if reflect.DeepEqual(any(got), w) {
		return
	}
	gb, _ := json.MarshalIndent(got, "", " ")
	wb, _ := json.MarshalIndent(w, "", " ")
	t.Errorf("%s: etcd requests differ\ngot:  %s\nwant: %s", what, gb, wb)
}

// scenario is one vector scenario.
type scenario struct {
	Name         string          `json:"name"`
	Results      json.RawMessage `json:"results"`
	EtcdRequests []any           `json:"etcd_requests"`
	FinalKeysRaw json.RawMessage `json:"final_keys"`
	// FinalKeys is final_keys when it is a list (one vector has a note).
	FinalKeys []finalKey `json:"-"`
}

type finalKey struct {
	Key struct {
		Text string `json:"text"`
		Hex  string `json:"hex"`
	} `json:"key"`
	LogicalPath string `json:"logical_path"`
	Value       struct {
		Text string `json:"text"`
		Hex  string `json:"hex"`
	} `json:"value"`
	Version   int64  `json:"version"`
	CreateRel *int64 `json:"create_revision_rel"`
	ModRel    *int64 `json:"mod_revision_rel"`
	HasLease  bool   `json:"has_lease"`
}

// loadScenarios reads a vector file of shared/vectors/config.
func loadScenarios(t *testing.T, file string) map[string]*scenario {
	t.Helper()
	b, err := os.ReadFile(vectors.Path(t, "config", file))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	var list []*scenario
	if err := json.Unmarshal(f.Data, &list); err != nil {
		var one scenario
		if err2 := json.Unmarshal(f.Data, &one); err2 != nil {
			t.Fatalf("%s: %v", file, err)
		}
		list = []*scenario{&one}
	}
	out := map[string]*scenario{}
	for _, s := range list {
		json.Unmarshal(s.FinalKeysRaw, &s.FinalKeys)
		out[s.Name] = s
	}
	return out
}

// checkFinalKeys compares the whole store with a vector's final_keys;
// revisions relative to rev0 (the revision after the scenario's wipe).
func checkFinalKeys(t *testing.T, s kv.KV, rev0 int64, want []finalKey) {
	t.Helper()
	res, err := s.Txn(context.Background(), nil, []kv.Op{{Type: kv.OpRange, Key: []byte{0}, RangeEnd: []byte{0}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := res.Results[0].KVs
	var gs, ws []string
	for _, k := range got {
		gs = append(gs, fmt.Sprintf("%s=%x v%d c%d m%d lease=%v", k.Key, k.Value, k.Version, k.CreateRevision-rev0, k.ModRevision-rev0, k.Lease != 0))
	}
	for i, k := range want {
		kb, _ := hex.DecodeString(k.Key.Hex)
		c, m := int64(0), int64(0)
		if k.CreateRel != nil && i < len(got) {
			c = *k.CreateRel
		} else if i < len(got) {
			c = got[i].CreateRevision - rev0
		}
		if k.ModRel != nil && i < len(got) {
			m = *k.ModRel
		} else if i < len(got) {
			m = got[i].ModRevision - rev0
		}
		ws = append(ws, fmt.Sprintf("%s=%s v%d c%d m%d lease=%v", kb, k.Value.Hex, k.Version, c, m, k.HasLease))
	}
	if !reflect.DeepEqual(gs, ws) {
		t.Errorf("final keys differ\ngot:  %q\nwant: %q", gs, ws)
	}
}

// pyErr renders an error as the vectors record Python exceptions.
func pyErr(err error) string {
	var pe *PathError
	var ce *CollisionError
	var ve *VanishedError
	switch {
	case errors.As(err, &pe):
		switch pe.Rule {
		case RuleLeadingSlash:
			return "ValueError: Path must start with /!"
		case RuleTrailingSlash:
			return "ValueError: Path should not have a trailing '/'!"
		}
	case errors.As(err, &ce):
		return "ConfigCollision: " + ce.PyMessage()
	case errors.As(err, &ve):
		return "ConfigVanished: " + ve.PyMessage()
	case errors.Is(err, ErrTxnRetries):
		return "RuntimeError: " + err.Error()
	}
	if err == nil {
		return ""
	}
	return "Go: " + err.Error()
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
