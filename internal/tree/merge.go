package tree

import (
	"fmt"

	"github.com/sledgo/sled/internal/node"
	"github.com/sledgo/sled/internal/pagecache"
)

// tryMerge starts merging the underfull node in page id with a sibling
// under the same parent, if that is allowed (I7) and the two fit in one node.
func (t *Tree) tryMerge(id node.PageID, p *pagecache.Page, path []frame) error {
	n := p.Node
	if n.Frozen() || len(path) == 0 {
		return nil
	}
	pid, pp, err := t.findFrom(path[len(path)-1].id, n.Lo(), n.Level()+1)
	if err == errLevelGone {
		return nil // n became the root's content: nothing to merge with
	}
	if err != nil {
		return err
	}
	par := pp.Node
	j, found := par.Search(n.Lo())
	if !found || par.Kid(j) != id {
		return nil // not posted yet, or already changed
	}
	if par.Len() == 1 {
		// An only child: the parent must merge first to give it siblings,
		// or, at the root, the tree can lose a level.
		if pid == t.root {
			return t.collapseRoot()
		}
		if t.tooSmall(par) {
			return t.tryMerge(pid, pp, path[:len(path)-1])
		}
		return nil
	}
	// The victim is entry v, merged into entry v-1: first try n as the
	// victim, then n's right sibling.
	v := -1
	for _, cand := range []int{j, j + 1} {
		if cand < 1 || cand >= par.Len() || par.Marked(cand-1) || par.Marked(cand) || (cand+1 < par.Len() && par.Marked(cand+1)) {
			continue
		}
		fit, err := t.fits(par.Kid(cand-1), par.Kid(cand))
		if err != nil {
			return err
		}
		if fit {
			v = cand
			break
		}
	}
	if v < 0 {
		return nil
	}
	nn := par.WithMark(v)
	// I7: the victim is not the first entry and neither neighbour entry is
	// marked, checked on the state this CAS replaces. (Merge step 1.)
	if _, ok, err := t.update(pid, pp, nn, node.Delta{Kind: node.DeltaImage, Image: nn}); err != nil || !ok {
		return err
	}
	return t.completeMerge(par.Kid(v))
}

// fits reports whether the nodes in pages a and b would fit in one node
// without splitting again soon. An (almost) empty node may fill its
// neighbour completely, so that deleting everything converges.
func (t *Tree) fits(a, b node.PageID) (bool, error) {
	ap, err := t.load(a)
	if err != nil {
		return false, err
	}
	bp, err := t.load(b)
	if err != nil {
		return false, err
	}
	l, r := ap.Node, bp.Node
	limit := t.maxEntries(l) * 3 / 4
	if min(l.Len(), r.Len()) <= 1 {
		limit = t.maxEntries(l)
	}
	return l.Len()+r.Len() <= limit && l.MemBytes()+r.MemBytes() <= t.cfg.MaxNodeBytes*3/4, nil
}

// collapseRoot removes a level when the root is an index node with one
// child C that covers the whole key space: (1) C is frozen, (2) the root is
// CASed to C's content (same level as C), (3) C is freed. A frozen node with
// the empty Lo is always such a child (a merge victim never has the empty
// Lo, I7), so helpers that meet it finish the collapse (finishCollapse).
func (t *Tree) collapseRoot() error {
	for restarts := 0; restarts < maxRestarts; restarts++ {
		rp, err := t.pc.Load(t.root)
		if err != nil {
			return err
		}
		r := rp.Node
		if r.IsLeaf() || r.Len() != 1 {
			return nil
		}
		cid := r.Kid(0)
		cp, err := t.load(cid)
		if err == errRestart {
			continue
		}
		if err != nil {
			return err
		}
		c := cp.Node
		if !c.Frozen() {
			if c.Hi() != nil {
				return nil // an unposted split: the root is about to get a second child
			}
			fz := c.WithFrozen()
			// I6: C changes no more; with Hi = +inf it has no unposted
			// split, so the root keeps C as its only child until step 2.
			if _, ok, err := t.update(cid, cp, fz, node.Delta{Kind: node.DeltaImage, Image: fz}); err != nil {
				return err
			} else if !ok {
				continue
			}
		}
		if err := t.finishCollapse(cid); err != nil {
			return err
		}
	}
	return nil
}

// finishCollapse does steps 2 and 3 of a root collapse for the frozen only
// child cid, if they are not done yet.
func (t *Tree) finishCollapse(cid node.PageID) error {
	for {
		rp, err := t.pc.Load(t.root)
		if err != nil {
			return err
		}
		r := rp.Node
		if r.IsLeaf() || r.Len() != 1 || r.Kid(0) != cid {
			return nil // done by another thread
		}
		cp, err := t.load(cid)
		if err == errRestart {
			return nil
		}
		if err != nil {
			return err
		}
		nr := cp.Node.Thawed()
		// I2: the root keeps covering everything; it takes its only child's
		// routing (or entries) one level down.
		// I9: C is freed in the same step: nothing names it any more.
		if _, ok, err := t.update(t.root, rp, nr, node.Delta{Kind: node.DeltaImage, Image: nr}, pagecache.Freed(cid)); err != nil {
			return err
		} else if ok {
			return nil
		}
	}
}

// completeMerge finishes the merge of victim page rid, whose parent entry is
// marked: freeze, absorb into the left sibling, unlink (steps 2-4). Any
// thread may call it at any point of the merge; finished steps are skipped.
func (t *Tree) completeMerge(rid node.PageID) error {
	// Step 2: freeze.
	var r *node.Node
	for restarts := 0; ; restarts++ {
		if restarts > maxRestarts {
			return fmt.Errorf("%w: freeze of page %d does not converge", ErrCorrupt, rid)
		}
		rp, err := t.load(rid)
		if err == errRestart {
			return nil // already unlinked and freed: the merge is complete
		}
		if err != nil {
			return err
		}
		if rp.Node.Frozen() {
			r = rp.Node
			if len(r.Lo()) == 0 {
				return t.finishCollapse(rid)
			}
			break
		}
		fz := rp.Node.WithFrozen()
		// I6: from now on the victim never changes.
		if _, ok, err := t.update(rid, rp, fz, node.Delta{Kind: node.DeltaImage, Image: fz}); err != nil {
			return err
		} else if ok {
			r = fz
			break
		}
	}
	// Step 3: absorb into the left sibling.
	var leftID node.PageID
	for restarts := 0; ; restarts++ {
		if restarts > maxRestarts {
			return fmt.Errorf("%w: absorb of page %d does not converge", ErrCorrupt, rid)
		}
		lid, lp, err := t.descend(r.Lo(), r.Level(), true, nil, true)
		if err == errLevelGone {
			return nil
		}
		if err != nil {
			return err
		}
		l := lp.Node
		c := cmpHi(l.Hi(), r.Lo())
		if c < 0 {
			return fmt.Errorf("%w: left sibling of page %d (lo %q) not found", ErrCorrupt, rid, r.Lo())
		}
		if c > 0 || l.Next() != rid {
			// Already absorbed (and perhaps split again at r.Lo() since):
			// before the absorb, the node ending at r.Lo() links to the
			// victim (I3).
			leftID = lid
			break
		}
		if l.Frozen() {
			if err := t.completeMerge(lid); err != nil {
				return err
			}
			continue
		}
		nn := l.Absorb(r)
		// I3, I5: the left sibling takes over the victim's range, entries
		// and right link in one CAS; the victim is frozen, so nothing of
		// it is lost.
		if _, ok, err := t.update(lid, lp, nn, node.Delta{Kind: node.DeltaImage, Image: nn}); err != nil {
			return err
		} else if ok {
			leftID = lid
			break
		}
	}
	// Step 4: unlink from the parent and free.
	for restarts := 0; ; restarts++ {
		if restarts > maxRestarts {
			return fmt.Errorf("%w: unlink of page %d does not converge", ErrCorrupt, rid)
		}
		pid, pp, err := t.descend(r.Lo(), r.Level()+1, false, nil, true)
		if err == errLevelGone {
			return nil // the parent level collapsed: the merge was completed
		}
		if err != nil {
			return err
		}
		par := pp.Node
		j, found := par.Search(r.Lo())
		if !found || par.Kid(j) != rid {
			return nil // another helper unlinked it
		}
		nn := par.WithoutChild(j)
		// I9: only the unlinking CAS frees the victim, after step 3, in
		// the same step (and log record, I12).
		np, ok, err := t.update(pid, pp, nn, node.Delta{Kind: node.DeltaImage, Image: nn}, pagecache.Freed(rid))
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		return t.afterMerge(leftID, r.Lo(), r.Level(), pid, np)
	}
}

// afterMerge splits the left sibling if the absorb made it too big and
// merges the parent if the unlink made it too small.
func (t *Tree) afterMerge(leftID node.PageID, key []byte, level uint8, pid node.PageID, pp *pagecache.Page) error {
	if lp, err := t.load(leftID); err == nil && t.tooBig(lp.Node) && !lp.Node.Frozen() {
		if err := t.split(leftID, lp, t.pathTo(key, level)); err != nil && err != errRestart {
			return err
		}
	}
	if pid == t.root && !pp.Node.IsLeaf() && pp.Node.Len() == 1 {
		return t.collapseRoot()
	}
	if pid != t.root {
		// The parent lost an entry: it may now fit with a sibling.
		par := pp.Node
		if err := t.tryMerge(pid, pp, t.pathTo(par.Lo(), par.Level())); err != nil && err != errRestart {
			return err
		}
	}
	return nil
}
