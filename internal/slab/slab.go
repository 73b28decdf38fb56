// Package slab is the page cache's node memory outside the Go heap: slots
// of a few size classes carved from anonymous memory mappings.
//
// Why: a node on the Go heap costs the process up to (1 + GOGC/100) times
// its size, because the collector lets the heap grow that far past what is
// live before it collects, and every page-in allocates (and zeroes) a fresh
// buffer that becomes garbage at eviction. A slot costs its size once, is
// reused without zeroing, and is counted exactly (InUse), so the cache can
// spend its whole budget on nodes read from disk.
//
// The price is manual lifetime: a slot must be returned (Put) exactly once,
// and only when nothing can read it any more. The page cache returns a
// node's slot two epochs after the state holding it was replaced (its
// retire list), and copies every byte that leaves a pinned operation (see
// internal/pagecache/doc.go, P17). With the `invariants` build tag a
// returned slot is poisoned and a double Put panics, so a read of a
// returned slot shows as corrupt data in tests instead of passing.
//
// Invariants:
//
//	S1. A slot handed out by Get is never handed out again before it is
//	    Put, and is Put at most once (checked with assertions on).
//	S2. InUse is the sum of the class sizes of the slots handed out and
//	    not yet Put; Mapped is the bytes of every mapping made. Mappings are
//	    never returned before Release, so Mapped only grows and bounds the
//	    resident memory the arena holds.
//	S3. Only Release unmaps, and only the arena's owner calls it, once no
//	    slot can be read (or the garbage collector, when the arena itself is
//	    unreachable).
package slab

import (
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/sledgo/sled/internal/invariants"
)

const (
	// MinSlot and MaxSlot bound the class sizes. Larger requests get nil
	// (the caller uses the heap): nodes that large are rare, and a class
	// for them would hold memory that few nodes could reuse.
	MinSlot = 256
	MaxSlot = 64 << 10
	// stepsPerDoubling classes between powers of two: a slot wastes at
	// most a quarter of its size (an eighth on average).
	stepsPerDoubling = 4
	// minChunk is the smallest mapping; a class maps at least
	// slotsPerChunk slots at a time.
	minChunk      = 64 << 10
	slotsPerChunk = 4
	// poison fills returned slots with assertions on.
	poison = 0xdb
)

// sizes are the class sizes, ascending.
var sizes = func() []int {
	var s []int
	for p := MinSlot; p < MaxSlot; p *= 2 {
		for k := range stepsPerDoubling {
			s = append(s, p+p*k/stepsPerDoubling)
		}
	}
	return append(s, MaxSlot)
}()

// SlotBytes returns the size of the slot Get(n) hands out, or 0 when n is
// not served by a slot (n <= 0 or n > MaxSlot).
func SlotBytes(n int) int {
	if n <= 0 || n > MaxSlot {
		return 0
	}
	return sizes[sort.SearchInts(sizes, n)]
}

// Arena hands out slots. It is safe for concurrent use.
type Arena struct {
	classes []class
	inUse   atomic.Int64 // S2
	mapped  atomic.Int64 // S2
	gets    atomic.Int64
}

type class struct {
	size int
	mu   sync.Mutex // guards free, chunks and live
	free [][]byte   // returned slots, reused last-in first-out (warm in cache)
	// chunks are the mappings carved into this class's slots (Release).
	chunks [][]byte
	// live, with assertions on: the slots handed out (S1).
	live map[*byte]bool
	_    [64]byte // keep classes' locks on separate cache lines
}

// New returns an empty arena. Where anonymous mappings are unavailable,
// Get always returns nil.
func New() *Arena {
	a := &Arena{classes: make([]class, len(sizes))}
	for i := range a.classes {
		a.classes[i].size = sizes[i]
		if invariants.Enabled {
			a.classes[i].live = map[*byte]bool{}
		}
	}
	// S3: an arena nobody references has no slot anybody can read.
	runtime.SetFinalizer(a, (*Arena).Release)
	return a
}

// Get returns a slot of at least n bytes, as a slice of length n whose
// capacity is the slot's size. Its bytes are arbitrary (a reused slot is
// not zeroed). It returns nil when n is not served by a slot or the system
// refused memory; the caller then allocates on the heap.
func (a *Arena) Get(n int) []byte {
	if n <= 0 || n > MaxSlot {
		return nil
	}
	c := &a.classes[sort.SearchInts(sizes, n)]
	c.mu.Lock()
	if len(c.free) == 0 {
		m := c.grow()
		if m == 0 {
			c.mu.Unlock()
			return nil
		}
		a.mapped.Add(int64(m))
	}
	b := c.free[len(c.free)-1]
	c.free[len(c.free)-1] = nil
	c.free = c.free[:len(c.free)-1]
	if c.live != nil {
		c.live[unsafe.SliceData(b)] = true // S1
	}
	c.mu.Unlock()
	a.inUse.Add(int64(c.size))
	a.gets.Add(1)
	return b[:n:c.size]
}

// grow maps a chunk, adds its slots to the free list and returns its size
// (0 when the system refused). c.mu is held.
func (c *class) grow() int {
	chunk := max(minChunk, slotsPerChunk*c.size)
	chunk -= chunk % c.size
	m := mapAnon(chunk)
	if m == nil {
		return 0
	}
	c.chunks = append(c.chunks, m)
	for off := chunk - c.size; off >= 0; off -= c.size {
		c.free = append(c.free, m[off:off+c.size:off+c.size])
	}
	return chunk
}

// Put returns the slot b (a slice of it, as Get returned it: its capacity
// is the slot's size). Nothing may read b afterwards (S1).
func (a *Arena) Put(b []byte) {
	size := cap(b)
	i := sort.SearchInts(sizes, size)
	if i == len(sizes) || sizes[i] != size {
		invariants.Failf("S1", "Put of a %d-byte buffer that is no slot", size)
		return
	}
	b = b[:size]
	c := &a.classes[i]
	c.mu.Lock()
	if c.live != nil {
		p := unsafe.SliceData(b)
		if !c.live[p] {
			c.mu.Unlock()
			invariants.Failf("S1", "Put of a %d-byte slot that is not handed out (returned twice?)", size)
			return
		}
		delete(c.live, p)
		for i := range b {
			b[i] = poison
		}
	}
	c.free = append(c.free, b)
	c.mu.Unlock()
	a.inUse.Add(-int64(size))
}

// InUse is the bytes of the slots handed out and not returned (S2).
func (a *Arena) InUse() int64 { return a.inUse.Load() }

// Mapped is the bytes the arena has mapped (S2).
func (a *Arena) Mapped() int64 { return a.mapped.Load() }

// Gets is the number of slots handed out so far.
func (a *Arena) Gets() int64 { return a.gets.Load() }

// Release unmaps every chunk. Nothing may read a slot afterwards, and the
// arena must not be used again (S3). It is idempotent.
func (a *Arena) Release() {
	for i := range a.classes {
		c := &a.classes[i]
		c.mu.Lock()
		for _, m := range c.chunks {
			unmap(m)
			a.mapped.Add(-int64(len(m)))
		}
		c.chunks, c.free = nil, nil
		if c.live != nil {
			clear(c.live)
		}
		c.mu.Unlock()
	}
	runtime.SetFinalizer(a, nil)
}
