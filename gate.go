package sled

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
)

const gateShards = 16

type paddedCount struct {
	n atomic.Int64
	_ [56]byte
}

// gate makes batches (and the few operations that need the same) atomic with
// respect to the single-key operations of one tree, without making those
// operations take a lock:
//
//   - Readers take no lock: they read seq before and after, and retry when a
//     batch ran in between (a sequence lock). seq is odd while a batch applies.
//   - Single-key writers announce themselves in a sharded counter (one
//     uncontended atomic add), after checking that no batch is waiting.
//   - A batch takes mu, raises waiting, waits for the announced writers to
//     leave, makes seq odd, applies, makes seq even, and lowers waiting.
//
// Writers and readers that meet a batch wait on mu. The writer and batch
// sides use the Dekker pattern on sequentially consistent atomics: a writer
// increments its counter then checks waiting; a batch sets waiting then
// checks the counters; at least one of them sees the other.
type gate struct {
	seq     atomic.Uint64
	waiting atomic.Int32
	writers [gateShards]paddedCount
	mu      sync.Mutex // held by the batch being applied
}

func (g *gate) enterWrite() *paddedCount {
	for {
		if g.waiting.Load() == 0 {
			c := &g.writers[rand.Uint32()%gateShards]
			c.n.Add(1)
			if g.waiting.Load() == 0 {
				return c
			}
			c.n.Add(-1)
		}
		g.mu.Lock() // wait for the batch to finish
		g.mu.Unlock()
	}
}

func (g *gate) exitWrite(c *paddedCount) { c.n.Add(-1) }

func (g *gate) lockExclusive() {
	g.mu.Lock()
	g.waiting.Add(1)
	for spins := 0; ; spins++ {
		busy := false
		for i := range g.writers {
			if g.writers[i].n.Load() != 0 {
				busy = true
				break
			}
		}
		if !busy {
			break
		}
		runtime.Gosched()
	}
	g.seq.Add(1)
}

func (g *gate) unlockExclusive() {
	g.seq.Add(1)
	g.waiting.Add(-1)
	g.mu.Unlock()
}

// read runs fn until it ran with no batch applying during it.
func (g *gate) read(fn func()) {
	for {
		s := g.seq.Load()
		if s&1 == 1 {
			g.mu.Lock()
			g.mu.Unlock()
			continue
		}
		fn()
		if g.seq.Load() == s {
			return
		}
	}
}
