//go:build lfdelay

package pagecache

// Systematic concurrency tests (internal/lfsched): every interleaving, up to
// a preemption bound, of an eviction racing updates and loads of one
// log-backed counter page, checked after each schedule.

import (
	"encoding/binary"
	"fmt"
	"slices"
	"testing"

	"github.com/sledgo/sled/internal/codec"
	"github.com/sledgo/sled/internal/lfdelay"
	"github.com/sledgo/sled/internal/lfsched"
	"github.com/sledgo/sled/internal/log"
	"github.com/sledgo/sled/internal/node"
	"github.com/sledgo/sled/vfs"
)

var lfKey = []byte("n")

func lfEnc(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func lfCount(p *Page) uint64 { return binary.BigEndian.Uint64(p.Node.Val(0)) }

// lfIncrement adds one to the counter page: load, then Update from the
// state loaded, again while the CAS loses.
func lfIncrement(c *Cache, id node.PageID) error {
	for range 100 {
		p, err := c.Load(id)
		if err != nil {
			return err
		}
		v := lfEnc(lfCount(p) + 1)
		_, ok, err := c.Update(id, p, p.Node.WithValue(0, true, lfKey, v), node.Delta{Kind: node.DeltaSet, Key: lfKey, Val: v})
		if err != nil || ok {
			return err
		}
	}
	return fmt.Errorf("increment of page %d does not converge", id)
}

// lfEvict runs the real CLOCK sweep (evictSome) until its hand has passed
// page id once. Shards are picked at random, but a call on another shard
// meets no page (the table holds only id) and so no scheduling point: the
// schedule sees exactly one judgement of id.
func lfEvict(c *Cache, id node.PageID) {
	hand := &c.hands[uint64(id)%evictShards].n
	for before := hand.Load(); hand.Load() == before; {
		c.evictSome(2) // 2 ids per shard below 16: id and id+16
	}
}

// lfEvictRacy evicts as a first version might have: judge the state, then
// store the node-less state instead of CASing it over the state judged
// (P6 broken). Only the seeded-bug test uses it.
func lfEvictRacy(c *Cache, id node.PageID) {
	s := c.slot(id, false)
	p := s.p.Load()
	if p.Node == nil || len(p.Locs) == 0 || p.lastLoc() >= c.log.Written() {
		return
	}
	lfdelay.Point("pagecache.swap")
	s.p.Store(&Page{Locs: p.Locs, Frags: p.Frags}) // BUG: not a CAS
}

// lfEvictUpdate: updaters increment the counter page while an evictor
// evicts it (and loaders load it); afterwards the page holds every
// increment, both resident and read back from the log.
func lfEvictUpdate(updaters, loaders int, racy bool) lfsched.Scenario {
	return func(r *lfsched.Run) error {
		fs := vfs.NewMem()
		l, err := log.Open(log.Options{FS: fs, Dir: "log", FlushEvery: -1, SegmentSizeBytes: log.MinSegmentSizeBytes, BufferSizeBytes: 4 << 10}, 0, nil)
		if err != nil {
			return err
		}
		defer l.Close()
		c := Open(Options{Log: l})
		defer c.Close()
		id, err := c.CreatePage(node.NewLeaf([]byte{}, nil, 0, [][]byte{lfKey}, [][]byte{lfEnc(0)}), func(node.PageID) []codec.Section { return nil })
		if err != nil {
			return err
		}
		if err := l.Flush(); err != nil { // written: evictable
			return err
		}
		s := c.slot(id, false)
		s.ref.Store(0) // the hand evicts it at its first pass
		for u := range updaters {
			r.Go(fmt.Sprint("upd", u), func() {
				if err := lfIncrement(c, id); err != nil {
					r.Errorf("increment: %v", err)
				}
			})
		}
		r.Go("evict", func() {
			if racy {
				lfEvictRacy(c, id)
			} else {
				lfEvict(c, id)
			}
		})
		for i := range loaders {
			r.Go(fmt.Sprint("load", i), func() {
				var seen []uint64
				for range 2 {
					p, err := c.Load(id)
					if err != nil {
						r.Errorf("Load: %v", err)
						return
					}
					seen = append(seen, lfCount(p))
				}
				if !slices.IsSorted(seen) || seen[len(seen)-1] > uint64(updaters) {
					r.Errorf("loads saw the counter go %v with %d increments", seen, updaters)
				}
			})
		}
		r.Wait()
		if !racy {
			if err := checkResidentHints(c); err != nil {
				return fmt.Errorf("after the run: %v", err) // R1
			}
		}
		want := uint64(updaters)
		p, err := c.Load(id)
		if err != nil || lfCount(p) != want {
			return fmt.Errorf("after the run the counter reads %v, %v; want %d", lfCount(p), err, want)
		}
		// Read it back from the log: flush, evict, load.
		if err := l.Flush(); err != nil {
			return err
		}
		s.ref.Store(0)
		lfEvict(c, id)
		if q := s.p.Load(); q.Node != nil {
			return fmt.Errorf("flushed page %d not evicted", id)
		}
		p, err = c.Load(id)
		if err != nil || lfCount(p) != want {
			return fmt.Errorf("paged back in from the log, the counter reads %v, %v; want %d", lfCount(p), err, want)
		}
		if st := c.Stats(); st.Allocated != 1 {
			return fmt.Errorf("%d pages allocated, want 1", st.Allocated)
		}
		return nil
	}
}

func TestLFSchedEvictUpdate(t *testing.T) {
	for _, tc := range []struct{ updaters, loaders, bound int }{{2, 0, 2}, {1, 1, 2}, {2, 1, 1}} {
		res := lfsched.Explore(lfsched.Config{PreemptionBound: tc.bound}, lfEvictUpdate(tc.updaters, tc.loaders, false))
		t.Logf("%d updaters, %d loaders, evictor: %v", tc.updaters, tc.loaders, res)
		if res.Failure != nil {
			t.Fatal(res.Failure)
		}
	}
}

// TestLFSchedSeededEvictBug: the explorer finds the eviction that stores
// instead of CASing (an update lost), at the same schedule every time.
func TestLFSchedSeededEvictBug(t *testing.T) {
	lfsched.FindSeeded(t, lfsched.Config{PreemptionBound: 2}, lfEvictUpdate(2, 0, true))
}
