package telstateio_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/connector"
	"github.com/sdpkit/sdpkit/connector/telstateio"
	"github.com/sdpkit/sdpkit/pyval"
)

// TestRegisterDevice runs two exchanges of one descriptor through a real
// device: in-memory values into a telstate sensor, and the same sensor out
// into an in-memory queue. Every value must arrive, in order.
func TestRegisterDevice(t *testing.T) {
	const n = 200
	data := make([]string, n)
	for i := range data {
		data[i] = fmt.Sprint(i)
	}
	desc := `{"exchanges": {
	  "out": [{"dtype": "int64", "source": {"type": "TelstateSensorSource", "db": "memory", "key": "counter"},
	           "sink": {"type": "InMemorySink", "key": "back"}}],
	  "in":  [{"dtype": "int64", "source": {"type": "InMemorySource", "data": [` + strings.Join(data, ", ") + `], "delay": 0.001},
	           "sink": {"type": "TelstateSink", "db": "memory", "key": "counter"}}]}}`

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	stores := telstateio.NewStores()
	defer stores.Close()
	f := connector.DefaultFactories()
	telstateio.Register(f, stores)
	d := connector.NewDevice(connector.WithFactories(f), connector.WithLogger(slog.New(slog.DiscardHandler)))
	defer d.Shutdown(context.Background())

	// The reader starts first so it sees every sample (it does not replay
	// history): configure, start "out", then "in".
	if err := d.Configure(ctx, desc); err != nil {
		t.Fatal(err)
	}
	if err := d.Start(ctx, "out"); err != nil {
		t.Fatal(err)
	}
	if err := d.Start(ctx, "in"); err != nil {
		t.Fatal(err)
	}
	for d.Queues().Len("back") < n {
		if ctx.Err() != nil {
			t.Fatalf("only %d of %d values came back; status: %s", d.Queues().Len("back"), n, d.Status())
		}
		time.Sleep(5 * time.Millisecond)
	}
	got := d.Queues().Values("back")
	for i, v := range got {
		if !pyval.Equal(v, pyval.IntOf(int64(i))) {
			t.Fatalf("value %d is %s, want %d", i, pyval.Repr(v), i)
		}
	}
	if len(got) != n {
		t.Fatalf("got %d values, want %d", len(got), n)
	}
}
