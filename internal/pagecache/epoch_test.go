package pagecache

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sledgo/sled/internal/testutil"
)

func slotOf(e *epochs, g Guard) int {
	for s := range e.slots {
		for i := range e.slots[s] {
			if &e.slots[s][i] == g.c {
				return s
			}
		}
	}
	return -1
}

func pinsIn(e *epochs, s int) int64 {
	var n int64
	for i := range e.slots[s] {
		n += e.slots[s][i].n.Load()
	}
	return n
}

func TestEpochAdvancesWhenUnpinned(t *testing.T) {
	var e epochs
	for want := uint64(1); want <= 10; want++ {
		if got := e.tryAdvance(); got != want {
			t.Fatalf("tryAdvance = %d; want %d", got, want)
		}
	}
}

func TestEpochPinRegistersInCurrentSlot(t *testing.T) {
	var e epochs
	for i := 0; i < 7; i++ {
		g := e.pin()
		if s := slotOf(&e, g); s != int(e.global.Load()%3) {
			t.Fatalf("epoch %d: pinned in slot %d", e.global.Load(), s)
		}
		if pinsIn(&e, int(e.global.Load()%3)) != 1 {
			t.Fatal("pin count not 1")
		}
		g.Unpin()
		for s := 0; s < 3; s++ {
			if pinsIn(&e, s) != 0 {
				t.Fatalf("slot %d not empty after Unpin", s)
			}
		}
		e.tryAdvance()
	}
}

// TestEpochPinBlocksAdvance: with a guard pinned at epoch p, the global epoch
// may reach p+1 but never p+2, so ids retired at p or later stay reserved.
func TestEpochPinBlocksAdvance(t *testing.T) {
	for start := 0; start < 4; start++ {
		var e epochs
		for i := 0; i < start; i++ {
			e.tryAdvance()
		}
		p := e.global.Load()
		g := e.pin()
		for i := 0; i < 10; i++ {
			e.tryAdvance()
		}
		if got := e.global.Load(); got != p+1 {
			t.Fatalf("start %d: global = %d with a pin at %d; want %d", start, got, p, p+1)
		}
		// More pins at the newer epoch do not unblock anything.
		g2 := e.pin()
		e.tryAdvance()
		if got := e.global.Load(); got != p+1 {
			t.Fatalf("start %d: global = %d; want %d", start, got, p+1)
		}
		g.Unpin()
		if got := e.tryAdvance(); got != p+2 {
			t.Fatalf("start %d: after Unpin global = %d; want %d", start, got, p+2)
		}
		// g2 (epoch p+1) now blocks p+3.
		e.tryAdvance()
		if got := e.global.Load(); got != p+2 {
			t.Fatalf("start %d: global = %d with a pin at %d; want %d", start, got, p+1, p+2)
		}
		g2.Unpin()
		if got := e.tryAdvance(); got != p+3 {
			t.Fatalf("start %d: global = %d; want %d", start, got, p+3)
		}
	}
}

// TestEpochConcurrentPinsHoldGlobal: under concurrent pinning and advancing,
// a holder that saw global == e0 right after pinning never sees global beyond
// e0+1 while it holds the guard.
func TestEpochConcurrentPinsHoldGlobal(t *testing.T) {
	seed := testutil.Seed(t)
	var e epochs
	var stop atomic.Bool
	var advancers, holders sync.WaitGroup
	for a := 0; a < 2; a++ {
		advancers.Add(1)
		go func() {
			defer advancers.Done()
			for !stop.Load() {
				e.tryAdvance()
				runtime.Gosched()
			}
		}()
	}
	for h := 0; h < 6; h++ {
		holders.Add(1)
		go func(h int) {
			defer holders.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(h)))
			for i := 0; i < 3000; i++ {
				g := e.pin()
				e0 := e.global.Load()
				for j := rng.IntN(5); j > 0; j-- {
					e.tryAdvance()
					if got := e.global.Load(); got > e0+1 {
						t.Errorf("global %d while holding a pin taken at <= %d", got, e0)
					}
					runtime.Gosched()
				}
				g.Unpin()
			}
		}(h)
	}
	holders.Wait()
	stop.Store(true)
	advancers.Wait()
	for s := 0; s < 3; s++ {
		if n := pinsIn(&e, s); n != 0 {
			t.Errorf("slot %d holds %d pins after all Unpins", s, n)
		}
	}
	before := e.global.Load()
	if got := e.tryAdvance(); got != before+1 {
		t.Errorf("epoch stuck at %d after all pins are gone", got)
	}
	t.Logf("global epoch reached %d", e.global.Load())
}
