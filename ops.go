package sled

import (
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"time"
)

const opShards = 16

type paddedCount struct {
	n atomic.Int64
	_ [56]byte
}

// opGroup counts the writes (and other operations that change files) in
// flight so that Close can drain them: after Close has set closed and
// drained, none is running and every later one fails with ErrClosed. So no
// write can return nil and then be lost by the close (its record is in the
// log that Close flushes), nor race the log's close and return an internal
// error. Reads do not register (they change nothing that Close could
// lose, and stay free of the shared counters): a read that races Close
// returns ErrClosed if it finds the log closed under it (Tree.mapErr), and
// otherwise what it read, which was correct.
//
// An operation increments a counter of one shard (one uncontended atomic
// add) and then checks closed; Close sets closed and then waits for every
// shard to reach zero. On sequentially consistent atomics at least one of
// them sees the other (the Dekker pattern).
type opGroup struct {
	shards [opShards]paddedCount
}

// enter registers an operation, or returns ErrClosed (or the poison error)
// when the database is closed. The caller calls db.exit(c) when done.
func (db *DB) enter() (*paddedCount, error) {
	c := &db.ops.shards[rand.Uint32()%opShards]
	c.n.Add(1)
	if err := db.usable(); err != nil {
		c.n.Add(-1)
		return nil, err
	}
	return c, nil
}

// enterWrite is enter for an operation that writes: it also fails on a
// read-only database.
func (db *DB) enterWrite() (*paddedCount, error) {
	if db.cfg.ReadOnly {
		return nil, ErrReadOnly
	}
	return db.enter()
}

// exit ends an operation started by enter.
func (db *DB) exit(c *paddedCount) { c.n.Add(-1) }

// drain returns once no operation is in flight; closed must be set.
func (g *opGroup) drain() {
	for spins := 0; ; spins++ {
		busy := false
		for i := range g.shards {
			if g.shards[i].n.Load() != 0 {
				busy = true
				break
			}
		}
		if !busy {
			return
		}
		if spins < 100 {
			runtime.Gosched()
		} else {
			time.Sleep(100 * time.Microsecond)
		}
	}
}
