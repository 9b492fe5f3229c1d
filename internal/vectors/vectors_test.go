package vectors

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFindFromSubdirectory(t *testing.T) {
	root := t.TempDir()
	want := filepath.Join(root, "shared", "vectors", "demo")
	deep := filepath.Join(root, "main", "a", "b")
	for _, d := range []string{want, deep} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(deep)
	got, err := find("demo")
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("find = %q, want %q", got, want)
	}
	if _, err := find("missing"); err == nil {
		t.Fatal("find(missing) succeeded")
	}
}

func TestDirRealVectors(t *testing.T) {
	dir := Dir(t, "telstate")
	if _, err := os.Stat(filepath.Join(dir, "README.md")); err != nil {
		t.Fatal(err)
	}
}
