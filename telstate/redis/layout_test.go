package redis

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sdpkit/sdpkit/internal/testenv"
	"github.com/sdpkit/sdpkit/internal/vectors"
	"github.com/sdpkit/sdpkit/telstate/backend"
)

// This file replays, through the Backend, every operation of
// shared/vectors/telstate/redis-layout.txt (made by running Python's
// katsdptelstate against redis-server 7.0.15) and checks that the server
// sees the same commands (via MONITOR), that subscribers get the same
// messages, and that the keys end up holding the same bytes, down to
// DUMP.

// layoutBlock is one ">>> ..." operation of redis-layout.txt.
type layoutBlock struct {
	header  string
	hasCmds bool
	cmds    []string // `[db0] "CMD" "arg" ...`, as MONITOR shows them
	pubs    []string // "<channel repr> <message hex>"
}

// layoutState is one "=== state of key ... ===" section.
type layoutState struct {
	key   string
	lines map[string][]string // "TYPE", "GET (hex)", "ZRANGE member", ... -> values
}

func parseLayout(t *testing.T) (map[string]*layoutBlock, []layoutState) {
	t.Helper()
	data, err := os.ReadFile(vectors.Path(t, "telstate", "redis-layout.txt"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := map[string]*layoutBlock{}
	var states []layoutState
	var cur *layoutBlock
	var st *layoutState
	for _, line := range strings.Split(string(data), "\n") {
		trim := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, ">>> "):
			cur, st = &layoutBlock{header: line[4:]}, nil
			if _, dup := blocks[cur.header]; dup {
				t.Fatalf("duplicate block %q", cur.header)
			}
			blocks[cur.header] = cur
		case strings.HasPrefix(line, "=== state of key '"):
			k := strings.TrimPrefix(line, "=== state of key '")
			k = k[:strings.IndexByte(k, '\'')]
			states = append(states, layoutState{key: k, lines: map[string][]string{}})
			st, cur = &states[len(states)-1], nil
		case strings.HasPrefix(line, "#"):
			cur, st = nil, nil
		case cur != nil && strings.HasPrefix(trim, "commands seen by redis-server"):
			cur.hasCmds = true
		case cur != nil && strings.HasPrefix(trim, "[db0] "):
			cur.cmds = append(cur.cmds, trim)
		case cur != nil && strings.HasPrefix(trim, "PUBLISH channel="):
			f := strings.Fields(trim)
			ch := strings.TrimSuffix(strings.TrimPrefix(f[1], "channel=b'"), "'")
			cur.pubs = append(cur.pubs, ch+" "+strings.TrimPrefix(f[2], "message(hex)="))
		case st != nil && strings.Contains(line, ":"):
			i := strings.Index(line, ":")
			name, val := strings.TrimSpace(line[:i]), strings.TrimSpace(line[i+1:])
			st.lines[name] = append(st.lines[name], val)
		}
	}
	return blocks, states
}

// monitorConn is a raw MONITOR connection.
type monitorConn struct {
	conn net.Conn
	r    *bufio.Reader
}

func startMonitor(t *testing.T, addr string) *monitorConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	m := &monitorConn{conn: c, r: bufio.NewReader(c)}
	if _, err := c.Write([]byte("MONITOR\r\n")); err != nil {
		t.Fatal(err)
	}
	if l := m.line(t); l != "+OK" {
		t.Fatalf("MONITOR replied %q", l)
	}
	return m
}

func (m *monitorConn) line(t *testing.T) string {
	t.Helper()
	_ = m.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	l, err := m.r.ReadString('\n')
	if err != nil {
		t.Fatalf("reading MONITOR: %v", err)
	}
	return strings.TrimRight(l, "\r\n")
}

// until returns the commands MONITOR shows before the marker, as token
// lists (each token still quoted and escaped as MONITOR prints it).
func (m *monitorConn) until(t *testing.T, marker string) [][]string {
	t.Helper()
	var out [][]string
	for {
		l := m.line(t)
		i := strings.Index(l, "] ")
		if i < 0 {
			t.Fatalf("odd MONITOR line %q", l)
		}
		toks := monitorTokens(l[i+2:])
		if len(toks) >= 2 && toks[0] == `"PUBLISH"` && toks[1] == `"`+marker+`"` {
			return out
		}
		out = append(out, toks)
	}
}

// monitorTokens splits MONITOR's quoted arguments.
func monitorTokens(s string) []string {
	var toks []string
	for i := 0; i < len(s); {
		if s[i] != '"' {
			i++
			continue
		}
		j := i + 1
		for j < len(s) && s[j] != '"' {
			if s[j] == '\\' {
				j++
			}
			j++
		}
		toks = append(toks, s[i:j+1])
		i = j + 1
	}
	return toks
}

// normalise renders our command as redis-layout.txt shows Python's:
// command names and keywords in capitals (go-redis sends lower case),
// script SHA1s by name, script bodies omitted. It returns "" for commands
// that set up connections (which differ between clients).
func normalise(toks []string, shaNames map[string]string) string {
	toks = slices.Clone(toks)
	up := func(i int) {
		if i < len(toks) {
			toks[i] = strings.ToUpper(toks[i])
		}
	}
	up(0)
	switch toks[0] {
	case `"HELLO"`, `"CLIENT"`, `"SELECT"`, `"PING"`, `"AUTH"`, `"PSUBSCRIBE"`:
		return ""
	case `"EVALSHA"`:
		if name, ok := shaNames[strings.Trim(toks[1], `"`)]; ok {
			toks[1] = "<sha1 of " + name + ".lua>"
		}
	case `"SCRIPT"`:
		up(1)
		if len(toks) > 2 {
			toks[2] = "<script body omitted>"
		}
	case `"FLUSHDB"`:
		up(1)
	}
	for i, tok := range toks {
		if tok == `"limit"` {
			toks[i] = `"LIMIT"`
		}
	}
	return "[db0] " + strings.Join(toks, " ")
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tsOf returns the float64 whose big-endian bytes are hx.
func tsOf(t testing.TB, hx string) float64 {
	return math.Float64frombits(binary.BigEndian.Uint64(unhex(t, hx)))
}

func TestLayoutMatchesPython(t *testing.T) {
	blocks, states := parseLayout(t)
	s := testenv.Redis(t)
	ctx := context.Background()
	b := openTest(t, s)
	shaNames := map[string]string{
		b.sc.setImmutable.Hash(): "set_immutable", b.sc.addMutable.Hash(): "add_mutable",
		b.sc.setIndexed.Hash(): "set_indexed", b.sc.get.Hash(): "get", b.sc.getIndexed.Hash(): "get_indexed",
	}

	// A subscriber for every update channel, like a Python waiter.
	sub := goredis.NewClient(&goredis.Options{Addr: s.Addr(), Protocol: 2})
	t.Cleanup(func() { sub.Close() })
	ps := sub.PSubscribe(ctx, "update/*")
	t.Cleanup(func() { ps.Close() })
	if _, err := ps.Receive(ctx); err != nil { // the confirmation
		t.Fatal(err)
	}
	msgs := ps.Channel()
	mon := startMonitor(t, s.Addr())

	const marker = "update/__marker__"
	step := func(header string, fn func(t *testing.T)) {
		t.Helper()
		blk := blocks[header]
		if blk == nil {
			t.Fatalf("no block %q in redis-layout.txt", header)
		}
		delete(blocks, header)
		fn(t)
		s.MustDo(t, "PUBLISH", marker, header)
		var got []string
		for _, toks := range mon.until(t, marker) {
			if n := normalise(toks, shaNames); n != "" {
				got = append(got, n)
			}
		}
		// The wait blocks trace Python's whole wait; only their writes
		// are replayed here.
		isWait := strings.Contains(header, "wait_")
		if blk.hasCmds && !isWait && !slices.Equal(got, blk.cmds) {
			t.Errorf("%s: commands\n got: %s\nwant: %s", header, strings.Join(got, "\n      "), strings.Join(blk.cmds, "\n      "))
		}
		var pubs []string
		for {
			select {
			case m := <-msgs:
				if m.Channel == marker {
					goto done
				}
				pubs = append(pubs, m.Channel+" "+hex.EncodeToString([]byte(m.Payload)))
			case <-time.After(10 * time.Second):
				t.Fatalf("%s: no marker message", header)
			}
		}
	done:
		if !slices.Equal(pubs, blk.pubs) {
			t.Errorf("%s: messages\n got: %q\nwant: %q", header, pubs, blk.pubs)
		}
	}
	// wantOld(want)(old, err) checks the result of SetImmutable or
	// SetIndexed: the stored value, "" for "created".
	wantOld := func(want string) func([]byte, error) {
		return func(old []byte, err error) {
			t.Helper()
			if err != nil || hex.EncodeToString(old) != want {
				t.Errorf("got old %x, %v; want %q", old, err, want)
			}
		}
	}
	wantErr := func(err, target error) {
		t.Helper()
		if !errors.Is(err, target) {
			t.Errorf("error %v, want %v", err, target)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Error(err)
		}
	}
	k := func(s string) []byte { return []byte(s) }
	inf := math.Inf(1)

	// 1. Immutable keys.
	step("ts.add('demo_attr', 4096, immutable=True)", func(t *testing.T) {
		wantOld("")(b.SetImmutable(ctx, k("demo_attr"), unhex(t, "ffcd1000")))
	})
	step("ts.add('demo_attr', 4096, immutable=True)  # again, same value", func(t *testing.T) {
		wantOld("ffcd1000")(b.SetImmutable(ctx, k("demo_attr"), unhex(t, "ffcd1000")))
	})
	step("ts.add('demo_attr', 4097, immutable=True)  # different value", func(t *testing.T) {
		wantOld("ffcd1000")(b.SetImmutable(ctx, k("demo_attr"), unhex(t, "ffcd1001")))
	})
	step("ts['demo_tuple'] = ('a', 1.5)", func(t *testing.T) {
		wantOld("")(b.SetImmutable(ctx, k("demo_tuple"), unhex(t, "ffc70c0192a161cb3ff8000000000000")))
	})
	step("ts.view('cbf').add('n_chans', 4096, immutable=True)  # prefix 'cbf_'", func(t *testing.T) {
		wantOld("")(b.SetImmutable(ctx, k("cbf_n_chans"), unhex(t, "ffcd1000")))
	})

	// 2. Sensors.
	const t0, t1 = 1700000000.0, 1700000010.5
	step("ts.add('demo_sensor', 'track', ts=1700000000.0)", func(t *testing.T) {
		must(b.AddMutable(ctx, k("demo_sensor"), unhex(t, "ffa5747261636b"), t0))
	})
	step("ts.add('demo_sensor', 'slew', ts=1700000000.0)  # same ts, different value", func(t *testing.T) {
		must(b.AddMutable(ctx, k("demo_sensor"), unhex(t, "ffa4736c6577"), t0))
	})
	step("ts.add('demo_sensor', 'scan', ts=1700000010.5)", func(t *testing.T) {
		must(b.AddMutable(ctx, k("demo_sensor"), unhex(t, "ffa47363616e"), t1))
	})
	step("ts.add('demo_sensor', 'scan', ts=1700000010.5)  # exact duplicate", func(t *testing.T) {
		must(b.AddMutable(ctx, k("demo_sensor"), unhex(t, "ffa47363616e"), t1))
	})
	step("ts.add('demo_sensor', 42, ts=0.0)", func(t *testing.T) {
		must(b.AddMutable(ctx, k("demo_sensor"), unhex(t, "ff2a"), 0))
	})
	step("ts.add('demo_sensor', 1, ts=-1.0)", func(t *testing.T) {
		wantErr(b.AddMutable(ctx, k("demo_sensor"), unhex(t, "ff01"), -1), backend.ErrInvalidTimestamp)
	})
	step("ts.add('demo_sensor', 1, ts=float('nan'))", func(t *testing.T) {
		wantErr(b.AddMutable(ctx, k("demo_sensor"), unhex(t, "ff01"), math.NaN()), backend.ErrInvalidTimestamp)
	})
	step("ts.add('demo_attr', 1, ts=5.0)  # mutable add to an immutable key", func(t *testing.T) {
		wantErr(b.AddMutable(ctx, k("demo_attr"), unhex(t, "ff01"), 5), backend.ErrImmutableKey)
	})
	step("ts.add('demo_sensor', 1, immutable=True)  # immutable add to a mutable key", func(t *testing.T) {
		_, err := b.SetImmutable(ctx, k("demo_sensor"), unhex(t, "ff01"))
		wantErr(err, backend.ErrImmutableKey)
	})

	// 3. Indexed keys.
	step("ts.set_indexed('demo_indexed', 'a', 1)", func(t *testing.T) {
		wantOld("")(b.SetIndexed(ctx, k("demo_indexed"), unhex(t, "ffa161"), unhex(t, "ff01")))
	})
	step("ts.set_indexed('demo_indexed', (1, 'x'), [1.5])", func(t *testing.T) {
		wantOld("")(b.SetIndexed(ctx, k("demo_indexed"), unhex(t, "ffd6019201a178"), unhex(t, "ff91cb3ff8000000000000")))
	})
	step("ts.set_indexed('demo_indexed', 7, 'seven')", func(t *testing.T) {
		wantOld("")(b.SetIndexed(ctx, k("demo_indexed"), unhex(t, "ff07"), unhex(t, "ffa5736576656e")))
	})
	step("ts.set_indexed('demo_indexed', 7, 'seven')  # same value again", func(t *testing.T) {
		wantOld("ffa5736576656e")(b.SetIndexed(ctx, k("demo_indexed"), unhex(t, "ff07"), unhex(t, "ffa5736576656e")))
	})
	step("ts.set_indexed('demo_indexed', 7, 'eight')  # different value", func(t *testing.T) {
		wantOld("ffa5736576656e")(b.SetIndexed(ctx, k("demo_indexed"), unhex(t, "ff07"), unhex(t, "ffa56569676874")))
	})
	step("ts.set_indexed('demo_attr', 'a', 1)  # indexed write to an immutable key", func(t *testing.T) {
		_, err := b.SetIndexed(ctx, k("demo_attr"), unhex(t, "ffa161"), unhex(t, "ff01"))
		wantErr(err, backend.ErrImmutableKey)
	})

	// 4. Reads.
	wantGet := func(key string, want backend.Value) {
		t.Helper()
		got, err := b.Get(ctx, k(key))
		if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("Get(%q) = %+v, %v; want %+v", key, got, err, want)
		}
	}
	step("ts.get('demo_attr')", func(t *testing.T) {
		wantGet("demo_attr", backend.Value{Type: backend.Immutable, Value: unhex(t, "ffcd1000")})
	})
	step("ts.get('demo_sensor')  # latest = lexicographically last member", func(t *testing.T) {
		wantGet("demo_sensor", backend.Value{Type: backend.Mutable, Value: unhex(t, "ffa47363616e"), Timestamp: t1})
	})
	step("ts.get('demo_indexed')", func(t *testing.T) {
		wantGet("demo_indexed", backend.Value{Type: backend.Indexed, Entries: []backend.Entry{
			{SubKey: unhex(t, "ff07"), Value: unhex(t, "ffa5736576656e")},
			{SubKey: unhex(t, "ffa161"), Value: unhex(t, "ff01")},
			{SubKey: unhex(t, "ffd6019201a178"), Value: unhex(t, "ff91cb3ff8000000000000")},
		}})
	})
	step("ts.get('missing')", func(t *testing.T) {
		_, err := b.Get(ctx, k("missing"))
		wantErr(err, backend.ErrKeyNotFound)
	})
	step("ts.view('cbf')['n_chans']  # tries 'cbf_n_chans' first", func(t *testing.T) {
		wantGet("cbf_n_chans", backend.Value{Type: backend.Immutable, Value: unhex(t, "ffcd1000")})
	})
	step("ts.view('cbf').get('nope')  # tries 'cbf_nope' then 'nope'", func(t *testing.T) {
		for _, key := range []string{"cbf_nope", "nope"} {
			_, err := b.Get(ctx, k(key))
			wantErr(err, backend.ErrKeyNotFound)
		}
	})
	wantRange := func(st, et float64, prev, incl bool, want ...float64) {
		t.Helper()
		ss, err := b.GetRange(ctx, k("demo_sensor"), st, et, prev, incl)
		var got []float64
		for _, s := range ss {
			got = append(got, s.Timestamp)
		}
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("GetRange(%v, %v, %v, %v) = %v, %v; want %v", st, et, prev, incl, got, err, want)
		}
	}
	// The telstate package turns Python's defaults into explicit
	// arguments: st=None -> st=et with include_previous; et=None -> +inf.
	step("ts.get_range('demo_sensor')  # st=None, et=None -> latest only", func(t *testing.T) {
		wantRange(inf, inf, true, false, t1)
	})
	step("ts.get_range('demo_sensor', st=0)", func(t *testing.T) {
		wantRange(0, inf, false, false, 0, t0, t0, t1)
	})
	step("ts.get_range('demo_sensor', st=1700000000.0, et=1700000010.5)", func(t *testing.T) {
		wantRange(t0, t1, false, false, t0, t0)
	})
	step("ts.get_range('demo_sensor', st=1700000000.0, et=1700000010.5, include_end=True)", func(t *testing.T) {
		wantRange(t0, t1, false, true, t0, t0, t1)
	})
	step("ts.get_range('demo_sensor', st=1700000005.0, include_previous=True)", func(t *testing.T) {
		wantRange(1700000005, inf, true, false, t0, t1)
	})
	step("ts.get_range('demo_sensor', et=1700000005.0)  # latest before et", func(t *testing.T) {
		wantRange(1700000005, 1700000005, true, false, t0)
	})
	step("ts.get_range('demo_attr')", func(t *testing.T) {
		_, err := b.GetRange(ctx, k("demo_attr"), inf, inf, true, false)
		wantErr(err, backend.ErrImmutableKey)
	})
	step("ts.get_range('missing')", func(t *testing.T) {
		_, err := b.GetRange(ctx, k("missing"), inf, inf, true, false)
		wantErr(err, backend.ErrKeyNotFound)
	})
	step("ts.get_indexed('demo_indexed', (1, 'x'))", func(t *testing.T) {
		v, ok, err := b.GetIndexed(ctx, k("demo_indexed"), unhex(t, "ffd6019201a178"))
		if err != nil || !ok || hex.EncodeToString(v) != "ff91cb3ff8000000000000" {
			t.Errorf("GetIndexed = %x, %v, %v", v, ok, err)
		}
	})
	step("ts.get_indexed('demo_indexed', 'zzz')  # key exists, sub-key missing", func(t *testing.T) {
		v, ok, err := b.GetIndexed(ctx, k("demo_indexed"), unhex(t, "ffa37a7a7a"))
		if err != nil || ok || v != nil {
			t.Errorf("GetIndexed = %x, %v, %v", v, ok, err)
		}
	})
	step("ts.get_indexed('missing', 'zzz')  # key missing", func(t *testing.T) {
		_, _, err := b.GetIndexed(ctx, k("missing"), unhex(t, "ffa37a7a7a"))
		wantErr(err, backend.ErrKeyNotFound)
	})
	step("ts.get_indexed('demo_attr', 'a')  # wrong type", func(t *testing.T) {
		_, _, err := b.GetIndexed(ctx, k("demo_attr"), unhex(t, "ffa161"))
		wantErr(err, backend.ErrImmutableKey)
	})
	step("ts.key_type('demo_sensor')", func(t *testing.T) {
		if kt, err := b.KeyType(ctx, k("demo_sensor")); kt != backend.Mutable || err != nil {
			t.Errorf("KeyType = %v, %v", kt, err)
		}
	})
	step("'demo_attr' in ts", func(t *testing.T) {
		if ok, err := b.Exists(ctx, k("demo_attr")); !ok || err != nil {
			t.Errorf("Exists = %v, %v", ok, err)
		}
	})
	step("ts.keys('demo_*')", func(t *testing.T) {
		ks, err := b.Keys(ctx, k("demo_*"))
		var got []string
		for _, k := range ks {
			got = append(got, string(k))
		}
		slices.Sort(got)
		if want := []string{"demo_attr", "demo_indexed", "demo_sensor", "demo_tuple"}; err != nil || !slices.Equal(got, want) {
			t.Errorf("Keys = %q, %v", got, err)
		}
	})
	step("ts.get('demo_attr', return_encoded=True)", func(t *testing.T) {
		wantGet("demo_attr", backend.Value{Type: backend.Immutable, Value: unhex(t, "ffcd1000")})
	})

	// The stored bytes, down to DUMP (same server version, same insertion
	// order, so the same listpacks).
	for _, st := range states {
		key := st.key
		check := func(name string, got []string) {
			t.Helper()
			var want []string
			for _, w := range st.lines[name] {
				want = append(want, strings.Fields(w)[0])
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s %s: got %q, want %q", key, name, got, want)
			}
		}
		typ := s.MustDo(t, "TYPE", key).(string)
		check("TYPE", []string{typ})
		check("OBJECT ENCODING", []string{string(s.MustDo(t, "OBJECT", "ENCODING", key).([]byte))})
		switch typ {
		case "string":
			check("GET (hex)", []string{hex.EncodeToString(s.MustDo(t, "GET", key).([]byte))})
		case "zset":
			var got []string
			for _, m := range s.MustDo(t, "ZRANGE", key, "0", "-1").([]any) {
				got = append(got, hex.EncodeToString(m.([]byte)))
			}
			check("ZRANGE member", got)
		case "hash":
			flat := s.MustDo(t, "HGETALL", key).([]any)
			var fields []string
			for i := 0; i < len(flat); i += 2 {
				fields = append(fields, hex.EncodeToString(flat[i].([]byte)))
			}
			slices.Sort(fields)
			check("HGETALL field", fields)
		}
		check("DUMP (redis, hex)", []string{hex.EncodeToString(s.MustDo(t, "DUMP", key).([]byte))})
	}

	// 5. The messages of the wait examples (the waits themselves are the
	// telstate package's; their subscriptions differ in form: one
	// SUBSCRIBE for all channels instead of one per channel).
	waitTS := tsOf(t, "41d954fcbd000000")
	step("ts.view('ns').wait_key('demo_wait', cond, timeout=5) while another thread adds the key 0.3 s later", func(t *testing.T) {
		must(b.AddMutable(ctx, k("demo_wait"), unhex(t, "ffa57265616479"), waitTS))
	})
	step("ts.wait_indexed('demo_wait_idx', ('sub', 1), timeout=5) with a delayed set_indexed", func(t *testing.T) {
		wantOld("")(b.SetIndexed(ctx, k("demo_wait_idx"), unhex(t, "ffc7060192a373756201"), unhex(t, "ffa57265616479")))
	})
	step("aio: await ts.wait_key('demo_aio') while ts.add('demo_aio', 1, immutable=True) happens 0.3 s later", func(t *testing.T) {
		wantOld("")(b.SetImmutable(ctx, k("demo_aio"), unhex(t, "ff01")))
	})
	step("ts.wait_key('demo_attr')  # already satisfied: no subscription", func(t *testing.T) {
		if ok, err := b.Exists(ctx, k("demo_attr")); !ok || err != nil {
			t.Errorf("Exists = %v, %v", ok, err)
		}
	})

	// 6. Delete and clear.
	step("ts.view('cbf').delete('n_chans')  # deletes 'cbf_n_chans' AND 'n_chans'", func(t *testing.T) {
		must(b.Delete(ctx, k("cbf_n_chans")))
		must(b.Delete(ctx, k("n_chans")))
	})
	step("ts.clear()", func(t *testing.T) {
		must(b.Clear(ctx))
	})
	for h := range blocks {
		t.Errorf("block %q of redis-layout.txt not replayed", h)
	}
}

// TestLayoutQueryBounds checks backend.RangeBounds, as this backend sends
// it, against the table of pack_query_timestamp results in
// redis-layout.txt §7.
func TestLayoutQueryBounds(t *testing.T) {
	data, err := os.ReadFile(vectors.Path(t, "telstate", "redis-layout.txt"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "time=") {
			continue
		}
		// time=  1.5 is_end=True  include_end=False -> '(' + 3ff8000000000000
		f := strings.Fields(strings.ReplaceAll(line, "=", "= "))
		tm, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		isEnd, inclEnd := f[3], f[5]
		want := strings.TrimSpace(line[strings.Index(line, "->")+2:])
		var wantB []byte
		if strings.HasPrefix(want, "'(' + ") || strings.HasPrefix(want, "'[' + ") {
			wantB = append([]byte{want[1]}, unhex(t, want[6:])...)
		} else {
			wantB = []byte{want[1]}
		}
		var got []byte
		if isEnd == "True" {
			got = backend.RangeBounds(0, tm, false, inclEnd == "True").End.Redis()
		} else {
			got = backend.RangeBounds(tm, math.Inf(1), false, false).Start.Redis()
		}
		if !bytes.Equal(got, wantB) {
			t.Errorf("%s: got %q, want %q", line, got, wantB)
		}
		n++
	}
	if n != 11 {
		t.Fatalf("found %d bound lines, want 11", n)
	}
}
