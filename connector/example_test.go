package connector_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/sdpkit/sdpkit/connector"
	"github.com/sdpkit/sdpkit/connector/descriptor"
	"github.com/sdpkit/sdpkit/connector/exchange"
	"github.com/sdpkit/sdpkit/pyval"
)

func Example() {
	ctx := context.Background()
	d := connector.NewDevice(connector.WithLogger(slog.New(slog.DiscardHandler)))
	fmt.Println(d.State())
	_ = d.Configure(ctx, `{"exchanges": [{"dtype": "float64",
		"source": {"type": "InMemorySource", "data": [1.5, 2.5]},
		"sink": {"type": "TangoLocalAttributeSink", "attribute_name": "offset"}}]}`)
	fmt.Println(d.State(), d.Attributes().Names())
	_ = d.Start(ctx, "")
	fmt.Println(d.State())
	for d.Exchanges()[0].Stats.State != exchange.StateDone { // wait for the two values
		time.Sleep(time.Millisecond)
	}
	_ = d.Stop(ctx, "")
	v, _ := d.Attributes().Get("offset")
	fmt.Println(d.State(), pyval.Repr(v.Reading.Value))
	err := d.Stop(ctx, "")
	fmt.Println(err)
	// Output:
	// STANDBY
	// OFF [offset]
	// ON
	// OFF 2.5
	// command Stop not allowed when the device is in OFF state
}

// A package bringing a transport registers its kinds; kinds nobody
// registered fail with a NotAvailableError.
func ExampleFactories_RegisterSource() {
	f := connector.DefaultFactories()
	f.RegisterSource("TelstateSensorSource", func(ctx context.Context, ex *descriptor.Exchange, src descriptor.Source, env *connector.Env) (exchange.Source, error) {
		s := src.(*descriptor.TelstateSensorSource)
		// A real factory would follow s.Key in s.DB; this one yields its name.
		return exchange.NewInMemorySource([]pyval.Value{pyval.Str(s.Key)}, 0), nil
	})
	d := connector.NewDevice(connector.WithFactories(f), connector.WithLogger(slog.New(slog.DiscardHandler)))
	err := d.Configure(context.Background(), `{"exchanges": [{"dtype": "str",
		"source": {"type": "TelstateSensorSource", "db": "memory", "key": "obs_activity"},
		"sink": {"type": "TelstateSink", "db": "memory", "key": "copy"}}]}`)
	fmt.Println(err, errors.Is(err, connector.ErrNotAvailable))
	fmt.Println(d.State())
	// Output:
	// exchanges[0].sink: TelstateSink: not available in this build true
	// FAULT
}
