package pagecache

import (
	"sync"

	"github.com/sledgo/sled/internal/invariants"
	"github.com/sledgo/sled/internal/node"
)

// Node slots (P17). A page-in builds its node in a slot of the cache's
// arena (internal/slab) instead of on the Go heap; the versions that only
// add an overlay to that node share the slot. When a decided transition or
// an eviction replaces a state holding a slot with one that does not, the
// slot is retired: it goes back to the arena once every operation pinned
// at that time has unpinned (two epoch advances, as for page ids, P3). A
// page-in whose node is not installed gives its slot back at once, since
// nobody saw it.

// retiredSlots are slots waiting for their epoch, in retirement order.
type retiredSlots struct {
	mu   sync.Mutex // guards list; taken before the arena's locks
	list []retiredSlot
}

type retiredSlot struct {
	b     []byte
	epoch uint64 // the global epoch when it was retired
}

// retireBatch: retirements between attempts to reclaim (each attempt
// reads the epoch counters of one slot).
const retireBatch = 4

// slotOf is the slot p's node holds, or nil.
func (p *Page) slotOf() []byte {
	if p == nil {
		return nil
	}
	return p.Node.Slot()
}

// charge is what p counts against the capacity: its memory, with its
// node's slot (if any) at SlotChargePercent.
func (c *Cache) charge(p *Page) int64 {
	m := p.memBytes()
	if sl := p.slotOf(); sl != nil {
		m -= int64(cap(sl)) - c.slotCharge(sl)
	}
	return m
}

func (c *Cache) slotCharge(sl []byte) int64 { return int64(cap(sl)) * c.slotPct / 100 }

// retireSlot queues sl, which no page state holds any more, for return to
// the arena once no pinned operation can still read it (P17). Until then
// it counts in waitBytes (M2). The caller is usually pinned itself, which
// holds the epoch back, so it also wakes the evictor, which is not.
func (c *Cache) retireSlot(sl []byte) {
	c.waitBytes.Add(c.slotCharge(sl))
	e := c.ep.global.Load()
	c.slots.mu.Lock()
	c.slots.list = append(c.slots.list, retiredSlot{sl, e})
	n := len(c.slots.list)
	c.slots.mu.Unlock()
	if n%retireBatch == 0 {
		c.reclaimSlots()
		if c.evict != nil {
			select {
			case c.evict <- struct{}{}:
			default:
			}
		}
	}
}

// reclaimSlots returns the retired slots whose epoch has passed and
// reports whether it returned any.
func (c *Cache) reclaimSlots() bool {
	if c.slab == nil {
		return false
	}
	g := c.ep.tryAdvance()
	c.slots.mu.Lock()
	defer c.slots.mu.Unlock()
	l := c.slots.list
	if len(l) > 0 && l[0].epoch+2 > g {
		g = c.ep.tryAdvance() // one advance at a time; the oldest may need two
	}
	k := 0
	for ; k < len(l) && l[k].epoch+2 <= g; k++ {
		// P17: every operation pinned when the slot was retired is gone.
		if invariants.Enabled && l[k].epoch+2 > c.ep.global.Load() {
			invariants.Failf("P17", "a slot retired at epoch %d returned at %d", l[k].epoch, c.ep.global.Load())
		}
		c.slab.Put(l[k].b) // lock order: slots.mu, then the arena's
		c.waitBytes.Add(-c.slotCharge(l[k].b))
	}
	if k > 0 {
		n := copy(l, l[k:])
		clear(l[n:])
		c.slots.list = l[:n]
	}
	return k > 0
}

// SlotStats reports the arena: bytes of slots in use (installed or
// waiting for their epoch), bytes it holds from the system (mapped and not
// given back: in use, free ones up to its keep, page edges), and slots
// retired and waiting.
func (c *Cache) SlotStats() (inUse, held int64, waiting int) {
	if c.slab == nil {
		return 0, 0, 0
	}
	c.slots.mu.Lock()
	waiting = len(c.slots.list)
	c.slots.mu.Unlock()
	return c.slab.InUse(), c.slab.Mapped() - c.slab.Released(), waiting
}

// waitingCharge recounts what the retired slots count (waitBytes, M2).
func (c *Cache) waitingCharge() (m int64) {
	c.slots.mu.Lock()
	defer c.slots.mu.Unlock()
	for _, r := range c.slots.list {
		m += c.slotCharge(r.b)
	}
	return m
}

// pageInArena returns the arena a page-in builds its node in: the cache's
// slab, unless the slots waiting for their epoch already hold an eighth of
// the capacity (an operation pinned for long holds the epoch back, M2):
// then nil, the heap, which the collector frees without waiting for
// epochs.
func (c *Cache) pageInArena() node.Allocator {
	if c.slab == nil || (c.capacity > 0 && c.waitBytes.Load() > c.capacity/maxWaitShare) {
		return nil
	}
	return c.slab
}

// Free slots beyond capacity/keepShare (at least minKeep) give their pages
// back to the system (M2, slab S4).
const (
	keepShare = 16
	minKeep   = 256 << 10
)

// maxWaitShare: retired slots beyond 1/maxWaitShare of the capacity make
// page-ins use the heap.
const maxWaitShare = 8
