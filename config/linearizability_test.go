package config

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/sdpkit/sdpkit/config/kv"
	"github.com/sdpkit/sdpkit/internal/kvtrace"
)

// linState is the model of the linearizability test: three counters and
// the size of a set of keys.
type linState struct {
	c [3]int
	n int
}

type linInput struct {
	op string // inc, read, add, del
	i  int
}

type linOutput struct {
	v   int    // old counter value (inc), count seen (add, del)
	all [3]int // read
}

var linModel = porcupine.Model{
	Init: func() any { return linState{} },
	Step: func(state, input, output any) (bool, any) {
		s, in, out := state.(linState), input.(linInput), output.(linOutput)
		switch in.op {
		case "inc":
			if out.v != s.c[in.i] {
				return false, s
			}
			s.c[in.i]++
		case "read":
			if out.all != s.c {
				return false, s
			}
		case "add":
			if out.v != s.n {
				return false, s
			}
			s.n++
		case "del":
			if out.v != s.n {
				return false, s
			}
			if s.n > 0 {
				s.n--
			}
		}
		return true, s
	},
	DescribeOperation: func(in, out any) string { return fmt.Sprintf("%v → %v", in, out) },
}

// linOp runs one operation as a transaction.
func linOp(ctx context.Context, db *DB, in linInput, client, seq int) (linOutput, error) {
	var out linOutput
	// Widen the window between reads and commit so that transactions
	// really overlap.
	pause := time.Duration(seq%4) * 50 * time.Microsecond
	counter := func(i int) string { return "/lin/c/" + strconv.Itoa(i) }
	err := db.Txn(ctx, func(tx *Txn) error {
		out = linOutput{}
		switch in.op {
		case "inc":
			v, err := tx.Get(counter(in.i))
			if err != nil {
				return err
			}
			out.v, _ = strconv.Atoi(string(v))
			time.Sleep(pause)
			return tx.Update(counter(in.i), []byte(strconv.Itoa(out.v+1)))
		case "read":
			for i := range out.all {
				v, err := tx.Get(counter(i))
				if err != nil {
					return err
				}
				out.all[i], _ = strconv.Atoi(string(v))
			}
		case "add", "del":
			keys, err := tx.List("/lin/set/")
			if err != nil {
				return err
			}
			out.v = len(keys)
			time.Sleep(pause)
			if in.op == "add" {
				// A fresh key: only the listing's guard orders concurrent adds.
				return tx.Create(fmt.Sprintf("/lin/set/%d-%d", client, seq), nil, 0)
			}
			if len(keys) > 0 {
				// Blind delete: only the listing's guard catches a
				// concurrent delete of the same key.
				return tx.Delete(keys[0], AllowMissing())
			}
		}
		return nil
	}, MaxRetries(1000))
	return out, err
}

func TestLinearizable(t *testing.T) {
	clients, ops := 8, 60
	if testing.Short() {
		clients, ops = 4, 20
	}
	forEachStore(t, func(t *testing.T, s kv.KV) {
		kvtrace.Wipe(t, s)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		db := NewDB(s)
		for i := 0; i < 3; i++ {
			must(t, db.Create(ctx, "/lin/c/"+strconv.Itoa(i), []byte("0"), 0))
		}
		start := time.Now()
		var mu sync.Mutex
		var history []porcupine.Operation
		incs := [3]int{}
		var wg sync.WaitGroup
		for c := 0; c < clients; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(c), 7))
				for k := 0; k < ops; k++ {
					in := linInput{op: []string{"inc", "inc", "inc", "read", "add", "del"}[rng.IntN(6)], i: rng.IntN(3)}
					call := time.Since(start).Nanoseconds()
					out, err := linOp(ctx, db, in, c, k)
					ret := time.Since(start).Nanoseconds()
					if err != nil {
						t.Errorf("client %d op %v: %v", c, in, err)
						return
					}
					mu.Lock()
					history = append(history, porcupine.Operation{ClientId: c, Input: in, Call: call, Output: out, Return: ret})
					if in.op == "inc" {
						incs[in.i]++
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		res := porcupine.CheckOperationsTimeout(linModel, history, time.Minute)
		t.Logf("%d operations: %s", len(history), res)
		if res != porcupine.Ok {
			t.Fatalf("history is not linearizable: %s", res)
		}
		for i := 0; i < 3; i++ {
			v, _, err := db.Get(ctx, "/lin/c/"+strconv.Itoa(i), 0)
			must(t, err)
			if n, _ := strconv.Atoi(string(v)); n != incs[i] {
				t.Errorf("counter %d = %d after %d increments", i, n, incs[i])
			}
		}
	})
}

// TestLargeListingCompact: a listing too big for one compare per key
// plus one per read still commits when the reads already guard the
// listed keys, and a deletion of a listed key still aborts it.
func TestLargeListingCompact(t *testing.T) {
	forEachStore(t, func(t *testing.T, s kv.KV) {
		kvtrace.Wipe(t, s)
		ctx := context.Background()
		db := NewDB(s)
		for i := 0; i < 100; i++ {
			must(t, db.Create(ctx, fmt.Sprintf("/big/%03d", i), []byte("0"), 0))
		}
		attempts := 0
		must(t, db.Txn(ctx, func(tx *Txn) error {
			attempts++
			keys, err := tx.List("/big/")
			if err != nil {
				return err
			}
			for _, k := range keys {
				if _, err := tx.Get(k); err != nil {
					return err
				}
			}
			if attempts == 1 {
				// Deleting a listed (and read) key must abort the commit.
				must(t, db.Delete(ctx, "/big/050"))
			}
			return tx.Create("/total", []byte(strconv.Itoa(len(keys))), 0)
		}))
		v, _, _ := db.Get(ctx, "/total", 0)
		if attempts != 2 || string(v) != "99" {
			t.Errorf("attempts %d, total %s", attempts, v)
		}
	})
}
