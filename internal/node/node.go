// Package node defines the in-memory form of a tree page: an immutable,
// materialized B-link node. A node is never modified once it is published in
// the page table; every change builds a new node (read-copy-update) and
// installs it with one compare-and-swap on the page's state.
//
// Key space conventions:
//   - Keys are arbitrary byte strings compared with bytes.Compare; the empty
//     key is the smallest key, so a Lo of the empty key means -infinity.
//   - Hi == nil means +infinity. A finite Hi is never empty (it is a key
//     strictly greater than some other key), so nil is unambiguous.
//   - A node covers the half-open range [Lo, Hi).
package node

import "bytes"

// PageID names a page in the page table. 0 is never a valid page.
type PageID uint64

// entryOverheadBytes approximates the Go memory held per entry besides the
// key and value bytes themselves (two slice headers), used for size limits.
const entryOverheadBytes = 48

// nodeOverheadBytes approximates the fixed Go memory of a node.
const nodeOverheadBytes = 160

// Node is an immutable B-link tree node. Leaves (Level 0) hold Keys and Vals;
// index nodes hold Keys and Kids, where Keys[i] is the low key of the range
// routed to Kids[i] and Keys[0] == Lo.
type Node struct {
	Lo    []byte // inclusive low key; the empty key for the leftmost node
	Hi    []byte // exclusive high key; nil for the rightmost node
	Next  PageID // right sibling; 0 for the rightmost node
	Level uint8  // 0 for leaves

	// Frozen marks a node that is being merged into its left sibling.
	// A frozen node never changes again; it is retired once the merge is
	// complete. See internal/tree/doc.go.
	Frozen bool

	Keys [][]byte
	Vals [][]byte // leaves only
	Kids []PageID // index nodes only
	Mark []bool   // index nodes only, nil when no entry is marked: Mark[i] means Kids[i] is being merged away

	bytes int // cached MemBytes of keys and values
}

// NewLeaf returns a leaf over [lo, hi) holding the given sorted entries.
// The slices are retained; callers hand over ownership.
func NewLeaf(lo, hi []byte, next PageID, keys, vals [][]byte) *Node {
	n := &Node{Lo: lo, Hi: hi, Next: next, Keys: keys, Vals: vals}
	n.recount()
	return n
}

// NewIndex returns an index node at level (>= 1) over [lo, hi).
func NewIndex(level uint8, lo, hi []byte, next PageID, keys [][]byte, kids []PageID, mark []bool) *Node {
	n := &Node{Lo: lo, Hi: hi, Next: next, Level: level, Keys: keys, Kids: kids, Mark: normMark(mark)}
	n.recount()
	return n
}

func normMark(m []bool) []bool {
	for _, b := range m {
		if b {
			return m
		}
	}
	return nil
}

func (n *Node) recount() {
	b := nodeOverheadBytes + len(n.Lo) + len(n.Hi)
	for _, k := range n.Keys {
		b += allocBytes(len(k)) + entryOverheadBytes
	}
	for _, v := range n.Vals {
		b += allocBytes(len(v))
	}
	n.bytes = b
}

// sizeClasses are the Go allocator's small object sizes (runtime/sizeclasses.go).
var sizeClasses = [...]int{8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256,
	288, 320, 352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280, 1408, 1536, 1792,
	2048, 2304, 2688, 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528, 6784, 6912, 8192, 9472, 9728, 10240,
	10880, 12288, 13568, 14336, 16384, 18432, 19072, 20480, 21760, 24576, 27264, 28672, 32768}

// allocBytes is the memory the Go allocator uses for an n-byte allocation:
// its size class, or whole 8 KiB pages for large objects. The cache counts
// these, not lengths, so that its bound is on real memory.
func allocBytes(n int) int {
	if n == 0 {
		return 0
	}
	if n > sizeClasses[len(sizeClasses)-1] {
		return (n + 8191) &^ 8191
	}
	lo, hi := 0, len(sizeClasses)-1
	for lo < hi {
		m := (lo + hi) / 2
		if sizeClasses[m] < n {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return sizeClasses[lo]
}

// IsLeaf reports whether n is a leaf.
func (n *Node) IsLeaf() bool { return n.Level == 0 }

// Len is the number of entries.
func (n *Node) Len() int { return len(n.Keys) }

// MemBytes approximates the Go memory held by the node.
func (n *Node) MemBytes() int { return n.bytes }

// Covers reports whether key lies in [Lo, Hi).
func (n *Node) Covers(key []byte) bool {
	return bytes.Compare(key, n.Lo) >= 0 && (n.Hi == nil || bytes.Compare(key, n.Hi) < 0)
}

// BeyondHi reports whether key >= Hi, i.e. a search for key must move right.
func (n *Node) BeyondHi(key []byte) bool {
	return n.Hi != nil && bytes.Compare(key, n.Hi) >= 0
}

// Search returns the position of key in a leaf: the index of the first key
// >= key, and whether it is equal.
func (n *Node) Search(key []byte) (int, bool) {
	keys := n.Keys
	lo, hi := 0, len(keys)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if bytes.Compare(keys[m], key) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(keys) && bytes.Equal(keys[lo], key)
}

// ChildIndex returns the index of the child of an index node that routes key:
// the greatest i with Keys[i] <= key (0 if key precedes every key).
func (n *Node) ChildIndex(key []byte) int {
	i, eq := n.Search(key)
	if eq {
		return i
	}
	if i == 0 {
		return 0
	}
	return i - 1
}

// ChildBefore returns the index of the child that routes the keys just below
// key: the greatest i with Keys[i] < key (0 if none).
func (n *Node) ChildBefore(key []byte) int {
	i, _ := n.Search(key)
	if i == 0 {
		return 0
	}
	return i - 1
}

// ChildHi returns the exclusive upper bound of the range routed to Kids[i].
func (n *Node) ChildHi(i int) []byte {
	if i+1 < len(n.Keys) {
		return n.Keys[i+1]
	}
	return n.Hi
}

// Marked reports whether entry i of an index node is marked for merge.
func (n *Node) Marked(i int) bool { return n.Mark != nil && n.Mark[i] }

func (n *Node) clone() *Node {
	c := *n
	return &c
}

// WithValue returns a copy of leaf n in which key has value val: replaced at
// position i when found, inserted at i otherwise.
func (n *Node) WithValue(i int, found bool, key, val []byte) *Node {
	c := n.clone()
	if found {
		c.Keys = n.Keys
		c.Vals = make([][]byte, len(n.Vals))
		copy(c.Vals, n.Vals)
		c.Vals[i] = val
		c.bytes = n.bytes - allocBytes(len(n.Vals[i])) + allocBytes(len(val))
		return c
	}
	c.Keys = insertAt(n.Keys, i, key)
	c.Vals = insertAt(n.Vals, i, val)
	c.bytes = n.bytes + allocBytes(len(key)) + allocBytes(len(val)) + entryOverheadBytes
	return c
}

// Without returns a copy of leaf n without entry i.
func (n *Node) Without(i int) *Node {
	c := n.clone()
	c.Keys = removeAt(n.Keys, i)
	c.Vals = removeAt(n.Vals, i)
	c.bytes = n.bytes - allocBytes(len(n.Keys[i])) - allocBytes(len(n.Vals[i])) - entryOverheadBytes
	return c
}

// WithChild returns a copy of index node n with a new entry key -> kid at
// its sorted position. The caller has checked that key is not present.
func (n *Node) WithChild(key []byte, kid PageID) *Node {
	i, _ := n.Search(key)
	c := n.clone()
	c.Keys = insertAt(n.Keys, i, key)
	c.Kids = insertAt(n.Kids, i, kid)
	if n.Mark != nil {
		c.Mark = insertAt(n.Mark, i, false)
	}
	c.bytes = n.bytes + allocBytes(len(key)) + entryOverheadBytes
	return c
}

// WithoutChild returns a copy of index node n without entry i.
func (n *Node) WithoutChild(i int) *Node {
	c := n.clone()
	c.Keys = removeAt(n.Keys, i)
	c.Kids = removeAt(n.Kids, i)
	if n.Mark != nil {
		c.Mark = normMark(removeAt(n.Mark, i))
	}
	c.bytes = n.bytes - allocBytes(len(n.Keys[i])) - entryOverheadBytes
	return c
}

// WithMark returns a copy of index node n with entry i marked for merge.
func (n *Node) WithMark(i int) *Node {
	c := n.clone()
	c.Mark = make([]bool, len(n.Kids))
	copy(c.Mark, n.Mark)
	c.Mark[i] = true
	return c
}

// WithFrozen returns a frozen copy of n.
func (n *Node) WithFrozen() *Node {
	c := n.clone()
	c.Frozen = true
	return c
}

// SplitPoint chooses where to split n: the index of the first entry of the
// right half. It never returns 0 or Len(). For index nodes it never makes a
// marked entry the first of the right half (a marked entry stays under the
// same parent as its left neighbour; tree invariant I7). It returns -1 when
// no valid split point exists.
func (n *Node) SplitPoint() int {
	if len(n.Keys) < 2 {
		return -1
	}
	// Split by bytes so that a few large values do not leave one half huge.
	half := n.bytes / 2
	acc := nodeOverheadBytes
	at := len(n.Keys) / 2
	if n.IsLeaf() {
		for i, k := range n.Keys {
			acc += allocBytes(len(k)) + allocBytes(len(n.Vals[i])) + entryOverheadBytes
			if acc >= half {
				at = i + 1
				break
			}
		}
	}
	if at <= 0 {
		at = 1
	}
	if at >= len(n.Keys) {
		at = len(n.Keys) - 1
	}
	for at < len(n.Keys) && n.Marked(at) {
		at++
	}
	if at >= len(n.Keys) {
		for at = len(n.Keys) / 2; at > 0 && n.Marked(at); at-- {
		}
		if at == 0 {
			return -1
		}
	}
	return at
}

// Split returns the two halves of n split at index at: left keeps n's Lo and
// gets Hi = Keys[at] and Next = rightID; right gets [Keys[at], n.Hi) and n's
// Next.
func (n *Node) Split(at int, rightID PageID) (left, right *Node) {
	sep := n.Keys[at]
	if n.IsLeaf() {
		left = NewLeaf(n.Lo, sep, rightID, n.Keys[:at:at], n.Vals[:at:at])
		right = NewLeaf(sep, n.Hi, n.Next, cloneSlice(n.Keys[at:]), cloneSlice(n.Vals[at:]))
		return left, right
	}
	var lm, rm []bool
	if n.Mark != nil {
		lm, rm = n.Mark[:at:at], cloneSlice(n.Mark[at:])
	}
	left = NewIndex(n.Level, n.Lo, sep, rightID, n.Keys[:at:at], n.Kids[:at:at], lm)
	right = NewIndex(n.Level, sep, n.Hi, n.Next, cloneSlice(n.Keys[at:]), cloneSlice(n.Kids[at:]), rm)
	return left, right
}

// Absorb returns the merge of n with its right sibling r (n.Next names r and
// n.Hi == r.Lo): the union of their entries over [n.Lo, r.Hi) with r's Next.
func (n *Node) Absorb(r *Node) *Node {
	if n.IsLeaf() {
		keys := append(cloneSlice(n.Keys), r.Keys...)
		vals := append(cloneSlice(n.Vals), r.Vals...)
		return NewLeaf(n.Lo, r.Hi, r.Next, keys, vals)
	}
	keys := append(cloneSlice(n.Keys), r.Keys...)
	kids := append(cloneSlice(n.Kids), r.Kids...)
	var mark []bool
	if n.Mark != nil || r.Mark != nil {
		mark = make([]bool, 0, len(kids))
		for i := range n.Kids {
			mark = append(mark, n.Marked(i))
		}
		for i := range r.Kids {
			mark = append(mark, r.Marked(i))
		}
	}
	return NewIndex(n.Level, n.Lo, r.Hi, r.Next, keys, kids, mark)
}

// Grow returns the node that replaces a full root: an index node one level
// up over the whole key space with the two halves as children.
func Grow(level uint8, leftID PageID, sep []byte, rightID PageID) *Node {
	return NewIndex(level+1, []byte{}, nil, 0, [][]byte{{}, sep}, []PageID{leftID, rightID}, nil)
}

func insertAt[T any](s []T, i int, v T) []T {
	out := make([]T, len(s)+1)
	copy(out, s[:i])
	out[i] = v
	copy(out[i+1:], s[i:])
	return out
}

func removeAt[T any](s []T, i int) []T {
	out := make([]T, len(s)-1)
	copy(out, s[:i])
	copy(out[i:], s[i+1:])
	return out
}

func cloneSlice[T any](s []T) []T {
	out := make([]T, len(s))
	copy(out, s)
	return out
}

// StrictlySorted reports whether keys are strictly increasing (for checks).
func StrictlySorted(keys [][]byte) bool {
	for i := 1; i < len(keys); i++ {
		if bytes.Compare(keys[i-1], keys[i]) >= 0 {
			return false
		}
	}
	return true
}

// DeltaKind says what a Delta does to a leaf.
type DeltaKind uint8

const (
	// DeltaImage replaces the whole node (structure changes, consolidation).
	DeltaImage DeltaKind = iota + 1
	// DeltaSet sets Key to Val in a leaf.
	DeltaSet
	// DeltaDel removes Key from a leaf.
	DeltaDel
	// DeltaBatch applies Ops, each a DeltaSet or a DeltaDel with keys
	// strictly increasing, to a leaf in one step: the writes of an atomic
	// batch that land in one leaf, logged as one fragment.
	DeltaBatch
)

// Delta describes one change to a page: the partial update that the
// pagecache logs as a fragment instead of the whole page. Applying the
// deltas of a page in order to its last image yields its current node.
type Delta struct {
	Kind  DeltaKind
	Key   []byte
	Val   []byte
	Image *Node   // DeltaImage only
	Ops   []Delta // DeltaBatch only
}

// Apply returns n with d applied.
func (d Delta) Apply(n *Node) *Node {
	switch d.Kind {
	case DeltaSet:
		i, found := n.Search(d.Key)
		return n.WithValue(i, found, d.Key, d.Val)
	case DeltaDel:
		if i, found := n.Search(d.Key); found {
			return n.Without(i)
		}
		return n
	case DeltaBatch:
		return n.WithOps(d.Ops)
	default:
		return d.Image
	}
}

// WithOps returns a copy of leaf n with ops applied: each a DeltaSet or a
// DeltaDel, keys strictly increasing. One merge of the two sorted lists.
func (n *Node) WithOps(ops []Delta) *Node {
	keys := make([][]byte, 0, len(n.Keys)+len(ops))
	vals := make([][]byte, 0, len(n.Keys)+len(ops))
	i := 0
	for _, op := range ops {
		for i < len(n.Keys) && bytes.Compare(n.Keys[i], op.Key) < 0 {
			keys, vals = append(keys, n.Keys[i]), append(vals, n.Vals[i])
			i++
		}
		if i < len(n.Keys) && bytes.Equal(n.Keys[i], op.Key) {
			i++ // replaced or removed
		}
		if op.Kind == DeltaSet {
			keys, vals = append(keys, op.Key), append(vals, op.Val)
		}
	}
	keys, vals = append(keys, n.Keys[i:]...), append(vals, n.Vals[i:]...)
	c := n.clone()
	c.Keys, c.Vals = keys, vals
	c.recount()
	return c
}
