package config

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	"github.com/sdpkit/sdpkit/config/memory"
)

func benchDB(b *testing.B) (*DB, context.Context) {
	s := memory.New()
	b.Cleanup(func() { s.Close() })
	return NewDB(s), context.Background()
}

func BenchmarkGet(b *testing.B) {
	db, ctx := benchDB(b)
	if err := db.Create(ctx, "/pb/pb-1/state", []byte(`{"status": "RUNNING"}`), 0); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := db.Get(ctx, "/pb/pb-1/state", 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCreate(b *testing.B) {
	db, ctx := benchDB(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := db.Create(ctx, "/pb/pb-"+strconv.Itoa(i), []byte(`{"id": 1}`), 0); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkTxnReadModifyWrite(b *testing.B) {
	db, ctx := benchDB(b)
	if err := db.Create(ctx, "/counter", []byte("0"), 0); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		err := db.Txn(ctx, func(tx *Txn) error {
			v, err := tx.Get("/counter")
			if err != nil {
				return err
			}
			n, _ := strconv.Atoi(string(v))
			return tx.Update("/counter", strconv.AppendInt(nil, int64(n+1), 10))
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkListKeys(b *testing.B) {
	for _, n := range []int{10, 100} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			db, ctx := benchDB(b)
			for i := 0; i < n; i++ {
				if err := db.Create(ctx, fmt.Sprintf("/pb/pb-%03d", i), nil, 0); err != nil {
					b.Fatal(err)
				}
				if err := db.Create(ctx, fmt.Sprintf("/pb/pb-%03d/state", i), nil, 0); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				keys, _, err := db.ListKeys(ctx, "/pb/")
				if err != nil || len(keys) != n {
					b.Fatal(err, len(keys))
				}
			}
		})
	}
}
