package pyjson

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"github.com/sdpkit/sdpkit/internal/vectors"
	"github.com/sdpkit/sdpkit/pyval"
)

type encodingVectors struct {
	Data struct {
		Name  string `json:"name"`
		Cases []struct {
			InputJSON string `json:"input_json"`
			Output    string `json:"output"`
			OutputHex string `json:"output_hex"`
			Error     string `json:"error"`
		} `json:"cases"`
	} `json:"data"`
}

// TestConfigVectors checks every case of shared/vectors/config/
// json_encoding.json: the input parsed as Python's json.loads parses it,
// then written by Canonical, must give the recorded bytes.
func TestConfigVectors(t *testing.T) {
	raw, err := os.ReadFile(vectors.Path(t, "config", "json_encoding.json"))
	if err != nil {
		t.Fatal(err)
	}
	var vec encodingVectors
	if err := json.Unmarshal(raw, &vec); err != nil {
		t.Fatal(err)
	}
	if len(vec.Data.Cases) == 0 {
		t.Fatal("no cases")
	}
	for i, c := range vec.Data.Cases {
		v, err := Unmarshal([]byte(c.InputJSON))
		if c.Error != "" {
			// dict_to_json asserts a dict before calling json.dumps; that
			// check is the config layer's. Here: the input is valid JSON and
			// not a dict.
			if err != nil {
				t.Errorf("case %d: Unmarshal(%s): %v", i, c.InputJSON, err)
			} else if _, isDict := v.(*pyval.Dict); isDict {
				t.Errorf("case %d: expected a non-dict input for error %q", i, c.Error)
			}
			continue
		}
		want, err2 := hex.DecodeString(c.OutputHex)
		if err2 != nil || string(want) != c.Output {
			t.Fatalf("case %d: output_hex does not match output", i)
		}
		if err != nil {
			t.Errorf("case %d: Unmarshal(%s): %v", i, c.InputJSON, err)
			continue
		}
		got, err := Canonical(v)
		if err != nil {
			t.Errorf("case %d: Canonical: %v", i, err)
			continue
		}
		if string(got) != string(want) {
			t.Errorf("case %d: Canonical(%s)\n got %q\nwant %q", i, c.InputJSON, got, want)
		}
	}
}
