// Package tree is a lock-free B-link tree over the page table of package
// pagecache, with Bw-tree style structure changes that any thread finishes
// when it meets them half done (help-along).
//
// Every node covers a half-open key range [Lo, Hi) and links to its right
// sibling (Next). Nodes are immutable: a change builds a new node and installs
// it with one compare-and-swap on the page state (pagecache.Update). Readers
// never lock and never wait; writers retry when their CAS loses.
//
// # Structure changes
//
// Split (two halves). A node N that grew too big is split by (1) installing
// its right half in a fresh page R, then (2) CASing N to its left half with
// Hi = sep and Next = R. From this moment the split is correct: a search for
// a key >= sep that reaches N moves right to R (B-link). (3) The separator
// sep -> R is CASed into the parent. A thread that descends from a parent into
// a child whose Hi is below the bound the parent expects has met an unfinished
// split and posts the separator itself (postSeparator).
//
// Append split. Sequential inserts (raft logs, time series, counters) all
// land in the rightmost leaf, and half splits would leave every leaf
// behind half empty for good. So writes above every key of the rightmost
// leaf (not the root) first fill it to its limits, and then go to a fresh
// right sibling split off at the first new key: one CAS installs the left
// half (all of the old entries, Hi = the new key, Next = the new page) and
// publishes the right page holding only the new entries (I5, I12). The
// left half is logged as a split delta of a few bytes, the new entries
// once, in the right page's image.
//
// Logging. A split's left half is logged as a split delta and a posted
// separator as a child delta, so that structure changes cost a few bytes of
// log; the page cache logs an image instead when the page's log bytes
// would be mostly dead (pagecache P4), as after a half split.
//
// Root growth. The root page id never changes (named trees are identified by
// it). A full root is split by copying its two halves into two fresh pages
// and CASing the root to an index node one level higher over both: the
// growth is a single atomic step with no half-done state.
//
// Merge (four steps, each one CAS, each helped along):
//
//	(1) mark: the parent entry of the victim R is marked (a flag on the
//	    entry), claiming R for removal;
//	(2) freeze: R is replaced by a frozen copy that never changes again;
//	(3) absorb: the left sibling L (L.Next() == R) is replaced by the union of
//	    L and R over [L.Lo(), R.Hi()) with Next = R.Next();
//	(4) unlink: the marked entry is removed from the parent, and R's page id
//	    is freed (reused only after an epoch, pagecache P3).
//
// A thread that meets a marked entry on its way down, or a frozen node
// anywhere, completes the merge (completeMerge) and restarts from the root.
//
// # Invariants
//
// Cited as I1..I12 at the CAS sites that keep them.
//
//	I1. Keys in a node are strictly increasing and lie in [Lo, Hi).
//	I2. A page's Lo never changes while the page is allocated; the root's Lo
//	    is the empty key and its Hi is +infinity, forever.
//	I3. Each level is a list linked by Next from the node with the empty Lo
//	    to the node with Hi = +infinity, and for every node X with a right
//	    sibling, the sibling's Lo == X.Hi().
//	I4. An index node's Keys[0] == Lo and the child at Kids[i] has
//	    Lo == Keys[i]. A child's Hi may be lower than the parent's bound for
//	    it (an unfinished split, the rest reached via Next); it is never
//	    higher except while the merge that raised it is unfinished, and then
//	    the entry to its right is marked.
//	I5. A key's value lives in exactly one leaf: the leaf whose range covers
//	    it. A split or a merge moves entries with the range, in one CAS; an
//	    append split writes its new entries only in the right page it
//	    publishes, whose range covers them, in the same CAS.
//	I6. A frozen node never changes again. Nobody builds a new state from a
//	    frozen state, so a CAS from it can only be a merge step that keeps
//	    it frozen.
//	I7. A marked entry is never the first entry of its node and never next to
//	    another marked entry; a split never makes a marked entry the first of
//	    its right half. So the victim's left sibling is under the same parent
//	    and is never itself a victim.
//	I8. A separator is posted only for a page that is still linked as the
//	    right sibling of the node whose Hi equals the separator, checked
//	    after loading the parent state that the post CASes from (so a page
//	    already merged away is never posted again).
//	I9. Only the thread whose transition removes the marked entry (step 4)
//	    frees the victim's page, in that same transition, after step 3: the
//	    free is staged before the parent's CAS and rolled back if that CAS
//	    loses (pagecache P12); until the parent's CAS decides, the victim
//	    reads as its frozen state (pagecache P16), which readers read
//	    around (I11), so nobody waits for the unlinking thread.
//	I10. Every operation runs pinned (pagecache.Pin), so a page id it has
//	    seen is not reused while it runs; a freed page reads as ErrFreed and
//	    makes the operation restart from the root.
//	I11. Readers never write: they read around unfinished changes. A frozen
//	    node is current until its left sibling absorbs it (or, for a root
//	    collapse, until the root takes its content), because nobody writes a
//	    frozen node; after that the absorbing node covers its range. So a
//	    reader that meets a frozen node reads it if its left sibling still
//	    links to it, and the left sibling otherwise. Only writers (under the
//	    database's write gate) help along, so a batch that excludes writers
//	    excludes every page change.
//	I12. A structure change that publishes a new page (split, root growth)
//	    or unlinks one (merge, root collapse) does it in the same pagecache
//	    update as the CAS that links or unlinks it (pagecache P7).
//	I13. Nothing read from a node leaves a pinned operation by reference
//	    when the node's buffer is an arena slot (node.Node.Slot): the values
//	    Get, Modify and PopEdge return, the leaves Seek and SeekBefore
//	    return and the entries a Scan returns are copies or live on the
//	    heap (escape, node.Node.OnHeap, node.Node.Part, node.Node.CopyRun,
//	    I14), because the
//	    slot is reused two epochs after its page's state moves on
//	    (pagecache P17). Callbacks (Modify's fn, ApplySorted's report) get
//	    copies too, or slices valid only during the call where documented.
//	I14. A Scan reads a leaf in an arena slot across several
//	    pinned operations, a run of copied entries each (I13); every run
//	    after the first reads the leaf only while the page's current state
//	    holds the very node object the scan first read. The scan keeps
//	    that object alive, so no other state can hold it: identity means the
//	    slot was not retired, and the entries are those the scan began on.
//	    Otherwise the scan seeks past the last key it returned, as it does
//	    when a right link no longer leads to the leaf starting where its
//	    leaf ended (I3, I4).
//
// # Verification
//
// The SPIN model models/tree.pml checks the two-phase split, the four-step
// merge (mark, freeze, absorb, unlink), root growth and root collapse, with
// concurrent readers, inserters and removers, including frees staged
// before the parent's CAS that read as their frozen prior (pagecache P16):
// it finds no lost or duplicated key, no freed node reachable, no reader
// missing a present key, and no livelock under weak fairness, and it finds
// its seeded bugs (models/README.md). The real code is explored schedule
// by schedule in tree_lfsched_test.go (internal/lfsched, -tags lfdelay):
// split and insert, merge and root collapse with lookups and inserts.
package tree
