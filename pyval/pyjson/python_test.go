package pyjson

import (
	"encoding/json"
	"errors"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/pyval/pylit"
)

// pythonCases is testdata/python_cases.json, written by
// testdata/gen_python.py from CPython's json module and PyYAML.
type pythonCases struct {
	Meta  map[string]string `json:"meta"`
	Dumps []struct {
		Name   string         `json:"name"`
		Py     *string        `json:"py"`
		JSON   *string        `json:"json"`
		Kwargs map[string]any `json:"kwargs"`
		Output *string        `json:"output"`
		Error  string         `json:"error"`
	} `json:"dumps"`
	Loads []struct {
		Name  string  `json:"name"`
		JSON  string  `json:"json"`
		Repr  *string `json:"repr"`
		Error string  `json:"error"`
	} `json:"loads"`
	YAML []struct {
		Name           string  `json:"name"`
		YAML           string  `json:"yaml"`
		Repr           *string `json:"repr"`
		Canonical      *string `json:"canonical"`
		CanonicalError string  `json:"canonical_error"`
		Error          string  `json:"error"`
	} `json:"yaml"`
}

func loadPythonCases(t *testing.T) *pythonCases {
	t.Helper()
	raw, err := os.ReadFile("testdata/python_cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var pc pythonCases
	if err := json.Unmarshal(raw, &pc); err != nil {
		t.Fatal(err)
	}
	return &pc
}

// kwargsOptions maps json.dumps keyword arguments to options.
func kwargsOptions(t *testing.T, kw map[string]any) []Option {
	t.Helper()
	var opts []Option
	for k, v := range kw {
		switch k {
		case "indent":
			switch x := v.(type) {
			case float64:
				opts = append(opts, Indent(int(x)))
			case string:
				opts = append(opts, IndentString(x))
			}
		case "separators":
			s := v.([]any)
			opts = append(opts, Separators(s[0].(string), s[1].(string)))
		case "sort_keys":
			if v.(bool) {
				opts = append(opts, SortKeys())
			}
		case "ensure_ascii":
			opts = append(opts, EnsureASCII(v.(bool)))
		case "allow_nan":
			opts = append(opts, AllowNaN(v.(bool)))
		case "skipkeys":
			if v.(bool) {
				opts = append(opts, SkipKeys())
			}
		default:
			t.Fatalf("unknown kwarg %s", k)
		}
	}
	return opts
}

// pythonErrSentinel is the sentinel this package returns where Python
// raised the given exception.
func pythonErrSentinel(t *testing.T, pyErr string) error {
	t.Helper()
	switch {
	case strings.HasPrefix(pyErr, "ValueError: Out of range float"):
		return ErrNaN
	case strings.HasPrefix(pyErr, "TypeError: '<' not supported"):
		return ErrSortKeys
	case strings.HasPrefix(pyErr, "ValueError: Exceeds the limit (4300 digits)"):
		return ErrRange
	case strings.HasPrefix(pyErr, "TypeError: keys must be"),
		strings.HasPrefix(pyErr, "TypeError: Object of type"):
		return ErrUnsupported
	}
	t.Fatalf("no sentinel for Python error %q", pyErr)
	return nil
}

func TestPythonDumps(t *testing.T) {
	pc := loadPythonCases(t)
	t.Logf("expected outputs from %s %s", pc.Meta["implementation"], pc.Meta["python"])
	for _, c := range pc.Dumps {
		t.Run(c.Name, func(t *testing.T) {
			var v pyval.Value
			var err error
			if c.Py != nil {
				v, err = pylit.Parse(*c.Py)
			} else {
				v, err = Unmarshal([]byte(*c.JSON))
			}
			if err != nil {
				t.Fatalf("input: %v", err)
			}
			got, err := Marshal(v, kwargsOptions(t, c.Kwargs)...)
			if c.Error != "" {
				want := pythonErrSentinel(t, c.Error)
				if !errors.Is(err, want) {
					t.Fatalf("got %q, %v; want error %v (Python: %s)", got, err, want, c.Error)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != *c.Output {
				t.Errorf("\n got %q\nwant %q", got, *c.Output)
			}
		})
	}
}

var pyPos = regexp.MustCompile(`line (\d+) column (\d+) \(char (\d+)\)$`)

// loadsDeviations are inputs Python accepts and Unmarshal refuses because
// pyval cannot hold the result.
var loadsDeviations = map[string]error{
	"lone_high_surrogate": ErrSurrogate,
	"lone_low_surrogate":  ErrSurrogate,
	"high_then_non_low":   ErrSurrogate,
}

func TestPythonLoads(t *testing.T) {
	pc := loadPythonCases(t)
	for _, c := range pc.Loads {
		t.Run(c.Name, func(t *testing.T) {
			v, err := Unmarshal([]byte(c.JSON))
			if want, ok := loadsDeviations[c.Name]; ok {
				if !errors.Is(err, want) {
					t.Fatalf("got %v, %v; want %v (Python gives %s)", v, err, want, *c.Repr)
				}
				return
			}
			if strings.HasPrefix(c.Error, "ValueError: Exceeds the limit") {
				if !errors.Is(err, ErrRange) {
					t.Fatalf("got %v, %v; want ErrRange (Python: %s)", v, err, c.Error)
				}
				return
			}
			if c.Error != "" {
				var se *SyntaxError
				if !errors.As(err, &se) || !errors.Is(err, ErrSyntax) {
					t.Fatalf("got %v, %v; want a syntax error like Python's %s", v, err, c.Error)
				}
				m := pyPos.FindStringSubmatch(c.Error)
				line, _ := strconv.Atoi(m[1])
				col, _ := strconv.Atoi(m[2])
				char, _ := strconv.Atoi(m[3])
				off := len(string([]rune(c.JSON)[:char]))
				if se.Line != line || se.Column != col || se.Offset != off {
					t.Errorf("got %v; want line %d column %d byte %d (Python: %s)", err, line, col, off, c.Error)
				}
				pyMsg := strings.TrimPrefix(c.Error[:strings.Index(c.Error, ": line")], "JSONDecodeError: ")
				if se.Msg != pyMsg {
					t.Errorf("message %q, Python says %q", se.Msg, pyMsg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := pyval.Repr(v); got != *c.Repr {
				t.Errorf("\n got %s\nwant %s", got, *c.Repr)
			}
		})
	}
}

// yamlDeviations are documents PyYAML loads into values pyval cannot hold.
var yamlDeviations = map[string]error{
	"timestamp": ErrUnsupported, // datetime.date
	"set":       ErrUnsupported, // set
}

func TestPythonYAML(t *testing.T) {
	pc := loadPythonCases(t)
	t.Logf("expected values from PyYAML %s", pc.Meta["pyyaml"])
	for _, c := range pc.YAML {
		t.Run(c.Name, func(t *testing.T) {
			v, err := FromYAML([]byte(c.YAML))
			if want, ok := yamlDeviations[c.Name]; ok {
				if !errors.Is(err, want) {
					t.Fatalf("got %v, %v; want %v (PyYAML gives %s)", v, err, want, *c.Repr)
				}
				return
			}
			if c.Error != "" {
				if err == nil {
					t.Fatalf("got %s; want an error like PyYAML's %s", pyval.Repr(v), c.Error)
				}
				t.Logf("error %v (PyYAML: %s)", err, c.Error)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := pyval.Repr(v); got != *c.Repr {
				t.Errorf("\n got %s\nwant %s", got, *c.Repr)
			}
			got, err := Canonical(v)
			switch {
			case c.CanonicalError != "":
				if want := pythonErrSentinel(t, c.CanonicalError); !errors.Is(err, want) {
					t.Errorf("Canonical: got %q, %v; want %v (Python: %s)", got, err, want, c.CanonicalError)
				}
			case err != nil:
				t.Errorf("Canonical: %v", err)
			case string(got) != *c.Canonical:
				t.Errorf("Canonical\n got %q\nwant %q", got, *c.Canonical)
			}
		})
	}
}
