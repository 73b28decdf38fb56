package sled_test

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/sledgo/sled"
	"github.com/sledgo/sled/internal/pagecache"
	"github.com/sledgo/sled/internal/testutil"
)

// TestMemoryWithinCacheBudget is the memory promise at a small size: a data
// set five times the cache, loaded and then read and overwritten (zipfian)
// by two goroutines. Bounds are on counted quantities, never on time:
//   - the cache's own accounting (Stats.CacheBytes, exact: nodes, their
//     pages and locations, and the evicted nodes operations in flight may
//     still read) stays within the node budget at every operation
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
	// nodes of at most 32 KiB, the node byte bound, with their pages), and
	// the nodes of evicted pages that operations pinned at the eviction may
	// still read (retired arena slots, pagecache M2: page-ins use the heap
	// once those pass an eighth of the cache's capacity, not of the node
	// budget; on a loaded machine a pinned operation that is not
	// scheduled holds the epoch back and they get there, and the slots
	// resident then may still retire: an eighth of the budget for those).
	slack := int64(workers*3*40<<10) + capacity/8 + budget/8

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
		st := db.Stats()
		c := st.CacheBytes + st.PageTableBytes
		mu.Lock()
		defer mu.Unlock()
		peak = max(peak, c)
		if c > budget+slack {
			t.Errorf("%s: the cache and the page table hold %d bytes, over the budget %d (capacity %d) + %d in flight", what, c, budget, capacity, slack)
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
	t.Logf("slots: %d bytes in use, %d held from the system", st.NodeSlotBytes, st.NodeSlotMapped)
	if st.Evictions == 0 || st.CacheMisses == 0 {
		t.Fatalf("the data set did not exceed the cache: %+v", st)
	}
	// What the database retains, not what its background work (a
	// cleaning round, a consolidation the workload queued) allocates for a
	// moment after the workload: the least of a few readings, each after a
	// collection. A retained byte is in every reading.
	grown := int64(math.MaxInt64)
	for range 5 {
		runtime.GC()
		runtime.ReadMemStats(&ms)
		grown = min(grown, int64(ms.HeapAlloc)-int64(heapBefore))
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("capacity %d, node budget %d, cache peak %d, live heap grew %d; hit ratio %.2f, %d evictions",
		capacity, budget, peak, grown, st.CacheHitRatio, st.Evictions)
	if grown > capacity {
		t.Errorf("the live heap grew by %d bytes with a %d-byte cache", grown, capacity)
	}
}

// TestColdReadsConsolidate: pages written as an image and many scattered
// fragments, then read cold again and again with a cache much smaller
// than the data, are rewritten as one image each by the background
// consolidator (pagecache C3), so that later cold reads need fewer log
// reads per page-in; every value stays what was written.
func TestColdReadsConsolidate(t *testing.T) {
	const (
		records  = 8000
		valSize  = 200
		capacity = 256 << 10
	)
	db, err := sled.Config{Path: t.TempDir(), CacheCapacityBytes: capacity}.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	val := func(i uint64, round int) []byte {
		v := make([]byte, valSize)
		binary.LittleEndian.PutUint64(v, i)
		v[8] = byte(round)
		return v
	}
	for i := range uint64(records) {
		if _, err := db.Insert(benchKey(i), val(i, 0)); err != nil {
			t.Fatal(err)
		}
	}
	// Scatter: overwrite a few keys of every leaf at a time, round after
	// round, so that each leaf gathers fragments logged far apart.
	for round := 1; round <= 3; round++ {
		for i := uint64(round); i < records; i += 16 {
			if _, err := db.Insert(benchKey(i), val(i, round)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	want := func(i uint64) []byte {
		r := 0
		for round := 1; round <= 3; round++ {
			if i >= uint64(round) && (i-uint64(round))%16 == 0 {
				r = round
			}
		}
		return val(i, r)
	}
	pass := func() (readsPerMiss float64) {
		before := db.Stats()
		for i := range uint64(records) {
			v, err := db.Get(benchKey(i))
			if err != nil || !bytes.Equal(v, want(i)) {
				t.Fatalf("key %d: %x, %v; want %x", i, v, err, want(i))
			}
		}
		after := db.Stats()
		misses := after.CacheMisses - before.CacheMisses
		if misses == 0 {
			t.Fatal("a pass over 8x the cache missed no page")
		}
		return float64(after.PageInReads-before.PageInReads) / float64(misses)
	}
	first := pass()
	pass()
	pass() // third scattered page-ins (of the same state) queue pages
	// Wait for the background consolidator to drain what was queued: it
	// is background work, so the bound is on its effect, not its time.
	deadline := time.Now().Add(30 * time.Second)
	for db.Stats().Consolidated == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if db.Stats().Consolidated == 0 {
		t.Fatalf("nothing consolidated after three cold passes (reads per page-in %.2f)", first)
	}
	time.Sleep(100 * time.Millisecond)
	last := pass()
	t.Logf("stats %+v", db.Stats())
	t.Logf("reads per page-in: %.2f first pass, %.2f after %d pages consolidated", first, last, db.Stats().Consolidated)
	if last >= first {
		t.Errorf("reads per page-in %.2f after consolidation, %.2f before: no fewer", last, first)
	}
}
