package dataqueue_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/dataqueue"
	"github.com/sdpkit/sdpkit/internal/testenv"
	"github.com/sdpkit/sdpkit/pyval"
)

// aiokafkaPeer is what ska-sdp-dataqueues does underneath, with its
// defaults: a producer with acks=1 sending utf-8 bytes with send_and_wait,
// then a consumer without a group starting at the earliest record.
const aiokafkaPeer = `
import asyncio, json, sys
from aiokafka import AIOKafkaProducer, AIOKafkaConsumer

async def main(brokers, topic_in, topic_out, n):
    p = AIOKafkaProducer(bootstrap_servers=brokers)
    await p.start()
    try:
        for i in range(n):
            await p.send_and_wait(topic_in, ("py-%d" % i).encode("utf-8"))
    finally:
        await p.stop()
    c = AIOKafkaConsumer(topic_out, bootstrap_servers=brokers, auto_offset_reset="earliest")
    await c.start()
    out = []
    try:
        async for m in c:
            out.append(m.value.decode("utf-8"))
            if len(out) == n:
                break
    finally:
        await c.stop()
    print(json.dumps(out))

asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
`

// TestAiokafkaInterop: records the Go producer sends (idempotent, acks=all,
// uncompressed) are read by aiokafka, and records aiokafka sends are read
// by the Go consumer.
func TestAiokafkaInterop(t *testing.T) {
	py := testenv.Python(t, "aiokafka")
	forEachBroker(t, func(t *testing.T, b broker) {
		ctx := testCtx(t)
		fromPy, toPy := newTopic(t, b, 1), newTopic(t, b, 2)
		const n = 5
		p := newProducer(t, b, dataqueue.WithTopic(toPy), dataqueue.WithEncoding("utf-8"))
		var want []string
		for i := range n {
			want = append(want, fmt.Sprint("go-", i))
			if _, err := p.Send(ctx, pyval.Str(want[i])); err != nil {
				t.Fatal(err)
			}
		}
		cmdCtx, cancel := context.WithTimeout(ctx, 45*time.Second)
		defer cancel()
		cmd := exec.CommandContext(cmdCtx, py, "-c", aiokafkaPeer, strings.Join(b.Brokers(), ","), fromPy, toPy, fmt.Sprint(n))
		out, err := cmd.Output()
		if err != nil {
			stderr := ""
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = string(ee.Stderr)
			}
			t.Fatalf("aiokafka peer: %v\n%s", err, stderr)
		}
		t.Logf("aiokafka read %s", out)
		var got []string
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("aiokafka peer printed %q: %v", out, err)
		}
		// Two partitions: order holds per partition only.
		if !slices.Equal(slices.Sorted(slices.Values(got)), want) {
			t.Errorf("aiokafka read %q, want %q", got, want)
		}
		c := newConsumer(t, b, dataqueue.WithTopics(fromPy), dataqueue.WithEncoding("utf-8"))
		for i, m := range collect(t, ctx, c, n) {
			if !pyval.Equal(m.Value, pyval.Str(fmt.Sprint("py-", i))) {
				t.Errorf("record %d from aiokafka = %s", i, pyval.Repr(m.Value))
			}
		}
	})
}
