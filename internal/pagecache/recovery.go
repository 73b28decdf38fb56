package pagecache

import (
	"fmt"

	"github.com/sledgo/sled/internal/codec"
	"github.com/sledgo/sled/internal/invariants"
	"github.com/sledgo/sled/internal/log"
	"github.com/sledgo/sled/internal/node"
)

// Recovery rebuilds the page table from a snapshot (page id -> locations)
// and the log records after it, without reading any page: pages become
// resident when first loaded. Replay is idempotent (P9): a record at LSN x
// is skipped for a page whose state already reflects x or later (its last
// location, or the LSN of its free, is >= x), so the snapshot may overlap
// the replayed log.

// The functions of recovery set page states with plain stores: they run
// before Attach, while nothing else can see the table (P14).

func (c *Cache) recovering(what string) {
	if invariants.Enabled && c.log != nil {
		invariants.Failf("P14", "%s after Attach", what)
	}
}

// RestorePage sets a page from a snapshot entry.
func (c *Cache) RestorePage(id node.PageID, locs []Loc) {
	c.recovering("RestorePage")
	c.noteID(id)
	c.slot(id, true).p.Store(&Page{Locs: locs, Frags: len(locs) - 1})
}

// RestoreFree marks a page free from a snapshot entry.
func (c *Cache) RestoreFree(id node.PageID, lsn log.LSN) {
	c.recovering("RestoreFree")
	c.noteID(id)
	c.slot(id, true).p.Store(&Page{freed: true, freeLSN: lsn})
}

// SetNext raises the highest allocated id.
func (c *Cache) SetNext(n uint64) {
	for {
		cur := c.next.Load()
		if cur >= n || c.next.CompareAndSwap(cur, n) {
			return
		}
	}
}

func (c *Cache) noteID(id node.PageID) { c.SetNext(uint64(id)) }

// Replay applies one page section of the record at lsn, which accounts
// for size bytes of the log (Loc.Size).
func (c *Cache) Replay(lsn log.LSN, size uint32, sec codec.Section) error {
	c.recovering("Replay")
	if sec.Page == 0 || uint64(sec.Page)>>chunkBits >= topLen {
		return fmt.Errorf("%w: section names page %d", codec.ErrCorrupt, sec.Page)
	}
	c.noteID(sec.Page)
	s := c.slot(sec.Page, true)
	p := s.p.Load()
	if p != nil && ((p.freed && p.freeLSN >= lsn) || (!p.freed && p.lastLoc() >= lsn)) {
		return nil // P9: already reflected
	}
	switch sec.Kind {
	case codec.SecImage:
		s.p.Store(&Page{Locs: []Loc{{LSN: lsn, Size: size}}})
	case codec.SecDelta:
		if p == nil || p.freed {
			return fmt.Errorf("%w: delta at %d for page %d that is not allocated", codec.ErrCorrupt, lsn, sec.Page)
		}
		locs := append(append(make([]Loc, 0, len(p.Locs)+1), p.Locs...), Loc{LSN: lsn, Size: size})
		s.p.Store(&Page{Locs: locs, Frags: p.Frags + 1})
	case codec.SecFree:
		s.p.Store(&Page{freed: true, freeLSN: lsn})
	default:
		return fmt.Errorf("%w: section kind %d is not a page section", codec.ErrCorrupt, sec.Kind)
	}
	return nil
}

// FinishRecovery counts allocated pages and makes free ids reusable.
func (c *Cache) FinishRecovery() {
	c.recovering("FinishRecovery")
	var table int64
	c.each(func(id node.PageID, s *slot, p *Page) {
		switch {
		case p == nil || p.freed:
			if p == nil {
				p = &Page{freed: true}
				s.p.Store(p)
			}
			push(&c.free, &idNode{id: id})
		default:
			c.allocated.Add(1)
		}
		table += p.tableBytes()
	})
	// Recovery stored states without swap: count them once (M1).
	c.tableBytes.Add(table)
}

// each calls fn with every page id up to the highest allocated, its slot
// and its current state (nil when never set); ids without a chunk are
// skipped.
func (c *Cache) each(fn func(id node.PageID, s *slot, p *Page)) { c.eachUpTo(fn, c.next.Load()) }

// eachUpTo is each for the ids up to hi.
func (c *Cache) eachUpTo(fn func(id node.PageID, s *slot, p *Page), hi uint64) {
	for id := node.PageID(1); uint64(id) <= hi; id++ {
		if s := c.slot(id, false); s != nil {
			fn(id, s, s.p.Load())
		}
	}
}

// SnapshotPages calls page for every allocated page and free for every free
// one, with the current locations. A state whose transition is not decided
// yet is reported as the state it replaced (P13): its record is at or
// above the caller's replay start (it was incomplete when the caller took
// CompletePrefix), so replay applies it if it completes, and a canceled
// record leaves nothing behind. The caller makes sure the records named
// are durable before it relies on the snapshot.
func (c *Cache) SnapshotPages(page func(id node.PageID, locs []Loc), free func(id node.PageID, lsn log.LSN)) uint64 {
	hi := c.next.Load()
	c.eachUpTo(func(id node.PageID, _ *slot, p *Page) {
		switch p = p.settled(); {
		case p == nil:
			// never used
			free(id, 0)
		case p.freed:
			free(id, p.freeLSN)
		case len(p.Locs) > 0:
			page(id, p.Locs)
		default:
			// reserved but not yet published: free at the snapshot's
			// view (its first record, if any, comes later), with the
			// stamp of its last free (P15)
			free(id, p.freeLSN)
		}
	}, hi)
	return hi
}

// ReplayShares returns, for the sections of a record whose body took
// bodyLen bytes in the log and rawLen bytes decoded, each section's share of
// the disk (Loc.Size), as Update computed them.
func ReplayShares(secs []codec.Section, rawLen, bodyLen int) []uint32 {
	out := make([]uint32, len(secs))
	for i, s := range secs {
		out[i] = shareOf(s, bodyLen, rawLen)
	}
	return out
}
