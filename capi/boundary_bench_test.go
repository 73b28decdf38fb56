package main

import (
	"fmt"
	"testing"

	"github.com/sledgo/sled"
)

// The Go side of the boundary-cost benchmark (capi/bench.sh): the workload
// of bench/bench.c and bindings/python/bench.py through the Go API (get,
// insert, and a one-key transaction).

const benchKeys = 1000

// benchKeys16 holds key i ("key" + 13 digits of i); operation n uses key
// (n*7919) % benchKeys. Keys are formatted before timing.
var benchKeys16 = func() [][]byte {
	ks := make([][]byte, benchKeys)
	for i := range ks {
		ks[i] = fmt.Appendf(nil, "key%013d", i)
	}
	return ks
}()

func benchKey(n int) []byte { return benchKeys16[(n*7919)%benchKeys] }

func benchDB(b *testing.B) *sled.DB {
	db, err := sled.Config{Temporary: true}.Open()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	val := make([]byte, 100)
	for i := range val {
		val[i] = 'v'
	}
	for _, k := range benchKeys16 {
		if _, err := db.Insert(k, val); err != nil {
			b.Fatal(err)
		}
	}
	return db
}

func BenchmarkBoundaryGoGet(b *testing.B) {
	db := benchDB(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		v, err := db.Get(benchKey(i))
		if err != nil || v == nil {
			b.Fatal("get failed", err)
		}
	}
}

func BenchmarkBoundaryGoInsert(b *testing.B) {
	db := benchDB(b)
	val := make([]byte, 100)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := db.Insert(benchKey(i), val); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBoundaryGoTx is one transaction of one key: begin, get,
// insert, commit (DB.Begin, as the C API and Python drive it).
func BenchmarkBoundaryGoTx(b *testing.B) {
	db := benchDB(b)
	val := make([]byte, 100)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := benchKey(i)
		tx, err := db.Begin()
		if err != nil {
			b.Fatal(err)
		}
		v, err := tx.Get(db.Tree, k)
		if err != nil || v == nil {
			b.Fatal("tx get failed", err)
		}
		if err := tx.Insert(db.Tree, k, val); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}
