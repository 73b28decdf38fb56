package pagecache

import (
	"math/rand/v2"
	"sync/atomic"

	"github.com/sledgo/sled/internal/lfdelay"
)

// epochShards spreads pin counters over cache lines so that concurrent
// pins rarely touch the same line.
const epochShards = 32

type paddedCount struct {
	n atomic.Int64
	_ [56]byte
}

// epochs is a three-slot epoch counter. Operations pin the current epoch e
// by incrementing a counter of slot e%3; the global epoch may advance from e
// to e+1 only when no pin remains in slot (e-1)%3. An id retired while the
// global epoch is t is therefore safe to reuse once the global epoch reaches
// t+2: every pin that could have seen the id (epochs t-1 and t) is gone.
type epochs struct {
	global atomic.Uint64
	slots  [3][epochShards]paddedCount
}

// Guard is a pinned epoch. Unpin it exactly once.
type Guard struct {
	c *paddedCount
}

func (e *epochs) pin() Guard {
	for {
		g := e.global.Load()
		c := &e.slots[g%3][rand.Uint32()%epochShards]
		lfdelay.Point("epoch.pin")
		c.n.Add(1)
		// The global epoch may have moved while we registered in a slot
		// that the advancer no longer watches; re-check (P3).
		if e.global.Load() == g {
			return Guard{c: c}
		}
		c.n.Add(-1)
	}
}

// Unpin releases the guard.
func (g Guard) Unpin() { g.c.n.Add(-1) }

// tryAdvance moves the global epoch forward if the previous slot is empty
// and returns the global epoch it saw afterwards.
func (e *epochs) tryAdvance() uint64 {
	g := e.global.Load()
	prev := &e.slots[(g+2)%3]
	for i := range prev {
		if prev[i].n.Load() != 0 {
			return g
		}
	}
	// P3: advancing past g requires slot g-1 empty; a racing advance by
	// another goroutine is equally good.
	lfdelay.Point("epoch.advance")
	e.global.CompareAndSwap(g, g+1)
	return e.global.Load()
}
