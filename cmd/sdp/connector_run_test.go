package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/config"
	"github.com/sdpkit/sdpkit/config/etcd"
	"github.com/sdpkit/sdpkit/internal/testenv"
)

// TestConnectorRunDrainsOnSIGTERM runs "sdp connector run" as a process
// with an in-memory configuration (two long, slow streams: one straight
// into a queue, one into a buffering pipe whose window never closes by
// itself), waits until values flow (scraping its /metrics), sends SIGTERM
// and checks that it exits 0 after draining: every value each exchange
// accepted was processed and written (the buffered ones by the final
// flush), with no error.
func TestConnectorRunDrainsOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "sdp")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	var data strings.Builder
	for i := range 50000 {
		if i > 0 {
			data.WriteByte(',')
		}
		data.WriteString(strconv.Itoa(i))
	}
	src := `{"type": "InMemorySource", "data": [` + data.String() + `], "delay": 0.0005}`
	cfg := `{"exchanges": [
		{"dtype": "int64", "source": ` + src + `, "sink": {"type": "InMemorySink", "key": "direct"}},
		{"dtype": "int64", "source": ` + src + `, "pipe": {"type": "BufferWithTimePipe", "timespan": 3600}, "sink": {"type": "InMemorySink", "key": "buffered"}}]}`
	cfgFile := filepath.Join(dir, "connector.json")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	r := startRun(t, bin, nil, "--config", cfgFile, "--http", "127.0.0.1:0")
	r.waitMetric(t, `sdp_connector_exchange_in_total\{exchange="exchanges\[1\]",group="default"\} (\d+)`, 200)
	cmd, stdout, logs := r.cmd, r.stdout, r.logs
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	l := <-logs
	err := cmd.Wait()
	if err != nil { // an *exec.ExitError for a non-zero status
		t.Fatalf("exit: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), l)
	}
	out := stdout.String()
	line := regexp.MustCompile(`exchange default exchanges\[(\d)\]: in=(\d+) processed=(\d+) out=(\d+) errors=(\d+) state=(\S+)`)
	ms := line.FindAllStringSubmatch(out, -1)
	if len(ms) != 2 || !strings.Contains(out, "state OFF") {
		t.Fatalf("stdout:\n%s\nstderr:\n%s", out, l)
	}
	for _, m := range ms {
		in, proc, wrote, errs := m[2], m[3], m[4], m[5]
		n, _ := strconv.Atoi(in)
		switch {
		case n < 200 || n >= 50000:
			t.Errorf("exchange %s: in=%s, want a stream stopped midway", m[1], in)
		case errs != "0" || m[6] != "stopped" || proc != in:
			t.Errorf("exchange %s: %s", m[1], m[0])
		case m[1] == "0" && wrote != in:
			t.Errorf("direct exchange lost values: %s", m[0])
		case m[1] == "1" && wrote != "1":
			t.Errorf("buffered exchange: %s, want its one window flushed at the stop", m[0])
		}
	}
	t.Log(strings.TrimSpace(out))
}

// runProc is a running "sdp connector run".
type runProc struct {
	cmd    *exec.Cmd
	stdout *bytes.Buffer
	logs   chan string // all of stderr, once it closes
	addr   string      // of /metrics
}

func startRun(t *testing.T, bin string, env []string, args ...string) *runProc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"connector", "run"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	r := &runProc{cmd: cmd, stdout: &bytes.Buffer{}, logs: make(chan string, 1)}
	cmd.Stdout = r.stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addrc := make(chan string, 1)
	go func() {
		var all strings.Builder
		sc := bufio.NewScanner(stderr)
		re := regexp.MustCompile(`msg="serving the device" addr=(\S+)`)
		for sc.Scan() {
			all.WriteString(sc.Text() + "\n")
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addrc <- m[1]
			}
		}
		r.logs <- all.String()
	}()
	select {
	case r.addr = <-addrc:
	case l := <-r.logs:
		t.Fatalf("exited before serving metrics:\n%s", l)
	case <-time.After(2 * time.Minute): // a bound for a broken run, not a speed check
		t.Fatal(`no "serving the device" log line from sdp connector run`)
	}
	return r
}

// waitMetric scrapes /metrics until the first group of pattern is at
// least min.
func (r *runProc) waitMetric(t *testing.T, pattern string, min int) {
	t.Helper()
	re := regexp.MustCompile(pattern)
	deadline := time.Now().Add(60 * time.Second)
	for {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s >= %d", pattern, min)
		}
		resp, err := http.Get("http://" + r.addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if m := re.FindSubmatch(body); m != nil {
			if n, _ := strconv.Atoi(string(m[1])); n >= min {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestConnectorRunConfigDB runs "sdp connector run --config-db" against a
// real etcd found through SDP_CONFIG_HOST/SDP_CONFIG_PORT: it follows the
// descriptor at the templated key (reconfiguring when it changes, STANDBY
// when it is deleted) and exits 0 on SIGTERM.
func TestConnectorRunConfigDB(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary, starts etcd")
	}
	srv := testenv.Etcd(t)
	ctx := context.Background()
	store, err := etcd.Open(ctx, srv.Endpoints())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	db := config.NewDB(store)
	const path = "/component/lmc-queueconnector-01/owner"
	put := func(v string) {
		t.Helper()
		err := db.Txn(ctx, func(tx *config.Txn) error {
			old, err := tx.Get(path)
			if err != nil {
				return err
			}
			if old == nil {
				return tx.Create(path, []byte(v), 0)
			}
			return tx.Update(path, []byte(v))
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	one := func(key string) string {
		return `{"exchanges": [{"dtype": "int64", "source": {"type": "InMemorySource", "data": [1, 2, 3]}, "sink": {"type": "InMemorySink", "key": "` + key + `"}}]}`
	}
	put(one("a"))
	bin := filepath.Join(t.TempDir(), "sdp")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	u, err := url.Parse(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	r := startRun(t, bin, []string{"SDP_CONFIG_HOST=" + u.Hostname(), "SDP_CONFIG_PORT=" + u.Port()},
		"--config-db", "/component/lmc-queueconnector-{}/owner", "--subarray", "01", "--http", "127.0.0.1:0")
	r.waitMetric(t, `sdp_connector_exchange_out_total\{exchange="exchanges\[0\]",group="default"\} (\d+)`, 3)
	r.waitMetric(t, `sdp_connector_device_state\{state="ON"\} (\d+)`, 1)
	put(`{"exchanges": {"two": [` + one("b")[len(`{"exchanges": [`):len(one("b"))-2] + `]}}`)
	r.waitMetric(t, `sdp_connector_exchange_out_total\{exchange="exchanges\[\\"two\\"\]\[0\]",group="two"\} (\d+)`, 3)
	if err := db.Delete(ctx, path); err != nil {
		t.Fatal(err)
	}
	r.waitMetric(t, `sdp_connector_device_state\{state="STANDBY"\} (\d+)`, 1)
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	l := <-r.logs
	if err := r.cmd.Wait(); err != nil {
		t.Fatalf("exit: %v\n%s\n%s", err, r.stdout, l)
	}
	out := r.stdout.String()
	for _, want := range []string{"exchange default exchanges[0]: in=3 processed=3 out=3 errors=0", `exchange two exchanges["two"][0]: in=3 processed=3 out=3 errors=0`, "state STANDBY"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
}
