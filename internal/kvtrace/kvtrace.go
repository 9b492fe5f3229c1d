// Package kvtrace helps tests replay the config vectors
// (shared/vectors/config): a kv.KV that records every request in the
// vectors' etcd_requests shape, loading of a vector file's scenarios, and
// comparisons of requests and of a store's final content with a scenario.
// Package config's own tests and those of the packages built on it (legacy,
// the sdp command) share it; it must not import package config.
package kvtrace

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"sync"
	"testing"

	"github.com/sdpkit/sdpkit/config/kv"
	"github.com/sdpkit/sdpkit/internal/vectors"
)

// Wipe deletes every key and returns the revision after it.
func Wipe(t testing.TB, s kv.KV) int64 {
	t.Helper()
	res, err := s.Txn(context.Background(), nil, []kv.Op{{Type: kv.OpDelete, Key: []byte{0}, RangeEnd: []byte{0}}}, nil)
	if err != nil {
		t.Fatalf("wipe: %v", err)
	}
	return res.Revision
}

// Recorder is a kv.KV that logs every request as the vectors do, with
// revisions and lease ids replaced by the vectors' placeholders.
type Recorder struct {
	kv.KV
	mu     sync.Mutex
	log    []any
	paused bool
}

// NewRecorder wraps s; it records from the start.
func NewRecorder(s kv.KV) *Recorder { return &Recorder{KV: s} }

func (r *Recorder) add(m map[string]any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.paused {
		r.log = append(r.log, m)
	}
}

// Pause stops (true) or resumes (false) recording, for a test's own
// reads that the vectors do not hold.
func (r *Recorder) Pause(paused bool) {
	r.mu.Lock()
	r.paused = paused
	r.mu.Unlock()
}

// Take returns the log as generic JSON values and clears it.
func (r *Recorder) Take() []any {
	r.mu.Lock()
	defer r.mu.Unlock()
	b, _ := json.Marshal(r.log)
	r.log = nil
	var out []any
	_ = json.Unmarshal(b, &out)
	return out
}

func bstr(b []byte) any {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return map[string]any{"hex": hex.EncodeToString(b)}
		}
	}
	return string(b)
}

// Get implements kv.KV.
func (r *Recorder) Get(ctx context.Context, key []byte, rev int64) (*kv.KeyValue, int64, error) {
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

// Txn implements kv.KV.
func (r *Recorder) Txn(ctx context.Context, cmps []kv.Compare, success, failure []kv.Op) (kv.TxnResult, error) {
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

// Watch implements kv.KV.
func (r *Recorder) Watch(ctx context.Context, key, rangeEnd []byte, startRev int64) <-chan kv.WatchResponse {
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

// Grant implements kv.KV; the lease it returns records its revocation.
func (r *Recorder) Grant(ctx context.Context, ttl int64) (kv.Lease, error) {
	r.add(map[string]any{"rpc": "LeaseGrant", "TTL": ttl})
	l, err := r.KV.Grant(ctx, ttl)
	if err != nil {
		return nil, err
	}
	return &recLease{Lease: l, r: r}, nil
}

type recLease struct {
	kv.Lease
	r *Recorder
}

func (l *recLease) Revoke(ctx context.Context) error {
	l.r.add(map[string]any{"rpc": "LeaseRevoke"})
	return l.Lease.Revoke(ctx)
}

// NormRequests turns a vector's etcd_requests into the Recorder's form:
// non-printable strings keep only their hex.
func NormRequests(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if h, ok := x["hex"]; ok {
			return map[string]any{"hex": h}
		}
		out := map[string]any{}
		for k, e := range x {
			out[k] = NormRequests(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = NormRequests(e)
		}
		return out
	}
	return v
}

// CheckRequests compares recorded requests with a vector's (a list of
// generic JSON values).
func CheckRequests(t testing.TB, what string, got []any, want any) {
	t.Helper()
	w := NormRequests(want)
	if reflect.DeepEqual(any(got), w) {
		return
	}
	gb, _ := json.MarshalIndent(got, "", " ")
	wb, _ := json.MarshalIndent(w, "", " ")
	t.Errorf("%s: etcd requests differ\ngot:  %s\nwant: %s", what, gb, wb)
}

// Scenario is one vector scenario.
type Scenario struct {
	Name         string          `json:"name"`
	Results      json.RawMessage `json:"results"`
	Runs         json.RawMessage `json:"runs"`
	EtcdRequests []any           `json:"etcd_requests"`
	FinalKeysRaw json.RawMessage `json:"final_keys"`
	// FinalKeys is final_keys when it is a list (one vector holds a note
	// instead; FinalKeysRaw keeps it).
	FinalKeys []FinalKey `json:"-"`
}

// FinalKey is one entry of a scenario's final_keys. A nil CreateRel or
// ModRel (not in the vector) is not checked.
type FinalKey struct {
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

// Load reads the scenarios of a file of shared/vectors/config, by name.
func Load(t testing.TB, file string) map[string]*Scenario {
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
	var list []*Scenario
	if err := json.Unmarshal(f.Data, &list); err != nil {
		var one Scenario
		if err2 := json.Unmarshal(f.Data, &one); err2 != nil {
			t.Fatalf("%s: %v", file, err2)
		}
		list = []*Scenario{&one}
	}
	out := map[string]*Scenario{}
	for _, s := range list {
		// A final_keys that is not a list is a note; FinalKeys stays nil.
		_ = json.Unmarshal(s.FinalKeysRaw, &s.FinalKeys)
		out[s.Name] = s
	}
	return out
}

// CheckFinalKeys compares the whole store with want: keys, values,
// versions, lease flags and, when checkRevs, the revisions relative to
// rev0 (the revision after the scenario's wipe) that want holds.
func CheckFinalKeys(t testing.TB, s kv.KV, rev0 int64, want []FinalKey, checkRevs bool) {
	t.Helper()
	res, err := s.Txn(context.Background(), nil, []kv.Op{{Type: kv.OpRange, Key: []byte{0}, RangeEnd: []byte{0}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := res.Results[0].KVs
	var gs, ws []string
	for _, k := range got {
		c, m := k.CreateRevision-rev0, k.ModRevision-rev0
		if !checkRevs {
			c, m = 0, 0
		}
		gs = append(gs, fmt.Sprintf("%s=%x v%d c%d m%d lease=%v", k.Key, k.Value, k.Version, c, m, k.Lease != 0))
	}
	for i, k := range want {
		kb, _ := hex.DecodeString(k.Key.Hex)
		var c, m int64
		if checkRevs {
			// A revision the vector does not hold takes the store's, so
			// that only the key at the same place is compared.
			if k.CreateRel != nil {
				c = *k.CreateRel
			} else if i < len(got) {
				c = got[i].CreateRevision - rev0
			}
			if k.ModRel != nil {
				m = *k.ModRel
			} else if i < len(got) {
				m = got[i].ModRevision - rev0
			}
		}
		ws = append(ws, fmt.Sprintf("%s=%s v%d c%d m%d lease=%v", kb, k.Value.Hex, k.Version, c, m, k.HasLease))
	}
	if !reflect.DeepEqual(gs, ws) {
		t.Errorf("final keys differ\ngot:  %q\nwant: %q", gs, ws)
	}
}
