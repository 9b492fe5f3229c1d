// Package legacy is the entity layer of ska-sdp-config 0.3.2, for tools
// that must work with 0.3-era deployments: processing blocks and their
// state and owner keys, deployments, scheduling block instances,
// subarrays, the master entry and workflow definitions, stored under the
// same paths with the same JSON bytes as the Python library (spec §4).
//
// The operations are methods of Txn, a thin view of a *config.Txn plus
// the global prefix the entities live under:
//
//	err := cfg.Txn(ctx, func(tx *config.Txn) error {
//		lt := legacy.NewTxn(tx, cfg.GlobalPrefix())
//		id, err := lt.NewProcessingBlockID("sdpcli")
//		…
//		return lt.CreateProcessingBlock(pb)
//	})
//
// Values are written as Python's dict_to_json does (pyjson.Canonical):
// sorted keys, two-space indent, no trailing newline.
//
// # Differences from ska-sdp-config 0.3.2
//
//   - NewProcessingBlockID fails with ErrIDsExhausted when all 100000
//     indices of a day are taken (0.3.2 returned index 99999 again).
//   - DeleteDeployment and DeleteWorkflow delete exactly the entity and
//     the keys below it (0.3.2 also deleted same-level prefix siblings:
//     deleting dpl-1 removed dpl-10).
//   - GetDeployment of a missing id returns nil (0.3.2 raised TypeError).
//   - ListWorkflows filters by exact type and id (0.3.2's string-prefix
//     listing returned "batchx" workflows for type "batch"); the store
//     request is the same.
package legacy
