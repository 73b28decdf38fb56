package sled

import (
	"bytes"

	"github.com/sledgo/sled/internal/node"
	"github.com/sledgo/sled/internal/tree"
)

// Iterator walks the entries of a key range in order. It is not safe for
// concurrent use. Over a live tree it returns keys in strict order, each at
// most once, and every key present and unchanged for the whole iteration;
// use a Snapshot for a point-in-time view.
//
//	it := tree.Range(lo, hi)
//	defer it.Close()
//	for it.Next() {
//	    use(it.Key(), it.Value())
//	}
//	if err := it.Err(); err != nil { ... }
type Iterator struct {
	t       *Tree
	lo, hi  []byte // [lo, hi); nil hi = unbounded
	rev     bool
	started bool
	done    bool
	err     error

	// scan reads forward (tree.Scan: leaves in place on the heap, where
	// it moves leaves read from disk; copied runs of a leaf that stays in
	// its slot).
	scan tree.Scan

	// Backward: leaf is an immutable heap snapshot of the current leaf,
	// idx the current entry's index in it.
	leaf *node.Node
	idx  int
	key  []byte
	val  []byte
	// src, when set, makes the entries instead of the tree (transactions
	// and snapshots); called at the first Next with the direction. x is
	// what it made.
	src func(rev bool) iterSource
	x   iterSource

	// run is how many entries the next backward leaf fetch asks for
	// (tree.SeekBefore): a leaf read from disk is moved to the heap and
	// read in place; one that stays in its slot (a race lost) comes as a
	// heap copy of that many entries, so a short scan copies little. It
	// doubles with every fetch.
	run int
}

const (
	firstRun = 64
	maxRun   = 1 << 16
)

// fetch returns the entry count to ask the next leaf fetch for.
func (it *Iterator) fetch() int {
	if it.run == 0 {
		it.run = firstRun
	} else if it.run < maxRun {
		it.run *= 2
	}
	return it.run
}

// Iter returns an iterator over the whole tree.
func (t *Tree) Iter() *Iterator { return t.Range(nil, nil) }

// Range returns an iterator over [lo, hi); a nil bound is unbounded.
func (t *Tree) Range(lo, hi []byte) *Iterator {
	it := &Iterator{t: t, lo: clone(lo)}
	if hi != nil {
		it.hi = clone(hi)
	}
	return it
}

// ScanPrefix returns an iterator over the keys that start with prefix.
func (t *Tree) ScanPrefix(prefix []byte) *Iterator {
	return t.Range(prefix, prefixEnd(prefix))
}

// prefixEnd returns the smallest key greater than every key with the
// prefix, or nil when there is none (the prefix is all 0xff).
func prefixEnd(prefix []byte) []byte {
	end := clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// Rev makes the iterator descend. Call it before the first Next.
func (it *Iterator) Rev() *Iterator {
	if !it.started {
		it.rev = true
	}
	return it
}

// Next advances to the next entry and reports whether there is one.
func (it *Iterator) Next() bool {
	if it.done {
		return false
	}
	if err := it.t.usable(); err != nil { // a read: see Tree.mapErr
		return it.fail(err)
	}
	var ok bool
	switch {
	case it.src != nil:
		ok = it.fromSource()
	case it.rev:
		ok = it.prev()
	default:
		ok = it.next()
	}
	if !ok {
		it.end()
	}
	return ok
}

func (it *Iterator) fail(err error) bool {
	it.err = err
	it.end()
	return false
}

// end drops what the iterator holds; Next returns false from now on.
func (it *Iterator) end() {
	it.done = true
	it.key, it.val, it.leaf = nil, nil, nil
	it.scan.Close()
	if it.x != nil {
		it.x.close()
		it.x = nil
	}
	it.src = nil
}

// iterSource makes an iterator's entries in its order.
type iterSource interface {
	next() (k, v []byte, ok bool, err error)
	close()
}

func (it *Iterator) fromSource() bool {
	if !it.started {
		it.started = true
		it.x = it.src(it.rev)
	}
	k, v, ok, err := it.x.next()
	if err != nil {
		return it.fail(it.t.mapErr(err))
	}
	if !ok {
		return false
	}
	it.key, it.val = k, v
	return true
}

func (it *Iterator) next() bool {
	if !it.started {
		it.started = true
		it.scan.Start(it.t.t, it.lo, true)
	}
	k, v, ok, err := it.scan.Next()
	if err != nil {
		return it.fail(it.t.mapErr(err))
	}
	if !ok || (it.hi != nil && bytes.Compare(k, it.hi) >= 0) {
		return false
	}
	it.key, it.val = k, v
	return true
}

func (it *Iterator) prev() bool {
	if it.started && it.leaf != nil && it.idx > 0 {
		it.idx--
	} else {
		from := it.hi // nil = +infinity
		if it.started {
			from = it.key
		}
		it.started = true
		n, i, ok, err := it.t.t.SeekBefore(from, false, it.fetch())
		if err != nil {
			return it.fail(it.t.mapErr(err))
		}
		if !ok {
			return false
		}
		it.leaf, it.idx = n, i
	}
	k, v := it.leaf.Entry(it.idx)
	if bytes.Compare(k, it.lo) < 0 {
		return false
	}
	it.key, it.val = k, v
	return true
}

// Key returns the current key. It stays valid after Next.
func (it *Iterator) Key() []byte { return it.key }

// Value returns the current value. It stays valid after Next.
func (it *Iterator) Value() []byte { return it.val }

// Err returns the error that ended the iteration, if any.
func (it *Iterator) Err() error { return it.err }

// Close ends the iteration. It is idempotent.
func (it *Iterator) Close() error {
	it.end()
	return nil
}
