package main

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
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
	cmd := exec.Command(bin, "connector", "run", "--config", cfgFile, "--http", "127.0.0.1:0")
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }()
	addrc := make(chan string, 1)
	logs := make(chan string, 1)
	go func() {
		var all strings.Builder
		sc := bufio.NewScanner(stderr)
		re := regexp.MustCompile(`msg="serving metrics" addr=(\S+)`)
		for sc.Scan() {
			all.WriteString(sc.Text() + "\n")
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addrc <- m[1]
			}
		}
		logs <- all.String()
	}()
	var addr string
	select {
	case addr = <-addrc:
	case l := <-logs:
		t.Fatalf("exited before serving metrics:\n%s", l)
	}
	metric := regexp.MustCompile(`sdp_connector_exchange_in_total\{exchange="exchanges\[1\]",group="default"\} (\d+)`)
	deadline := time.Now().Add(60 * time.Second)
	for {
		if time.Now().After(deadline) {
			t.Fatal("no values flowed")
		}
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if m := metric.FindSubmatch(body); m != nil {
			if n, _ := strconv.Atoi(string(m[1])); n >= 200 {
				break
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	l := <-logs
	err = cmd.Wait()
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
