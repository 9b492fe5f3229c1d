package web_test

import (
	"os"
	"testing"
	"time"
)

func TestManualServe(t *testing.T) {
	if os.Getenv("MANUAL") == "" {
		t.Skip()
	}
	_, srv := startedDemo(t, defaultDemo())
	os.WriteFile("/tmp/connweb-url", []byte(srv.URL), 0o644)
	time.Sleep(10 * time.Minute)
}
