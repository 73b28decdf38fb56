//go:build lfdelay

package tree

// Systematic concurrency tests (internal/lfsched): every interleaving, up to
// a preemption bound, of small scenarios over the real tree on a
// memory-only page cache, with the properties checked after each schedule.

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/sledgo/sled/internal/lfsched"
	"github.com/sledgo/sled/internal/node"
	"github.com/sledgo/sled/internal/pagecache"
)

// lfTiny splits a node at its fifth entry and merges one left with one
// entry.
var lfTiny = Config{MaxLeafEntries: 4, MaxIndexEntries: 4, MaxNodeBytes: 1 << 20}

// lfBuild makes a tree holding keys, built by one goroutine.
func lfBuild(keys ...int) (*Tree, *pagecache.Cache, error) {
	pc := pagecache.New()
	tr, err := Create(pc, lfTiny)
	if err != nil {
		return nil, nil, err
	}
	for _, k := range keys {
		if err := set(tr, key(k), val(k)); err != nil {
			return nil, nil, err
		}
	}
	return tr, pc, nil
}

func val(k int) []byte { return []byte(fmt.Sprint("v", k)) }

// lfQuiescent checks a tree no operation is changing: Check passes, every
// allocated page is reachable, no structure change is left unfinished, and
// the tree holds exactly want (each key once, with its value).
func lfQuiescent(tr *Tree, pc *pagecache.Cache, want map[int]bool) error {
	pages := 0
	st, err := tr.Check(func(node.PageID) { pages++ })
	if err != nil {
		return err
	}
	if got := pc.Stats().Allocated; got != int64(pages) {
		return fmt.Errorf("page leak: %d pages allocated, %d reachable", got, pages)
	}
	if st.UnpostedSplits != 0 || st.PendingMerges != 0 {
		return fmt.Errorf("quiescent tree has unfinished structure changes: %+v", st)
	}
	if st.Keys != len(want) {
		return fmt.Errorf("tree holds %d keys, want %d", st.Keys, len(want))
	}
	for k := range want {
		v, ok, err := tr.Get(key(k))
		if err != nil || !ok || !bytes.Equal(v, val(k)) {
			return fmt.Errorf("Get(%s) = %q, %v, %v after the run", key(k), v, ok, err)
		}
	}
	return nil
}

// lfGet fails the schedule unless key k is present with its value.
func lfGet(r *lfsched.Run, tr *Tree, k int) {
	v, ok, err := tr.Get(key(k))
	if err != nil || !ok || !bytes.Equal(v, val(k)) {
		r.Errorf("concurrent Get(%s) = %q, %v, %v; the key is present throughout", key(k), v, ok, err)
	}
}

func lfExplore(t *testing.T, cfg lfsched.Config, sc lfsched.Scenario) lfsched.Result {
	t.Helper()
	res := lfsched.Explore(cfg, sc)
	t.Logf("%s: %v", t.Name(), res)
	if res.Failure != nil {
		t.Fatal(res.Failure)
	}
	return res
}

// Scenario 1: two inserts into a full leaf (one splits it, the other races
// the split) and a reader of keys in the leaf being split.
func lfSplitInsert(withReader bool) lfsched.Scenario {
	return func(r *lfsched.Run) error {
		// Leaves [10 20] and [30 31 40 50]: full, the next insert splits it.
		tr, pc, err := lfBuild(10, 20, 30, 40, 50, 31)
		if err != nil {
			return err
		}
		if st, err := tr.Check(nil); err != nil || st.Levels != 2 || st.Pages != 3 {
			return fmt.Errorf("setup: %+v %v", st, err)
		}
		want := map[int]bool{10: true, 20: true, 30: true, 31: true, 32: true, 33: true, 40: true, 50: true}
		r.Go("ins32", func() {
			if err := set(tr, key(32), val(32)); err != nil {
				r.Errorf("insert: %v", err)
			}
		})
		r.Go("ins33", func() {
			if err := set(tr, key(33), val(33)); err != nil {
				r.Errorf("insert: %v", err)
			}
		})
		if withReader {
			r.Go("get", func() { lfGet(r, tr, 40) })
		}
		r.Wait()
		return lfQuiescent(tr, pc, want)
	}
}

func TestLFSchedSplitInsert(t *testing.T) {
	lfExplore(t, lfsched.Config{PreemptionBound: 2}, lfSplitInsert(false))
	lfExplore(t, lfsched.Config{PreemptionBound: 1}, lfSplitInsert(true))
}

// Scenario 2: a delete that leaves a leaf underfull, so a merge (mark, freeze,
// absorb, unlink, then a root collapse) racing lookups of keys in the
// victim and in its left sibling, and an insert into the victim's range.
func lfMergeLookup(withReader, withInsert bool) lfsched.Scenario {
	return func(r *lfsched.Run) error {
		// Leaves [10 20] and [30 40]; deleting 40 leaves [30], which
		// merges into [10 20].
		tr, pc, err := lfBuild(10, 20, 30, 40, 50)
		if err != nil {
			return err
		}
		if _, err := del(tr, key(50)); err != nil {
			return err
		}
		if st, err := tr.Check(nil); err != nil || st.Levels != 2 || st.Pages != 3 {
			return fmt.Errorf("setup: %+v %v", st, err)
		}
		want := map[int]bool{10: true, 20: true, 30: true}
		r.Go("del40", func() {
			if ok, err := del(tr, key(40)); err != nil || !ok {
				r.Errorf("delete: %v %v", ok, err)
			}
		})
		if withReader {
			r.Go("get", func() { lfGet(r, tr, 30) })
		}
		if withInsert {
			want[35] = true
			r.Go("ins35", func() {
				if err := set(tr, key(35), val(35)); err != nil {
					r.Errorf("insert: %v", err)
				}
			})
		}
		r.Wait()
		return lfQuiescent(tr, pc, want)
	}
}

// TestLFSchedMergeLookup runs the merge scenario with a reader and an
// insert, with at most one preemption.
func TestLFSchedMergeLookup(t *testing.T) {
	lfExplore(t, lfsched.Config{PreemptionBound: 1}, lfMergeLookup(true, true))
}

// TestLFSchedStagedFreeNoSpin is the regression test of a finding of the
// explorer: a transition that frees a page stages the free (a tombstone
// marked with its prior state, pagecache P12/P13) before its decisive CAS.
// An operation that met the staged free restarted from the root and met it
// again until the freeing thread's CAS landed: it spun on another thread's
// progress, and a freeing thread stalled long enough (1<<20 restarts) made
// it fail with a false ErrCorrupt ("does not converge"); the schedule
// "0*31 1*2 0*4" (the delete stopped between staging the free of the
// root's only child and the root's CAS, the reader alone) showed it. Now a
// staged free reads as its prior state (pagecache P16): every schedule of
// delete, reader and insert at bound 2 completes.
func TestLFSchedStagedFreeNoSpin(t *testing.T) {
	mustChoices := func(t *testing.T, s string) []int {
		c, err := lfsched.ParseChoices(s)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if _, err := lfsched.Replay(lfsched.Config{}, mustChoices(t, "0*31 1*2 0*4"), lfMergeLookup(true, false)); err != nil {
		t.Fatalf("the schedule that spun: %v", err)
	}
	lfExplore(t, lfsched.Config{PreemptionBound: 2}, lfMergeLookup(true, true))
}
