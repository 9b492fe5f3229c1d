package encoding

import (
	"os"
	"testing"
)

// unsetenv removes a variable for the rest of a test; call t.Setenv first
// so that testing restores the original value afterwards.
func unsetenv(t *testing.T, key string) {
	t.Helper()
	if err := os.Unsetenv(key); err != nil {
		t.Fatal(err)
	}
}
