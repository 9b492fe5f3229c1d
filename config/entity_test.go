package config

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/config/kv"
	"github.com/sdpkit/sdpkit/config/memory"
	"github.com/sdpkit/sdpkit/internal/kvtrace"
	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/pyval/pyjson"
)

func strPtr(s string) *string { return &s }

// entityBytesCases are one representative of each entity with the bytes
// Python's dict_to_json writes for it, written out by hand from the
// documented schema examples (spec §3, §5.1; queues.md B3, B10).
func entityBytesCases() []struct {
	name  string
	value any
	want  string
} {
	return []struct {
		name  string
		value any
		want  string
	}{
		{"execution block (schema page example)", &ExecutionBlock{
			Key: "eb-test-20240101-00001", MaxLength: 21600,
			Beams:      pyval.List{pyval.StrDict("beam_id", pyval.Str("vis0"), "function", pyval.Str("visibilities"))},
			ScanTypes:  pyval.List{pyval.StrDict("scan_type_id", pyval.Str("science"))},
			PBRealtime: pyval.List{pyval.Str("pb-test-20240101-00001")},
		}, `{
  "beams": [
    {
      "beam_id": "vis0",
      "function": "visibilities"
    }
  ],
  "channels": [],
  "context": {},
  "fields": [],
  "key": "eb-test-20240101-00001",
  "max_length": 21600.0,
  "pb_batch": [],
  "pb_realtime": [
    "pb-test-20240101-00001"
  ],
  "polarisations": [],
  "scan_types": [
    {
      "scan_type_id": "science"
    }
  ],
  "subarray_id": null
}`},
		{"execution block state", &ExecutionBlockState{
			Status: "ACTIVE", ScanType: pyval.Str("science"), ScanID: pyval.IntOf(12345),
			Scans: []EBScan{{ScanID: 12345, ScanType: "science", Status: "FINISHED"}},
		}, `{
  "scan_id": 12345,
  "scan_type": "science",
  "scans": [
    {
      "scan_id": 12345,
      "scan_type": "science",
      "status": "FINISHED"
    }
  ],
  "status": "ACTIVE"
}`},
		{"processing block", &ProcessingBlock{
			Key: "pb-test-20240101-00000", EBID: strPtr("eb-test-20240101-00001"),
			Script:       ScriptKey{Kind: "realtime", Name: "vis-receive", Version: "4.0.0"},
			Parameters:   pyval.StrDict("channels_per_port", pyval.IntOf(20), "ratio", pyval.Float(0.5)),
			Dependencies: []PBDependency{{Kind: []string{"visibilities"}, PBID: "pb-test-20240101-00001"}},
		}, `{
  "dependencies": [
    {
      "kind": [
        "visibilities"
      ],
      "pb_id": "pb-test-20240101-00001"
    }
  ],
  "eb_id": "eb-test-20240101-00001",
  "key": "pb-test-20240101-00000",
  "parameters": {
    "channels_per_port": 20,
    "ratio": 0.5
  },
  "script": {
    "kind": "realtime",
    "name": "vis-receive",
    "version": "4.0.0"
  }
}`},
		{"processing block without eb (defaults)", &ProcessingBlock{
			Key: "pb-test-00000000-a", Script: ScriptKey{Kind: "batch", Name: "test-batch", Version: "0.0.0"},
		}, `{
  "dependencies": [],
  "eb_id": null,
  "key": "pb-test-00000000-a",
  "parameters": {},
  "script": {
    "kind": "batch",
    "name": "test-batch",
    "version": "0.0.0"
  }
}`},
		{"processing block state", &ProcessingBlockState{Status: "RUNNING", ResourcesAvailable: new(true),
			ReceiveAddresses: &pyval.Dict{}}, `{
  "receive_addresses": {},
  "resources_available": true,
  "status": "RUNNING"
}`},
		{"deployment", &Deployment{Key: "proc-pb-test-20240101-00000-script", Kind: "helm",
			Args: pyval.StrDict("chart", pyval.Str("script"), "values", pyval.StrDict("env.SDP_CONFIG_HOST", pyval.Str("etcd<&>")))}, `{
  "args": {
    "chart": "script",
    "values": {
      "env.SDP_CONFIG_HOST": "etcd<&>"
    }
  },
  "key": "proc-pb-test-20240101-00000-script",
  "kind": "helm"
}`},
		{"script", &Script{Key: ScriptKey{Kind: "batch", Name: "test-batch", Version: "0.3.0"},
			Image: "artefact.example/ska-sdp-script-test-batch:0.3.0"}, `{
  "image": "artefact.example/ska-sdp-script-test-batch:0.3.0",
  "key": {
    "kind": "batch",
    "name": "test-batch",
    "version": "0.3.0"
  }
}`},
		{"flow, data-queue sink (queue connector)", &Flow{
			Key:       FlowKey{PBID: "pb-test-00000000-0000", Kind: "data-queue", Name: "my-dataqueue"},
			Sink:      &DataQueue{Host: "kafka://localhost:9092", Topics: "my-topic", Format: "json"},
			Sources:   []FlowSource{{URI: FlowURI{Key: &FlowKey{PBID: "pb-test-00000000-0000", Kind: "tango", Name: "other"}}, Function: QueueConnectorFunction}},
			DataModel: "Metrics",
		}, `{
  "data_model": "Metrics",
  "key": {
    "kind": "data-queue",
    "name": "my-dataqueue",
    "pb_id": "pb-test-00000000-0000"
  },
  "sink": {
    "format": "json",
    "host": "kafka://localhost:9092",
    "kind": "data-queue",
    "topics": "my-topic"
  },
  "sources": [
    {
      "function": "ska-sdp-lmc-queue-connector:exchange",
      "parameters": {},
      "uri": {
        "kind": "tango",
        "name": "other",
        "pb_id": "pb-test-00000000-0000"
      }
    }
  ]
}`},
		{"flow, tango sink, URL source", &Flow{
			Key:       FlowKey{PBID: "pb-test-00000000-0000", Kind: "tango", Name: "my-tango-attribute"},
			Sink:      &TangoAttribute{AttributeTRL: "tango://mid-sdp/queueconnector/01/my_tango_attribute", DType: "DevString", MaxDimX: 1},
			Sources:   []FlowSource{{URI: FlowURI{URL: "metrics://signal-display/01/amplitude/low_res"}, Function: "SignalDisplayMetrics", Parameters: pyval.StrDict("nchan_avg", pyval.IntOf(50))}},
			DataModel: "str[]",
		}, `{
  "data_model": "str[]",
  "key": {
    "kind": "tango",
    "name": "my-tango-attribute",
    "pb_id": "pb-test-00000000-0000"
  },
  "sink": {
    "attribute_trl": "tango://mid-sdp/queueconnector/01/my_tango_attribute",
    "dtype": "DevString",
    "kind": "tango",
    "max_dim_x": 1,
    "max_dim_y": 0
  },
  "sources": [
    {
      "function": "SignalDisplayMetrics",
      "parameters": {
        "nchan_avg": 50
      },
      "uri": "metrics://signal-display/01/amplitude/low_res"
    }
  ]
}`},
		{"flow, data-product sink", &Flow{
			Key: FlowKey{PBID: "pb-test-00000000-a", Kind: "data-product", Name: "local-sky-model"},
			Sink: &DataProduct{DataDir: DataDir{PVC: &PVCPath{PVCMountPath: "/mnt/data", PVCSubpath: "product/eb-x/ska-sdp/pb-y"}},
				Paths: pyval.List{}},
			DataModel: "LocalSkyModel",
		}, `{
  "data_model": "LocalSkyModel",
  "key": {
    "kind": "data-product",
    "name": "local-sky-model",
    "pb_id": "pb-test-00000000-a"
  },
  "sink": {
    "data_dir": {
      "k8s_namespaces": [],
      "k8s_pvc_name": "",
      "pvc_mount_path": "/mnt/data",
      "pvc_subpath": "product/eb-x/ska-sdp/pb-y"
    },
    "kind": "data-product",
    "paths": []
  },
  "sources": []
}`},
		{"dependency", &Dependency{Key: DependencyKey{PBID: "pb-test-00000000-a", Kind: "dlm-copy", Name: "demo-prod-a", Origin: "ska-data-lifecycle-management"},
			ExpiryTime: -1, Description: strPtr("DLM: lock data-product for copy")}, `{
  "description": "DLM: lock data-product for copy",
  "expiry_time": -1,
  "key": {
    "kind": "dlm-copy",
    "name": "demo-prod-a",
    "origin": "ska-data-lifecycle-management",
    "pb_id": "pb-test-00000000-a"
  }
}`},
	}
}

// TestEntityBytes checks the stored bytes of each entity model, and that
// decoding them gives a value that encodes to the same bytes.
func TestEntityBytes(t *testing.T) {
	for _, c := range entityBytesCases() {
		t.Run(c.name, func(t *testing.T) {
			got, err := EntityJSON(c.value)
			must(t, err)
			if string(got) != c.want {
				t.Fatalf("bytes differ\ngot:\n%s\nwant:\n%s", got, c.want)
			}
			// The expected bytes are what Python's dict_to_json writes:
			// canonical JSON.
			canon, err := pyjson.Unmarshal([]byte(c.want))
			must(t, err)
			cb, err := pyjson.Canonical(canon)
			must(t, err)
			if string(cb) != c.want {
				t.Fatalf("expected bytes are not canonical:\n%s", cb)
			}
			back := reflect.New(reflect.TypeOf(c.value).Elem()).Interface()
			must(t, DecodeEntityJSON(got, back))
			again, err := EntityJSON(back)
			must(t, err)
			if string(again) != c.want {
				t.Fatalf("decode/encode changed the bytes:\n%s", again)
			}
		})
	}
}

// newTestConfig returns a Config on s under prefix, with a fixed owner.
func newTestConfig(t *testing.T, s kv.KV, prefix string, opts ...Option) *Config {
	t.Helper()
	opts = append([]Option{WithGlobalPrefix(prefix),
		WithOwner(Owner{Command: []string{"test"}, Hostname: "host-1", PID: 42})}, opts...)
	cfg, err := New(noClose{s}, opts...)
	must(t, err)
	t.Cleanup(func() { cfg.Close() })
	return cfg
}

// rawGet reads a store key directly (no codec).
func rawGet(t *testing.T, s kv.KV, key string) []byte {
	t.Helper()
	kvp, _, err := s.Get(context.Background(), []byte(key), 0)
	must(t, err)
	if kvp == nil {
		return nil
	}
	return kvp.Value
}

// TestEntityCRUD runs create/get/update/list/delete of every collection
// under the global prefix /sdp and checks the store keys (depth tags count
// the prefix's slash).
func TestEntityCRUD(t *testing.T) {
	forEachStore(t, func(t *testing.T, s kv.KV) {
		kvtrace.Wipe(t, s)
		ctx := context.Background()
		cfg := newTestConfig(t, s, "/sdp")
		pb := &ProcessingBlock{Key: "pb-test-20240101-1", Script: ScriptKey{Kind: "batch", Name: "b", Version: "1.0.0"}}
		pb10 := &ProcessingBlock{Key: "pb-test-20240101-10", Script: pb.Script}
		flow := &Flow{Key: FlowKey{PBID: pb.Key, Kind: "data-queue", Name: "q"}, Sink: &DataQueue{Host: "kafka://k:9092", Topics: "t", Format: "json"}, DataModel: "Metrics"}
		must(t, cfg.Txn(ctx, func(tx *Txn) error {
			if err := tx.ProcessingBlocks().Create(pb); err != nil {
				return err
			}
			if err := tx.ProcessingBlocks().Create(pb10); err != nil {
				return err
			}
			if err := tx.ProcessingBlocks().State(pb.Key).CreateFrom(&ProcessingBlockState{Status: "RUNNING"}); err != nil {
				return err
			}
			if err := tx.ProcessingBlocks().State(pb10.Key).Create(pyval.StrDict("status", pyval.Str("WAITING"))); err != nil {
				return err
			}
			if err := tx.Flows().Create(flow); err != nil {
				return err
			}
			if err := tx.Scripts().Create(&Script{Key: pb.Script, Image: "img:1.0.0"}); err != nil {
				return err
			}
			if err := tx.Deployments().Create(&Deployment{Key: "proc-x", Kind: "helm"}); err != nil {
				return err
			}
			if err := tx.System().Create(pyval.StrDict("version", pyval.Str("1.0"))); err != nil {
				return err
			}
			if err := tx.Controller().Create(pyval.StrDict("state", pyval.Str("ON"))); err != nil {
				return err
			}
			return tx.Subarrays().Create("01", pyval.StrDict("state", pyval.Str("OFF")))
		}))
		for _, k := range []string{"3/sdp/pb/pb-test-20240101-1", "4/sdp/pb/pb-test-20240101-1/state",
			"3/sdp/flow/pb-test-20240101-1:data-queue:q", "3/sdp/script/batch:b:1.0.0", "3/sdp/deploy/proc-x",
			"2/sdp/system", "3/sdp/lmc/controller", "4/sdp/lmc/subarray/01"} {
			if rawGet(t, s, k) == nil {
				t.Errorf("store key %s missing", k)
			}
		}
		if got, want := string(rawGet(t, s, "4/sdp/pb/pb-test-20240101-1/state")), "{\n  \"status\": \"RUNNING\"\n}"; got != want {
			t.Errorf("state bytes %q, want %q", got, want)
		}

		must(t, cfg.Txn(ctx, func(tx *Txn) error {
			got, err := tx.ProcessingBlocks().Get(pb.Key)
			if err != nil {
				return err
			}
			want, _ := EntityJSON(pb)
			gotb, _ := EntityJSON(got)
			if string(gotb) != string(want) {
				t.Errorf("get: %s, want %s", gotb, want)
			}
			if missing, err := tx.ProcessingBlocks().Get("pb-test-20240101-2"); missing != nil || err != nil {
				t.Errorf("get missing: %v, %v", missing, err)
			}
			keys, err := tx.ProcessingBlocks().ListKeys("")
			if err != nil {
				return err
			}
			if !reflect.DeepEqual(keys, []string{pb.Key, pb10.Key}) {
				t.Errorf("list keys %v", keys)
			}
			fk, err := tx.Flows().ListKeys(pb.Key + ":")
			if err != nil {
				return err
			}
			if len(fk) != 1 || fk[0].String() != flow.Key.String() {
				t.Errorf("flow keys %v", fk)
			}
			f, err := tx.Flows().Get(flow.Key)
			if err != nil {
				return err
			}
			if dq, ok := f.Sink.(*DataQueue); !ok || dq.Topics != "t" {
				t.Errorf("flow sink %#v", f.Sink)
			}
			var st ProcessingBlockState
			if ok, err := tx.ProcessingBlocks().State(pb.Key).Decode(&st); err != nil || !ok || st.Status != "RUNNING" {
				t.Errorf("state %+v %v %v", st, ok, err)
			}
			pb.Parameters = pyval.StrDict("x", pyval.Float(1))
			return tx.ProcessingBlocks().Update(pb)
		}))
		if got := string(rawGet(t, s, "3/sdp/pb/pb-test-20240101-1")); !strings.Contains(got, `"x": 1.0`) {
			t.Errorf("updated PB %s", got)
		}

		// Deleting pb-…-1 removes it and its state, not pb-…-10.
		must(t, cfg.Txn(ctx, func(tx *Txn) error { return tx.ProcessingBlocks().Delete(pb.Key) }))
		for k, present := range map[string]bool{
			"3/sdp/pb/pb-test-20240101-1": false, "4/sdp/pb/pb-test-20240101-1/state": false,
			"3/sdp/pb/pb-test-20240101-10": true, "4/sdp/pb/pb-test-20240101-10/state": true,
		} {
			if (rawGet(t, s, k) != nil) != present {
				t.Errorf("after delete: %s present=%v", k, !present)
			}
		}
		err := cfg.Txn(ctx, func(tx *Txn) error { return tx.ProcessingBlocks().Delete(pb.Key) })
		if !errors.Is(err, ErrVanished) {
			t.Errorf("delete missing: %v", err)
		}
		err = cfg.Txn(ctx, func(tx *Txn) error { return tx.ProcessingBlocks().Create(pb10) })
		if !errors.Is(err, ErrCollision) {
			t.Errorf("create existing: %v", err)
		}
		err = cfg.Txn(ctx, func(tx *Txn) error { return tx.Deployments().Update(&Deployment{Key: "proc-y", Kind: "helm"}) })
		if !errors.Is(err, ErrVanished) {
			t.Errorf("update missing: %v", err)
		}
	})
}

// TestEntityExtraFields: members a Python peer wrote that the Go models
// do not know survive a Get followed by an Update, at every level, with
// ints and floats kept apart.
func TestEntityExtraFields(t *testing.T) {
	forEachStore(t, func(t *testing.T, s kv.KV) {
		kvtrace.Wipe(t, s)
		ctx := context.Background()
		cfg := newTestConfig(t, s, "")
		cases := []struct {
			path   string
			stored string
			update func(tx *Txn) error
		}{
			{"/pb/pb-a-20240101-1", `{"key": "pb-a-20240101-1", "eb_id": null, "new_field": [1, 2.0, {"z": null}],
				"script": {"kind": "batch", "name": "n", "version": "1", "registry": "r"},
				"parameters": {"f": 21600.0, "i": 21600}, "dependencies": [{"kind": ["k"], "pb_id": "pb-a-20240101-2", "note": 1.5}]}`,
				func(tx *Txn) error {
					pb, err := tx.ProcessingBlocks().Get("pb-a-20240101-1")
					if err != nil {
						return err
					}
					return tx.ProcessingBlocks().Update(pb)
				}},
			{"/flow/pb-a-20240101-1:data-queue:q", `{"key": {"pb_id": "pb-a-20240101-1", "kind": "data-queue", "name": "q"},
				"sink": {"kind": "data-queue", "host": "kafka://h:9092", "topics": "t", "format": "npy", "partitions": 3},
				"sources": [{"uri": "x://y", "function": "f", "parameters": {}, "window": 2.0}], "data_model": "M", "expiry": 7}`,
				func(tx *Txn) error {
					f, err := tx.Flows().Get(FlowKey{PBID: "pb-a-20240101-1", Kind: "data-queue", Name: "q"})
					if err != nil {
						return err
					}
					return tx.Flows().Update(f)
				}},
			{"/flow/pb-a-20240101-1:other:o", `{"key": {"pb_id": "pb-a-20240101-1", "kind": "other", "name": "o"},
				"sink": {"kind": "shared-memory", "segment": "/dev/shm/x", "size": 1.0}, "sources": [], "data_model": "M"}`,
				func(tx *Txn) error {
					f, err := tx.Flows().Get(FlowKey{PBID: "pb-a-20240101-1", Kind: "other", Name: "o"})
					if err != nil {
						return err
					}
					if f.Sink.SinkKind() != "shared-memory" {
						t.Errorf("sink kind %q", f.Sink.SinkKind())
					}
					return tx.Flows().Update(f)
				}},
		}
		for _, c := range cases {
			must(t, cfg.DB().Create(ctx, c.path, []byte(c.stored), 0))
			must(t, cfg.Txn(ctx, c.update))
			got, _, err := cfg.DB().Get(ctx, c.path, 0)
			must(t, err)
			v, err := pyjson.Unmarshal([]byte(c.stored))
			must(t, err)
			want, err := pyjson.Canonical(v)
			must(t, err)
			if string(got) != string(want) {
				t.Errorf("%s: after get/update\n%s\nwant\n%s", c.path, got, want)
			}
		}
	})
}

// TestEntityBadKeys: every key part is checked against its pattern and
// the error names the entity and the part.
func TestEntityBadKeys(t *testing.T) {
	cfg := newTestConfig(t, newMemoryForTest(t), "")
	cases := []struct {
		name   string
		op     func(tx *Txn) error
		entity string
		part   string
	}{
		{"pb id without date", func(tx *Txn) error { _, err := tx.ProcessingBlocks().Get("pb-1"); return err }, "processing block", "pb_id"},
		{"pb id with slash", func(tx *Txn) error {
			return tx.ProcessingBlocks().Create(&ProcessingBlock{Key: "pb-a-20240101-1/x"})
		}, "processing block", "pb_id"},
		{"pb id upper case", func(tx *Txn) error { return tx.ProcessingBlocks().Delete("pb-A-20240101-1") }, "processing block", "pb_id"},
		{"eb id", func(tx *Txn) error { _, err := tx.ExecutionBlocks().Get("sbi-1"); return err }, "execution block", "eb_id"},
		{"script version with colon", func(tx *Txn) error {
			return tx.Scripts().Create(&Script{Key: ScriptKey{Kind: "batch", Name: "n", Version: "1:2"}})
		}, "script", "version"},
		{"script empty name", func(tx *Txn) error { _, err := tx.Scripts().Get(ScriptKey{Kind: "batch", Version: "1"}); return err }, "script", "name"},
		{"flow pb id", func(tx *Txn) error { _, err := tx.Flows().Get(FlowKey{PBID: "x", Kind: "k", Name: "n"}); return err }, "flow", "pb_id"},
		{"flow name with space", func(tx *Txn) error {
			return tx.Flows().State(FlowKey{PBID: "pb-a-20240101-1", Kind: "k", Name: "a b"}).Create(nil)
		}, "flow", "name"},
		{"dependency origin", func(tx *Txn) error {
			_, err := tx.Dependencies().Get(DependencyKey{PBID: "pb-a-20240101-1", Kind: "k", Name: "n", Origin: "a/b"})
			return err
		}, "dependency", "origin"},
		{"deployment id", func(tx *Txn) error { return tx.Deployments().Create(&Deployment{Key: "a_b"}) }, "deployment", "deploy_id"},
		{"subarray id", func(tx *Txn) error { _, err := tx.Subarrays().Get("1"); return err }, "subarray", "subarray_id"},
		{"component name", func(tx *Txn) error { return tx.Components().Take("a:b") }, "component", "component_name"},
		{"list prefix with slash", func(tx *Txn) error { _, err := tx.Flows().ListKeys("pb-a/"); return err }, "flow", ""},
		{"dict list prefix with slash", func(tx *Txn) error { _, err := tx.Subarrays().ListKeys("0/"); return err }, "subarray", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := cfg.Txn(context.Background(), c.op)
			var ke *KeyError
			if !errors.As(err, &ke) || !errors.Is(err, ErrInvalidKey) {
				t.Fatalf("err = %v, want a *KeyError", err)
			}
			if ke.Entity != c.entity || ke.Part != c.part {
				t.Errorf("entity %q part %q, want %q %q (%v)", ke.Entity, ke.Part, c.entity, c.part, err)
			}
			if !strings.Contains(err.Error(), c.entity) || (c.part != "" && !strings.Contains(err.Error(), c.part)) {
				t.Errorf("message %q does not name entity and part", err)
			}
		})
	}
	for _, s := range []string{"a:b", "batch:a:b:c", ""} {
		if _, err := ParseScriptKey(s); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("ParseScriptKey(%q) = %v", s, err)
		}
	}
}

// TestEntityOwner: Take creates the owner key with the client lease;
// another client is not the owner and cannot take it; the key vanishes
// when the lease is revoked (Close).
func TestEntityOwner(t *testing.T) {
	forEachStore(t, func(t *testing.T, s kv.KV) {
		kvtrace.Wipe(t, s)
		ctx := context.Background()
		a := newTestConfig(t, s, "/sdp")
		b := newTestConfig(t, s, "/sdp", WithOwner(Owner{Command: []string{"other"}, Hostname: "host-2", PID: 7}))
		key := "pb-test-20240101-00000"
		must(t, a.Txn(ctx, func(tx *Txn) error {
			return tx.ProcessingBlocks().Create(&ProcessingBlock{Key: key, Script: ScriptKey{Kind: "batch", Name: "n", Version: "1"}})
		}))
		must(t, a.Txn(ctx, func(tx *Txn) error { return tx.ProcessingBlocks().Take(key) }))
		lease, err := a.ClientLease(ctx)
		must(t, err)
		kvp, _, err := s.Get(ctx, []byte("4/sdp/pb/"+key+"/owner"), 0)
		must(t, err)
		if kvp == nil || kvp.Lease != lease.ID() || string(kvp.Value) != string(a.Owner().JSON()) {
			t.Fatalf("owner key %+v", kvp)
		}
		check := func(cfg *Config, wantOwner bool, wantAlive bool) {
			t.Helper()
			must(t, cfg.Txn(ctx, func(tx *Txn) error {
				is, err := tx.ProcessingBlocks().IsOwner(key)
				if err != nil {
					return err
				}
				alive, err := tx.ProcessingBlocks().IsAlive(key)
				if err != nil {
					return err
				}
				if is != wantOwner || alive != wantAlive {
					t.Errorf("owner=%v alive=%v, want %v %v", is, alive, wantOwner, wantAlive)
				}
				return nil
			}))
		}
		check(a, true, true)
		check(b, false, true)
		err = b.Txn(ctx, func(tx *Txn) error { return tx.ProcessingBlocks().Take(key) })
		if !errors.Is(err, ErrCollision) {
			t.Errorf("second take: %v", err)
		}
		must(t, b.Txn(ctx, func(tx *Txn) error {
			o, err := tx.ProcessingBlocks().Owner(key)
			if err == nil && (o == nil || o.PID != 42 || o.Hostname != "host-1") {
				t.Errorf("owner %+v", o)
			}
			return err
		}))
		must(t, a.Close())
		check(b, false, false)
		must(t, b.Txn(ctx, func(tx *Txn) error { return tx.ProcessingBlocks().Take(key) }))
		check(b, true, true)

		// Without a Config there is no client lease.
		err = NewDB(s).Txn(ctx, func(tx *Txn) error { return tx.Flows().Take(FlowKey{PBID: key, Kind: "k", Name: "n"}) })
		if !errors.Is(err, ErrNoLease) {
			t.Errorf("take without config: %v", err)
		}
	})
}

// TestAlive: SetAlive writes the leased keep-alive key; when the lease is
// lost the key is gone and LeaseLost fires; SetAlive again restores it.
func TestAlive(t *testing.T) {
	forEachStore(t, func(t *testing.T, s kv.KV) {
		kvtrace.Wipe(t, s)
		ctx := context.Background()
		cfg := newTestConfig(t, s, "/sdp", WithComponentName("lmc-queueconnector-01"))
		if cfg.LeaseLost() != nil || cfg.LeaseIsLost() {
			t.Error("lease lost before any lease")
		}
		alive, err := cfg.IsAlive(ctx)
		must(t, err)
		if alive {
			t.Fatal("alive before SetAlive")
		}
		must(t, cfg.SetAlive(ctx))
		if got := string(rawGet(t, s, "4/sdp/component/lmc-queueconnector-01/owner")); got != string(cfg.Owner().JSON()) {
			t.Fatalf("alive key value %q", got)
		}
		must(t, cfg.SetAlive(ctx)) // idempotent
		alive, err = cfg.IsAlive(ctx)
		must(t, err)
		if !alive {
			t.Fatal("not alive after SetAlive")
		}
		lost := cfg.LeaseLost()
		lease, err := cfg.ClientLease(ctx)
		must(t, err)
		must(t, lease.Revoke(ctx)) // as if the lease expired
		select {
		case <-lost:
		case <-time.After(10 * time.Second):
			t.Fatal("LeaseLost did not fire")
		}
		if !cfg.LeaseIsLost() {
			t.Error("LeaseIsLost false")
		}
		alive, err = cfg.IsAlive(ctx)
		must(t, err)
		if alive {
			t.Error("alive after the lease was lost")
		}
		must(t, cfg.SetAlive(ctx))
		alive, err = cfg.IsAlive(ctx)
		must(t, err)
		if !alive || cfg.LeaseIsLost() {
			t.Error("SetAlive did not restore liveness with a new lease")
		}
		other := newTestConfig(t, s, "/sdp")
		if err := other.SetAlive(ctx); err == nil {
			t.Error("SetAlive without a component name succeeded")
		}
	})
}

// TestEntityWatcher: a watcher loop that lists PBs and reads their states
// wakes when another client changes a PB state, and when a PB is added.
func TestEntityWatcher(t *testing.T) {
	forEachStore(t, func(t *testing.T, s kv.KV) {
		kvtrace.Wipe(t, s)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cfg := newTestConfig(t, s, "/sdp")
		other := newTestConfig(t, s, "/sdp")
		pb := func(k string) *ProcessingBlock {
			return &ProcessingBlock{Key: k, Script: ScriptKey{Kind: "batch", Name: "n", Version: "1"}}
		}
		must(t, other.Txn(ctx, func(tx *Txn) error {
			if err := tx.ProcessingBlocks().Create(pb("pb-w-20240101-1")); err != nil {
				return err
			}
			return tx.ProcessingBlocks().State("pb-w-20240101-1").Create(pyval.StrDict("status", pyval.Str("WAITING")))
		}))
		changes := []func(tx *Txn) error{
			func(tx *Txn) error {
				return tx.ProcessingBlocks().State("pb-w-20240101-1").Update(pyval.StrDict("status", pyval.Str("RUNNING")))
			},
			func(tx *Txn) error { return tx.ProcessingBlocks().Create(pb("pb-w-20240101-2")) },
		}
		var seen []string
		i := 0
		for w, err := range cfg.Watcher(ctx, Timeout(20*time.Second)) {
			must(t, err)
			if i > 0 && w.TimedOut() {
				t.Fatalf("iteration %d: timed out instead of waking", i)
			}
			var line []string
			must(t, w.Txn(ctx, func(tx *Txn) error {
				line = line[:0]
				keys, err := tx.ProcessingBlocks().ListKeys("")
				if err != nil {
					return err
				}
				for _, k := range keys {
					st, err := tx.ProcessingBlocks().State(k).Get()
					if err != nil {
						return err
					}
					status := "-"
					if st != nil {
						v, _ := st.GetStr("status")
						status, _ = pyval.AsString(v)
					}
					line = append(line, k+"="+status)
				}
				return nil
			}))
			seen = append(seen, strings.Join(line, " "))
			if i == len(changes) {
				break
			}
			change := changes[i]
			i++
			go func() { _ = other.Txn(ctx, change) }()
		}
		want := []string{"pb-w-20240101-1=WAITING", "pb-w-20240101-1=RUNNING", "pb-w-20240101-1=RUNNING pb-w-20240101-2=-"}
		if !reflect.DeepEqual(seen, want) {
			t.Errorf("seen %q, want %q", seen, want)
		}
	})
}

// TestNewProcessingBlockID: the smallest free index for the date.
func TestNewProcessingBlockID(t *testing.T) {
	cfg := newTestConfig(t, newMemoryForTest(t), "/sdp")
	ctx := context.Background()
	now := time.Date(2024, 3, 5, 12, 0, 0, 0, time.Local)
	for _, k := range []string{"pb-gen-20240305-00000", "pb-gen-20240305-00001", "pb-gen-20240305-00003", "pb-gen-20240304-00002"} {
		must(t, cfg.Txn(ctx, func(tx *Txn) error {
			return tx.ProcessingBlocks().Create(&ProcessingBlock{Key: k})
		}))
	}
	must(t, cfg.Txn(ctx, func(tx *Txn) error {
		id, err := tx.newProcessingBlockID("gen", now)
		if err != nil {
			return err
		}
		if id != "pb-gen-20240305-00002" {
			t.Errorf("id %s", id)
		}
		if _, err := tx.newProcessingBlockID("Bad_Gen", now); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("bad generator: %v", err)
		}
		return nil
	}))
}

// TestEntityDecodeErrors: stored values that do not fit a model give a
// *DecodeError naming the path and the field.
func TestEntityDecodeErrors(t *testing.T) {
	cases := []struct {
		stored string
		field  string
	}{
		{`[1]`, "value"},
		{`{"key": 1}`, "key"},
		{`{"key": "pb-a-20240101-1", "script": {"kind": 2}}`, "script.kind"},
		{`{"key": "pb-a-20240101-1", "dependencies": [{"kind": "x"}]}`, "dependencies[0].kind"},
		{`not json`, "value"},
	}
	for _, c := range cases {
		var pb ProcessingBlock
		err := DecodeEntityJSON([]byte(c.stored), &pb)
		var de *DecodeError
		if !errors.As(err, &de) || !errors.Is(err, ErrDecode) || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s: err %v, want a DecodeError naming %s", c.stored, err, c.field)
		}
	}
	// Big ints are exact in the stored JSON; a Go field that cannot hold
	// one is a decode error, never a wrapped or infinite value.
	var eb ExecutionBlock
	for _, s := range []string{`{"key": "eb-a-20240101-1", "max_length": 1` + strings.Repeat("0", 400) + `}`} {
		if err := DecodeEntityJSON([]byte(s), &eb); !errors.Is(err, ErrDecode) || !strings.Contains(err.Error(), "max_length") {
			t.Errorf("%.60s: %v", s, err)
		}
	}
	var o ownerModel
	if err := DecodeEntityJSON([]byte(`{"pid": 18446744073709551616}`), &o); !errors.Is(err, ErrDecode) || !strings.Contains(err.Error(), "pid") {
		t.Errorf("pid 2**64: %v", err)
	}
	var f Flow
	for _, s := range []string{`{"sink": {"host": "x"}}`, `{"sink": 3}`, `{"sources": [{"uri": 5}]}`, `{"sink": {"kind": "data-product", "data_dir": 1}}`} {
		if err := DecodeEntityJSON([]byte(s), &f); !errors.Is(err, ErrDecode) {
			t.Errorf("%s: %v", s, err)
		}
	}
}

// FuzzDecodeEntity: any bytes either fail to decode with an error or give
// a model whose encoding decodes to an equal encoding (no panics, stable
// round trip).
func FuzzDecodeEntity(f *testing.F) {
	for _, c := range entityBytesCases() {
		f.Add(c.want)
	}
	f.Add(`{"sink": {"kind": "x", "a": [1.5, null]}, "sources": [{"uri": {"pb_id": "p"}}]}`)
	f.Fuzz(func(t *testing.T, s string) {
		for _, mk := range []func() any{
			func() any { return new(ProcessingBlock) }, func() any { return new(Flow) },
			func() any { return new(ExecutionBlock) }, func() any { return new(Dependency) },
		} {
			v := mk()
			if err := DecodeEntityJSON([]byte(s), v); err != nil {
				continue
			}
			b, err := EntityJSON(v)
			if err != nil {
				t.Fatalf("encoding a decoded %T: %v", v, err)
			}
			w := mk()
			if err := DecodeEntityJSON(b, w); err != nil {
				t.Fatalf("re-decoding %s: %v", b, err)
			}
			b2, err := EntityJSON(w)
			if err != nil || string(b2) != string(b) {
				t.Fatalf("unstable round trip:\n%s\n%s (%v)", b, b2, err)
			}
		}
	})
}

func newMemoryForTest(t *testing.T) kv.KV {
	s := memory.New()
	t.Cleanup(func() { s.Close() })
	return s
}

// TestEntityStateNull: a state member stored as null stays null through
// Decode and UpdateFrom.
func TestEntityStateNull(t *testing.T) {
	var st ExecutionBlockState
	must(t, DecodeEntityJSON([]byte(`{"status": "ACTIVE", "scan_id": null}`), &st))
	b, err := EntityJSON(&st)
	must(t, err)
	if want := "{\n  \"scan_id\": null,\n  \"status\": \"ACTIVE\"\n}"; string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
}

// TestEntityPrefix: entity paths go under the Config's global prefix, and
// the depth tag counts the prefix's slashes; a bare DB.Txn uses no prefix.
func TestEntityPrefix(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		prefix string
		want   []string // store keys of the PB, its state and a flow
	}{
		{"", []string{"2/pb/pb-p-20240101-1", "3/pb/pb-p-20240101-1/state", "2/flow/pb-p-20240101-1:k:n"}},
		{"/sdp", []string{"3/sdp/pb/pb-p-20240101-1", "4/sdp/pb/pb-p-20240101-1/state", "3/sdp/flow/pb-p-20240101-1:k:n"}},
		{"/a/b", []string{"4/a/b/pb/pb-p-20240101-1", "5/a/b/pb/pb-p-20240101-1/state", "4/a/b/flow/pb-p-20240101-1:k:n"}},
	}
	for _, c := range cases {
		t.Run("prefix="+c.prefix, func(t *testing.T) {
			s := newMemoryForTest(t)
			cfg := newTestConfig(t, s, c.prefix)
			must(t, cfg.Txn(ctx, func(tx *Txn) error {
				if err := tx.ProcessingBlocks().Create(&ProcessingBlock{Key: "pb-p-20240101-1"}); err != nil {
					return err
				}
				if err := tx.ProcessingBlocks().State("pb-p-20240101-1").Create(nil); err != nil {
					return err
				}
				return tx.Flows().Create(&Flow{Key: FlowKey{PBID: "pb-p-20240101-1", Kind: "k", Name: "n"}})
			}))
			for _, k := range c.want {
				if rawGet(t, s, k) == nil {
					t.Errorf("store key %s missing", k)
				}
			}
			var got []string
			must(t, cfg.Txn(ctx, func(tx *Txn) (err error) {
				got, err = tx.ProcessingBlocks().ListKeys("")
				return err
			}))
			if !reflect.DeepEqual(got, []string{"pb-p-20240101-1"}) {
				t.Errorf("listed %v", got)
			}
			// A bare DB.Txn sees the entities only without a prefix.
			must(t, cfg.DB().Txn(ctx, func(tx *Txn) (err error) {
				got, err = tx.ProcessingBlocks().ListKeys("")
				return err
			}))
			if (len(got) == 1) != (c.prefix == "") {
				t.Errorf("bare DB.Txn listed %v", got)
			}
		})
	}
}

// TestEntityCodecRules: int/float kept apart, ints accepted for float
// fields, Extra never overrides a modelled field, non-dict values rejected.
func TestEntityCodecRules(t *testing.T) {
	var eb ExecutionBlock
	must(t, DecodeEntityJSON([]byte(`{"key": "eb-a-20240101-1", "max_length": 60, "context": {"a": 1, "b": 1.0}}`), &eb))
	if eb.MaxLength != 60 {
		t.Errorf("max_length %v", eb.MaxLength)
	}
	b, err := EntityJSON(&eb)
	must(t, err)
	for _, want := range []string{`"max_length": 60.0`, `"a": 1,`, `"b": 1.0`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s missing from\n%s", want, b)
		}
	}
	pb := ProcessingBlock{Key: "pb-a-20240101-1", Extra: Extra{"key": pyval.Str("shadow"), "z": pyval.IntOf(1)}}
	b, err = EntityJSON(&pb)
	must(t, err)
	if !strings.Contains(string(b), `"key": "pb-a-20240101-1"`) || !strings.Contains(string(b), `"z": 1`) {
		t.Errorf("extra handling:\n%s", b)
	}
	if _, err := (&State{}).structBytes([]string{"x"}); err == nil {
		t.Error("a list accepted as a state")
	}
}
