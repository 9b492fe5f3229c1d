package config

import "testing"

// etcdStores returns the real-etcd store factories (none until
// internal/testenv.Etcd and config/etcd are available).
func etcdStores(t *testing.T) []storeFactory { return nil }
