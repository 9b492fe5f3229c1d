package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sdpkit/sdpkit/config"
	"github.com/sdpkit/sdpkit/config/legacy"
	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/pyval/pyjson"
)

func cfgImportCmd(o *configOpts) *cobra.Command {
	var sync bool
	c := &cobra.Command{
		Use:   "import FILE",
		Short: "Write the keys of a JSON or YAML file (path: value) in one transaction",
		Long: `Write every entry of FILE, a JSON or YAML mapping of path to value, in one
transaction: missing keys are created, changed ones updated, equal ones left
alone. A string value is stored verbatim (so the output of ls -R -v --json
imports back byte for byte); mappings and lists are stored as ska-sdp-config
stores entities; numbers, booleans and null as JSON. Nothing is written if
an entry is bad. One transaction holds at most etcd's --max-txn-ops keys
(128 by default).

ska-sdp form: import workflows [--sync] FILE-OR-URL reads workflow
definitions (flat "workflows: [{type, id, version, image}]" or structured
"repositories: [{name, path}]" + "workflows: [{type, id, repository, image,
versions}]") into /workflow/TYPE:ID:VERSION = {"image": …}; --sync deletes
the definitions the file does not list.`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(c *cobra.Command, args []string) error {
			if args[0] == "workflows" && len(args) == 2 {
				return o.importWorkflows(c, args[1], sync)
			}
			if len(args) != 1 {
				return usageError{errors.New("import: want one FILE (or: workflows [--sync] FILE)")}
			}
			if sync {
				return usageError{errors.New("import: --sync only applies to import workflows")}
			}
			return o.importFile(c, args[0])
		},
	}
	c.Flags().BoolVar(&sync, "sync", false, "import workflows: delete definitions not in the file")
	return c
}

type importEntry struct {
	path  string
	value []byte
}

// parseImport reads FILE's path → value mapping.
func parseImport(file string, data []byte) ([]importEntry, error) {
	v, err := pyjson.FromYAML(data)
	if err != nil {
		return nil, fmt.Errorf("import %s: not JSON or YAML: %w", file, err)
	}
	d, ok := v.(*pyval.Dict)
	if !ok {
		return nil, fmt.Errorf("import %s: want a mapping of path to value, got %s", file, v.Kind())
	}
	var out []importEntry
	for i, it := range d.Items() {
		k, ok := it.Key.(pyval.Str)
		if !ok {
			return nil, fmt.Errorf("import %s: entry %d: key %s is not a path string", file, i+1, pyval.Repr(it.Key))
		}
		if err := config.CheckKeyPath(string(k)); err != nil {
			return nil, fmt.Errorf("import %s: entry %q: %w", file, string(k), err)
		}
		var b []byte
		if s, ok := it.Value.(pyval.Str); ok {
			b = []byte(s)
		} else if b, err = pyjson.Canonical(it.Value); err != nil {
			return nil, fmt.Errorf("import %s: entry %q: value: %w", file, string(k), err)
		}
		out = append(out, importEntry{string(k), b})
	}
	return out, nil
}

func (o *configOpts) importFile(c *cobra.Command, file string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	entries, err := parseImport(file, data)
	if err != nil {
		return usageError{err}
	}
	return o.withDB(c, func(s *cfgSession) error {
		var actions []string
		err := s.cfg.Txn(c.Context(), func(tx *config.Txn) error {
			actions = actions[:0]
			for _, e := range entries {
				full := s.full(e.path)
				old, err := tx.Get(full)
				switch {
				case err != nil:
					return fmt.Errorf("import %s: entry %q: %w", file, e.path, err)
				case old == nil:
					err = tx.Create(full, e.value, 0)
					actions = append(actions, "created")
				case string(old) != string(e.value):
					err = tx.Update(full, e.value)
					actions = append(actions, "updated")
				default:
					actions = append(actions, "unchanged")
				}
				if err != nil {
					return fmt.Errorf("import %s: entry %q: %w", file, e.path, err)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if s.o.json {
			list := make([]map[string]string, len(entries))
			for i, e := range entries {
				list[i] = map[string]string{"key": e.path, "action": actions[i]}
			}
			return printJSON(s.out, list)
		}
		n := map[string]int{}
		for i, e := range entries {
			n[actions[i]]++
			switch actions[i] {
			case "created":
				fmt.Fprintf(s.out, "%s created\n", e.path)
			case "updated":
				fmt.Fprintf(s.out, "%s updated.\n", e.path)
			}
		}
		_, err = fmt.Fprintf(s.out, "Imported %s: %d created, %d updated, %d unchanged.\n", file, n["created"], n["updated"], n["unchanged"])
		return err
	})
}

// readSource reads a file or an http(s) URL.
func readSource(ctx context.Context, src string) ([]byte, error) {
	if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
		if err != nil {
			return nil, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %s", src, resp.Status)
		}
		return io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	}
	return os.ReadFile(src)
}

// workflowDefs parses a workflow definitions file into definitions in
// file order.
func workflowDefs(v pyval.Value) ([]legacy.Workflow, map[legacy.Workflow]string, error) {
	d, ok := v.(*pyval.Dict)
	if !ok {
		return nil, nil, errors.New("not a mapping")
	}
	repos := map[string]string{}
	if r, ok := d.GetStr("repositories"); ok {
		list, ok := r.(pyval.List)
		if !ok {
			return nil, nil, errors.New("repositories is not a list")
		}
		for _, e := range list {
			rd, ok := e.(*pyval.Dict)
			if !ok {
				return nil, nil, errors.New("a repository is not a mapping")
			}
			name, err := field(rd, "name")
			if err != nil {
				return nil, nil, err
			}
			path, err := field(rd, "path")
			if err != nil {
				return nil, nil, err
			}
			repos[name] = path
		}
	}
	wl, ok := d.GetStr("workflows")
	list, isList := wl.(pyval.List)
	if !ok || !isList {
		return nil, nil, errors.New("no workflows list")
	}
	var order []legacy.Workflow
	images := map[legacy.Workflow]string{}
	add := func(w legacy.Workflow, image string) {
		if _, dup := images[w]; !dup {
			order = append(order, w)
		}
		images[w] = image
	}
	for _, e := range list {
		wd, ok := e.(*pyval.Dict)
		if !ok {
			return nil, nil, errors.New("a workflow is not a mapping")
		}
		typ, err := field(wd, "type")
		if err != nil {
			return nil, nil, err
		}
		id, err := field(wd, "id")
		if err != nil {
			return nil, nil, err
		}
		image, err := field(wd, "image")
		if err != nil {
			return nil, nil, err
		}
		if vs, ok := wd.GetStr("versions"); ok {
			repoName, err := field(wd, "repository")
			if err != nil {
				return nil, nil, err
			}
			repo, ok := repos[repoName]
			if !ok {
				return nil, nil, fmt.Errorf("workflow %s: unknown repository %q", id, repoName)
			}
			vl, ok := vs.(pyval.List)
			if !ok {
				return nil, nil, fmt.Errorf("workflow %s: versions is not a list", id)
			}
			for _, ver := range vl {
				vs := scalarText(ver)
				add(legacy.Workflow{Type: typ, ID: id, Version: vs}, repo+"/"+image+":"+vs)
			}
			continue
		}
		ver, ok := wd.GetStr("version")
		if !ok {
			return nil, nil, fmt.Errorf("workflow %s: no version", id)
		}
		add(legacy.Workflow{Type: typ, ID: id, Version: scalarText(ver)}, image)
	}
	return order, images, nil
}

func field(d *pyval.Dict, name string) (string, error) {
	v, ok := d.GetStr(name)
	if !ok {
		return "", fmt.Errorf("missing %s", name)
	}
	return scalarText(v), nil
}

// scalarText is str() of a YAML scalar (versions such as 0.2 parse as
// floats).
func scalarText(v pyval.Value) string {
	if s, ok := v.(pyval.Str); ok {
		return string(s)
	}
	return pyval.Repr(v)
}

func wfTuple(w legacy.Workflow) string {
	return pyval.Repr(pyval.Tuple{pyval.Str(w.Type), pyval.Str(w.ID), pyval.Str(w.Version)})
}

// importWorkflows is ska-sdp's import workflows.
func (o *configOpts) importWorkflows(c *cobra.Command, src string, sync bool) error {
	out := c.OutOrStdout()
	fmt.Fprintf(out, "Importing workflow definitions from %s\n", src)
	data, err := readSource(c.Context(), src)
	if err != nil {
		fmt.Fprintln(out, "Bad file name or URL. Please fix, and retry.")
		return fmt.Errorf("import workflows %s: %w", src, err)
	}
	v, err := pyjson.FromYAML(data)
	var order []legacy.Workflow
	var images map[legacy.Workflow]string
	if err == nil {
		order, images, err = workflowDefs(v)
	}
	if err != nil {
		fmt.Fprintln(out, "Malformed YAML/JSON file. Please fix, and retry.")
		return fmt.Errorf("import workflows %s: %w", src, err)
	}
	return o.withDB(c, func(s *cfgSession) error {
		var log []string
		err := s.cfg.Txn(c.Context(), func(tx *config.Txn) error {
			log = log[:0]
			lt := legacy.NewTxn(tx, s.cfg.GlobalPrefix())
			existing, err := lt.ListWorkflows("", "")
			if err != nil {
				return err
			}
			for _, w := range order {
				def := pyval.StrDict("image", pyval.Str(images[w]))
				old, err := lt.GetWorkflow(w)
				switch {
				case err != nil:
					return err
				case old == nil:
					log = append(log, "Creating "+wfTuple(w))
					err = lt.CreateWorkflow(w, def)
				case !pyval.Equal(old, def):
					log = append(log, "Updating "+wfTuple(w))
					err = lt.UpdateWorkflow(w, def)
				}
				if err != nil {
					return err
				}
			}
			if sync {
				for _, w := range existing {
					if _, keep := images[w]; !keep {
						log = append(log, "Deleting "+wfTuple(w))
						if err := lt.DeleteWorkflow(w); err != nil {
							return err
						}
					}
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if len(log) == 0 {
			log = append(log, "No changes")
		}
		fmt.Fprintln(s.out, strings.Join(log, "\n"))
		_, err = fmt.Fprintln(s.out, "Import finished successfully.")
		return err
	})
}
