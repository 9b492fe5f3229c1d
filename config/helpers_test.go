package config

import (
	"errors"
	"testing"

	"github.com/sdpkit/sdpkit/config/kv"
	"github.com/sdpkit/sdpkit/config/memory"
)

// storeFactory makes a fresh (empty) store for one test.
type storeFactory struct {
	name string
	new  func(t *testing.T) kv.KV
}

// testStores lists the stores every behavioural test runs against: the
// memory store always, real etcd when available (etcdStores, in
// etcd_test.go).
func testStores(t *testing.T) []storeFactory {
	stores := []storeFactory{{"memory", func(t *testing.T) kv.KV {
		s := memory.New()
		t.Cleanup(func() { s.Close() })
		return s
	}}}
	return append(stores, etcdStores(t)...)
}

// forEachStore runs f as a subtest per store.
func forEachStore(t *testing.T, f func(t *testing.T, s kv.KV)) {
	for _, sf := range testStores(t) {
		t.Run(sf.name, func(t *testing.T) { f(t, sf.new(t)) })
	}
}

// pyErr renders an error as the vectors record Python exceptions.
func pyErr(err error) string {
	var pe *PathError
	var ce *CollisionError
	var ve *VanishedError
	switch {
	case errors.As(err, &pe):
		switch pe.Rule {
		case RuleLeadingSlash:
			return "ValueError: Path must start with /!"
		case RuleTrailingSlash:
			return "ValueError: Path should not have a trailing '/'!"
		}
	case errors.As(err, &ce):
		return "ConfigCollision: " + ce.PyMessage()
	case errors.As(err, &ve):
		return "ConfigVanished: " + ve.PyMessage()
	case errors.Is(err, ErrTxnRetries):
		return "RuntimeError: " + err.Error()
	}
	if err == nil {
		return ""
	}
	return "Go: " + err.Error()
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
