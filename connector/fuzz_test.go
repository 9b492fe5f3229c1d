package connector

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/sdpkit/sdpkit/internal/vectors"
)

// FuzzConfigure: any bytes given to Configure leave the device in STANDBY,
// OFF or FAULT, with an error exactly for FAULT, and Standby or Reset
// always bring it back to STANDBY with no attribute left.
func FuzzConfigure(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(vectors.Dir(f, "connector"), "examples", "*.json"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(goodConfig))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx := context.Background()
		d := NewDevice(quiet())
		err := d.Configure(ctx, string(data))
		switch s := d.State(); {
		case s == Fault && err != nil:
			if err := d.Reset(ctx, ""); err != nil {
				t.Fatal(err)
			}
		case s == Off && err == nil:
			if err := d.Standby(ctx); err != nil {
				t.Fatal(err)
			}
		case s == Standby && err == nil:
		default:
			t.Fatalf("Configure: %v, state %s", err, s)
		}
		if d.State() != Standby || len(d.Attributes().Names()) != 0 {
			t.Fatalf("state %s, attributes %v", d.State(), d.Attributes().Names())
		}
	})
}
