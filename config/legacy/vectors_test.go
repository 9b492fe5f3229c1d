package legacy_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/config"
	"github.com/sdpkit/sdpkit/config/etcd"
	"github.com/sdpkit/sdpkit/config/kv"
	"github.com/sdpkit/sdpkit/config/legacy"
	"github.com/sdpkit/sdpkit/config/memory"
	"github.com/sdpkit/sdpkit/internal/kvtrace"
	"github.com/sdpkit/sdpkit/internal/testenv"
	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/pyval/pyjson"
)

// stores runs f against a fresh memory store and a fresh real etcd.
func stores(t *testing.T, f func(t *testing.T, s kv.KV)) {
	t.Run("memory", func(t *testing.T) {
		s := memory.New()
		t.Cleanup(func() { s.Close() })
		f(t, s)
	})
	t.Run("etcd", func(t *testing.T) {
		srv := testenv.Etcd(t)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s, err := etcd.Open(ctx, srv.Endpoints())
		if err != nil {
			t.Fatalf("etcd.Open: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		f(t, s)
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// stored returns the value the vector's final_keys hold at key, decoded.
func stored(t *testing.T, sc *kvtrace.Scenario, key string) *pyval.Dict {
	t.Helper()
	for _, k := range sc.FinalKeys {
		if k.Key.Text == key {
			b, _ := hex.DecodeString(k.Value.Hex)
			v, err := pyjson.Unmarshal(b)
			must(t, err)
			return v.(*pyval.Dict)
		}
	}
	t.Fatalf("%s: no final key %s", sc.Name, key)
	return nil
}

// TestVectorsEntities replays entities_v0.3.2.json: one transaction
// creating every entity, then one reading them back. Results, stored
// bytes, final keys and every etcd request match the vectors.
func TestVectorsEntities(t *testing.T) {
	scs := kvtrace.Load(t, "entities_v0.3.2.json")
	for _, prefix := range []string{"", "/sdp"} {
		sc := scs["entities_v0.3.2 global_prefix='"+prefix+"'"]
		if sc == nil {
			t.Fatalf("no scenario for prefix %q", prefix)
		}
		var res map[string]json.RawMessage
		must(t, json.Unmarshal(sc.Results, &res))
		tag := func(depth int) string { return string(rune('0'+depth+strings.Count(prefix, "/"))) + prefix }
		t.Run("prefix="+prefix, func(t *testing.T) {
			stores(t, func(t *testing.T, s kv.KV) {
				rev0 := kvtrace.Wipe(t, s)
				rec := kvtrace.NewRecorder(s)
				cfg, err := config.New(rec, config.WithGlobalPrefix(prefix))
				must(t, err)
				ctx := context.Background()

				pbv, err := pyjson.Unmarshal(res["get_processing_block.to_dict"])
				must(t, err)
				pbJSON, err := pyjson.Canonical(pbv)
				must(t, err)
				pb, err := legacy.ParseProcessingBlock(pbJSON)
				must(t, err)
				const pbID, dplID, sbID = "pb-test-20210101-00000", "proc-pb-test-20210101-00000-workflow", "sbi-test-20210101-00000"
				dplDict := stored(t, sc, tag(2)+"/deploy/"+dplID)
				args, _ := dplDict.GetStr("args")
				wf := legacy.Workflow{Type: "realtime", ID: "vis_receive", Version: "0.2.0"}
				must(t, cfg.Txn(ctx, func(tx *config.Txn) error {
					lt := legacy.NewTxn(tx, cfg.GlobalPrefix())
					if err := lt.CreateProcessingBlock(pb); err != nil {
						return err
					}
					if err := lt.CreateProcessingBlockState(pbID, stored(t, sc, tag(3)+"/pb/"+pbID+"/state")); err != nil {
						return err
					}
					if err := lt.CreateDeployment(&legacy.Deployment{ID: dplID, Type: "helm", Args: args.(*pyval.Dict)}); err != nil {
						return err
					}
					if err := lt.CreateSchedulingBlock(sbID, stored(t, sc, tag(2)+"/sb/"+sbID)); err != nil {
						return err
					}
					if err := lt.CreateSubarray(legacy.SubarrayID(1), stored(t, sc, tag(2)+"/subarray/01")); err != nil {
						return err
					}
					if err := lt.CreateMaster(stored(t, sc, tag(1)+"/master")); err != nil {
						return err
					}
					return lt.CreateWorkflow(wf, stored(t, sc, tag(2)+"/workflow/"+wf.String()))
				}))

				// The vector lists PB ids of the day it was made on; the
				// date is in its last request.
				last := sc.EtcdRequests[len(sc.EtcdRequests)-1].(map[string]any)
				rng := last["success"].([]any)[0].(map[string]any)["range"].(map[string]any)["key"].(string)
				date := rng[len(rng)-8:]
				day, err := time.ParseInLocation("20060102", date, time.Local)
				must(t, err)

				got := map[string]any{}
				must(t, cfg.Txn(ctx, func(tx *config.Txn) error {
					lt := legacy.NewTxn(tx, cfg.GlobalPrefix())
					var err error
					if got["list_processing_blocks"], err = lt.ListProcessingBlocks(""); err != nil {
						return err
					}
					if got["list_deployments"], err = lt.ListDeployments(""); err != nil {
						return err
					}
					if got["list_scheduling_blocks"], err = lt.ListSchedulingBlocks(""); err != nil {
						return err
					}
					if got["list_subarrays"], err = lt.ListSubarrays(""); err != nil {
						return err
					}
					for _, c := range []struct{ name, typ string }{{"list_workflows", ""}, {"list_workflows('realtime')", "realtime"}} {
						ws, err := lt.ListWorkflows(c.typ, "")
						if err != nil {
							return err
						}
						var l [][]string
						for _, w := range ws {
							l = append(l, []string{w.Type, w.ID, w.Version})
						}
						got[c.name] = l
					}
					p, err := lt.GetProcessingBlock(pbID)
					if err != nil {
						return err
					}
					b, err := pyjson.Marshal(p.Dict())
					if err != nil {
						return err
					}
					got["get_processing_block.to_dict"] = json.RawMessage(b)
					m, err := lt.GetMaster()
					if err != nil {
						return err
					}
					if b, err = pyjson.Marshal(m); err != nil {
						return err
					}
					got["get_master"] = json.RawMessage(b)
					id, err := lt.NewProcessingBlockIDOn("test", day)
					got["new_processing_block_id('test')"] = strings.Replace(id, date, "<YYYYMMDD>", 1)
					return err
				}))
				for name, g := range got {
					gb, _ := json.Marshal(g)
					var gv, wv any
					json.Unmarshal(gb, &gv)
					json.Unmarshal(res[name], &wv)
					if !reflect.DeepEqual(gv, wv) {
						t.Errorf("%s = %s, want %s", name, gb, res[name])
					}
				}
				// to_dict keeps Python's field order and float literals.
				if pb, _ := json.Marshal(got["get_processing_block.to_dict"]); !strings.Contains(string(pb), `"length":21600.0`) {
					t.Errorf("to_dict lost the float literal: %s", pb)
				}
				kvtrace.CheckRequests(t, sc.Name, rec.Take(), sc.EtcdRequests)
				kvtrace.CheckFinalKeys(t, s, rev0, sc.FinalKeys, true)
			})
		})
	}
}
