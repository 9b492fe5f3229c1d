package main

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sdpkit/sdpkit/config"
	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/pyval/pyjson"
)

func cfgEditCmd(o *configOpts) *cobra.Command {
	return &cobra.Command{
		Use:   "edit PATH",
		Short: "Edit a key's value in $EDITOR (as YAML)",
		Long: `Edit a key's value in $EDITOR. A JSON value is shown as YAML in a
temporary file headed "# Editing key PATH"; when the editor exits the YAML
is read back and stored as ska-sdp-config stores entities (sorted keys,
two-space indent). Text that is not JSON is edited as is. If the value is
unchanged "No change!" is printed and nothing is written. The update only
succeeds if nobody changed the key meanwhile.

ska-sdp forms: edit workflow|sbi|deployment ID, edit pb-state PB_ID,
edit master, edit subarray N.`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(c *cobra.Command, args []string) error {
			key := args[0]
			if obj, ok := objectOf(args[0]); ok {
				k, rest, err := compatKey(obj, args[1:], "edit")
				if err != nil {
					return err
				}
				if len(rest) != 0 {
					return usageError{fmt.Errorf("edit %s: too many arguments", obj.name)}
				}
				key = k
			} else if len(args) != 1 {
				return usageError{errors.New("edit: want one PATH")}
			}
			if err := config.CheckKeyPath(key); err != nil {
				return usageError{err}
			}
			editor := o.env.getenv("EDITOR")
			if strings.TrimSpace(editor) == "" {
				return errors.New("edit needs the environment variable EDITOR (the editor command)")
			}
			return o.withDB(c, func(s *cfgSession) error { return s.edit(c, key, editor) })
		},
	}
}

func (s *cfgSession) edit(c *cobra.Command, key, editor string) error {
	ctx := c.Context()
	old, rev, err := s.db.Get(ctx, s.full(key), 0)
	if err != nil {
		return err
	}
	if old == nil {
		return pyError{&config.VanishedError{Op: "update", Path: key}}
	}
	oldVal, jerr := pyjson.Unmarshal(old)
	var body []byte
	if jerr == nil {
		doc, err := yamlDump(oldVal)
		if err != nil {
			jerr = err // edit the text instead
		} else {
			body = []byte(doc)
		}
	}
	if jerr != nil {
		body = old
	}
	header := "# Editing key " + key + "\n"
	f, err := os.CreateTemp("", "sdp-config-*.yaml")
	if err != nil {
		return err
	}
	name := f.Name()
	defer os.Remove(name)
	_, err = f.Write(append([]byte(header), body...))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	argv := strings.Fields(editor)
	cmd := exec.CommandContext(ctx, argv[0], append(argv[1:], name)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = c.InOrStdin(), c.OutOrStdout(), c.ErrOrStderr()
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("editor %q: %w", editor, err)
	}
	edited, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	var newBytes []byte
	if jerr == nil {
		newVal, err := pyjson.FromYAML(edited)
		if err != nil {
			return fmt.Errorf("edited value of %s is not valid YAML, nothing changed: %w", key, err)
		}
		if pyval.Equal(newVal, oldVal) {
			return s.noChange(key)
		}
		if newBytes, err = pyjson.Canonical(newVal); err != nil {
			return fmt.Errorf("edited value of %s: %w", key, err)
		}
	} else {
		newBytes = bytes.TrimPrefix(edited, []byte(header))
		if bytes.Equal(newBytes, old) {
			return s.noChange(key)
		}
	}
	if err := s.db.Update(ctx, s.full(key), newBytes, config.MustBeRev(rev)); err != nil {
		if errors.Is(err, config.ErrVanished) {
			return fmt.Errorf("%s changed or vanished while it was edited; nothing written: %w", key, err)
		}
		return err
	}
	return s.done(key, "updated", "%s updated.\n")
}

func (s *cfgSession) noChange(key string) error {
	if s.o.json {
		return printJSON(s.out, map[string]string{"key": key, "action": "unchanged"})
	}
	_, err := fmt.Fprintln(s.out, "No change!")
	return err
}

// yamlDump writes a JSON-shaped value as block-style YAML that
// pyjson.FromYAML (PyYAML's safe_load rules) reads back as the same value:
// strings are quoted whenever their plain form would mean something else,
// floats always carry a dot or an exponent sign. Keys are sorted.
func yamlDump(v pyval.Value) (string, error) {
	lines, err := yamlLines(v)
	if err != nil {
		return "", err
	}
	doc := strings.Join(lines, "\n") + "\n"
	back, err := pyjson.FromYAML([]byte(doc))
	if err != nil || !pyval.Equal(back, v) {
		return "", fmt.Errorf("value does not survive a YAML round trip")
	}
	return doc, nil
}

// yamlLines renders v; a scalar or empty container is one line.
func yamlLines(v pyval.Value) ([]string, error) {
	switch x := v.(type) {
	case *pyval.Dict:
		if x.Len() == 0 {
			return []string{"{}"}, nil
		}
		items := x.Items()
		keys := make([]string, len(items))
		for i, it := range items {
			k, ok := it.Key.(pyval.Str)
			if !ok {
				return nil, fmt.Errorf("key %s is not a string", pyval.Repr(it.Key))
			}
			keys[i] = string(k)
		}
		idx := make([]int, len(items))
		for i := range idx {
			idx[i] = i
		}
		sort.Slice(idx, func(a, b int) bool { return keys[idx[a]] < keys[idx[b]] })
		var out []string
		for _, i := range idx {
			sub, err := yamlLines(items[i].Value)
			if err != nil {
				return nil, err
			}
			k := yamlStr(keys[i])
			if isBlock(items[i].Value) {
				out = append(out, k+":")
				for _, l := range sub {
					out = append(out, "  "+l)
				}
			} else {
				out = append(out, k+": "+sub[0])
			}
		}
		return out, nil
	case pyval.List:
		if len(x) == 0 {
			return []string{"[]"}, nil
		}
		var out []string
		for _, e := range x {
			sub, err := yamlLines(e)
			if err != nil {
				return nil, err
			}
			out = append(out, "- "+sub[0])
			for _, l := range sub[1:] {
				out = append(out, "  "+l)
			}
		}
		return out, nil
	case pyval.NoneType:
		return []string{"null"}, nil
	case pyval.Bool:
		if x {
			return []string{"true"}, nil
		}
		return []string{"false"}, nil
	case pyval.Int:
		return []string{x.String()}, nil
	case pyval.Float:
		return []string{yamlFloat(float64(x))}, nil
	case pyval.Str:
		return []string{yamlStr(string(x))}, nil
	}
	return nil, fmt.Errorf("cannot write %s as YAML", v.Kind())
}

func isBlock(v pyval.Value) bool {
	switch x := v.(type) {
	case *pyval.Dict:
		return x.Len() > 0
	case pyval.List:
		return len(x) > 0
	}
	return false
}

// yamlFloat is PyYAML's float form: Python's repr with ".0" added before
// an exponent, .inf/.nan spelled the YAML way.
func yamlFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return ".inf"
	case math.IsInf(f, -1):
		return "-.inf"
	case math.IsNaN(f):
		return ".nan"
	}
	r := pyval.FloatRepr(f)
	if i := strings.IndexByte(r, 'e'); i >= 0 && !strings.Contains(r[:i], ".") {
		r = r[:i] + ".0" + r[i:]
	}
	return r
}

// yamlStr writes s plain when PyYAML reads the plain form back as the same
// string, else double-quoted.
func yamlStr(s string) string {
	if s != "" && !strings.ContainsAny(s, "\n\r\t\"'\\#:{}[],&*!|>%@`") && s == strings.TrimSpace(s) {
		if v, err := pyjson.FromYAML([]byte(s)); err == nil && v == pyval.Value(pyval.Str(s)) {
			return s
		}
	}
	return strconv.Quote(s)
}
