package exchange_test

import (
	"context"
	"fmt"
	"time"

	"github.com/sdpkit/sdpkit/connector/exchange"
	"github.com/sdpkit/sdpkit/pyval"
)

// Two in-memory sources feed one in-memory sink through the identity pipe.
func ExampleExchange() {
	ctx := context.Background()
	queues := exchange.NewMemoryQueues()
	a := exchange.NewInMemorySource([]pyval.Value{pyval.Float(1.5), pyval.Float(2.5)}, 0)
	b := exchange.NewInMemorySource([]pyval.Value{pyval.Float(10)}, 0)
	x, err := exchange.New([]exchange.Source{a, b}, exchange.NewDefaultPipe(pyval.Float64, nil),
		exchange.NewInMemorySink(queues, "out"))
	if err != nil {
		panic(err)
	}
	if err := x.Start(ctx); err != nil {
		panic(err)
	}
	// Run returns once both sources are exhausted and everything is written.
	if err := x.Run(ctx); err != nil {
		panic(err)
	}
	if err := x.Stop(ctx); err != nil {
		panic(err)
	}
	sum := 0.0
	for _, v := range queues.Values("out") {
		f, _ := pyval.AsFloat64(v)
		sum += f
	}
	st := x.Stats()
	fmt.Println(queues.Len("out"), sum, st.In, st.Out)
	// Output: 3 14 3 3
}

// A buffering pipe stacks values into arrays with a new leading axis; the
// partial window is flushed when the run ends.
func ExampleBufferWithTimePipe() {
	ctx := context.Background()
	queues := exchange.NewMemoryQueues()
	src := exchange.NewInMemorySource([]pyval.Value{
		pyval.ArrayOf([]int32{1, 2}), pyval.ArrayOf([]int32{3, 4}), pyval.ArrayOf([]int32{5, 6}),
	}, 0)
	pipe, err := exchange.NewBufferWithTimePipe(pyval.Int32, []int{2}, time.Hour)
	if err != nil {
		panic(err)
	}
	x, _ := exchange.New([]exchange.Source{src}, pipe, exchange.NewInMemorySink(queues, "batches"))
	_ = x.Start(ctx)
	if err := x.Run(ctx); err != nil {
		panic(err)
	}
	_ = x.Stop(ctx)
	fmt.Println(pipe.OutputShape())
	for _, v := range queues.Values("batches") {
		a := v.(*pyval.NDArray)
		l, _ := a.ToList()
		fmt.Println(a.Shape, pyval.Repr(l))
	}
	// Output:
	// [-1 2]
	// [3 2] [[1, 2], [3, 4], [5, 6]]
}

// A group starts its exchanges together; Stop drains and stops them all.
func ExampleGroup() {
	ctx := context.Background()
	queues := exchange.NewMemoryQueues()
	var xs []*exchange.Exchange
	for _, key := range []string{"a", "b"} {
		src := exchange.NewInMemorySource([]pyval.Value{pyval.Str(key)}, 0)
		x, _ := exchange.New([]exchange.Source{src}, nil, exchange.NewInMemorySink(queues, key), exchange.WithName(key))
		xs = append(xs, x)
	}
	g := exchange.NewGroup("demo", xs...)
	if err := g.Start(ctx); err != nil {
		panic(err)
	}
	<-g.Done() // the in-memory sources end by themselves
	if err := g.Stop(ctx); err != nil {
		panic(err)
	}
	fmt.Println(queues.Values("a"), queues.Values("b"))
	// Output: [a] [b]
}
