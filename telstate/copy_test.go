package telstate_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/telstate"
	"github.com/sdpkit/sdpkit/telstate/backend"
)

func TestCopyTo(t *testing.T) {
	ctx := context.Background()
	src, dst := telstate.New(), telstate.New()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(src.Set(ctx, "attr", pyval.Str("a")))
	must(src.View("ns").Set(ctx, "attr", pyval.IntOf(2)))
	for i := 0; i < 2500; i++ { // more than one batch of keys
		must(src.Add(ctx, "sensor", pyval.IntOf(int64(i)), telstate.At(float64(i))))
	}
	must(src.SetIndexed(ctx, "idx", pyval.IntOf(1), pyval.Bytes("x")))
	// dst's conflicting attribute is replaced, as RDB loading does.
	must(dst.Set(ctx, "attr", pyval.Str("old")))
	must(dst.Set(ctx, "keep", pyval.None))

	n, err := src.View("ignored").CopyTo(ctx, dst)
	if err != nil || n != 4 {
		t.Fatalf("CopyTo = %d, %v; want 4 keys", n, err)
	}
	for _, k := range []string{"attr", "ns_attr", "sensor", "idx"} {
		a, _, err := backend.ReadRecord(ctx, src.Backend(), []byte(k))
		must(err)
		b, ok, err := backend.ReadRecord(ctx, dst.Backend(), []byte(k))
		must(err)
		if !ok || !reflect.DeepEqual(a, b) {
			t.Errorf("key %s differs after the copy", k)
		}
	}
	if ok, _ := dst.Exists(ctx, "keep"); !ok {
		t.Errorf("CopyTo removed a key of dst")
	}
	n, err = src.CopyTo(ctx, dst, "attr", "missing")
	if n != 1 || !errors.Is(err, telstate.ErrKeyNotFound) {
		t.Errorf("CopyTo with a missing key = %d, %v", n, err)
	}
}
