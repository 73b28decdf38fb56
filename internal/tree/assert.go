package tree

import (
	"bytes"

	"github.com/sledgo/sled/internal/invariants"
	"github.com/sledgo/sled/internal/lfdelay"
	"github.com/sledgo/sled/internal/node"
	"github.com/sledgo/sled/internal/pagecache"
)

// update is the tree's only way to change a page (pagecache.Update). With
// assertions on (internal/invariants), it checks the invariants every new
// node state must keep before it is installed.
func (t *Tree) update(id node.PageID, old *pagecache.Page, n *node.Node, d node.Delta, extra ...pagecache.Extra) (*pagecache.Page, bool, error) {
	if invariants.Enabled {
		assertNode(id, old.Node, n, id == t.root)
	}
	lfdelay.Point("tree.update") // between the read the change derives from and its CAS
	return t.pc.Update(id, old, n, d, extra...)
}

// assertNode checks I1, I2, I4 and I6 for a node about to replace prev in
// page id.
func assertNode(id node.PageID, prev, n *node.Node, root bool) {
	if !node.StrictlySorted(n.Keys()) {
		invariants.Failf("I1", "page %d: keys not strictly increasing", id)
	}
	if k := n.Len(); k > 0 && (bytes.Compare(n.Key(0), n.Lo()) < 0 || (n.Hi() != nil && bytes.Compare(n.Key(k-1), n.Hi()) >= 0)) {
		invariants.Failf("I1", "page %d: keys outside [%q, %q)", id, n.Lo(), n.Hi())
	}
	if prev != nil && !bytes.Equal(prev.Lo(), n.Lo()) {
		invariants.Failf("I2", "page %d: Lo changes from %q to %q", id, prev.Lo(), n.Lo())
	}
	if root && (len(n.Lo()) != 0 || n.Hi() != nil || n.Next() != 0) {
		invariants.Failf("I2", "root page %d does not cover everything", id)
	}
	if !n.IsLeaf() {
		if n.Len() == 0 || !bytes.Equal(n.Key(0), n.Lo()) {
			invariants.Failf("I4", "index page %d: %d keys, first key %q, Lo %q", id, n.Len(), firstKey(n), n.Lo())
		}
	}
	if prev != nil && prev.Frozen() && !n.Frozen() {
		invariants.Failf("I6", "page %d: a frozen node is replaced by an unfrozen one", id)
	}
}

func firstKey(n *node.Node) []byte {
	if n.Len() == 0 {
		return nil
	}
	return n.Key(0)
}
