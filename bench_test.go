package sled_test

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sledgo/sled"
)

// benchKeys is the number of keys loaded before Get and Range benchmarks.
const benchKeys = 1 << 20

var benchDB struct {
	once sync.Once
	db   *sled.DB
	err  error
}

func benchKey(i uint64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], i*0x9E3779B97F4A7C15) // scattered, unique
	return k[:]
}

// loadedDB returns a database holding benchKeys keys with 100-byte values,
// shared by the read benchmarks.
func loadedDB(b *testing.B) *sled.DB {
	benchDB.once.Do(func() {
		db, err := sled.Config{Temporary: true}.Open()
		if err != nil {
			benchDB.err = err
			return
		}
		val := make([]byte, 100)
		for i := uint64(0); i < benchKeys; i++ {
			if _, err := db.Insert(benchKey(i), val); err != nil {
				benchDB.err = err
				return
			}
		}
		benchDB.db = db
	})
	if benchDB.err != nil {
		b.Fatal(benchDB.err)
	}
	return benchDB.db
}

// parallel splits b.N operations over g goroutines, each with its own rng.
func parallel(b *testing.B, g int, op func(rng *rand.Rand) error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, g)
	b.ResetTimer()
	for w := 0; w < g; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 42))
			for next.Add(1) <= int64(b.N) {
				if err := op(rng); err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}

func BenchmarkGet(b *testing.B) {
	db := loadedDB(b)
	for _, g := range []int{1, 2} {
		b.Run(fmt.Sprintf("goroutines=%d", g), func(b *testing.B) {
			parallel(b, g, func(rng *rand.Rand) error {
				v, err := db.Get(benchKey(rng.Uint64N(benchKeys)))
				if err == nil && v == nil {
					err = fmt.Errorf("key missing")
				}
				return err
			})
		})
	}
}

func BenchmarkInsert(b *testing.B) {
	val := make([]byte, 100)
	for _, g := range []int{1, 2} {
		b.Run(fmt.Sprintf("goroutines=%d", g), func(b *testing.B) {
			db := loadedDB(b)
			var seq atomic.Uint64
			seq.Store(benchKeys + uint64(g)<<40)
			parallel(b, g, func(rng *rand.Rand) error {
				_, err := db.Insert(benchKey(seq.Add(1)), val)
				return err
			})
		})
	}
}

func BenchmarkOverwrite(b *testing.B) {
	val := make([]byte, 100)
	db := loadedDB(b)
	for _, g := range []int{1, 2} {
		b.Run(fmt.Sprintf("goroutines=%d", g), func(b *testing.B) {
			parallel(b, g, func(rng *rand.Rand) error {
				_, err := db.Insert(benchKey(rng.Uint64N(benchKeys)), val)
				return err
			})
		})
	}
}

// BenchmarkRange reads 100 consecutive entries from a random start.
func BenchmarkRange(b *testing.B) {
	db := loadedDB(b)
	for _, g := range []int{1, 2} {
		b.Run(fmt.Sprintf("goroutines=%d", g), func(b *testing.B) {
			parallel(b, g, func(rng *rand.Rand) error {
				it := db.Range(benchKey(rng.Uint64N(benchKeys)), nil)
				for n := 0; n < 100 && it.Next(); n++ {
				}
				return it.Close()
			})
		})
	}
}

// BenchmarkDurableInsert: every goroutine does Insert then Flush, so each
// op is acknowledged only when durable; concurrent Flushes share fsyncs
// (group commit). Reports fsyncs per op.
func BenchmarkDurableInsert(b *testing.B) {
	val := make([]byte, 100)
	for _, g := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("goroutines=%d", g), func(b *testing.B) {
			db, err := sled.Config{Path: b.TempDir(), FlushEvery: -1}.Open()
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			var seq atomic.Uint64
			syncs := db.Stats().LogSyncs
			parallel(b, g, func(rng *rand.Rand) error {
				if _, err := db.Insert(benchKey(seq.Add(1)), val); err != nil {
					return err
				}
				return db.Flush()
			})
			b.ReportMetric(float64(db.Stats().LogSyncs-syncs)/float64(b.N), "fsyncs/op")
		})
	}
}

// TestMain closes the database shared by the benchmarks, so that its
// temporary directory is removed.
func TestMain(m *testing.M) {
	code := m.Run()
	if benchDB.db != nil {
		benchDB.db.Close()
	}
	os.Exit(code)
}
