package redis_test

import (
	"context"
	"fmt"
	"log"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/telstate"
	"github.com/sdpkit/sdpkit/telstate/redis"
)

// These examples need a Redis server on localhost:6379, so they are
// compiled but not run by go test (they have no Output section).

// Open a telescope state in Redis database 0 with katsdptelstate's
// endpoint syntax, and use it through the telstate package.
func ExampleOpen() {
	ctx := context.Background()
	be, err := redis.Open(ctx, "localhost:6379", redis.WithDB(0))
	if err != nil {
		log.Fatal(err) // errors.Is(err, backend.ErrConnection) if no server
	}
	defer be.Close()
	ts := telstate.New(telstate.WithBackend(be))

	cbf := ts.View("cbf")
	if err := cbf.Set(ctx, "n_chans", pyval.IntOf(4096)); err != nil {
		log.Fatal(err)
	}
	if err := ts.Add(ctx, "obs_activity", pyval.Str("track"), telstate.At(1700000000)); err != nil {
		log.Fatal(err)
	}
	v, err := cbf.Get(ctx, "n_chans") // stored as key "cbf_n_chans"
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(pyval.Repr(v))
}

// Connection strings as users write them.
func ExampleOpen_sources() {
	ctx := context.Background()
	for _, src := range []string{
		"redis://localhost:6379/0",
		"redis://user:secret@telstate.example.org:6379/2",
		"rediss://telstate.example.org:6380/0", // TLS
		"unix:///run/redis/redis.sock?db=1",
		"[::1]:6379",
	} {
		if be, err := redis.Open(ctx, src); err == nil {
			be.Close()
		}
	}
}

// Wrap a go-redis client made by the caller (kept open by Close).
func ExampleNew() {
	client := goredis.NewClient(&goredis.Options{Addr: "localhost:6379", DB: 0})
	defer client.Close()
	be, err := redis.New(client)
	if err != nil {
		log.Fatal(err)
	}
	defer be.Close()
	_ = telstate.New(telstate.WithBackend(be))
}

// Wait until a sensor, possibly written by a Python process, reports
// "ready". The wait survives a restart of the Redis server.
func ExampleBackend_Monitor() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	be, err := redis.Open(ctx, "redis://localhost:6379/0")
	if err != nil {
		log.Fatal(err)
	}
	defer be.Close()
	ts := telstate.New(telstate.WithBackend(be))
	err = ts.WaitKey(ctx, "sub_state", func(v pyval.Value, _ *float64) bool {
		s, ok := v.(pyval.Str)
		return ok && s == "ready"
	})
	if err != nil {
		log.Fatal(err)
	}
}
