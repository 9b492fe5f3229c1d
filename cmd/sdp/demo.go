package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"time"

	"github.com/spf13/cobra"

	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/telstate"
)

func newDemoCmd() *cobra.Command {
	var out string
	c := &cobra.Command{
		Use:   "demo",
		Short: "A tour of the telescope state: build, query, snapshot to RDB and read back",
		Long: `Builds a telescope state in memory with attributes, sensors and indexed
keys, queries it (latest values, time ranges, namespaced views, a wait on a
key written by another goroutine), writes an RDB snapshot that redis-server
and katsdptelstate can load, reads the snapshot back and checks it.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			keep := out != ""
			if out == "" {
				dir, err := os.MkdirTemp("", "sdp-demo-")
				if err != nil {
					return err
				}
				defer os.RemoveAll(dir)
				out = filepath.Join(dir, "demo.rdb")
			}
			return runDemo(c.Context(), c.OutOrStdout(), out, keep)
		},
	}
	c.Flags().StringVar(&out, "out", "", "keep the RDB snapshot at this path (default: a temporary file)")
	return c
}

func runDemo(ctx context.Context, w io.Writer, rdbPath string, keep bool) error {
	say := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	step := func(title string) { fmt.Fprintf(w, "\n== %s\n", title) }

	ts := telstate.New()
	step("attributes (immutable)")
	attrs := []struct {
		key string
		v   pyval.Value
	}{
		{"sdp_n_chans", pyval.IntOf(4096)},
		{"sdp_bandwidth", pyval.Float(856e6)},
		{"sdp_antennas", pyval.List{pyval.Str("m000"), pyval.Str("m001"), pyval.Str("m063")}},
		{"sdp_centre_freq", pyval.ScalarOf(1284e6)},
		{"sdp_bls_ordering", pyval.StringArray([]string{"m000h", "m000v", "m001h", "m001v"}, 2, 2)},
	}
	for _, a := range attrs {
		if err := ts.Set(ctx, a.key, a.v); err != nil {
			return err
		}
		say("set %-18s = %s", a.key, pyval.Repr(a.v))
	}
	if err := ts.Set(ctx, "sdp_n_chans", pyval.IntOf(4096)); err != nil {
		return err
	}
	say("set sdp_n_chans again with an equal value: fine")
	if err := ts.Set(ctx, "sdp_n_chans", pyval.IntOf(32768)); err != nil {
		say("set sdp_n_chans = 32768: refused (%v)", err)
	} else {
		return fmt.Errorf("changing an immutable key was not refused")
	}

	step("sensors (timestamped samples)")
	t0 := 1700000000.0
	activities := []string{"idle", "slew", "track", "track", "slew", "track"}
	for i, act := range activities {
		if err := ts.Add(ctx, "m000_activity", pyval.Str(act), telstate.At(t0+10*float64(i))); err != nil {
			return err
		}
	}
	for i := 0; i < 1000; i++ {
		if err := ts.Add(ctx, "m000_pos_actual_scan_azim", pyval.Float(-45+0.09*float64(i)), telstate.At(t0+float64(i)/10)); err != nil {
			return err
		}
	}
	say("added %d activity samples and 1000 azimuth samples", len(activities))
	latest, err := ts.Get(ctx, "m000_activity")
	if err != nil {
		return err
	}
	say("latest m000_activity          = %s", pyval.Repr(latest))
	rng, err := ts.GetRange(ctx, "m000_activity", telstate.Start(t0+15), telstate.End(t0+45), telstate.IncludePrevious(true))
	if err != nil {
		return err
	}
	say("m000_activity from t0+15 to t0+45, with the sample before:")
	for _, s := range rng {
		say("  t0+%-4g %s", s.Timestamp-t0, pyval.Repr(s.Value))
	}
	az, err := ts.GetRange(ctx, "m000_pos_actual_scan_azim", telstate.Start(t0+50), telstate.End(t0+50.5))
	if err != nil {
		return err
	}
	say("azimuth samples in [t0+50, t0+50.5): %d, first %s", len(az), pyval.Repr(az[0].Value))

	step("indexed keys")
	for i, ant := range []string{"m000", "m001"} {
		if err := ts.SetIndexed(ctx, "sdp_delays", pyval.Str(ant), pyval.Tuple{pyval.IntOf(int64(i)), pyval.Float(1.5e-9 * float64(i+1))}); err != nil {
			return err
		}
	}
	if err := ts.SetIndexed(ctx, "sdp_delays", pyval.Tuple{pyval.IntOf(7), pyval.Str("x")}, pyval.Complex(complex(1, -2))); err != nil {
		return err
	}
	d, err := ts.GetIndexed(ctx, "sdp_delays", pyval.Str("m001"))
	if err != nil {
		return err
	}
	say("sdp_delays['m001']            = %s", pyval.Repr(d))
	all, err := ts.Get(ctx, "sdp_delays")
	if err != nil {
		return err
	}
	say("sdp_delays                    = %s", pyval.Repr(all))

	step("views (namespaces)")
	cb := ts.View("cb1")
	if err := cb.Set(ctx, "obs_params", pyval.StrDict("observer", pyval.Str("demo"), "target", pyval.Str("PKS 1934-63"))); err != nil {
		return err
	}
	say("view with prefixes %q wrote cb1_obs_params", cb.Prefixes())
	inherited, err := cb.Get(ctx, "sdp_n_chans")
	if err != nil {
		return err
	}
	say("the view reads sdp_n_chans through its root prefix: %s", pyval.Repr(inherited))

	step("waiting for a key")
	go func() {
		time.Sleep(50 * time.Millisecond)
		_ = ts.Add(ctx, "m000_activity", pyval.Str("stop"), telstate.At(t0+100))
	}()
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	start := time.Now()
	err = ts.WaitKey(wctx, "m000_activity", func(v pyval.Value, t *float64) bool {
		return pyval.Equal(v, pyval.Str("stop"))
	})
	if err != nil {
		return err
	}
	say("m000_activity became 'stop' after %v", time.Since(start).Round(time.Millisecond))

	step("RDB snapshot")
	keys, err := ts.Keys(ctx, "*")
	if err != nil {
		return err
	}
	if _, err := ts.DumpFile(ctx, rdbPath); err != nil {
		return err
	}
	st, err := os.Stat(rdbPath)
	if err != nil {
		return err
	}
	say("wrote %d keys to %s (%d bytes)", len(keys), rdbPath, st.Size())
	back := telstate.New()
	n, err := back.LoadFile(ctx, rdbPath)
	if err != nil {
		return err
	}
	say("read %d keys back", n)
	for _, k := range keys {
		a, err := ts.GetEncoded(ctx, k)
		if err != nil {
			return err
		}
		b, err := back.GetEncoded(ctx, k)
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(a, b) {
			return fmt.Errorf("key %s differs after the RDB round trip", k)
		}
	}
	samples, err := back.GetRange(ctx, "m000_pos_actual_scan_azim", telstate.Start(0))
	if err != nil {
		return err
	}
	say("every key matches; the azimuth sensor has %d samples", len(samples))
	if keep {
		say("\nload it in Python with: katsdptelstate.TelescopeState().load_from_file(%q)", rdbPath)
		say("or in Redis with: redis-server --dir %s --dbfilename %s", filepath.Dir(rdbPath), filepath.Base(rdbPath))
	} else {
		say("\n(give --out FILE.rdb to keep the snapshot)")
	}
	return nil
}
