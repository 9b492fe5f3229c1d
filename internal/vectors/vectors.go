// Package vectors locates the shared golden test vectors, which live
// outside the module in shared/vectors next to the checkout, so tests can
// read them in place instead of copying them into the repository.
package vectors

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the directory shared/vectors/<sub>, found by looking in the
// working directory and each of its parents for a shared/vectors/<sub>
// directory (a test runs in its package directory, so for telstate/rdb in
// a checkout at <dir>/main this finds <dir>/shared/vectors/<sub>). If
// there is none it skips the test, saying where it looked.
func Dir(t testing.TB, sub string) string {
	t.Helper()
	dir, err := find(sub)
	if err != nil {
		t.Skipf("test vectors shared/vectors/%s not found: %v", sub, err)
	}
	return dir
}

// Path returns the file name inside Dir(t, sub).
func Path(t testing.TB, sub, name string) string {
	t.Helper()
	return filepath.Join(Dir(t, sub), name)
}

func find(sub string) (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; {
		cand := filepath.Join(d, "shared", "vectors", sub)
		if st, err := os.Stat(cand); err == nil && st.IsDir() {
			return cand, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", &notFoundError{from: wd}
		}
		d = parent
	}
}

type notFoundError struct{ from string }

func (e *notFoundError) Error() string {
	return "no shared/vectors directory in " + e.from + " or any parent"
}

// JSONL decodes every line of the JSON-lines file name in Dir(t, sub) into
// a T, failing the test on a bad line (naming its number).
func JSONL[T any](t testing.TB, sub, name string) []T {
	t.Helper()
	f, err := os.Open(Path(t, sub, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<26)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var rec T
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("%s/%s line %d: %v", sub, name, line, err)
		}
		out = append(out, rec)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s/%s: %v", sub, name, err)
	}
	return out
}
