package config_test

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/sdpkit/sdpkit/config"
	"github.com/sdpkit/sdpkit/config/memory"
)

func Example() {
	ctx := context.Background()
	db := config.NewDB(memory.New())
	_ = db.Create(ctx, "/pb/pb-1", []byte(`{"id": "pb-1"}`), 0)
	_ = db.Create(ctx, "/pb/pb-1/state", []byte(`{"status": "RUNNING"}`), 0)
	_ = db.Create(ctx, "/pb/pb-2", []byte(`{"id": "pb-2"}`), 0)

	children, _, _ := db.ListKeys(ctx, "/pb/")
	fmt.Println(children)
	all, _, _ := db.ListKeys(ctx, "/pb/", config.Recurse(1))
	fmt.Println(all)
	v, rev, _ := db.Get(ctx, "/pb/pb-1/state", 0)
	fmt.Println(string(v), rev.ModRevision > 0)
	// Output:
	// [/pb/pb-1 /pb/pb-2]
	// [/pb/pb-1 /pb/pb-1/state /pb/pb-2]
	// {"status": "RUNNING"} true
}

func ExampleDB_Txn() {
	ctx := context.Background()
	db := config.NewDB(memory.New())
	_ = db.Create(ctx, "/counter", []byte("41"), 0)

	// Read-modify-write: re-run automatically if /counter changes
	// between the read and the commit.
	err := db.Txn(ctx, func(tx *config.Txn) error {
		v, err := tx.Get("/counter")
		if err != nil {
			return err
		}
		n, _ := strconv.Atoi(string(v))
		tx.OnCommit(func() { fmt.Println("committed", n+1) })
		return tx.Update("/counter", []byte(strconv.Itoa(n+1)))
	})
	fmt.Println(err)
	// Output:
	// committed 42
	// <nil>
}

func ExampleDB_Watcher() {
	ctx := context.Background()
	db := config.NewDB(memory.New())
	_ = db.Create(ctx, "/deploy/a", nil, 0)

	n := 0
	for w, err := range db.Watcher(ctx, config.Timeout(5*time.Second)) {
		if err != nil {
			return
		}
		var deployments []string
		_ = w.Txn(ctx, func(tx *config.Txn) (err error) {
			deployments, err = tx.List("/deploy/")
			return err
		})
		fmt.Println(deployments)
		if n++; n == 2 {
			break
		}
		// Another client adds a deployment: the listing's membership
		// changes, so the watcher wakes.
		go func() { _ = db.Create(ctx, "/deploy/b", nil, 0) }()
	}
	// Output:
	// [/deploy/a]
	// [/deploy/a /deploy/b]
}

func ExampleDB_Delete() {
	ctx := context.Background()
	db := config.NewDB(memory.New())
	for _, p := range []string{"/k", "/k/x", "/k/x/y", "/kx"} {
		_ = db.Create(ctx, p, nil, 0)
	}
	_ = db.Delete(ctx, "/k", config.Recursive())
	left, _, _ := db.ListKeys(ctx, "/", config.Recurse(3))
	fmt.Println(left)
	// Output:
	// [/kx]
}

func ExampleConfig_ClientLease() {
	ctx := context.Background()
	cfg, _ := config.New(memory.New(), config.WithGlobalPrefix("/sdp"),
		config.WithOwner(config.Owner{Command: []string{"script.py"}, Hostname: "host-1", PID: 1}))
	lease, _ := cfg.ClientLease(ctx)
	owner := cfg.Path("/pb/pb-1/owner")
	_ = cfg.Txn(ctx, func(tx *config.Txn) error {
		return tx.Create(owner, cfg.Owner().JSON(), lease.ID())
	})
	v, _, _ := cfg.DB().Get(ctx, owner, 0)
	fmt.Println(string(v))
	fmt.Println(string(cfg.DB().Codec().Key(owner, config.Depth(owner))))
	_ = cfg.Close() // revokes the lease: the owner key vanishes
	// Output:
	// {
	//   "command": [
	//     "script.py"
	//   ],
	//   "hostname": "host-1",
	//   "pid": 1
	// }
	// 4/sdp/pb/pb-1/owner
}
