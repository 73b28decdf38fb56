package tree

import (
	"bytes"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/sledgo/sled/internal/node"
	"github.com/sledgo/sled/internal/pagecache"
)

// Config sets node sizes. Small values make structure changes frequent,
// which is what tests want.
type Config struct {
	MaxLeafEntries  int // a leaf with more entries splits
	MaxIndexEntries int // an index node with more entries splits
	MaxNodeBytes    int // a node with more bytes (and >= 2 entries) splits
}

// DefaultConfig is used for zero fields.
var DefaultConfig = Config{MaxLeafEntries: 64, MaxIndexEntries: 128, MaxNodeBytes: 32 << 10}

func (c Config) withDefaults() Config {
	if c.MaxLeafEntries < 2 {
		c.MaxLeafEntries = DefaultConfig.MaxLeafEntries
	}
	if c.MaxIndexEntries < 3 {
		c.MaxIndexEntries = DefaultConfig.MaxIndexEntries
	}
	if c.MaxNodeBytes <= 0 {
		c.MaxNodeBytes = DefaultConfig.MaxNodeBytes
	}
	return c
}

// ErrCorrupt reports a broken structural invariant found while operating.
var ErrCorrupt = errors.New("tree: structure corrupt")

// ErrBusy is returned by PopEdge when its lock callback declined: the
// caller waits for what it needs without the pin, and calls again.
var ErrBusy = errors.New("tree: the edge key is busy")

// Tree is a B-link tree rooted at a fixed page.
type Tree struct {
	pc   *pagecache.Cache
	root node.PageID
	cfg  Config
}

// Create allocates an empty tree.
func Create(pc *pagecache.Cache, cfg Config) (*Tree, error) {
	id, err := pc.Allocate(node.NewLeaf([]byte{}, nil, 0, nil, nil))
	if err != nil {
		return nil, err
	}
	return &Tree{pc: pc, root: id, cfg: cfg.withDefaults()}, nil
}

// Open returns the tree rooted at root.
func Open(pc *pagecache.Cache, root node.PageID, cfg Config) *Tree {
	return &Tree{pc: pc, root: root, cfg: cfg.withDefaults()}
}

// Root is the page id of the root; it never changes (I2).
func (t *Tree) Root() node.PageID { return t.root }

// errRestart makes an operation start again from the root.
var errRestart = errors.New("tree: restart")

// errLevelGone reports that the level a structure change looked for no
// longer exists: a root collapse removed it, so the change is complete.
var errLevelGone = errors.New("tree: level gone")

func (t *Tree) load(id node.PageID) (*pagecache.Page, error) {
	p, err := t.pc.Load(id)
	if errors.Is(err, pagecache.ErrFreed) {
		return nil, errRestart // I10
	}
	return p, err
}

// TestHookBeforeCAS, when set, runs between reading a leaf and CASing the
// change into it in Modify. Tests use it to widen race windows; it is nil
// in production.
var TestHookBeforeCAS atomic.Pointer[func()]

// maxRestarts bounds retries of one operation so that a broken structure
// is reported instead of looping forever.
const maxRestarts = 1 << 20

// minIndexBytesSplit is the fewest entries an index node splits at for
// its bytes alone. Separators are whole keys, so with keys of a quarter of
// MaxNodeBytes or more an index node of 2 entries is over the byte limit:
// splitting it would leave nodes of one entry each, every level as wide as
// the one below it plus one, and the tree as tall as it has keys. With 4,
// halves keep 2 entries and the height stays logarithmic whatever the key
// size; such index nodes outgrow MaxNodeBytes instead (TestLongKeys).
const minIndexBytesSplit = 4

func (t *Tree) tooBig(n *node.Node) bool {
	if n.Len() < 2 {
		return false
	}
	if n.MemBytes() > t.cfg.MaxNodeBytes && (n.IsLeaf() || n.Len() >= minIndexBytesSplit) {
		return true
	}
	if n.IsLeaf() {
		return n.Len() > t.cfg.MaxLeafEntries
	}
	return n.Len() > t.cfg.MaxIndexEntries
}

func (t *Tree) maxEntries(n *node.Node) int {
	if n.IsLeaf() {
		return t.cfg.MaxLeafEntries
	}
	return t.cfg.MaxIndexEntries
}

func (t *Tree) tooSmall(n *node.Node) bool {
	return n.Len() < t.maxEntries(n)/2 && n.MemBytes() < t.cfg.MaxNodeBytes/2
}

// cmpHi compares a key with a high bound where nil means +infinity.
func cmpHi(a, b []byte) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	return bytes.Compare(a, b)
}

type frame struct {
	id node.PageID
	p  *pagecache.Page
}

// descend returns the node at level that covers key. With before, it
// returns the node that holds the keys just below key instead: Lo < key <= Hi
// (key nil = +inf). The index nodes passed are appended to path when path is
// not nil.
//
// With help (writers only), it finishes every unfinished structure change it
// meets. Without help (readers), it changes nothing: it reads around
// unfinished changes (I11), so readers never write a page or the log.
func (t *Tree) descend(key []byte, level uint8, before bool, path *[]frame, help bool) (node.PageID, *pagecache.Page, error) {
	for restarts := 0; ; restarts++ {
		if restarts > maxRestarts {
			return 0, nil, fmt.Errorf("%w: descent for %q does not converge", ErrCorrupt, key)
		}
		if path != nil {
			*path = (*path)[:0]
		}
		id, p, err := t.descendOnce(key, level, before, path, help)
		if err == errRestart {
			continue
		}
		return id, p, err
	}
}

func (t *Tree) moveRight(n *node.Node, key []byte, before bool) bool {
	if n.Hi() == nil {
		return false
	}
	if before {
		return key == nil || bytes.Compare(key, n.Hi()) > 0
	}
	return bytes.Compare(key, n.Hi()) >= 0
}

func (t *Tree) descendOnce(key []byte, level uint8, before bool, path *[]frame, help bool) (node.PageID, *pagecache.Page, error) {
	id := t.root
	p, err := t.pc.Load(id)
	if errors.Is(err, pagecache.ErrFreed) {
		return 0, nil, ErrDropped // the root is freed only by Drop
	}
	if err != nil {
		return 0, nil, err
	}
	for steps := 0; ; steps++ {
		n := p.Node
		if n.Frozen() && help {
			if err := t.completeMerge(id); err != nil {
				return 0, nil, err
			}
			return 0, nil, errRestart
		}
		if n.Frozen() {
			cur, cp, err := t.readAround(id, n)
			if err != nil {
				return 0, nil, err
			}
			if cur != id {
				id, p = cur, cp
				continue
			}
		}
		if t.moveRight(n, key, before) {
			if n.Next() == 0 {
				return 0, nil, fmt.Errorf("%w: page %d has a high key and no right sibling", ErrCorrupt, id)
			}
			id = n.Next()
			if p, err = t.load(id); err != nil {
				return 0, nil, err
			}
			continue
		}
		if n.Level() == level {
			return id, p, nil
		}
		if n.Level() < level {
			return 0, nil, errLevelGone
		}
		var i int
		if before && key != nil {
			i = n.ChildBefore(key)
		} else if before {
			i = n.Len() - 1 // key nil: +infinity
		} else {
			i = n.ChildIndex(key)
		}
		if n.Marked(i) && help {
			// Help along a merge whose victim is on our way (I7).
			if err := t.completeMerge(n.Kid(i)); err != nil {
				return 0, nil, err
			}
			return 0, nil, errRestart
		}
		if path != nil {
			*path = append(*path, frame{id, p})
		}
		cid := n.Kid(i)
		cp, err := t.load(cid)
		if err != nil {
			return 0, nil, err
		}
		c := cp.Node
		if help && c.Next() != 0 && cmpHi(c.Hi(), n.ChildHi(i)) < 0 && !c.Frozen() {
			// Unfinished split: the parent does not route to c's right
			// half yet. Post the separator ourselves, then go on: the
			// B-link right move makes the descent correct either way.
			if err := t.postSeparator(c.Hi(), c.Next(), n.Level(), id); err != nil && err != errRestart {
				return 0, nil, err
			}
		}
		id, p = cid, cp
	}
}

// readAround decides, for a reader that met the frozen node n in page id,
// which node holds n's range now (I11): n itself while its merge (or root
// collapse) has not absorbed it yet (it is then current: nobody writes a
// frozen node), else the node that absorbed it. It returns id to mean n.
func (t *Tree) readAround(id node.PageID, n *node.Node) (node.PageID, *pagecache.Page, error) {
	if len(n.Lo()) == 0 {
		// Root collapse: n is current while the root still routes to it.
		rp, err := t.pc.Load(t.root)
		if err != nil {
			return 0, nil, err
		}
		if r := rp.Node; !r.IsLeaf() && r.Len() == 1 && r.Kid(0) == id {
			return id, nil, nil
		}
		return 0, nil, errRestart
	}
	lid, lp, err := t.descend(n.Lo(), n.Level(), true, nil, false)
	if err != nil {
		return 0, nil, err
	}
	if l := lp.Node; l.Next() == id && cmpHi(l.Hi(), n.Lo()) == 0 {
		return id, nil, nil // not absorbed yet: n is current
	}
	return lid, lp, nil // absorbed: the left sibling covers n's range
}

// Get returns the value of key.
func (t *Tree) Get(key []byte) ([]byte, bool, error) {
	g := t.pc.Pin()
	defer g.Unpin()
	_, p, err := t.descend(key, 0, false, nil, false)
	if err != nil {
		return nil, false, err
	}
	v, ok := p.Node.Get(key)
	return escape(p.Node, v), ok, nil
}

// escape returns b, a slice of n, in memory that outlives the pinned
// operation (I13): b itself when n is on the heap, else a copy, since n's
// slot is reused once its page's state moves on (pagecache P17).
func escape(n *node.Node, b []byte) []byte {
	if b == nil || n.Slot() == nil {
		return b
	}
	return append(make([]byte, 0, len(b)), b...)
}

// Action says what a Modify callback wants done with its key.
type Action uint8

const (
	Keep   Action = iota // change nothing
	Set                  // set the key to the returned value
	Delete               // remove the key
)

// Result describes a Modify call that returned without error.
type Result struct {
	Old     []byte // previous value (nil when absent)
	Found   bool   // key was present before
	New     []byte // value after the call (nil when absent)
	Present bool   // key is present after the call
	Changed bool   // the tree was changed
}

// Modify reads key's current value, asks fn what to do, and applies the
// answer atomically with respect to every other operation on key. fn may
// run more than once (after a lost CAS); its last answer is the one applied.
func (t *Tree) Modify(key []byte, fn func(old []byte, found bool) ([]byte, Action)) (Result, error) {
	g := t.pc.Pin()
	defer g.Unpin()
	var path []frame
	for restarts := 0; ; restarts++ {
		if restarts > maxRestarts {
			return Result{}, fmt.Errorf("%w: modify of %q does not converge", ErrCorrupt, key)
		}
		id, p, err := t.descend(key, 0, false, &path, true)
		if err != nil {
			return Result{}, err
		}
		n := p.Node
		old, found := n.Get(key)
		old = escape(n, old) // fn and Result.Old may keep it (I13)
		nv, act := fn(old, found)
		res := Result{Old: old, Found: found, New: old, Present: found}
		var nn *node.Node
		var d node.Delta
		switch {
		case act == Set && !found && t.appendable(id, n, key) && t.full(n, 1, len(key)+len(nv)):
			ok, err := t.appendSplit(id, p, [][]byte{key}, [][]byte{nv}, path)
			if !ok {
				if err != nil {
					return Result{}, err
				}
				continue
			}
			res.New, res.Present, res.Changed = nv, true, true
			return res, err // the write is done; err is the separator's post
		case act == Set:
			nn = n.Set(key, nv)
			d = node.Delta{Kind: node.DeltaSet, Key: key, Val: nv}
			res.New, res.Present = nv, true
		case act == Delete && found:
			nn = n.Delete(key)
			d = node.Delta{Kind: node.DeltaDel, Key: key}
			res.New, res.Present = nil, false
		default:
			return res, nil
		}
		if h := TestHookBeforeCAS.Load(); h != nil {
			(*h)()
		}
		// I1, I5: the key is inside n's range (descend), the entry is put
		// at its sorted position, and the CAS is from the state we read.
		np, ok, err := t.update(id, p, nn, d)
		if err != nil {
			return Result{}, err
		}
		if !ok {
			continue
		}
		res.Changed = true
		if err := t.afterWrite(id, np, path); err != nil {
			return res, err
		}
		return res, nil
	}
}

// afterWrite starts the structure change a write made necessary. The write
// itself is already done; failures to restructure are reported but the
// structure stays correct (a later write retries).
func (t *Tree) afterWrite(id node.PageID, p *pagecache.Page, path []frame) error {
	var err error
	switch n := p.Node; {
	case t.tooBig(n):
		err = t.split(id, p, path)
	case t.tooSmall(n) && id != t.root:
		err = t.tryMerge(id, p, path)
	}
	if err == errRestart || err == errLevelGone {
		err = nil
	}
	return err
}

// PopEdge removes and returns the smallest (last == false) or greatest key,
// if it can do so with one CAS on the leftmost (rightmost) leaf: that leaf's
// first (last) key is the tree's minimum (maximum) at the CAS. It reports
// slow == true when the edge leaf is empty but the tree may not be, in which
// case the caller must use a path that excludes concurrent writers.
// lock, when not nil, is called with the key and value before the CAS; the
// function it returns is called after the CAS with whether it succeeded
// (for ordered notifications). lock must not wait (the operation is
// pinned): when it cannot take what it needs it returns false, and PopEdge
// returns ErrBusy.
func (t *Tree) PopEdge(last bool, lock func(key, val []byte) (func(ok bool), bool)) (k, v []byte, found, slow bool, err error) {
	g := t.pc.Pin()
	defer g.Unpin()
	var path []frame
	for restarts := 0; ; restarts++ {
		if restarts > maxRestarts {
			return nil, nil, false, false, fmt.Errorf("%w: pop does not converge", ErrCorrupt)
		}
		var key []byte
		if !last {
			key = []byte{}
		}
		id, p, err := t.descend(key, 0, last, &path, true)
		if err != nil {
			return nil, nil, false, false, err
		}
		n := p.Node
		if n.Len() == 0 {
			if (!last && n.Hi() == nil) || (last && len(n.Lo()) == 0) {
				return nil, nil, false, false, nil // the only leaf is empty
			}
			return nil, nil, false, true, nil
		}
		i := 0
		if last {
			i = n.Len() - 1
		}
		k, v = escape(n, n.Key(i)), escape(n, n.Val(i)) // I13
		var done func(bool)
		if lock != nil {
			var ok bool
			if done, ok = lock(k, v); !ok {
				return nil, nil, false, false, ErrBusy
			}
		}
		// I5: the first (last) entry of the edge leaf is removed by a CAS
		// from the state it was read in.
		np, ok, err := t.update(id, p, n.Without(i), node.Delta{Kind: node.DeltaDel, Key: k})
		if done != nil {
			done(ok && err == nil)
		}
		if err != nil {
			return nil, nil, false, false, err
		}
		if !ok {
			continue
		}
		return k, v, true, false, t.afterWrite(id, np, path)
	}
}
