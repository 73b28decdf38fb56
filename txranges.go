package sled

import (
	"bytes"
	"sync"
	"sync/atomic"
)

// Range locks (invariant T9 in doc.go).
//
// A transaction that read ranges is serialized where it validates them, but
// becomes visible only when it commits; a write landing in one of its
// ranges in between would be serialized after it while finishing before it.
// So such a transaction announces its ranges before it validates, and
// writers into them wait until it has committed or aborted:
//
//   - It registers its ranges (sweeping), locks and unlocks every stripe
//     it does not hold (so every writer that began before the announcement
//     has finished), locks its own stripes (locking), and validates
//     (validated) before it installs.
//   - A writer checks the announced ranges after locking its stripes. One
//     that is sweeping or locking may need the writer's stripes: the writer
//     releases them, waits until it is validated (or gone), and locks again.
//     One that is validated needs no stripe: the writer waits, holding
//     its own, until it is gone.
//   - A transaction with ranges that would write into another's ranges
//     aborts (ErrConflict, retried) instead of waiting: two of them would
//     wait for each other.

const (
	rlSweeping = iota + 1
	rlLocking
	rlValidated
)

type rangeLock struct {
	ranges    []*txRange
	state     atomic.Int32
	validated chan struct{} // closed when validated or gone
	done      chan struct{} // closed when committed or aborted
	vOnce     sync.Once
}

func newRangeLock(ranges []*txRange) *rangeLock {
	rl := &rangeLock{ranges: ranges, validated: make(chan struct{}), done: make(chan struct{})}
	rl.state.Store(rlSweeping)
	return rl
}

// markValidated lets the writers waiting for rl's validation go on (to
// wait, holding their stripes, for its end).
func (rl *rangeLock) markValidated() {
	rl.state.Store(rlValidated)
	rl.vOnce.Do(func() { close(rl.validated) })
}

// rangeLocks are the announced ranges.
type rangeLocks struct {
	n  atomic.Int64 // announced
	mu sync.Mutex
	m  map[*rangeLock]struct{} // protected by mu
}

func (rs *rangeLocks) add(rl *rangeLock) {
	rs.mu.Lock()
	if rs.m == nil {
		rs.m = map[*rangeLock]struct{}{}
	}
	rs.m[rl] = struct{}{}
	rs.mu.Unlock()
	rs.n.Add(1)
}

// remove withdraws rl and wakes its waiters.
func (rs *rangeLocks) remove(rl *rangeLock) {
	rs.mu.Lock()
	delete(rs.m, rl)
	rs.mu.Unlock()
	rs.n.Add(-1)
	rl.vOnce.Do(func() { close(rl.validated) })
	close(rl.done)
}

// conflict returns an announced range lock other than self that covers
// key of t, or nil.
func (rs *rangeLocks) conflict(self *rangeLock, t *Tree, key []byte) *rangeLock {
	if rs.n.Load() == 0 {
		return nil
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	for rl := range rs.m {
		if rl != self && rl.covers(t, key) {
			return rl
		}
	}
	return nil
}

// covers reports whether key of t is in what rl's transaction read.
func (rl *rangeLock) covers(t *Tree, key []byte) bool {
	for _, r := range rl.ranges {
		if r.t != t || bytes.Compare(key, r.lo) < 0 || (r.hi != nil && bytes.Compare(key, r.hi) >= 0) {
			continue
		}
		if !r.complete && len(r.seen) > 0 {
			bound := r.seen[len(r.seen)-1].k
			if (!r.rev && bytes.Compare(key, bound) > 0) || (r.rev && bytes.Compare(key, bound) < 0) {
				continue
			}
		}
		return true
	}
	return false
}

// waitRanges makes a writer that holds the stripes held (sorted) of the
// keys it writes wait out the announced ranges covering them (T9). It
// returns with the stripes held.
func (db *DB) waitRanges(held []int, writes func(yield func(t *Tree, key []byte) bool)) {
	rs := &db.tx.ranges
	for rs.n.Load() > 0 {
		var rl *rangeLock
		writes(func(t *Tree, key []byte) bool {
			rl = rs.conflict(nil, t, key)
			return rl == nil
		})
		if rl == nil {
			return
		}
		if rl.state.Load() == rlValidated {
			<-rl.done
			continue
		}
		db.unlockStripes(held)
		<-rl.validated
		db.lockStripes(held)
	}
}
