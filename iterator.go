package sled

import (
	"bytes"

	"github.com/sledgo/sled/internal/node"
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

	leaf *node.Node // immutable snapshot of the current leaf
	idx  int
	// cur reads leaf's entry idx+1 when curOK (forward steps read a
	// leaf's merged view one step each, not one overlay walk each).
	cur   node.Cursor
	curOK bool
	key   []byte
	val   []byte
	// run is how many entries the next leaf fetch asks for: a leaf read
	// from disk lives outside the Go heap and comes as a heap copy of
	// that many entries (tree.Seek), so a short scan copies little; it
	// doubles with every fetch, so a long one copies each leaf about once.
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
	if it.rev {
		ok = it.prev()
	} else {
		ok = it.next()
	}
	if !ok {
		it.done = true
		it.key, it.val, it.leaf = nil, nil, nil
	}
	return ok
}

func (it *Iterator) fail(err error) bool {
	it.err = err
	it.done = true
	it.key, it.val, it.leaf = nil, nil, nil
	return false
}

func (it *Iterator) next() bool {
	if it.started && it.leaf != nil && it.idx+1 < it.leaf.Len() {
		it.idx++
		if !it.curOK {
			it.cur, it.curOK = it.leaf.CursorAt(it.idx), true
		}
	} else {
		n, i, ok := it.nextLeaf()
		if !ok {
			return false
		}
		it.leaf, it.idx = n, i
		it.cur, it.curOK = n.CursorAt(i), true
	}
	k, v := it.leaf.Step(&it.cur)
	if it.hi != nil && bytes.Compare(k, it.hi) >= 0 {
		return false
	}
	it.key, it.val = k, v
	return true
}

// nextLeaf is the leaf, and the index in it, where a forward scan goes on
// once its leaf is done (or where it starts): the right sibling by its link
// (tree.NextLeaf) when that still starts where the finished leaf ended and
// holds entries, else what a Seek past the last key (from lo at the start)
// finds. ok == false: the scan is over, or failed (it.err).
func (it *Iterator) nextLeaf() (n *node.Node, i int, ok bool) {
	if it.started && it.leaf != nil {
		r, ok, err := it.t.t.NextLeaf(it.leaf, it.fetch())
		if err != nil {
			return nil, 0, it.fail(it.t.mapErr(err))
		}
		if ok && r.Len() > 0 {
			return r, 0, true
		}
	}
	from, incl := it.lo, true
	if it.started {
		from, incl = it.key, false
	}
	it.started = true
	n, i, ok, err := it.t.t.Seek(from, incl, it.fetch())
	if err != nil {
		return nil, 0, it.fail(it.t.mapErr(err))
	}
	return n, i, ok
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
	it.curOK = false
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
	it.done = true
	it.key, it.val, it.leaf = nil, nil, nil
	return nil
}
