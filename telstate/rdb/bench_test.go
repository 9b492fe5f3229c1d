package rdb

import (
	"bytes"
	"testing"
)

func BenchmarkReadMemoryVector(b *testing.B) {
	data := readVector(b, "telstate-writer-memory.rdb")
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if err := Read(bytes.NewReader(data), func(Record) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadMemoryVectorUnsized(b *testing.B) {
	data := readVector(b, "telstate-writer-memory.rdb")
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if err := Read(opaque{bytes.NewReader(data)}, func(Record) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteRoundTripData(b *testing.B) {
	recs := roundTripRecords()
	for b.Loop() {
		w := NewWriter(discard{})
		for _, r := range recs {
			switch r.Type {
			case String:
				_ = w.WriteString(r.Key, r.Value)
			case ZSet:
				_ = w.WriteZSet(r.Key, r.Members)
			case Hash:
				_ = w.WriteHash(r.Key, r.FileEntries)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
