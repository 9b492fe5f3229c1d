package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/config"
	"github.com/sdpkit/sdpkit/connector/web"
	"github.com/sdpkit/sdpkit/dataqueue/schema"
	"github.com/sdpkit/sdpkit/internal/testenv"
	"github.com/sdpkit/sdpkit/pyval"
)

// updateDocsImg=1 copies the sdp up screenshot to docs/img/sdp-up.png.
const updateDocsImg = "UPDATE_DOCS_IMG"

// eventually polls cond until it holds; the bound catches a broken stack,
// it is not a speed check.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", url, resp.Status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v\n%s", url, err, body)
	}
}

// apiAttr is what the tests read of an attribute over the API.
type apiAttr struct {
	Seq   int64           `json:"seq"`
	Value json.RawMessage `json:"value"`
}

// pointingPreview is the DevEncoded pointing attribute's value.
type pointingPreview struct {
	Encoding string `json:"encoding"`
	Preview  struct {
		Shape []int            `json:"shape"`
		Data  []map[string]any `json:"data"`
	} `json:"preview"`
}

func startTestStack(t *testing.T, o upOptions) *upStack {
	t.Helper()
	if testing.Short() {
		t.Skip("starts etcd, Kafka and Redis in process")
	}
	s, err := startUp(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// TestUp starts the whole stack in this process on free ports and uses it
// as a user would: the API, sdp config, sdp queue, sdp telstate, a flow
// edit, and the page in a browser.
func TestUp(t *testing.T) {
	s := startTestStack(t, upOptions{
		httpAddr: "127.0.0.1:0",
		simRate:  10,
		// End event streams now and then, so a headless browser's virtual
		// time can run out.
		webOpts: []web.Option{web.WithStatsInterval(100 * time.Millisecond), web.WithMaxStreamDuration(300 * time.Millisecond)},
	})
	api := "http://" + s.HTTPAddr + "/api"

	t.Run("api", func(t *testing.T) {
		eventually(t, "state ON", func() bool {
			var st struct{ State string }
			getJSON(t, api+"/state", &st)
			return st.State == "ON"
		})
		var first apiAttr
		eventually(t, "a pointing value", func() bool {
			getJSON(t, api+"/attributes/pointing", &first)
			return string(first.Value) != "null"
		})
		var p pointingPreview
		if err := json.Unmarshal(first.Value, &p); err != nil {
			t.Fatal(err)
		}
		if p.Encoding != "msgpack_numpy" || len(p.Preview.Data) != len(upAntennas) {
			t.Fatalf("pointing value: %s", first.Value)
		}
		for i, rec := range p.Preview.Data {
			if rec["antenna_name"] != upAntennas[i] || len(rec) != len(schema.PointingFieldNames()) {
				t.Errorf("record %d: %v", i, rec)
			}
		}
		eventually(t, "the pointing value to change", func() bool {
			var next apiAttr
			getJSON(t, api+"/attributes/pointing", &next)
			return next.Seq > first.Seq && !bytes.Equal(next.Value, first.Value)
		})
		var bp apiAttr
		getJSON(t, api+"/attributes/bandpass", &bp)
		var arr struct{ Shape []int }
		if err := json.Unmarshal(bp.Value, &arr); err != nil || len(arr.Shape) != 1 || arr.Shape[0] != upBandpassLen {
			t.Errorf("bandpass: %s", bp.Value)
		}
	})

	env := map[string]string{"SDP_CONFIG_HOST": "127.0.0.1", "SDP_CONFIG_PORT": s.EtcdPort}
	sdp := func(t *testing.T, args ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		root := newRootCmd(&stdout, &stderr, withEnv(func(k string) string { return env[k] }))
		root.SetArgs(args)
		if err := root.ExecuteContext(context.Background()); err != nil {
			t.Fatalf("sdp %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		return stdout.String()
	}

	t.Run("config", func(t *testing.T) {
		out := sdp(t, "config", "ls", "-R", "/")
		for _, k := range s.Flows {
			if !strings.Contains(out, "/flow/"+k.String()+"\n") {
				t.Errorf("sdp config ls lacks the flow %s:\n%s", k, out)
			}
		}
		for _, want := range []string{"/pb/" + s.PBID, "/eb/" + s.EBID, upTelstatePath} {
			if !strings.Contains(out, want+"\n") {
				t.Errorf("sdp config ls lacks %s:\n%s", want, out)
			}
		}
	})

	t.Run("queue", func(t *testing.T) {
		out := sdp(t, "queue", "consume", upTopicPointing, "--encoding", "msgpack_numpy", "-n", "3",
			"--brokers", strings.Join(s.Brokers, ","), "--timeout", "60s")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 3 {
			t.Fatalf("want 3 records:\n%s", out)
		}
		for _, l := range lines {
			if !strings.Contains(l, `["antenna_name", "<U8"]`) || !strings.Contains(l, `"shape": [4]`) {
				t.Errorf("not a pointing table: %s", l)
			}
		}
	})

	t.Run("telstate", func(t *testing.T) {
		var out string
		eventually(t, "sensor samples in telstate", func() bool {
			out = sdp(t, "telstate", "--db", s.RedisURL, "range", upTelstateKey, "--start", "0")
			return len(strings.Split(strings.TrimSpace(out), "\n")) >= 3
		})
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			f := strings.Fields(l)
			if len(f) != 2 {
				t.Fatalf("range line %q", l)
			}
		}
		if keys := sdp(t, "telstate", "--db", s.RedisURL, "keys"); !strings.Contains(keys, upTelstateKey) {
			t.Errorf("keys: %s", keys)
		}
	})

	t.Run("reconfigure", func(t *testing.T) {
		key := config.FlowKey{PBID: s.PBID, Kind: "tango", Name: "wind_speed"}
		ctx := context.Background()
		err := s.Config.Txn(ctx, func(tx *config.Txn) error {
			f, err := tx.Flows().Get(key)
			if err != nil || f == nil {
				return err
			}
			f.Sink.(*config.TangoAttribute).AttributeTRL = "tango://" + upDevice + "/wind_speed_ms"
			return tx.Flows().Update(f)
		})
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, "the renamed attribute", func() bool {
			a, err := s.Device.Attributes().Get("wind_speed_ms")
			return err == nil && a.Reading.Value != nil
		})
		if _, err := s.Device.Attributes().Get("wind_speed"); err == nil {
			t.Error("the old attribute is still defined")
		}
		// The edit restarts the exchanges (OPEN on the way), then ON again.
		eventually(t, "state ON after the edit", func() bool { return s.Device.State().String() == "ON" })
	})

	t.Run("browser", func(t *testing.T) {
		b := testenv.Chromium(t)
		b.Budget = 6 * time.Second
		dom, err := b.DumpDOM("http://" + s.HTTPAddr + "/")
		if err != nil {
			t.Fatal(err)
		}
		card := cardHTML(dom, "pointing")
		for _, ant := range upAntennas {
			if !strings.Contains(card, `<td class="s">`+ant+`</td>`) {
				t.Errorf("the pointing card lacks a row for %s", ant)
			}
		}
		if !strings.Contains(card, "4 records") {
			t.Errorf("the pointing card lacks its record count")
		}
		if c := cardHTML(dom, "bandpass"); !strings.Contains(c, `data-points="64"`) {
			t.Errorf("the bandpass card has no 64-point plot:\n%s", c)
		}
		if c := cardHTML(dom, "wind_speed_ms"); !strings.Contains(c, `class="value scalar">`) {
			t.Errorf("the wind speed card shows no value:\n%s", c)
		}
		if t.Failed() {
			t.Logf("DOM:\n%s", dom)
		}
		shot := filepath.Join(t.TempDir(), "sdp-up.png")
		b.WindowSize = "1280,1100"
		b.Budget = 2 * time.Second
		if err := b.Screenshot("http://"+s.HTTPAddr+"/", shot); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(shot)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")) {
			t.Fatalf("%s is not a PNG", shot)
		}
		if os.Getenv(updateDocsImg) == "1" {
			if err := os.WriteFile(filepath.Join("..", "..", "docs", "img", "sdp-up.png"), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// cardHTML is the part of the page's DOM that shows attribute name.
func cardHTML(dom, name string) string {
	i := strings.Index(dom, `data-attr="`+name+`"`)
	if i < 0 {
		return ""
	}
	rest := dom[i+1:]
	if j := strings.Index(rest, `data-attr="`); j >= 0 {
		rest = rest[:j]
	}
	return rest
}

// TestUpHTTPFallback: a busy default --http address moves the page to a
// free port, and says so; a busy address given explicitly is an error.
func TestUpHTTPFallback(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	busy := ln.Addr().String()
	s := startTestStack(t, upOptions{httpAddr: busy, httpDefault: true, noSim: true})
	if s.HTTPMoved != busy || s.HTTPAddr == busy || s.HTTPAddr == "" {
		t.Errorf("moved %q, serving on %q", s.HTTPMoved, s.HTTPAddr)
	}
	var out bytes.Buffer
	printUp(&out, s)
	if !strings.Contains(out.String(), busy+" is busy") {
		t.Errorf("no word of the move:\n%s", out.String())
	}
	if _, err := startUp(context.Background(), upOptions{httpAddr: busy, noSim: true}); !isAddrInUse(err) {
		t.Errorf("explicit busy address: %v", err)
	}
}

// TestPointingTableSchema: the simulator's records pass the pointing
// record schema of the data queues.
func TestPointingTableSchema(t *testing.T) {
	for n := range 3 {
		a := pointingTable(n, float64(n)*0.25)
		if err := (schema.PointingRecord{}).Validate(a); err != nil {
			t.Fatal(err)
		}
		name, err := a.Field("antenna_name")
		if err != nil {
			t.Fatal(err)
		}
		got, _ := name.Strings()
		if strings.Join(got, ",") != strings.Join(upAntennas, ",") {
			t.Errorf("antennas %v", got)
		}
		xel, _ := a.Field("xel_offset")
		if _, err := xel.Float64s(); err != nil {
			t.Fatal(err)
		}
	}
	if pyval.Equal(pointingTable(0, 0), pointingTable(0, 5)) {
		t.Error("the offsets do not move")
	}
}

// TestUpProcess runs "sdp up" as a process on free ports, reads what it
// printed, checks the API and stops it with SIGTERM: exit 0, temporary
// data removed.
func TestUpProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "sdp")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	tmp := filepath.Join(dir, "tmp")
	if err := os.Mkdir(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "up", "--http", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var all strings.Builder
	var page, envLine string
	timeout := time.After(2 * time.Minute) // a bound for a broken run
	for page == "" || envLine == "" || !strings.Contains(all.String(), "data flowing") {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("exited early:\n%s\n%s", all.String(), stderr.String())
			}
			all.WriteString(l + "\n")
			if m := regexp.MustCompile(`web page\s+(http://\S+)`).FindStringSubmatch(l); m != nil {
				page = m[1]
			}
			if strings.Contains(l, "SDP_CONFIG_PORT=") {
				envLine = l
			}
		case <-timeout:
			t.Fatalf("no URLs printed:\n%s\n%s", all.String(), stderr.String())
		}
	}
	for _, want := range []string{"development broker: not durable", "SDP_KAFKA_BROKERS=", "redis://", "sdp config ls -R /"} {
		if !strings.Contains(all.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, all.String())
		}
	}
	var st struct{ State string }
	getJSON(t, page+"api/state", &st)
	if st.State != "ON" {
		t.Errorf("state %s", st.State)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for l := range lines {
		all.WriteString(l + "\n")
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v\n%s\n%s", err, all.String(), stderr.String())
	}
	if !strings.Contains(all.String(), "\nstopped\n") {
		t.Errorf("no clean stop:\n%s", all.String())
	}
	left, _ := os.ReadDir(tmp)
	for _, e := range left {
		if strings.HasPrefix(e.Name(), "sdp-up-") {
			t.Errorf("temporary %s left behind", e.Name())
		}
	}
}

// TestUpDataDir: with --data-dir the database outlives the stack, and a
// restart points sdp up's flows at the new run's broker.
func TestUpDataDir(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	const mark = "/component/user-entry"
	first := startTestStack(t, upOptions{dataDir: dir, noSim: true})
	if err := first.Config.DB().Txn(ctx, func(tx *config.Txn) error { return tx.Create(mark, []byte("{}"), 0) }); err != nil {
		t.Fatal(err)
	}
	first.Close()
	second := startTestStack(t, upOptions{dataDir: dir, noSim: true})
	err := second.Config.Txn(ctx, func(tx *config.Txn) error {
		v, err := tx.Get(mark)
		if err != nil {
			return err
		}
		if v == nil {
			t.Errorf("%s lost over the restart", mark)
		}
		f, err := tx.Flows().Get(config.FlowKey{PBID: second.PBID, Kind: "data-queue", Name: "pointing"})
		if err != nil {
			return err
		}
		if got, want := f.Sink.(*config.DataQueue).Host, "kafka://"+second.Brokers[0]; got != want {
			t.Errorf("flow host %s, want %s", got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "state ON", func() bool { return second.Device.State().String() == "ON" })
	if _, err := os.Stat(dir); err != nil {
		t.Errorf("the data directory: %v", err)
	}
}
