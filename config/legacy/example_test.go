package legacy_test

import (
	"context"
	"fmt"
	"time"

	"github.com/sdpkit/sdpkit/config"
	"github.com/sdpkit/sdpkit/config/legacy"
	"github.com/sdpkit/sdpkit/config/memory"
)

func Example() {
	ctx := context.Background()
	cfg, _ := config.New(memory.New(), config.WithGlobalPrefix("/sdp"))
	defer cfg.Close()
	day := time.Date(2021, 7, 20, 0, 0, 0, 0, time.Local)
	err := cfg.Txn(ctx, func(tx *config.Txn) error {
		lt := legacy.NewTxn(tx, cfg.GlobalPrefix())
		id, err := lt.NewProcessingBlockIDOn("sdpcli", day)
		if err != nil {
			return err
		}
		return lt.CreateProcessingBlock(&legacy.ProcessingBlock{
			ID:       id,
			Workflow: legacy.Workflow{Type: "batch", ID: "test_batch", Version: "0.2.2"},
		})
	})
	fmt.Println(err)
	v, _, _ := cfg.DB().Get(ctx, "/sdp/pb/pb-sdpcli-20210720-00000", 0)
	fmt.Println(string(v))
	// Output:
	// <nil>
	// {
	//   "dependencies": [],
	//   "id": "pb-sdpcli-20210720-00000",
	//   "parameters": {},
	//   "sbi_id": null,
	//   "workflow": {
	//     "id": "test_batch",
	//     "type": "batch",
	//     "version": "0.2.2"
	//   }
	// }
}
