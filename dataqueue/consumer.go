package dataqueue

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sdpkit/sdpkit/dataqueue/encoding"
	"github.com/sdpkit/sdpkit/pyval"
)

// Message is one consumed record.
type Message struct {
	Topic     string
	Partition int32
	Offset    int64
	Key       []byte
	Headers   []Header
	Timestamp time.Time
	// Raw is the record's value as sent.
	Raw []byte
	// Value is Raw decoded with the consumer's encoding, or pyval.Bytes(Raw)
	// when the consumer has none (Python yields raw bytes then). It is nil
	// when decoding failed.
	Value pyval.Value
}

type consumerConfig struct {
	common
	topics         []string
	assign         []TopicPartition
	group          string
	encoding       string
	registry       *encoding.Registry
	latest         bool
	commitInterval time.Duration
	startAt        map[TopicPartition]int64
}

type consumeMode int

const (
	modeNone consumeMode = iota
	modeSubscribe
	modeAssign
)

// Consumer reads records from Kafka topics and decodes them, the
// counterpart of ska-sdp-dataqueues' DataQueueConsumer.
//
// A consumer either subscribes to topics (UpdateTopics: all their
// partitions, shared among the members when it is in a group) or is
// assigned partitions (AssignTopics). The two are mutually exclusive, as in
// aiokafka, but switching is allowed at any time: the consumer drops the
// old set (and, in a group, commits and leaves it) and starts on the new
// one. Within one mode the set can change while Messages is iterating;
// partitions kept across the change keep their position.
//
// Positions. A partition with no committed position starts at the earliest
// record (WithStartAtLatest for the end). Without a group (the default)
// nothing is committed: every consumer reads every record of its topics.
// With WithGroup and subscribed topics, a record counts as consumed once
// the loop body that received it has returned; consumed positions are
// committed every commit interval (5 s by default), by Commit, on a
// rebalance and by Close, so a restarted member resumes after the last
// commit (possibly re-reading up to an interval's worth: at-least-once).
// Assigned partitions in a group are handled the same way, as aiokafka's
// assign() with a group_id: they start at the group's committed offsets
// and their positions are committed (as a standalone consumer, without
// joining the group).
//
// UpdateTopics, AssignTopics, Commit and Close are safe to call from any
// goroutine, also while another one iterates over Messages.
type Consumer struct {
	brokers []string
	cfg     consumerConfig
	codec   encoding.Codec

	mu      sync.Mutex
	cl      *kgo.Client // nil until there is something to read
	mode    consumeMode
	topics  []string
	parts   []TopicPartition
	changed chan struct{} // closed (and replaced) whenever cl changes
	closed  bool

	// Assigned partitions in a group: franz-go does not track group
	// offsets for them, so the consumer does. pending partitions wait for
	// their committed offsets (looked up by Messages, which has a ctx);
	// pos holds the next offset of every consumed partition and done the
	// last committed one.
	pending []TopicPartition
	pos     map[TopicPartition]int64
	done    map[TopicPartition]int64
	stop    chan struct{} // ends the commit ticker
	wake    func()        // interrupts Messages' current poll

	iterating atomic.Bool   // a Messages loop is running
	leftover  []*kgo.Record // fetched, not yet delivered when a loop stopped
}

// NewConsumer creates a consumer of the bootstrap brokers. Give the topics
// now (WithTopics, WithAssignment) or later (UpdateTopics, AssignTopics).
func NewConsumer(brokers []string, opts ...ConsumerOption) (*Consumer, error) {
	cfg := consumerConfig{commitInterval: 5 * time.Second}
	for _, o := range opts {
		o.applyConsumer(&cfg)
	}
	if len(brokers) == 0 {
		return nil, errors.New("dataqueue: NewConsumer: no brokers")
	}
	if cfg.registry == nil {
		cfg.registry = encoding.NewRegistry()
	}
	c := &Consumer{brokers: brokers, cfg: cfg, changed: make(chan struct{}),
		pos: map[TopicPartition]int64{}, done: map[TopicPartition]int64{}, stop: make(chan struct{})}
	if cfg.encoding != "" {
		codec, err := cfg.registry.Lookup(cfg.encoding)
		if err != nil {
			return nil, fmt.Errorf("dataqueue: NewConsumer: %w", err)
		}
		c.codec = codec
	}
	var err error
	switch {
	case len(cfg.topics) > 0:
		err = c.UpdateTopics(cfg.topics...)
	case len(cfg.assign) > 0:
		err = c.AssignTopics(cfg.assign...)
	}
	if err != nil {
		return nil, err
	}
	if cfg.group != "" && cfg.commitInterval > 0 {
		go c.commitLoop(cfg.commitInterval)
	}
	return c, nil
}

// commitLoop commits assigned partitions' positions every interval (franz-go
// does it for subscribed ones).
func (c *Consumer) commitLoop(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			c.mu.Lock()
			cl, mode := c.cl, c.mode
			c.mu.Unlock()
			if cl != nil && mode == modeAssign {
				ctx, cancel := context.WithTimeout(context.Background(), every)
				_ = c.commitAssigned(ctx, cl, false) // retried next tick; Close reports
				cancel()
			}
		}
	}
}

func (c *Consumer) resetOffset() kgo.Offset {
	if c.cfg.latest {
		return kgo.NewOffset().AtEnd()
	}
	return kgo.NewOffset().AtStart()
}

// newClient builds the franz-go client for one mode.
func (c *Consumer) newClient(mode consumeMode, topics []string, parts []TopicPartition) (*kgo.Client, error) {
	opts := []kgo.Opt{
		kgo.ConsumeResetOffset(c.resetOffset()),
		// A topic added while running is found by a metadata refresh, which
		// franz-go holds back for MetadataMinAge (5 s by default): keep the
		// change prompt.
		kgo.MetadataMinAge(100 * time.Millisecond),
		// A partition added while a fetch long-polls joins the next fetch:
		// aiokafka's fetch_max_wait_ms (500 ms) rather than franz-go's 5 s.
		kgo.FetchMaxWait(500 * time.Millisecond),
		// A fetch returns up to 16 MiB of one partition instead of Kafka's
		// 1 MiB default (max.partition.fetch.bytes): a data queue is
		// usually one partition read as fast as possible, and each fetch
		// is a broker round trip. This doubled single-partition consume
		// throughput on the benchmark broker (docs/benchmarks.md); the
		// whole fetch stays capped at FetchMaxBytes (50 MiB).
		kgo.FetchMaxPartitionBytes(16 << 20),
	}
	switch mode {
	case modeSubscribe:
		opts = append(opts, kgo.ConsumeTopics(topics...))
		if c.cfg.group != "" {
			opts = append(opts, kgo.ConsumerGroup(c.cfg.group), kgo.AutoCommitMarks())
			// franz-go cannot combine marks with no autocommit at all, so
			// "never" is an interval longer than any run.
			interval := c.cfg.commitInterval
			if interval <= 0 {
				interval = 100 * 365 * 24 * time.Hour
			}
			opts = append(opts, kgo.AutoCommitInterval(interval))
		}
	case modeAssign:
		if c.cfg.group == "" {
			m := partitionMap(parts, c.resetOffset())
			for p, at := range c.cfg.startAt {
				if _, ok := m[p.Topic][p.Partition]; ok {
					m[p.Topic][p.Partition] = kgo.NewOffset().At(at)
				}
			}
			opts = append(opts, kgo.ConsumePartitions(m))
		} // else: added once their committed offsets are known
	}
	cl, err := kgo.NewClient(append(opts, c.cfg.base(c.brokers)...)...)
	if err != nil {
		return nil, fmt.Errorf("dataqueue: consumer: %w", err)
	}
	return cl, nil
}

func partitionMap(parts []TopicPartition, at kgo.Offset) map[string]map[int32]kgo.Offset {
	m := map[string]map[int32]kgo.Offset{}
	for _, p := range parts {
		if m[p.Topic] == nil {
			m[p.Topic] = map[int32]kgo.Offset{}
		}
		m[p.Topic][p.Partition] = at
	}
	return m
}

// switchCommitTimeout bounds the commit UpdateTopics and AssignTopics
// make when they switch modes, since they take no context.
const switchCommitTimeout = 10 * time.Second

// switchTo replaces the client (mu held). The old one commits what was
// consumed (in a group) and closes, which ends its pending poll.
func (c *Consumer) switchTo(cl *kgo.Client, mode consumeMode) error {
	var err error
	if old := c.cl; old != nil {
		ctx, cancel := context.WithTimeout(context.Background(), switchCommitTimeout)
		err = c.commitClient(ctx, old, c.mode, true)
		cancel()
		old.Close()
	}
	c.cl, c.mode = cl, mode
	clear(c.pos)
	clear(c.done)
	close(c.changed)
	c.changed = make(chan struct{})
	return err
}

// UpdateTopics subscribes to exactly topics (aiokafka's subscribe),
// replacing the previous subscription; no topics stops consuming. Topics
// that stay keep their positions; new ones start at their committed
// position or the start. If the consumer had an assignment, it is dropped
// (in a group, after committing its positions: up to 10 s). UpdateTopics
// does not otherwise wait for the network, like aiokafka's subscribe.
func (c *Consumer) UpdateTopics(topics ...string) error {
	topics = dedup(topics)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	if c.mode == modeSubscribe && c.cl != nil {
		var gone []string
		for _, t := range c.topics {
			if !slices.Contains(topics, t) {
				gone = append(gone, t)
			}
		}
		var added []string
		for _, t := range topics {
			if !slices.Contains(c.topics, t) {
				added = append(added, t)
			}
		}
		if len(gone) > 0 {
			c.cl.PurgeTopicsFromConsuming(gone...)
		}
		if len(added) > 0 {
			c.cl.AddConsumeTopics(added...)
		}
		c.topics = topics
		return nil
	}
	cl, err := c.newClient(modeSubscribe, topics, nil)
	if err != nil {
		return err
	}
	err = c.switchTo(cl, modeSubscribe)
	c.topics, c.parts, c.pending = topics, nil, nil
	return err
}

// AssignTopics consumes exactly the given partitions (aiokafka's assign),
// replacing the previous assignment; none stops consuming. Partitions that
// stay keep their positions; new ones start at the start (or the end with
// WithStartAtLatest; in a group, at its committed offsets). If the consumer
// had a subscription, it is dropped (in a group, after committing: up to
// 10 s, and leaving the group).
func (c *Consumer) AssignTopics(parts ...TopicPartition) error {
	parts = dedup(parts)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	if c.mode == modeAssign && c.cl != nil {
		gone := map[string][]int32{}
		for _, p := range c.parts {
			if !slices.Contains(parts, p) {
				gone[p.Topic] = append(gone[p.Topic], p.Partition)
			}
		}
		var added []TopicPartition
		for _, p := range parts {
			if !slices.Contains(c.parts, p) {
				added = append(added, p)
			}
		}
		if len(gone) > 0 {
			c.cl.RemoveConsumePartitions(gone)
		}
		if len(added) > 0 {
			if c.cfg.group != "" {
				c.pending = append(c.pending, added...)
				if c.wake != nil {
					c.wake()
				}
			} else {
				c.cl.AddConsumePartitions(partitionMap(added, c.resetOffset()))
			}
		}
		c.parts = parts
		return nil
	}
	cl, err := c.newClient(modeAssign, nil, parts)
	if err != nil {
		return err
	}
	err = c.switchTo(cl, modeAssign)
	c.topics, c.parts = nil, parts
	if c.cfg.group != "" {
		c.pending = slices.Clone(parts)
	}
	return err
}

// Topics returns the subscribed topics (nil when assigned partitions).
func (c *Consumer) Topics() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.topics)
}

// Assignment returns the assigned partitions (nil when subscribed).
func (c *Consumer) Assignment() []TopicPartition {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.parts)
}

func dedup[T comparable](xs []T) []T {
	var out []T
	for _, x := range xs {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// current waits for a client to read from: it returns nil when ctx ends or
// the consumer is closed.
func (c *Consumer) current(ctx context.Context) (*kgo.Client, consumeMode) {
	for {
		c.mu.Lock()
		cl, mode, closed, changed := c.cl, c.mode, c.closed, c.changed
		c.mu.Unlock()
		if closed {
			return nil, modeNone
		}
		if cl != nil {
			return cl, mode
		}
		select {
		case <-ctx.Done():
			return nil, modeNone
		case <-changed:
		}
	}
}

// Messages iterates over consumed records, waiting for new ones forever;
// it ends when ctx ends or the consumer is closed (check ctx.Err() to tell
// which), or when the loop breaks. Before any topic is set it waits for
// one. A record that cannot be decoded is yielded as its Message (Value
// nil) with a *DecodeError, and iteration goes on; other errors (a fetch
// failing, say) are yielded with a nil Message and iteration goes on too.
// Breaking out of the loop loses nothing: a later loop continues with the
// next record. Only one Messages loop may run at a time: a second one
// yields ErrConcurrentIteration and ends.
func (c *Consumer) Messages(ctx context.Context) iter.Seq2[*Message, error] {
	return func(yield func(*Message, error) bool) {
		if !c.iterating.CompareAndSwap(false, true) {
			yield(nil, ErrConcurrentIteration)
			return
		}
		defer c.iterating.Store(false)
		for {
			cl, mode := c.current(ctx)
			if cl == nil {
				return
			}
			if left := c.takeLeftover(cl); len(left) > 0 {
				if !c.deliver(left, cl, mode, yield) {
					return
				}
				continue
			}
			if err := c.resolvePending(ctx, cl); err != nil {
				if ctx.Err() != nil || !yield(nil, err) {
					return
				}
				select { // the broker is likely unreachable: do not spin
				case <-ctx.Done():
					return
				case <-time.After(time.Second):
				}
				continue
			}
			// A poll is interrupted (pollCtx cancelled) when assigned
			// partitions wait to be added, and ends (ErrClientClosed) when
			// the client is replaced or closed; either way the loop looks
			// again.
			pollCtx, cancel := context.WithCancel(ctx)
			c.mu.Lock()
			c.wake = cancel
			c.mu.Unlock()
			fetches := cl.PollFetches(pollCtx)
			cancel()
			if ctx.Err() != nil {
				return
			}
			for _, fe := range fetches.Errors() {
				if errors.Is(fe.Err, kgo.ErrClientClosed) || errors.Is(fe.Err, context.Canceled) {
					continue
				}
				err := fmt.Errorf("dataqueue: fetching %s/%d: %w", fe.Topic, fe.Partition, classify(fe.Err))
				if !yield(nil, err) {
					return
				}
			}
			if !c.deliver(fetches.Records(), cl, mode, yield) {
				return
			}
		}
	}
}

// deliver yields recs, marking each as consumed after its loop body. If
// the loop stops early, the rest are kept for the next Messages loop.
func (c *Consumer) deliver(recs []*kgo.Record, cl *kgo.Client, mode consumeMode, yield func(*Message, error) bool) bool {
	group := c.cfg.group != ""
	for i, r := range recs {
		m, err := c.message(r)
		ok := yield(m, err)
		switch {
		case group && mode == modeSubscribe:
			cl.MarkCommitRecords(r)
		case group && mode == modeAssign:
			c.mu.Lock()
			if c.cl == cl {
				c.pos[TopicPartition{r.Topic, r.Partition}] = r.Offset + 1
			}
			c.mu.Unlock()
		}
		if !ok {
			c.mu.Lock()
			if c.cl == cl {
				c.leftover = slices.Clone(recs[i+1:])
			}
			c.mu.Unlock()
			return false
		}
	}
	return true
}

// takeLeftover returns the records a stopped loop did not deliver, if they
// come from cl and still belong to what is consumed.
func (c *Consumer) takeLeftover(cl *kgo.Client) []*kgo.Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	recs := c.leftover
	c.leftover = nil
	if c.cl != cl {
		return nil
	}
	return slices.DeleteFunc(recs, func(r *kgo.Record) bool {
		if c.mode == modeSubscribe {
			return !slices.Contains(c.topics, r.Topic)
		}
		return !slices.Contains(c.parts, TopicPartition{r.Topic, r.Partition})
	})
}

// resolvePending starts assigned partitions of a group at the group's
// committed offsets (or the reset offset where it has none).
func (c *Consumer) resolvePending(ctx context.Context, cl *kgo.Client) error {
	c.mu.Lock()
	pending := c.pending
	c.mu.Unlock()
	if len(pending) == 0 {
		return nil
	}
	var topics []string
	for _, p := range pending {
		if !slices.Contains(topics, p.Topic) {
			topics = append(topics, p.Topic)
		}
	}
	committed, err := kadm.NewClient(cl).FetchOffsetsForTopics(ctx, c.cfg.group, topics...)
	if err == nil {
		err = committed.Error()
	}
	if errors.Is(err, kerr.GroupIDNotFound) {
		committed, err = nil, nil // a group that never committed (some brokers say so)
	}
	if err != nil {
		return fmt.Errorf("dataqueue: fetching group %q offsets for %v: %w", c.cfg.group, topics, classify(err))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cl != cl {
		return nil // replaced meanwhile; the new client has its own list
	}
	start := map[string]map[int32]kgo.Offset{}
	var still []TopicPartition
	for _, p := range c.pending {
		if !slices.Contains(pending, p) {
			still = append(still, p) // assigned after the lookup began
			continue
		}
		if !slices.Contains(c.parts, p) {
			continue // unassigned meanwhile
		}
		at := c.resetOffset()
		if o, ok := committed.Lookup(p.Topic, p.Partition); ok && o.At >= 0 {
			at = kgo.NewOffset().At(o.At)
			c.done[p] = o.At
		}
		if start[p.Topic] == nil {
			start[p.Topic] = map[int32]kgo.Offset{}
		}
		start[p.Topic][p.Partition] = at
	}
	c.pending = still
	cl.AddConsumePartitions(start)
	return nil
}

// commitAssigned commits the consumed positions of assigned partitions
// that moved since the last commit; locked says whether the caller holds
// mu (it is then held over the request).
func (c *Consumer) commitAssigned(ctx context.Context, cl *kgo.Client, locked bool) error {
	lock, unlock := c.mu.Lock, c.mu.Unlock
	if locked {
		lock, unlock = func() {}, func() {}
	}
	lock()
	os := kadm.Offsets{}
	for p, at := range c.pos {
		if done, ok := c.done[p]; !ok || done != at {
			os.Add(kadm.Offset{Topic: p.Topic, Partition: p.Partition, At: at, LeaderEpoch: -1})
		}
	}
	unlock()
	if len(os) == 0 {
		return nil
	}
	resp, err := kadm.NewClient(cl).CommitOffsets(ctx, c.cfg.group, os)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		return fmt.Errorf("dataqueue: committing group %q: %w", c.cfg.group, classify(err))
	}
	lock()
	if c.cl == cl {
		os.Each(func(o kadm.Offset) { c.done[TopicPartition{o.Topic, o.Partition}] = o.At })
	}
	unlock()
	return nil
}

func (c *Consumer) message(r *kgo.Record) (*Message, error) {
	m := &Message{
		Topic: r.Topic, Partition: r.Partition, Offset: r.Offset,
		Key: r.Key, Timestamp: r.Timestamp, Raw: r.Value,
	}
	for _, h := range r.Headers {
		m.Headers = append(m.Headers, Header{Key: h.Key, Value: h.Value})
	}
	if c.codec == nil {
		m.Value = pyval.Bytes(r.Value)
		return m, nil
	}
	v, err := c.codec.Decode(r.Value)
	if err != nil {
		return m, &DecodeError{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Encoding: c.codec.Name(), Err: err}
	}
	m.Value = v
	return m, nil
}

// commitClient commits what a group client in mode has consumed; locked
// says whether the caller holds mu.
func (c *Consumer) commitClient(ctx context.Context, cl *kgo.Client, mode consumeMode, locked bool) error {
	if c.cfg.group == "" {
		return nil
	}
	if mode == modeAssign {
		return c.commitAssigned(ctx, cl, locked)
	}
	if err := cl.CommitMarkedOffsets(ctx); err != nil {
		return fmt.Errorf("dataqueue: committing group %q: %w", c.cfg.group, classify(err))
	}
	return nil
}

// Commit commits the positions of the records consumed so far, now. It
// does nothing without a group.
func (c *Consumer) Commit(ctx context.Context) error {
	c.mu.Lock()
	cl, mode, closed := c.cl, c.mode, c.closed
	c.mu.Unlock()
	if closed {
		return ErrClosed
	}
	if cl == nil {
		return nil
	}
	return c.commitClient(ctx, cl, mode, false)
}

// Close commits what was consumed (in a group), leaves the group, closes
// the connections and ends any Messages loop. It is idempotent.
func (c *Consumer) Close(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	close(c.stop)
	var err error
	if c.cl != nil {
		err = c.commitClient(ctx, c.cl, c.mode, true)
		c.cl.Close()
		c.cl = nil
	}
	close(c.changed)
	return err
}
