// Package config is the SKA SDP configuration database client (Python
// ska-sdp-config) on any etcd-shaped store (package kv: config/etcd for
// a real etcd, config/memory in process): the same etcd keys and stored
// bytes, the same transaction and watcher semantics, without the upstream
// bugs.
//
// # Keys
//
// Paths look like file paths ("/pb/pb-1/state"). Every store key is the
// path prefixed by its depth, the number of '/' ("3/pb/pb-1/state"), so a
// prefix range returns exactly one level of the tree (DepthTagged; the
// layout is one KeyCodec). Listings therefore follow Python's rules: a
// trailing '/' lists children, no trailing '/' is a string prefix at the
// path's own level ("/t" lists "/t" and "/tx").
//
// # Layers
//
// DB holds the backend operations (Get, Create, Update, Delete, ListKeys,
// List, Watch, Lease), each one store request shaped like 0.3.2's. DB.Txn
// runs software-transactional-memory transactions: reads pinned to one
// snapshot, buffered writes, one guarded commit, re-run on conflict.
// DB.Watcher loops over transactions and blocks until something they read
// changes. Config adds the global prefix, the owner identity and the
// client lease.
//
// # Entities
//
// The SDP entities of ska-sdp-config 1.x (processing and execution
// blocks, deployments, script definitions, flows, dependencies,
// components, LMC entries, the system definition) are Go structs stored
// with Python's exact bytes. Inside a transaction tx.ProcessingBlocks(),
// tx.Flows() and the other collections get, create, update, list and
// delete them, and reach their state and owner entries; Config.SetAlive
// keeps a component's leased keep-alive key. docs/config-compat.md lists
// every path and field with the evidence for it.
//
// # Differences from ska-sdp-config 0.3.2
//
//   - A recursive Delete without MaxDepth reaches every level (0.3.2: 15
//     levels below); MaxDepth(16) reproduces 0.3.2's requests exactly.
//     Writes are limited to MaxWriteDepth levels so one store transaction
//     covers every level.
//   - A transaction's List hides its own pending deletes (0.3.2 listed
//     them, even for keys that never existed).
//   - OnCommit callbacks also run for read-only transactions.
//   - Returning nil from a transaction body commits; there is no
//     equivalent of leaving Python's loop with break (return an error).
//   - Watchers count changes from what each transaction saw, so watches
//     set up in later iterations never replay old changes (0.3.2 kept the
//     first iteration's revision forever), and a watcher does not wake for
//     its own commits.
//   - A commit that needs more compares or writes than the store allows
//     in one transaction (etcd's --max-txn-ops, 128 by default) is first
//     reduced to the compares not implied by others (a listed key read
//     with Get needs no second guard); if it still does not fit it is
//     sent as one etcd transaction of nested transactions carrying the
//     same guards, atomically (0.3.2 sent it flat and etcd rejected it).
//     Only commits of more than about 4000 compares and writes together
//     fail, with *TxnTooLargeError, before anything is sent.
//   - The memory store behaves like etcd (0.3.2's memory backend listed
//     children and deleted prefix siblings).
package config
