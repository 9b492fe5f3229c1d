package main

import (
	"bufio"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sdpkit/sdpkit/config"
	"github.com/sdpkit/sdpkit/config/legacy"
	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/pyval/pyjson"
)

// object is an ska-sdp object name and the path of its entities.
type object struct {
	name string
	path string
}

// objects are ska-sdp 0.3.2's object names, plus 1.x names that map to
// plain path prefixes.
var objects = map[string]string{
	"pb": legacy.PBPath, "workflow": legacy.WorkflowPath, "deployment": legacy.DeployPath,
	"sbi": legacy.SBPath, "master": legacy.MasterPath, "subarray": legacy.SubarrayPath,
	"pb-state": legacy.PBPath,
	// 1.x object names (entity layout of 1.x, used here as path prefixes).
	"eb": "/eb", "script": "/script", "flow": "/flow", "system": "/system",
}

func objectOf(arg string) (object, bool) {
	p, ok := objects[arg]
	return object{name: arg, path: p}, ok
}

// compatKey builds the key of an ska-sdp "OBJ [ID]" argument pair and
// returns the arguments after it.
func compatKey(obj object, args []string, verb string) (string, []string, error) {
	switch obj.name {
	case "master":
		return obj.path, args, nil
	}
	if len(args) == 0 {
		return "", nil, usageError{fmt.Errorf("%s %s: missing the id", verb, obj.name)}
	}
	id := args[0]
	switch obj.name {
	case "subarray":
		if n, err := strconv.Atoi(id); err == nil && n >= 0 {
			id = legacy.SubarrayID(n)
		}
	case "pb-state":
		return obj.path + "/" + id + "/state", args[1:], nil
	}
	return obj.path + "/" + id, args[1:], nil
}

// yamlDict parses PARAMS of create pb / create deployment.
func yamlDict(arg, what string) (*pyval.Dict, error) {
	if strings.TrimSpace(arg) == "" {
		return &pyval.Dict{}, nil
	}
	v, err := pyjson.FromYAML([]byte(arg))
	if err != nil {
		return nil, usageError{fmt.Errorf("%s: %w", what, err)}
	}
	switch d := v.(type) {
	case *pyval.Dict:
		return d, nil
	case pyval.NoneType:
		return &pyval.Dict{}, nil
	}
	return nil, usageError{fmt.Errorf("%s: want a mapping, got %s", what, v.Kind())}
}

func (o *configOpts) compatCreate(c *cobra.Command, obj object, args []string) error {
	switch obj.name {
	case "pb":
		if len(args) < 1 || len(args) > 2 {
			return usageError{errors.New("create pb: want TYPE:ID:VERSION [PARAMS]")}
		}
		parts := strings.Split(args[0], ":")
		if len(parts) != 3 {
			return usageError{fmt.Errorf("create pb: workflow %q is not TYPE:ID:VERSION", args[0])}
		}
		params := &pyval.Dict{}
		if len(args) == 2 {
			var err error
			if params, err = yamlDict(args[1], "create pb: parameters"); err != nil {
				return err
			}
		}
		return o.withDB(c, func(s *cfgSession) error {
			var id string
			err := s.cfg.Txn(c.Context(), func(tx *config.Txn) error {
				lt := legacy.NewTxn(tx, s.cfg.GlobalPrefix())
				var err error
				if id, err = lt.NewProcessingBlockID("sdpcli"); err != nil {
					return err
				}
				return lt.CreateProcessingBlock(&legacy.ProcessingBlock{
					ID: id, Workflow: legacy.Workflow{Type: parts[0], ID: parts[1], Version: parts[2]}, Parameters: params,
				})
			})
			if err != nil {
				return err
			}
			if s.o.json {
				return printJSON(s.out, map[string]string{"key": legacy.PBPath + "/" + id, "action": "created", "pb_id": id})
			}
			_, err = fmt.Fprintf(s.out, "Processing block created with pb_id: %s\n", id)
			return err
		})
	case "deployment":
		if len(args) != 3 {
			return usageError{errors.New("create deployment: want ID TYPE PARAMS")}
		}
		params, err := yamlDict(args[2], "create deployment: parameters")
		if err != nil {
			return err
		}
		d := &legacy.Deployment{ID: args[0], Type: args[1], Args: params}
		if err := d.Validate(); err != nil {
			return usageError{err}
		}
		return o.withDB(c, func(s *cfgSession) error {
			err := s.cfg.Txn(c.Context(), func(tx *config.Txn) error {
				return legacy.NewTxn(tx, s.cfg.GlobalPrefix()).CreateDeployment(d)
			})
			if err != nil {
				return err
			}
			if s.o.json {
				return printJSON(s.out, map[string]string{"key": legacy.DeployPath + "/" + d.ID, "action": "created"})
			}
			_, err = fmt.Fprintf(s.out, "Deployment created with id: %s\n", d.ID)
			return err
		})
	}
	key, rest, err := compatKey(obj, args, "create")
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageError{fmt.Errorf("create %s: want a VALUE", obj.name)}
	}
	return o.withDB(c, func(s *cfgSession) error {
		if err := s.db.Create(c.Context(), s.full(key), []byte(rest[0]), 0); err != nil {
			return err
		}
		return s.done(key, "created", "%s created\n")
	})
}

func (o *configOpts) compatDelete(c *cobra.Command, obj object, args []string, all, yes, quiet bool) error {
	if !all {
		if obj.name == "master" || obj.name == "pb-state" {
			return usageError{fmt.Errorf("delete %s: not supported; give the path", obj.name)}
		}
		key, rest, err := compatKey(obj, args, "delete")
		if err != nil {
			return err
		}
		if len(rest) != 0 {
			return usageError{fmt.Errorf("delete %s: too many arguments", obj.name)}
		}
		return o.withDB(c, func(s *cfgSession) error {
			return s.deleteTree(c.Context(), key, true, false, quiet)
		})
	}
	if len(args) != 0 {
		return usageError{fmt.Errorf("delete -a %s: too many arguments", obj.name)}
	}
	if !yes {
		what := obj.path
		if obj.name == "prefix" {
			what = "/"
		}
		fmt.Fprintf(c.ErrOrStderr(), "You are about to delete every key below %s.\n", what)
		ok, err := confirm(c, "Continue?")
		if err != nil {
			return err
		}
		if !ok {
			return errors.New("not confirmed; nothing deleted")
		}
	}
	return o.withDB(c, func(s *cfgSession) error {
		if obj.name != "prefix" {
			return s.deleteTree(c.Context(), obj.path, true, false, quiet)
		}
		top, _, err := s.db.ListKeys(c.Context(), s.full("/"))
		if err != nil {
			return err
		}
		below, _, err := s.db.ListKeys(c.Context(), s.full("/"), config.Recurse(maxRecurse(config.Depth(s.full("/")))))
		if err != nil {
			return err
		}
		for _, k := range top {
			if err := s.db.Delete(c.Context(), k, config.AllowMissing(), config.Recursive()); err != nil {
				return err
			}
		}
		w := bufio.NewWriter(s.out)
		if !quiet && !s.o.json {
			for _, k := range below {
				fmt.Fprintf(w, "%s\n", s.rel(k))
			}
		}
		if s.o.json {
			rel := make([]string, len(below))
			for i, k := range below {
				rel[i] = s.rel(k)
			}
			return printJSON(s.out, map[string]any{"prefix": "/", "deleted": rel})
		}
		fmt.Fprintf(w, "Deleted above keys with prefix /.\n")
		return w.Flush()
	})
}

func cfgListCmd(o *configOpts) *cobra.Command {
	var all, quiet, values bool
	c := &cobra.Command{
		Use:   "list (-a | OBJECT [FILTER]) [-q] [-v]",
		Short: "ska-sdp's list: every key (-a) or the keys of an object type",
		Long: `List keys as ska-sdp 0.3.2 does: -a lists everything (8 levels deep),
OBJECT (pb, workflow, deployment, sbi, master, subarray; 1.x: eb, script,
flow, system) the keys of that type. "list pb DATE" keeps keys containing
DATE (YYYYMMDD); "list workflow TYPE" those containing TYPE. -v prints
values, -q leaves out the header (with -v: only values). Note: the object
path is a string prefix at its level, as in ska-sdp (list sbi also lists
/sbx). For plain paths use ls.`,
		Args: cobra.MaximumNArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			var path, header, filter string
			switch {
			case all:
				if len(args) != 0 {
					return usageError{errors.New("list -a takes no arguments")}
				}
				path, header = "/", "Keys with prefix /: "
			case len(args) == 0:
				return usageError{errors.New("list: give -a or an object (pb, workflow, deployment, sbi, master, subarray)")}
			default:
				obj, ok := objectOf(args[0])
				if !ok || obj.name == "pb-state" {
					return usageError{fmt.Errorf("list: unknown object %q", args[0])}
				}
				path, header = obj.path, "Keys with prefix "+obj.path+": "
				if len(args) == 2 {
					switch obj.name {
					case "pb":
						filter, header = args[1], fmt.Sprintf("Processing blocks for date %s: ", args[1])
					case "workflow":
						filter, header = strings.ToLower(args[1]), fmt.Sprintf("Workflow definitions of type %s: ", args[1])
					default:
						return usageError{fmt.Errorf("list %s takes no filter", obj.name)}
					}
				}
			}
			return o.withDB(c, func(s *cfgSession) error {
				entries, _, err := s.db.List(c.Context(), s.full(path), config.Recurse(8))
				if err != nil {
					return err
				}
				if filter != "" {
					kept := entries[:0]
					for _, e := range entries {
						if strings.Contains(e.Path, filter) {
							kept = append(kept, e)
						}
					}
					entries = kept
				}
				return s.printListing(header, entries, values, quiet)
			})
		},
	}
	c.Flags().BoolVarP(&all, "all", "a", false, "list every key")
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "no header; with -v only the values")
	c.Flags().BoolVarP(&values, "values", "v", false, "print values too")
	return c
}

// getTarget is what get and watch read.
type getTarget struct {
	key   string // a single key, or
	dir   string // the children of a path (watch PATH/), or
	pbID  string // ska-sdp's "pb ID": every key under /pb containing ID
	msg   string // a message instead (ska-sdp's answers to bad keys)
	label string
}

func parseGetArgs(args []string, verb string) (getTarget, error) {
	if len(args) == 0 || len(args) > 2 {
		return getTarget{}, usageError{fmt.Errorf("%s: want PATH (or pb ID)", verb)}
	}
	if obj, ok := objectOf(args[0]); ok {
		if obj.name == "pb" {
			if len(args) != 2 {
				return getTarget{msg: fmt.Sprintf("Cannot '%s' processing block without its ID. Run 'ska-sdp %s pb <pb_id>'", verb, verb)}, nil
			}
			return getTarget{pbID: args[1]}, nil
		}
		key, rest, err := compatKey(obj, args[1:], verb)
		if err != nil {
			return getTarget{}, err
		}
		if len(rest) != 0 {
			return getTarget{}, usageError{fmt.Errorf("%s %s: too many arguments", verb, obj.name)}
		}
		return getTarget{key: key}, nil
	}
	if len(args) != 1 {
		return getTarget{}, usageError{fmt.Errorf("%s: want one PATH", verb)}
	}
	p := args[0]
	if !strings.HasPrefix(p, "/") {
		return getTarget{msg: fmt.Sprintf("'%s' is not a valid key in the Config DB. Run 'ska-sdp list -a' to list all valid keys.", p)}, nil
	}
	if err := config.CheckPath(p); err != nil {
		return getTarget{}, usageError{err}
	}
	if strings.HasSuffix(p, "/") {
		if verb == "get" {
			return getTarget{}, usageError{fmt.Errorf("get %s: a key has no trailing / (list with ls)", p)}
		}
		return getTarget{dir: p}, nil
	}
	return getTarget{key: p}, nil
}

// read reads the target in tx: the entries to print (Value nil: missing).
func (s *cfgSession) read(tx *config.Txn, t getTarget) ([]config.Entry, error) {
	switch {
	case t.key != "":
		v, err := tx.Get(s.full(t.key))
		return []config.Entry{{Path: s.full(t.key), Value: v}}, err
	case t.dir != "":
		keys, err := tx.List(s.full(t.dir))
		if err != nil {
			return nil, err
		}
		return s.readAll(tx, keys, "")
	default:
		keys, err := tx.List(s.full(legacy.PBPath), config.Recurse(8))
		if err != nil {
			return nil, err
		}
		return s.readAll(tx, keys, t.pbID)
	}
}

func (s *cfgSession) readAll(tx *config.Txn, keys []string, contains string) ([]config.Entry, error) {
	var out []config.Entry
	for _, k := range keys {
		if contains != "" && !strings.Contains(k, contains) {
			continue
		}
		v, err := tx.Get(k)
		if err != nil {
			return nil, err
		}
		if v != nil {
			out = append(out, config.Entry{Path: k, Value: v})
		}
	}
	return out, nil
}

// render prints entries as get does: "key = value" (value "None" when
// missing), only values with quiet, or JSON: one object for a single key,
// else an array.
func (s *cfgSession) render(entries []config.Entry, quiet, single bool) string {
	var b strings.Builder
	if s.o.json {
		list := make([]map[string]any, 0, len(entries))
		for _, e := range entries {
			list = append(list, map[string]any{"key": s.rel(e.Path), "value": jsonValue(e.Value)})
		}
		var one any = list
		if single && len(list) == 1 {
			one = list[0]
		}
		enc, _ := jsonLine(one)
		return enc
	}
	for _, e := range entries {
		if quiet {
			fmt.Fprintf(&b, "%s\n", valueText(e.Value))
		} else {
			fmt.Fprintf(&b, "%s = %s\n", s.rel(e.Path), valueText(e.Value))
		}
	}
	return b.String()
}

func jsonLine(v any) (string, error) {
	var b strings.Builder
	err := printJSON(&b, v)
	return b.String(), err
}

func cfgGetCmd(o *configOpts, watch bool) *cobra.Command {
	var quiet bool
	var count int
	verb := "get"
	short := `Print a key as "key = value" ("None" if missing); -q only the value`
	if watch {
		verb = "watch"
		short = "Print a key (or the children of PATH/) now and after every change, until interrupted"
	}
	c := &cobra.Command{
		Use:   verb + " PATH",
		Short: short,
		Long: short + `.

ska-sdp forms: ` + verb + ` pb ID prints every key under /pb containing ID;
` + verb + ` workflow|sbi|deployment|subarray ID and ` + verb + ` master read that entity.
--json prints {"key": …, "value": text or null} (an array of them for
pb ID and PATH/).`,
		Args: cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			t, err := parseGetArgs(args, verb)
			if err != nil {
				return err
			}
			if t.msg != "" {
				_, err := fmt.Fprintln(c.OutOrStdout(), t.msg)
				return err
			}
			if !watch {
				return o.withDB(c, func(s *cfgSession) error {
					var entries []config.Entry
					err := s.cfg.Txn(c.Context(), func(tx *config.Txn) error {
						var err error
						entries, err = s.read(tx, t)
						return err
					})
					if err != nil {
						return err
					}
					_, err = fmt.Fprint(s.out, s.render(entries, quiet, t.key != ""))
					return err
				})
			}
			return o.watch(c, t, quiet, count)
		},
	}
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "print only the value")
	if watch {
		c.Flags().IntVar(&count, "count", 0, "stop after printing N times (0: until interrupted)")
	}
	return c
}

// watch prints the target, then again whenever what it printed changes,
// until the context ends (Ctrl-C) or count outputs were printed.
func (o *configOpts) watch(c *cobra.Command, t getTarget, quiet bool, count int) error {
	ctx := c.Context()
	cfg, err := o.open(ctx)
	if err != nil {
		return err
	}
	defer cfg.Close()
	s := &cfgSession{cfg: cfg, db: cfg.DB(), o: o, out: c.OutOrStdout()}
	last, printed := "", 0
	for w, err := range s.db.Watcher(ctx) {
		if err != nil {
			if ctx.Err() != nil {
				return nil // interrupted: the normal end of a watch
			}
			return err
		}
		var entries []config.Entry
		err := w.Txn(ctx, func(tx *config.Txn) error {
			var err error
			entries, err = s.read(tx, t)
			return err
		})
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return pyErrors(err)
		}
		out := s.render(entries, quiet, t.key != "")
		if printed > 0 && out == last {
			continue
		}
		if _, err := fmt.Fprint(s.out, out); err != nil {
			return err
		}
		last = out
		printed++
		if count > 0 && printed >= count {
			return nil
		}
	}
	return nil
}
