package sled

import (
	"bytes"
	"hash/maphash"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// Key stripes (invariants T1 and T3 in doc.go).
//
// Every write holds the stripe of each key it writes, and a committing
// transaction also the stripes of the keys it read, so that two writes of a
// key never interleave and a commit validates and installs without a
// conflicting writer in between. Readers take no stripe: a multi-key commit
// publishes, in the stripe of every key it writes, the values those keys had
// before it (stripe.inst), and a reader that finds the stripe owned by an
// uncommitted commit returns that pre-image instead of what the tree holds.

const (
	stripeBits = 10
	nStripes   = 1 << stripeBits
)

// stripe is one lock of the table, alone on its cache line.
type stripe struct {
	mu sync.Mutex
	// inst is the multi-key commit that holds mu and is installing its
	// writes, or nil. Written only by the holder of mu; read by anyone.
	inst atomic.Pointer[commit]
	_    [64 - 16]byte
}

// stripeOf returns the stripe index of key in tree t.
func (db *DB) stripeOf(t *Tree, key []byte) int {
	h := maphash.Bytes(db.tx.seed, key) ^ t.salt
	h *= 0x9e3779b97f4a7c15
	return int(h >> (64 - stripeBits))
}

// lockStripes locks the stripes idx, which must be sorted and distinct
// (T1: increasing order, so two committers never wait for each other in a
// cycle).
func (db *DB) lockStripes(idx []int) {
	for _, i := range idx {
		db.tx.stripes[i].mu.Lock()
	}
}

func (db *DB) unlockStripes(idx []int) {
	for _, i := range idx {
		db.tx.stripes[i].mu.Unlock()
	}
}

// sweepStripes locks and unlocks every stripe once: every write that held
// a stripe when the sweep began has finished when it returns.
func (db *DB) sweepStripes() {
	for i := range db.tx.stripes {
		db.tx.stripes[i].mu.Lock()
		db.tx.stripes[i].mu.Unlock() //nolint:staticcheck // an empty critical section is the point
	}
}

// sortedStripes returns the distinct stripe indexes of keys, sorted.
func sortedStripes(idx []int) []int {
	slices.Sort(idx)
	return slices.Compact(idx)
}

// commit is the record of one write in flight: a multi-key commit (a
// transaction, a batch) or, while versions are recorded, a single-key
// write. Its state goes writing -> committing -> its commit timestamp, or
// writing -> aborted (T4).
type commit struct {
	state atomic.Uint64
	shard int // its registry shard (registry.add)
	// trees and ops: the writes of a multi-key commit, per tree, each
	// tree's ops sorted by key with their pre-images; set before the
	// commit is published and never changed. Nil for a single-key write.
	trees []*Tree
	ops   [][]txOp
}

const (
	stateWriting    = 0
	stateCommitting = ^uint64(0) - 1
	stateAborted    = ^uint64(0)
)

// committed reports whether c's writes are all installed and visible.
func (c *commit) committed() bool {
	s := c.state.Load()
	return s != stateWriting && s != stateCommitting && s != stateAborted
}

// ts returns c's commit timestamp, waiting out the few instructions
// between committing and the timestamp (T4); ok is false when c is still
// writing or aborted.
func (c *commit) ts() (ts uint64, ok bool) {
	for {
		switch s := c.state.Load(); s {
		case stateWriting, stateAborted:
			return 0, false
		case stateCommitting:
			runtime.Gosched()
		default:
			return s, true
		}
	}
}

// finish publishes c with the next timestamp of the clock (T4, T8).
func (db *DB) finish(c *commit) uint64 {
	c.state.Store(stateCommitting)
	ts := db.tx.clock.Add(1)
	c.state.Store(ts)
	return ts
}

// txOp is one write of a multi-key commit.
type txOp struct {
	key, val []byte // val is nil for a delete
	del      bool
	old      []byte // the pre-image: nil when absent
}

// preimage returns the value key of tree t had before c, when c writes it.
func (c *commit) preimage(t *Tree, key []byte) (old []byte, ok bool) {
	for i, ct := range c.trees {
		if ct != t {
			continue
		}
		ops := c.ops[i]
		j, found := slices.BinarySearchFunc(ops, key, func(op txOp, k []byte) int { return bytes.Compare(op.key, k) })
		if found {
			return ops[j].old, true
		}
	}
	return nil, false
}
