package etcd_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/config/kv"
	"github.com/sdpkit/sdpkit/config/memory"
	"github.com/sdpkit/sdpkit/internal/testenv"
)

// TestDifferential applies the same random sequence of transactions
// (nested ones among them),
// reads at random revisions, compactions and lease grants/revokes to the
// memory store and to a fresh Debian etcd, and requires identical results,
// errors and revisions, and identical watch streams. SDP_DIFF_SEED and
// SDP_DIFF_OPS choose the sequence.
func TestDifferential(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("SDP_DIFF_SEED"); v != "" {
		seed, _ = strconv.ParseUint(v, 10, 64)
	}
	nOps := 3000
	if testing.Short() {
		nOps = 500
	}
	if v := os.Getenv("SDP_DIFF_OPS"); v != "" {
		nOps, _ = strconv.Atoi(v)
	}
	t.Logf("seed %d, %d steps (rerun with SDP_DIFF_SEED=%d)", seed, nOps, seed)

	srv := testenv.Etcd(t)
	real := open(t, srv.Endpoints())
	mem := memory.New()
	defer mem.Close()
	d := &differ{t: t, rng: rand.New(rand.NewPCG(seed, seed^0x5eed)), stores: [2]kv.KV{mem, real}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	d.ctx = ctx

	// Watches over everything and over one prefix, read as events come,
	// compared at the end. They start at revision 2, the next one, which
	// etcd serves from its synced watcher group at once; a watch from an
	// older revision is synced by a 100 ms loop and, if a compaction
	// passes its start first, cancelled (a timing matter the memory store
	// does not imitate).
	type stream struct {
		ch   <-chan kv.WatchResponse
		last chan int64 // the final revision, once known
		out  chan string
	}
	var streams [2][2]stream
	for i, s := range d.stores {
		for w, rng := range [][2][]byte{{{0}, {0}}, {[]byte("k/"), []byte("k0")}} {
			st := stream{ch: s.Watch(ctx, rng[0], rng[1], 2), last: make(chan int64, 1), out: make(chan string, 1)}
			streams[i][w] = st
			go func() { st.out <- collect(st.ch, st.last) }()
		}
	}
	// Both stores start at revision 1 (a fresh etcd), so revisions compare
	// as they are.
	for step := range nOps {
		d.step(step)
	}
	finalRev := d.rev()
	var got [2][2]string
	for i := range 2 {
		for w := range 2 {
			streams[i][w].last <- finalRev
			got[i][w] = <-streams[i][w].out
		}
	}
	for w := range 2 {
		if a, b := got[0][w], got[1][w]; a != b {
			t.Errorf("watch %d streams differ:\nmemory: %.2000s\netcd:   %.2000s", w, a, b)
		}
	}
	t.Logf("final revision %d; %d txns (%d succeeded), %d request errors, %d reads, %d compactions, %d leases",
		finalRev, d.nTxn, d.nSucc, d.nErr, d.nGet, d.nCompact, len(d.leases))
}

type differ struct {
	t      *testing.T
	ctx    context.Context
	rng    *rand.Rand
	stores [2]kv.KV
	leases [][2]kv.Lease // parallel: index i is the same lease in both

	nTxn, nSucc, nErr, nGet, nCompact int
}

var diffKeys = []string{"a", "b", "k/", "k/a", "k/b", "k/b/c", "k/c", "k\xff", "l", "z"}

func (d *differ) key() []byte { return []byte(diffKeys[d.rng.IntN(len(diffKeys))]) }

// end picks a range end: none, a prefix end, "\x00" (to the end) or
// another key (possibly before the start).
func (d *differ) end(k []byte) []byte {
	switch d.rng.IntN(4) {
	case 0:
		return kv.PrefixEnd(k)
	case 1:
		if d.rng.IntN(3) == 0 {
			return []byte{0}
		}
		return d.key()
	}
	return nil
}

func (d *differ) rev() int64 {
	_, r, err := d.stores[0].Get(d.ctx, []byte("a"), 0)
	if err != nil {
		d.t.Fatal(err)
	}
	return r
}

func (d *differ) leaseIDs(i int) map[kv.LeaseID]int {
	m := map[kv.LeaseID]int{}
	for j, l := range d.leases {
		m[l[i].ID()] = j + 1
	}
	return m
}

func (d *differ) step(step int) {
	t := d.t
	switch p := d.rng.IntN(100); {
	case p < 70:
		d.txnStep(step)
	case p < 85:
		key := d.key()
		rev := int64(0)
		if d.rng.IntN(2) == 0 {
			rev = d.rng.Int64N(d.rev()+3) - 1
		}
		var out [2]string
		for i, s := range d.stores {
			x, hdr, err := s.Get(d.ctx, key, rev)
			out[i] = fmt.Sprintf("hdr %d err %s kv %s", hdr, errClass(err), fmtKV(x, d.leaseIDs(i)))
			if err != nil {
				out[i] = "err " + errClass(err)
			}
		}
		d.nGet++
		if out[0] != out[1] {
			t.Fatalf("step %d: Get %q at %d:\nmemory: %s\netcd:   %s", step, key, rev, out[0], out[1])
		}
	case p < 88:
		rev := d.rng.Int64N(d.rev()+2) + 1
		var out [2]string
		for i, s := range d.stores {
			out[i] = errClass(s.(kv.Compactor).Compact(d.ctx, rev))
		}
		d.nCompact++
		if out[0] != out[1] {
			t.Fatalf("step %d: Compact(%d): memory %s, etcd %s", step, rev, out[0], out[1])
		}
	case p < 94:
		var pair [2]kv.Lease
		for i, s := range d.stores {
			l, err := s.Grant(d.ctx, 60)
			if err != nil {
				t.Fatalf("step %d: Grant: %v", step, err)
			}
			pair[i] = l
		}
		d.leases = append(d.leases, pair)
	default:
		if len(d.leases) == 0 {
			return
		}
		j := d.rng.IntN(len(d.leases))
		var out [2]string
		for i := range d.stores {
			out[i] = errClass(d.leases[j][i].Revoke(d.ctx))
		}
		if out[0] != out[1] {
			t.Fatalf("step %d: Revoke lease %d: memory %s, etcd %s", step, j+1, out[0], out[1])
		}
	}
}

func (d *differ) compares(n int) []kv.Compare {
	var cmps []kv.Compare
	for range n {
		k := d.key()
		c := kv.Compare{Key: k, Target: kv.CompareTarget(d.rng.IntN(4)), Result: kv.CompareResult(d.rng.IntN(4))}
		if d.rng.IntN(3) == 0 {
			c.RangeEnd = d.end(k)
		}
		if c.Target == kv.Value {
			c.Bytes = []byte(d.value())
		} else {
			c.Number = d.rng.Int64N(d.rev() + 2)
			if c.Target == kv.Version {
				c.Number = d.rng.Int64N(4)
			}
		}
		cmps = append(cmps, c)
	}
	return cmps
}

func (d *differ) txnStep(step int) {
	cmps := d.compares(d.rng.IntN(4))
	// Ops are generated with lease indexes, resolved per store.
	leaseOf := map[*kv.Op]int{}
	success := d.ops(d.rng.IntN(5), 2, leaseOf)
	failure := d.ops(d.rng.IntN(3), 2, leaseOf)
	var out [2]string
	var res [2]kv.TxnResult
	for i, s := range d.stores {
		resolve(success, leaseOf, d.leases, i)
		resolve(failure, leaseOf, d.leases, i)
		r, err := s.Txn(d.ctx, cmps, success, failure)
		res[i] = r
		if err != nil {
			out[i] = "err " + errClass(err)
			continue
		}
		out[i] = fmtTxn(r, d.leaseIDs(i))
	}
	d.nTxn++
	if res[0].Succeeded {
		d.nSucc++
	}
	if out[0][:3] == "err" {
		d.nErr++
	}
	if out[0] != out[1] {
		d.t.Fatalf("step %d: Txn\n cmps %+v\n success %s\n failure %s\nmemory: %s\netcd:   %s", step, cmps, fmtOps(success), fmtOps(failure), out[0], out[1])
	}
}

func (d *differ) value() string {
	return [...]string{"", "0", "1", "v", "vv", "w"}[d.rng.IntN(6)]
}

// ops returns n random ops, nested transactions up to depth levels deep
// among them, recording in leaseOf the 1-based index of the lease a put
// uses (none: no lease; may name a revoked lease).
func (d *differ) ops(n, depth int, leaseOf map[*kv.Op]int) []kv.Op {
	ops := make([]kv.Op, n)
	for i := range ops {
		k := d.key()
		kind := d.rng.IntN(3)
		if depth > 0 && d.rng.IntN(6) == 0 {
			kind = 3
		}
		switch kind {
		case 0:
			ops[i] = kv.Op{Type: kv.OpRange, Key: k, RangeEnd: d.end(k), KeysOnly: d.rng.IntN(3) == 0}
			if d.rng.IntN(4) == 0 {
				ops[i].Revision = d.rng.Int64N(d.rev()+2) + 1
			}
		case 1:
			ops[i] = kv.Op{Type: kv.OpPut, Key: k, Value: []byte(d.value())}
			if len(d.leases) > 0 && d.rng.IntN(3) == 0 {
				leaseOf[&ops[i]] = d.rng.IntN(len(d.leases)) + 1
			}
		case 2:
			ops[i] = kv.Op{Type: kv.OpDelete, Key: k}
			if d.rng.IntN(2) == 0 {
				ops[i].RangeEnd = d.end(k)
			}
		case 3:
			ops[i] = kv.NestedTxn(d.compares(d.rng.IntN(3)), d.ops(d.rng.IntN(4), depth-1, leaseOf), d.ops(d.rng.IntN(3), depth-1, leaseOf))
		}
	}
	return ops
}

func resolve(ops []kv.Op, leaseOf map[*kv.Op]int, leases [][2]kv.Lease, store int) {
	for i := range ops {
		ops[i].Lease = 0
		if idx := leaseOf[&ops[i]]; idx > 0 {
			ops[i].Lease = leases[idx-1][store].ID()
		}
		if t := ops[i].Txn; t != nil {
			resolve(t.Success, leaseOf, leases, store)
			resolve(t.Failure, leaseOf, leases, store)
		}
	}
}

func fmtOps(ops []kv.Op) string {
	s := "["
	for _, o := range ops {
		if o.Type == kv.OpTxn {
			s += fmt.Sprintf(" txn{cmps %+v then %s else %s}", o.Txn.Compares, fmtOps(o.Txn.Success), fmtOps(o.Txn.Failure))
			continue
		}
		s += fmt.Sprintf(" %+v", o)
	}
	return s + " ]"
}

var errClasses = []error{kv.ErrCompacted, kv.ErrFutureRevision, kv.ErrTooManyOps, kv.ErrLeaseNotFound,
	kv.ErrDuplicateKey, kv.ErrEmptyKey, kv.ErrUnavailable, kv.ErrClosed}

func errClass(err error) string {
	if err == nil {
		return "nil"
	}
	for _, c := range errClasses {
		if errors.Is(err, c) {
			return c.Error()
		}
	}
	return "other: " + err.Error()
}

func fmtKV(x *kv.KeyValue, leases map[kv.LeaseID]int) string {
	if x == nil {
		return "nil"
	}
	l := 0
	if x.Lease != 0 {
		l = leases[x.Lease]
		if l == 0 {
			l = -1
		}
	}
	return fmt.Sprintf("{%q=%q c%d m%d v%d l%d}", x.Key, x.Value, x.CreateRevision, x.ModRevision, x.Version, l)
}

func fmtTxn(r kv.TxnResult, leases map[kv.LeaseID]int) string {
	s := fmt.Sprintf("ok %v rev %d", r.Succeeded, r.Revision)
	for _, o := range r.Results {
		s += fmt.Sprintf(" [del %d", o.Deleted)
		for i := range o.KVs {
			s += " " + fmtKV(&o.KVs[i], leases)
		}
		if o.Txn != nil {
			s += " txn{" + fmtTxn(*o.Txn, leases) + "}"
		}
		s += "]"
	}
	return s
}

// collect reads a watch until it has reported the revision sent on last
// (or gone quiet after that, or ended) and formats what it saw.
func collect(ch <-chan kv.WatchResponse, last <-chan int64) string {
	s := ""
	final := int64(-1)
	seen := int64(0)
	for {
		if final >= 0 && seen >= final {
			return s
		}
		var quiet <-chan time.Time
		if final >= 0 {
			quiet = time.After(3 * time.Second)
		}
		select {
		case final = <-last:
		case r, ok := <-ch:
			if !ok {
				return s + " closed"
			}
			if r.Err != nil {
				return s + " err " + errClass(r.Err)
			}
			seen = r.Events[0].KV.ModRevision
			s += fmt.Sprintf(" @%d", seen)
			for _, e := range r.Events {
				if e.Type == kv.EventDelete {
					s += fmt.Sprintf(" del %q", e.KV.Key)
				} else {
					s += fmt.Sprintf(" put %q=%q c%d v%d", e.KV.Key, e.KV.Value, e.KV.CreateRevision, e.KV.Version)
				}
			}
		case <-quiet:
			return s + " quiet"
		}
	}
}
