package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sdpkit/sdpkit/config"
	"github.com/sdpkit/sdpkit/config/etcd"
	"github.com/sdpkit/sdpkit/config/kv"
	"github.com/sdpkit/sdpkit/config/memory"
	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/pyval/pyjson"
)

// configOpts are the flags shared by every `sdp config` subcommand.
type configOpts struct {
	env *rootConfig

	backend, host, port, protocol, cert string
	username, password                  string
	endpoints                           string
	prefix                              string
	json                                bool
	timeout                             time.Duration
}

func newConfigCmd(rc *rootConfig) *cobra.Command {
	o := &configOpts{env: rc}
	c := &cobra.Command{
		Use:   "config",
		Short: "Query and edit the SDP configuration database (ska-sdp-compatible)",
		Long: `Query and edit the SDP configuration database in etcd, as ska-sdp-config's
ska-sdp command does.

The connection comes from flags, else from ska-sdp's environment variables:
  --backend   SDP_CONFIG_BACKEND   etcd3 (default) or memory
  --host      SDP_CONFIG_HOST      default 127.0.0.1
  --port      SDP_CONFIG_PORT      default 2379
  --protocol  SDP_CONFIG_PROTOCOL  http (default) or https
  --cert      SDP_CONFIG_CERT      PEM file for https: certificate + key (client
                                   certificate) or certificates (CAs to trust)
  --username  SDP_CONFIG_USERNAME
  --password  SDP_CONFIG_PASSWORD
  --endpoints (none)               comma-separated URLs, instead of host/port
--prefix places every path under a global prefix (such as /sdp).

Paths look like /pb/pb-1/state. Besides the path-based commands below, the
ska-sdp 0.3.2 forms work unchanged: list -a, list pb|workflow|deployment|sbi|
master|subarray, get|watch pb ID, create pb|deployment|workflow|sbi …,
update|edit workflow|sbi|deployment|pb-state|master|subarray …,
delete [-a] pb|workflow|sbi|deployment …, import workflows [--sync] FILE.
See docs/config-cli.md.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return c.Help()
			}
			// ska-sdp answers an unknown command on stdout with status 0.
			fmt.Fprintf(c.OutOrStdout(), "Command '%s' is not supported. Run 'ska-sdp --help' to view usage.\n", args[0])
			fmt.Fprintf(c.ErrOrStderr(), "(sdp: run 'sdp config --help' for the commands)\n")
			return nil
		},
	}
	f := c.PersistentFlags()
	o.addConnFlags(f)
	f.BoolVar(&o.json, "json", false, "print JSON for machines")
	f.DurationVar(&o.timeout, "timeout", 10*time.Second, "give up connecting, and any command but watch, after this long")
	c.AddCommand(cfgLsCmd(o), cfgListCmd(o), cfgGetCmd(o, false), cfgGetCmd(o, true),
		cfgCreateCmd(o), cfgUpdateCmd(o), cfgEditCmd(o), cfgDeleteCmd(o), cfgImportCmd(o))
	return c
}

// addConnFlags defines the flags that say how to reach the configuration
// database; every command that connects to it (sdp config, sdp connector
// run) takes the same ones, with ska-sdp's environment variables behind
// them.
func (o *configOpts) addConnFlags(f *pflag.FlagSet) {
	f.StringVar(&o.backend, "backend", "", "backend: etcd3 or memory (default $SDP_CONFIG_BACKEND, else etcd3)")
	f.StringVar(&o.host, "host", "", "etcd host (default $SDP_CONFIG_HOST, else 127.0.0.1)")
	f.StringVar(&o.port, "port", "", "etcd client port (default $SDP_CONFIG_PORT, else 2379)")
	f.StringVar(&o.protocol, "protocol", "", "http or https (default $SDP_CONFIG_PROTOCOL, else http)")
	f.StringVar(&o.cert, "cert", "", "PEM file for https: client certificate with key, or CA certificates (default $SDP_CONFIG_CERT)")
	f.StringVar(&o.username, "username", "", "etcd user (default $SDP_CONFIG_USERNAME)")
	f.StringVar(&o.password, "password", "", "etcd password (default $SDP_CONFIG_PASSWORD)")
	f.StringVar(&o.endpoints, "endpoints", "", "comma-separated etcd URLs (overrides host, port and protocol)")
	f.StringVar(&o.prefix, "prefix", "", "global prefix of every path, such as /sdp")
}

// setting returns a flag's value if given, else the environment
// variable's, else def.
func (o *configOpts) setting(flag, env, def string) string {
	if flag != "" {
		return flag
	}
	if v := o.env.getenv(env); v != "" {
		return v
	}
	return def
}

// open connects to the configuration database.
func (o *configOpts) open(ctx context.Context) (*config.Config, error) {
	var opts []config.Option
	if o.prefix != "" {
		if err := config.CheckKeyPath(o.prefix); err != nil {
			return nil, usageError{fmt.Errorf("--prefix: %w", err)}
		}
		opts = append(opts, config.WithGlobalPrefix(o.prefix))
	}
	var store kv.KV
	switch backend := o.setting(o.backend, "SDP_CONFIG_BACKEND", "etcd3"); backend {
	case "memory":
		if o.env.memory != nil {
			store = nopClose{o.env.memory}
		} else {
			store = memory.New()
		}
	case "etcd3", "etcd":
		s, err := o.openEtcd(ctx)
		if err != nil {
			return nil, err
		}
		store = s
	default:
		return nil, usageError{fmt.Errorf("Unknown configuration backend %s! (want etcd3 or memory)", backend)}
	}
	return config.New(store, opts...)
}

func (o *configOpts) openEtcd(ctx context.Context) (kv.KV, error) {
	proto := o.setting(o.protocol, "SDP_CONFIG_PROTOCOL", "http")
	var eps []string
	if o.endpoints != "" {
		for _, e := range strings.Split(o.endpoints, ",") {
			if e = strings.TrimSpace(e); e != "" {
				eps = append(eps, e)
			}
		}
	} else {
		host := o.setting(o.host, "SDP_CONFIG_HOST", "127.0.0.1")
		port := o.setting(o.port, "SDP_CONFIG_PORT", "2379")
		if _, err := strconv.Atoi(port); err != nil {
			return nil, usageError{fmt.Errorf("etcd port %q is not a number", port)}
		}
		eps = []string{proto + "://" + joinHostPort(host, port)}
	}
	var eopts []etcd.Option
	if u := o.setting(o.username, "SDP_CONFIG_USERNAME", ""); u != "" {
		eopts = append(eopts, etcd.WithAuth(u, o.setting(o.password, "SDP_CONFIG_PASSWORD", "")))
	}
	if proto == "https" || strings.HasPrefix(eps[0], "https://") {
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if certFile := o.setting(o.cert, "SDP_CONFIG_CERT", ""); certFile != "" {
			pem, err := os.ReadFile(certFile)
			if err != nil {
				return nil, fmt.Errorf("reading certificate: %w", err)
			}
			// A file with a certificate and its key is a client
			// certificate (0.3.2's etcd3-py cert); certificates alone
			// are the CAs to trust.
			if pair, err := tls.X509KeyPair(pem, pem); err == nil {
				tc.Certificates = []tls.Certificate{pair}
			} else {
				pool := x509.NewCertPool()
				if !pool.AppendCertsFromPEM(pem) {
					return nil, fmt.Errorf("certificate %s: no PEM certificate found", certFile)
				}
				tc.RootCAs = pool
			}
		}
		eopts = append(eopts, etcd.WithTLS(tc))
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	s, err := etcd.Open(ctx, eps, append(eopts, etcd.WithDialTimeout(o.timeout))...)
	if err != nil {
		return nil, fmt.Errorf("connecting to etcd at %s: %w", strings.Join(eps, ","), err)
	}
	return s, nil
}

func joinHostPort(host, port string) string {
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
		return "[" + host + "]:" + port
	}
	return host + ":" + port
}

// nopClose shares a store between runs (tests of the memory backend).
type nopClose struct{ kv.KV }

func (nopClose) Close() error { return nil }

// session is an open database for one command.
type cfgSession struct {
	cfg *config.Config
	db  *config.DB
	o   *configOpts
	out io.Writer
}

// withDB opens the database, runs f and closes it.
func (o *configOpts) withDB(c *cobra.Command, f func(s *cfgSession) error) error {
	ctx, cancel := context.WithTimeout(c.Context(), o.timeout)
	defer cancel()
	c.SetContext(ctx) // bounds every request the command makes
	cfg, err := o.open(ctx)
	if err != nil {
		return err
	}
	defer cfg.Close()
	return pyErrors(f(&cfgSession{cfg: cfg, db: cfg.DB(), o: o, out: c.OutOrStdout()}))
}

// full turns a user path into a database path (global prefix added).
func (s *cfgSession) full(p string) string { return s.cfg.Path(p) }

// rel turns a database path into what the user sees (prefix removed).
func (s *cfgSession) rel(p string) string {
	if pre := s.cfg.GlobalPrefix(); pre != "" {
		if r, ok := strings.CutPrefix(p, pre); ok && (r == "" || r[0] == '/') {
			if r == "" {
				return "/"
			}
			return r
		}
	}
	return p
}

// pyError shows a database error as ska-sdp's exception does
// ("ConfigVanished: Cannot update /x, as it does not exist!").
type pyError struct{ err error }

func (e pyError) Error() string {
	var ce *config.CollisionError
	var ve *config.VanishedError
	switch {
	case errors.As(e.err, &ce):
		return "ConfigCollision: " + ce.PyMessage()
	case errors.As(e.err, &ve):
		return "ConfigVanished: " + ve.PyMessage()
	}
	return e.err.Error()
}

func (e pyError) Unwrap() error { return e.err }

func pyErrors(err error) error {
	if errors.Is(err, config.ErrCollision) || errors.Is(err, config.ErrVanished) {
		return pyError{err}
	}
	return err
}

// parseCLIValue turns a VALUE argument into stored bytes: a YAML or JSON
// mapping or sequence is stored as Python's dict_to_json writes it;
// anything else (a scalar, or text that is not YAML) verbatim. raw
// stores every value verbatim.
func parseCLIValue(arg string, raw bool) []byte {
	if raw {
		return []byte(arg)
	}
	v, err := pyjson.FromYAML([]byte(arg))
	if err != nil {
		return []byte(arg)
	}
	switch v.(type) {
	case *pyval.Dict, pyval.List:
		if b, err := pyjson.Canonical(v); err == nil {
			return b
		}
	}
	return []byte(arg)
}

// printJSON writes v as one line of JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// value renders a stored value for printing: its text, "None" if missing.
func valueText(v []byte) string {
	if v == nil {
		return "None"
	}
	return string(v)
}

func jsonValue(v []byte) any {
	if v == nil {
		return nil
	}
	return string(v)
}

// maxRecurse is the deepest listing below depth d in one request.
func maxRecurse(d int) int { return max(config.MaxWriteDepth-d, 0) }

// printListing prints keys (and values) as ska-sdp's list does, or as
// JSON: an array of paths, or with values an object path → value text.
func (s *cfgSession) printListing(header string, entries []config.Entry, values, quiet bool) error {
	if s.o.json {
		if values {
			m := map[string]any{}
			for _, e := range entries {
				m[s.rel(e.Path)] = string(e.Value)
			}
			return printJSON(s.out, m) // encoding/json sorts the keys
		}
		keys := make([]string, 0, len(entries))
		for _, e := range entries {
			keys = append(keys, s.rel(e.Path))
		}
		return printJSON(s.out, keys)
	}
	w := bufio.NewWriter(s.out)
	if !quiet {
		fmt.Fprintf(w, "%s\n", header)
	}
	for _, e := range entries {
		switch {
		case values && quiet:
			fmt.Fprintf(w, "%s\n", e.Value)
		case values:
			fmt.Fprintf(w, "%s = %s\n", s.rel(e.Path), e.Value)
		default:
			fmt.Fprintf(w, "%s\n", s.rel(e.Path))
		}
	}
	return w.Flush()
}

func cfgLsCmd(o *configOpts) *cobra.Command {
	var recursive, values, quiet bool
	c := &cobra.Command{
		Use:   "ls [-R] [-v] [PATH]",
		Short: "List the keys below PATH (default /); -R at every depth, -v with values",
		Long: `List the keys directly below PATH (a trailing / is implied), or with -R
every key below it. -v prints "key = value"; -q leaves out the header (and
with -v the keys). --json prints an array of paths, or with -v an object
mapping each path to its stored text (which import reads back unchanged).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			p := "/"
			if len(args) == 1 {
				p = args[0]
			}
			if err := config.CheckPath(p); err != nil {
				return usageError{err}
			}
			if !strings.HasSuffix(p, "/") {
				p += "/"
			}
			return o.withDB(c, func(s *cfgSession) error {
				full := s.full(p)
				opts := []config.ListOption{}
				if recursive {
					opts = append(opts, config.Recurse(maxRecurse(config.Depth(full))))
				}
				entries, _, err := s.db.List(c.Context(), full, opts...)
				if err != nil {
					return err
				}
				return s.printListing("Keys with prefix "+p+": ", entries, values, quiet)
			})
		},
	}
	c.Flags().BoolVarP(&recursive, "recursive", "R", false, "list every depth below PATH")
	c.Flags().BoolVarP(&values, "values", "v", false, "print values too")
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "no header; with -v only the values")
	return c
}

func cfgCreateCmd(o *configOpts) *cobra.Command {
	var raw bool
	c := &cobra.Command{
		Use:   "create PATH VALUE",
		Short: "Create a key (fails if it exists)",
		Long: `Create a key. VALUE is YAML or JSON: a mapping or a list is stored as
ska-sdp-config stores entities (sorted keys, two-space indent); a scalar or
other text is stored verbatim (--raw: always verbatim).

ska-sdp forms: create pb TYPE:ID:VERSION [PARAMS], create deployment ID TYPE
PARAMS, create workflow|sbi ID VALUE.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if obj, ok := objectOf(args[0]); ok {
				return o.compatCreate(c, obj, args[1:])
			}
			if len(args) != 2 {
				return usageError{fmt.Errorf("want PATH VALUE, got %d arguments", len(args))}
			}
			if err := config.CheckKeyPath(args[0]); err != nil {
				return usageError{err}
			}
			return o.withDB(c, func(s *cfgSession) error {
				if err := s.db.Create(c.Context(), s.full(args[0]), parseCLIValue(args[1], raw), 0); err != nil {
					return err
				}
				return s.done(args[0], "created", "%s created\n")
			})
		},
	}
	c.Flags().BoolVar(&raw, "raw", false, "store VALUE verbatim")
	return c
}

// done reports a change: "<path> created" or {"key":…, "action":…}.
func (s *cfgSession) done(path, action, human string) error {
	if s.o.json {
		return printJSON(s.out, map[string]string{"key": path, "action": action})
	}
	_, err := fmt.Fprintf(s.out, human, path)
	return err
}

func cfgUpdateCmd(o *configOpts) *cobra.Command {
	var raw bool
	c := &cobra.Command{
		Use:   "update PATH VALUE",
		Short: "Replace the value of an existing key",
		Long: `Replace the value of an existing key (an error if it does not exist).
VALUE as for create.

ska-sdp forms: update workflow|sbi|deployment ID VALUE, update pb-state
PB_ID VALUE, update master VALUE, update subarray N VALUE (values verbatim).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if obj, ok := objectOf(args[0]); ok {
				key, rest, err := compatKey(obj, args[1:], "update")
				if err != nil {
					return err
				}
				if len(rest) != 1 {
					return usageError{fmt.Errorf("update %s: want a VALUE", obj.name)}
				}
				return o.withDB(c, func(s *cfgSession) error {
					if err := s.db.Update(c.Context(), s.full(key), []byte(rest[0])); err != nil {
						return err
					}
					return s.done(key, "updated", "%s updated.\n")
				})
			}
			if len(args) != 2 {
				return usageError{fmt.Errorf("want PATH VALUE, got %d arguments", len(args))}
			}
			if err := config.CheckKeyPath(args[0]); err != nil {
				return usageError{err}
			}
			return o.withDB(c, func(s *cfgSession) error {
				if err := s.db.Update(c.Context(), s.full(args[0]), parseCLIValue(args[1], raw)); err != nil {
					return err
				}
				return s.done(args[0], "updated", "%s updated.\n")
			})
		},
	}
	c.Flags().BoolVar(&raw, "raw", false, "store VALUE verbatim")
	return c
}

// confirm asks on stderr and reads the answer from stdin; yes and y
// agree. No answer (end of input) is a refusal.
func confirm(c *cobra.Command, question string) (bool, error) {
	fmt.Fprintf(c.ErrOrStderr(), "%s (yes, no) ", question)
	line, err := bufio.NewReader(c.InOrStdin()).ReadString('\n')
	if err != nil && line == "" {
		return false, errors.New("no confirmation on stdin (pass --yes to delete without asking)")
	}
	ans := strings.ToLower(strings.TrimSpace(line))
	return ans == "yes" || ans == "y", nil
}

func cfgDeleteCmd(o *configOpts) *cobra.Command {
	var recursive, all, yes, quiet bool
	c := &cobra.Command{
		Use:   "delete [-R] PATH",
		Short: "Delete a key (with -R also every key below it)",
		Long: `Delete the key PATH, or with -R the key and every key below it — never
same-level siblings (deleting /deploy/d1 leaves /deploy/d10 alone, unlike
ska-sdp 0.3.2). A recursive delete asks "Continue? (yes, no)" on stderr and
reads the answer from stdin unless --yes is given; without an answer
(stdin at end of input) nothing is deleted. Deleted keys are printed, then
"Deleted above keys with prefix PATH." (-q: only that line).

ska-sdp forms: delete pb|sbi|deployment ID, delete workflow TYPE:ID:VERSION
(no question; a missing entity deletes nothing), delete -a
pb|workflow|sbi|deployment|prefix (asks first).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if obj, ok := objectOf(args[0]); ok || (all && args[0] == "prefix") {
				if args[0] == "prefix" {
					obj = object{name: "prefix", path: ""}
				}
				return o.compatDelete(c, obj, args[1:], all, yes, quiet)
			}
			if len(args) != 1 {
				return usageError{fmt.Errorf("want one PATH, got %d arguments", len(args))}
			}
			p := args[0]
			if err := config.CheckKeyPath(p); err != nil {
				return usageError{err}
			}
			if recursive && !yes {
				ok, err := confirm(c, "Continue?")
				if err != nil || !ok {
					if err == nil {
						err = errors.New("not confirmed; nothing deleted")
					}
					return err
				}
			}
			return o.withDB(c, func(s *cfgSession) error {
				return s.deleteTree(c.Context(), p, recursive, !recursive, quiet)
			})
		},
	}
	c.Flags().BoolVarP(&recursive, "recursive", "R", false, "also delete every key below PATH")
	c.Flags().BoolVarP(&all, "all", "a", false, "ska-sdp: delete every entity of a type")
	c.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "do not print the deleted keys")
	return c
}

// deleteTree deletes p (and with below the keys under it) in one store
// transaction, printing what it deletes. mustExist makes a missing key
// an error.
func (s *cfgSession) deleteTree(ctx context.Context, p string, below, mustExist, quiet bool) error {
	full := s.full(p)
	var keys []string
	if v, _, err := s.db.Get(ctx, full, 0); err != nil {
		return err
	} else if v != nil {
		keys = append(keys, full)
	}
	if below {
		under, _, err := s.db.ListKeys(ctx, full+"/", config.Recurse(maxRecurse(config.Depth(full)+1)))
		if err != nil {
			return err
		}
		keys = append(keys, under...)
	}
	opts := []config.DeleteOption{}
	if !mustExist {
		opts = append(opts, config.AllowMissing())
	}
	if below {
		opts = append(opts, config.Recursive())
	}
	if len(keys) > 0 || mustExist {
		if err := s.db.Delete(ctx, full, opts...); err != nil {
			return err
		}
	}
	sort.Strings(keys)
	if s.o.json {
		rel := make([]string, len(keys))
		for i, k := range keys {
			rel[i] = s.rel(k)
		}
		return printJSON(s.out, map[string]any{"prefix": p, "deleted": rel})
	}
	w := bufio.NewWriter(s.out)
	if !quiet {
		for _, k := range keys {
			fmt.Fprintf(w, "%s\n", s.rel(k))
		}
	}
	fmt.Fprintf(w, "Deleted above keys with prefix %s.\n", p)
	return w.Flush()
}
