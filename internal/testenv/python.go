package testenv

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// RequirePeersEnv makes a missing Python peer a test failure instead of a
// skip when set to 1; `make test` sets it, so CI never skips interop.
const RequirePeersEnv = "SDP_REQUIRE_PEERS"

// Python returns the path of a Python interpreter that can import every
// module in modules (e.g. "katsdptelstate"): $SDP_PYTHON if set, else the
// .venv that scripts/peers.sh makes at the top of the checkout. Without
// one the test is skipped, or fails when SDP_REQUIRE_PEERS=1.
func Python(t testing.TB, modules ...string) string {
	t.Helper()
	py := os.Getenv("SDP_PYTHON")
	if py == "" {
		if root, ok := moduleRoot(); ok {
			py = filepath.Join(root, ".venv", "bin", "python")
		}
	}
	missing := func(why string) {
		msg := "Python peers unavailable (" + why + "): run scripts/peers.sh or `make deps`"
		if os.Getenv(RequirePeersEnv) == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if py == "" {
		missing("no checkout root found")
	}
	if _, err := os.Stat(py); err != nil {
		missing(py + " not found")
	}
	for _, m := range modules {
		var stderr bytes.Buffer
		cmd := exec.Command(py, "-c", "import "+m)
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			missing("import " + m + ": " + lastLine(stderr.String()))
		}
	}
	return py
}

// RunPeer runs a peer command (a Python script, kcat) with stdin and
// returns its stdout; if the command fails, so does the test, quoting the
// command's stderr.
func RunPeer(ctx context.Context, t testing.TB, stdin []byte, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v; stderr:\n%s", filepath.Base(name), strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes()
}

func lastLine(s string) string {
	s = string(bytes.TrimSpace([]byte(s)))
	if i := bytes.LastIndexByte([]byte(s), '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// moduleRoot walks up from the working directory to the directory holding
// go.mod.
func moduleRoot() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}
