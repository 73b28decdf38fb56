package tree

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"github.com/sledgo/sled/internal/node"
	"github.com/sledgo/sled/internal/pagecache"
)

// ErrDropped is returned by operations on a tree whose pages were dropped.
var ErrDropped = errors.New("tree: dropped")

// ErrChanged is returned by Pages when a structure change moved under the
// walk; the caller walks again.
var ErrChanged = errors.New("tree: changed during the walk")

// CheckStats summarizes a checked tree.
type CheckStats struct {
	Keys   int
	Pages  int
	Levels int
	// UnpostedSplits counts right halves reached only through Next: splits
	// whose separator is not in the parent yet. A running tree finishes
	// them at once; after a crash they wait for the next writer passing by.
	UnpostedSplits int
	// PendingMerges counts marked parent entries: merges under way (or
	// interrupted by a crash, finished by the next writer passing by).
	PendingMerges int
}

// Check verifies the invariants of a tree that no operation is changing:
// I1-I4 and I7 on every node and between levels, every page reachable
// exactly as the B-link rules allow. Unfinished structure changes (which a
// crash can leave) are valid states and are counted, not reported. visit,
// when not nil, is called once with every page id of the tree.
func (t *Tree) Check(visit func(node.PageID)) (CheckStats, error) {
	var st CheckStats
	g := t.pc.Pin()
	defer g.Unpin()
	rp, err := t.pc.Load(t.root)
	if err != nil {
		return st, err
	}
	r := rp.Node
	if len(r.Lo()) != 0 || r.Hi() != nil || r.Next() != 0 || r.Frozen() {
		return st, fmt.Errorf("%w: root %d covers [%q, %q) next %d frozen %v", ErrCorrupt, t.root, r.Lo(), r.Hi(), r.Next(), r.Frozen())
	}
	ids := []node.PageID{t.root}
	nodes := []*node.Node{r}
	for {
		st.Levels++
		for k, id := range ids {
			st.Pages++
			if visit != nil {
				visit(id)
			}
			if err := checkNode(id, nodes[k]); err != nil {
				return st, err
			}
			if nodes[k].IsLeaf() {
				st.Keys += nodes[k].Len()
			}
		}
		if nodes[0].IsLeaf() {
			return st, nil
		}
		// The level below, walked through the right links from the
		// leftmost child (I3).
		var cids []node.PageID
		var cs []*node.Node
		pos := map[node.PageID]int{}
		for id := nodes[0].Kid(0); id != 0; {
			if _, dup := pos[id]; dup {
				return st, fmt.Errorf("%w: level %d links page %d twice", ErrCorrupt, nodes[0].Level()-1, id)
			}
			cp, err := t.pc.Load(id)
			if err != nil {
				return st, fmt.Errorf("%w: level %d links page %d: %v", ErrCorrupt, nodes[0].Level()-1, id, err)
			}
			c := cp.Node
			if len(cids) == 0 && len(c.Lo()) != 0 {
				return st, fmt.Errorf("%w: leftmost page %d of level %d has lo %q", ErrCorrupt, id, c.Level(), c.Lo())
			}
			if len(cids) > 0 && !bytes.Equal(cs[len(cs)-1].Hi(), c.Lo()) {
				return st, fmt.Errorf("%w: page %d (hi %q) links page %d (lo %q)", ErrCorrupt, cids[len(cids)-1], cs[len(cs)-1].Hi(), id, c.Lo())
			}
			if c.Level()+1 != nodes[0].Level() {
				return st, fmt.Errorf("%w: page %d at level %d is linked at level %d", ErrCorrupt, id, c.Level(), nodes[0].Level()-1)
			}
			pos[id] = len(cids)
			cids, cs = append(cids, id), append(cs, c)
			if c.Hi() == nil {
				if c.Next() != 0 {
					return st, fmt.Errorf("%w: page %d has no high key but links page %d", ErrCorrupt, id, c.Next())
				}
				break
			}
			id = c.Next()
			if id == 0 {
				return st, fmt.Errorf("%w: page %d has high key %q and no right sibling", ErrCorrupt, cids[len(cids)-1], c.Hi())
			}
		}
		// Every parent entry names, in order, a page of that list with
		// its low key (I4); the pages between are unposted right halves.
		// A marked entry may name a frozen page already absorbed (I7).
		prev := -1
		for _, n := range nodes {
			for i := range n.Len() {
				cid := n.Kid(i)
				if n.Marked(i) {
					st.PendingMerges++
				}
				p, in := pos[cid]
				if !in {
					cp, err := t.pc.Load(cid)
					if err != nil || !n.Marked(i) || !cp.Node.Frozen() || !bytes.Equal(cp.Node.Lo(), n.Key(i)) {
						return st, fmt.Errorf("%w: page %d entry %d (%q) names page %d, which is not on level %d", ErrCorrupt, n.Kid(0), i, n.Key(i), cid, n.Level()-1)
					}
					st.Pages++ // the absorbed victim, still allocated
					if visit != nil {
						visit(cid)
					}
					continue
				}
				if p <= prev || (prev == -1 && p != 0) || !bytes.Equal(cs[p].Lo(), n.Key(i)) {
					return st, fmt.Errorf("%w: entry %q -> page %d is out of place on level %d", ErrCorrupt, n.Key(i), cid, n.Level()-1)
				}
				if cs[p].Frozen() && !n.Marked(i) {
					return st, fmt.Errorf("%w: page %d is frozen but its entry is not marked", ErrCorrupt, cid)
				}
				st.UnpostedSplits += p - prev - 1
				for _, u := range cids[prev+1 : p] {
					if cs[pos[u]].Frozen() {
						return st, fmt.Errorf("%w: unposted page %d is frozen", ErrCorrupt, u)
					}
				}
				prev = p
			}
		}
		st.UnpostedSplits += len(cids) - 1 - prev
		ids, nodes = cids, cs
	}
}

func checkNode(id node.PageID, n *node.Node) error {
	for i := 1; n.HasMark() && i < n.Len(); i++ {
		if n.Marked(i) && n.Marked(i-1) {
			return fmt.Errorf("%w: page %d has adjacent marked entries (I7)", ErrCorrupt, id)
		}
	}
	if n.Marked(0) {
		return fmt.Errorf("%w: page %d has its first entry marked (I7)", ErrCorrupt, id)
	}
	if !node.StrictlySorted(n.Keys()) {
		return fmt.Errorf("%w: page %d keys are not strictly increasing", ErrCorrupt, id)
	}
	if n.Len() > 0 && (bytes.Compare(n.Key(0), n.Lo()) < 0 || (n.Hi() != nil && bytes.Compare(n.Key(n.Len()-1), n.Hi()) >= 0)) {
		return fmt.Errorf("%w: page %d keys outside [%q, %q)", ErrCorrupt, id, n.Lo(), n.Hi())
	}
	if n.IsLeaf() {
		return nil
	}
	if n.Len() == 0 || !bytes.Equal(n.Key(0), n.Lo()) {
		return fmt.Errorf("%w: index page %d malformed", ErrCorrupt, id)
	}
	return nil
}

// SameLinks reports whether page state cur links to the same pages as old,
// the state Pages read: the walk stays valid over evictions, page-ins and
// relocations (pagecache.FreeTogether's still).
func SameLinks(old, cur *pagecache.Page) bool {
	if old.Node != nil && cur.Node != nil {
		return old.Node.SameLinks(cur.Node)
	}
	// One of them is not resident (FreeTogether retries from the state it
	// lost to, which may be evicted): an eviction or a page-in keeps the
	// locations (P6), so equal locations are the same content.
	return slices.Equal(old.Locs, cur.Locs)
}

// Pages returns every page of the tree with the state it was read in,
// walking the links of those states, for a caller that frees them all at
// once (pagecache.FreeTogether). The walk runs pinned, so no page it reads
// is freed and reused, and no log segment it reads is removed, under it
// (I10). A page that changes after it was read makes FreeTogether fail,
// so a racing writer either lands before the walk reads its page (and the
// pages it published are found) or loses its CAS afterwards.
func (t *Tree) Pages() ([]pagecache.Ref, error) {
	g := t.pc.Pin()
	defer g.Unpin()
	seen := map[node.PageID]bool{}
	queue := []node.PageID{t.root}
	var refs []pagecache.Ref
	for len(queue) > 0 {
		id := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		if seen[id] {
			continue
		}
		seen[id] = true
		p, err := t.pc.Load(id)
		if errors.Is(err, pagecache.ErrFreed) {
			return nil, ErrChanged // a structure change moved under the walk
		}
		if err != nil {
			return nil, err
		}
		refs = append(refs, pagecache.Ref{ID: id, Page: p})
		if p.Node.Next() != 0 {
			queue = append(queue, p.Node.Next())
		}
		queue = append(queue, p.Node.Kids()...)
	}
	// The root last: FreeTogether's decisive change, so a walk that loses
	// to a writer rolls back before the root ever reads as freed.
	slices.Reverse(refs)
	return refs, nil
}
