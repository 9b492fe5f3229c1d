package redis

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// ErrBadSource is wrapped by Open's error for a connection string it
// cannot parse.
var ErrBadSource = errors.New("redis: invalid connection string")

// DefaultPort is the port used when a connection string gives none.
const DefaultPort = 6379

// Defaults of katsdptelstate's redis-py clients.
const (
	// DefaultSocketTimeout bounds dialling, each read and each write
	// (redis-py socket_timeout=5).
	DefaultSocketTimeout = 5 * time.Second
	// DefaultHealthCheckInterval is how long a Monitor waits in silence
	// before it pings the server (redis-py health_check_interval=30).
	DefaultHealthCheckInterval = 30 * time.Second
)

// Option configures New and Open.
type Option func(*config)

type config struct {
	db            *int
	socketTimeout time.Duration
	healthCheck   time.Duration
	tlsConfig     *tls.Config
	clientOpts    []func(*goredis.Options)
	openOnly      []string // names of Open-only options given, for New's error
}

func buildConfig(opts []Option) config {
	c := config{socketTimeout: DefaultSocketTimeout, healthCheck: DefaultHealthCheckInterval}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// WithDB selects the logical database (Open only). It overrides a database
// given in a URL, as katsdptelstate's from_url(url, db=...) does; without
// it the URL's database, or 0, is used.
func WithDB(db int) Option {
	return func(c *config) { c.db = &db; c.openOnly = append(c.openOnly, "WithDB") }
}

// WithSocketTimeout sets the dial, read and write timeout of the client
// Open creates (default DefaultSocketTimeout). Zero or negative keeps the
// default.
func WithSocketTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.socketTimeout = d
		}
		c.openOnly = append(c.openOnly, "WithSocketTimeout")
	}
}

// WithTLSConfig makes Open use TLS with this configuration (for instance
// with a private CA) for any connection string; a rediss:// URL without
// this option uses the system roots and the URL's host name.
func WithTLSConfig(cfg *tls.Config) Option {
	return func(c *config) { c.tlsConfig = cfg; c.openOnly = append(c.openOnly, "WithTLSConfig") }
}

// WithClientOptions lets Open adjust the go-redis options after it has
// filled them in, for anything the other options do not cover (pool size,
// credentials provider, ...). Changing MaxRetries adds go-redis's retries
// to this package's own.
func WithClientOptions(f func(*goredis.Options)) Option {
	return func(c *config) {
		c.clientOpts = append(c.clientOpts, f)
		c.openOnly = append(c.openOnly, "WithClientOptions")
	}
}

// WithHealthCheckInterval sets how long a Monitor may hear nothing from the
// server before it sends a PING; if that is not answered within another
// interval it subscribes again on a new connection (default
// DefaultHealthCheckInterval). Zero or negative keeps the default.
func WithHealthCheckInterval(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.healthCheck = d
		}
	}
}

// Open connects to the Redis server named by source and returns a Backend
// that owns the client (Close closes it). source is one of
//
//	redis://[user:password@]host[:port][/db][?option=value...]
//	rediss://...                       (TLS)
//	unix:///path/to/socket[?db=N]
//	host[:port]  or  [ipv6-address][:port]
//
// The URL forms accept go-redis's query options (dial_timeout,
// pool_size, ...); the last form is katsdptelstate's endpoint syntax (port
// after the last colon, default DefaultPort). Open PINGs the server (with
// one retry) and fails with an error wrapping backend.ErrConnection if it
// cannot; a source it cannot parse gives an error wrapping ErrBadSource.
func Open(ctx context.Context, source string, opts ...Option) (*Backend, error) {
	cfg := buildConfig(opts)
	o, err := clientOptions(source, cfg)
	if err != nil {
		return nil, err
	}
	client := goredis.NewClient(o)
	b, err := newBackend(ctx, client, cfg, true)
	if err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("redis: open %s: %w", redactSource(source), err)
	}
	return b, nil
}

// clientOptions parses source and applies the configuration and our
// client defaults.
func clientOptions(source string, cfg config) (*goredis.Options, error) {
	var o *goredis.Options
	if strings.Contains(source, "://") {
		var err error
		o, err = goredis.ParseURL(source)
		if err != nil {
			// url.Parse errors quote the whole URL, password included.
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			return nil, fmt.Errorf("%w %s: %w", ErrBadSource, redactSource(source), err)
		}
	} else {
		host, port, err := ParseEndpoint(source)
		if err != nil {
			return nil, err
		}
		o = &goredis.Options{Network: "tcp", Addr: net.JoinHostPort(host, strconv.Itoa(port))}
	}
	if cfg.db != nil {
		o.DB = *cfg.db
	}
	if o.DialTimeout == 0 {
		o.DialTimeout = cfg.socketTimeout
	}
	if o.ReadTimeout == 0 {
		o.ReadTimeout = cfg.socketTimeout
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = cfg.socketTimeout
	}
	if cfg.tlsConfig != nil {
		o.TLSConfig = cfg.tlsConfig
	}
	if o.Protocol == 0 {
		o.Protocol = 2 // as redis-py; works with servers that lack HELLO
	}
	// Our retry policy only (see the package doc): no command retries,
	// and one dial per attempt instead of go-redis's five.
	o.MaxRetries = -1
	o.DialerRetries = 1
	o.ContextTimeoutEnabled = true
	o.DisableIdentity = true // no CLIENT SETINFO on every new connection
	for _, f := range cfg.clientOpts {
		f(o)
	}
	return o, nil
}

// ParseEndpoint parses katsdptelstate's endpoint syntax "host[:port]": the
// port follows the last colon, and an IPv6 address must be written in
// brackets ("[::1]:6379", "[fe80::1%eth0]"). Without a port it returns
// DefaultPort; an empty host means "localhost", as for redis-py.
func ParseEndpoint(text string) (host string, port int, err error) {
	bad := func(why string) (string, int, error) {
		return "", 0, fmt.Errorf("%w %q: %s", ErrBadSource, text, why)
	}
	portText := ""
	if rest, ok := strings.CutPrefix(text, "["); ok {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return bad("missing ']'")
		}
		host = rest[:end]
		addr, err := netip.ParseAddr(host)
		if err != nil || !addr.Is6() {
			return bad("the bracketed host is not an IPv6 address")
		}
		switch after := rest[end+1:]; {
		case after == "":
		case after[0] == ':':
			portText = after[1:]
			if portText == "" {
				return bad("empty port")
			}
		default:
			return bad("unexpected text after ']'")
		}
	} else {
		i := strings.LastIndexByte(text, ':')
		if i < 0 {
			host = text
		} else {
			host, portText = text[:i], text[i+1:]
			if strings.Contains(host, ":") {
				return bad("an IPv6 address must be in brackets, as in [::1]:6379")
			}
			if portText == "" {
				return bad("empty port")
			}
		}
	}
	if host == "" {
		host = "localhost"
	}
	port = DefaultPort
	if portText != "" {
		port, err = strconv.Atoi(strings.TrimSpace(portText))
		if err != nil || port <= 0 || port > 65535 {
			return bad("invalid port " + strconv.Quote(portText))
		}
	}
	return host, port, nil
}

// redactSource returns source fit for an error message: a URL with its
// password replaced by "xxxxx".
func redactSource(source string) string {
	if !strings.Contains(source, "://") {
		return strconv.Quote(source)
	}
	u, err := url.Parse(source)
	if err != nil {
		return "(unparsable URL)"
	}
	return strconv.Quote(u.Redacted())
}
