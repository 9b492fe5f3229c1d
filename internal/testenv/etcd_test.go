package testenv

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEtcdStartRestart(t *testing.T) {
	s := Etcd(t)
	if eps := s.Endpoints(); len(eps) != 1 || !strings.HasPrefix(eps[0], "http://127.0.0.1:") {
		t.Fatalf("Endpoints = %v", eps)
	}
	put := func(k, v string) {
		// The v3 JSON gateway (/v3/kv/put) exists on 3.4+; base64 key/value.
		body := `{"key":"` + k + `","value":"` + v + `"}`
		resp, err := http.Post(s.ClientURL()+"/v3/kv/put", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("put: %s", resp.Status)
		}
	}
	get := func(k string) string {
		resp, err := http.Post(s.ClientURL()+"/v3/kv/range", "application/json", strings.NewReader(`{"key":"`+k+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	put("YQ==", "MQ==") // a = 1
	if _, err := os.Stat(filepath.Join(s.DataDir(), "member")); err != nil {
		t.Fatalf("data dir: %v", err)
	}
	s.Restart(t)
	if got := get("YQ=="); !strings.Contains(got, `"value":"MQ=="`) {
		t.Fatalf("after restart: %s", got)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
}
