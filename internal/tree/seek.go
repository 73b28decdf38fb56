package tree

import (
	"bytes"
	"math"

	"github.com/sledgo/sled/internal/node"
)

// Seek returns the leaf holding the smallest key >= key (> key when
// !inclusive) and that key's index, or ok == false when there is none. The
// leaf is an immutable snapshot: its later entries are valid to read too,
// at least want of them from i on (want >= 1): a leaf whose buffer is an
// arena slot is handed out as a heap copy of that run (node.Node.Part,
// I13), not whole.
func (t *Tree) Seek(key []byte, inclusive bool, want int) (n *node.Node, i int, ok bool, err error) {
	g := t.pc.Pin()
	defer g.Unpin()
	n, _, i, ok, err = t.seekPinned(key, inclusive)
	if !ok {
		return nil, 0, false, err
	}
	n, i = handOut(n, i, runEnd(i, want, n.Len()), i)
	return n, i, true, nil
}

// seekPinned is Seek for a pinned caller: the leaf as read (maybe in an
// arena slot, I13), its page, and the index of the smallest key >= key
// (> key when !inclusive); ok == false when there is none.
func (t *Tree) seekPinned(key []byte, inclusive bool) (n *node.Node, id node.PageID, i int, ok bool, err error) {
	for {
		id, p, err := t.descend(key, 0, false, nil, false)
		if err != nil {
			return nil, 0, 0, false, err
		}
		n := p.Node
		i, found := n.Search(key)
		if found && !inclusive {
			i++
		}
		if i < n.Len() {
			return n, id, i, true, nil
		}
		if n.Hi() == nil {
			return nil, 0, 0, false, nil
		}
		key, inclusive = n.Hi(), true
	}
}

// rightOf returns the leaf right of a leaf snapshot ending at hi whose
// right link is next, without descending from the root: the node of page
// next when that page is still a leaf starting at hi. Leaves partition the
// key space, so a leaf whose Lo is hi is the one holding the keys from hi
// on, whatever happened to the snapshot's page since (I3, I4). ok == false
// (the snapshot is of the last leaf, its right page was freed or merged
// away, or reads another range now) means: seek from hi instead. A scan
// over many small leaves then costs a page load per leaf, not a descent
// per leaf. The caller is pinned, and reads the node as I13 says.
func (t *Tree) rightOf(hi []byte, next node.PageID) (r *node.Node, ok bool, err error) {
	if hi == nil || next == 0 {
		return nil, false, nil
	}
	p, err := t.load(next)
	if err == errRestart {
		return nil, false, nil // freed: merged into the snapshot's page
	}
	if err != nil {
		return nil, false, err
	}
	r = p.Node
	if !r.IsLeaf() || !bytes.Equal(r.Lo(), hi) {
		return nil, false, nil
	}
	return r, true, nil
}

// SeekBefore returns the leaf holding the greatest key < key (<= key when
// inclusive; key == nil means +infinity) and that key's index; as for
// Seek, a leaf in an arena slot comes as a heap copy of the want entries
// up to i (fewer at the leaf's start).
func (t *Tree) SeekBefore(key []byte, inclusive bool, want int) (n *node.Node, i int, ok bool, err error) {
	g := t.pc.Pin()
	defer g.Unpin()
	for {
		var j int
		if inclusive && key != nil {
			_, p, err := t.descend(key, 0, false, nil, false)
			if err != nil {
				return nil, 0, false, err
			}
			n = p.Node
			i, found := n.Search(key)
			if found {
				return before(n, i, want)
			}
			j = i - 1
		} else {
			_, p, err := t.descend(key, 0, true, nil, false)
			if err != nil {
				return nil, 0, false, err
			}
			n = p.Node
			if key == nil {
				j = n.Len() - 1
			} else {
				i, _ := n.Search(key)
				j = i - 1
			}
		}
		if j >= 0 {
			return before(n, j, want)
		}
		if len(n.Lo()) == 0 {
			return nil, 0, false, nil
		}
		key, inclusive = n.Lo(), false
	}
}

// before is SeekBefore's result for entry i of n: the run of up to want
// entries ending at i, handed out as handOut does.
func before(n *node.Node, i, want int) (*node.Node, int, bool, error) {
	from := 0
	if want := max(want, 1); i+1 > want {
		from = i + 1 - want
	}
	n, i = handOut(n, from, i+1, i)
	return n, i, true, nil
}

// handOut returns leaf n, and the index in what it returns of n's entry
// at, in memory that outlives the pinned operation (I13), holding at least
// entries [from, to) (from <= at < to): n itself on the heap; for a leaf in
// an arena slot (read from disk), a heap copy of just those entries when
// they are under half the leaf, else a copy of its base (one memmove, not
// zeroed first, no table to rebuild; also when it has an overlay, since
// walking an overlay to copy part of it costs more, and the overlay is on
// the heap already).
func handOut(n *node.Node, from, to, at int) (*node.Node, int) {
	switch {
	case n.Slot() == nil:
		return n, at
	case n.Overlaid() || 2*(to-from) >= n.Len():
		return n.OnHeap(), at
	}
	return n.Part(from, to), at - from
}

// runEnd is the end of a run of at least one and at most want entries from
// i in a leaf of n entries (no overflow for a huge want).
func runEnd(i, want, n int) int {
	if want := max(want, 1); want < n-i {
		return i + want
	}
	return n
}

// Len counts the keys, one leaf snapshot at a time.
func (t *Tree) Len() (int, error) {
	total := 0
	key := []byte{}
	for {
		n, i, ok, err := t.Seek(key, true, math.MaxInt32)
		if err != nil || !ok {
			return total, err
		}
		total += n.Len() - i
		if n.Hi() == nil {
			return total, nil
		}
		key = n.Hi()
	}
}
