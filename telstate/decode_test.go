package telstate_test

import (
	"context"
	"errors"
	"testing"

	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/telstate"
)

// TestDecode: Decode reads stored bytes as Get does, pickle setting
// included.
func TestDecode(t *testing.T) {
	ctx := context.Background()
	pickled := []byte("\x80\x02K\x05.") // pickle of the int 5, protocol 2
	for _, allow := range []bool{false, true} {
		ts := telstate.New(telstate.WithAllowPickle(allow))
		if err := ts.Add(ctx, "k", pyval.Tuple{pyval.Str("a"), pyval.Float(1.5)}); err != nil {
			t.Fatal(err)
		}
		raw, err := ts.GetEncoded(ctx, "k")
		if err != nil {
			t.Fatal(err)
		}
		v, err := ts.Decode(raw.Value)
		if err != nil || !pyval.Equal(v, pyval.Tuple{pyval.Str("a"), pyval.Float(1.5)}) {
			t.Errorf("allow %v: Decode: %v, %v", allow, v, err)
		}
		v, err = ts.Decode(pickled)
		switch {
		case allow && (err != nil || !pyval.Equal(v, pyval.IntOf(5))):
			t.Errorf("pickles allowed: %v, %v", v, err)
		case !allow && !errors.Is(err, telstate.ErrDecode):
			t.Errorf("pickles refused: %v, %v", v, err)
		}
	}
}
