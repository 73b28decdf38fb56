// Package node defines the in-memory form of a tree page: an immutable B-link
// node held in one contiguous, pointer-free byte buffer that is searched in
// place (see layout.go). A node is never modified once it is published in the
// page table; every change builds a new buffer (read-copy-update, one
// allocation and a few memmoves) and installs it with one compare-and-swap on
// the page's state.
//
// Key space conventions:
//   - Keys are arbitrary byte strings compared with bytes.Compare; the empty
//     key is the smallest key, so a Lo of the empty key means -infinity.
//   - Hi == nil means +infinity. A finite Hi is never empty (it is a key
//     strictly greater than some other key), so nil is unambiguous.
//   - A node covers the half-open range [Lo, Hi).
//
// Slices returned by a node (Lo, Hi, Key, Val) alias its buffer with their
// capacity capped at their length: an append copies, and nobody may write
// through them.
package node

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"unsafe"
)

// PageID names a page in the page table. 0 is never a valid page.
type PageID uint64

// Node is an immutable B-link tree node. Leaves (Level 0) hold keys and
// values; index nodes hold keys and kids, where Key(i) is the low key of the
// range routed to Kid(i) and Key(0) == Lo.
type Node struct {
	b     []byte // the node (layout.go); never written after construction
	tab   int    // offset of the entry offset table in b
	count int    // entries
	hiEnd int    // end of Hi (== start of tab)
	loEnd int    // end of Lo (== start of Hi)
	pfx   int    // pfxLen: the bytes every key shares
	next  PageID
	level uint8
	flags uint8
	// slot: b is a slot of an Allocator (a page-in's buffer outside the
	// Go heap), shared by the versions that only add an overlay to it and
	// returned by the page cache once no state holds it (Slot).
	slot bool
	ov   overlay // a leaf's writes since b was built (overlay.go); nil when flat
}

// Allocator gives node buffers outside the Go heap (internal/slab). Get
// returns a buffer of length n whose bytes are arbitrary, or nil when the
// caller must use the heap; Put takes back a buffer Get returned (the
// slice as Get returned it, or resliced within its capacity).
type Allocator interface {
	Get(n int) []byte
	Put(b []byte)
}

// Slot returns n's buffer when it is a slot of an Allocator, else nil.
// Nodes derived from n by writes that only add an overlay (Set, Delete,
// WithOps) share it; every other derivation copies.
func (n *Node) Slot() []byte {
	if n == nil || !n.slot {
		return nil
	}
	return n.b
}

// SharesSlot reports whether n and o hold the same Allocator slot.
func (n *Node) SharesSlot(o *Node) bool {
	return n != nil && o != nil && n.slot && o.slot && unsafe.SliceData(n.b) == unsafe.SliceData(o.b)
}

// OnHeap returns n, or a copy of it on the Go heap when its buffer is an
// Allocator slot: for a node that outlives the pinned operation that read
// it (an iterator's leaf), since the slot is reused once the page's state
// moves on.
func (n *Node) OnHeap() *Node {
	if !n.slot {
		return n
	}
	c := *n
	c.b = append([]byte(nil), n.b...) // not zeroed before the copy
	c.slot = false
	return &c
}

// Part returns entries [i, j) of leaf n (0 <= i <= j <= Len) as a new
// leaf on the heap, for a reader that keeps a run of entries past its
// pinned operation without copying the whole leaf. The part has n's Lo;
// when j == Len it has n's Hi and Next, so a scan goes on to the right
// sibling as from n; otherwise its Hi is Key(j) and its Next 0 (the scan
// goes on from Key(j) by a search).
func (n *Node) Part(i, j int) *Node {
	hi, next := n.Hi(), n.Next()
	if j < n.Len() {
		hi, next = n.Key(j), 0
	}
	if n.ov == nil {
		w := newBuilder(0, 0, next, n.Lo(), hi, j-i, n.off(j)-n.off(i)+slotBytes*(j-i))
		w.copyEntries(n, i, j)
		return w.finish()
	}
	data := 0
	if i < j {
		c := n.CursorAt(i)
		for k := i; k < j; k++ {
			key, val := n.Step(&c)
			data += leafEntryBytes(len(key), len(val))
		}
	}
	w := newBuilder(0, 0, next, n.Lo(), hi, j-i, data)
	if i < j {
		c := n.CursorAt(i)
		for k := i; k < j; k++ {
			w.addLeaf(n.Step(&c))
		}
	}
	return w.finish()
}

// CopyRun copies entries [i, j) of leaf n to the heap in one allocation:
// data holds them packed as in a node buffer (key length, key, value),
// and offs (appended to offs[:0], the caller's scratch) the start of each
// in data and then len(data), so RunEntry reads entry i+k. It is what a
// scan keeps of a leaf in an Allocator slot past its pinned operation: no
// node to build. Without an overlay it is one memmove of the base's
// bytes, not zeroed first; with one, a pass over the merged view sizes
// the copy and a second fills it.
func (n *Node) CopyRun(i, j int, offs []uint32) (data []byte, _ []uint32) {
	offs = offs[:0]
	if i >= j {
		return nil, offs
	}
	if n.ov == nil {
		from, to := n.off(i), n.off(j)
		data = append([]byte(nil), n.b[from:to]...)
		for k := i; k < j; k++ {
			offs = append(offs, uint32(n.off(k)-from))
		}
		return data, append(offs, uint32(to-from))
	}
	size := 0
	c := n.CursorAt(i)
	for k := i; k < j; k++ {
		key, val := n.Step(&c)
		size += 4 + len(key) + len(val)
	}
	data = make([]byte, 0, size)
	c = n.CursorAt(i)
	for k := i; k < j; k++ {
		key, val := n.Step(&c)
		offs = append(offs, uint32(len(data)))
		data = binary.LittleEndian.AppendUint32(data, uint32(len(key)))
		data = append(append(data, key...), val...)
	}
	return data, append(offs, uint32(len(data)))
}

// RunEntry is entry k of a run CopyRun copied.
func RunEntry(data []byte, offs []uint32, k int) (key, val []byte) {
	o, e := int(offs[k]), int(offs[k+1])
	ks := o + 4 + int(le32(data[o:]))
	return data[o+4 : ks : ks], data[ks:e:e]
}

// SlotBytes is the size of n's Allocator slot (0 when its buffer is on
// the heap): the part of MemBytes that is not Go heap memory.
func (n *Node) SlotBytes() int {
	if !n.slot {
		return 0
	}
	return cap(n.b)
}

// Lo is the inclusive low key; the empty key for the leftmost node.
func (n *Node) Lo() []byte { return n.b[headerBytes:n.loEnd:n.loEnd] }

// Hi is the exclusive high key; nil for the rightmost node.
func (n *Node) Hi() []byte {
	if n.flags&flagHi == 0 {
		return nil
	}
	return n.b[n.loEnd:n.hiEnd:n.hiEnd]
}

// Next is the right sibling; 0 for the rightmost node.
func (n *Node) Next() PageID { return n.next }

// Level is 0 for leaves.
func (n *Node) Level() uint8 { return n.level }

// Frozen marks a node that is being merged into its left sibling. A frozen
// node never changes again; it is retired once the merge is complete. See
// internal/tree/doc.go.
func (n *Node) Frozen() bool { return n.flags&flagFrozen != 0 }

// IsLeaf reports whether n is a leaf.
func (n *Node) IsLeaf() bool { return n.level == 0 }

// Len is the number of entries.
func (n *Node) Len() int {
	if n.ov != nil {
		return n.ov.count()
	}
	return n.count
}

// HasMark reports whether some entry of an index node is marked for merge.
func (n *Node) HasMark() bool { return n.flags&flagMark != 0 }

// Bytes is the node's buffer (layout.go). It must not be modified.
// A node with an overlay is folded first (a new buffer).
func (n *Node) Bytes() []byte {
	if n.ov != nil {
		n = n.Flat()
	}
	return n.b[:len(n.b):len(n.b)]
}

// MemBytes is the memory the node holds: its buffer's allocation and the
// Node itself, in the Go allocator's size classes. Nothing else is reachable
// from a node, so this is exact.
func (n *Node) MemBytes() int {
	m := nodeStructBytes
	if n.slot {
		m += cap(n.b) // a slot's size is exact
	} else {
		m += allocBytes(cap(n.b))
	}
	if n.ov != nil {
		m += n.ov.memBytes()
	}
	return m
}

// ImageBytes estimates the bytes of n's flat image (its buffer once the
// overlay is folded) without folding it: the base buffer plus the overlay's
// key and value bytes (an upper bound: an overlay entry that replaces or
// deletes a base entry counts as added).
func (n *Node) ImageBytes() int {
	b := len(n.b)
	if n.ov != nil {
		b += n.ov.dataBytes() + slotBytes*n.ov.n()
	}
	return b
}

func (n *Node) off(i int) int { return int(le32(n.b[n.tab+slotBytes*i:])) }

// Key is the key of entry i.
func (n *Node) Key(i int) []byte {
	if n.ov != nil {
		k, _ := n.Entry(i)
		return k
	}
	return n.baseKey(i)
}

// baseKey is the key of entry i of the base buffer, ignoring any overlay.
func (n *Node) baseKey(i int) []byte {
	o := n.off(i) + 4
	e := o + int(le32(n.b[o-4:]))
	return n.b[o:e:e]
}

// Val is the value of leaf entry i.
func (n *Node) Val(i int) []byte {
	if n.ov != nil {
		_, v := n.Entry(i)
		return v
	}
	o := n.off(i)
	s := o + 4 + int(le32(n.b[o:]))
	e := n.off(i + 1)
	return n.b[s:e:e]
}

// Entry is Key(i) and Val(i) of a leaf, reading the entry's bounds once.
func (n *Node) Entry(i int) (key, val []byte) {
	if n.ov != nil {
		j, b := n.resolve(i)
		if j >= 0 {
			return n.ov.key(j), n.ov.val(j)
		}
		i = b
	}
	return n.baseEntry(i)
}

// baseEntry is entry i of the base buffer, ignoring any overlay.
func (n *Node) baseEntry(i int) (key, val []byte) {
	s := n.tab + slotBytes*i
	o, e := int(le32(n.b[s:])), int(le32(n.b[s+slotBytes:]))
	k := o + 4 + int(le32(n.b[o:]))
	return n.b[o+4 : k : k], n.b[k:e:e]
}

// Each calls fn with every entry of leaf n in key order, in one pass over
// the base and the overlay (Entry(i) for every i would walk the overlay
// once per entry).
func (n *Node) Each(fn func(key, val []byte)) {
	var c Cursor
	for range n.Len() {
		fn(n.Step(&c))
	}
}

// Kid is the child of index entry i.
func (n *Node) Kid(i int) PageID {
	e := n.off(i + 1)
	return PageID(le64(n.b[e-indexTailBytes:]))
}

// Marked reports whether entry i of an index node is marked for merge.
func (n *Node) Marked(i int) bool {
	if n.flags&flagMark == 0 {
		return false
	}
	return n.b[n.off(i+1)-1] != 0
}

// entrySize is the bytes of entry i, its offset slot included.
func (n *Node) entrySize(i int) int { return n.off(i+1) - n.off(i) + slotBytes }

// Covers reports whether key lies in [Lo, Hi).
func (n *Node) Covers(key []byte) bool {
	return bytes.Compare(key, n.Lo()) >= 0 && !n.BeyondHi(key)
}

// BeyondHi reports whether key >= Hi, i.e. a search for key must move right.
func (n *Node) BeyondHi(key []byte) bool {
	return n.flags&flagHi != 0 && bytes.Compare(key, n.b[n.loEnd:n.hiEnd]) >= 0
}

// Search returns the position of key: the index of the first key >= key,
// and whether it is equal.
func (n *Node) Search(key []byte) (int, bool) {
	if n.ov != nil {
		return n.ovSearch(key)
	}
	return n.searchFrom(0, key)
}

// searchFrom is Search among the entries at or after from of the base
// buffer, ignoring any overlay. It binary searches the table's heads
// (layout.go) and reads an entry only to break a tie of heads.
func (n *Node) searchFrom(from int, key []byte) (int, bool) {
	if n.count == 0 {
		return 0, false
	}
	b, tab, pfx := n.b, n.tab, n.pfx
	if pfx > 0 {
		// Every key starts with the first key's pfx bytes: a key that does
		// not is below or above them all.
		o := n.off(0) + 4
		p := b[o : o+pfx]
		if len(key) < pfx || !bytes.Equal(key[:pfx], p) {
			if bytes.Compare(key, p) < 0 {
				return from, false
			}
			return n.count, false
		}
	}
	kh := head(key[pfx:])
	lo, hi := from, n.count
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		s := tab + slotBytes*m
		h := be32(b[s+4:])
		if h < kh {
			lo = m + 1
			continue
		}
		if h > kh {
			hi = m
			continue
		}
		o := int(le32(b[s:]))
		k := b[o+4 : o+4+int(le32(b[o:]))]
		if bytes.Compare(k, key) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < n.count && be32(b[tab+slotBytes*lo+4:]) == kh && bytes.Equal(n.baseKey(lo), key)
}

// ChildIndex returns the index of the child of an index node that routes key:
// the greatest i with Key(i) <= key (0 if key precedes every key).
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
// key: the greatest i with Key(i) < key (0 if none).
func (n *Node) ChildBefore(key []byte) int {
	i, _ := n.Search(key)
	if i == 0 {
		return 0
	}
	return i - 1
}

// ChildHi returns the exclusive upper bound of the range routed to Kid(i).
func (n *Node) ChildHi(i int) []byte {
	if i+1 < n.count {
		return n.Key(i + 1)
	}
	return n.Hi()
}

// Keys returns the keys (aliasing the node) in a new slice: for checks and
// tests, not for hot paths.
func (n *Node) Keys() [][]byte {
	out := make([][]byte, n.Len())
	for i := range out {
		out[i] = n.Key(i)
	}
	return out
}

// Vals returns the values of a leaf as Keys does.
func (n *Node) Vals() [][]byte {
	out := make([][]byte, n.Len())
	for i := range out {
		out[i] = n.Val(i)
	}
	return out
}

// Kids returns the children of an index node in a new slice (nil for a
// leaf).
func (n *Node) Kids() []PageID {
	if n.IsLeaf() {
		return nil
	}
	out := make([]PageID, n.count)
	for i := range out {
		out[i] = n.Kid(i)
	}
	return out
}

// Marks returns the marks of an index node in a new slice, nil when no entry
// is marked.
func (n *Node) Marks() []bool {
	if !n.HasMark() {
		return nil
	}
	out := make([]bool, n.count)
	for i := range out {
		out[i] = n.Marked(i)
	}
	return out
}

// NewLeaf returns a leaf over [lo, hi) holding the given sorted entries. The
// bytes are copied; nothing passed in is retained.
func NewLeaf(lo, hi []byte, next PageID, keys, vals [][]byte) *Node {
	data := 0
	for i, k := range keys {
		data += leafEntryBytes(len(k), len(vals[i]))
	}
	w := newBuilder(0, 0, next, lo, hi, len(keys), data)
	for i, k := range keys {
		w.addLeaf(k, vals[i])
	}
	return w.finish()
}

// NewIndex returns an index node at level (>= 1) over [lo, hi). mark may be
// nil; an all-false mark is the same as nil. Nothing passed in is retained.
func NewIndex(level uint8, lo, hi []byte, next PageID, keys [][]byte, kids []PageID, mark []bool) *Node {
	data := 0
	for _, k := range keys {
		data += indexEntryBytes(len(k))
	}
	w := newBuilder(level, 0, next, lo, hi, len(keys), data)
	for i, k := range keys {
		w.addIndex(k, kids[i], mark != nil && mark[i])
	}
	return w.finish()
}

// WithValue returns a copy of leaf n in which key has value val: replaced at
// position i when found, inserted at i otherwise.
func (n *Node) WithValue(i int, found bool, key, val []byte) *Node {
	if n.level == 0 {
		return n.Set(key, val)
	}
	data := n.dataBytes() + leafEntryBytes(len(key), len(val))
	count := n.count + 1
	skip := i
	if found {
		data -= n.entrySize(i)
		count--
		skip = i + 1
	}
	w := newBuilder(n.level, n.flags, n.next, n.Lo(), n.Hi(), count, data)
	w.copyEntries(n, 0, i)
	w.addLeaf(key, val)
	w.copyEntries(n, skip, n.count)
	return w.finish()
}

// Without returns a copy of n without entry i (a leaf entry or an index
// entry).
func (n *Node) Without(i int) *Node {
	if n.level == 0 {
		return n.Delete(n.Key(i))
	}
	w := newBuilder(n.level, n.flags, n.next, n.Lo(), n.Hi(), n.count-1, n.dataBytes()-n.entrySize(i))
	w.copyEntries(n, 0, i)
	w.copyEntries(n, i+1, n.count)
	return w.finish()
}

// WithChild returns a copy of index node n with a new entry key -> kid at
// its sorted position. The caller has checked that key is not present.
func (n *Node) WithChild(key []byte, kid PageID) *Node {
	i, _ := n.Search(key)
	w := newBuilder(n.level, n.flags, n.next, n.Lo(), n.Hi(), n.count+1, n.dataBytes()+indexEntryBytes(len(key)))
	w.copyEntries(n, 0, i)
	w.addIndex(key, kid, false)
	w.copyEntries(n, i, n.count)
	return w.finish()
}

// WithoutChild returns a copy of index node n without entry i.
func (n *Node) WithoutChild(i int) *Node { return n.Without(i) }

// WithMark returns a copy of index node n with entry i marked for merge.
func (n *Node) WithMark(i int) *Node {
	c := n.clone(n.flags | flagMark)
	c.b[c.off(i+1)-1] = 1
	return c
}

// WithFrozen returns a frozen copy of n.
func (n *Node) WithFrozen() *Node { return n.clone(n.flags | flagFrozen) }

// Thawed returns n if it is not frozen, else an unfrozen copy.
func (n *Node) Thawed() *Node {
	if !n.Frozen() {
		return n.OnHeap() // never share a slot with another page's state
	}
	return n.clone(n.flags &^ flagFrozen)
}

// SameLinks reports whether n and o have the same right sibling and, for
// index nodes, the same children in order.
func (n *Node) SameLinks(o *Node) bool {
	if n.next != o.next || n.IsLeaf() != o.IsLeaf() {
		return false
	}
	if n.IsLeaf() {
		return true
	}
	if n.count != o.count {
		return false
	}
	for i := range n.count {
		if n.Kid(i) != o.Kid(i) {
			return false
		}
	}
	return true
}

// clone copies n's buffer with the given flags.
func (n *Node) clone(flags uint8) *Node {
	b := make([]byte, len(n.b))
	copy(b, n.b)
	b[hdrFlags] = flags
	c := *n
	c.b, c.flags, c.slot = b, flags, false
	return &c
}

// SplitPoint chooses where to split n: the index of the first entry of the
// right half. It never returns 0 or Len(). For index nodes it never makes a
// marked entry the first of the right half (a marked entry stays under the
// same parent as its left neighbour; tree invariant I7). It returns -1 when
// no valid split point exists.
func (n *Node) SplitPoint() int {
	n = n.Flat()
	if n.count < 2 {
		return -1
	}
	at := n.count / 2
	if n.IsLeaf() {
		// Split by bytes so that a few large values do not leave one half
		// huge: the split whose left part is closest to half the entry
		// bytes (on a tie, the smaller left part).
		base, total := n.off(0), n.off(n.count)-n.off(0)
		lo, hi := 1, n.count
		for lo < hi { // the first m whose left part reaches half
			m := int(uint(lo+hi) >> 1)
			if 2*(n.off(m)-base) < total {
				lo = m + 1
			} else {
				hi = m
			}
		}
		at = lo
		if below := at - 1; below >= 1 && total-2*(n.off(below)-base) <= 2*(n.off(at)-base)-total {
			at = below
		}
	}
	if at <= 0 {
		at = 1
	}
	if at >= n.count {
		at = n.count - 1
	}
	for at < n.count && n.Marked(at) {
		at++
	}
	if at >= n.count {
		for at = n.count / 2; at > 0 && n.Marked(at); at-- {
		}
		if at == 0 {
			return -1
		}
	}
	return at
}

// Split returns the two halves of n split at index at: left keeps n's Lo and
// gets Hi = Key(at) and Next = rightID; right gets [Key(at), n.Hi) and n's
// Next.
func (n *Node) Split(at int, rightID PageID) (left, right *Node) {
	n = n.Flat()
	sep := n.Key(at)
	split := n.off(at)
	rw := newBuilder(n.level, n.flags&^flagFrozen, n.next, sep, n.Hi(), n.count-at, n.off(n.count)-split+slotBytes*(n.count-at))
	rw.copyEntries(n, at, n.count)
	return n.left(at, sep, rightID), rw.finish()
}

// left returns the entries of flat n before index at, over [Lo, sep), with
// Next = rightID: the left half of a split at sep.
func (n *Node) left(at int, sep []byte, rightID PageID) *Node {
	lw := newBuilder(n.level, n.flags&^flagFrozen, rightID, n.Lo(), sep, at, n.off(at)-n.off(0)+slotBytes*at)
	lw.copyEntries(n, 0, at)
	return lw.finish()
}

// Truncate returns the left half of a split of n at sep: the entries below
// sep, over [Lo, sep), with Next = rightID. Unlike Split, sep need not be a
// key of n: an append split puts sep above every key, and the left half
// keeps all of them (DeltaSplit). A split read back from disk has passed
// Delta.Check first.
func (n *Node) Truncate(sep []byte, rightID PageID) *Node {
	n = n.Flat()
	at, _ := n.Search(sep)
	return n.left(at, sep, rightID)
}

// Absorb returns the merge of n with its right sibling r (n.Next names r and
// n.Hi == r.Lo): the union of their entries over [n.Lo, r.Hi) with r's Next.
func (n *Node) Absorb(r *Node) *Node {
	n, r = n.Flat(), r.Flat()
	flags := (n.flags|r.flags)&flagMark | r.flags&flagHi
	w := newBuilder(n.level, flags, r.next, n.Lo(), r.Hi(), n.count+r.count, n.dataBytes()+r.dataBytes())
	w.copyEntries(n, 0, n.count)
	w.copyEntries(r, 0, r.count)
	return w.finish()
}

// Grow returns the node that replaces a full root: an index node one level
// up over the whole key space with the two halves as children.
func Grow(level uint8, leftID PageID, sep []byte, rightID PageID) *Node {
	return NewIndex(level+1, []byte{}, nil, 0, [][]byte{{}, sep}, []PageID{leftID, rightID}, nil)
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
	// DeltaSplit makes a node the left half of a split at Key: the entries
	// at or above Key leave, Hi becomes Key and Next becomes Kid, the page
	// that now holds [Key, old Hi). Leaves and index nodes.
	DeltaSplit
	// DeltaChild adds the entry Key -> Kid to an index node: the separator
	// of a split, posted to the parent.
	DeltaChild
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
	Kid   PageID  // DeltaSplit (the right half) and DeltaChild (the child)
}

// Structural reports whether d changes a node's range or links (DeltaSplit,
// DeltaChild) rather than a leaf's entries.
func (d Delta) Structural() bool { return d.Kind == DeltaSplit || d.Kind == DeltaChild }

// Check reports why d, read back from disk, cannot be applied to n, or nil:
// writes of entries apply to leaves with keys inside n's range, a split to
// any node at a key strictly inside its range, a child entry to an index
// node at a new key strictly inside its range; nothing to a frozen node.
// Apply panics on nothing, but a delta that fails Check would build a node
// that breaks the tree's invariants, so a page-in reports it as corruption
// instead.
func (d Delta) Check(n *Node) error {
	inside := func(k []byte) bool { return bytes.Compare(k, n.Lo()) > 0 && !n.BeyondHi(k) }
	if n.Frozen() {
		// A freeze is logged as an image, and nothing changes a frozen
		// node again but the free of its page (tree I6).
		return fmt.Errorf("delta kind %d on a frozen node", d.Kind)
	}
	switch d.Kind {
	case DeltaSet, DeltaDel:
		if !n.IsLeaf() || !n.Covers(d.Key) {
			return fmt.Errorf("write of key %q outside the leaf or on an index node", d.Key)
		}
	case DeltaBatch:
		for _, op := range d.Ops {
			if err := op.Check(n); err != nil {
				return err
			}
		}
	case DeltaSplit:
		if d.Kid == 0 || !inside(d.Key) {
			return fmt.Errorf("split at %q to page %d outside the node's range", d.Key, d.Kid)
		}
	case DeltaChild:
		if _, found := n.Search(d.Key); n.IsLeaf() || d.Kid == 0 || found || !inside(d.Key) {
			return fmt.Errorf("child %q -> %d on a leaf, present, or outside the range", d.Key, d.Kid)
		}
	default:
		return fmt.Errorf("delta kind %d is not a fragment", d.Kind)
	}
	return nil
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
	case DeltaSplit:
		return n.Truncate(d.Key, d.Kid)
	case DeltaChild:
		return n.WithChild(d.Key, d.Kid)
	default:
		return d.Image
	}
}

// WithOps returns a copy of leaf n with ops applied: each a DeltaSet or a
// DeltaDel, keys strictly increasing: merged into the overlay, or, when
// they outgrow it, one build of the flat node that copies runs of untouched
// entries whole (leafWithOps, Flat).
func (n *Node) WithOps(ops []Delta) *Node { return n.leafWithOps(ops) }
