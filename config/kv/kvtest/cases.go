package kvtest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/config/kv"
)

// cases is the table of etcd behaviours. Keep each case independent: it
// starts on an empty key space at an arbitrary revision.
var cases = []testCase{
	{name: "revisions_put_update_delete", run: caseRevisions},
	{name: "no_change_no_revision", run: caseNoChange},
	{name: "txn_writes_share_one_revision", run: caseTxnOneRevision},
	{name: "get_old_revisions", run: caseOldRevisions},
	{name: "future_revision", run: caseFutureRevision},
	{name: "compaction", needs: capCompaction, run: caseCompaction},
	{name: "compaction_of_deleted_key", needs: capCompaction, run: caseCompactionDeleted},
	{name: "compare_targets", run: caseCompareTargets},
	{name: "compare_missing_key", run: caseCompareMissing},
	{name: "compare_range", run: caseCompareRange},
	{name: "range_ops", run: caseRangeOps},
	{name: "range_binary_keys", run: caseBinaryKeys},
	{name: "delete_ranges", run: caseDeleteRanges},
	{name: "txn_snapshot_and_op_order", run: caseTxnOrder},
	{name: "txn_failure_branch", run: caseTxnFailure},
	{name: "too_many_ops", run: caseTooManyOps},
	{name: "request_errors", run: caseRequestErrors},
	{name: "nested_txn", run: caseNestedTxn},
	{name: "nested_txn_limits", run: caseNestedLimits},
	{name: "nested_txn_duplicate_keys", run: caseNestedDuplicates},
	{name: "nested_txn_checks_before_writes", run: caseNestedChecks},
	{name: "concurrent_cas", run: caseConcurrentCAS},
	{name: "lease_revoke", run: caseLeaseRevoke},
	{name: "lease_put_without_lease_detaches", run: caseLeaseDetach},
	{name: "lease_keepalive", run: caseLeaseKeepAlive},
	{name: "lease_expiry", run: caseLeaseExpiry},
	{name: "close_revokes_leases", run: caseCloseRevokes},
	{name: "watch_key", run: caseWatchKey},
	{name: "watch_range", run: caseWatchRange},
	{name: "watch_from_past_revision", run: caseWatchPast},
	{name: "watch_future_start", run: caseWatchFuture},
	{name: "watch_order", run: caseWatchOrder},
	{name: "watch_from_now", run: caseWatchNow},
	{name: "watch_cancel", run: caseWatchCancel},
	{name: "watch_lease_revoke", run: caseWatchLeaseRevoke},
}

func caseRevisions(t *testing.T, e *env) {
	r0 := e.rev(t)
	r1 := e.put(t, "a", "1")
	if r1 != r0+1 {
		t.Fatalf("put revision %d, want %d", r1, r0+1)
	}
	checkKV(t, e.get(t, "a", 0), "a", "1", r1, r1, 1)
	r2 := e.put(t, "a", "2")
	if r2 != r1+1 {
		t.Fatalf("update revision %d, want %d", r2, r1+1)
	}
	checkKV(t, e.get(t, "a", 0), "a", "2", r1, r2, 2)
	r3, n := e.del(t, "a", "")
	if r3 != r2+1 || n != 1 {
		t.Fatalf("delete revision %d deleted %d, want %d, 1", r3, n, r2+1)
	}
	got, hdr, err := e.s.Get(e.ctx, b("a"), 0)
	if err != nil || got != nil || hdr != r3 {
		t.Fatalf("get after delete = %+v, %d, %v; want nil, %d", got, hdr, err, r3)
	}
	r4 := e.put(t, "a", "3")
	checkKV(t, e.get(t, "a", 0), "a", "3", r4, r4, 1) // re-created: version restarts
	if e.rev(t) != r4 {
		t.Fatalf("store revision %d, want %d", e.rev(t), r4)
	}
	// Same value again is still a write.
	r5 := e.put(t, "a", "3")
	checkKV(t, e.get(t, "a", 0), "a", "3", r4, r5, 2)
}

func caseNoChange(t *testing.T, e *env) {
	r0 := e.put(t, "a", "1")
	r := e.txn(t, nil, []kv.Op{{Type: kv.OpRange, Key: b("a")}, {Type: kv.OpRange, Key: b("a"), RangeEnd: b("z")}}, nil)
	if r.Revision != r0 || !r.Succeeded || len(r.Results) != 2 {
		t.Fatalf("read-only txn = %+v, want revision %d", r, r0)
	}
	r = e.txn(t, []kv.Compare{{Key: b("a"), Target: kv.Version, Result: kv.Equal, Number: 0}}, []kv.Op{put("a", "2")}, nil)
	if r.Succeeded || r.Revision != r0 || len(r.Results) != 0 {
		t.Fatalf("failed txn without failure ops = %+v, want revision %d", r, r0)
	}
	if rev, n := e.del(t, "missing", ""); rev != r0 || n != 0 {
		t.Fatalf("delete of a missing key: revision %d deleted %d, want %d, 0", rev, n, r0)
	}
	if rev, n := e.del(t, "b", "c"); rev != r0 || n != 0 {
		t.Fatalf("delete of an empty range: revision %d deleted %d, want %d, 0", rev, n, r0)
	}
	r = e.txn(t, nil, nil, nil)
	if !r.Succeeded || r.Revision != r0 {
		t.Fatalf("empty txn = %+v", r)
	}
	l, err := e.s.Grant(e.ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Revoke(e.ctx); err != nil {
		t.Fatal(err)
	}
	if got := e.rev(t); got != r0 {
		t.Fatalf("grant+revoke of an unused lease moved the revision to %d, want %d", got, r0)
	}
}

func caseTxnOneRevision(t *testing.T, e *env) {
	r0 := e.put(t, "b", "old")
	r := e.txn(t, nil, []kv.Op{put("a", "1"), put("b", "2"), put("c", "3"), {Type: kv.OpDelete, Key: b("d")}}, nil)
	if r.Revision != r0+1 || len(r.Results) != 4 {
		t.Fatalf("txn = %+v, want revision %d", r, r0+1)
	}
	checkKV(t, e.get(t, "a", 0), "a", "1", r0+1, r0+1, 1)
	checkKV(t, e.get(t, "b", 0), "b", "2", r0, r0+1, 2)
	checkKV(t, e.get(t, "c", 0), "c", "3", r0+1, r0+1, 1)
}

func caseOldRevisions(t *testing.T, e *env) {
	r1 := e.put(t, "a", "1")
	r2 := e.put(t, "a", "2")
	r3, _ := e.del(t, "a", "")
	r4 := e.put(t, "b", "x")
	for _, c := range []struct {
		key  string
		rev  int64
		want string // "" = missing
	}{{"a", r1, "1"}, {"a", r2, "2"}, {"a", r3, ""}, {"a", r4, ""}, {"a", 0, ""}, {"b", r1, ""}, {"b", r4, "x"}} {
		got, hdr, err := e.s.Get(e.ctx, b(c.key), c.rev)
		if err != nil {
			t.Fatalf("Get %q at %d: %v", c.key, c.rev, err)
		}
		if hdr != r4 {
			t.Fatalf("Get %q at %d: header revision %d, want the current %d", c.key, c.rev, hdr, r4)
		}
		if (got == nil) != (c.want == "") || (got != nil && string(got.Value) != c.want) {
			t.Fatalf("Get %q at %d = %+v, want %q", c.key, c.rev, got, c.want)
		}
	}
	checkKV(t, e.get(t, "a", r2), "a", "2", r1, r2, 2)
	kvs := e.rng(t, "a", "c", r2, false)
	if len(kvs) != 1 || string(kvs[0].Value) != "2" {
		t.Fatalf("range at %d = %s", r2, keysOf(kvs))
	}
	kvs = e.rng(t, "a", "c", r4, false)
	if len(kvs) != 1 || string(kvs[0].Key) != "b" {
		t.Fatalf("range at %d = %s", r4, keysOf(kvs))
	}
}

func caseFutureRevision(t *testing.T, e *env) {
	r0 := e.put(t, "a", "1")
	_, _, err := e.s.Get(e.ctx, b("a"), r0+1)
	wantErr(t, err, kv.ErrFutureRevision, "Get at a future revision")
	_, err = e.s.Txn(e.ctx, nil, []kv.Op{put("x", "1"), {Type: kv.OpRange, Key: b("a"), Revision: r0 + 5}}, nil)
	wantErr(t, err, kv.ErrFutureRevision, "Range at a future revision")
	if e.get(t, "x", 0) != nil || e.rev(t) != r0 {
		t.Fatal("a txn that failed on a future revision wrote")
	}
}

func caseCompaction(t *testing.T, e *env) {
	r1 := e.put(t, "a", "1")
	r2 := e.put(t, "a", "2")
	r3 := e.put(t, "a", "3")
	if err := e.cp.Compact(e.ctx, r2); err != nil {
		t.Fatalf("Compact(%d): %v", r2, err)
	}
	_, _, err := e.s.Get(e.ctx, b("a"), r1)
	wantErr(t, err, kv.ErrCompacted, "Get below the compaction")
	checkKV(t, e.get(t, "a", r2), "a", "2", r1, r2, 2) // the compaction revision stays readable
	checkKV(t, e.get(t, "a", r3), "a", "3", r1, r3, 3)
	_, err = e.s.Txn(e.ctx, nil, []kv.Op{{Type: kv.OpRange, Key: b("a"), Revision: r1}}, nil)
	wantErr(t, err, kv.ErrCompacted, "Range below the compaction")

	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	w := e.s.Watch(ctx, b("a"), nil, r1)
	r := recv(t, w)
	wantErr(t, r.Err, kv.ErrCompacted, "Watch from below the compaction")
	select {
	case _, ok := <-w:
		if ok {
			t.Fatal("watch went on after a compaction error")
		}
	case <-time.After(watchWait):
		t.Fatal("watch channel not closed after a compaction error")
	}
	w = e.s.Watch(ctx, b("a"), nil, r2)
	checkEvents(t, recv(t, w), ev{typ: kv.EventPut, key: "a", val: "2", mod: r2})
	checkEvents(t, recv(t, w), ev{typ: kv.EventPut, key: "a", val: "3", mod: r3})

	wantErr(t, e.cp.Compact(e.ctx, r2), kv.ErrCompacted, "Compact at the compaction revision")
	wantErr(t, e.cp.Compact(e.ctx, r3+1), kv.ErrFutureRevision, "Compact at a future revision")
}

func caseCompactionDeleted(t *testing.T, e *env) {
	r1 := e.put(t, "d", "1")
	r2, _ := e.del(t, "d", "")
	r3 := e.put(t, "e", "1")
	if err := e.cp.Compact(e.ctx, r3); err != nil {
		t.Fatalf("Compact: %v", err)
	}
	if got := e.get(t, "d", r3); got != nil {
		t.Fatalf("deleted key after compaction = %+v", got)
	}
	_, _, err := e.s.Get(e.ctx, b("d"), r1)
	wantErr(t, err, kv.ErrCompacted, "Get of a deleted key below the compaction")
	_, _, err = e.s.Get(e.ctx, b("d"), r2)
	wantErr(t, err, kv.ErrCompacted, "Get at the deletion below the compaction")
	r4 := e.put(t, "d", "2")
	checkKV(t, e.get(t, "d", 0), "d", "2", r4, r4, 1)
	if kvs := e.rng(t, "a", "z", 0, true); keysOf(kvs) != `["d" "e"]` {
		t.Fatalf("range after compaction = %s", keysOf(kvs))
	}
}

// succeeds runs a transaction guarded by cmps and reports which branch ran.
func (e *env) succeeds(t *testing.T, cmps ...kv.Compare) bool {
	t.Helper()
	return e.txn(t, cmps, []kv.Op{{Type: kv.OpRange, Key: cmps[0].Key}}, nil).Succeeded
}

type cmpRow struct {
	target kv.CompareTarget
	result kv.CompareResult
	num    int64
	val    string
	want   bool
}

var targetNames = map[kv.CompareTarget]string{kv.Version: "version", kv.Create: "create", kv.Mod: "mod", kv.Value: "value"}
var resultNames = map[kv.CompareResult]string{kv.Equal: "==", kv.NotEqual: "!=", kv.Less: "<", kv.Greater: ">"}

func (e *env) checkCompares(t *testing.T, key, end string, rows []cmpRow) {
	t.Helper()
	for _, r := range rows {
		c := kv.Compare{Key: b(key), Target: r.target, Result: r.result, Number: r.num, Bytes: b(r.val)}
		if end != "" {
			c.RangeEnd = b(end)
		}
		if got := e.succeeds(t, c); got != r.want {
			operand := fmt.Sprint(r.num)
			if r.target == kv.Value {
				operand = fmt.Sprintf("%q", r.val)
			}
			t.Errorf("[%q, %q) %s %s %s = %v, want %v", key, end, targetNames[r.target], resultNames[r.result], operand, got, r.want)
		}
	}
}

func caseCompareTargets(t *testing.T, e *env) {
	r1 := e.put(t, "a", "v1")
	r2 := e.put(t, "a", "v2")
	e.put(t, "b", "zzz") // moves the store on, so mod < store revision
	V, C, M, X := kv.Version, kv.Create, kv.Mod, kv.Value
	eq, ne, lt, gt := kv.Equal, kv.NotEqual, kv.Less, kv.Greater
	e.checkCompares(t, "a", "", []cmpRow{
		{V, eq, 2, "", true}, {V, eq, 1, "", false}, {V, ne, 1, "", true}, {V, ne, 2, "", false},
		{V, lt, 3, "", true}, {V, lt, 2, "", false}, {V, gt, 1, "", true}, {V, gt, 2, "", false},
		{C, eq, r1, "", true}, {C, ne, r1, "", false}, {C, lt, r2, "", true}, {C, lt, r1, "", false},
		{C, gt, r1 - 1, "", true}, {C, gt, r1, "", false},
		{M, eq, r2, "", true}, {M, eq, r1, "", false}, {M, ne, r1, "", true}, {M, lt, r2 + 1, "", true},
		{M, lt, r2, "", false}, {M, gt, r1, "", true}, {M, gt, r2, "", false},
		{X, eq, 0, "v2", true}, {X, eq, 0, "v1", false}, {X, ne, 0, "v1", true}, {X, ne, 0, "v2", false},
		{X, lt, 0, "v3", true}, {X, lt, 0, "v2", false}, {X, lt, 0, "w", true}, {X, gt, 0, "v1", true},
		{X, gt, 0, "v", true}, {X, gt, 0, "v2", false}, {X, gt, 0, "", true},
	})
	// Every compare must hold.
	a := b("a")
	if e.succeeds(t, kv.Compare{Key: a, Target: V, Result: eq, Number: 2}, kv.Compare{Key: a, Target: M, Result: eq, Number: r1}) {
		t.Error("txn succeeded with one of two compares false")
	}
	if !e.succeeds(t, kv.Compare{Key: a, Target: V, Result: eq, Number: 2}, kv.Compare{Key: a, Target: M, Result: eq, Number: r2}) {
		t.Error("txn failed with both compares true")
	}
}

func caseCompareMissing(t *testing.T, e *env) {
	e.put(t, "gone", "x")
	e.del(t, "gone", "")
	V, C, M, X := kv.Version, kv.Create, kv.Mod, kv.Value
	eq, ne, lt, gt := kv.Equal, kv.NotEqual, kv.Less, kv.Greater
	rows := []cmpRow{
		{V, eq, 0, "", true}, {V, gt, 0, "", false}, {V, ne, 0, "", false}, {V, lt, 1, "", true},
		{C, eq, 0, "", true}, {C, lt, 5, "", true}, {C, gt, 0, "", false},
		{M, eq, 0, "", true}, {M, lt, 1, "", true}, {M, gt, 0, "", false},
		// A value compare on a missing key always fails, even "!=" and "> ''".
		{X, eq, 0, "", false}, {X, ne, 0, "x", false}, {X, gt, 0, "", false}, {X, lt, 0, "zz", false},
	}
	e.checkCompares(t, "missing", "", rows)
	e.checkCompares(t, "gone", "", rows) // a deleted key is missing
}

func caseCompareRange(t *testing.T, e *env) {
	r1 := e.put(t, "p/a", "x")
	r2 := e.put(t, "p/b", "x")
	e.put(t, "p/b/c", "x")
	e.put(t, "q", "y")
	end := string(kv.PrefixEnd(b("p/")))
	V, C, M, X := kv.Version, kv.Create, kv.Mod, kv.Value
	eq, ne, lt, gt := kv.Equal, kv.NotEqual, kv.Less, kv.Greater
	e.checkCompares(t, "p/", end, []cmpRow{
		{C, lt, r2, "", false}, // p/b and p/b/c are not older than r2
		{C, lt, r2 + 2, "", true}, {V, gt, 0, "", true}, {V, eq, 1, "", true},
		{M, gt, r1, "", false}, {M, gt, r1 - 1, "", true},
		{X, eq, 0, "x", true}, {X, ne, 0, "y", true}, {X, ne, 0, "x", false},
	})
	e.put(t, "p/b", "z")
	e.checkCompares(t, "p/", end, []cmpRow{{X, eq, 0, "x", false}, {V, eq, 1, "", false}, {V, lt, 3, "", true}})
	// [p/a, p/b) holds only p/a.
	e.checkCompares(t, "p/a", "p/b", []cmpRow{{C, eq, r1, "", true}, {X, eq, 0, "x", true}})
	// From a key to the end ("\x00"): p/b, p/b/c, q.
	e.checkCompares(t, "p/b", "\x00", []cmpRow{{C, gt, r1, "", true}, {X, eq, 0, "x", false}, {V, gt, 0, "", true}})
	// An empty range compares like one missing key: zero revisions and
	// versions, and value compares fail.
	e.checkCompares(t, "r/", string(kv.PrefixEnd(b("r/"))), []cmpRow{
		{V, eq, 0, "", true}, {V, gt, 0, "", false}, {C, lt, 1, "", true}, {M, eq, 0, "", true},
		{X, eq, 0, "", false}, {X, ne, 0, "", false},
	})
	// A range whose end is not after its start is empty too.
	e.checkCompares(t, "q", "p", []cmpRow{{V, eq, 0, "", true}, {V, gt, 0, "", false}})
	// Deleted keys do not take part.
	e.del(t, "p/b", string(kv.PrefixEnd(b("p/b"))))
	e.checkCompares(t, "p/", end, []cmpRow{{C, eq, r1, "", true}, {X, eq, 0, "x", true}})
}

func caseRangeOps(t *testing.T, e *env) {
	for _, k := range []string{"p/c", "p/a", "p/b/c", "p/b", "q", "o"} {
		e.put(t, k, "v-"+k)
	}
	rE := e.put(t, "p/e", "")
	pe := string(kv.PrefixEnd(b("p/")))
	for _, c := range []struct {
		key, end string
		want     string
	}{
		{"p/", pe, `["p/a" "p/b" "p/b/c" "p/c" "p/e"]`},
		{"p/b", string(kv.PrefixEnd(b("p/b"))), `["p/b" "p/b/c"]`},
		{"p/b/", string(kv.PrefixEnd(b("p/b/"))), `["p/b/c"]`},
		{"p/b", "p/c", `["p/b" "p/b/c"]`},
		{"p/b", "", `["p/b"]`},
		{"p/zz", "", `[]`},
		{"p/c", "\x00", `["p/c" "p/e" "q"]`},
		{"\x00", "\x00", `["o" "p/a" "p/b" "p/b/c" "p/c" "p/e" "q"]`},
		{"p/c", "p/b", `[]`},
		{"p/c", "p/c", `[]`},
	} {
		if got := keysOf(e.rng(t, c.key, c.end, 0, false)); got != c.want {
			t.Errorf("range [%q, %q) = %s, want %s", c.key, c.end, got, c.want)
		}
	}
	kvs := e.rng(t, "p/", pe, 0, false)
	for _, x := range kvs {
		want := "v-" + string(x.Key)
		if string(x.Key) == "p/e" {
			want = ""
		}
		if string(x.Value) != want || x.Version != 1 || x.CreateRevision == 0 || x.ModRevision != x.CreateRevision {
			t.Errorf("range entry %+v", x)
		}
	}
	if last := kvs[len(kvs)-1]; last.Value == nil || len(last.Value) != 0 || last.ModRevision != rE {
		t.Errorf("empty value read as %#v (mod %d), want non-nil empty at %d", last.Value, last.ModRevision, rE)
	}
	if got := e.get(t, "p/e", 0); got.Value == nil || len(got.Value) != 0 {
		t.Errorf("Get of an empty value = %#v, want non-nil empty", got.Value)
	}
	for _, x := range e.rng(t, "p/", pe, 0, true) {
		if x.Value != nil || x.Version != 1 || x.CreateRevision == 0 || x.ModRevision == 0 {
			t.Errorf("keys-only entry %+v, want metadata and no value", x)
		}
	}
	// Range at an old revision, after updates and deletes.
	r := e.rev(t)
	e.put(t, "p/a", "new")
	e.del(t, "p/b", "p/c")
	e.put(t, "p/d", "new")
	old := e.rng(t, "p/", pe, r, false)
	if keysOf(old) != `["p/a" "p/b" "p/b/c" "p/c" "p/e"]` || string(old[0].Value) != "v-p/a" {
		t.Fatalf("range at %d = %s", r, keysOf(old))
	}
	if got := keysOf(e.rng(t, "p/", pe, 0, true)); got != `["p/a" "p/c" "p/d" "p/e"]` {
		t.Fatalf("range now = %s", got)
	}
}

func caseBinaryKeys(t *testing.T, e *env) {
	keys := []string{"x\xff", "x\xff\x00", "x\xff\xff", "x\x00", "y", "x"}
	for _, k := range keys {
		e.put(t, k, "\x00\xff"+k)
	}
	if got := string(kv.PrefixEnd(b("x\xff"))); got != "y" {
		t.Fatalf("PrefixEnd(x\\xff) = %q", got)
	}
	if got := keysOf(e.rng(t, "x\xff", string(kv.PrefixEnd(b("x\xff"))), 0, false)); got != `["x\xff" "x\xff\x00" "x\xff\xff"]` {
		t.Fatalf("prefix x\\xff = %s", got)
	}
	if got := keysOf(e.rng(t, "x", string(kv.PrefixEnd(b("x"))), 0, false)); got != `["x" "x\x00" "x\xff" "x\xff\x00" "x\xff\xff"]` {
		t.Fatalf("prefix x = %s", got)
	}
	if got := e.get(t, "x\xff\x00", 0); string(got.Value) != "\x00\xff"+"x\xff\x00" {
		t.Fatalf("binary value %q", got.Value)
	}
}

func caseDeleteRanges(t *testing.T, e *env) {
	for _, k := range []string{"p/a", "p/b", "p/b/c", "p/c", "q", "r"} {
		e.put(t, k, "1")
	}
	r0 := e.rev(t)
	rev, n := e.del(t, "p/b", string(kv.PrefixEnd(b("p/b"))))
	if rev != r0+1 || n != 2 {
		t.Fatalf("prefix delete: revision %d deleted %d, want %d, 2", rev, n, r0+1)
	}
	if got := keysOf(e.rng(t, "\x00", "\x00", 0, true)); got != `["p/a" "p/c" "q" "r"]` {
		t.Fatalf("after prefix delete: %s", got)
	}
	rev, n = e.del(t, "p/c", "\x00")
	if rev != r0+2 || n != 3 {
		t.Fatalf("from-key delete: revision %d deleted %d, want %d, 3", rev, n, r0+2)
	}
	if got := keysOf(e.rng(t, "\x00", "\x00", 0, true)); got != `["p/a"]` {
		t.Fatalf("after from-key delete: %s", got)
	}
	// Two overlapping deletes in one txn: allowed, each key deleted once.
	e.put(t, "s/1", "1")
	e.put(t, "s/2", "1")
	r := e.txn(t, nil, []kv.Op{
		{Type: kv.OpDelete, Key: b("s/"), RangeEnd: b("s0")},
		{Type: kv.OpDelete, Key: b("s/1")},
	}, nil)
	if r.Results[0].Deleted != 2 || r.Results[1].Deleted != 0 {
		t.Fatalf("overlapping deletes = %+v", r.Results)
	}
	// Old revisions still see deleted keys.
	if got := e.get(t, "q", r0); got == nil {
		t.Fatal("deleted key missing at an old revision")
	}
}

func caseTxnOrder(t *testing.T, e *env) {
	r0 := e.put(t, "a", "1")
	e.put(t, "b", "1")
	r1 := e.rev(t)
	// A read-only transaction's ranges see one snapshot.
	r := e.txn(t, nil, []kv.Op{{Type: kv.OpRange, Key: b("a")}, {Type: kv.OpRange, Key: b("a"), RangeEnd: b("c")}}, nil)
	if len(r.Results[0].KVs) != 1 || len(r.Results[1].KVs) != 2 || r.Revision != r1 {
		t.Fatalf("read-only txn = %+v", r)
	}
	// Ops run in order: a range after a put sees it, one before does not.
	r = e.txn(t, nil, []kv.Op{
		{Type: kv.OpRange, Key: b("a")},
		put("a", "2"),
		{Type: kv.OpRange, Key: b("a")},
		{Type: kv.OpDelete, Key: b("b")},
		{Type: kv.OpRange, Key: b("a"), RangeEnd: b("c")},
		{Type: kv.OpRange, Key: b("a"), RangeEnd: b("c"), Revision: r0},
	}, nil)
	if r.Revision != r1+1 || len(r.Results) != 6 {
		t.Fatalf("txn = %+v", r)
	}
	if v := r.Results[0].KVs; len(v) != 1 || string(v[0].Value) != "1" || v[0].ModRevision != r0 {
		t.Fatalf("range before the put = %+v", v)
	}
	if v := r.Results[2].KVs; len(v) != 1 || string(v[0].Value) != "2" || v[0].ModRevision != r1+1 || v[0].Version != 2 {
		t.Fatalf("range after the put = %+v", v)
	}
	if r.Results[1].KVs != nil || r.Results[3].Deleted != 1 {
		t.Fatalf("put/delete results = %+v", r.Results)
	}
	if got := keysOf(r.Results[4].KVs); got != `["a"]` {
		t.Fatalf("range after the delete = %s", got)
	}
	if v := r.Results[5].KVs; len(v) != 1 || string(v[0].Value) != "1" {
		t.Fatalf("range at an old revision inside a writing txn = %+v", v)
	}
}

func caseTxnFailure(t *testing.T, e *env) {
	r0 := e.put(t, "a", "1")
	r := e.txn(t,
		[]kv.Compare{{Key: b("a"), Target: kv.Value, Result: kv.Equal, Bytes: b("2")}},
		[]kv.Op{put("s", "1")},
		[]kv.Op{put("f", "1"), {Type: kv.OpRange, Key: b("a")}})
	if r.Succeeded || r.Revision != r0+1 || len(r.Results) != 2 || len(r.Results[1].KVs) != 1 {
		t.Fatalf("failure branch = %+v", r)
	}
	if e.get(t, "s", 0) != nil || e.get(t, "f", 0) == nil {
		t.Fatal("wrong branch ran")
	}
	r = e.txn(t,
		[]kv.Compare{{Key: b("a"), Target: kv.Value, Result: kv.Equal, Bytes: b("1")}},
		[]kv.Op{{Type: kv.OpDelete, Key: b("f")}},
		[]kv.Op{put("g", "1")})
	if !r.Succeeded || r.Results[0].Deleted != 1 || e.get(t, "g", 0) != nil {
		t.Fatalf("success branch = %+v", r)
	}
}

func caseTooManyOps(t *testing.T, e *env) {
	const limit = 128 // etcd's default --max-txn-ops
	cmps := func(n int) []kv.Compare {
		out := make([]kv.Compare, n)
		for i := range out {
			out[i] = kv.Compare{Key: b(fmt.Sprintf("c/%03d", i)), Target: kv.Version, Result: kv.Equal}
		}
		return out
	}
	puts := func(n int) []kv.Op {
		out := make([]kv.Op, n)
		for i := range out {
			out[i] = put(fmt.Sprintf("k/%03d", i), "v")
		}
		return out
	}
	r0 := e.rev(t)
	_, err := e.s.Txn(e.ctx, cmps(limit+1), puts(1), nil)
	wantErr(t, err, kv.ErrTooManyOps, "129 compares")
	_, err = e.s.Txn(e.ctx, nil, puts(limit+1), nil)
	wantErr(t, err, kv.ErrTooManyOps, "129 success ops")
	_, err = e.s.Txn(e.ctx, nil, puts(1), puts(limit+1))
	wantErr(t, err, kv.ErrTooManyOps, "129 failure ops (not run)")
	if e.rev(t) != r0 || e.get(t, "k/000", 0) != nil {
		t.Fatal("a rejected txn wrote")
	}
	r := e.txn(t, cmps(limit), puts(limit), puts(limit))
	if !r.Succeeded || r.Revision != r0+1 || len(e.rng(t, "k/", "k0", 0, true)) != limit {
		t.Fatalf("txn at the limit = succeeded %v revision %d", r.Succeeded, r.Revision)
	}
}

func caseRequestErrors(t *testing.T, e *env) {
	r0 := e.put(t, "a", "1")
	_, err := e.s.Txn(e.ctx, nil, []kv.Op{put("x", "1"), put("x", "2")}, nil)
	wantErr(t, err, kv.ErrDuplicateKey, "two puts of one key")
	_, err = e.s.Txn(e.ctx, nil, []kv.Op{put("p/x", "1"), {Type: kv.OpDelete, Key: b("p/"), RangeEnd: b("p0")}}, nil)
	wantErr(t, err, kv.ErrDuplicateKey, "put inside a delete range")
	_, err = e.s.Txn(e.ctx, nil, []kv.Op{{Type: kv.OpDelete, Key: b("y")}, put("y", "1")}, nil)
	wantErr(t, err, kv.ErrDuplicateKey, "delete and put of one key")
	_, err = e.s.Txn(e.ctx, nil, []kv.Op{put("x", "1")}, []kv.Op{put("x", "1"), put("x", "2")})
	wantErr(t, err, kv.ErrDuplicateKey, "duplicate in the failure list")
	_, err = e.s.Txn(e.ctx, nil, []kv.Op{put("", "1")}, nil)
	wantErr(t, err, kv.ErrEmptyKey, "put of the empty key")
	_, _, err = e.s.Get(e.ctx, nil, 0)
	wantErr(t, err, kv.ErrEmptyKey, "get of the empty key")
	_, err = e.s.Txn(e.ctx, []kv.Compare{{Target: kv.Version}}, nil, nil)
	wantErr(t, err, kv.ErrEmptyKey, "compare of the empty key")
	if e.rev(t) != r0 {
		t.Fatal("a rejected txn wrote")
	}
	// Distinct puts next to a delete that does not cover them are fine.
	e.txn(t, nil, []kv.Op{put("x", "1"), put("y", "1"), {Type: kv.OpDelete, Key: b("a")}}, nil)
}

func eq(key, val string) kv.Compare {
	return kv.Compare{Key: b(key), Target: kv.Value, Result: kv.Equal, Bytes: b(val)}
}

func caseNestedTxn(t *testing.T, e *env) {
	e.put(t, "a", "1")
	r0 := e.put(t, "b", "1")
	// Outer success: put a=2, then a nested txn whose compare (a == 1)
	// is judged on the state before the whole transaction, so it holds;
	// inside it a range sees the outer put; a second nested txn fails
	// and runs its failure list.
	r := e.txn(t, []kv.Compare{eq("b", "1")}, []kv.Op{
		put("a", "2"),
		kv.NestedTxn([]kv.Compare{eq("a", "1")},
			[]kv.Op{{Type: kv.OpRange, Key: b("a")}, put("c", "1")},
			[]kv.Op{put("wrong1", "1")}),
		kv.NestedTxn([]kv.Compare{eq("b", "2")},
			[]kv.Op{put("wrong2", "1")},
			[]kv.Op{{Type: kv.OpDelete, Key: b("b")}, kv.NestedTxn(nil, []kv.Op{put("d", "1")}, nil)}),
	}, []kv.Op{put("wrong3", "1")})
	if !r.Succeeded || r.Revision != r0+1 || len(r.Results) != 3 {
		t.Fatalf("txn = %+v", r)
	}
	n1, n2 := r.Results[1].Txn, r.Results[2].Txn
	if n1 == nil || !n1.Succeeded || len(n1.Results) != 2 || n1.Revision != r0+1 {
		t.Fatalf("first nested result = %+v", n1)
	}
	if v := n1.Results[0].KVs; len(v) != 1 || string(v[0].Value) != "2" {
		t.Fatalf("nested range = %+v, want the outer put's value", v)
	}
	if n2 == nil || n2.Succeeded || len(n2.Results) != 2 || n2.Results[0].Deleted != 1 ||
		n2.Results[1].Txn == nil || !n2.Results[1].Txn.Succeeded {
		t.Fatalf("second nested result = %+v", n2)
	}
	for key, want := range map[string]bool{"a": true, "b": false, "c": true, "d": true, "wrong1": false, "wrong2": false, "wrong3": false} {
		got := e.get(t, key, 0)
		if (got != nil) != want {
			t.Fatalf("%q exists %v, want %v", key, got != nil, want)
		}
		if got != nil && got.ModRevision != r0+1 {
			t.Fatalf("%q mod %d, want the one revision %d", key, got.ModRevision, r0+1)
		}
	}
	// A failing outer compare skips every nested transaction of success.
	r = e.txn(t, []kv.Compare{eq("a", "1")}, []kv.Op{kv.NestedTxn(nil, []kv.Op{put("wrong", "1")}, nil)}, nil)
	if r.Succeeded || len(r.Results) != 0 || e.get(t, "wrong", 0) != nil {
		t.Fatalf("failed outer txn = %+v", r)
	}
}

func caseNestedLimits(t *testing.T, e *env) {
	const limit = 128 // etcd's default --max-txn-ops
	cmps := func(n int, p string) []kv.Compare {
		out := make([]kv.Compare, n)
		for i := range out {
			out[i] = kv.Compare{Key: b(fmt.Sprintf("%s%03d", p, i)), Target: kv.Version, Result: kv.Equal}
		}
		return out
	}
	nested := func(outer, inner int) error {
		_, err := e.s.Txn(e.ctx, cmps(outer, "o"), []kv.Op{kv.NestedTxn(cmps(inner, "i"), []kv.Op{put("x", "1")}, nil)}, nil)
		return err
	}
	// The nested budget is what the outer level leaves: 128 - 100 = 28.
	if err := nested(100, 28); err != nil {
		t.Fatalf("100 + 28 compares: %v", err)
	}
	wantErr(t, nested(100, 29), kv.ErrTooManyOps, "100 + 29 compares")
	wantErr(t, nested(limit, 0), kv.ErrTooManyOps, "128 compares and a nested txn")
	if err := nested(1, limit-1); err != nil {
		t.Fatalf("1 + 127 compares: %v", err)
	}
	// The budget counts the largest list: 100 failure ops leave 28.
	fail := make([]kv.Op, 100)
	for i := range fail {
		fail[i] = kv.Op{Type: kv.OpRange, Key: b("f")}
	}
	_, err := e.s.Txn(e.ctx, nil, []kv.Op{kv.NestedTxn(cmps(29, "i"), nil, nil)}, fail)
	wantErr(t, err, kv.ErrTooManyOps, "100 failure ops + 29 nested compares")
	e.txn(t, nil, []kv.Op{kv.NestedTxn(cmps(28, "i"), nil, nil)}, fail)
	// Siblings each get the whole remaining budget: 64 nested txns of 64
	// compares carry 4096 compares.
	var sib []kv.Op
	for i := 0; i < 64; i++ {
		sib = append(sib, kv.NestedTxn(cmps(64, fmt.Sprintf("s%02d/", i)), nil, nil))
	}
	r, err := e.s.Txn(e.ctx, nil, sib, nil)
	if err != nil || !r.Succeeded || len(r.Results) != 64 || !r.Results[63].Txn.Succeeded {
		t.Fatalf("64 x 64 compares: %+v %v", r, err)
	}
	wantErr(t, func() error { _, err := e.s.Txn(e.ctx, nil, append(sib, put("x", "2")), nil); return err }(),
		kv.ErrTooManyOps, "65 ops of which 64 nested txns of 64 compares")
	// Limits apply to unchosen branches too, and to nested failure lists.
	_, err = e.s.Txn(e.ctx, cmps(1, "z"), nil, []kv.Op{kv.NestedTxn(nil, nil, make([]kv.Op, limit))})
	wantErr(t, err, kv.ErrTooManyOps, "nested failure list of 128 in a failure list")
}

func caseNestedDuplicates(t *testing.T, e *env) {
	e.put(t, "k", "0")
	r0 := e.rev(t)
	del := func(key string) kv.Op { return kv.Op{Type: kv.OpDelete, Key: b(key)} }
	nest := func(ops ...kv.Op) kv.Op { return kv.NestedTxn(nil, ops, nil) }
	bad := []struct {
		what string
		ops  []kv.Op
	}{
		{"put in a nested txn and in its parent", []kv.Op{put("x", "1"), nest(put("x", "2"))}},
		{"put in two sibling nested txns", []kv.Op{nest(put("x", "1")), nest(put("x", "2"))}},
		{"put in a nested txn under a parent's delete", []kv.Op{del("x"), nest(put("x", "1"))}},
		{"put in a nested txn under a parent's range delete", []kv.Op{nest(put("p/x", "1")), {Type: kv.OpDelete, Key: b("p/"), RangeEnd: b("p0")}}},
		{"put after a nested delete", []kv.Op{nest(del("x")), put("x", "1")}},
		{"put in a later sibling of a nested delete", []kv.Op{nest(del("x")), nest(put("x", "1"))}},
		{"put twice two levels down", []kv.Op{nest(put("x", "1"), nest(nest(put("x", "1"))))}},
	}
	for _, c := range bad {
		_, err := e.s.Txn(e.ctx, nil, c.ops, nil)
		wantErr(t, err, kv.ErrDuplicateKey, c.what)
	}
	if e.rev(t) != r0 {
		t.Fatal("a rejected txn wrote")
	}
	// Allowed: one key in both lists of a nested txn (only one runs), and
	// a delete in a later sibling of a nested put (it runs after it).
	r := e.txn(t, nil, []kv.Op{
		kv.NestedTxn([]kv.Compare{eq("k", "0")}, []kv.Op{put("y", "then")}, []kv.Op{put("y", "else")}),
		nest(put("z", "1")),
		nest(del("z")),
	}, nil)
	if !r.Succeeded || string(e.get(t, "y", 0).Value) != "then" || e.get(t, "z", 0) != nil {
		t.Fatalf("allowed nested writes = %+v", r)
	}
}

func caseNestedChecks(t *testing.T, e *env) {
	r0 := e.put(t, "a", "1")
	future := kv.Op{Type: kv.OpRange, Key: b("a"), Revision: 1 << 62}
	// A chosen nested failure list with a range at a future revision fails
	// the whole transaction, writes before it included.
	_, err := e.s.Txn(e.ctx, nil, []kv.Op{
		put("w", "1"),
		kv.NestedTxn([]kv.Compare{eq("a", "2")}, nil, []kv.Op{future}),
		put("v", "1"),
	}, nil)
	wantErr(t, err, kv.ErrFutureRevision, "future range in a chosen nested list")
	if e.rev(t) != r0 || e.get(t, "w", 0) != nil {
		t.Fatal("the failed txn wrote")
	}
	// The same op in the list not chosen is never checked.
	r := e.txn(t, nil, []kv.Op{
		put("w", "1"),
		kv.NestedTxn([]kv.Compare{eq("a", "1")}, nil, []kv.Op{future}),
	}, nil)
	if !r.Succeeded || !r.Results[1].Txn.Succeeded || e.get(t, "w", 0) == nil {
		t.Fatalf("txn = %+v", r)
	}
	// A put with a missing lease deep in a chosen list fails it too.
	_, err = e.s.Txn(e.ctx, nil, []kv.Op{
		put("u", "1"),
		kv.NestedTxn(nil, []kv.Op{kv.NestedTxn(nil, []kv.Op{{Type: kv.OpPut, Key: b("l"), Value: b("1"), Lease: 0x7fff0001}}, nil)}, nil),
	}, nil)
	wantErr(t, err, kv.ErrLeaseNotFound, "missing lease in a nested put")
	if e.get(t, "u", 0) != nil {
		t.Fatal("the failed txn wrote")
	}
}

func caseConcurrentCAS(t *testing.T, e *env) {
	const workers, incs = 4, 25
	e.put(t, "n", "0")
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for done := 0; done < incs; {
				cur, _, err := e.s.Get(e.ctx, b("n"), 0)
				if err != nil {
					errs <- err
					return
				}
				var n int
				fmt.Sscan(string(cur.Value), &n)
				r, err := e.s.Txn(e.ctx,
					[]kv.Compare{{Key: b("n"), Target: kv.Mod, Result: kv.Equal, Number: cur.ModRevision}},
					[]kv.Op{put("n", fmt.Sprint(n+1))}, nil)
				if err != nil {
					errs <- err
					return
				}
				if r.Succeeded {
					done++
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := e.get(t, "n", 0); string(got.Value) != fmt.Sprint(workers*incs) || got.Version != workers*incs+1 {
		t.Fatalf("counter = %q version %d, want %d", got.Value, got.Version, workers*incs)
	}
}

func (e *env) grant(t *testing.T, ctx context.Context, ttl int64) kv.Lease {
	t.Helper()
	l, err := e.s.Grant(ctx, ttl)
	if err != nil {
		t.Fatalf("Grant: %v", err)
	}
	if l.ID() == 0 {
		t.Fatal("lease ID 0")
	}
	return l
}

func caseLeaseRevoke(t *testing.T, e *env) {
	l := e.grant(t, e.ctx, 30)
	e.putLease(t, "a", "1", l.ID())
	e.putLease(t, "b", "1", l.ID())
	r0 := e.put(t, "c", "1")
	if got := e.get(t, "a", 0); got.Lease != l.ID() {
		t.Fatalf("leased key has lease %x, want %x", got.Lease, l.ID())
	}
	// Keys-only reads carry the lease on etcd 3.4 but not on 3.6+ (served
	// from the in-memory index): either is accepted.
	if kvs := e.rng(t, "a", "c", 0, true); len(kvs) != 2 || (kvs[1].Lease != l.ID() && kvs[1].Lease != 0) {
		t.Fatalf("keys-only range of leased keys: %+v", kvs)
	}
	if kvs := e.rng(t, "a", "c", 0, false); len(kvs) != 2 || kvs[0].Lease != l.ID() || kvs[1].Lease != l.ID() {
		t.Fatalf("range lost the lease: %+v", kvs)
	}
	if got := e.get(t, "c", 0); got.Lease != 0 {
		t.Fatalf("unleased key has lease %x", got.Lease)
	}
	if closed(l.Lost()) {
		t.Fatal("Lost closed before revoke")
	}
	if err := l.Revoke(e.ctx); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if got := e.rev(t); got != r0+1 {
		t.Fatalf("revoke revision %d, want one revision for both keys (%d)", got, r0+1)
	}
	if got := keysOf(e.rng(t, "a", "d", 0, true)); got != `["c"]` {
		t.Fatalf("after revoke: %s", got)
	}
	select {
	case <-l.Lost():
	case <-time.After(watchWait):
		t.Fatal("Lost not closed after revoke")
	}
	wantErr(t, l.Revoke(e.ctx), kv.ErrLeaseNotFound, "second revoke")
	_, err := e.s.Txn(e.ctx, nil, []kv.Op{{Type: kv.OpPut, Key: b("d"), Value: b("1"), Lease: l.ID()}}, nil)
	wantErr(t, err, kv.ErrLeaseNotFound, "put with a revoked lease")
	_, err = e.s.Txn(e.ctx, nil, []kv.Op{{Type: kv.OpPut, Key: b("d"), Value: b("1"), Lease: 0x7eadbeef}}, nil)
	wantErr(t, err, kv.ErrLeaseNotFound, "put with an unknown lease")
	if e.rev(t) != r0+1 {
		t.Fatal("a put with a missing lease wrote")
	}
}

func caseLeaseDetach(t *testing.T, e *env) {
	l1 := e.grant(t, e.ctx, 30)
	l2 := e.grant(t, e.ctx, 30)
	e.putLease(t, "a", "1", l1.ID())
	e.putLease(t, "b", "1", l1.ID())
	e.put(t, "a", "2")               // no lease: detaches
	e.putLease(t, "b", "2", l2.ID()) // another lease: moves
	if got := e.get(t, "a", 0); got.Lease != 0 || got.Version != 2 {
		t.Fatalf("after put without lease: %+v", got)
	}
	r0 := e.rev(t)
	if err := l1.Revoke(e.ctx); err != nil {
		t.Fatal(err)
	}
	if e.rev(t) != r0 || e.get(t, "a", 0) == nil || e.get(t, "b", 0) == nil {
		t.Fatal("revoking a lease whose keys moved away deleted them")
	}
	if err := l2.Revoke(e.ctx); err != nil {
		t.Fatal(err)
	}
	if e.get(t, "b", 0) != nil || e.get(t, "a", 0) == nil {
		t.Fatal("revoke of the second lease")
	}
}

func caseLeaseKeepAlive(t *testing.T, e *env) {
	l := e.grant(t, e.ctx, 1)
	e.putLease(t, "a", "1", l.ID())
	e.elapse(4 * time.Second) // beyond any TTL etcd grants for 1 s
	if closed(l.Lost()) || e.get(t, "a", 0) == nil {
		t.Fatal("a kept-alive lease expired")
	}
}

func caseLeaseExpiry(t *testing.T, e *env) {
	ctx, cancel := context.WithCancel(e.ctx)
	l := e.grant(t, ctx, 1)
	e.putLease(t, "a", "1", l.ID())
	e.putLease(t, "b", "1", l.ID())
	r0 := e.put(t, "c", "1")
	cancel() // stops the keep-alive: the lease lapses after its TTL
	e.eventually(t, 3*time.Second, "the lease's keys to expire", func() bool {
		kvs := e.rng(t, "a", "d", 0, true)
		return len(kvs) == 1
	})
	e.eventually(t, 0, "Lost after expiry", func() bool { return closed(l.Lost()) })
	if got := e.rev(t); got != r0+1 {
		t.Fatalf("expiry revision %d, want one revision (%d)", got, r0+1)
	}
	_, err := e.s.Txn(e.ctx, nil, []kv.Op{{Type: kv.OpPut, Key: b("d"), Value: b("1"), Lease: l.ID()}}, nil)
	wantErr(t, err, kv.ErrLeaseNotFound, "put with an expired lease")
}

func caseCloseRevokes(t *testing.T, e *env) {
	l := e.grant(t, e.ctx, 30)
	e.putLease(t, "a", "1", l.ID())
	if err := e.s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case <-l.Lost():
	case <-time.After(watchWait):
		t.Fatal("Lost not closed by Close")
	}
	_, _, err := e.s.Get(e.ctx, b("a"), 0)
	wantErr(t, err, kv.ErrClosed, "Get after Close")
	_, err = e.s.Txn(e.ctx, nil, []kv.Op{put("b", "1")}, nil)
	wantErr(t, err, kv.ErrClosed, "Txn after Close")
	_, err = e.s.Grant(e.ctx, 10)
	wantErr(t, err, kv.ErrClosed, "Grant after Close")
	r := recv(t, e.s.Watch(e.ctx, b("a"), nil, 0))
	wantErr(t, r.Err, kv.ErrClosed, "Watch after Close")
	if err := e.s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func (e *env) watch(t *testing.T, key, end string, rev int64) <-chan kv.WatchResponse {
	t.Helper()
	ctx, cancel := context.WithCancel(e.ctx)
	t.Cleanup(cancel)
	var rangeEnd []byte
	if end != "" {
		rangeEnd = b(end)
	}
	return e.s.Watch(ctx, b(key), rangeEnd, rev)
}

func caseWatchKey(t *testing.T, e *env) {
	w := e.watch(t, "a", "", 0)
	r1 := e.put(t, "a", "1")
	r2 := e.put(t, "ab", "x") // another key: not reported
	r3 := e.put(t, "a", "2")
	r4, _ := e.del(t, "a", "")
	_ = r2
	checkEvents(t, recv(t, w), ev{typ: kv.EventPut, key: "a", val: "1", mod: r1, create: r1, version: 1})
	checkEvents(t, recv(t, w), ev{typ: kv.EventPut, key: "a", val: "2", mod: r3, create: r1, version: 2})
	checkEvents(t, recv(t, w), ev{typ: kv.EventDelete, key: "a", mod: r4})
	quiet(t, w, 200*time.Millisecond)
}

func caseWatchRange(t *testing.T, e *env) {
	pe := string(kv.PrefixEnd(b("p/")))
	w := e.watch(t, "p/", pe, 0)
	r1 := e.txn(t, nil, []kv.Op{put("p/b", "1"), put("q", "1"), put("p/a", "1"), put("p/a/x", "1")}, nil).Revision
	checkEvents(t, recv(t, w),
		ev{typ: kv.EventPut, key: "p/b", val: "1", mod: r1},
		ev{typ: kv.EventPut, key: "p/a", val: "1", mod: r1},
		ev{typ: kv.EventPut, key: "p/a/x", val: "1", mod: r1})
	e.put(t, "q", "2")
	r2, _ := e.del(t, "\x00", "\x00")
	checkEvents(t, recv(t, w), // deletes in key order, one revision
		ev{typ: kv.EventDelete, key: "p/a", mod: r2},
		ev{typ: kv.EventDelete, key: "p/a/x", mod: r2},
		ev{typ: kv.EventDelete, key: "p/b", mod: r2})
	// From a key to the end.
	w2 := e.watch(t, "p/b", "\x00", 0)
	r3 := e.put(t, "p/a", "2")
	r4 := e.put(t, "z", "2")
	_ = r3
	checkEvents(t, recv(t, w2), ev{typ: kv.EventPut, key: "z", val: "2", mod: r4})
	checkEvents(t, recv(t, w), ev{typ: kv.EventPut, key: "p/a", val: "2", mod: r3})
}

func caseWatchPast(t *testing.T, e *env) {
	r1 := e.put(t, "a", "1")
	r2 := e.put(t, "b", "1")
	r3 := e.put(t, "a", "2")
	r4, _ := e.del(t, "a", "")
	w := e.watch(t, "a", "", r1)
	checkEvents(t, recv(t, w), ev{typ: kv.EventPut, key: "a", val: "1", mod: r1, version: 1})
	checkEvents(t, recv(t, w), ev{typ: kv.EventPut, key: "a", val: "2", mod: r3, version: 2})
	checkEvents(t, recv(t, w), ev{typ: kv.EventDelete, key: "a", mod: r4})
	r5 := e.put(t, "a", "3")
	checkEvents(t, recv(t, w), ev{typ: kv.EventPut, key: "a", val: "3", mod: r5, create: r5, version: 1})
	// A range watch from r2 starts with b.
	w2 := e.watch(t, "a", "c", r2)
	checkEvents(t, recv(t, w2), ev{typ: kv.EventPut, key: "b", val: "1", mod: r2})
	checkEvents(t, recv(t, w2), ev{typ: kv.EventPut, key: "a", val: "2", mod: r3})
}

func caseWatchFuture(t *testing.T, e *env) {
	r0 := e.rev(t)
	w := e.watch(t, "a", "", r0+2)
	e.put(t, "a", "skipped")
	r2 := e.put(t, "a", "seen")
	checkEvents(t, recv(t, w), ev{typ: kv.EventPut, key: "a", val: "seen", mod: r2})
}

func caseWatchOrder(t *testing.T, e *env) {
	const n = 50
	w := e.watch(t, "k/", "k0", 0)
	go func() {
		for i := range n {
			_, _ = e.s.Txn(e.ctx, nil, []kv.Op{put(fmt.Sprintf("k/%d", i%7), fmt.Sprint(i))}, nil)
		}
	}()
	last := int64(0)
	for i := range n {
		r := recv(t, w)
		if r.Err != nil || len(r.Events) != 1 {
			t.Fatalf("response %d = %+v", i, r)
		}
		x := r.Events[0].KV
		if x.ModRevision <= last || string(x.Value) != fmt.Sprint(i) || string(x.Key) != fmt.Sprintf("k/%d", i%7) {
			t.Fatalf("event %d = %q=%q at %d after %d", i, x.Key, x.Value, x.ModRevision, last)
		}
		last = x.ModRevision
	}
}

func caseWatchNow(t *testing.T, e *env) {
	e.put(t, "a", "before")
	w := e.watch(t, "a", "", 0)
	r := e.put(t, "a", "after") // right after Watch returns: must be seen
	checkEvents(t, recv(t, w), ev{typ: kv.EventPut, key: "a", val: "after", mod: r})
	quiet(t, w, 100*time.Millisecond)
}

func caseWatchCancel(t *testing.T, e *env) {
	ctx, cancel := context.WithCancel(e.ctx)
	w := e.s.Watch(ctx, b("a"), nil, 0)
	e.put(t, "a", "1")
	checkEvents(t, recv(t, w), ev{typ: kv.EventPut, key: "a", val: "1", mod: e.rev(t)})
	cancel()
	deadline := time.After(watchWait)
	for {
		select {
		case r, ok := <-w:
			if !ok {
				return
			}
			if len(r.Events) > 0 {
				continue // in flight before the cancel
			}
		case <-deadline:
			t.Fatal("watch channel not closed after ctx ended")
		}
	}
}

func caseWatchLeaseRevoke(t *testing.T, e *env) {
	l := e.grant(t, e.ctx, 30)
	e.putLease(t, "l/b", "1", l.ID())
	e.putLease(t, "l/a", "1", l.ID())
	w := e.watch(t, "l/", "l0", 0)
	if err := l.Revoke(e.ctx); err != nil {
		t.Fatal(err)
	}
	r := e.rev(t)
	checkEvents(t, recv(t, w), ev{typ: kv.EventDelete, key: "l/a", mod: r}, ev{typ: kv.EventDelete, key: "l/b", mod: r})
}
