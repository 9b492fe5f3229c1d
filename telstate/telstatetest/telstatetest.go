// Package telstatetest is the conformance suite for telstate backends.
//
// Every backend.Backend implementation runs the same table of behaviours
// of katsdptelstate's TelescopeState (views and prefixes, immutability
// rules, sensors and the full get_range matrix, indexed keys, waits, RDB
// round trips) through the telstate API:
//
//	func TestConformance(t *testing.T) {
//		telstatetest.Run(t, func(t *testing.T) backend.Backend {
//			return mybackend.New(...) // empty, private to this test
//		})
//	}
//
// newBackend is called once per case and must return an empty backend that
// no other case uses; Run closes it when the case ends. Results are those
// of katsdptelstate with a Redis server (for instance get_range with a start
// after the end), which is what every backend must reproduce.
package telstatetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/telstate"
	"github.com/sdpkit/sdpkit/telstate/backend"
	"github.com/sdpkit/sdpkit/telstate/encoding"
)

// Case is one conformance check. It gets a TelescopeState over a fresh
// backend (root view, pickles not allowed) and that TelescopeState's
// factory for more fresh backends (for round trips).
type Case struct {
	Name string
	Run  func(t *testing.T, e *Env)
}

// Env is what a Case works with.
type Env struct {
	TS *telstate.TelescopeState
	// NewBackend returns another empty backend (closed with the test).
	NewBackend func() backend.Backend
	Ctx        context.Context
}

// Cases returns the table Run executes, for callers that want to select
// or extend it.
func Cases() []Case {
	var cs []Case
	cs = append(cs, viewCases()...)
	cs = append(cs, immutableCases()...)
	cs = append(cs, keyCases()...)
	cs = append(cs, mutableCases()...)
	cs = append(cs, rangeCases()...)
	cs = append(cs, indexedCases()...)
	cs = append(cs, waitCases()...)
	cs = append(cs, rdbCases()...)
	return cs
}

// Run runs every case of Cases as a subtest, each on a backend from
// newBackend.
func Run(t *testing.T, newBackend func(t *testing.T) backend.Backend) {
	t.Helper()
	for _, c := range Cases() {
		t.Run(c.Name, func(t *testing.T) {
			fresh := func() backend.Backend {
				b := newBackend(t)
				t.Cleanup(func() { b.Close() })
				return b
			}
			e := &Env{
				TS:         telstate.New(telstate.WithBackend(fresh()), telstate.WithAllowPickle(false)),
				NewBackend: fresh,
				Ctx:        context.Background(),
			}
			c.Run(t, e)
		})
	}
}

// ---- helpers ---------------------------------------------------------

func enc(t *testing.T, v pyval.Value) []byte {
	t.Helper()
	b, err := encoding.Encode(v)
	if err != nil {
		t.Fatalf("encode %s: %v", pyval.Repr(v), err)
	}
	return b
}

// same reports whether two values are the same Python value of the same
// type (stricter than pyval.Equal, which has 1 == 1.0 == True).
func same(t *testing.T, got, want pyval.Value) bool {
	t.Helper()
	if got == nil || want == nil {
		return got == nil && want == nil
	}
	if got.Kind() != want.Kind() {
		return false
	}
	if d, ok := want.(*pyval.Dict); ok {
		return pyval.Equal(got, d)
	}
	if a, ok := want.(*pyval.NDArray); ok {
		g := got.(*pyval.NDArray)
		return g.DType.Equal(a.DType) && fmt.Sprint(g.Shape) == fmt.Sprint(a.Shape) && bytes.Equal(g.CData(), a.CData())
	}
	return bytes.Equal(enc(t, got), enc(t, want))
}

func wantValue(t *testing.T, got, want pyval.Value) {
	t.Helper()
	if !same(t, got, want) {
		t.Fatalf("got %s, want %s", repr(got), repr(want))
	}
}

func repr(v pyval.Value) string {
	if v == nil {
		return "<nil>"
	}
	return pyval.Repr(v)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, err error, target error, contains ...string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error %v, want one matching %v", err, target)
	}
	for _, c := range contains {
		if !strings.Contains(err.Error(), c) {
			t.Errorf("error %q does not mention %q", err, c)
		}
	}
}

func get(t *testing.T, e *Env, ts *telstate.TelescopeState, key string) pyval.Value {
	t.Helper()
	v, err := ts.Get(e.Ctx, key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return v
}

// times returns the timestamps of samples.
func times(ss []telstate.Sample) []float64 {
	out := make([]float64, len(ss))
	for i, s := range ss {
		out[i] = s.Timestamp
	}
	return out
}

func equalFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] || math.Signbit(a[i]) != math.Signbit(b[i]) {
			return false
		}
	}
	return true
}

func strList(ss ...string) pyval.List {
	l := make(pyval.List, len(ss))
	for i, s := range ss {
		l[i] = pyval.Str(s)
	}
	return l
}

func i64(v int64) pyval.Int { return pyval.IntOf(v) }

// ---- views -----------------------------------------------------------

func viewCases() []Case {
	return []Case{
		{"view/prefixes", func(t *testing.T, e *Env) {
			ts := e.TS
			cases := []struct {
				ts   *telstate.TelescopeState
				want []string
			}{
				{ts, []string{""}},
				{ts.View("ns"), []string{"ns_", ""}},
				{ts.View("ns_"), []string{"ns_", ""}},
				{ts.View("ns").View("ns_child_grandchild"), []string{"ns_child_grandchild_", "ns_", ""}},
				{ts.View(""), []string{"", ""}},
				{ts.View("ns").View("x", telstate.Exclusive()), []string{"x_"}},
				{ts.View("ns", telstate.NoSeparator()), []string{"ns", ""}},
				{ts.View("a").View("b").Root(), []string{""}},
			}
			for i, c := range cases {
				if got := c.ts.Prefixes(); fmt.Sprint(got) != fmt.Sprint(c.want) || len(got) != len(c.want) {
					t.Errorf("case %d: prefixes %q, want %q", i, got, c.want)
				}
			}
			if got := telstate.Join("a", "b", "c"); got != "a_b_c" {
				t.Errorf("Join = %q", got)
			}
			if telstate.SEPARATOR != "_" {
				t.Errorf("SEPARATOR = %q", telstate.SEPARATOR)
			}
		}},
		{"view/writes go to the first prefix", func(t *testing.T, e *Env) {
			ns := e.TS.View("ns")
			must(t, ns.Set(e.Ctx, "a", i64(1)))
			must(t, ns.Add(e.Ctx, "s", i64(2), telstate.At(1)))
			must(t, ns.SetIndexed(e.Ctx, "i", pyval.Str("k"), i64(3)))
			keys, err := e.TS.Keys(e.Ctx, "*")
			must(t, err)
			if fmt.Sprint(keys) != "[ns_a ns_i ns_s]" {
				t.Fatalf("keys %q", keys)
			}
			if _, err := e.TS.Get(e.Ctx, "a"); !errors.Is(err, telstate.ErrKeyNotFound) {
				t.Fatalf("root sees the namespaced key: %v", err)
			}
			wantValue(t, get(t, e, e.TS, "ns_a"), i64(1))
		}},
		{"view/reads fall back to later prefixes", func(t *testing.T, e *Env) {
			must(t, e.TS.Set(e.Ctx, "a", pyval.Str("root")))
			ns := e.TS.View("ns").View("sub")
			wantValue(t, get(t, e, ns, "a"), pyval.Str("root"))
			ok, err := ns.Exists(e.Ctx, "a")
			must(t, err)
			if !ok {
				t.Fatal("Exists via view is false")
			}
			if _, err := e.TS.View("x", telstate.Exclusive()).Get(e.Ctx, "a"); !errors.Is(err, telstate.ErrKeyNotFound) {
				t.Fatalf("exclusive view sees the root key: %v", err)
			}
		}},
		{"view/inner namespace shadows every kind", func(t *testing.T, e *Env) {
			ns := e.TS.View("ns")
			must(t, e.TS.Set(e.Ctx, "x", i64(1)))
			must(t, ns.Add(e.Ctx, "x", i64(2), telstate.At(5)))
			wantValue(t, get(t, e, ns, "x"), i64(2))
			wantValue(t, get(t, e, e.TS, "x"), i64(1))
			kt, err := ns.KeyType(e.Ctx, "x")
			must(t, err)
			if kt != telstate.KeyMutable {
				t.Fatalf("view key type %v", kt)
			}
			ss, err := ns.GetRange(e.Ctx, "x", telstate.Start(0))
			must(t, err)
			if !equalFloats(times(ss), []float64{5}) {
				t.Fatalf("get_range via view: %v", times(ss))
			}
			if _, err := e.TS.GetRange(e.Ctx, "x"); !errors.Is(err, telstate.ErrImmutableKey) {
				t.Fatalf("get_range of the root immutable: %v", err)
			}
		}},
		{"view/str and bytes keys, undecodable bytes", func(t *testing.T, e *Env) {
			key := "caf\xc3\xa9_\xff"
			must(t, e.TS.Set(e.Ctx, key, i64(7)))
			wantValue(t, get(t, e, e.TS, key), i64(7))
			keys, err := e.TS.Keys(e.Ctx, "caf*")
			must(t, err)
			if len(keys) != 1 || keys[0] != key {
				t.Fatalf("keys %q", keys)
			}
			_, err = e.TS.Get(e.Ctx, "missing\xff")
			wantErr(t, err, telstate.ErrKeyNotFound, `'missing\udcff'`)
		}},
	}
}

// ---- immutables --------------------------------------------------------

func immutableCases() []Case {
	structured := func(t *testing.T) *pyval.NDArray {
		dt, err := pyval.DTypeFromDescr(pyval.List{
			pyval.Tuple{pyval.Str("x"), pyval.Str("<f8")},
			pyval.Tuple{pyval.Str("name"), pyval.Str("|S3")},
			pyval.Tuple{pyval.Str("n"), pyval.Str("<i2"), pyval.Tuple{i64(2)}},
		})
		must(t, err)
		data := make([]byte, 2*dt.ItemSize())
		for i := range data {
			data[i] = byte(i * 7)
		}
		a, err := pyval.NewNDArray(dt, []int{2}, false, data)
		must(t, err)
		return a
	}
	return []Case{
		{"immutable/set and get every kind of value", func(t *testing.T, e *Env) {
			d := pyval.StrDict("a", i64(1), "b", pyval.List{pyval.Float(1.5), pyval.None})
			values := []pyval.Value{
				pyval.None, pyval.Bool(true), pyval.Bool(false), i64(0), i64(-1), i64(1 << 40),
				pyval.UintOf(math.MaxUint64), pyval.Float(1.5), pyval.Float(math.Inf(-1)), pyval.Float(-0.0),
				pyval.Complex(complex(1, -2)), pyval.Str(""), pyval.Str("café"), pyval.Bytes("\x00\xff"),
				pyval.Tuple{}, pyval.Tuple{i64(1), pyval.Str("x")}, strList("a", "b"), d,
				pyval.ArrayOf([]float64{1, 2, 3}), pyval.ArrayOf([]int32{1, 2, 3, 4, 5, 6}, 2, 3),
				pyval.ScalarOf(float32(1.5)), pyval.ScalarOf(true), structured(t),
			}
			for i, v := range values {
				key := fmt.Sprintf("k%d", i)
				must(t, e.TS.Set(e.Ctx, key, v))
				wantValue(t, get(t, e, e.TS, key), v)
			}
			kt, err := e.TS.KeyType(e.Ctx, "k0")
			must(t, err)
			if kt != telstate.KeyImmutable {
				t.Fatalf("key type %v", kt)
			}
		}},
		{"immutable/re-set with an equal value", func(t *testing.T, e *Env) {
			values := []pyval.Value{i64(4096), pyval.Float(1.5), pyval.Tuple{pyval.Str("a"), pyval.Float(1.5)},
				pyval.ArrayOf([]float64{1, 2}), structured(t), pyval.None}
			for i, v := range values {
				key := fmt.Sprintf("k%d", i)
				must(t, e.TS.Set(e.Ctx, key, v))
				if err := e.TS.Set(e.Ctx, key, v); err != nil {
					t.Fatalf("re-set %s: %v", repr(v), err)
				}
			}
		}},
		{"immutable/different value is refused", func(t *testing.T, e *Env) {
			must(t, e.TS.Set(e.Ctx, "demo_attr", i64(4096)))
			err := e.TS.Set(e.Ctx, "demo_attr", i64(4097))
			wantErr(t, err, telstate.ErrImmutableKey, "'demo_attr'", "4096", "4097")
			wantValue(t, get(t, e, e.TS, "demo_attr"), i64(4096))
			// The view's first prefix is the one written and reported.
			ns := e.TS.View("ns")
			must(t, ns.Set(e.Ctx, "a", i64(1)))
			wantErr(t, ns.Set(e.Ctx, "a", i64(2)), telstate.ErrImmutableKey, "'ns_a'")
		}},
		{"immutable/str and bytes with the same UTF-8 are equal", func(t *testing.T, e *Env) {
			must(t, e.TS.Set(e.Ctx, "s", pyval.Str("café")))
			must(t, e.TS.Set(e.Ctx, "s", pyval.Bytes("café")))
			must(t, e.TS.Set(e.Ctx, "b", pyval.Bytes("hello")))
			must(t, e.TS.Set(e.Ctx, "b", pyval.Str("hello")))
			wantValue(t, get(t, e, e.TS, "b"), pyval.Bytes("hello")) // first write kept
			// No recursion into containers.
			must(t, e.TS.Set(e.Ctx, "l", strList("café")))
			wantErr(t, e.TS.Set(e.Ctx, "l", pyval.List{pyval.Bytes("café")}), telstate.ErrImmutableKey)
		}},
		{"immutable/1, 1.0 and True conflict", func(t *testing.T, e *Env) {
			must(t, e.TS.Set(e.Ctx, "one", i64(1)))
			for _, v := range []pyval.Value{pyval.Float(1), pyval.Bool(true), pyval.ScalarOf(int64(1)), pyval.Str("1")} {
				wantErr(t, e.TS.Set(e.Ctx, "one", v), telstate.ErrImmutableKey)
			}
			must(t, e.TS.Set(e.Ctx, "d", pyval.StrDict("a", i64(1), "b", i64(2))))
			wantErr(t, e.TS.Set(e.Ctx, "d", pyval.StrDict("b", i64(2), "a", i64(1))), telstate.ErrImmutableKey)
		}},
		{"immutable/kind conflicts", func(t *testing.T, e *Env) {
			must(t, e.TS.Add(e.Ctx, "sensor", i64(1), telstate.At(1)))
			must(t, e.TS.Set(e.Ctx, "attr", i64(1)))
			must(t, e.TS.SetIndexed(e.Ctx, "idx", i64(1), i64(1)))
			wantErr(t, e.TS.Set(e.Ctx, "sensor", i64(1)), telstate.ErrImmutableKey, "'sensor'", "immutable")
			wantErr(t, e.TS.Set(e.Ctx, "idx", i64(1)), telstate.ErrImmutableKey, "'idx'")
			wantErr(t, e.TS.Add(e.Ctx, "attr", i64(1), telstate.At(5)), telstate.ErrImmutableKey, "'attr'", "mutable")
			wantErr(t, e.TS.Add(e.Ctx, "idx", i64(1), telstate.At(5)), telstate.ErrImmutableKey, "'idx'", "mutable")
			wantErr(t, e.TS.SetIndexed(e.Ctx, "attr", i64(1), i64(1)), telstate.ErrImmutableKey, "'attr'", "indexed")
			wantErr(t, e.TS.SetIndexed(e.Ctx, "sensor", i64(1), i64(1)), telstate.ErrImmutableKey, "'sensor'", "indexed")
			wantErr(t, e.TS.Add(e.Ctx, "sensor", i64(1), telstate.Immutable()), telstate.ErrImmutableKey, "immutable")
		}},
		{"immutable/add with Immutable() is Set", func(t *testing.T, e *Env) {
			must(t, e.TS.Add(e.Ctx, "a", i64(5), telstate.Immutable(), telstate.At(math.NaN())))
			ok, err := e.TS.IsImmutable(e.Ctx, "a")
			must(t, err)
			if !ok {
				t.Fatal("not immutable")
			}
			wantErr(t, e.TS.Add(e.Ctx, "a", i64(6), telstate.Immutable()), telstate.ErrImmutableKey)
		}},
		{"immutable/undecodable previous value", func(t *testing.T, e *Env) {
			// A Python 2 protocol-0 pickle of 'hello', and an empty value,
			// stored behind the client's back (as an old RDB file would).
			_, err := e.TS.Backend().SetImmutable(e.Ctx, []byte("pickled"), []byte("S'hello'\np0\n."))
			must(t, err)
			_, err = e.TS.Backend().SetImmutable(e.Ctx, []byte("empty"), []byte{})
			must(t, err)
			wantErr(t, e.TS.Set(e.Ctx, "pickled", pyval.Str("hello")), telstate.ErrImmutableKey, "failed to decode the previous value")
			wantErr(t, e.TS.Set(e.Ctx, "empty", pyval.Str("")), telstate.ErrImmutableKey, "failed to decode the previous value")
			_, err = e.TS.Get(e.Ctx, "pickled")
			wantErr(t, err, telstate.ErrDecode, "'pickled'")
			// Identical bytes are equal without decoding.
			old, err := e.TS.Backend().SetImmutable(e.Ctx, []byte("pickled"), []byte("S'hello'\np0\n."))
			must(t, err)
			if string(old) != "S'hello'\np0\n." {
				t.Fatalf("SetImmutable returned %q", old)
			}
		}},
		{"immutable/None values", func(t *testing.T, e *Env) {
			must(t, e.TS.Set(e.Ctx, "none", pyval.None))
			v, err := e.TS.GetDefault(e.Ctx, "none", pyval.Str("default"))
			must(t, err)
			wantValue(t, v, pyval.None)
			v, err = e.TS.GetDefault(e.Ctx, "missing", pyval.Str("default"))
			must(t, err)
			wantValue(t, v, pyval.Str("default"))
			must(t, e.TS.Add(e.Ctx, "sensor", pyval.None, telstate.At(3)))
			ss, err := e.TS.GetRange(e.Ctx, "sensor")
			must(t, err)
			if len(ss) != 1 || !same(t, ss[0].Value, pyval.None) || ss[0].Timestamp != 3 {
				t.Fatalf("get_range %v", ss)
			}
			ok, err := e.TS.Exists(e.Ctx, "none")
			must(t, err)
			if !ok {
				t.Fatal("None-valued key does not exist")
			}
		}},
		{"immutable/encode errors write nothing", func(t *testing.T, e *Env) {
			wantErr(t, e.TS.Set(e.Ctx, "bad", pyval.Str("\xff")), telstate.ErrEncode, "'bad'")
			wantErr(t, e.TS.Add(e.Ctx, "bad", pyval.List{pyval.Str("\xfe")}, telstate.At(1)), telstate.ErrEncode)
			ok, err := e.TS.Exists(e.Ctx, "bad")
			must(t, err)
			if ok {
				t.Fatal("key written despite the error")
			}
		}},
		{"immutable/get encoded", func(t *testing.T, e *Env) {
			must(t, e.TS.Set(e.Ctx, "demo_attr", i64(4096)))
			v, err := e.TS.GetEncoded(e.Ctx, "demo_attr")
			must(t, err)
			if v.Type != telstate.KeyImmutable || !bytes.Equal(v.Value, []byte{0xff, 0xcd, 0x10, 0x00}) {
				t.Fatalf("GetEncoded = %+v", v)
			}
			v.Value[0] = 0 // a copy: the store is unaffected
			wantValue(t, get(t, e, e.TS, "demo_attr"), i64(4096))
			_, err = e.TS.GetEncoded(e.Ctx, "missing")
			wantErr(t, err, telstate.ErrKeyNotFound)
		}},
	}
}

// ---- whole-store operations -------------------------------------------

func keyCases() []Case {
	populate := func(t *testing.T, e *Env) {
		for _, k := range []string{"b", "a", "ab", "abc", "a*c", "a?c", "a[c", `a\c`, "ns_x", "bc", "hello", "hallo", "hillo", "hbllo", "h\xe9llo"} {
			must(t, e.TS.Set(e.Ctx, k, i64(1)))
		}
	}
	globs := []struct {
		pattern string
		want    string
	}{
		{"*", "[a a*c a?c a[c a\\c ab abc b bc hallo hbllo hello hillo h\xe9llo ns_x]"},
		{"a*", `[a a*c a?c a[c a\c ab abc]`},
		{"a?c", `[a*c a?c a[c a\c abc]`},
		{"h?llo", "[hallo hbllo hello hillo h\xe9llo]"}, // bytewise: ? is one byte
		{"h[ae]llo", `[hallo hello]`},
		{"h[^e]llo", "[hallo hbllo hillo h\xe9llo]"},
		{"h[a-b]llo", `[hallo hbllo]`},
		{"h[b-a]llo", `[hallo hbllo]`},
		{`a\*c`, `[a*c]`},
		{`a\?c`, `[a?c]`},
		{`a[\[]c`, `[a[c]`},
		{`a\\c`, `[a\c]`},
		{"*c", `[a*c a?c a[c a\c abc bc]`},
		{"ns_*", `[ns_x]`},
		{"nothing*", `[]`},
		{"", `[]`},
		{"a", `[a]`},
		{"**b*", `[ab abc b bc hbllo]`},
		{"h[!e]llo", `[hello]`}, // Redis: '!' does not negate, it is a member
	}
	cases := []Case{
		{"keys/sorted and ignoring the view", func(t *testing.T, e *Env) {
			populate(t, e)
			k1, err := e.TS.Keys(e.Ctx, "*")
			must(t, err)
			k2, err := e.TS.View("ns", telstate.Exclusive()).Keys(e.Ctx, "*")
			must(t, err)
			if len(k1) != 15 || fmt.Sprint(k1) != fmt.Sprint(k2) {
				t.Fatalf("keys %q vs view keys %q", k1, k2)
			}
			for i := 1; i < len(k1); i++ {
				if k1[i-1] >= k1[i] {
					t.Fatalf("keys not sorted: %q", k1)
				}
			}
		}},
		{"keys/delete removes the key under every prefix", func(t *testing.T, e *Env) {
			ns := e.TS.View("ns")
			must(t, e.TS.Set(e.Ctx, "x", i64(1)))
			must(t, ns.Add(e.Ctx, "x", i64(2), telstate.At(1)))
			must(t, e.TS.Set(e.Ctx, "y", i64(3)))
			must(t, ns.Delete(e.Ctx, "x"))
			for _, k := range []string{"x", "ns_x"} {
				if ok, _ := e.TS.Exists(e.Ctx, k); ok {
					t.Errorf("%s survived delete", k)
				}
			}
			must(t, ns.Delete(e.Ctx, "never-there"))
			wantValue(t, get(t, e, e.TS, "y"), i64(3))
			// A deleted key may be re-created with another kind.
			must(t, e.TS.SetIndexed(e.Ctx, "x", pyval.Str("a"), i64(1)))
		}},
		{"keys/clear empties the whole store", func(t *testing.T, e *Env) {
			populate(t, e)
			must(t, e.TS.View("other").Add(e.Ctx, "s", i64(1), telstate.At(1)))
			must(t, e.TS.View("ns", telstate.Exclusive()).Clear(e.Ctx))
			keys, err := e.TS.Keys(e.Ctx, "*")
			must(t, err)
			if len(keys) != 0 {
				t.Fatalf("keys after clear: %q", keys)
			}
		}},
		{"keys/key type across namespaces", func(t *testing.T, e *Env) {
			ns := e.TS.View("ns")
			must(t, e.TS.Set(e.Ctx, "a", i64(1)))
			must(t, e.TS.Add(e.Ctx, "b", i64(1), telstate.At(1)))
			must(t, e.TS.SetIndexed(e.Ctx, "c", i64(1), i64(1)))
			must(t, ns.Add(e.Ctx, "a", i64(1), telstate.At(1)))
			for _, c := range []struct {
				ts   *telstate.TelescopeState
				key  string
				want telstate.KeyType
				imm  bool
			}{
				{e.TS, "a", telstate.KeyImmutable, true},
				{e.TS, "b", telstate.KeyMutable, false},
				{e.TS, "c", telstate.KeyIndexed, false},
				{e.TS, "d", telstate.KeyNone, false},
				{ns, "a", telstate.KeyMutable, false},
				{ns, "b", telstate.KeyMutable, false},
				{ns, "c", telstate.KeyIndexed, false},
				{ns, "d", telstate.KeyNone, false},
			} {
				got, err := c.ts.KeyType(e.Ctx, c.key)
				must(t, err)
				imm, err := c.ts.IsImmutable(e.Ctx, c.key)
				must(t, err)
				if got != c.want || imm != c.imm {
					t.Errorf("%v KeyType(%q) = %v, IsImmutable %v; want %v, %v", c.ts.Prefixes(), c.key, got, imm, c.want, c.imm)
				}
			}
		}},
	}
	for _, g := range globs {
		cases = append(cases, Case{"keys/glob " + g.pattern, func(t *testing.T, e *Env) {
			populate(t, e)
			got, err := e.TS.Keys(e.Ctx, g.pattern)
			must(t, err)
			if s := fmt.Sprint(got); s != g.want {
				t.Fatalf("Keys(%q) = %s, want %s", g.pattern, s, g.want)
			}
		}})
	}
	return cases
}

// ---- sensors -----------------------------------------------------------

func mutableCases() []Case {
	return []Case{
		{"mutable/get returns the newest sample, not the last written", func(t *testing.T, e *Env) {
			must(t, e.TS.Add(e.Ctx, "s", pyval.Str("second"), telstate.At(2)))
			must(t, e.TS.Add(e.Ctx, "s", pyval.Str("first"), telstate.At(1)))
			wantValue(t, get(t, e, e.TS, "s"), pyval.Str("second"))
			v, err := e.TS.GetEncoded(e.Ctx, "s")
			must(t, err)
			if v.Type != telstate.KeyMutable || v.Timestamp != 2 || !bytes.Equal(v.Value, enc(t, pyval.Str("second"))) {
				t.Fatalf("GetEncoded = %+v", v)
			}
		}},
		{"mutable/default timestamp is now", func(t *testing.T, e *Env) {
			before := telstate.Now()
			must(t, e.TS.Add(e.Ctx, "s", i64(1)))
			after := telstate.Now()
			ss, err := e.TS.GetRange(e.Ctx, "s")
			must(t, err)
			if len(ss) != 1 || ss[0].Timestamp < before-1e-3 || ss[0].Timestamp > after+1e-3 {
				t.Fatalf("sample %v not in [%v, %v]", ss, before, after)
			}
		}},
		{"mutable/invalid timestamps", func(t *testing.T, e *Env) {
			for _, ts := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), -1, -1e-300} {
				wantErr(t, e.TS.Add(e.Ctx, "s", i64(1), telstate.At(ts)), telstate.ErrInvalidTimestamp, "'s'")
			}
			if ok, _ := e.TS.Exists(e.Ctx, "s"); ok {
				t.Fatal("key created by a refused add")
			}
			must(t, e.TS.Add(e.Ctx, "s", i64(1), telstate.At(math.Copysign(0, -1))))
			ss, err := e.TS.GetRange(e.Ctx, "s", telstate.Start(0))
			must(t, err)
			if !equalFloats(times(ss), []float64{0}) {
				t.Fatalf("-0.0 stored as %v", times(ss))
			}
		}},
		{"mutable/duplicate samples are dropped", func(t *testing.T, e *Env) {
			for range 3 {
				must(t, e.TS.Add(e.Ctx, "s", pyval.Str("scan"), telstate.At(10.5)))
			}
			must(t, e.TS.Add(e.Ctx, "s", pyval.Str("scan"), telstate.At(11)))
			must(t, e.TS.Add(e.Ctx, "s", pyval.Str("scan"), telstate.At(10.5)))
			ss, err := e.TS.GetRange(e.Ctx, "s", telstate.Start(0))
			must(t, err)
			if !equalFloats(times(ss), []float64{10.5, 11}) {
				t.Fatalf("samples at %v", times(ss))
			}
		}},
		{"mutable/equal timestamps order by encoded value", func(t *testing.T, e *Env) {
			const t0 = 1700000000.0
			must(t, e.TS.Add(e.Ctx, "demo_sensor", pyval.Str("track"), telstate.At(t0)))
			must(t, e.TS.Add(e.Ctx, "demo_sensor", pyval.Str("slew"), telstate.At(t0)))
			must(t, e.TS.Add(e.Ctx, "demo_sensor", i64(1), telstate.At(t0)))
			ss, err := e.TS.GetRange(e.Ctx, "demo_sensor", telstate.Start(0))
			must(t, err)
			// ff 01 < ff a4 'slew' < ff a5 'track'
			want := []pyval.Value{i64(1), pyval.Str("slew"), pyval.Str("track")}
			if len(ss) != len(want) {
				t.Fatalf("got %d samples", len(ss))
			}
			for i, w := range want {
				wantValue(t, ss[i].Value, w)
			}
			// "Latest" is the greatest member, not the last written.
			wantValue(t, get(t, e, e.TS, "demo_sensor"), pyval.Str("track"))
			raw, err := e.TS.GetRangeEncoded(e.Ctx, "demo_sensor", telstate.Start(t0), telstate.End(t0), telstate.IncludeEnd())
			must(t, err)
			if len(raw) != 3 || !bytes.Equal(raw[2].Value, []byte("\xff\xa5track")) || raw[2].Timestamp != t0 {
				t.Fatalf("GetRangeEncoded = %+v", raw)
			}
		}},
		{"mutable/add samples in a batch", func(t *testing.T, e *Env) {
			batch := []telstate.Sample{
				{Value: i64(3), Timestamp: 3}, {Value: i64(1), Timestamp: 1},
				{Value: i64(2), Timestamp: 2}, {Value: i64(1), Timestamp: 1},
			}
			must(t, e.TS.AddSamples(e.Ctx, "s", batch))
			ss, err := e.TS.GetRange(e.Ctx, "s", telstate.Start(0))
			must(t, err)
			if !equalFloats(times(ss), []float64{1, 2, 3}) {
				t.Fatalf("samples at %v", times(ss))
			}
			bad := []telstate.Sample{{Value: i64(9), Timestamp: 9}, {Value: i64(1), Timestamp: math.NaN()}}
			wantErr(t, e.TS.AddSamples(e.Ctx, "s", bad), telstate.ErrInvalidTimestamp)
			wantErr(t, e.TS.AddSamples(e.Ctx, "t", []telstate.Sample{{Value: pyval.Str("\xff"), Timestamp: 1}}), telstate.ErrEncode)
			ss, err = e.TS.GetRange(e.Ctx, "s", telstate.Start(0))
			must(t, err)
			if len(ss) != 3 {
				t.Fatalf("a refused batch wrote %d samples", len(ss)-3)
			}
			must(t, e.TS.Set(e.Ctx, "attr", i64(1)))
			wantErr(t, e.TS.AddSamples(e.Ctx, "attr", batch), telstate.ErrImmutableKey)
		}},
		{"mutable/many out-of-order samples stay sorted", func(t *testing.T, e *Env) {
			const n = 500
			for i := range n {
				ts := float64((i * 7919) % n) // a permutation of 0..n-1
				must(t, e.TS.Add(e.Ctx, "s", pyval.Float(ts), telstate.At(ts)))
			}
			ss, err := e.TS.GetRange(e.Ctx, "s", telstate.Start(0))
			must(t, err)
			if len(ss) != n {
				t.Fatalf("%d samples", len(ss))
			}
			for i, s := range ss {
				if s.Timestamp != float64(i) || !same(t, s.Value, pyval.Float(i)) {
					t.Fatalf("sample %d = %v", i, s)
				}
			}
		}},
	}
}

// ---- get_range -----------------------------------------------------------

func rangeCases() []Case {
	type q struct {
		name string
		opts []telstate.RangeOption
		want []float64
	}
	S, E, P, I := telstate.Start, telstate.End, telstate.IncludePrevious, telstate.IncludeEnd
	negZero := math.Copysign(0, -1)
	inf := math.Inf(1)
	// Samples at 1, 2, 3, 4 (Redis's results, spec §3.5 and §13.7).
	matrix := []q{
		{"default is the latest", nil, []float64{4}},
		{"st=0 is everything", []telstate.RangeOption{S(0)}, []float64{1, 2, 3, 4}},
		{"st=-1 is everything", []telstate.RangeOption{S(-1)}, []float64{1, 2, 3, 4}},
		{"st=2", []telstate.RangeOption{S(2)}, []float64{2, 3, 4}},
		{"st=2 et=3", []telstate.RangeOption{S(2), E(3)}, []float64{2}},
		{"st=2 et=3 include_end", []telstate.RangeOption{S(2), E(3), I()}, []float64{2, 3}},
		{"st=2.5 include_previous", []telstate.RangeOption{S(2.5), P(true)}, []float64{2, 3, 4}},
		{"st=2 include_previous", []telstate.RangeOption{S(2), P(true)}, []float64{1, 2, 3, 4}},
		{"st=1 include_previous (nothing before)", []telstate.RangeOption{S(1), P(true)}, []float64{1, 2, 3, 4}},
		{"et=3 is the newest before 3", []telstate.RangeOption{E(3)}, []float64{2}},
		{"et=3 include_end", []telstate.RangeOption{E(3), I()}, []float64{2, 3}},
		{"et=3 include_previous false", []telstate.RangeOption{E(3), P(false)}, nil},
		{"et=0.5", []telstate.RangeOption{E(0.5)}, nil},
		{"et=-1", []telstate.RangeOption{E(-1)}, nil},
		{"st=-1 et=-0.0", []telstate.RangeOption{S(-1), E(negZero)}, nil},
		{"st=0 et=0", []telstate.RangeOption{S(0), E(0)}, nil},
		{"st=4 et=4 include_end", []telstate.RangeOption{S(4), E(4), I()}, []float64{4}},
		{"st=4 et=4", []telstate.RangeOption{S(4), E(4)}, nil},
		{"st>et", []telstate.RangeOption{S(3.5), E(1.5)}, nil},
		{"st>et include_previous (Redis)", []telstate.RangeOption{S(3.5), E(1.5), P(true)}, []float64{3}},
		{"st=inf", []telstate.RangeOption{S(inf)}, nil},
		{"st=inf include_previous", []telstate.RangeOption{S(inf), P(true)}, []float64{4}},
		{"st=5", []telstate.RangeOption{S(5)}, nil},
		{"st=5 include_previous", []telstate.RangeOption{S(5), P(true)}, []float64{4}},
		{"st=1 et=inf include_end", []telstate.RangeOption{S(1), E(inf), I()}, []float64{1, 2, 3, 4}},
		{"st=-inf et=2", []telstate.RangeOption{S(math.Inf(-1)), E(2)}, []float64{1}},
	}
	// Samples at 0, 1.
	zero := []q{
		{"st=0 et=0 include_end", []telstate.RangeOption{S(0), E(0), I()}, []float64{0}},
		{"st=0 et=-0.0 include_end", []telstate.RangeOption{S(0), E(negZero), I()}, []float64{0}},
		{"st=-1 et=0 include_end", []telstate.RangeOption{S(-1), E(0), I()}, []float64{0}},
		{"st=0 et=0", []telstate.RangeOption{S(0), E(0)}, nil},
		{"st=0 et=1", []telstate.RangeOption{S(0), E(1)}, []float64{0}},
		{"et=1 (previous is the sample at 0)", []telstate.RangeOption{E(1)}, []float64{0}},
		{"st=0 include_previous", []telstate.RangeOption{S(0), P(true)}, []float64{0, 1}},
		{"st=-0.0 et=5e-324 include_previous", []telstate.RangeOption{S(negZero), E(5e-324), P(true)}, []float64{0}},
		{"st=5e-324", []telstate.RangeOption{S(5e-324)}, []float64{1}},
	}
	run := func(setup []float64, c q) func(t *testing.T, e *Env) {
		return func(t *testing.T, e *Env) {
			for _, ts := range setup {
				must(t, e.TS.Add(e.Ctx, "s", pyval.Float(ts*10), telstate.At(ts)))
			}
			ss, err := e.TS.GetRange(e.Ctx, "s", c.opts...)
			must(t, err)
			if !equalFloats(times(ss), c.want) && !(len(ss) == 0 && len(c.want) == 0) {
				t.Fatalf("got samples at %v, want %v", times(ss), c.want)
			}
			for _, s := range ss {
				wantValue(t, s.Value, pyval.Float(s.Timestamp*10))
			}
			raw, err := e.TS.GetRangeEncoded(e.Ctx, "s", c.opts...)
			must(t, err)
			if len(raw) != len(ss) {
				t.Fatalf("GetRangeEncoded gave %d samples, GetRange %d", len(raw), len(ss))
			}
			for i := range raw {
				if raw[i].Timestamp != ss[i].Timestamp || !bytes.Equal(raw[i].Value, enc(t, ss[i].Value)) {
					t.Fatalf("GetRangeEncoded[%d] = %+v", i, raw[i])
				}
			}
		}
	}
	var cases []Case
	for _, c := range matrix {
		cases = append(cases, Case{"get_range/" + c.name, run([]float64{1, 2, 3, 4}, c)})
	}
	for _, c := range zero {
		cases = append(cases, Case{"get_range/with a sample at 0/" + c.name, run([]float64{0, 1}, c)})
	}
	cases = append(cases,
		Case{"get_range/errors", func(t *testing.T, e *Env) {
			must(t, e.TS.Set(e.Ctx, "attr", i64(1)))
			must(t, e.TS.SetIndexed(e.Ctx, "idx", i64(1), i64(1)))
			must(t, e.TS.Add(e.Ctx, "s", i64(1), telstate.At(1)))
			for _, opts := range [][]telstate.RangeOption{nil, {S(0)}, {S(0), E(0)}, {S(inf)}} {
				_, err := e.TS.GetRange(e.Ctx, "attr", opts...)
				wantErr(t, err, telstate.ErrImmutableKey, "'attr' is immutable, cannot use get_range")
				_, err = e.TS.GetRange(e.Ctx, "idx", opts...)
				wantErr(t, err, telstate.ErrImmutableKey, "'idx'")
				_, err = e.TS.GetRange(e.Ctx, "missing", opts...)
				wantErr(t, err, telstate.ErrKeyNotFound, "'missing'")
				_, err = e.TS.GetRangeEncoded(e.Ctx, "missing", opts...)
				wantErr(t, err, telstate.ErrKeyNotFound)
			}
			for _, opts := range [][]telstate.RangeOption{{S(math.NaN())}, {E(math.NaN())}, {S(0), E(math.NaN())}} {
				_, err := e.TS.GetRange(e.Ctx, "s", opts...)
				wantErr(t, err, telstate.ErrInvalidTimestamp, "'s'")
			}
		}},
	)
	return cases
}

// ---- indexed -------------------------------------------------------------

func indexedCases() []Case {
	return []Case{
		{"indexed/set and get", func(t *testing.T, e *Env) {
			subs := []pyval.Value{pyval.Str("a"), i64(7), pyval.Tuple{i64(1), pyval.Str("x")}, pyval.Float(2.5),
				pyval.None, pyval.Bytes("b"), pyval.Bool(false), pyval.ScalarOf(int32(-5))}
			for i, sk := range subs {
				must(t, e.TS.SetIndexed(e.Ctx, "idx", sk, pyval.List{i64(int64(i))}))
			}
			for i, sk := range subs {
				v, err := e.TS.GetIndexed(e.Ctx, "idx", sk)
				must(t, err)
				wantValue(t, v, pyval.List{i64(int64(i))})
				raw, err := e.TS.GetIndexedEncoded(e.Ctx, "idx", sk)
				must(t, err)
				if !bytes.Equal(raw, enc(t, pyval.List{i64(int64(i))})) {
					t.Fatalf("GetIndexedEncoded = %x", raw)
				}
			}
			kt, err := e.TS.KeyType(e.Ctx, "idx")
			must(t, err)
			if kt != telstate.KeyIndexed {
				t.Fatalf("key type %v", kt)
			}
		}},
		{"indexed/get returns a dict in encoded sub-key order", func(t *testing.T, e *Env) {
			must(t, e.TS.SetIndexed(e.Ctx, "idx", pyval.Str("b"), i64(2)))
			must(t, e.TS.SetIndexed(e.Ctx, "idx", pyval.Str("a"), i64(1)))
			must(t, e.TS.SetIndexed(e.Ctx, "idx", i64(7), pyval.Str("seven")))
			v := get(t, e, e.TS, "idx")
			d, ok := v.(*pyval.Dict)
			if !ok {
				t.Fatalf("Get of an indexed key gave %s", repr(v))
			}
			// ff 07 < ff a1 61 < ff a1 62
			want := []pyval.Item{{Key: i64(7), Value: pyval.Str("seven")}, {Key: pyval.Str("a"), Value: i64(1)}, {Key: pyval.Str("b"), Value: i64(2)}}
			if d.Len() != len(want) {
				t.Fatalf("dict %s", repr(d))
			}
			for i, it := range d.Items() {
				if !same(t, it.Key, want[i].Key) || !same(t, it.Value, want[i].Value) {
					t.Fatalf("dict %s, want order 7, 'a', 'b'", repr(d))
				}
			}
			raw, err := e.TS.GetEncoded(e.Ctx, "idx")
			must(t, err)
			if raw.Type != telstate.KeyIndexed || len(raw.Entries) != 3 || !bytes.Equal(raw.Entries[1].SubKey, []byte("\xff\xa1a")) ||
				!bytes.Equal(raw.Entries[1].Value, []byte("\xff\x01")) {
				t.Fatalf("GetEncoded = %+v", raw)
			}
		}},
		{"indexed/1, 1.0 and True are distinct sub-keys but merge in Get", func(t *testing.T, e *Env) {
			must(t, e.TS.SetIndexed(e.Ctx, "idx", i64(1), pyval.Str("int")))
			must(t, e.TS.SetIndexed(e.Ctx, "idx", pyval.Bool(true), pyval.Str("bool")))
			must(t, e.TS.SetIndexed(e.Ctx, "idx", pyval.Float(1), pyval.Str("float")))
			for _, c := range []struct{ sk, want pyval.Value }{
				{i64(1), pyval.Str("int")}, {pyval.Bool(true), pyval.Str("bool")}, {pyval.Float(1), pyval.Str("float")},
			} {
				v, err := e.TS.GetIndexed(e.Ctx, "idx", c.sk)
				must(t, err)
				wantValue(t, v, c.want)
			}
			raw, err := e.TS.GetEncoded(e.Ctx, "idx")
			must(t, err)
			if len(raw.Entries) != 3 {
				t.Fatalf("%d entries stored", len(raw.Entries))
			}
			d := get(t, e, e.TS, "idx").(*pyval.Dict)
			// Order ff 01 < ff c3 < ff cb: key 1 kept, value of 1.0 wins.
			if d.Len() != 1 || !same(t, d.Items()[0].Key, i64(1)) || !same(t, d.Items()[0].Value, pyval.Str("float")) {
				t.Fatalf("merged dict %s", repr(d))
			}
		}},
		{"indexed/immutability of sub-keys", func(t *testing.T, e *Env) {
			must(t, e.TS.SetIndexed(e.Ctx, "idx", pyval.Str("a"), pyval.Str("x")))
			must(t, e.TS.SetIndexed(e.Ctx, "idx", pyval.Str("a"), pyval.Str("x")))
			must(t, e.TS.SetIndexed(e.Ctx, "idx", pyval.Str("a"), pyval.Bytes("x")))
			err := e.TS.SetIndexed(e.Ctx, "idx", pyval.Str("a"), pyval.Str("y"))
			wantErr(t, err, telstate.ErrImmutableKey, "'idx'['a']", "'x'", "'y'")
			must(t, e.TS.SetIndexed(e.Ctx, "idx", pyval.Str("b"), pyval.Str("y")))
		}},
		{"indexed/unhashable sub-key writes nothing", func(t *testing.T, e *Env) {
			for _, sk := range []pyval.Value{pyval.List{i64(1)}, pyval.StrDict("a", i64(1)), pyval.ArrayOf([]int64{1}),
				pyval.Tuple{pyval.List{}}} {
				err := e.TS.SetIndexed(e.Ctx, "idx", sk, i64(1))
				wantErr(t, err, pyval.ErrUnhashable, "'idx'")
			}
			if ok, _ := e.TS.Exists(e.Ctx, "idx"); ok {
				t.Fatal("key created by a refused set_indexed")
			}
		}},
		{"indexed/missing key vs missing sub-key", func(t *testing.T, e *Env) {
			must(t, e.TS.SetIndexed(e.Ctx, "demo_indexed", pyval.Tuple{i64(1), pyval.Str("x")}, pyval.List{pyval.Float(1.5)}))
			_, err := e.TS.GetIndexed(e.Ctx, "demo_indexed", pyval.Str("zzz"))
			wantErr(t, err, telstate.ErrSubKeyNotFound, "'demo_indexed'", "'zzz'")
			wantErr(t, err, telstate.ErrKeyNotFound)
			_, err = e.TS.GetIndexed(e.Ctx, "missing", pyval.Str("zzz"))
			wantErr(t, err, telstate.ErrKeyNotFound, "'missing'")
			if errors.Is(err, telstate.ErrSubKeyNotFound) {
				t.Fatalf("missing key reported as a missing sub-key: %v", err)
			}
			_, err = e.TS.GetIndexedEncoded(e.Ctx, "demo_indexed", pyval.Str("zzz"))
			wantErr(t, err, telstate.ErrSubKeyNotFound)
			// Reads encode the sub-key without a hashability check, as
			// Python does: an unhashable one is simply absent.
			_, err = e.TS.GetIndexed(e.Ctx, "demo_indexed", pyval.List{i64(1)})
			wantErr(t, err, telstate.ErrSubKeyNotFound)
		}},
		{"indexed/wrong kind", func(t *testing.T, e *Env) {
			must(t, e.TS.Set(e.Ctx, "demo_attr", i64(1)))
			must(t, e.TS.Add(e.Ctx, "s", i64(1), telstate.At(1)))
			for _, k := range []string{"demo_attr", "s"} {
				_, err := e.TS.GetIndexed(e.Ctx, k, pyval.Str("a"))
				wantErr(t, err, telstate.ErrImmutableKey, "'"+k+"'")
			}
		}},
		{"indexed/namespace shadowing", func(t *testing.T, e *Env) {
			ns := e.TS.View("ns")
			must(t, e.TS.SetIndexed(e.Ctx, "idx", pyval.Str("a"), i64(1)))
			must(t, e.TS.SetIndexed(e.Ctx, "idx", pyval.Str("b"), i64(2)))
			v, err := ns.GetIndexed(e.Ctx, "idx", pyval.Str("a"))
			must(t, err)
			wantValue(t, v, i64(1))
			must(t, ns.SetIndexed(e.Ctx, "idx", pyval.Str("b"), i64(20)))
			v, err = ns.GetIndexed(e.Ctx, "idx", pyval.Str("b"))
			must(t, err)
			wantValue(t, v, i64(20))
			// The namespace's key hides the root's sub-key 'a'.
			_, err = ns.GetIndexed(e.Ctx, "idx", pyval.Str("a"))
			wantErr(t, err, telstate.ErrSubKeyNotFound, "'ns_idx'")
			d := get(t, e, ns, "idx").(*pyval.Dict)
			if d.Len() != 1 {
				t.Fatalf("view dict %s", repr(d))
			}
			// A non-indexed key in the namespace shadows too.
			ns2 := e.TS.View("ns2")
			must(t, ns2.Set(e.Ctx, "idx", i64(0)))
			_, err = ns2.GetIndexed(e.Ctx, "idx", pyval.Str("a"))
			wantErr(t, err, telstate.ErrImmutableKey, "'ns2_idx'")
		}},
	}
}

// ---- rdb -------------------------------------------------------------------

func rdbCases() []Case {
	populate := func(t *testing.T, e *Env) {
		must(t, e.TS.Set(e.Ctx, "immutable", pyval.Str("abc")))
		must(t, e.TS.Set(e.Ctx, "bin\x00key", pyval.Bytes("\x00\x01\xff")))
		must(t, e.TS.View("cbf").Set(e.Ctx, "n_chans", i64(4096)))
		for i := range 100 { // more than the 63 members of a ziplist
			must(t, e.TS.Add(e.Ctx, "big_sensor", i64(int64(i)), telstate.At(float64(i)/4)))
		}
		must(t, e.TS.Add(e.Ctx, "mutable", pyval.Str("def"), telstate.At(1234567890.0)))
		must(t, e.TS.Add(e.Ctx, "mutable", pyval.Str("ghi"), telstate.At(1234567891.5)))
		must(t, e.TS.SetIndexed(e.Ctx, "indexed", pyval.Str("subkey"), pyval.Str("xyz")))
		must(t, e.TS.SetIndexed(e.Ctx, "indexed", i64(7), pyval.Tuple{i64(1), i64(2)}))
		for i := range 300 {
			must(t, e.TS.SetIndexed(e.Ctx, "big_indexed", i64(int64(i)), pyval.Bytes(bytes.Repeat([]byte{byte(i)}, i))))
		}
	}
	// dump lists every key's raw contents, for comparing stores.
	dump := func(t *testing.T, ctx context.Context, b backend.Backend) string {
		ts := telstate.New(telstate.WithBackend(b))
		keys, err := ts.Keys(ctx, "*")
		must(t, err)
		var sb strings.Builder
		for _, k := range keys {
			v, err := ts.GetEncoded(ctx, k)
			must(t, err)
			fmt.Fprintf(&sb, "%q %v %x %x\n", k, v.Type, v.Value, v.Entries)
			if v.Type == telstate.KeyMutable {
				ss, err := ts.GetRangeEncoded(ctx, k, telstate.Start(0))
				must(t, err)
				fmt.Fprintf(&sb, "  %v\n", ss)
			}
		}
		return sb.String()
	}
	loader := func(t *testing.T, b backend.Backend) {
		if _, ok := b.(backend.Loader); !ok {
			t.Skipf("backend %T does not implement backend.Loader", b)
		}
	}
	return []Case{
		{"rdb/write and load round trip", func(t *testing.T, e *Env) {
			populate(t, e)
			var buf bytes.Buffer
			n, err := e.TS.WriteRDB(e.Ctx, &buf)
			must(t, err)
			if n != 7 {
				t.Fatalf("wrote %d keys", n)
			}
			if !bytes.HasPrefix(buf.Bytes(), []byte("REDIS0006\xfe\x00")) {
				t.Fatalf("header %q", buf.Bytes()[:11])
			}
			b2 := e.NewBackend()
			loader(t, b2)
			ts2 := telstate.New(telstate.WithBackend(b2))
			n, err = ts2.View("ignored").LoadRDB(e.Ctx, bytes.NewReader(buf.Bytes()))
			must(t, err)
			if n != 7 {
				t.Fatalf("loaded %d keys", n)
			}
			if a, b := dump(t, e.Ctx, e.TS.Backend()), dump(t, e.Ctx, b2); a != b {
				t.Fatalf("contents differ after the round trip:\n%s\nvs\n%s", a, b)
			}
			wantValue(t, get(t, e, ts2.View("cbf"), "n_chans"), i64(4096))
		}},
		{"rdb/strings and sorted sets are byte-exact", func(t *testing.T, e *Env) {
			must(t, e.TS.Set(e.Ctx, "immutable", pyval.Str("abc")))
			must(t, e.TS.Add(e.Ctx, "mutable", pyval.Str("ghi"), telstate.At(1234567891.5)))
			must(t, e.TS.Add(e.Ctx, "mutable", pyval.Str("def"), telstate.At(1234567890.0)))
			var buf bytes.Buffer
			n, err := e.TS.WriteRDB(e.Ctx, &buf, "immutable", "mutable")
			must(t, err)
			// The first two records of telstate-writer-tiny.rdb
			// (redis-layout.txt §8), then EOF and the checksum. (Its
			// third record, a hash, lists fields in Python's insertion
			// order; backends list them sorted.)
			w := "524544495330303036fe000009696d6d757461626c6505ffa36162630c076d757461626c652d2d0000002a0000000400" +
				"000d41d26580b4800000ffa36465660ff1020d41d26580b4e00000ffa36768690ff1ff" + "ff"
			got := fmt.Sprintf("%x", buf.Bytes())
			if n != 2 || len(got) < 16 || got[:len(got)-16] != w {
				t.Fatalf("file (%d keys)\n%s\nwant\n%s + 8-byte CRC", n, got, w)
			}
		}},
		{"rdb/missing keys are counted and reported", func(t *testing.T, e *Env) {
			populate(t, e)
			var buf bytes.Buffer
			n, err := e.TS.WriteRDB(e.Ctx, &buf, "immutable", "nope", "mutable")
			wantErr(t, err, telstate.ErrKeyNotFound, "'nope'", "1 of 3")
			if n != 2 {
				t.Fatalf("wrote %d keys", n)
			}
			b2 := e.NewBackend()
			loader(t, b2)
			n, err = telstate.New(telstate.WithBackend(b2)).LoadRDB(e.Ctx, &buf)
			must(t, err)
			if n != 2 {
				t.Fatalf("the partial file holds %d keys", n)
			}
		}},
		{"rdb/files", func(t *testing.T, e *Env) {
			loader(t, e.TS.Backend())
			dir := t.TempDir()
			path := dir + "/dump.rdb"
			n, err := e.TS.DumpFile(e.Ctx, path)
			must(t, err)
			if n != 0 {
				t.Fatalf("wrote %d keys from an empty store", n)
			}
			if _, err := e.TS.LoadFile(e.Ctx, path); err == nil {
				t.Fatal("an RDB file with no keys was left behind")
			}
			populate(t, e)
			n, err = e.TS.DumpFile(e.Ctx, path, "indexed", "big_sensor")
			must(t, err)
			if n != 2 {
				t.Fatalf("wrote %d keys", n)
			}
			b2 := e.NewBackend()
			ts2 := telstate.New(telstate.WithBackend(b2))
			n, err = ts2.LoadFile(e.Ctx, path)
			must(t, err)
			if keys, _ := ts2.Keys(e.Ctx, "*"); n != 2 || fmt.Sprint(keys) != "[big_sensor indexed]" {
				t.Fatalf("loaded %d keys: %q", n, keys)
			}
			// Loading ignores immutability: it replaces existing keys.
			must(t, e.TS.Delete(e.Ctx, "indexed"))
			must(t, e.TS.Set(e.Ctx, "indexed", i64(1)))
			_, err = e.TS.LoadFile(e.Ctx, path)
			must(t, err)
			kt, _ := e.TS.KeyType(e.Ctx, "indexed")
			if kt != telstate.KeyIndexed {
				t.Fatalf("loaded key has type %v", kt)
			}
			_, err = e.TS.LoadFile(e.Ctx, dir+"/does-not-exist.rdb")
			if err == nil || errors.Is(err, telstate.ErrRdbParse) {
				t.Fatalf("missing file: %v", err)
			}
		}},
		{"rdb/malformed input", func(t *testing.T, e *Env) {
			loader(t, e.TS.Backend())
			populate(t, e)
			var buf bytes.Buffer
			_, err := e.TS.WriteRDB(e.Ctx, &buf)
			must(t, err)
			for _, bad := range [][]byte{nil, []byte("NOTREDIS0006"), buf.Bytes()[:buf.Len()/2], buf.Bytes()[1:]} {
				_, err := e.TS.LoadRDB(e.Ctx, bytes.NewReader(bad))
				wantErr(t, err, telstate.ErrRdbParse)
			}
		}},
	}
}
