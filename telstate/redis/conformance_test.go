package redis

import (
	"testing"

	"github.com/sdpkit/sdpkit/telstate/backend"
	"github.com/sdpkit/sdpkit/telstate/telstatetest"
)

// TestConformance runs the telstate conformance suite against one
// redis-server, each case on its own flushed logical database. (Update
// channels are shared by all databases of a server, but the suite's cases
// run one at a time, so no case sees another's messages.)
func TestConformance(t *testing.T) {
	pool := newDBPool(t)
	telstatetest.Run(t, func(t *testing.T) backend.Backend {
		return pool.backend(t)
	})
}
