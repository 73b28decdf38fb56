//go:build lfdelay

package pagecache

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sledgo/sled/internal/codec"
	"github.com/sledgo/sled/internal/lfdelay"
	"github.com/sledgo/sled/internal/log"
	"github.com/sledgo/sled/internal/node"
	"github.com/sledgo/sled/vfs"
)

// lostUpdateRounds runs rounds of two updaters incrementing one counter
// page while an evictor evicts it with the seeded ordering bug of
// lfEvictRacy (judge the state, then store instead of CAS), and returns in
// how many rounds an increment was lost.
func lostUpdateRounds(t *testing.T, rounds int) int {
	lost := 0
	for range rounds {
		l, err := log.Open(log.Options{FS: vfs.NewMem(), Dir: "log", FlushEvery: -1}, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		c := Open(Options{Log: l})
		id, err := c.CreatePage(node.NewLeaf([]byte{}, nil, 0, [][]byte{lfKey}, [][]byte{lfEnc(0)}), func(node.PageID) []codec.Section { return nil })
		if err != nil {
			t.Fatal(err)
		}
		const updaters, increments = 2, 20
		var wg, ev sync.WaitGroup
		var done atomic.Bool
		for range updaters {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range increments {
					if err := lfIncrement(c, id); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		ev.Add(1)
		go func() { // evicts for as long as the updaters run
			defer ev.Done()
			for !done.Load() {
				if err := l.Flush(); err != nil { // written: evictable
					t.Error(err)
					return
				}
				lfEvictRacy(c, id)
			}
		}()
		wg.Wait()
		done.Store(true)
		ev.Wait()
		p, err := c.Load(id)
		if err != nil {
			t.Fatal(err)
		}
		if lfCount(p) != updaters*increments {
			lost++
		}
		c.Close()
		l.Close()
	}
	return lost
}

// TestLFDelayFindsWhatPlainRunsMiss is schedule fuzzing's evidence: the
// eviction that stores instead of CASing (P6 broken) loses increments when
// the random delays at the scheduling points widen its window, in rounds
// where the same code run without the delays (a Hook that does nothing:
// the plain run) almost never does. The test asserts the first; the second
// is logged, since a plain run can be lucky. CI runs it without -race,
// which slows the goroutines down so much that the window seldom opens
// (1 round in 200 against 20 to 30 without it).
func TestLFDelayFindsWhatPlainRunsMiss(t *testing.T) {
	const rounds = 200
	delayed := lostUpdateRounds(t, rounds)
	noop := func(string) {}
	lfdelay.Hook.Store(&noop)
	plain := lostUpdateRounds(t, rounds)
	lfdelay.Hook.Store(nil)
	t.Logf("rounds with a lost update: %d of %d with random delays, %d of %d plain", delayed, rounds, plain, rounds)
	if delayed == 0 {
		t.Fatalf("random delays found no lost update in %d rounds", rounds)
	}
}
