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
//	    never unmapped before Release, so Mapped only grows.
//	S4. Free slots that sat unused give their memory back: Trim returns
//	    to the system (MADV_DONTNEED) the whole pages of the free slots of
//	    each class that no Get needed since the previous Trim (the class's
//	    low-water mark of free slots), oldest first, while the free slots
//	    that hold memory (Warm) are over Keep bytes and over a quarter of
//	    InUse, and files them as
//	    cold. The slots are off every list while their pages go back
//	    (outside any lock), so no Get hands them out meanwhile. Get takes a
//	    warm slot first, then a cold one (whose pages fault back in,
//	    zeroed), then maps more. A class's traffic keeps its working set
//	    warm; only what it did not use through a whole interval goes, so
//	    steady churn does not fault pages in and out. Released is the bytes
//	    of the whole pages of the cold slots, so Mapped - Released bounds
//	    the memory the arena holds: InUse + Warm + page edges. With
//	    assertions on, given-back slots are poisoned again (S1's poison
//	    would otherwise read as zeros), so they hold memory after all.
//	S3. Only Release unmaps, and only the arena's owner calls it, once no
//	    slot can be read (or the garbage collector, when the arena itself is
//	    unreachable).
package slab

import (
	"os"
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

// DefaultKeep is the free slot memory an arena keeps before it gives
// pages back (S4), until SetKeep.
const DefaultKeep = 1 << 20

// Arena hands out slots. It is safe for concurrent use.
type Arena struct {
	classes  []class
	inUse    atomic.Int64 // S2
	mapped   atomic.Int64 // S2
	warm     atomic.Int64 // S4: bytes of the free slots on warm lists
	released atomic.Int64 // S4: bytes of the whole pages of cold slots
	keep     atomic.Int64 // S4: the bound on warm
	gets     atomic.Int64
	ops      atomic.Int64 // Gets and Puts: the trim clock (S4)
	trimMu   sync.Mutex   // one Trim at a time; taken before a class's lock
	trimmed  atomic.Int64 // ops at the last Trim
}

type class struct {
	size int
	mu   sync.Mutex // guards free, cold, chunks and live
	free [][]byte   // returned slots that hold memory, reused last-in first-out (S4)
	low  int        // the fewest free slots since the last Trim (S4)
	// cold are free slots whose whole pages are not resident: given back
	// (S4) or never touched since mapped.
	cold [][]byte
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
	a.keep.Store(DefaultKeep)
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
	var b []byte
	switch {
	case len(c.free) > 0: // S4: a warm slot first
		b = pop(&c.free)
		c.low = min(c.low, len(c.free))
		a.warm.Add(-int64(c.size))
	default:
		if len(c.cold) == 0 {
			m := c.grow()
			if m == 0 {
				c.mu.Unlock()
				return nil
			}
			a.mapped.Add(int64(m))
			a.released.Add(int64(m - c.edges(m)))
		}
		b = pop(&c.cold)
		a.released.Add(-int64(wholePages(b)))
	}
	if c.live != nil {
		c.live[unsafe.SliceData(b)] = true // S1
	}
	c.mu.Unlock()
	a.inUse.Add(int64(c.size))
	a.gets.Add(1)
	a.ops.Add(1)
	return b[:n:c.size]
}

func pop(l *[][]byte) []byte {
	s := *l
	b := s[len(s)-1]
	s[len(s)-1] = nil
	*l = s[:len(s)-1]
	return b
}

// grow maps a chunk, adds its slots to the cold list (untouched pages are
// not resident) and returns its size (0 when the system refused). c.mu is
// held.
func (c *class) grow() int {
	chunk := max(minChunk, slotsPerChunk*c.size)
	chunk -= chunk % c.size
	m := mapAnon(chunk)
	if m == nil {
		return 0
	}
	c.chunks = append(c.chunks, m)
	for off := chunk - c.size; off >= 0; off -= c.size {
		c.cold = append(c.cold, m[off:off+c.size:off+c.size])
	}
	return chunk
}

// edges is the bytes of the last chunk's slots (m bytes) that are not
// whole pages of one slot: m minus what Released counts for them.
func (c *class) edges(m int) (e int) {
	for _, b := range c.cold[len(c.cold)-m/c.size:] {
		e += len(b[:cap(b)]) - wholePages(b)
	}
	return e
}

// wholePages is the bytes of the pages that lie wholly inside slot b
// (S4): what giving it back returns.
func wholePages(b []byte) int {
	b = b[:cap(b)]
	if len(b) == 0 {
		return 0
	}
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	start := (p + pageSize - 1) &^ (pageSize - 1)
	end := (p + uintptr(len(b))) &^ (pageSize - 1)
	if end <= start {
		return 0
	}
	return int(end - start)
}

// pageRange is the part of slot b that wholePages counts.
func pageRange(b []byte) []byte {
	b = b[:cap(b)]
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	off := int(((p + pageSize - 1) &^ (pageSize - 1)) - p)
	n := wholePages(b)
	return b[off : off+n]
}

var pageSize = uintptr(os.Getpagesize())

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
	a.warm.Add(int64(size))
	c.mu.Unlock()
	a.inUse.Add(-int64(size))
	a.ops.Add(1)
}

// surplus: Trim keeps free slots worth up to 1/surplus of the slots in
// use (or Keep, if more), so that an arena whose free slots are a small
// share of what it holds, churning at a steady size, does not fault pages
// back in for little gain.
const surplus = 4

// TrimEvery is the Gets and Puts between two trims that TrimIfDue makes.
const TrimEvery = 1 << 16

// TrimIfDue trims (S4) when TrimEvery Gets and Puts have passed since
// the last trim, and reports whether it did. The page cache's evictor
// calls it, so the system calls are off the readers' path. Puts count, so
// slots that evictions free keep the clock going when page-ins stop
// taking slots; an arena with no traffic at all does not wake up to trim
// and keeps what it holds until traffic resumes.
func (a *Arena) TrimIfDue() bool {
	if a.ops.Load()-a.trimmed.Load() < TrimEvery {
		return false
	}
	a.Trim()
	return true
}

// Trim gives back the pages of the free slots no Get needed since the
// previous Trim, beyond Keep bytes of free slots (S4). A slot without a
// whole page of its own stays warm and does not count against what a
// class may give back.
func (a *Arena) Trim() {
	a.trimMu.Lock()
	defer a.trimMu.Unlock()
	a.trimmed.Store(a.ops.Load())
	for i := range a.classes {
		c := &a.classes[i]
		c.mu.Lock()
		n := c.low // idle through the whole interval: the oldest n
		if over := a.warm.Load() - max(a.keep.Load(), a.inUse.Load()/surplus); over <= 0 || c.size < int(pageSize) {
			n = 0 // within Keep, or slots smaller than a page (they share pages)
		} else {
			n = min(n, int((over+int64(c.size)-1)/int64(c.size)))
		}
		var idle [][]byte
		if n > 0 {
			kept := c.free[:0]
			for k, b := range c.free {
				if k < c.low && len(idle) < n && wholePages(b) > 0 {
					idle = append(idle, b)
				} else {
					kept = append(kept, b)
				}
			}
			clear(c.free[len(kept):])
			c.free = kept
			a.warm.Add(-int64(len(idle) * c.size))
		}
		c.low = len(c.free)
		c.mu.Unlock()
		if len(idle) == 0 {
			continue
		}
		// S4: off every list, so nobody can be handed them while their
		// pages go back.
		var cold, warm [][]byte
		for _, b := range idle {
			if releasePages(pageRange(b)) {
				if invariants.Enabled {
					// The pages read as zeros now, which a stale read could
					// take for an empty node: poison them again (S1), at the
					// price of the memory.
					for k := range b {
						b[k] = poison
					}
				}
				cold = append(cold, b)
			} else {
				warm = append(warm, b)
			}
		}
		c.mu.Lock()
		for _, b := range cold {
			c.cold = append(c.cold, b)
			a.released.Add(int64(wholePages(b)))
		}
		c.free = append(warm, c.free...)
		a.warm.Add(int64(len(warm) * c.size))
		c.mu.Unlock()
	}
}

// SetKeep bounds the bytes of free slots Trim leaves holding memory (S4).
func (a *Arena) SetKeep(n int64) { a.keep.Store(max(n, 0)) }

// Released is the bytes of the pages of free slots that hold no memory
// (S4): Mapped - Released bounds what the arena holds.
func (a *Arena) Released() int64 { return a.released.Load() }

// Warm is the bytes of the free slots that still hold memory (S4).
func (a *Arena) Warm() int64 { return a.warm.Load() }

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
		c.chunks, c.free, c.cold = nil, nil, nil
		if c.live != nil {
			clear(c.live)
		}
		c.mu.Unlock()
	}
	a.warm.Store(0)
	a.released.Store(0)
	runtime.SetFinalizer(a, nil)
}
