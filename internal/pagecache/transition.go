package pagecache

import (
	"fmt"
	"sync/atomic"
	"unsafe"

	"github.com/sledgo/sled/internal/codec"
	"github.com/sledgo/sled/internal/invariants"
	"github.com/sledgo/sled/internal/lfdelay"
	"github.com/sledgo/sled/internal/log"
	"github.com/sledgo/sled/internal/node"
)

// The one page-state transition primitive (P11). Every change of what a
// page is (its content, its allocation, its freedom) goes through apply;
// the only other CAS sites change whether a page is resident (P6) and go
// through swap as well.

// change is one page's part of a transition.
type change struct {
	id  node.PageID
	s   *slot
	old *Page // the exact state the CAS replaces
	new *Page // stamped with the record's LSN by apply
	sec codec.Section
	// delta: new's locations are old's plus this record (a partial
	// update); otherwise this record is the page's only location.
	delta bool
	// still, for a free whose CAS lost: whether the change still holds
	// over the page's current state (say, it was only evicted or
	// relocated); then the CAS is retried from that state. nil: it does
	// not.
	still func(old, cur *Page) bool
}

// transition is a set of page changes and meta sections logged as one
// record. changes[len-1] is the decisive change: the one CAS that can lose
// to a racing writer of a reachable page. The changes before it are
// rollback-able: allocations of reserved pages (unreachable until the
// decisive CAS publishes them) and frees (a tombstone is never changed by
// anybody else), so rolling them back cannot fail (P12).
type transition struct {
	changes []change
	meta    []codec.Section
	// unlogged: no record (a memory-only table, or giving back a page
	// that was never logged).
	unlogged bool
}

// apply runs t: it reserves the record (P8), CASes every rollback-able
// change marked with its prior state (P13), then the decisive change; if
// a CAS loses, it rolls back the changes already made and aborts the
// record (P10, P12). Once every CAS succeeded, the prior marks are cleared
// and the record completes. ok == false means a CAS lost and nothing
// changed.
func (c *Cache) apply(t *transition) (ok bool, err error) {
	var res *log.Reservation
	var rec *record
	if c.log != nil && !t.unlogged {
		var buf [4]codec.Section // most records have one to three sections: no heap
		secs := buf[:0]
		if n := len(t.changes) + len(t.meta); n > len(buf) {
			secs = make([]codec.Section, 0, n)
		}
		// The decisive page's section first, as the record's main page.
		last := len(t.changes) - 1
		if last >= 0 {
			secs = append(secs, t.changes[last].sec)
			for i := range t.changes[:last] {
				secs = append(secs, t.changes[i].sec)
			}
		}
		secs = append(secs, t.meta...)
		rec = c.encode(secs)
		if res, err = c.log.Reserve(len(rec.body)); err != nil {
			c.putBuf(rec.raw)
			return false, err
		}
		lsn := res.LSN()
		for i := range t.changes {
			ch := &t.changes[i]
			switch {
			case ch.new.freed:
				ch.new.freeLSN = lsn
			case ch.delta:
				ch.new.Locs = append(append(make([]Loc, 0, len(ch.old.Locs)+1), ch.old.Locs...), Loc{LSN: lsn, Size: rec.share(ch.sec)})
			default:
				ch.new.Locs = []Loc{{LSN: lsn, Size: rec.share(ch.sec)}}
			}
			if invariants.Enabled && ch.old.allocated() && len(ch.old.Locs) > 0 && ch.old.stamp() >= lsn {
				// P8: a CAS from a state reserves after the record that
				// made it, so per page log order is CAS order.
				invariants.Failf("P8", "page %d: record %d replaces a state stamped %d", ch.id, lsn, ch.old.stamp())
			}
		}
	}
	abort := func(upTo int) {
		// P12: undo in reverse order; these pages are unreachable or
		// tombstones, so nobody changed them since.
		for j := upTo - 1; j >= 0; j-- {
			ch := &t.changes[j]
			if !c.swap(ch.s, ch.new, ch.old) && invariants.Enabled {
				invariants.Failf("P12", "rollback of page %d lost its CAS", ch.id)
			}
		}
		if res != nil {
			// P10: effects undone before the record is settled.
			res.Abort()
			c.canceled.Add(int64(len(rec.body)))
			c.putBuf(rec.raw)
		}
	}
	n := len(t.changes)
	for i := range t.changes[:max(n-1, 0)] {
		ch := &t.changes[i]
		// P13: a snapshot that sees this state before the transition is
		// decided reports the prior state instead.
		if !c.install(ch, true) {
			abort(i)
			return false, nil
		}
	}
	testHook(StageStaged)
	if n > 0 {
		ch := &t.changes[n-1]
		// P1: the decisive CAS, from the exact state the caller read (or
		// one the caller's still accepts).
		if !c.install(ch, false) {
			abort(n - 1)
			return false, nil
		}
	}
	testHook(StageDecided)
	lfdelay.Point("pagecache.decided")
	// Decided: every state is final. Clear the marks before the record
	// completes, so that a snapshot starting after the completion never
	// reports a prior state (P13).
	for i := range t.changes[:max(n-1, 0)] {
		t.changes[i].new.prior.Store(nil)
	}
	// P17: a slot that no state holds any more (the decided states, and no
	// prior mark names the old ones) waits for its epoch.
	for i := range t.changes {
		ch := &t.changes[i]
		if sl := ch.old.slotOf(); sl != nil && !ch.new.Node.SharesSlot(ch.old.Node) {
			if invariants.Enabled {
				for j := range t.changes {
					if t.changes[j].new.Node.SharesSlot(ch.old.Node) {
						invariants.Failf("P17", "page %d's new state holds the slot page %d's old state gives up", t.changes[j].id, ch.id)
					}
				}
			}
			c.retireSlot(sl)
		}
	}
	lfdelay.Point("pagecache.complete")
	if res != nil {
		res.Complete(rec.kind, rec.body)
		c.logged.Add(int64(len(rec.body)))
		c.raw.Add(int64(len(rec.raw)))
		c.putBuf(rec.raw)
	}
	c.payForMemory()
	return true, nil
}

// install CASes one change, marked with its prior state when it is
// rollback-able (P13); a lost change whose still accepts the current state
// is retried from it.
func (c *Cache) install(ch *change, mark bool) bool {
	for {
		if mark {
			ch.new.prior.Store(ch.old)
		}
		if c.swap(ch.s, ch.old, ch.new) {
			return true
		}
		if ch.still == nil {
			return false
		}
		cur := ch.s.p.Load()
		if !cur.allocated() || cur.prior.Load() != nil || !ch.still(ch.old, cur) {
			return false
		}
		ch.old = cur
	}
}

// swap is the CAS of every page state change (P1, P6, P11): it installs
// new over the exact state old and keeps the memory count of resident
// nodes and the allocated count.
func (c *Cache) swap(s *slot, old, new *Page) bool {
	if invariants.Enabled {
		checkSwap(old, new)
	}
	lfdelay.Point("pagecache.swap")
	if !s.p.CompareAndSwap(old, new) {
		return false
	}
	// R1: the resident hint is set after every CAS to a resident state,
	// and cleared after a CAS to a state that is not resident only while
	// the state still is not resident.
	if new.Node != nil {
		if s.meta.Load()&residentBit == 0 {
			s.meta.Or(residentBit)
		}
	} else if old != nil && old.Node != nil {
		s.meta.And(^uint32(residentBit))
		lfdelay.Point("pagecache.hint")
		if cur := s.p.Load(); cur != nil && cur.Node != nil {
			s.meta.Or(residentBit)
		}
	}
	if d := new.tableBytes() - old.tableBytes(); d != 0 {
		c.tableBytes.Add(d) // before addMem, which reads the target it sets
	}
	if d := c.charge(new) - c.charge(old); d != 0 {
		c.addMem(d)
	}
	switch {
	case old.allocated() && !new.allocated():
		c.allocated.Add(-1)
	case !old.allocated() && new.allocated():
		c.allocated.Add(1)
	}
	return true
}

// checkSwap asserts what every transition keeps, with assertions on.
func checkSwap(old, new *Page) {
	if new == nil {
		invariants.Failf("P11", "a page state is replaced by nil")
	}
	if old != nil && old.freed && new.freed {
		invariants.Failf("P5", "a free page is freed again")
	}
}

// memBytes is the memory a resident state holds (0 for nil or
// non-resident): its node, exactly (node.MemBytes), the Page itself and its
// locations, in the allocator's size classes. A non-resident state's Page
// and locations are the page table's cost per page (tableBytes).
func (p *Page) memBytes() int64 {
	if p == nil || p.Node == nil {
		return 0
	}
	// The Page and the node's struct are one allocation (withNode): charge
	// it, not the two apart (equal on 64-bit platforms, not on 32-bit).
	return int64(p.Node.MemBytes() - nodeStructBytes + residentPageBytes + node.AllocBytes(cap(p.Locs)*locBytes))
}

// tableBytes is the memory a state that is not resident holds in the page
// table (0 for nil and resident states, which memBytes counts): the Page
// and its locations, in the allocator's size classes. Tombstones count.
func (p *Page) tableBytes() int64 {
	if p == nil || p.Node != nil {
		return 0
	}
	return int64(pageStructBytes + node.AllocBytes(cap(p.Locs)*locBytes))
}

var (
	pageStructBytes   = node.AllocBytes(int(unsafe.Sizeof(Page{})))
	residentPageBytes = node.AllocBytes(int(unsafe.Sizeof(residentPage{})))
	nodeStructBytes   = node.AllocBytes(int(unsafe.Sizeof(node.Node{}))) // what node.MemBytes charges for the struct
	locBytes          = int(unsafe.Sizeof(Loc{}))
)

// allocated reports whether p is the state of an allocated page: reserved,
// published or evicted, not free.
func (p *Page) allocated() bool { return p != nil && !p.freed }

// stamp is the LSN of the record that made p: its last location, or where
// its free was logged. 0 for states never logged.
func (p *Page) stamp() log.LSN {
	switch {
	case p == nil:
		return 0
	case p.freed || len(p.Locs) == 0:
		return p.freeLSN // a free page, or a reserved one (P15)
	}
	return p.lastLoc()
}

// settled returns the state a snapshot reports for p: p itself, or the
// prior state while the transition that made p may still be rolled back
// (P13).
func (p *Page) settled() *Page {
	if p == nil {
		return nil
	}
	if pr := p.prior.Load(); pr != nil {
		return pr
	}
	return p
}

// Stages of a transition at which tests may interleave (TestHook).
const (
	StageStaged  = "staged"  // rollback-able changes made; the decisive CAS has not run
	StageDecided = "decided" // every CAS succeeded; the record is not complete
)

// TestHook, when set, is called at each stage of every transition. Tests
// use it to run a racing operation at an exact point; it may itself run
// transitions.
var TestHook atomic.Pointer[func(stage string)]

func testHook(stage string) {
	if h := TestHook.Load(); h != nil {
		(*h)(stage)
	}
}

// errUnpublished is returned for an Alloc that names a page not reserved
// and set with Init.
func errUnpublished(id node.PageID) error {
	return fmt.Errorf("pagecache: page %d is not a reserved, initialized page", id)
}
