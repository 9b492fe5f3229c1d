package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/sdpkit/sdpkit/internal/testenv"
	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/pyval/tagjson"
)

func TestMain(m *testing.M) { testenv.MainWithKafka(m) }

// queueBroker is one Kafka the CLI tests run against, as a --brokers value.
type queueBroker struct {
	brokers string
	// autoCreate: the broker creates topics a producer names. kfake does;
	// the real broker of the tests does not, as SDP's (topics are created
	// explicitly).
	autoCreate bool
}

// forEachQueueBroker runs f against a fresh kfake and against the real
// Kafka broker the test binary shares; f must use topic names unique to
// the test (testenv.Topic).
func forEachQueueBroker(t *testing.T, f func(t *testing.T, b queueBroker)) {
	for _, tc := range []struct {
		name  string
		start func(t *testing.T) queueBroker
	}{
		{"kfake", func(t *testing.T) queueBroker {
			return queueBroker{strings.Join(testenv.KFake(t).Brokers(), ","), true}
		}},
		{"kafka", func(t *testing.T) queueBroker {
			return queueBroker{strings.Join(testenv.SharedKafka(t).Brokers(), ","), false}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { f(t, tc.start(t)) })
	}
}

// runIn executes the CLI in-process with stdin.
func runIn(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	root := newRootCmd(&stdout, &stderr)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return stdout.String(), stderr.String(), err
}

func mustRunIn(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, errOut, err := runIn(t, stdin, args...)
	if err != nil {
		t.Fatalf("sdp %s: %v\nstderr: %s", strings.Join(args, " "), err, errOut)
	}
	return out
}

func renderLine(t *testing.T, v pyval.Value) string {
	t.Helper()
	r, err := tagjson.Render(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(r)
}

func TestQueueTopics(t *testing.T) {
	forEachQueueBroker(t, func(t *testing.T, qb queueBroker) {
		b := qb.brokers
		// The real broker is shared: the test's topics carry its prefix, and
		// listings are checked on those.
		pre := testenv.Topic(t)
		alpha, beta := pre+"-alpha", pre+"-beta"
		mine := func(names []string) []string {
			var out []string
			for _, n := range names {
				if strings.HasPrefix(n, pre) {
					out = append(out, n)
				}
			}
			return out
		}
		mustRun(t, "queue", "--brokers", b, "topics", "create", alpha, beta, "--partitions", "2")
		mustRun(t, "queue", "--brokers", b, "topics", "create", beta, "--partitions", "4")
		mustRun(t, "queue", "--brokers", b, "topics", "create", alpha) // exists: fine, never shrinks
		var names []string
		if err := json.Unmarshal([]byte(mustRun(t, "queue", "--brokers", b, "--json", "topics", "list")), &names); err != nil {
			t.Fatal(err)
		}
		if !slices.IsSorted(names) || !slices.Equal(mine(names), []string{alpha, beta}) {
			t.Errorf("topics list = %v, want sorted with %s and %s", names, alpha, beta)
		}
		var desc []struct {
			Name       string `json:"name"`
			Partitions []struct {
				Partition int32   `json:"partition"`
				Replicas  []int32 `json:"replicas"`
			} `json:"partitions"`
		}
		if err := json.Unmarshal([]byte(mustRun(t, "queue", "--brokers", b, "--json", "topics", "describe", alpha, beta)), &desc); err != nil {
			t.Fatal(err)
		}
		if len(desc) != 2 || desc[0].Name != alpha || len(desc[0].Partitions) != 2 || len(desc[1].Partitions) != 4 {
			t.Errorf("describe = %+v, want alpha with 2 and beta with 4 partitions", desc)
		}
		if out := mustRun(t, "queue", "--brokers", b, "topics", "describe", beta); !strings.Contains(out, "partitions=4") {
			t.Errorf("human describe = %q", out)
		}
		mustRun(t, "queue", "--brokers", b, "topics", "delete", alpha)
		out := mustRun(t, "queue", "--brokers", b, "topics", "list")
		if got := mine(strings.Fields(out)); !slices.Equal(got, []string{beta}) || !strings.HasSuffix(out, "\n") {
			t.Errorf("list after delete = %q", out)
		}
		if _, errOut, err := run(t, "queue", "--brokers", b, "topics", "delete", alpha); err == nil || !strings.Contains(errOut, alpha) {
			t.Errorf("deleting a missing topic: err %v, stderr %q", err, errOut)
		}
	})
}

func TestQueueProduceConsume(t *testing.T) {
	cases := []struct {
		name     string
		produce  []string
		stdin    string
		consume  []string
		want     []pyval.Value // rendered; nil for raw lines
		wantRaw  []string
		wantJSON bool
	}{
		{name: "utf-8 rendering", produce: []string{"--encoding", "utf-8"}, stdin: "{\"str\": \"héllo\"}\n\"plain\"\n",
			consume: []string{"--encoding", "utf-8"}, want: []pyval.Value{pyval.Str("héllo"), pyval.Str("plain")}},
		{name: "raw lines", stdin: "one\ntwo\n", consume: []string{"--raw"}, wantRaw: []string{"one", "two"}},
		{name: "raw rendered as bytes", stdin: "zz\n", want: []pyval.Value{pyval.Bytes("zz")}},
		{name: "raw lines as str", produce: []string{"--encoding", "ascii", "--raw"}, stdin: "{not json}\n",
			consume: []string{"--encoding", "ascii"}, want: []pyval.Value{pyval.Str("{not json}")}},
		{name: "json mode", produce: []string{"--encoding", "utf-8", "--key", "k"}, stdin: "\"x\"\n",
			consume: []string{"--encoding", "utf-8", "--json"}, wantJSON: true, want: []pyval.Value{pyval.Str("x")}},
	}
	forEachQueueBroker(t, func(t *testing.T, qb queueBroker) {
		b := qb.brokers
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				topic := testenv.Topic(t)
				produce := append([]string{"queue", "--brokers", b, "--json", "produce", topic}, tc.produce...)
				if i == 0 && !qb.autoCreate {
					// Producing to a missing topic on a broker that does not
					// create topics fails and names the topic.
					if _, errOut, err := runIn(t, tc.stdin, produce...); err == nil || !strings.Contains(errOut, topic) {
						t.Fatalf("producing to a missing topic: err %v, stderr %q", err, errOut)
					}
				}
				if i > 0 || !qb.autoCreate { // the first is auto-created where the broker does
					mustRun(t, "queue", "--brokers", b, "topics", "create", topic)
				}
				want := tc.wantRaw
				for _, v := range tc.want {
					want = append(want, renderLine(t, v))
				}
				out := mustRunIn(t, tc.stdin, produce...)
				if n := strings.Count(out, "\"offset\""); n != len(want) {
					t.Errorf("produce --json printed %d results: %q", n, out)
				}
				args := append([]string{"queue", "--brokers", b, "consume", topic, "--from-beginning", "-n", fmt.Sprint(len(want))}, tc.consume...)
				lines := strings.Split(strings.TrimSuffix(mustRun(t, args...), "\n"), "\n")
				if len(lines) != len(want) {
					t.Fatalf("consumed %q, want %d lines", lines, len(want))
				}
				for j, line := range lines {
					if !tc.wantJSON {
						if line != want[j] {
							t.Errorf("line %d = %s, want %s", j, line, want[j])
						}
						continue
					}
					var m struct {
						Topic     string          `json:"topic"`
						Partition int32           `json:"partition"`
						Offset    int64           `json:"offset"`
						Key       string          `json:"key_hex"`
						Value     json.RawMessage `json:"value"`
					}
					if err := json.Unmarshal([]byte(line), &m); err != nil {
						t.Fatal(err)
					}
					var wantVal bytes.Buffer
					if err := json.Compact(&wantVal, []byte(want[j])); err != nil {
						t.Fatal(err)
					}
					if m.Topic != topic || m.Partition < 0 || m.Offset != int64(j) || m.Key != "6b" || string(m.Value) != wantVal.String() {
						t.Errorf("json line %d = %+v", j, m)
					}
				}
			})
		}
	})
}

func TestQueueConsumeGroupAndErrors(t *testing.T) {
	forEachQueueBroker(t, func(t *testing.T, qb queueBroker) {
		t.Setenv(brokersEnv, "kafka://"+qb.brokers) // the default for --brokers
		pre := testenv.Topic(t)
		g, bad, empty := pre+"-g", pre+"-bad", pre+"-empty"
		mustRun(t, "queue", "topics", "create", g, bad)
		mustRunIn(t, "\"a\"\n\"b\"\n\"c\"\n", "queue", "produce", g, "--encoding", "utf-8")
		first := mustRun(t, "queue", "consume", g, "--group", pre+"-G", "--from-beginning", "--encoding", "utf-8", "-n", "1")
		second := mustRun(t, "queue", "consume", g, "--group", pre+"-G", "--from-beginning", "--encoding", "utf-8", "-n", "1")
		if first != renderLine(t, pyval.Str("a"))+"\n" || second != renderLine(t, pyval.Str("b"))+"\n" {
			t.Errorf("group members read %q then %q, want a then b", first, second)
		}

		// An undecodable message is reported and skipped; the rest print; the
		// exit status says something was wrong. --timeout ends the wait.
		mustRunIn(t, "ok1\n\xff\nok2\n", "queue", "produce", bad)
		out, errOut, err := run(t, "queue", "consume", bad, "--from-beginning", "--encoding", "utf-8", "--timeout", "3s")
		want := renderLine(t, pyval.Str("ok1")) + "\n" + renderLine(t, pyval.Str("ok2")) + "\n"
		if out != want || err == nil || !strings.Contains(errOut, bad+"/0@1") {
			t.Errorf("consume with a bad record: out %q, err %v, stderr %q", out, err, errOut)
		}

		// --timeout on an empty topic ends quietly.
		mustRun(t, "queue", "topics", "create", empty)
		if out := mustRun(t, "queue", "consume", empty, "--timeout", "300ms"); out != "" {
			t.Errorf("empty topic printed %q", out)
		}
		// A value that is not valid rendering is a usage problem of the line.
		if _, errOut, err := runIn(t, "{bad\n", "queue", "produce", g, "--encoding", "utf-8"); err == nil || !strings.Contains(errOut, "line 1") {
			t.Errorf("bad input line: err %v, stderr %q", err, errOut)
		}
	})
}

func TestBenchQueue(t *testing.T) {
	forEachQueueBroker(t, func(t *testing.T, qb queueBroker) {
		b := qb.brokers
		for _, mode := range []string{"produce", "consume", "roundtrip"} {
			t.Run(mode, func(t *testing.T) {
				out := mustRun(t, "bench", "queue", "--brokers", b, "--mode", mode, "--n", "50", "--size", "64")
				var r map[string]any
				if err := json.Unmarshal([]byte(out), &r); err != nil {
					t.Fatalf("%v: %q", err, out)
				}
				for _, k := range []string{"tool", "mode", "msgs_per_s", "mb_per_s", "p50_us", "p99_us"} {
					if _, ok := r[k]; !ok {
						t.Errorf("result lacks %q: %s", k, out)
					}
				}
				if r["tool"] != "sdpkit" || r["mode"] != mode || r["acks"] != "all" {
					t.Errorf("result %s", out)
				}
			})
		}
		if _, _, err := run(t, "bench", "queue", "--brokers", b, "--acks", "2"); err == nil {
			t.Error("--acks 2 accepted")
		}
	})
}
