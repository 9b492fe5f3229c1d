package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/pyval/tagjson"
	"github.com/sdpkit/sdpkit/telstate"
	"github.com/sdpkit/sdpkit/telstate/backend"
	"github.com/sdpkit/sdpkit/telstate/encoding"
	"github.com/sdpkit/sdpkit/telstate/redis"
)

// telstateOpts are the flags shared by every `sdp telstate` subcommand.
type telstateOpts struct {
	db          string
	json        bool
	allowPickle bool
}

func newTelstateCmd() *cobra.Command {
	o := &telstateOpts{}
	c := &cobra.Command{
		Use:   "telstate",
		Short: "Query and edit telescope state (katsdptelstate-compatible)",
		Long: `Query and edit a telescope state.

--db SOURCE names the database:
  - a path to an .rdb file: loaded into memory; commands that change data
    write the file back, creating it if missing;
  - a Redis server shared with katsdptelstate clients: redis://[user:pass@]host:port/db,
    rediss://... (TLS), unix:///path/to/socket?db=N, or katsdptelstate's
    host[:port] endpoint (port 6379 by default).

Values are given and printed as JSON in sdpkit's tagged rendering
({"int": "5"}, {"float": "1.5"}, {"str": "x"}, {"tuple": [...]}, ...); plain
JSON numbers, strings and arrays are accepted too. Human-readable output is
the default; --json prints the rendering.`,
	}
	c.PersistentFlags().StringVar(&o.db, "db", os.Getenv("SDP_TELSTATE_DB"), "database: an .rdb file or a Redis URL / host:port (default $SDP_TELSTATE_DB)")
	c.PersistentFlags().BoolVar(&o.json, "json", false, "print JSON for machines")
	c.PersistentFlags().BoolVar(&o.allowPickle, "allow-pickle", false, "decode legacy pickled values (also KATSDPTELSTATE_ALLOW_PICKLE=1); only for data you trust")
	c.AddCommand(
		tsKeysCmd(o), tsGetCmd(o), tsRangeCmd(o), tsSetCmd(o), tsAddCmd(o),
		tsSetIndexedCmd(o), tsGetIndexedCmd(o), tsDeleteCmd(o),
		tsExportCmd(o), tsImportCmd(o), tsDumpCmd(o), tsCopyCmd(o),
	)
	return c
}

// session is an open telescope state and how to save it.
type session struct {
	ts     *telstate.TelescopeState
	path   string // the .rdb file to write back; "" for Redis
	stderr io.Writer
	closer io.Closer
}

// Close releases a Redis connection.
func (s *session) Close() error {
	if s.closer != nil {
		return s.closer.Close()
	}
	return nil
}

// isRedisSource reports whether a --db value names a Redis server rather
// than an .rdb file.
func isRedisSource(src string) bool {
	return strings.Contains(src, "://") || looksLikeEndpoint(src)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// open opens the --db source. A missing .rdb file is an empty database
// when create is true.
func (o *telstateOpts) open(ctx context.Context, c *cobra.Command, create bool) (*session, error) {
	if o.db == "" {
		return nil, usageError{errors.New("no database: give --db FILE.rdb or --db redis://host:port (or set SDP_TELSTATE_DB)")}
	}
	s, err := openSource(ctx, o.db, create, o.allowPickle, c.ErrOrStderr())
	if err != nil {
		return nil, err
	}
	return s, nil
}

// openSource opens an .rdb file (into memory) or a Redis server.
func openSource(ctx context.Context, src string, create, allowPickle bool, stderr io.Writer) (*session, error) {
	var opts []telstate.Option
	if allowPickle {
		opts = append(opts, telstate.WithAllowPickle(true))
	}
	if isRedisSource(src) {
		b, err := redis.Open(ctx, src)
		if err != nil {
			return nil, err
		}
		return &session{ts: telstate.New(append(opts, telstate.WithBackend(b))...), stderr: stderr, closer: b}, nil
	}
	s := &session{ts: telstate.New(opts...), path: src, stderr: stderr}
	f, err := os.Open(src)
	if errors.Is(err, fs.ErrNotExist) && create {
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if st, err := f.Stat(); err == nil && isTerminal(s.stderr) && st.Size() > 1<<20 {
		bar := progressbar.DefaultBytes(st.Size(), "loading "+src)
		defer bar.Close()
		r = io.TeeReader(f, bar)
	}
	if _, err := s.ts.LoadRDB(ctx, r); err != nil {
		return nil, fmt.Errorf("loading %s: %w", src, err)
	}
	return s, nil
}

// looksLikeEndpoint reports katsdptelstate's host:port form.
func looksLikeEndpoint(s string) bool {
	i := strings.LastIndexByte(s, ':')
	if i <= 0 || strings.ContainsAny(s, "/\\") {
		return false
	}
	_, err := strconv.Atoi(s[i+1:])
	return err == nil
}

// save writes the database back to its .rdb file (Redis needs nothing).
func (s *session) save(ctx context.Context) error {
	if s.path == "" {
		return nil
	}
	return writeRDBFile(ctx, s.ts, s.path, s.stderr)
}

// writeRDBFile writes ts to path through a temporary file, so a failed
// write never leaves a truncated database.
func writeRDBFile(ctx context.Context, ts *telstate.TelescopeState, path string, stderr io.Writer) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	var w io.Writer = f
	var bar *progressbar.ProgressBar
	if isTerminal(stderr) {
		bar = progressbar.DefaultBytes(-1, "writing "+path)
		w = io.MultiWriter(f, bar)
	}
	_, err = ts.WriteRDB(ctx, w)
	if bar != nil {
		_ = bar.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return os.Rename(tmp, path)
}

func parseValueArg(arg, what string) (pyval.Value, error) {
	v, err := tagjson.Parse([]byte(arg))
	if err != nil {
		return nil, usageError{fmt.Errorf("%s %q: %w", what, arg, err)}
	}
	return v, nil
}

func parseTime(s, flag string) (float64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, usageError{fmt.Errorf("--%s %q: want seconds since the epoch", flag, s)}
	}
	return f, nil
}

func (o *telstateOpts) printValue(w io.Writer, v pyval.Value) error {
	if o.json {
		out, err := tagjson.Render(v)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", out)
		return err
	}
	_, err := fmt.Fprintln(w, pyval.Repr(v))
	return err
}

func tsKeysCmd(o *telstateOpts) *cobra.Command {
	return &cobra.Command{
		Use:   "keys [PATTERN]",
		Short: "List keys matching a Redis glob pattern (default *), sorted",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			s, err := o.open(c.Context(), c, false)
			if err != nil {
				return err
			}
			defer s.Close()
			pattern := "*"
			if len(args) == 1 {
				pattern = args[0]
			}
			keys, err := s.ts.Keys(c.Context(), pattern)
			if err != nil {
				return err
			}
			w := c.OutOrStdout()
			if o.json {
				if keys == nil {
					keys = []string{}
				}
				return json.NewEncoder(w).Encode(keys)
			}
			for _, k := range keys {
				kt, err := s.ts.KeyType(c.Context(), k)
				if err != nil {
					return err
				}
				fmt.Fprintf(w, "%-9s  %s\n", strings.ToLower(kt.String()), k)
			}
			return nil
		},
	}
}

func tsGetCmd(o *telstateOpts) *cobra.Command {
	return &cobra.Command{
		Use:   "get KEY",
		Short: "Print a key's value (a sensor's latest value; an indexed key's dict)",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			s, err := o.open(c.Context(), c, false)
			if err != nil {
				return err
			}
			defer s.Close()
			v, err := s.ts.Get(c.Context(), args[0])
			if err != nil {
				return err
			}
			return o.printValue(c.OutOrStdout(), v)
		},
	}
}

func tsRangeCmd(o *telstateOpts) *cobra.Command {
	var start, end string
	var includePrevious, includeEnd bool
	c := &cobra.Command{
		Use:   "range KEY",
		Short: "Print a sensor's samples between --start and --end (katsdptelstate get_range)",
		Long: `Print a sensor's samples with start <= t < end (t <= end with --include-end).

Without --start, only the latest sample before --end is printed (as Python's
get_range); --include-previous adds the newest sample before --start.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			var opts []telstate.RangeOption
			if start != "" {
				t, err := parseTime(start, "start")
				if err != nil {
					return err
				}
				opts = append(opts, telstate.Start(t))
			}
			if end != "" {
				t, err := parseTime(end, "end")
				if err != nil {
					return err
				}
				opts = append(opts, telstate.End(t))
			}
			if c.Flags().Changed("include-previous") {
				opts = append(opts, telstate.IncludePrevious(includePrevious))
			}
			if includeEnd {
				opts = append(opts, telstate.IncludeEnd())
			}
			s, err := o.open(c.Context(), c, false)
			if err != nil {
				return err
			}
			defer s.Close()
			samples, err := s.ts.GetRange(c.Context(), args[0], opts...)
			if err != nil {
				return err
			}
			w := c.OutOrStdout()
			if o.json {
				var buf bytes.Buffer
				buf.WriteString("[")
				for i, smp := range samples {
					out, err := tagjson.Render(smp.Value)
					if err != nil {
						return err
					}
					if i > 0 {
						buf.WriteString(",\n ")
					}
					fmt.Fprintf(&buf, `{"ts": %s, "value": %s}`, pyval.FloatRepr(smp.Timestamp), out)
				}
				buf.WriteString("]\n")
				_, err := w.Write(buf.Bytes())
				return err
			}
			for _, smp := range samples {
				fmt.Fprintf(w, "%s\t%s\n", pyval.FloatRepr(smp.Timestamp), pyval.Repr(smp.Value))
			}
			return nil
		},
	}
	c.Flags().StringVar(&start, "start", "", "start time (seconds since the epoch)")
	c.Flags().StringVar(&end, "end", "", "end time (seconds since the epoch; default +inf)")
	c.Flags().BoolVar(&includePrevious, "include-previous", false, "also print the newest sample before --start")
	c.Flags().BoolVar(&includeEnd, "include-end", false, "include samples at exactly --end")
	return c
}

func tsSetCmd(o *telstateOpts) *cobra.Command {
	return &cobra.Command{
		Use:   "set KEY VALUE",
		Short: "Set an immutable attribute (re-setting an equal value is fine)",
		Args:  cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			v, err := parseValueArg(args[1], "VALUE")
			if err != nil {
				return err
			}
			s, err := o.open(c.Context(), c, true)
			if err != nil {
				return err
			}
			defer s.Close()
			if err := s.ts.Set(c.Context(), args[0], v); err != nil {
				return err
			}
			return s.save(c.Context())
		},
	}
}

func tsAddCmd(o *telstateOpts) *cobra.Command {
	var tsFlag string
	var immutable bool
	c := &cobra.Command{
		Use:   "add KEY VALUE",
		Short: "Add a sensor sample (at --ts, default now), or an attribute with --immutable",
		Args:  cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			v, err := parseValueArg(args[1], "VALUE")
			if err != nil {
				return err
			}
			var opts []telstate.AddOption
			if tsFlag != "" {
				t, err := parseTime(tsFlag, "ts")
				if err != nil {
					return err
				}
				opts = append(opts, telstate.At(t))
			}
			if immutable {
				opts = append(opts, telstate.Immutable())
			}
			s, err := o.open(c.Context(), c, true)
			if err != nil {
				return err
			}
			defer s.Close()
			if err := s.ts.Add(c.Context(), args[0], v, opts...); err != nil {
				return err
			}
			return s.save(c.Context())
		},
	}
	c.Flags().StringVar(&tsFlag, "ts", "", "sample time, seconds since the epoch (default now)")
	c.Flags().BoolVar(&immutable, "immutable", false, "store an immutable attribute instead of a sample")
	return c
}

func tsSetIndexedCmd(o *telstateOpts) *cobra.Command {
	return &cobra.Command{
		Use:   "set-indexed KEY SUBKEY VALUE",
		Short: "Set one sub-key of an indexed key (SUBKEY and VALUE as JSON)",
		Args:  cobra.ExactArgs(3),
		RunE: func(c *cobra.Command, args []string) error {
			sub, err := parseValueArg(args[1], "SUBKEY")
			if err != nil {
				return err
			}
			v, err := parseValueArg(args[2], "VALUE")
			if err != nil {
				return err
			}
			s, err := o.open(c.Context(), c, true)
			if err != nil {
				return err
			}
			defer s.Close()
			if err := s.ts.SetIndexed(c.Context(), args[0], sub, v); err != nil {
				return err
			}
			return s.save(c.Context())
		},
	}
}

func tsGetIndexedCmd(o *telstateOpts) *cobra.Command {
	return &cobra.Command{
		Use:   "get-indexed KEY SUBKEY",
		Short: "Print one sub-key of an indexed key (SUBKEY as JSON)",
		Args:  cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			sub, err := parseValueArg(args[1], "SUBKEY")
			if err != nil {
				return err
			}
			s, err := o.open(c.Context(), c, false)
			if err != nil {
				return err
			}
			defer s.Close()
			v, err := s.ts.GetIndexed(c.Context(), args[0], sub)
			if err != nil {
				return err
			}
			return o.printValue(c.OutOrStdout(), v)
		},
	}
}

func tsDeleteCmd(o *telstateOpts) *cobra.Command {
	return &cobra.Command{
		Use:   "delete KEY...",
		Short: "Delete keys (no error if absent)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			s, err := o.open(c.Context(), c, false)
			if err != nil {
				return err
			}
			defer s.Close()
			for _, k := range args {
				if err := s.ts.Delete(c.Context(), k); err != nil {
					return err
				}
			}
			return s.save(c.Context())
		},
	}
}

// Manifest is the JSON form of a whole database: the format of the golden
// vectors' *.manifest.json files.
type Manifest struct {
	NKeys int             `json:"n_keys"`
	Keys  []ManifestEntry `json:"keys"`
}

// ManifestEntry is one key of a Manifest.
type ManifestEntry struct {
	Key        string           `json:"key"`
	KeyType    string           `json:"key_type"`
	EncodedHex string           `json:"encoded_hex,omitempty"`
	Value      json.RawMessage  `json:"value,omitempty"`
	Values     []ManifestSample `json:"values,omitempty"`
	Entries    []ManifestIndex  `json:"entries,omitempty"`
}

// ManifestSample is one sensor sample of a ManifestEntry.
type ManifestSample struct {
	TS         json.RawMessage `json:"ts"`
	TSHex      string          `json:"ts_hex"`
	EncodedHex string          `json:"encoded_hex"`
	Value      json.RawMessage `json:"value"`
}

// ManifestIndex is one indexed entry of a ManifestEntry.
type ManifestIndex struct {
	SubKeyEncodedHex string          `json:"sub_key_encoded_hex"`
	SubKey           json.RawMessage `json:"sub_key"`
	EncodedHex       string          `json:"encoded_hex"`
	Value            json.RawMessage `json:"value"`
}

// renderEncoded decodes and renders a stored value; an undecodable one is
// rendered as python_repr naming the error, so export never fails halfway.
func renderEncoded(b []byte, opts []encoding.DecodeOption) json.RawMessage {
	v, err := encoding.Decode(b, opts...)
	if err == nil {
		if out, err2 := tagjson.Render(v); err2 == nil {
			return out
		} else {
			err = err2
		}
	}
	out, _ := json.Marshal(map[string]string{"python_repr": "<undecodable: " + err.Error() + ">"})
	return out
}

func exportManifest(ctx context.Context, ts *telstate.TelescopeState, allowPickle bool) (*Manifest, error) {
	b := ts.Backend()
	keys, err := b.Keys(ctx, []byte("*"))
	if err != nil {
		return nil, err
	}
	sort.Slice(keys, func(i, j int) bool { return bytes.Compare(keys[i], keys[j]) < 0 })
	opts := []encoding.DecodeOption{encoding.AllowPickle(allowPickle)}
	m := &Manifest{Keys: []ManifestEntry{}}
	for _, k := range keys {
		v, err := b.Get(ctx, k)
		if errors.Is(err, backend.ErrKeyNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", k, err)
		}
		e := ManifestEntry{Key: string(k), KeyType: v.Type.String()}
		switch v.Type {
		case backend.Immutable:
			e.EncodedHex = hex.EncodeToString(v.Value)
			e.Value = renderEncoded(v.Value, opts)
		case backend.Mutable:
			samples, err := b.GetRange(ctx, k, math.Inf(-1), math.Inf(1), false, false)
			if err != nil {
				return nil, fmt.Errorf("key %q: %w", k, err)
			}
			e.Values = make([]ManifestSample, len(samples))
			for i, smp := range samples {
				p := backend.PackTimestamp(smp.Timestamp)
				e.Values[i] = ManifestSample{
					TS:         json.RawMessage(pyval.FloatRepr(smp.Timestamp)),
					TSHex:      hex.EncodeToString(p[:]),
					EncodedHex: hex.EncodeToString(smp.Value),
					Value:      renderEncoded(smp.Value, opts),
				}
			}
		case backend.Indexed:
			e.Entries = make([]ManifestIndex, len(v.Entries))
			for i, ent := range v.Entries {
				e.Entries[i] = ManifestIndex{
					SubKeyEncodedHex: hex.EncodeToString(ent.SubKey),
					SubKey:           renderEncoded(ent.SubKey, opts),
					EncodedHex:       hex.EncodeToString(ent.Value),
					Value:            renderEncoded(ent.Value, opts),
				}
			}
		}
		m.Keys = append(m.Keys, e)
	}
	m.NKeys = len(m.Keys)
	return m, nil
}

func tsExportCmd(o *telstateOpts) *cobra.Command {
	return &cobra.Command{
		Use:   "export",
		Short: "Print the whole database as JSON (the golden vectors' manifest format)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			s, err := o.open(c.Context(), c, false)
			if err != nil {
				return err
			}
			defer s.Close()
			envAllow, _ := encoding.AllowPickleFromEnv()
			m, err := exportManifest(c.Context(), s.ts, o.allowPickle || envAllow)
			if err != nil {
				return err
			}
			enc := json.NewEncoder(c.OutOrStdout())
			enc.SetEscapeHTML(false)
			enc.SetIndent("", " ")
			return enc.Encode(m)
		},
	}
}

// importManifest adds every key of m, encoding each rendered value itself.
func importManifest(ctx context.Context, ts *telstate.TelescopeState, m *Manifest) (int, error) {
	n := 0
	for i, e := range m.Keys {
		where := fmt.Sprintf("keys[%d] (%q)", i, e.Key)
		switch e.KeyType {
		case "IMMUTABLE":
			v, err := tagjson.Parse(e.Value)
			if err != nil {
				return n, fmt.Errorf("%s value: %w", where, err)
			}
			if err := ts.Set(ctx, e.Key, v); err != nil {
				return n, fmt.Errorf("%s: %w", where, err)
			}
		case "MUTABLE":
			samples := make([]telstate.Sample, len(e.Values))
			for j, smp := range e.Values {
				v, err := tagjson.Parse(smp.Value)
				if err != nil {
					return n, fmt.Errorf("%s values[%d]: %w", where, j, err)
				}
				t, err := strconv.ParseFloat(string(smp.TS), 64)
				if err != nil {
					return n, fmt.Errorf("%s values[%d].ts: %w", where, j, err)
				}
				samples[j] = telstate.Sample{Value: v, Timestamp: t}
			}
			if err := ts.AddSamples(ctx, e.Key, samples); err != nil {
				return n, fmt.Errorf("%s: %w", where, err)
			}
		case "INDEXED":
			for j, ent := range e.Entries {
				sub, err := tagjson.Parse(ent.SubKey)
				if err != nil {
					return n, fmt.Errorf("%s entries[%d].sub_key: %w", where, j, err)
				}
				v, err := tagjson.Parse(ent.Value)
				if err != nil {
					return n, fmt.Errorf("%s entries[%d].value: %w", where, j, err)
				}
				if err := ts.SetIndexed(ctx, e.Key, sub, v); err != nil {
					return n, fmt.Errorf("%s entries[%d]: %w", where, j, err)
				}
			}
		default:
			return n, fmt.Errorf("%s: unknown key_type %q", where, e.KeyType)
		}
		n++
	}
	return n, nil
}

func tsImportCmd(o *telstateOpts) *cobra.Command {
	return &cobra.Command{
		Use:   "import FILE",
		Short: "Add every key of a manifest JSON file (as written by export)",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			data, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			var m Manifest
			dec := json.NewDecoder(bytes.NewReader(data))
			if err := dec.Decode(&m); err != nil {
				return fmt.Errorf("%s: not a manifest: %w", args[0], err)
			}
			s, err := o.open(c.Context(), c, true)
			if err != nil {
				return err
			}
			defer s.Close()
			n, err := importManifest(c.Context(), s.ts, &m)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			if err := s.save(c.Context()); err != nil {
				return err
			}
			if !o.json {
				fmt.Fprintf(c.ErrOrStderr(), "imported %d keys into %s\n", n, o.db)
			}
			return nil
		},
	}
}

func tsDumpCmd(o *telstateOpts) *cobra.Command {
	return &cobra.Command{
		Use:   "dump FILE.rdb",
		Short: "Write the database to an RDB file that redis-server and katsdptelstate load",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			s, err := o.open(c.Context(), c, false)
			if err != nil {
				return err
			}
			defer s.Close()
			if err := writeRDBFile(c.Context(), s.ts, args[0], c.ErrOrStderr()); err != nil {
				return err
			}
			if !o.json {
				n, _ := s.ts.Keys(c.Context(), "*")
				fmt.Fprintf(c.ErrOrStderr(), "wrote %d keys to %s\n", len(n), args[0])
			}
			return nil
		},
	}
}

func tsCopyCmd(o *telstateOpts) *cobra.Command {
	return &cobra.Command{
		Use:   "copy SRC DST",
		Short: "Copy every key from SRC to DST (each an .rdb file or a Redis URL)",
		Long: `Copy every key from SRC to DST, each an .rdb file or a Redis server (the
forms --db takes). Keys are copied as raw bytes and replace keys of the same
name in DST; other keys of DST are kept. Into Redis the copy is pipelined,
many keys per round trip; an .rdb DST is rewritten whole. --db is not used.`,
		Args: cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			ctx := c.Context()
			src, err := openSource(ctx, args[0], false, o.allowPickle, c.ErrOrStderr())
			if err != nil {
				return err
			}
			defer src.Close()
			dst, err := openSource(ctx, args[1], true, o.allowPickle, c.ErrOrStderr())
			if err != nil {
				return err
			}
			defer dst.Close()
			n, err := src.ts.CopyTo(ctx, dst.ts)
			if err != nil {
				return err
			}
			if err := dst.save(ctx); err != nil {
				return err
			}
			if !o.json {
				fmt.Fprintf(c.ErrOrStderr(), "copied %d keys from %s to %s\n", n, args[0], args[1])
			}
			return nil
		},
	}
}
