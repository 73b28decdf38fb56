package tree

import "github.com/sledgo/sled/internal/node"

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
