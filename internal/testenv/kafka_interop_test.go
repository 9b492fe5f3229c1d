package testenv

import (
	"bytes"
	"context"
	"encoding/hex"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// interopValues returns n distinct values of arbitrary bytes except '\n',
// which kcat uses as the record delimiter.
func interopValues(n int) [][]byte {
	r := rand.New(rand.NewPCG(1, 2))
	vals := make([][]byte, n)
	for i := range vals {
		v := []byte(strconv.Itoa(i) + ":")
		for range 1 + r.IntN(40) {
			b := byte(r.IntN(256))
			if b == '\n' {
				b = 0
			}
			v = append(v, b)
		}
		vals[i] = v
	}
	return vals
}

func hexLines(vals [][]byte) []byte {
	var b bytes.Buffer
	for _, v := range vals {
		b.WriteString(hex.EncodeToString(v))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func fromHexLines(t *testing.T, out []byte) [][]byte {
	t.Helper()
	var vals [][]byte
	for _, line := range strings.Fields(string(out)) {
		v, err := hex.DecodeString(line)
		if err != nil {
			t.Fatalf("peer printed %q: %v", line, err)
		}
		vals = append(vals, v)
	}
	return vals
}

func sameValues(t *testing.T, who string, got, want [][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d records, want %d", who, len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("%s: record %d = %q, want %q", who, i, got[i], want[i])
		}
	}
}

// TestKafkaInterop proves the peers' wiring against the real broker: raw
// bytes written by franz-go are read back unchanged by kcat (librdkafka)
// and by aiokafka, and what they write is read unchanged by franz-go.
func TestKafkaInterop(t *testing.T) {
	k := SharedKafka(t)
	kcat := Kcat(t)
	py := Python(t, "aiokafka")
	peer := filepath.Join("testdata", "aiokafka_peer.py")
	vals := interopValues(50)
	addr := k.Addr()

	t.Run("kgo-to-kcat-and-aiokafka", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		topic := NewTopic(t, k, 1)
		recs := make([]*kgo.Record, len(vals))
		for i, v := range vals {
			recs[i] = &kgo.Record{Topic: topic, Value: v}
		}
		if err := KafkaClient(t, k).ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
		out := RunPeer(ctx, t, nil, kcat, "-b", addr, "-C", "-t", topic, "-e", "-o", "beginning", "-q", "-f", `%s\n`)
		got := bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n"))
		sameValues(t, "kcat", got, vals)
		out = RunPeer(ctx, t, nil, py, peer, "consume", addr, topic, strconv.Itoa(len(vals)))
		sameValues(t, "aiokafka", fromHexLines(t, out), vals)
	})

	t.Run("kcat-to-kgo", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		topic := NewTopic(t, k, 1)
		in := append(bytes.Join(vals, []byte("\n")), '\n')
		RunPeer(ctx, t, in, kcat, "-b", addr, "-P", "-t", topic, "-q")
		var got [][]byte
		for _, r := range consumeN(ctx, t, k, topic, len(vals)) {
			got = append(got, r.Value)
		}
		sameValues(t, "kgo from kcat", got, vals)
	})

	t.Run("aiokafka-to-kgo", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		topic := NewTopic(t, k, 1)
		RunPeer(ctx, t, hexLines(vals), py, peer, "produce", addr, topic)
		var got [][]byte
		for _, r := range consumeN(ctx, t, k, topic, len(vals)) {
			got = append(got, r.Value)
		}
		sameValues(t, "kgo from aiokafka", got, vals)
	})
}
