package tree

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/sledgo/sled/internal/node"
)

// ErrDropped is returned by operations on a tree whose pages were dropped.
var ErrDropped = errors.New("tree: dropped")

// CheckStats summarizes a checked tree.
type CheckStats struct {
	Keys   int
	Pages  int
	Levels int
}

// Check verifies the invariants of a quiescent tree (no operation running):
// I1-I4 on every node, every split posted, no merge left half done. visit,
// when not nil, is called with every page id of the tree.
func (t *Tree) Check(visit func(node.PageID)) (CheckStats, error) {
	var st CheckStats
	g := t.pc.Pin()
	defer g.Unpin()
	rp, err := t.pc.Load(t.root)
	if err != nil {
		return st, err
	}
	r := rp.Node
	if len(r.Lo) != 0 || r.Hi != nil || r.Next != 0 {
		return st, fmt.Errorf("%w: root %d covers [%q, %q) next %d", ErrCorrupt, t.root, r.Lo, r.Hi, r.Next)
	}
	level := []node.PageID{t.root}
	nodes := []*node.Node{r}
	for {
		st.Levels++
		var nextIDs []node.PageID
		var next []*node.Node
		for k, id := range level {
			n := nodes[k]
			st.Pages++
			if visit != nil {
				visit(id)
			}
			if err := checkNode(id, n); err != nil {
				return st, err
			}
			if k+1 < len(level) {
				if n.Next != level[k+1] || !bytes.Equal(n.Hi, nodes[k+1].Lo) || n.Hi == nil {
					return st, fmt.Errorf("%w: page %d (hi %q, next %d) is not linked to page %d (lo %q)", ErrCorrupt, id, n.Hi, n.Next, level[k+1], nodes[k+1].Lo)
				}
			} else if n.Next != 0 || n.Hi != nil {
				return st, fmt.Errorf("%w: last page %d of level %d has hi %q next %d", ErrCorrupt, id, n.Level, n.Hi, n.Next)
			}
			if n.IsLeaf() {
				st.Keys += n.Len()
				continue
			}
			for i, cid := range n.Kids {
				cp, err := t.pc.Load(cid)
				if err != nil {
					return st, fmt.Errorf("%w: page %d entry %d names page %d: %v", ErrCorrupt, id, i, cid, err)
				}
				c := cp.Node
				if c.Level+1 != n.Level || !bytes.Equal(c.Lo, n.Keys[i]) || cmpHi(c.Hi, n.ChildHi(i)) != 0 {
					return st, fmt.Errorf("%w: page %d entry %d [%q, %q) names page %d level %d [%q, %q)", ErrCorrupt, id, i, n.Keys[i], n.ChildHi(i), cid, c.Level, c.Lo, c.Hi)
				}
				nextIDs = append(nextIDs, cid)
				next = append(next, c)
			}
		}
		if len(next) == 0 {
			return st, nil
		}
		level, nodes = nextIDs, next
	}
}

func checkNode(id node.PageID, n *node.Node) error {
	if n.Frozen {
		return fmt.Errorf("%w: page %d is frozen (merge not finished)", ErrCorrupt, id)
	}
	if n.Mark != nil {
		return fmt.Errorf("%w: page %d has a marked entry (merge not finished)", ErrCorrupt, id)
	}
	if !node.StrictlySorted(n.Keys) {
		return fmt.Errorf("%w: page %d keys are not strictly increasing", ErrCorrupt, id)
	}
	if n.Len() > 0 && (bytes.Compare(n.Keys[0], n.Lo) < 0 || (n.Hi != nil && bytes.Compare(n.Keys[n.Len()-1], n.Hi) >= 0)) {
		return fmt.Errorf("%w: page %d keys outside [%q, %q)", ErrCorrupt, id, n.Lo, n.Hi)
	}
	if n.IsLeaf() {
		if len(n.Vals) != len(n.Keys) || n.Kids != nil {
			return fmt.Errorf("%w: leaf %d has %d keys and %d values", ErrCorrupt, id, len(n.Keys), len(n.Vals))
		}
		return nil
	}
	if len(n.Kids) != len(n.Keys) || n.Vals != nil || n.Len() == 0 || !bytes.Equal(n.Keys[0], n.Lo) {
		return fmt.Errorf("%w: index page %d malformed", ErrCorrupt, id)
	}
	return nil
}

// Drop takes every page of the tree away and frees it. Each page is taken
// with one atomic swap and its final state is what the walk follows, so a
// racing writer either lands before the take (and its new pages are found)
// or loses its CAS (pagecache P5). Later operations fail with ErrDropped.
func (t *Tree) Drop() int {
	seen := map[node.PageID]bool{}
	queue := []node.PageID{t.root}
	freed := 0
	for len(queue) > 0 {
		id := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		if seen[id] {
			continue
		}
		seen[id] = true
		p := t.pc.Free(id)
		if p == nil {
			continue
		}
		freed++
		if p.Node.Next != 0 {
			queue = append(queue, p.Node.Next)
		}
		queue = append(queue, p.Node.Kids...)
	}
	return freed
}
