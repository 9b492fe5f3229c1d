package kafkaio

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/sdpkit/sdpkit/dataqueue"
)

// Positions carries Kafka sources' read positions from one generation of a
// device's exchanges to the next (WithResume). The connector's source has no
// consumer group and starts at the latest offset, so the records produced
// while a device reconfigures (after the old source stopped, before the new
// one looked up the end) are never read. A device reconfigured in place can
// instead hand each source's position to its successor: the new source starts
// right after the last record the old one had emitted, so every record is
// emitted by exactly one generation, and, since a stopping exchange delivers
// every value its sources emitted, reaches the sink exactly once.
//
// Positions are kept in memory, for one process: they survive
// reconfiguration, Stop and Start, not a restart of the process. A source's
// successor is the source at the same place: the same group and JSON path of
// the descriptor (when built through Register), servers and topic. Changing
// any of them starts afresh, at the latest offset.
type Positions struct {
	mu sync.Mutex
	m  map[string]map[int32]int64
}

// NewPositions returns an empty Positions.
func NewPositions() *Positions { return &Positions{m: map[string]map[int32]int64{}} }

// Offsets returns the stored next offsets, by partition, of the source with
// the given key (see Source.ResumeKey); nil if none.
func (p *Positions) Offsets(key string) map[int32]int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.m[key])
}

func (p *Positions) set(key string, offsets map[int32]int64) {
	p.mu.Lock()
	p.m[key] = offsets
	p.mu.Unlock()
}

func (p *Positions) advance(key string, partition int32, next int64) {
	p.mu.Lock()
	if m := p.m[key]; m != nil && next > m[partition] {
		m[partition] = next
	}
	p.mu.Unlock()
}

// WithResume makes sources resume from the positions their predecessors
// left in p (see Positions): the first source at a place starts at the end
// of every partition, looked up by Start itself (not lazily at the first
// fetch), and each emitted record moves the position past it. Ignored with
// WithStartAtEarliest for a place that has no position yet (it starts at the
// beginning instead).
func WithResume(p *Positions) Option { return func(c *config) { c.positions = p } }

// withPlace names where in a device a source is, for its resume key.
func withPlace(group, path string) Option {
	return func(c *config) { c.place = group + "\x00" + path }
}

// ResumeKey is the key of the source's position in a Positions: its place in
// the device, servers and topic.
func (s *Source) ResumeKey() string {
	return s.cfg.place + "\x00" + strings.Join(s.brokers, ",") + "\x00" + s.topic
}

// resumeOptions returns the consumer options that start at the stored
// positions (or at the current end of each partition), storing the start
// positions so that a source that emits nothing hands them on unchanged.
func (s *Source) resumeOptions(ctx context.Context) ([]dataqueue.ConsumerOption, error) {
	admin, err := dataqueue.NewAdmin(s.brokers, dataqueue.WithClientID(s.cfg.clientIDOr("sdp-connector")))
	if err != nil {
		return nil, err
	}
	defer admin.Close()
	var listed kadm.ListedOffsets
	if s.cfg.earliest {
		listed, err = admin.Kadm().ListStartOffsets(ctx, s.topic)
	} else {
		listed, err = admin.Kadm().ListEndOffsets(ctx, s.topic)
	}
	if err == nil {
		err = listed.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("looking up the offsets of %s: %w", s.topic, err)
	}
	key := s.ResumeKey()
	stored := s.cfg.positions.Offsets(key)
	start := map[int32]int64{}
	listed.Each(func(o kadm.ListedOffset) {
		start[o.Partition] = o.Offset
		if at, ok := stored[o.Partition]; ok {
			start[o.Partition] = at
		}
	})
	if len(start) == 0 {
		return nil, errors.New("no partitions")
	}
	s.cfg.positions.set(key, maps.Clone(start))
	var parts []dataqueue.TopicPartition
	offsets := map[dataqueue.TopicPartition]int64{}
	for _, p := range slices.Sorted(maps.Keys(start)) {
		tp := dataqueue.TopicPartition{Topic: s.topic, Partition: p}
		parts = append(parts, tp)
		offsets[tp] = start[p]
	}
	return []dataqueue.ConsumerOption{dataqueue.WithAssignment(parts...), dataqueue.WithStartOffsets(offsets)}, nil
}
