package config_test

import (
	"context"
	"fmt"
	"time"

	"github.com/sdpkit/sdpkit/config"
	"github.com/sdpkit/sdpkit/config/memory"
	"github.com/sdpkit/sdpkit/pyval"
)

func ExampleTxn_ProcessingBlocks() {
	ctx := context.Background()
	cfg, _ := config.New(memory.New(), config.WithGlobalPrefix("/sdp"))
	defer cfg.Close()

	err := cfg.Txn(ctx, func(tx *config.Txn) error {
		id, err := tx.NewProcessingBlockID("test")
		if err != nil {
			return err
		}
		pb := &config.ProcessingBlock{
			Key:    id,
			Script: config.ScriptKey{Kind: "batch", Name: "test-batch", Version: "0.0.0"},
		}
		if err := tx.ProcessingBlocks().Create(pb); err != nil {
			return err
		}
		return tx.ProcessingBlocks().State(id).Create(pyval.StrDict("status", pyval.Str("WAITING")))
	})
	fmt.Println(err)

	_ = cfg.Txn(ctx, func(tx *config.Txn) error {
		keys, _ := tx.ProcessingBlocks().ListKeys("pb-test-")
		for _, k := range keys {
			pb, _ := tx.ProcessingBlocks().Get(k)
			var st config.ProcessingBlockState
			_, _ = tx.ProcessingBlocks().State(k).Decode(&st)
			fmt.Println(pb.Script.Name, st.Status)
		}
		return nil
	})
	// Output:
	// <nil>
	// test-batch WAITING
}

func ExampleEntityJSON() {
	b, _ := config.EntityJSON(&config.ProcessingBlock{
		Key:        "pb-test-20240101-00000",
		Script:     config.ScriptKey{Kind: "realtime", Name: "vis-receive", Version: "4.0.0"},
		Parameters: pyval.StrDict("max_length", pyval.Float(21600)),
	})
	fmt.Println(string(b))
	// Output:
	// {
	//   "dependencies": [],
	//   "eb_id": null,
	//   "key": "pb-test-20240101-00000",
	//   "parameters": {
	//     "max_length": 21600.0
	//   },
	//   "script": {
	//     "kind": "realtime",
	//     "name": "vis-receive",
	//     "version": "4.0.0"
	//   }
	// }
}

// A queue connector finds the flows it runs: those of a processing block
// with a source whose function is the connector's exchange.
func ExampleTxn_Flows() {
	ctx := context.Background()
	cfg, _ := config.New(memory.New())
	defer cfg.Close()
	pbID := "pb-test-00000000-0000"
	_ = cfg.Txn(ctx, func(tx *config.Txn) error {
		return tx.Flows().Create(&config.Flow{
			Key:  config.FlowKey{PBID: pbID, Kind: "data-queue", Name: "my-dataqueue"},
			Sink: &config.DataQueue{Host: "kafka://localhost:9092", Topics: "my-topic", Format: "json"},
			Sources: []config.FlowSource{{
				URI:      config.FlowURI{Key: &config.FlowKey{PBID: pbID, Kind: "tango", Name: "other-tango-attribute"}},
				Function: config.QueueConnectorFunction,
			}},
			DataModel: "Metrics",
		})
	})
	_ = cfg.Txn(ctx, func(tx *config.Txn) error {
		flows, err := tx.Flows().List(pbID + ":")
		if err != nil {
			return err
		}
		for _, f := range flows {
			for _, src := range f.Sources {
				if src.Function != config.QueueConnectorFunction {
					continue
				}
				if dq, ok := f.Sink.(*config.DataQueue); ok {
					fmt.Printf("%s -> kafka %s topic %s (%s, %s)\n", src.URI.Key, dq.Host, dq.Topics, dq.Format, f.DataModel)
				}
			}
		}
		return nil
	})
	// Output:
	// pb-test-00000000-0000:tango:other-tango-attribute -> kafka kafka://localhost:9092 topic my-topic (json, Metrics)
}

// A processing-controller-style loop: list the processing blocks and read
// their states; the loop wakes when a state changes or a PB comes or goes.
func ExampleConfig_Watcher() {
	ctx := context.Background()
	cfg, _ := config.New(memory.New(), config.WithGlobalPrefix("/sdp"))
	defer cfg.Close()
	pbID := "pb-test-20240101-00000"
	_ = cfg.Txn(ctx, func(tx *config.Txn) error {
		_ = tx.ProcessingBlocks().Create(&config.ProcessingBlock{Key: pbID, Script: config.ScriptKey{Kind: "batch", Name: "b", Version: "1"}})
		return tx.ProcessingBlocks().State(pbID).Create(pyval.StrDict("status", pyval.Str("WAITING")))
	})

	n := 0
	for w, err := range cfg.Watcher(ctx, config.Timeout(5*time.Second)) {
		if err != nil {
			return
		}
		_ = w.Txn(ctx, func(tx *config.Txn) error {
			keys, err := tx.ProcessingBlocks().ListKeys("")
			if err != nil {
				return err
			}
			for _, k := range keys {
				var st config.ProcessingBlockState
				if _, err := tx.ProcessingBlocks().State(k).Decode(&st); err != nil {
					return err
				}
				fmt.Println(k, st.Status)
			}
			return nil
		})
		if n++; n == 2 {
			break
		}
		// Another component moves the PB on: the watcher wakes.
		go func() {
			_ = cfg.Txn(ctx, func(tx *config.Txn) error {
				return tx.ProcessingBlocks().State(pbID).UpdateFrom(&config.ProcessingBlockState{Status: "RUNNING"})
			})
		}()
	}
	// Output:
	// pb-test-20240101-00000 WAITING
	// pb-test-20240101-00000 RUNNING
}

func ExampleConfig_SetAlive() {
	ctx := context.Background()
	store := memory.New()
	cfg, _ := config.New(store, config.WithComponentName("lmc-queueconnector-01"))
	_ = cfg.SetAlive(ctx)
	alive, _ := cfg.IsAlive(ctx)
	fmt.Println(cfg.AliveKey(), alive)

	// The lease is lost (here revoked; in production it expires when
	// keep-alives fail): the keep-alive key is gone, LeaseLost fires, and
	// SetAlive sets the key again with a new lease.
	lease, _ := cfg.ClientLease(ctx)
	_ = lease.Revoke(ctx)
	<-cfg.LeaseLost()
	alive, _ = cfg.IsAlive(ctx)
	fmt.Println("after losing the lease:", alive)
	_ = cfg.SetAlive(ctx)
	alive, _ = cfg.IsAlive(ctx)
	fmt.Println("after SetAlive:", alive)
	_ = cfg.Close() // revokes the lease: the key vanishes at once
	// Output:
	// /component/lmc-queueconnector-01/owner true
	// after losing the lease: false
	// after SetAlive: true
}

func ExampleCollection_Take() {
	ctx := context.Background()
	cfg, _ := config.New(memory.New(),
		config.WithOwner(config.Owner{Command: []string{"script.py"}, Hostname: "host-1", PID: 1}))
	defer cfg.Close()
	key := config.FlowKey{PBID: "pb-test-20240101-00000", Kind: "data-product", Name: "vis"}
	_ = cfg.Txn(ctx, func(tx *config.Txn) error {
		if err := tx.Flows().Take(key); err != nil { // leased owner key
			return err
		}
		mine, _ := tx.Flows().IsOwner(key)
		fmt.Println("owner:", mine)
		return nil
	})
	// Output:
	// owner: true
}
