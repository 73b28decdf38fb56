package tree

import (
	"bytes"

	"github.com/sledgo/sled/internal/node"
)

// Seek returns the leaf holding the smallest key >= key (> key when
// !inclusive) and that key's index, or ok == false when there is none. The
// leaf is an immutable snapshot: its later entries are valid to read too.
func (t *Tree) Seek(key []byte, inclusive bool) (n *node.Node, i int, ok bool, err error) {
	g := t.pc.Pin()
	defer g.Unpin()
	for {
		_, p, err := t.descend(key, 0, false, nil, false)
		if err != nil {
			return nil, 0, false, err
		}
		n := p.Node
		i, found := n.Search(key)
		if found && !inclusive {
			i++
		}
		if i < n.Len() {
			return n, i, true, nil
		}
		if n.Hi() == nil {
			return nil, 0, false, nil
		}
		key, inclusive = n.Hi(), true
	}
}

// NextLeaf returns the leaf right of the leaf snapshot n (from Seek or
// NextLeaf) by its right link, without descending from the root: the
// snapshot of the page n.Next when that page is still a leaf starting at
// n.Hi. Leaves partition the key space, so a leaf whose Lo is n.Hi is the
// one holding the keys from n.Hi on, whatever happened to n's page since
// (I3, I4). ok == false (n is the last leaf, its right page was freed or
// merged away, or reads another range now) means: Seek from n.Hi instead.
// A scan over many small leaves then costs a page load per leaf, not a
// descent per leaf.
func (t *Tree) NextLeaf(n *node.Node) (r *node.Node, ok bool, err error) {
	if n.Hi() == nil || n.Next() == 0 {
		return nil, false, nil
	}
	g := t.pc.Pin()
	defer g.Unpin()
	p, err := t.load(n.Next())
	if err == errRestart {
		return nil, false, nil // freed: merged into n's page
	}
	if err != nil {
		return nil, false, err
	}
	r = p.Node
	if !r.IsLeaf() || !bytes.Equal(r.Lo(), n.Hi()) {
		return nil, false, nil
	}
	return r, true, nil
}

// SeekBefore returns the leaf holding the greatest key < key (<= key when
// inclusive; key == nil means +infinity) and that key's index.
func (t *Tree) SeekBefore(key []byte, inclusive bool) (n *node.Node, i int, ok bool, err error) {
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
				return n, i, true, nil
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
			return n, j, true, nil
		}
		if len(n.Lo()) == 0 {
			return nil, 0, false, nil
		}
		key, inclusive = n.Lo(), false
	}
}

// Len counts the keys, one leaf snapshot at a time.
func (t *Tree) Len() (int, error) {
	total := 0
	key := []byte{}
	for {
		n, i, ok, err := t.Seek(key, true)
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
