package legacy_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/config"
	"github.com/sdpkit/sdpkit/config/kv"
	"github.com/sdpkit/sdpkit/config/legacy"
	"github.com/sdpkit/sdpkit/config/memory"
	"github.com/sdpkit/sdpkit/pyval"
)

func newConfig(t *testing.T, s kv.KV, prefix string) *config.Config {
	t.Helper()
	cfg, err := config.New(s, config.WithGlobalPrefix(prefix))
	must(t, err)
	return cfg
}

// run runs fn in a transaction with the legacy view.
func run(t *testing.T, cfg *config.Config, fn func(lt *legacy.Txn) error) error {
	t.Helper()
	return cfg.Txn(context.Background(), func(tx *config.Txn) error {
		return fn(legacy.NewTxn(tx, cfg.GlobalPrefix()))
	})
}

func TestDeleteExactEntity(t *testing.T) {
	stores(t, func(t *testing.T, s kv.KV) {
		cfg := newConfig(t, s, "/sdp")
		db := cfg.DB()
		ctx := context.Background()
		for _, p := range []string{"/sdp/deploy/dpl-1", "/sdp/deploy/dpl-1/x", "/sdp/deploy/dpl-1/x/y", "/sdp/deploy/dpl-10", "/sdp/deploy/dpl-1x/z",
			"/sdp/workflow/batch:a:1", "/sdp/workflow/batch:a:10", "/sdp/workflow/batch:a:1/sub"} {
			must(t, db.Create(ctx, p, []byte("{}"), 0))
		}
		must(t, run(t, cfg, func(lt *legacy.Txn) error {
			if err := lt.DeleteDeployment(&legacy.Deployment{ID: "dpl-1"}); err != nil {
				return err
			}
			if err := lt.DeleteWorkflow(legacy.Workflow{Type: "batch", ID: "a", Version: "1"}); err != nil {
				return err
			}
			// Missing entities are not an error.
			return lt.DeleteDeployment(&legacy.Deployment{ID: "nope"})
		}))
		keys, _, err := db.ListKeys(ctx, "/sdp/", config.Recurse(3))
		must(t, err)
		want := []string{"/sdp/deploy/dpl-10", "/sdp/deploy/dpl-1x/z", "/sdp/workflow/batch:a:10"}
		if !reflect.DeepEqual(keys, want) {
			t.Errorf("after deletes %q, want %q", keys, want)
		}
	})
}

func TestGetMissing(t *testing.T) {
	cfg := newConfig(t, memory.New(), "")
	must(t, run(t, cfg, func(lt *legacy.Txn) error {
		d, err := lt.GetDeployment("nope")
		if err != nil || d != nil {
			t.Errorf("GetDeployment(missing) = %v, %v; want nil, nil", d, err)
		}
		pb, err := lt.GetProcessingBlock("nope")
		if err != nil || pb != nil {
			t.Errorf("GetProcessingBlock(missing) = %v, %v", pb, err)
		}
		m, err := lt.GetMaster()
		if err != nil || m != nil {
			t.Errorf("GetMaster(missing) = %v, %v", m, err)
		}
		return nil
	}))
}

func TestValidation(t *testing.T) {
	cfg := newConfig(t, memory.New(), "")
	for _, c := range []struct {
		name string
		fn   func(lt *legacy.Txn) error
	}{
		{"pb id", func(lt *legacy.Txn) error {
			return lt.CreateProcessingBlock(&legacy.ProcessingBlock{ID: "bad id", Workflow: legacy.Workflow{Type: "batch", ID: "a", Version: "1"}})
		}},
		{"pb workflow", func(lt *legacy.Txn) error {
			return lt.CreateProcessingBlock(&legacy.ProcessingBlock{ID: "pb-1", Workflow: legacy.Workflow{Type: "batch"}})
		}},
		{"deployment type", func(lt *legacy.Txn) error {
			return lt.CreateDeployment(&legacy.Deployment{ID: "d", Type: "docker"})
		}},
		{"deployment id", func(lt *legacy.Txn) error {
			return lt.CreateDeployment(&legacy.Deployment{ID: "d_1", Type: "helm"})
		}},
		{"take without lease", func(lt *legacy.Txn) error {
			return lt.TakeProcessingBlock("pb-1", config.DefaultOwner(), 0)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := run(t, cfg, c.fn); !errors.Is(err, legacy.ErrInvalid) {
				t.Errorf("err = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestProcessingBlockLifecycle(t *testing.T) {
	stores(t, func(t *testing.T, s kv.KV) {
		cfg := newConfig(t, s, "")
		ctx := context.Background()
		day := time.Date(2021, 1, 1, 12, 0, 0, 0, time.Local)
		extra := pyval.StrDict("note", pyval.Str("kept"))
		var ids []string
		for i := 0; i < 2; i++ {
			must(t, run(t, cfg, func(lt *legacy.Txn) error {
				id, err := lt.NewProcessingBlockIDOn("sdpcli", day)
				if err != nil {
					return err
				}
				ids = append(ids, id)
				return lt.CreateProcessingBlock(&legacy.ProcessingBlock{ID: id, Workflow: legacy.Workflow{Type: "batch", ID: "test", Version: "0.1"}, Extra: extra})
			}))
		}
		if want := []string{"pb-sdpcli-20210101-00000", "pb-sdpcli-20210101-00001"}; !reflect.DeepEqual(ids, want) {
			t.Errorf("ids %q, want %q", ids, want)
		}
		owner := config.Owner{Command: []string{"wf"}, Hostname: "h", PID: 7}
		lease, err := cfg.DB().Lease(ctx, 10)
		must(t, err)
		must(t, run(t, cfg, func(lt *legacy.Txn) error {
			pb, err := lt.GetProcessingBlock(ids[0])
			if err != nil {
				return err
			}
			if pb.SBIID != "" || pb.Extra == nil || !pyval.Equal(pb.Extra, extra) {
				t.Errorf("read back %+v", pb)
			}
			pb.Parameters = pyval.StrDict("n", pyval.IntOf(1))
			if err := lt.UpdateProcessingBlock(pb); err != nil {
				return err
			}
			if err := lt.CreateProcessingBlockState(ids[0], pyval.StrDict("status", pyval.Str("WAITING"))); err != nil {
				return err
			}
			return lt.TakeProcessingBlock(ids[0], owner, lease.ID())
		}))
		must(t, run(t, cfg, func(lt *legacy.Txn) error {
			ok, err := lt.IsProcessingBlockOwner(ids[0], owner)
			if err != nil || !ok {
				t.Errorf("IsProcessingBlockOwner = %v, %v", ok, err)
			}
			o, err := lt.GetProcessingBlockOwner(ids[0])
			if err != nil || !pyval.Equal(o, owner.Dict()) {
				t.Errorf("owner %v, %v", o, err)
			}
			if err := lt.TakeProcessingBlock(ids[0], owner, lease.ID()); !errors.Is(err, config.ErrCollision) {
				t.Errorf("second take: %v", err)
			}
			return lt.UpdateProcessingBlockState(ids[0], pyval.StrDict("status", pyval.Str("RUNNING")))
		}))
		must(t, lease.Revoke(ctx))
		must(t, run(t, cfg, func(lt *legacy.Txn) error {
			ok, err := lt.IsProcessingBlockOwner(ids[0], owner)
			if err != nil || ok {
				t.Errorf("owner after revoke: %v, %v", ok, err)
			}
			st, err := lt.GetProcessingBlockState(ids[0])
			if v, _ := st.GetStr("status"); err != nil || v != pyval.Str("RUNNING") {
				t.Errorf("state %v, %v", st, err)
			}
			return nil
		}))
	})
}

func TestListWorkflowsExact(t *testing.T) {
	cfg := newConfig(t, memory.New(), "")
	must(t, run(t, cfg, func(lt *legacy.Txn) error {
		for _, w := range []legacy.Workflow{{"batch", "a", "1"}, {"batch", "ab", "1"}, {"batchx", "a", "1"}, {"realtime", "a", "2"}} {
			if err := lt.CreateWorkflow(w, pyval.StrDict("image", pyval.Str("img:"+w.Version))); err != nil {
				return err
			}
		}
		return nil
	}))
	for _, c := range []struct {
		typ, id string
		want    []legacy.Workflow
	}{
		{"", "", []legacy.Workflow{{"batch", "a", "1"}, {"batch", "ab", "1"}, {"batchx", "a", "1"}, {"realtime", "a", "2"}}},
		{"batch", "", []legacy.Workflow{{"batch", "a", "1"}, {"batch", "ab", "1"}}},
		{"batch", "a", []legacy.Workflow{{"batch", "a", "1"}}},
		{"", "a", []legacy.Workflow{{"batch", "a", "1"}, {"batchx", "a", "1"}, {"realtime", "a", "2"}}},
	} {
		must(t, run(t, cfg, func(lt *legacy.Txn) error {
			got, err := lt.ListWorkflows(c.typ, c.id)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("ListWorkflows(%q, %q) = %v, want %v", c.typ, c.id, got, c.want)
			}
			return err
		}))
	}
}

// TestIDsExhausted fills a day's 100000 ids: the generator then fails
// instead of returning index 99999 again (0.3.2's bug).
func TestIDsExhausted(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 100000 keys")
	}
	cfg := newConfig(t, memory.New(), "")
	day := time.Date(2021, 1, 1, 0, 0, 0, 0, time.Local)
	ctx := context.Background()
	for start := 0; start < 100000; start += 100 {
		var ops []kv.Op
		for n := start; n < start+100; n++ {
			ops = append(ops, kv.Op{Type: kv.OpPut, Key: []byte(fmt.Sprintf("2/pb/pb-g-20210101-%05d", n)), Value: []byte("{}")})
		}
		_, err := cfg.DB().Store().Txn(ctx, nil, ops, nil)
		must(t, err)
	}
	err := run(t, cfg, func(lt *legacy.Txn) error {
		id, err := lt.NewProcessingBlockIDOn("g", day)
		if err == nil {
			t.Errorf("got id %s", id)
		}
		return err
	})
	if !errors.Is(err, legacy.ErrIDsExhausted) {
		t.Errorf("err = %v, want ErrIDsExhausted", err)
	}
}
