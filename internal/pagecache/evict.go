package pagecache

// Eviction keeps the memory of resident nodes under the capacity with a
// CLOCK sweep over page ids. A Load of a resident page raises its reference
// count (to at most 2), a page-in or a write sets it to 1; the hand
// decrements counts and evicts pages found at 0. A one-time scan therefore
// leaves pages at 1 while pages read again climb to 2: scans evict
// themselves first (scan resistance), yet a page just read in survives until
// the hand passes it once, so its reader can use it.
//
// The sweep is sharded: page ids are split into evictShards classes (id mod
// evictShards), each with its own hand, and concurrent evictors (the
// background evictor and writers that help when far over the capacity)
// start on different shards, so they neither contend on one hand nor evict
// the same pages.
//
// A page is evictable only when every fragment of it is written to the log
// file (so a page-in can read it back) and it is not a structure change in
// progress (Frozen or marked nodes stay resident; they are few and short
// lived). Evicting is one CAS to a state without the node (P6), so a racing
// writer simply reloads.

import (
	"math/rand/v2"

	"github.com/sledgo/sled/internal/node"
)

const (
	evictBatch  = 256
	evictShards = 16
	// payBatch and payRounds bound the work one operation does to bring
	// the cache back under its capacity (payForMemory): enough to evict
	// what one operation can add (a page-in, a split's two pages) when a
	// quarter of the pages it passes are evictable.
	payBatch  = 32
	payRounds = 4
)

func (c *Cache) evictor() {
	defer c.done.Done()
	for {
		select {
		case <-c.stop:
			return
		case <-c.evict:
		}
		// Unpinned, this goroutine can always move the epoch on: return
		// the retired slots whose epoch has passed (P17).
		c.reclaimSlots()
		if c.slab != nil {
			c.slab.TrimIfDue() // M2, slab S4: off the readers' path
		}
		for t := c.nodeTarget(); c.memBytes.Load() > t-t/10; t = c.nodeTarget() {
			c.reclaimSlots()
			if evicted, _ := c.evictSome(evictBatch); evicted == 0 && c.sweptAll() {
				break
			}
			select {
			case <-c.stop:
				return
			default:
			}
		}
	}
}

// sweptAll reports whether a sweep found nothing to evict in a full turn;
// it is approximated by shard 0's hand having passed the highest id.
func (c *Cache) sweptAll() bool {
	return c.hands[0].n.Load()*evictShards%(c.next.Load()+1) < evictBatch
}

// evictSome advances the CLOCK hand of one shard over up to n resident
// pages and returns how many it evicted, and how many it would have
// evicted but for a fragment not yet written to the log file (P6). It
// skips pages that are not resident by their slot's resident hint (R1)
// without reading their state, passing at most n*scanPerCandidate slots
// and at most three laps of the shard (a page's reference count is at most
// 2: two laps age it, the third evicts it; more would revisit the same
// pages, which on a small table made one call pass each slot hundreds of
// times), and claims slots from the hand claimRun at a time.
func (c *Cache) evictSome(n int) (evicted, unwritten int) {
	if c.log == nil {
		return 0, 0
	}
	written := c.log.Written()
	shard := rand.Uint64N(evictShards)
	hand := &c.hands[shard].n
	hi := c.next.Load()
	if hi < evictShards {
		hi = evictShards
	}
	// The shard's ids are shard, shard+evictShards, ... below hi.
	perShard := hi/evictShards + 1
	run := min(claimRun, perShard) // never more than one lap per claim
	seen, passed := 0, 0
	limit := min(n*scanPerCandidate, 3*int(perShard))
	for seen < n && passed < limit {
		start := hand.Add(run) - run
		for k := uint64(0); k < run && seen < n; k++ {
			passed++
			id := node.PageID(((start+k)%perShard)*evictShards + shard)
			if id == 0 || uint64(id) > hi {
				continue
			}
			s := c.slot(id, false)
			if s == nil || s.meta.Load()&residentBit == 0 {
				continue
			}
			seen++
			if r := s.ref.Load(); r > 0 {
				s.ref.Store(r - 1)
				continue
			}
			p := s.p.Load()
			if p == nil || p.freed || p.Node == nil || len(p.Locs) == 0 || p.Node.Frozen() || p.Node.HasMark() || p.prior.Load() != nil {
				continue
			}
			if p.lastLoc() >= written {
				unwritten++
				continue // a fragment is still only in a log buffer
			}
			if c.dropNode(s, p) {
				c.evictions.Add(1)
				evicted++
			}
		}
	}
	return evicted, unwritten
}

// dropNode makes the resident state p of slot s not resident, keeping
// its locations, and retires its node's slot (P17). It reports false when
// the state is no longer p.
func (c *Cache) dropNode(s *slot, p *Page) bool {
	// P6: drop the node only over the exact state the caller judged.
	if !c.swap(s, p, &Page{Locs: p.Locs, Frags: p.Frags}) {
		return false
	}
	if sl := p.slotOf(); sl != nil {
		c.retireSlot(sl)
	}
	return true
}

const (
	// claimRun: slots an evictor takes from its shard's hand with one
	// atomic add, so that concurrent evictors do not contend per slot.
	claimRun = 16
	// scanPerCandidate bounds the slots evictSome passes per resident
	// page it may look at, when most pages are not resident.
	scanPerCandidate = 64
)
