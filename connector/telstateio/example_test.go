package telstateio_test

import (
	"context"
	"fmt"
	"time"

	"github.com/sdpkit/sdpkit/connector/exchange"
	"github.com/sdpkit/sdpkit/connector/telstateio"
	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/telstate"
)

// One exchange writes values into a telstate sensor; another follows the
// sensor and collects its new samples.
func Example() {
	ctx := context.Background()
	ts, closer, err := telstateio.Open(ctx, "memory") // or redis://host:port
	if err != nil {
		panic(err)
	}
	defer closer.Close()
	ts.Add(ctx, "cbf_gain", pyval.Float(0.5)) // history: not streamed

	// Reader: SensorSource → InMemorySink.
	queues := exchange.NewMemoryQueues()
	src, _ := telstateio.NewSensorSource(ts, "cbf_gain")
	reader, _ := exchange.New([]exchange.Source{src}, exchange.NewDefaultPipe(pyval.Float64, nil),
		exchange.NewInMemorySink(queues, "gains"))
	if err := reader.Start(ctx); err != nil {
		panic(err)
	}
	done := make(chan error)
	go func() { done <- reader.Run(ctx) }()

	// Writer: InMemorySource → telstate Sink. Run returns once every
	// value is stored.
	sink, _ := telstateio.NewSink(ts, "cbf_gain")
	values := []pyval.Value{pyval.Float(1), pyval.Float(2), pyval.Float(3)}
	writer, _ := exchange.New([]exchange.Source{exchange.NewInMemorySource(values, 0)},
		exchange.NewDefaultPipe(pyval.Float64, nil), sink)
	if err := writer.Start(ctx); err != nil {
		panic(err)
	}
	if err := writer.Run(ctx); err != nil {
		panic(err)
	}
	writer.Stop(ctx)

	for queues.Len("gains") < len(values) {
		time.Sleep(time.Millisecond)
	}
	reader.Stop(ctx)
	fmt.Println(<-done, pyval.Repr(pyval.List(queues.Values("gains"))))
	latest, _ := ts.Get(ctx, "cbf_gain")
	fmt.Println(pyval.Repr(latest))

	// An immutable sink sets an attribute; the same value again is fine.
	attr, _ := telstateio.NewSink(ts.View("sdp"), "n_chans", telstateio.Immutable())
	attr.Start(ctx)
	fmt.Println(attr.Write(ctx, pyval.IntOf(4096)), attr.Write(ctx, pyval.IntOf(4096)))
	fmt.Println(attr.Write(ctx, pyval.IntOf(1024)) != nil)
	n, _ := ts.Get(ctx, telstate.Join("sdp", "n_chans"))
	fmt.Println(n)
	// Output:
	// <nil> [1.0, 2.0, 3.0]
	// 3.0
	// <nil> <nil>
	// true
	// 4096
}
