package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/pyval/tagjson"
)

// kafkaBrokers starts an in-process Kafka for one test and returns its
// --brokers value. Topics are auto-created on produce, as with a real
// broker's defaults (auto.create.topics.enable=true).
func kafkaBrokers(t *testing.T) string {
	t.Helper()
	// LEAD: testenv.KFake(t) / testenv.Kafka(t), with auto topic creation on.
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return strings.Join(c.ListenAddrs(), ",")
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
	b := kafkaBrokers(t)
	mustRun(t, "queue", "--brokers", b, "topics", "create", "alpha", "beta", "--partitions", "2")
	mustRun(t, "queue", "--brokers", b, "topics", "create", "beta", "--partitions", "4")
	mustRun(t, "queue", "--brokers", b, "topics", "create", "alpha") // exists: fine, never shrinks
	var names []string
	if err := json.Unmarshal([]byte(mustRun(t, "queue", "--brokers", b, "--json", "topics", "list")), &names); err != nil {
		t.Fatal(err)
	}
	if strings.Join(names, ",") != "alpha,beta" {
		t.Errorf("topics list = %v", names)
	}
	var desc []struct {
		Name       string `json:"name"`
		Partitions []struct {
			Partition int32   `json:"partition"`
			Replicas  []int32 `json:"replicas"`
		} `json:"partitions"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, "queue", "--brokers", b, "--json", "topics", "describe", "alpha", "beta")), &desc); err != nil {
		t.Fatal(err)
	}
	if len(desc) != 2 || len(desc[0].Partitions) != 2 || len(desc[1].Partitions) != 4 {
		t.Errorf("describe = %+v, want alpha with 2 and beta with 4 partitions", desc)
	}
	if out := mustRun(t, "queue", "--brokers", b, "topics", "describe", "beta"); !strings.Contains(out, "partitions=4") {
		t.Errorf("human describe = %q", out)
	}
	mustRun(t, "queue", "--brokers", b, "topics", "delete", "alpha")
	if out := mustRun(t, "queue", "--brokers", b, "topics", "list"); out != "beta\n" {
		t.Errorf("list after delete = %q", out)
	}
	if _, errOut, err := run(t, "queue", "--brokers", b, "topics", "delete", "alpha"); err == nil || !strings.Contains(errOut, "alpha") {
		t.Errorf("deleting a missing topic: err %v, stderr %q", err, errOut)
	}
}

func TestQueueProduceConsume(t *testing.T) {
	b := kafkaBrokers(t)
	mustRun(t, "queue", "--brokers", b, "topics", "create", "t")
	cases := []struct {
		name     string
		produce  []string
		stdin    string
		consume  []string
		want     []string
		wantJSON bool
	}{
		{name: "utf-8 rendering", produce: []string{"--encoding", "utf-8"}, stdin: "{\"str\": \"héllo\"}\n\"plain\"\n",
			consume: []string{"--encoding", "utf-8"}, want: []string{renderLine(t, pyval.Str("héllo")), renderLine(t, pyval.Str("plain"))}},
		{name: "raw lines", stdin: "one\ntwo\n", consume: []string{"--raw"}, want: []string{"one", "two"}},
		{name: "raw rendered as bytes", stdin: "zz\n", want: []string{renderLine(t, pyval.Bytes("zz"))}},
		{name: "raw lines as str", produce: []string{"--encoding", "ascii", "--raw"}, stdin: "{not json}\n",
			consume: []string{"--encoding", "ascii"}, want: []string{renderLine(t, pyval.Str("{not json}"))}},
		{name: "json mode", produce: []string{"--encoding", "utf-8", "--key", "k"}, stdin: "\"x\"\n",
			consume: []string{"--encoding", "utf-8", "--json"}, wantJSON: true, want: []string{renderLine(t, pyval.Str("x"))}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			topic := fmt.Sprint("pc", i)
			if i > 0 { // the first is auto-created; the others get one partition
				mustRun(t, "queue", "--brokers", b, "topics", "create", topic)
			}
			out := mustRunIn(t, tc.stdin, append([]string{"queue", "--brokers", b, "--json", "produce", topic}, tc.produce...)...)
			if n := strings.Count(out, "\"offset\""); n != len(tc.want) {
				t.Errorf("produce --json printed %d results: %q", n, out)
			}
			args := append([]string{"queue", "--brokers", b, "consume", topic, "--from-beginning", "-n", fmt.Sprint(len(tc.want))}, tc.consume...)
			lines := strings.Split(strings.TrimSuffix(mustRun(t, args...), "\n"), "\n")
			if len(lines) != len(tc.want) {
				t.Fatalf("consumed %q, want %d lines", lines, len(tc.want))
			}
			for j, line := range lines {
				if !tc.wantJSON {
					if line != tc.want[j] {
						t.Errorf("line %d = %s, want %s", j, line, tc.want[j])
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
				if err := json.Compact(&wantVal, []byte(tc.want[j])); err != nil {
					t.Fatal(err)
				}
				if m.Topic != topic || m.Partition < 0 || m.Offset != int64(j) || m.Key != "6b" || string(m.Value) != wantVal.String() {
					t.Errorf("json line %d = %+v", j, m)
				}
			}
		})
	}
}

func TestQueueConsumeGroupAndErrors(t *testing.T) {
	b := kafkaBrokers(t)
	t.Setenv(brokersEnv, "kafka://"+b) // the default for --brokers
	mustRun(t, "queue", "topics", "create", "g", "bad")
	mustRunIn(t, "\"a\"\n\"b\"\n\"c\"\n", "queue", "produce", "g", "--encoding", "utf-8")
	first := mustRun(t, "queue", "consume", "g", "--group", "G", "--from-beginning", "--encoding", "utf-8", "-n", "1")
	second := mustRun(t, "queue", "consume", "g", "--group", "G", "--from-beginning", "--encoding", "utf-8", "-n", "1")
	if first != renderLine(t, pyval.Str("a"))+"\n" || second != renderLine(t, pyval.Str("b"))+"\n" {
		t.Errorf("group members read %q then %q, want a then b", first, second)
	}

	// An undecodable message is reported and skipped; the rest print; the
	// exit status says something was wrong. --timeout ends the wait.
	mustRunIn(t, "ok1\n\xff\nok2\n", "queue", "produce", "bad")
	out, errOut, err := run(t, "queue", "consume", "bad", "--from-beginning", "--encoding", "utf-8", "--timeout", "1s")
	want := renderLine(t, pyval.Str("ok1")) + "\n" + renderLine(t, pyval.Str("ok2")) + "\n"
	if out != want || err == nil || !strings.Contains(errOut, "bad/0@1") {
		t.Errorf("consume with a bad record: out %q, err %v, stderr %q", out, err, errOut)
	}

	// --timeout on an empty topic ends quietly.
	mustRun(t, "queue", "topics", "create", "empty")
	if out := mustRun(t, "queue", "consume", "empty", "--timeout", "300ms"); out != "" {
		t.Errorf("empty topic printed %q", out)
	}
	// A value that is not valid rendering is a usage problem of the line.
	if _, errOut, err := runIn(t, "{bad\n", "queue", "produce", "g", "--encoding", "utf-8"); err == nil || !strings.Contains(errOut, "line 1") {
		t.Errorf("bad input line: err %v, stderr %q", err, errOut)
	}
}

func TestBenchQueue(t *testing.T) {
	b := kafkaBrokers(t)
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
}
