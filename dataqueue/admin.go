package dataqueue

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

type adminConfig struct {
	common
}

// TopicSpec asks for a topic with at least MinPartitions partitions (1 when
// 0) and, when it is created, ReplicationFactor replicas (1 when 0, as the
// Python wrapper is assumed to do).
type TopicSpec struct {
	Name              string
	MinPartitions     int32
	ReplicationFactor int16
}

// Topic is a TopicSpec for name with default settings, the counterpart of
// a bare name in Python's create_topics list.
func Topic(name string) TopicSpec { return TopicSpec{Name: name} }

// TopicInfo describes an existing topic.
type TopicInfo struct {
	Name              string
	Internal          bool
	ReplicationFactor int // replicas of partition 0
	Partitions        []PartitionInfo
}

// PartitionInfo describes one partition of a topic.
type PartitionInfo struct {
	Partition int32
	Leader    int32 // broker id, -1 if none
	Replicas  []int32
	ISR       []int32
}

// Admin manages topics, the counterpart of ska-sdp-dataqueues'
// DataQueueAdmin. It is safe for concurrent use.
type Admin struct {
	cl     *kgo.Client
	adm    *kadm.Client
	closed atomic.Bool
}

// NewAdmin creates an admin client of the bootstrap brokers.
func NewAdmin(brokers []string, opts ...AdminOption) (*Admin, error) {
	var cfg adminConfig
	for _, o := range opts {
		o.applyAdmin(&cfg)
	}
	if len(brokers) == 0 {
		return nil, errors.New("dataqueue: NewAdmin: no brokers")
	}
	// franz-go caches topic metadata for MetadataMinAge (5 s): an admin
	// must see creations and deletions at once, its own and others'.
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.MetadataMinAge(10 * time.Millisecond)}, cfg.base(brokers)...)...)
	if err != nil {
		return nil, fmt.Errorf("dataqueue: NewAdmin: %w", err)
	}
	return &Admin{cl: cl, adm: kadm.NewClient(cl)}, nil
}

// Kadm returns the underlying kadm client, for what this package does not
// wrap. Do not close it.
func (a *Admin) Kadm() *kadm.Client { return a.adm }

// CreateTopics makes sure every topic exists with at least its minimum
// number of partitions, as Python's create_topics: a missing topic is
// created, an existing one with fewer partitions is grown, and an existing
// one with enough is left alone (not an error). Partitions are never
// removed. It returns once every topic it created or grew is usable (every
// partition has a leader), so a send or describe right after it does not
// race the broker's metadata. The error joins every topic's failure.
func (a *Admin) CreateTopics(ctx context.Context, specs ...TopicSpec) error {
	if a.closed.Load() {
		return ErrClosed
	}
	var errs []error
	for _, s := range specs {
		if err := a.ensure(ctx, s); err != nil {
			errs = append(errs, fmt.Errorf("dataqueue: topic %q: %w", s.Name, err))
		}
	}
	return errors.Join(errs...)
}

func (a *Admin) ensure(ctx context.Context, s TopicSpec) error {
	if s.Name == "" {
		return errors.New("empty topic name")
	}
	parts := max(s.MinPartitions, 1)
	rf := s.ReplicationFactor
	if rf <= 0 {
		rf = 1
	}
	// Creating first and growing on "exists" avoids a list-then-create race
	// with another client creating the same topic.
	resp, err := a.adm.CreateTopic(ctx, parts, rf, nil, s.Name)
	if err == nil {
		err = resp.Err
	}
	if err == nil {
		return a.waitReady(ctx, s.Name, int(parts))
	}
	if !errors.Is(err, kerr.TopicAlreadyExists) {
		return classify(err)
	}
	have, err := a.partitions(ctx, s.Name)
	if err != nil {
		return err
	}
	if int32(have) >= parts {
		return nil
	}
	up, err := a.adm.UpdatePartitions(ctx, int(parts), s.Name)
	if err == nil {
		var r kadm.CreatePartitionsResponse
		if r, err = up.On(s.Name, nil); err == nil {
			err = r.Err
		}
	}
	if err != nil {
		return fmt.Errorf("growing from %d to %d partitions: %w", have, parts, classify(err))
	}
	return a.waitReady(ctx, s.Name, int(parts))
}

// waitReady returns once the metadata shows topic with at least parts
// partitions, each with a leader. A broker acknowledges a creation before
// every broker's metadata has it, and a client that produces, describes or
// deletes in that window gets UNKNOWN_TOPIC_OR_PARTITION or
// LEADER_NOT_AVAILABLE; CreateTopics promises a usable topic instead.
func (a *Admin) waitReady(ctx context.Context, topic string, parts int) error {
	for delay := time.Millisecond; ; delay = min(2*delay, 100*time.Millisecond) {
		td, err := a.adm.ListTopics(ctx, topic)
		if err == nil {
			if d, ok := td[topic]; ok && d.Err == nil && len(d.Partitions) >= parts {
				ready := true
				for _, p := range d.Partitions {
					ready = ready && p.Err == nil && p.Leader >= 0
				}
				if ready {
					return nil
				}
			}
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("waiting for its partitions to get leaders: %w", ctx.Err())
		case <-t.C:
		}
	}
}

func (a *Admin) partitions(ctx context.Context, topic string) (int, error) {
	td, err := a.adm.ListTopics(ctx, topic)
	if err != nil {
		return 0, classify(err)
	}
	d, ok := td[topic]
	if !ok {
		return 0, ErrUnknownTopic
	}
	if d.Err != nil {
		return 0, classify(d.Err)
	}
	return len(d.Partitions), nil
}

// ListTopics returns the names of the topics, sorted, without Kafka's
// internal ones (__consumer_offsets, …).
func (a *Admin) ListTopics(ctx context.Context) ([]string, error) {
	if a.closed.Load() {
		return nil, ErrClosed
	}
	td, err := a.adm.ListTopics(ctx)
	if err != nil {
		return nil, fmt.Errorf("dataqueue: listing topics: %w", classify(err))
	}
	names := td.Names()
	sort.Strings(names)
	return names, nil
}

// DescribeTopics describes the named topics (every topic, internal ones
// included, when none are named), sorted by name. A missing topic is an
// ErrUnknownTopic error naming it.
func (a *Admin) DescribeTopics(ctx context.Context, names ...string) ([]TopicInfo, error) {
	if a.closed.Load() {
		return nil, ErrClosed
	}
	td, err := a.adm.ListTopicsWithInternal(ctx, names...)
	if err != nil {
		return nil, fmt.Errorf("dataqueue: describing topics: %w", classify(err))
	}
	var out []TopicInfo
	var errs []error
	for _, name := range names {
		if d, ok := td[name]; !ok || d.Err != nil {
			e := error(ErrUnknownTopic)
			if ok {
				e = classify(d.Err)
			}
			errs = append(errs, fmt.Errorf("dataqueue: describing topic %q: %w", name, e))
		}
	}
	for _, d := range td.Sorted() {
		if d.Err != nil {
			continue
		}
		ti := TopicInfo{Name: d.Topic, Internal: d.IsInternal}
		for _, p := range d.Partitions.Sorted() {
			ti.Partitions = append(ti.Partitions, PartitionInfo{
				Partition: p.Partition, Leader: p.Leader,
				Replicas: slices.Clone(p.Replicas), ISR: slices.Clone(p.ISR),
			})
		}
		if len(ti.Partitions) > 0 {
			ti.ReplicationFactor = len(ti.Partitions[0].Replicas)
		}
		out = append(out, ti)
	}
	return out, errors.Join(errs...)
}

// DeleteTopics deletes the named topics. A missing topic is an
// ErrUnknownTopic error naming it; the others are still deleted.
func (a *Admin) DeleteTopics(ctx context.Context, names ...string) error {
	if a.closed.Load() {
		return ErrClosed
	}
	if len(names) == 0 {
		return nil
	}
	resp, err := a.adm.DeleteTopics(ctx, names...)
	a.cl.PurgeTopicsFromClient(names...)
	if err != nil {
		return fmt.Errorf("dataqueue: deleting topics: %w", classify(err))
	}
	var errs []error
	for _, name := range names {
		r, ok := resp[name]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("dataqueue: deleting topic %q: no answer", name))
		case r.Err != nil:
			errs = append(errs, fmt.Errorf("dataqueue: deleting topic %q: %w", name, classify(r.Err)))
		}
	}
	return errors.Join(errs...)
}

// Close closes the connections. It is idempotent.
func (a *Admin) Close() {
	if !a.closed.Swap(true) {
		a.cl.Close()
	}
}
