package pagecache

import (
	"slices"
	"time"

	"github.com/sledgo/sled/internal/log"
	"github.com/sledgo/sled/internal/node"
)

// Support for log cleaning (segment GC). The cleaner, above this package,
// picks victim segments from UseBySegment, rewrites every page with a
// fragment in them (Relocate: a fresh full image at the log tail), makes
// that durable, and removes the victims once no reader can still read them
// (WaitReaders) and recovery no longer needs them (a newer snapshot).

// SegmentUse is what a segment holds that pages still need, and what
// cleaning it would cost.
type SegmentUse struct {
	// Live is the bytes of the fragments in the segment that pages name.
	Live int64
	// Relocate is the bytes of every fragment, in any segment, of the
	// pages named in the segment: what relocating them turns from live to
	// garbage (a relocation writes each page whole, whatever it has in
	// the segment).
	Relocate int64
	// Rewrite estimates what relocating those pages writes: the size of
	// each one's current image, from its node when resident (scaled by the
	// compression ratio seen so far), else all of its log bytes, an upper
	// bound (P4 keeps them within twice the image; a page that only grew
	// by fragments, such as appends, has an image as large as all of them,
	// so its last full image alone would be far too low).
	Rewrite int64
}

// UseBySegment returns, for each segment that allocated pages name, its
// SegmentUse.
func (c *Cache) UseBySegment(segSize log.LSN) map[uint64]SegmentUse {
	use := map[uint64]SegmentUse{}
	c.each(func(_ node.PageID, _ *slot, p *Page) {
		if p == nil || p.freed {
			return
		}
		whole := p.logBytes()
		image := whole
		if p.Node != nil {
			image = c.diskEstimate(int64(p.Node.ImageBytes()))
		}
		for i, l := range p.Locs {
			seg := uint64(l.LSN / segSize)
			u := use[seg]
			u.Live += int64(l.Size)
			if !slices.ContainsFunc(p.Locs[:i], func(o Loc) bool { return uint64(o.LSN/segSize) == seg }) {
				u.Relocate += whole // once per page and segment
				u.Rewrite += image
			}
			use[seg] = u
		}
	})
	return use
}

// Named returns the segments among segs that a page state still names: its
// current state, or the prior state a snapshot would report (P13). The
// cleaner removes a segment only when nothing names it (C2).
func (c *Cache) Named(segSize log.LSN, segs map[uint64]bool) map[uint64]bool {
	named := map[uint64]bool{}
	note := func(p *Page) {
		if p != nil && !p.freed {
			for _, l := range p.Locs {
				if seg := uint64(l.LSN / segSize); segs[seg] {
					named[seg] = true
				}
			}
		}
	}
	c.each(func(_ node.PageID, _ *slot, p *Page) {
		note(p)
		if p != nil {
			note(p.prior.Load())
		}
	})
	return named
}

// PagesIn returns the pages that have a fragment in one of the segments.
func (c *Cache) PagesIn(segSize log.LSN, segs map[uint64]bool) []node.PageID {
	var ids []node.PageID
	c.each(func(id node.PageID, _ *slot, p *Page) {
		if p != nil && !p.freed && p.inSegments(segSize, segs) {
			ids = append(ids, id)
		}
	})
	return ids
}

func (p *Page) inSegments(segSize log.LSN, segs map[uint64]bool) bool {
	for _, l := range p.Locs {
		if segs[uint64(l.LSN/segSize)] {
			return true
		}
	}
	return false
}

// Relocate rewrites page id as one full image at the log tail if it still
// has a fragment in one of the segments. It runs as a writer (the caller
// holds the database's write gate) and retries when a writer wins the CAS;
// a page freed meanwhile needs nothing.
func (c *Cache) Relocate(id node.PageID, segSize log.LSN, segs map[uint64]bool) error {
	ok, err := c.rewrite(id, true, func(p *Page) bool { return p.inSegments(segSize, segs) })
	if ok {
		c.relocated.Add(1)
	}
	return err
}

// Consolidation (C3): a page whose image and fragments lie in several
// places costs one read per place at every page-in. A page-in that needed
// at least consolidateReads reads counts against its slot; the
// consolidateAfter-th such page-in of the same state (no write between
// them) queues the page (Consolidations), and the owner's consolidator
// rewrites it as one image (Consolidate), so its next cold read is one
// read. The first scattered page-in only counts: a page read once by a
// scan is not rewritten. Nor is a page written between its page-ins or
// since it was queued: writers read pages in to update them, and a page
// they keep updating gets its image from the byte rule (P4) when its
// fragments outweigh it; an early image would only add to the log. On a
// 50/50 read/update mix (1M x 100 B, 64 MiB cache) the mix's write
// amplification was 8.5x without consolidation, 11.2x when every second
// scattered page-in queued, 9.9x when only page-ins of the same state
// counted, and 8.7x with the third (these constants).
const (
	consolidateReads = 3
	consolidateAfter = 3
	consolidateQueue = 1024
)

// Scattered is a page that Consolidations offers, with the stamp (the LSN
// of its last record) of the state its page-in read.
type Scattered struct {
	ID    node.PageID
	Stamp log.LSN
}

// Consolidations returns the pages to Consolidate, in the order their
// page-ins queued them.
func (c *Cache) Consolidations() <-chan Scattered { return c.consolidate }

// Consolidate rewrites page sc.ID as one full image if it is resident, its
// state is still the one the queuing page-in read (no write since) and
// names at least consolidateReads locations (C3). Like Relocate, it is an
// ordinary transition and runs as a writer (the caller holds the
// database's write gate); a page evicted, written or freed meanwhile is
// left alone (its next scattered page-in queues it again).
func (c *Cache) Consolidate(sc Scattered) error {
	ok, err := c.rewrite(sc.ID, false, func(p *Page) bool {
		return len(p.Locs) >= consolidateReads && p.stamp() == sc.Stamp
	})
	if ok {
		c.consolidated.Add(1)
		if s := c.slot(sc.ID, false); s != nil {
			s.resetScattered()
		}
	}
	return err
}

// rewrite writes page id as one full image when need holds for its state,
// reading it in first if pageIn (else a page that is not resident is left
// alone). It reports whether it wrote the image.
func (c *Cache) rewrite(id node.PageID, pageIn bool, need func(*Page) bool) (bool, error) {
	g := c.Pin()
	defer g.Unpin()
	s := c.slot(id, false)
	if s == nil {
		return false, nil
	}
	for {
		cur := s.p.Load()
		if cur == nil || cur.freed {
			// Free, or a free staged by an undecided transition: nothing
			// to rewrite; if that transition rolls back, a segment it
			// names stays named and waits for the next round (C2).
			return false, nil
		}
		cold := cur.Node == nil
		p := cur
		if !pageIn {
			// Consolidation: never a read, and no reference counted for
			// the CLOCK (the page is only rewritten, not used).
			if cold || cur.prior.Load() != nil {
				return false, nil // not resident, or undecided (P13)
			}
		} else {
			var err error
			if p, err = c.Load(id); err != nil {
				if isFreed(err) {
					return false, nil
				}
				return false, err
			}
		}
		if !need(p) {
			return false, nil
		}
		n := p.Node
		_, ok, err := c.Update(id, p, n, node.Delta{Kind: node.DeltaImage, Image: n})
		if err != nil {
			return false, err
		}
		if ok {
			if cold {
				// Scan resistance: a page the cleaner read in is the
				// first the CLOCK hand takes, not a reason to evict
				// pages that readers use.
				s.ref.Store(0)
			}
			return true, nil
		}
	}
}

// WaitReaders returns once every operation that was pinned when it was
// called has unpinned (two epoch advances), so that nothing read before
// can still be reading what was unlinked before.
func (c *Cache) WaitReaders(stop <-chan struct{}) bool {
	target := c.ep.global.Load() + 2
	for c.ep.tryAdvance() < target {
		select {
		case <-stop:
			return false
		case <-time.After(100 * time.Microsecond):
		}
	}
	return true
}

// LastBySegment returns, for each segment that an allocated page names, the
// newest location named in it: what Open checks exists (log.CheckPresent).
func (c *Cache) LastBySegment(segSize log.LSN) map[uint64]log.LSN {
	last := map[uint64]log.LSN{}
	c.each(func(_ node.PageID, _ *slot, p *Page) {
		if p != nil && !p.freed {
			for _, l := range p.Locs {
				if seg := uint64(l.LSN / segSize); l.LSN >= last[seg] {
					last[seg] = l.LSN
				}
			}
		}
	})
	return last
}
