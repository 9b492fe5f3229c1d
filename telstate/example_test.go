package telstate_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/telstate"
)

func ExampleNew() {
	ctx := context.Background()
	ts := telstate.New() // in-process memory backend
	defer ts.Backend().Close()

	if err := ts.Set(ctx, "n_chans", pyval.IntOf(4096)); err != nil {
		panic(err)
	}
	v, err := ts.Get(ctx, "n_chans")
	fmt.Println(pyval.Repr(v), err)
	// Output: 4096 <nil>
}

func ExampleTelescopeState_Set() {
	ctx := context.Background()
	ts := telstate.New()

	fmt.Println(ts.Set(ctx, "bandwidth", pyval.Float(856e6)))
	fmt.Println(ts.Set(ctx, "bandwidth", pyval.Float(856e6))) // equal: fine
	err := ts.Set(ctx, "bandwidth", pyval.Float(544e6))
	fmt.Println(errors.Is(err, telstate.ErrImmutableKey))
	fmt.Println(err)
	// Output:
	// <nil>
	// <nil>
	// true
	// telstate: immutable key: attempt to change value of immutable key 'bandwidth' from 856000000.0 to 544000000.0
}

func ExampleTelescopeState_Add() {
	ctx := context.Background()
	ts := telstate.New()

	ts.Add(ctx, "activity", pyval.Str("slew"), telstate.At(1700000000))
	ts.Add(ctx, "activity", pyval.Str("track"), telstate.At(1700000010.5))
	v, _ := ts.Get(ctx, "activity") // the latest sample
	fmt.Println(pyval.Repr(v))

	err := ts.Add(ctx, "activity", pyval.Str("stop"), telstate.At(-1))
	fmt.Println(errors.Is(err, telstate.ErrInvalidTimestamp))
	// Output:
	// 'track'
	// true
}

func ExampleTelescopeState_GetRange() {
	ctx := context.Background()
	ts := telstate.New()
	for i, act := range []string{"slew", "track", "scan", "stop"} {
		ts.Add(ctx, "activity", pyval.Str(act), telstate.At(float64(10*(i+1))))
	}
	show := func(opts ...telstate.RangeOption) {
		ss, err := ts.GetRange(ctx, "activity", opts...)
		if err != nil {
			fmt.Println(err)
			return
		}
		var out []string
		for _, s := range ss {
			out = append(out, fmt.Sprintf("%v:%s", s.Timestamp, pyval.Repr(s.Value)))
		}
		fmt.Println(strings.Join(out, " "))
	}
	show()                                                            // latest
	show(telstate.Start(0))                                           // everything
	show(telstate.Start(20), telstate.End(30), telstate.IncludeEnd()) // 20 <= t <= 30
	show(telstate.Start(25), telstate.IncludePrevious(true))          // from 25, and the sample before
	show(telstate.End(25))                                            // newest before 25
	// Output:
	// 40:'stop'
	// 10:'slew' 20:'track' 30:'scan' 40:'stop'
	// 20:'track' 30:'scan'
	// 20:'track' 30:'scan' 40:'stop'
	// 20:'track'
}

func ExampleTelescopeState_View() {
	ctx := context.Background()
	ts := telstate.New()
	ts.Set(ctx, "sync_time", pyval.Float(1.7e9))
	cbf := ts.View("cbf")
	fmt.Println(cbf.Prefixes())

	cbf.Set(ctx, "n_chans", pyval.IntOf(4096)) // written as "cbf_n_chans"
	keys, _ := ts.Keys(ctx, "*")
	fmt.Println(keys)

	v, _ := cbf.Get(ctx, "sync_time") // found under the root prefix
	fmt.Println(pyval.Repr(v))
	// Output:
	// [cbf_ ]
	// [cbf_n_chans sync_time]
	// 1700000000.0
}

func ExampleTelescopeState_WaitKey() {
	ctx := context.Background()
	ts := telstate.New()
	go func() {
		time.Sleep(10 * time.Millisecond)
		ts.Add(ctx, "activity", pyval.Str("slew"), telstate.At(1))
		ts.Add(ctx, "activity", pyval.Str("track"), telstate.At(2))
	}()

	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	err := ts.WaitKey(wctx, "activity", func(v pyval.Value, ts *float64) bool {
		return v == pyval.Str("track")
	})
	fmt.Println(err)

	// A wait that times out.
	wctx, cancel = context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	err = ts.WaitKey(wctx, "never", nil)
	fmt.Println(errors.Is(err, telstate.ErrTimeout), errors.Is(err, context.DeadlineExceeded))
	// Output:
	// <nil>
	// true true
}

func ExampleTelescopeState_SetIndexed() {
	ctx := context.Background()
	ts := telstate.New()
	ts.SetIndexed(ctx, "obs_params", pyval.Str("target"), pyval.Str("Sgr A*"))
	ts.SetIndexed(ctx, "obs_params", pyval.Tuple{pyval.IntOf(1), pyval.Str("x")}, pyval.Float(1.5))

	v, _ := ts.GetIndexed(ctx, "obs_params", pyval.Str("target"))
	fmt.Println(pyval.Repr(v))
	_, err := ts.GetIndexed(ctx, "obs_params", pyval.Str("missing"))
	fmt.Println(errors.Is(err, telstate.ErrSubKeyNotFound), errors.Is(err, telstate.ErrKeyNotFound))

	all, _ := ts.Get(ctx, "obs_params") // every sub-key, as a dict
	fmt.Println(pyval.Repr(all))

	err = ts.SetIndexed(ctx, "obs_params", pyval.List{}, pyval.None)
	fmt.Println(errors.Is(err, pyval.ErrUnhashable))
	// Output:
	// 'Sgr A*'
	// true true
	// {'target': 'Sgr A*', (1, 'x'): 1.5}
	// true
}
