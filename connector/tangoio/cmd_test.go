//go:build tango

package tangoio

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/internal/tangopeer"
)

// TestConnectorRunTango runs `sdp connector run --tango-port PORT --config
// FILE --device NAME` built with -tags tango as a process: a pytango client
// (tango/testdata/client.py) reads its State and an attribute its
// configuration fills, runs Stop and sees the state follow; SIGTERM then
// ends the process with status 0.
func TestConnectorRunTango(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the sdp binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "sdp")
	if out, err := exec.Command("go", "build", "-tags", "tango", "-o", bin, "../../cmd/sdp").CombinedOutput(); err != nil {
		t.Fatalf("go build -tags tango ./cmd/sdp: %v\n%s", err, out)
	}
	cfg := `{"exchanges": [
	  {"dtype": "int32", "shape": [3],
	   "source": {"type": "InMemorySource", "data": [[4, 5, 6]]},
	   "sink": {"type": "TangoLocalAttributeSink", "attribute_name": "counts"}}]}`
	cfgFile := filepath.Join(dir, "connector.json")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	const device = "test/qc/7"
	cmd := exec.Command(bin, "connector", "run", "--tango-port", fmt.Sprint(port), "--config", cfgFile, "--device", device)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := false
	t.Cleanup(func() {
		if !exited {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	var logs strings.Builder
	var logMu sync.Mutex
	serving := make(chan struct{})
	logDone := make(chan struct{})
	go func() {
		defer close(logDone)
		sc := bufio.NewScanner(stderr)
		once := sync.Once{}
		for sc.Scan() {
			logMu.Lock()
			logs.WriteString(sc.Text() + "\n")
			logMu.Unlock()
			if strings.Contains(sc.Text(), "serving the Tango device") {
				once.Do(func() { close(serving) })
			}
		}
	}()
	select {
	case <-serving:
	case <-logDone:
		t.Fatalf("sdp connector run exited before serving Tango:\n%s", logs.String())
	case <-time.After(2 * time.Minute): // a bound for a broken run, not a speed check
		t.Fatal("no \"serving the Tango device\" log line")
	}

	p := tangopeer.StartClient(t, fmt.Sprintf("tango://127.0.0.1:%d/%s#dbase=no", port, device))
	state := func() string {
		t.Helper()
		var s string
		_ = json.Unmarshal(p.Must(map[string]any{"op": "cmd", "cmd": "State"}), &s)
		return s
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				logMu.Lock()
				defer logMu.Unlock()
				t.Fatalf("timed out waiting for %s (state %s)\n%s", what, state(), logs.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	// The configuration starts the exchange: the device is ON (or OFF once
	// its one-value source has ended) and counts holds the value.
	waitFor("counts = [4, 5, 6]", func() bool {
		r, err := p.Do(map[string]any{"op": "read", "attr": "counts"})
		if err != nil {
			return false
		}
		var v struct {
			Value []int  `json:"value"`
			Type  string `json:"type"`
		}
		return json.Unmarshal(r, &v) == nil && v.Type == "DevLong" && fmt.Sprint(v.Value) == "[4 5 6]"
	})
	s := state()
	if s != "ON" && s != "OFF" {
		t.Errorf("State %s after the configuration, want ON or OFF", s)
	}
	t.Logf("State after the configuration: %s", s)
	if s == "ON" {
		p.Must(map[string]any{"op": "cmd", "cmd": "Stop"})
	} else if _, err := p.Do(map[string]any{"op": "cmd", "cmd": "Stop"}); err != nil {
		t.Logf("Stop in OFF: %v", err)
	}
	waitFor("State OFF after Stop", func() bool { return state() == "OFF" })

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	exited = true
	<-logDone
	if err != nil {
		t.Fatalf("exit after SIGTERM: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), logs.String())
	}
	if !strings.Contains(stdout.String(), "exchange default exchanges[0]") {
		t.Errorf("stdout has no exchange summary:\n%s", stdout.String())
	}
	t.Log(strings.TrimSpace(stdout.String()))
}
