package testenv

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// Browser runs Debian's headless Chromium for end-to-end tests of web
// pages: each call starts a fresh browser with its own profile directory,
// loads one URL, lets the page's scripts run for a virtual-time budget and
// exits.
type Browser struct {
	t   testing.TB
	bin string
	// Budget is the virtual time the page gets to run its scripts before
	// the DOM is dumped or the screenshot taken (default 5 s). Virtual time
	// runs ahead of the wall clock when the page is idle.
	Budget time.Duration
	// Timeout bounds one browser run in wall time (default 90 s).
	Timeout time.Duration
	// WindowSize is the viewport as "width,height" (default "1280,900").
	WindowSize string
}

// Chromium returns a Browser, or skips the test when no chromium binary is
// installed (scripts/deps.sh installs it) — unless SDP_REQUIRE_PEERS=1,
// which makes a missing browser a failure. $SDP_CHROMIUM names another
// binary.
func Chromium(t testing.TB) *Browser {
	t.Helper()
	bin := os.Getenv("SDP_CHROMIUM")
	if bin == "" {
		for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
			if p, err := exec.LookPath(name); err == nil {
				bin = p
				break
			}
		}
	}
	if bin == "" {
		msg := "chromium not found: run scripts/deps.sh (apt-get install chromium)"
		if os.Getenv(RequirePeersEnv) == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return &Browser{t: t, bin: bin, Budget: 5 * time.Second, Timeout: 90 * time.Second, WindowSize: "1280,900"}
}

// DumpDOM loads url and returns the serialised DOM after the page's scripts
// have run for the budget.
func (b *Browser) DumpDOM(url string) (string, error) {
	out, err := b.run("--dump-dom", url)
	return string(out), err
}

// Screenshot loads url and writes a PNG of the viewport to file.
func (b *Browser) Screenshot(url, file string) error {
	_, err := b.run("--screenshot="+file, "--window-size="+b.WindowSize, "--hide-scrollbars", url)
	if err != nil {
		return err
	}
	if st, err := os.Stat(file); err != nil || st.Size() == 0 {
		return fmt.Errorf("testenv: chromium wrote no screenshot to %s", file)
	}
	return nil
}

func (b *Browser) run(args ...string) ([]byte, error) {
	b.t.Helper()
	profile := b.t.TempDir()
	base := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--user-data-dir=" + profile,
		"--virtual-time-budget=" + strconv.FormatInt(b.Budget.Milliseconds(), 10),
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, b.bin, append(base, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("testenv: chromium %v: %w\n%s", args, err, tail(stderr.Bytes(), 2000))
	}
	return stdout.Bytes(), nil
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
