package sled_test

import (
	"encoding/binary"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/sledgo/sled"
	"github.com/sledgo/sled/internal/pagecache"
	"github.com/sledgo/sled/internal/testutil"
)

// TestMemoryWithinCacheBudget is the memory promise at a small size: a data
// set five times the cache, loaded and then read and overwritten (zipfian)
// by two goroutines. Bounds are on counted quantities, never on time:
//   - the cache's own accounting (Stats.CacheBytes, exact: nodes, their
//     pages and locations) stays within the node budget at every operation
//     boundary, plus what the operations in flight may add;
//   - the Go heap that stays live after a collection grows by no more than
//     the capacity: the nodes, the page table and the log's bookkeeping
//     (the log's I/O buffers are outside the heap).
func TestMemoryWithinCacheBudget(t *testing.T) {
	seed := testutil.Seed(t)
	const (
		capacity = 4 << 20
		records  = 20000
		valSize  = 1024
		workers  = 2
	)
	ops := 20000
	if testing.Short() {
		ops = 6000
	}
	budget := pagecache.NodeBudget(capacity)
	// In flight between two checks: per worker a page-in and a split (three
	// nodes of at most 32 KiB, the node byte bound, with their pages).
	slack := int64(workers * 3 * 40 << 10)

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	heapBefore := ms.HeapAlloc

	db, err := sled.Config{Path: t.TempDir(), CacheCapacityBytes: capacity}.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	key := benchKey // scattered, unique
	var mu sync.Mutex
	peak := int64(0)
	check := func(what string) {
		c := db.Stats().CacheBytes
		mu.Lock()
		defer mu.Unlock()
		peak = max(peak, c)
		if c > budget+slack {
			t.Errorf("%s: the cache holds %d bytes, over its budget %d (capacity %d) + %d in flight", what, c, budget, capacity, slack)
		}
	}
	val := make([]byte, valSize)
	for i := range uint64(records) {
		binary.LittleEndian.PutUint64(val, i)
		if _, err := db.Insert(key(i), val); err != nil {
			t.Fatal(err)
		}
		if i%64 == 0 {
			check("load")
		}
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			z := rand.NewZipf(rand.New(rand.NewPCG(seed, uint64(w)+100)), 1.1, 1, records-1)
			v := make([]byte, valSize)
			for i := range ops / workers {
				k := key(z.Uint64())
				if rng.IntN(2) == 0 {
					if _, err := db.Get(k); err != nil {
						t.Error(err)
						return
					}
				} else if _, err := db.Insert(k, v); err != nil {
					t.Error(err)
					return
				}
				if i%16 == 0 {
					check("mix")
				}
			}
		}()
	}
	wg.Wait()
	st := db.Stats()
	if st.Evictions == 0 || st.CacheMisses == 0 {
		t.Fatalf("the data set did not exceed the cache: %+v", st)
	}
	runtime.GC()
	runtime.ReadMemStats(&ms)
	grown := int64(ms.HeapAlloc) - int64(heapBefore)
	t.Logf("capacity %d, node budget %d, cache peak %d, live heap grew %d; hit ratio %.2f, %d evictions",
		capacity, budget, peak, grown, st.CacheHitRatio, st.Evictions)
	if grown > capacity {
		t.Errorf("the live heap grew by %d bytes with a %d-byte cache", grown, capacity)
	}
}
