// Package etcd is the kv.KV over a real etcd server, through
// go.etcd.io/etcd/client/v3. It maps kv's compares and ops one to one onto
// etcd's (range compares included), translates etcd's errors into kv's
// sentinels, splits watch responses per revision, and keeps granted leases
// alive in the background. It works against etcd 3.4 (Debian's
// etcd-server) and later servers.
//
// Open connects to endpoints and owns the client; New wraps a client the
// caller keeps.
package etcd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sdpkit/sdpkit/config/kv"
)

// Option configures Open and New.
type Option func(*options)

type options struct {
	tls         *tls.Config
	user, pass  string
	dialTimeout time.Duration
	closeClient bool
	tune        []func(*clientv3.Config)
}

// WithTLS makes Open connect with TLS (endpoints then use https://).
func WithTLS(c *tls.Config) Option { return func(o *options) { o.tls = c } }

// WithAuth makes Open authenticate with etcd's user/password auth.
func WithAuth(username, password string) Option {
	return func(o *options) { o.user, o.pass = username, password }
}

// WithDialTimeout bounds Open's wait for the client's set-up (token
// fetching, version checks); default 5 s. Open's ctx bounds the first
// request.
func WithDialTimeout(d time.Duration) Option { return func(o *options) { o.dialTimeout = d } }

// WithClientConfig lets the caller adjust the clientv3.Config Open builds
// (logger, keep-alive times, message sizes, ...), after the other options.
func WithClientConfig(f func(*clientv3.Config)) Option {
	return func(o *options) { o.tune = append(o.tune, f) }
}

// WithCloseClient makes Close of a store from New close the client too
// (a store from Open always does).
func WithCloseClient() Option { return func(o *options) { o.closeClient = true } }

// Store is a kv.KV on an etcd client. It is safe for concurrent use.
type Store struct {
	c    *clientv3.Client
	opts options

	ctx    context.Context // ends at Close: stops keep-alives and watches
	cancel context.CancelFunc
	closed atomic.Bool

	mu     sync.Mutex
	leases map[kv.LeaseID]*lease
}

var (
	_ kv.KV        = (*Store)(nil)
	_ kv.Compactor = (*Store)(nil)
)

// New returns a store on client. Close revokes the leases the store
// granted but leaves the client open unless WithCloseClient is given.
func New(client *clientv3.Client, opts ...Option) *Store {
	s := &Store{c: client, leases: make(map[kv.LeaseID]*lease)}
	for _, f := range opts {
		f(&s.opts)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s
}

// Open connects to the etcd cluster at endpoints ("host:port" or URLs) and
// checks that one of them answers within ctx; otherwise it fails with
// kv.ErrUnavailable. The store owns the client.
func Open(ctx context.Context, endpoints []string, opts ...Option) (*Store, error) {
	var o options
	for _, f := range opts {
		f(&o)
	}
	cfg := clientv3.Config{
		Endpoints:   endpoints,
		DialTimeout: 5 * time.Second,
		TLS:         o.tls,
		Username:    o.user,
		Password:    o.pass,
		Logger:      zap.NewNop(), // errors reach the caller; the client's own logging is noise
		Context:     context.WithoutCancel(ctx),
	}
	if o.dialTimeout > 0 {
		cfg.DialTimeout = o.dialTimeout
	}
	for _, f := range o.tune {
		f(&cfg)
	}
	c, err := clientv3.New(cfg)
	if err != nil {
		return nil, mapErr(fmt.Sprintf("connecting to %v", endpoints), err)
	}
	var lastErr error
	for _, ep := range c.Endpoints() {
		if _, lastErr = c.Status(ctx, ep); lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		_ = c.Close()
		err := mapErr(fmt.Sprintf("connecting to %v", endpoints), lastErr)
		if !errors.Is(err, kv.ErrUnavailable) {
			err = fmt.Errorf("%w: %w", kv.ErrUnavailable, err)
		}
		return nil, err
	}
	opts = append(opts, WithCloseClient())
	return New(c, opts...), nil
}

// Client returns the underlying etcd client.
func (s *Store) Client() *clientv3.Client { return s.c }

func (s *Store) checkOpen(op string) error {
	if s.closed.Load() {
		return fmt.Errorf("etcd: %s: %w", op, kv.ErrClosed)
	}
	return nil
}

// Get reads key at revision rev (0: latest); headerRev is the store
// revision etcd served the read at.
func (s *Store) Get(ctx context.Context, key []byte, rev int64) (*kv.KeyValue, int64, error) {
	if err := s.checkOpen("get"); err != nil {
		return nil, 0, err
	}
	var opts []clientv3.OpOption
	if rev > 0 {
		opts = append(opts, clientv3.WithRev(rev))
	}
	resp, err := s.c.Get(ctx, string(key), opts...)
	if err != nil {
		return nil, 0, mapErr(fmt.Sprintf("get %q at %d", key, rev), err)
	}
	if len(resp.Kvs) == 0 {
		return nil, resp.Header.Revision, nil
	}
	out := fromKV(resp.Kvs[0], false)
	return &out, resp.Header.Revision, nil
}

// Txn sends one etcd transaction (nested transactions become etcd's
// nested RequestOp_Txn).
func (s *Store) Txn(ctx context.Context, cmps []kv.Compare, success, failure []kv.Op) (kv.TxnResult, error) {
	if err := s.checkOpen("txn"); err != nil {
		return kv.TxnResult{}, err
	}
	resp, err := s.c.Txn(ctx).If(toCmps(cmps)...).Then(toOps(success)...).Else(toOps(failure)...).Commit()
	if err != nil {
		return kv.TxnResult{}, mapErr("txn", err)
	}
	return fromTxnResp((*pb.TxnResponse)(resp), success, failure, resp.Header.Revision), nil
}

// fromTxnResp converts a transaction's response; nested responses carry
// no header, so rev is the whole transaction's revision.
func fromTxnResp(resp *pb.TxnResponse, success, failure []kv.Op, rev int64) kv.TxnResult {
	ops := success
	if !resp.Succeeded {
		ops = failure
	}
	res := kv.TxnResult{Succeeded: resp.Succeeded, Revision: rev}
	if len(resp.Responses) > 0 {
		res.Results = make([]kv.OpResult, len(resp.Responses))
	}
	for i, r := range resp.Responses {
		switch {
		case r.GetResponseRange() != nil:
			rr := r.GetResponseRange()
			keysOnly := i < len(ops) && ops[i].KeysOnly
			if len(rr.Kvs) > 0 {
				res.Results[i].KVs = make([]kv.KeyValue, len(rr.Kvs))
				for j, x := range rr.Kvs {
					res.Results[i].KVs[j] = fromKV(x, keysOnly)
				}
			}
		case r.GetResponseDeleteRange() != nil:
			res.Results[i].Deleted = r.GetResponseDeleteRange().Deleted
		case r.GetResponseTxn() != nil:
			var t kv.TxnRequest
			if i < len(ops) && ops[i].Txn != nil {
				t = *ops[i].Txn
			}
			nested := fromTxnResp(r.GetResponseTxn(), t.Success, t.Failure, rev)
			res.Results[i].Txn = &nested
		}
	}
	return res
}

// Compact compacts etcd's history at rev (physically, so that the
// compaction is complete when Compact returns).
func (s *Store) Compact(ctx context.Context, rev int64) error {
	if err := s.checkOpen("compact"); err != nil {
		return err
	}
	if _, err := s.c.Compact(ctx, rev, clientv3.WithCompactPhysical()); err != nil {
		return mapErr(fmt.Sprintf("compact at %d", rev), err)
	}
	return nil
}

// Close revokes the leases the store granted (their keys vanish at once),
// ends its watches with kv.ErrClosed and, for a store from Open (or with
// WithCloseClient), closes the client. Closing twice is harmless.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	s.mu.Lock()
	leases := make([]*lease, 0, len(s.leases))
	for _, l := range s.leases {
		leases = append(leases, l)
	}
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var errs []error
	for _, l := range leases {
		if err := l.revoke(ctx); err != nil && !errors.Is(err, kv.ErrLeaseNotFound) {
			errs = append(errs, err)
		}
		l.markLost() // no longer kept alive, even if the revoke failed
	}
	s.cancel()
	if s.opts.closeClient {
		if err := s.c.Close(); err != nil && !errors.Is(err, context.Canceled) {
			errs = append(errs, fmt.Errorf("etcd: closing the client: %w", err))
		}
	}
	return errors.Join(errs...)
}

func toCmps(cmps []kv.Compare) []clientv3.Cmp {
	out := make([]clientv3.Cmp, len(cmps))
	for i := range cmps {
		out[i] = toCmp(&cmps[i])
	}
	return out
}

func toCmp(c *kv.Compare) clientv3.Cmp {
	pc := &pb.Compare{Key: c.Key, RangeEnd: c.RangeEnd}
	switch c.Result {
	case kv.Equal:
		pc.Result = pb.Compare_EQUAL
	case kv.NotEqual:
		pc.Result = pb.Compare_NOT_EQUAL
	case kv.Less:
		pc.Result = pb.Compare_LESS
	case kv.Greater:
		pc.Result = pb.Compare_GREATER
	}
	switch c.Target {
	case kv.Version:
		pc.Target = pb.Compare_VERSION
		pc.TargetUnion = &pb.Compare_Version{Version: c.Number}
	case kv.Create:
		pc.Target = pb.Compare_CREATE
		pc.TargetUnion = &pb.Compare_CreateRevision{CreateRevision: c.Number}
	case kv.Mod:
		pc.Target = pb.Compare_MOD
		pc.TargetUnion = &pb.Compare_ModRevision{ModRevision: c.Number}
	case kv.Value:
		pc.Target = pb.Compare_VALUE
		pc.TargetUnion = &pb.Compare_Value{Value: c.Bytes}
	}
	return clientv3.FromCompare(pc)
}

func toOps(ops []kv.Op) []clientv3.Op {
	out := make([]clientv3.Op, len(ops))
	for i := range ops {
		o := &ops[i]
		var opts []clientv3.OpOption
		if len(o.RangeEnd) > 0 {
			opts = append(opts, clientv3.WithRange(string(o.RangeEnd)))
		}
		switch o.Type {
		case kv.OpRange:
			if o.KeysOnly {
				opts = append(opts, clientv3.WithKeysOnly())
			}
			if o.Revision > 0 {
				opts = append(opts, clientv3.WithRev(o.Revision))
			}
			out[i] = clientv3.OpGet(string(o.Key), opts...)
		case kv.OpPut:
			// Lease 0 is a put without lease, which detaches any lease.
			out[i] = clientv3.OpPut(string(o.Key), string(o.Value), clientv3.WithLease(clientv3.LeaseID(o.Lease)))
		case kv.OpDelete:
			out[i] = clientv3.OpDelete(string(o.Key), opts...)
		case kv.OpTxn:
			var t kv.TxnRequest
			if o.Txn != nil {
				t = *o.Txn
			}
			out[i] = clientv3.OpTxn(toCmps(t.Compares), toOps(t.Success), toOps(t.Failure))
		}
	}
	return out
}

// fromKV converts an etcd key-value; values of full reads are non-nil even
// when empty (the wire drops empty bytes), as the memory store's.
func fromKV(x *mvccpb.KeyValue, keysOnly bool) kv.KeyValue {
	out := kv.KeyValue{
		Key:            x.Key,
		CreateRevision: x.CreateRevision,
		ModRevision:    x.ModRevision,
		Version:        x.Version,
		Lease:          kv.LeaseID(x.Lease),
	}
	if !keysOnly {
		out.Value = x.Value
		if out.Value == nil {
			out.Value = []byte{}
		}
	}
	return out
}

// sentinels maps etcd's request errors onto kv's.
var sentinels = []struct{ etcd, kv error }{
	{rpctypes.ErrTooManyOps, kv.ErrTooManyOps},
	{rpctypes.ErrCompacted, kv.ErrCompacted},
	{rpctypes.ErrFutureRev, kv.ErrFutureRevision},
	{rpctypes.ErrLeaseNotFound, kv.ErrLeaseNotFound},
	{rpctypes.ErrDuplicateKey, kv.ErrDuplicateKey},
	{rpctypes.ErrEmptyKey, kv.ErrEmptyKey},
}

// unavailable lists etcd errors meaning the cluster could not serve the
// request (no leader, timeouts, a stopping member).
var unavailable = []error{
	rpctypes.ErrNoLeader, rpctypes.ErrLeaderChanged, rpctypes.ErrStopped, rpctypes.ErrTimeout,
	rpctypes.ErrTimeoutDueToLeaderFail, rpctypes.ErrTimeoutDueToConnectionLost,
	rpctypes.ErrTimeoutWaitAppliedIndex, rpctypes.ErrUnhealthy, rpctypes.ErrNotCapable,
	clientv3.ErrNoAvailableEndpoints, context.DeadlineExceeded,
}

// mapErr wraps an etcd error with what failed, adding the matching kv
// sentinel (both stay reachable through errors.Is).
func mapErr(what string, err error) error {
	err = rpctypes.Error(err) // gRPC status errors → etcd's comparable errors
	for _, m := range sentinels {
		if errors.Is(err, m.etcd) {
			return fmt.Errorf("etcd: %s: %w (%w)", what, m.kv, err)
		}
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("etcd: %s: %w", what, err)
	}
	isUnavailable := false
	for _, u := range unavailable {
		if errors.Is(err, u) {
			isUnavailable = true
			break
		}
	}
	if !isUnavailable {
		var coded interface{ Code() codes.Code }
		if errors.As(err, &coded) {
			isUnavailable = coded.Code() == codes.Unavailable || coded.Code() == codes.DeadlineExceeded
		} else if st, ok := status.FromError(err); ok {
			isUnavailable = st.Code() == codes.Unavailable || st.Code() == codes.DeadlineExceeded
		}
	}
	if isUnavailable {
		return fmt.Errorf("etcd: %s: %w (%w)", what, kv.ErrUnavailable, err)
	}
	return fmt.Errorf("etcd: %s: %w", what, err)
}
