package dataqueue_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"testing"

	"github.com/sdpkit/sdpkit/dataqueue"
	"github.com/sdpkit/sdpkit/pyval"
)

// benchSizes are record payload sizes. Payloads are random: franz-go and
// Kafka would otherwise flatter compressible data (compression is off
// here anyway).
var benchSizes = []int{64, 1024, 65536}

func payload(b *testing.B, size int) pyval.Bytes {
	v := make([]byte, size)
	if _, err := rand.Read(v); err != nil {
		b.Fatal(err)
	}
	return v
}

// BenchmarkSend: one synchronous send per op (acks=all, idempotent).
func BenchmarkSend(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			br := startKFake(b)
			topic := newTopic(b, br, 1)
			p := newProducer(b, br, dataqueue.WithTopic(topic))
			v := payload(b, size)
			ctx := context.Background()
			b.SetBytes(int64(size))
			for b.Loop() {
				if _, err := p.Send(ctx, v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSendAsync: queued sends, flushed at the end (throughput).
func BenchmarkSendAsync(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			br := startKFake(b)
			topic := newTopic(b, br, 1)
			p := newProducer(b, br, dataqueue.WithTopic(topic))
			v := payload(b, size)
			ctx := context.Background()
			b.SetBytes(int64(size))
			b.ResetTimer()
			for range b.N {
				if err := p.SendAsync(ctx, v, nil); err != nil {
					b.Fatal(err)
				}
			}
			// Acknowledged, not just queued, is what counts.
			if err := p.Flush(ctx); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkConsume reads pre-produced records (utf-8 decoded).
func BenchmarkConsume(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			br := startKFake(b)
			topic := newTopic(b, br, 1)
			p := newProducer(b, br, dataqueue.WithTopic(topic))
			ctx := context.Background()
			v := make(pyval.Bytes, size)
			for i := range v {
				v[i] = 'a' + byte(i%26)
			}
			for range b.N {
				if err := p.SendAsync(ctx, v, nil); err != nil {
					b.Fatal(err)
				}
			}
			if err := p.Flush(ctx); err != nil {
				b.Fatal(err)
			}
			c := newConsumer(b, br, dataqueue.WithTopics(topic), dataqueue.WithEncoding("utf-8"))
			b.SetBytes(int64(size))
			b.ResetTimer()
			n := 0
			for _, err := range c.Messages(ctx) {
				if err != nil {
					b.Fatal(err)
				}
				if n++; n == b.N {
					break
				}
			}
		})
	}
}
