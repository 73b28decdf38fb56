package tree

import (
	"bytes"
	"fmt"

	"github.com/sledgo/sled/internal/node"
	"github.com/sledgo/sled/internal/pagecache"
)

// split splits the node in page id, whose state the caller just installed,
// and posts the separator to its parent. Losing a CAS is not an error: the
// writer that won will split if the node is still too big.
func (t *Tree) split(id node.PageID, p *pagecache.Page, path []frame) error {
	n := p.Node
	if n.Frozen() {
		return nil
	}
	n = n.Flat() // fold a leaf's overlay once, not in each call below
	at := n.SplitPoint()
	if at < 0 {
		return nil
	}
	if id == t.root {
		return t.growRoot(p, n, at)
	}
	sep := n.Key(at)
	rid, err := t.pc.Allocate(nil)
	if err != nil {
		return err
	}
	left, right := n.Split(at, rid)
	t.pc.Init(rid, right)
	// I1, I3: left keeps [Lo, sep) and links to right, which covers
	// [sep, Hi) and takes over n's Next; the entries move with the range
	// (I5). The right page is logged in the same record (I12), as an image;
	// the left half as a split delta (the cache logs an image instead when
	// the dropped half makes its log bytes mostly dead, pagecache P4).
	if _, ok, err := t.update(id, p, left, node.Delta{Kind: node.DeltaSplit, Key: sep, Kid: rid}, pagecache.Alloc(rid)); err != nil || !ok {
		t.pc.Release(rid) // never published
		return err
	}
	return t.postSeparator(sep, rid, n.Level()+1, t.parentHint(path))
}

// parentHint is where a split starts looking for the parent to post its
// separator in: the last index node on the way down, else the root.
func (t *Tree) parentHint(path []frame) node.PageID {
	if len(path) > 0 {
		return path[len(path)-1].id
	}
	return t.root
}

// appendable reports whether writes of keys from key up into leaf n of
// page id are appends that appendSplit may take: n is the rightmost leaf
// (Hi = +infinity) but not the root, not empty, and key is above all its
// keys. Sequential inserts (raft logs, time series, counters) always are.
// Appends fill such a leaf up to its limits first (full), so the leaf an
// append split leaves behind is full, by entries or by bytes.
func (t *Tree) appendable(id node.PageID, n *node.Node, key []byte) bool {
	if id == t.root || !n.IsLeaf() || n.Hi() != nil || n.Frozen() || n.Len() == 0 {
		return false
	}
	return bytes.Compare(key, n.Key(n.Len()-1)) > 0
}

// full reports whether appendable leaf n has no room for extra more
// entries of extraBytes key and value bytes without becoming too big.
func (t *Tree) full(n *node.Node, extra, extraBytes int) bool {
	return n.Len()+extra > t.cfg.MaxLeafEntries || n.MemBytes()+extraBytes+extra*appendEntryOverhead > t.cfg.MaxNodeBytes
}

// appendEntryOverhead is a generous bound on a leaf entry's bytes beside
// its key and value (offset slot, lengths), for full.
const appendEntryOverhead = 16

// appendSplit installs keys and vals (keys strictly increasing, all above
// every key of leaf n, for which appendable holds) as a fresh right sibling
// of n split off at keys[0], instead of writing them into n and then
// splitting n in half: n keeps all its entries and stays full for good, its
// log record is a split delta of a few bytes, and the new entries are
// logged once, in the right page's image, in the same record (I12). It
// returns false when the CAS lost (nothing changed). The separator is
// posted as after any split.
func (t *Tree) appendSplit(id node.PageID, p *pagecache.Page, keys, vals [][]byte, path []frame) (bool, error) {
	n := p.Node
	sep := keys[0]
	rid, err := t.pc.Allocate(nil)
	if err != nil {
		return false, err
	}
	t.pc.Init(rid, node.NewLeaf(sep, nil, n.Next(), keys, vals))
	left := n.Truncate(sep, rid)
	// I1, I3: left keeps [Lo, sep), all its entries (they are below sep),
	// and links to the right page, which covers [sep, +infinity) and takes
	// over n's Next; I5: the new keys live only in the right page, whose
	// range covers them. The right page is logged in the same record (I12).
	_, ok, err := t.update(id, p, left, node.Delta{Kind: node.DeltaSplit, Key: sep, Kid: rid}, pagecache.Alloc(rid))
	if err != nil || !ok {
		t.pc.Release(rid) // never published
		return false, err
	}
	if err := t.postSeparator(sep, rid, 1, t.parentHint(path)); err != nil && err != errRestart && err != errLevelGone {
		return true, err
	}
	return true, nil
}

// maxLevel is the highest level a node can have (node.Node.Level is a byte).
const maxLevel = 255

// growRoot splits the root in place: its halves move to two fresh pages and
// the root becomes an index node one level up (I2: the root page id stays).
func (t *Tree) growRoot(p *pagecache.Page, n *node.Node, at int) error {
	if n.Level() == maxLevel {
		// Unreachable with fan-outs of 2 or more (2^255 keys), but a level
		// must never wrap to 0 and make the root a leaf.
		return fmt.Errorf("%w: the tree is %d levels tall", ErrCorrupt, maxLevel+1)
	}
	lid, err := t.pc.Allocate(nil)
	if err != nil {
		return err
	}
	rid, err := t.pc.Allocate(nil)
	if err != nil {
		t.pc.Release(lid)
		return err
	}
	left, right := n.Split(at, rid)
	t.pc.Init(lid, left)
	t.pc.Init(rid, right)
	root := node.Grow(n.Level(), lid, n.Key(at), rid)
	// I2, I3, I4: the new root covers everything and routes exactly the
	// ranges of its two children, which form the new level's list.
	if _, ok, err := t.update(t.root, p, root, node.Delta{Kind: node.DeltaImage, Image: root}, pagecache.Alloc(lid), pagecache.Alloc(rid)); err != nil || !ok {
		t.pc.Release(lid)
		t.pc.Release(rid)
		return err
	}
	return nil
}

// postSeparator inserts sep -> right into the index node at level that
// covers sep, starting the search at page start (a hint), unless it is
// there already or right is no longer the linked right half of a split.
func (t *Tree) postSeparator(sep []byte, right node.PageID, level uint8, start node.PageID) error {
	for restarts := 0; restarts < maxRestarts; restarts++ {
		pid, pp, err := t.findFrom(start, sep, level)
		if err == errRestart {
			start = t.root
			continue
		}
		if err == errLevelGone {
			return nil
		}
		if err != nil {
			return err
		}
		n := pp.Node
		i, found := n.Search(sep)
		if found {
			return nil // already posted
		}
		if i == 0 {
			return errRestart // sep below this node's Lo: our view is stale
		}
		// I8: check, after loading the parent state we CAS from, that right
		// is still linked as the right half of the node ending at sep.
		linked, err := t.linkedAt(n.Kid(i-1), sep, right)
		if err != nil {
			return err
		}
		if !linked {
			return nil
		}
		nn := n.WithChild(sep, right)
		// I4: the new entry's key is the Lo of the child it names.
		np, ok, err := t.update(pid, pp, nn, node.Delta{Kind: node.DeltaChild, Key: sep, Kid: right})
		if err != nil {
			return err
		}
		if !ok {
			start = pid
			continue
		}
		if t.tooBig(nn) {
			if err := t.split(pid, np, t.pathTo(sep, level)); err != nil && err != errRestart {
				return err
			}
		}
		return nil
	}
	return errRestart
}

// pathTo returns the index frames above level on the way to key, for a
// split of a node found without a path.
func (t *Tree) pathTo(key []byte, level uint8) []frame {
	var path []frame
	if _, _, err := t.descend(key, level, false, &path, true); err != nil {
		return nil
	}
	return path
}

// findFrom returns the node at level covering key, moving right from start
// when start is at that level and still plausible, else from the root.
func (t *Tree) findFrom(start node.PageID, key []byte, level uint8) (node.PageID, *pagecache.Page, error) {
	if start != t.root {
		p, err := t.load(start)
		if err == nil && p.Node.Level() == level && !p.Node.Frozen() && bytes.Compare(p.Node.Lo(), key) <= 0 {
			id := start
			for p.Node.BeyondHi(key) {
				id = p.Node.Next()
				if p, err = t.load(id); err != nil {
					break
				}
				if p.Node.Frozen() {
					err = errRestart
					break
				}
			}
			if err == nil {
				return id, p, nil
			}
		}
		if err != nil && err != errRestart {
			return 0, nil, err
		}
	}
	return t.descend(key, level, false, nil, true)
}

// linkedAt reports whether, at the level of page from, the node whose Hi is
// sep links to right, and right is live, unfrozen and starts at sep.
func (t *Tree) linkedAt(from node.PageID, sep []byte, right node.PageID) (bool, error) {
	id := from
	for {
		p, err := t.load(id)
		if err == errRestart {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		n := p.Node
		c := cmpHi(n.Hi(), sep)
		if c > 0 {
			return false, nil
		}
		if c == 0 {
			if n.Next() != right {
				return false, nil
			}
			rp, err := t.load(right)
			if err == errRestart {
				return false, nil
			}
			if err != nil {
				return false, err
			}
			return !rp.Node.Frozen() && bytes.Equal(rp.Node.Lo(), sep), nil
		}
		id = n.Next()
	}
}
