package pagecache

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/sledgo/sled/internal/node"
)

// FragmentsPerImage is how many delta fragments a page accumulates before
// the next update consolidates it into a full image (P4).
const FragmentsPerImage = 8

const (
	chunkBits = 13
	chunkLen  = 1 << chunkBits
	topLen    = 1 << 17 // 2^30 page ids
)

// ErrFreed is returned by Load for a page id that is not allocated.
var ErrFreed = errors.New("pagecache: page is not allocated")

// Page is the immutable state of one page.
type Page struct {
	Node *node.Node
	// Frags counts the delta fragments applied since the last full image.
	Frags int
}

// Stats counts page-table activity.
type Stats struct {
	Allocated  int64 // pages currently allocated
	Highest    uint64
	Updates    int64
	Images     int64 // full images written (new pages, structure changes, consolidation)
	Fragments  int64 // partial updates written
	FreedTotal int64
	MemBytes   int64 // approximate memory of cached nodes
}

type chunk [chunkLen]atomic.Pointer[Page]

// Cache is the page table.
type Cache struct {
	top  [topLen]atomic.Pointer[chunk]
	next atomic.Uint64 // highest id handed out so far

	ep      epochs
	retired atomic.Pointer[idNode] // freed ids waiting for their epoch
	free    atomic.Pointer[idNode] // ids safe to reuse

	allocated atomic.Int64
	updates   atomic.Int64
	images    atomic.Int64
	fragments atomic.Int64
	freed     atomic.Int64
	memBytes  atomic.Int64
}

type idNode struct {
	id    node.PageID
	epoch uint64
	next  *idNode
}

// New returns an empty page table.
func New() *Cache { return &Cache{} }

// Pin pins the current epoch: page ids freed after this call are not reused
// until the guard is unpinned. Every tree operation runs pinned.
func (c *Cache) Pin() Guard { return c.ep.pin() }

func (c *Cache) slot(id node.PageID, grow bool) *atomic.Pointer[Page] {
	hi := uint64(id) >> chunkBits
	if hi >= topLen {
		return nil
	}
	ch := c.top[hi].Load()
	if ch == nil {
		if !grow {
			return nil
		}
		fresh := new(chunk)
		// P2: a chunk is installed once and never replaced.
		if c.top[hi].CompareAndSwap(nil, fresh) {
			ch = fresh
		} else {
			ch = c.top[hi].Load()
		}
	}
	return &ch[uint64(id)&(chunkLen-1)]
}

// Load returns the current state of page id.
func (c *Cache) Load(id node.PageID) (*Page, error) {
	s := c.slot(id, false)
	if s == nil {
		return nil, fmt.Errorf("%w: %d", ErrFreed, id)
	}
	p := s.Load()
	if p == nil {
		return nil, fmt.Errorf("%w: %d", ErrFreed, id)
	}
	return p, nil
}

// Allocate installs n in a fresh page and returns its id. With n == nil the
// id is only reserved: it reads as absent until Init.
func (c *Cache) Allocate(n *node.Node) (node.PageID, error) {
	id := c.popFree()
	if id == 0 {
		id = node.PageID(c.next.Add(1))
		if uint64(id)>>chunkBits >= topLen {
			return 0, errors.New("pagecache: page table is full")
		}
	}
	c.slot(id, true) // make sure the chunk exists
	c.allocated.Add(1)
	if n != nil {
		c.Init(id, n)
	}
	return id, nil
}

// Init sets the first state of a page reserved by Allocate(nil).
func (c *Cache) Init(id node.PageID, n *node.Node) {
	// P3: the id is ours alone; no reader can reach it before we publish a
	// pointer to it, so a plain store suffices.
	c.slot(id, true).Store(&Page{Node: n})
	c.images.Add(1)
	c.memBytes.Add(int64(n.MemBytes()))
}

// Update replaces old, the state of page id that the caller loaded, by n,
// which is old's node with delta d applied. It returns the new state, or
// ok == false when another writer changed the page first (P1).
func (c *Cache) Update(id node.PageID, old *Page, n *node.Node, d node.Delta) (*Page, bool, error) {
	p := &Page{Node: n}
	if d.Kind == node.DeltaImage || old.Frags+1 >= FragmentsPerImage {
		p.Frags = 0 // P4: consolidate into a full image
	} else {
		p.Frags = old.Frags + 1
	}
	s := c.slot(id, false)
	if s == nil {
		return nil, false, fmt.Errorf("%w: %d", ErrFreed, id)
	}
	// P1: install only over the exact state the caller derived n from.
	if !s.CompareAndSwap(old, p) {
		return nil, false, nil
	}
	c.updates.Add(1)
	if p.Frags == 0 {
		c.images.Add(1)
	} else {
		c.fragments.Add(1)
	}
	c.memBytes.Add(int64(n.MemBytes() - old.Node.MemBytes()))
	return p, true, nil
}

// Free retires page id and returns its last state (nil if it had none).
// Every later Load reads it as absent and every later Update of it fails,
// so Free also serves to take a page away from racing writers. The id is
// reused once all current pins are gone (P3).
func (c *Cache) Free(id node.PageID) *Page {
	s := c.slot(id, false)
	if s == nil {
		return nil
	}
	old := s.Swap(nil) // P5: a freed page reads as absent
	if old != nil {
		c.memBytes.Add(-int64(old.Node.MemBytes()))
	}
	c.allocated.Add(-1)
	c.freed.Add(1)
	e := c.ep.global.Load()
	push(&c.retired, &idNode{id: id, epoch: e})
	c.ep.tryAdvance()
	return old
}

func push(head *atomic.Pointer[idNode], n *idNode) {
	for {
		h := head.Load()
		n.next = h
		if head.CompareAndSwap(h, n) {
			return
		}
	}
}

// popFree returns a reusable id or 0. Go's GC makes the Treiber stack safe
// from ABA: a popped idNode is never reused while a racer still holds it.
func (c *Cache) popFree() node.PageID {
	for {
		h := c.free.Load()
		if h == nil {
			if !c.reclaim() {
				return 0
			}
			continue
		}
		if c.free.CompareAndSwap(h, h.next) {
			return h.id
		}
	}
}

// reclaim moves retired ids whose epoch has passed to the free stack and
// reports whether it moved any.
func (c *Cache) reclaim() bool {
	if c.retired.Load() == nil {
		return false
	}
	g := c.ep.tryAdvance()
	list := c.retired.Swap(nil)
	moved := false
	for n := list; n != nil; {
		next := n.next
		if g >= n.epoch+2 {
			push(&c.free, n)
			moved = true
		} else {
			push(&c.retired, n)
		}
		n = next
	}
	return moved
}

// Stats returns counters.
func (c *Cache) Stats() Stats {
	return Stats{
		Allocated:  c.allocated.Load(),
		Highest:    c.next.Load(),
		Updates:    c.updates.Load(),
		Images:     c.images.Load(),
		Fragments:  c.fragments.Load(),
		FreedTotal: c.freed.Load(),
		MemBytes:   c.memBytes.Load(),
	}
}
