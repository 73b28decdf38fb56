package node

// The layout of a node's buffer. All integers are little endian; nothing in
// it is a pointer, so the garbage collector never scans a node's entries, and
// copying a node is one allocation and memmoves of whole runs of entries.
//
//	0   version  u8   layoutVersion
//	1   level    u8   0 for leaves
//	2   flags    u8   flagFrozen | flagHi | flagMark
//	3   zero     u8
//	4   count    u32  entries
//	8   next     u64  right sibling
//	16  loLen    u32
//	20  hiLen    u32  0 unless flagHi
//	24  pfxLen   u32  the bytes every key shares: lcp(first key, last key)
//	28  lo, hi
//	tab count+1 slots of 8 bytes: offset u32 (little endian), head u32 (big
//	    endian): entry i is b[off(i):off(i+1)], off(count) == len(b); the
//	    head of entry i is the 4 key bytes after the shared prefix, zero
//	    padded (0 in the last slot). A search compares heads in the table
//	    and reads an entry only when heads are equal: one cache line per
//	    probe instead of two, and prefix-sharing keys still differ in it.
//	    entries, in key order, each
//	      leaf:  keyLen u32, key, value (the rest of the entry)
//	      index: keyLen u32, key, kid u64, mark u8 (0 or 1)
//
// Invariants of a well-formed buffer (FromBytes checks them all; every
// constructor keeps them):
//
//	N1. The offsets are increasing, the first right after the table, the
//	    last the buffer's end; every entry holds its key length and key (and
//	    for an index entry exactly kid and mark after the key).
//	N2. Keys are strictly increasing and lie in [Lo, Hi); Hi, when present,
//	    is not empty; an index node has at least one entry and nonzero kids.
//	N2a. pfxLen is the longest common prefix of the first and last keys (0
//	    without entries), and every head is derived from its key as above:
//	    a node's bytes are a function of its content.
//	N3. flagMark is set exactly when some index entry's mark is 1; a leaf has
//	    no flagMark; marks are 0 or 1.
//	N4. The buffer is never written after the node is built: nodes share
//	    nothing, and readers need no synchronization beyond the atomic load
//	    that gave them the node.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

const (
	layoutVersion = 1

	hdrVersion  = 0
	hdrLevel    = 1
	hdrFlags    = 2
	hdrCount    = 4
	hdrNext     = 8
	hdrLoLen    = 16
	hdrHiLen    = 20
	hdrPfx      = 24
	headerBytes = 28

	// slotBytes is one entry of the table: offset and head.
	slotBytes = 8

	flagFrozen = 1 << 0
	flagHi     = 1 << 1
	flagMark   = 1 << 2
	flagsKnown = flagFrozen | flagHi | flagMark

	// indexTailBytes follow the key of an index entry: kid and mark.
	indexTailBytes = 9

	// nodeStructBytes is the Go allocation of a Node (its size class): 112
	// bytes on 64-bit platforms, 64 on 32-bit ones (TestNodeStructBytes).
	nodeStructBytes = 64 + 48*int(^uint(0)>>63)

	// maxNodeBytes bounds a buffer so that u32 offsets cannot overflow.
	maxNodeBytes = 1<<32 - 1
)

func le32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }
func le64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }

func be32(b []byte) uint32 { return binary.BigEndian.Uint32(b) }

// head is the table's summary of a key suffix: its first 4 bytes, zero
// padded, as a big-endian number, so that heads order as keys do (ties
// need the keys).
func head(suffix []byte) uint32 {
	switch len(suffix) {
	case 0:
		return 0
	case 1:
		return uint32(suffix[0]) << 24
	case 2:
		return uint32(suffix[0])<<24 | uint32(suffix[1])<<16
	case 3:
		return uint32(suffix[0])<<24 | uint32(suffix[1])<<16 | uint32(suffix[2])<<8
	}
	return be32(suffix)
}

func lcp(a, b []byte) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

func leafEntryBytes(keyLen, valLen int) int { return slotBytes + 4 + keyLen + valLen }
func indexEntryBytes(keyLen int) int        { return slotBytes + 4 + keyLen + indexTailBytes }

// dataBytes is the bytes of n's entries and their table slots.
func (n *Node) dataBytes() int { return len(n.b) - n.tab - slotBytes }

// builder writes a node buffer of a size known in advance.
type builder struct {
	n    Node
	i    int       // entries written
	data int       // where the next entry goes
	trim bool      // the planned bytes are a bound: Finish cuts the buffer to data
	a    Allocator // b is its slot (n.slot): returned when the build fails
}

// newBuilder starts a node of count entries whose entries and offset slots
// take data bytes. flagHi is set from hi; flagMark is recomputed by finish.
func newBuilder(level, flags uint8, next PageID, lo, hi []byte, count, data int) *builder {
	return newBuilderIn(nil, level, flags, next, lo, hi, count, data)
}

// newBuilderIn is newBuilder with the buffer from a when a gives one. A
// slot's bytes are arbitrary, so the builder writes every byte of the
// node, zeros included.
func newBuilderIn(a Allocator, level, flags uint8, next PageID, lo, hi []byte, count, data int) *builder {
	flags &^= flagHi
	if hi != nil {
		flags |= flagHi
	}
	size := headerBytes + len(lo) + len(hi) + slotBytes + data
	var b []byte
	if a != nil {
		if b = a.Get(size); b == nil {
			a = nil
		}
	}
	if b == nil {
		b = make([]byte, size)
	}
	b[hdrVersion] = layoutVersion
	b[3] = 0
	b[hdrLevel] = level
	b[hdrFlags] = flags
	binary.LittleEndian.PutUint32(b[hdrCount:], uint32(count))
	binary.LittleEndian.PutUint64(b[hdrNext:], uint64(next))
	binary.LittleEndian.PutUint32(b[hdrLoLen:], uint32(len(lo)))
	binary.LittleEndian.PutUint32(b[hdrHiLen:], uint32(len(hi)))
	loEnd := headerBytes + copy(b[headerBytes:], lo)
	hiEnd := loEnd + copy(b[loEnd:], hi)
	w := &builder{n: Node{b: b, tab: hiEnd, count: count, loEnd: loEnd, hiEnd: hiEnd, next: next, level: level, flags: flags, slot: a != nil}, a: a}
	w.data = hiEnd + slotBytes*(count+1)
	return w
}

func (w *builder) slot() {
	binary.LittleEndian.PutUint32(w.n.b[w.n.tab+slotBytes*w.i:], uint32(w.data))
	w.i++
}

func (w *builder) addLeaf(k, v []byte) {
	w.slot()
	b := w.n.b[w.data:]
	binary.LittleEndian.PutUint32(b, uint32(len(k)))
	copy(b[4:], k)
	copy(b[4+len(k):], v)
	w.data += 4 + len(k) + len(v)
}

func (w *builder) addIndex(k []byte, kid PageID, mark bool) {
	w.slot()
	b := w.n.b[w.data:]
	binary.LittleEndian.PutUint32(b, uint32(len(k)))
	copy(b[4:], k)
	binary.LittleEndian.PutUint64(b[4+len(k):], uint64(kid))
	b[4+len(k)+8] = 0
	if mark {
		b[4+len(k)+8] = 1
		w.n.flags |= flagMark
	}
	w.data += 4 + len(k) + indexTailBytes
}

// copyEntries appends entries [i, j) of src: one memmove of their bytes and
// a pass over their offsets.
func (w *builder) copyEntries(src *Node, i, j int) {
	if i >= j {
		return
	}
	from, to := src.off(i), src.off(j)
	shift := w.data - from
	tab := w.n.b[w.n.tab+slotBytes*w.i:]
	stab := src.b[src.tab+slotBytes*i:]
	for k := 0; k < j-i; k++ {
		binary.LittleEndian.PutUint32(tab[slotBytes*k:], uint32(int(le32(stab[slotBytes*k:]))+shift))
	}
	w.i += j - i
	w.data += copy(w.n.b[w.data:], src.b[from:to])
}

// finish closes the offset table and fixes flagMark (N3).
func (w *builder) finish() *Node {
	n := &w.n
	if w.i != n.count || w.data != len(n.b) {
		panic(fmt.Sprintf("node: builder wrote %d entries in %d bytes, planned %d in %d", w.i, w.data, n.count, len(n.b)))
	}
	binary.LittleEndian.PutUint32(n.b[n.tab+slotBytes*n.count:], uint32(w.data))
	binary.BigEndian.PutUint32(n.b[n.tab+slotBytes*n.count+4:], 0) // the last slot's head
	n.setHeads()
	if n.flags&flagMark != 0 {
		marked := false
		for i := 0; i < n.count && !marked; i++ {
			marked = n.b[n.off(i+1)-1] != 0
		}
		if !marked {
			n.flags &^= flagMark
		}
	}
	n.b[hdrFlags] = n.flags
	c := *n
	return &c
}

// setHeads writes pfxLen and every head (N2a), once the entries are in.
func (n *Node) setHeads() {
	n.pfx = 0
	if n.count > 0 {
		n.pfx = lcp(n.Key(0), n.Key(n.count-1))
	}
	binary.LittleEndian.PutUint32(n.b[hdrPfx:], uint32(n.pfx))
	for i := range n.count {
		// Sorted keys all start with the first and last keys' common
		// prefix; a decoder's unsorted input (rejected right after, by
		// Builder.Finish) may not, and must not make this panic.
		k := n.Key(i)
		binary.BigEndian.PutUint32(n.b[n.tab+slotBytes*i+4:], head(k[min(n.pfx, len(k)):]))
	}
}

// Builder builds a node from its entries in key order, for decoders.
type Builder struct{ w *builder }

// NewBuilder starts a node at level with count entries whose keys take
// keyBytes and (leaves) whose values take valBytes in all. Nothing passed
// in is retained.
func NewBuilder(level uint8, frozen bool, next PageID, lo, hi []byte, count, keyBytes, valBytes int) *Builder {
	data := (slotBytes+4)*count + keyBytes + valBytes
	if level > 0 {
		data += indexTailBytes * count
	}
	var flags uint8
	if frozen {
		flags = flagFrozen
	}
	return &Builder{newBuilder(level, flags, next, lo, hi, count, data)}
}

// NewLeafBuilderUpTo starts a leaf of count entries whose keys and values
// take at most keyValBytes in all: Finish trims the buffer to what the
// entries took. A decoder that knows only a bound on the entries' sizes
// (from their encoded length) fills the node in one pass instead of two.
// Nothing passed in is retained.
func NewLeafBuilderUpTo(frozen bool, next PageID, lo, hi []byte, count, keyValBytes int) *Builder {
	return NewLeafBuilderUpToIn(nil, frozen, next, lo, hi, count, keyValBytes)
}

// NewLeafBuilderUpToIn is NewLeafBuilderUpTo with the buffer from a (when
// a gives one; the node's Slot). A build that fails or is abandoned gives
// it back.
func NewLeafBuilderUpToIn(a Allocator, frozen bool, next PageID, lo, hi []byte, count, keyValBytes int) *Builder {
	var flags uint8
	if frozen {
		flags = flagFrozen
	}
	w := newBuilderIn(a, 0, flags, next, lo, hi, count, (slotBytes+4)*count+keyValBytes)
	w.trim = true
	return &Builder{w}
}

// Leaf appends a leaf entry. It returns false, writing nothing, when the
// entry does not fit in what NewBuilder planned.
func (b *Builder) Leaf(k, v []byte) bool {
	w := b.w
	if w.n.level != 0 || w.i >= w.n.count || len(w.n.b)-w.data < 4+len(k)+len(v) {
		return false
	}
	w.addLeaf(k, v)
	return true
}

// Index appends an index entry, as Leaf does.
func (b *Builder) Index(k []byte, kid PageID, mark bool) bool {
	w := b.w
	if w.n.level == 0 || w.i >= w.n.count || len(w.n.b)-w.data < 4+len(k)+indexTailBytes {
		return false
	}
	w.addIndex(k, kid, mark)
	return true
}

// Finish returns the node after checking that every planned entry and byte
// was written and that N2 holds.
func (b *Builder) Finish() (*Node, error) {
	n, err := b.finish()
	if err != nil {
		b.Abandon()
	}
	return n, err
}

// Abandon gives the buffer of a build that will not be finished back to
// its Allocator. The builder must not be used afterwards.
func (b *Builder) Abandon() {
	if w := b.w; w != nil && w.a != nil {
		w.a.Put(w.n.b)
		w.a, w.n.b = nil, nil
	}
}

func (b *Builder) finish() (*Node, error) {
	w := b.w
	if w.trim && w.i == w.n.count {
		w.n.b = w.n.b[:w.data]
	}
	if uint64(len(w.n.b)) > maxNodeBytes {
		return nil, corruptf("%d bytes is over the largest node", len(w.n.b))
	}
	if w.i != w.n.count || w.data != len(w.n.b) {
		return nil, corruptf("%d of %d entries, %d of %d bytes written", w.i, w.n.count, w.data, len(w.n.b))
	}
	if w.n.level > 0 && w.n.count == 0 {
		return nil, corruptf("index node without entries")
	}
	n := w.finish()
	for i := 0; i < n.count && n.level > 0; i++ {
		if n.Kid(i) == 0 {
			return nil, corruptf("kid %d is page 0", i)
		}
	}
	if err := n.checkOrder(); err != nil {
		return nil, err
	}
	return n, nil
}

// ErrCorrupt is wrapped by FromBytes' errors.
var ErrCorrupt = errors.New("node: corrupt node")

func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// FromBytesIn returns the node held in src, in a copy of src that a
// gives (the node's Slot), or on the heap when a gives none; on an error
// the slot goes back to a. It never panics on bad input.
func FromBytesIn(a Allocator, src []byte) (*Node, error) {
	var b []byte
	if a != nil && len(src) > 0 && uint64(len(src)) <= maxNodeBytes {
		b = a.Get(len(src))
	}
	if b == nil {
		return FromBytes(append([]byte(nil), src...)) // not zeroed first
	}
	copy(b, src)
	n, err := FromBytes(b)
	if err != nil {
		a.Put(b)
		return nil, err
	}
	n.slot = true
	return n, nil
}

// FromBytes returns the node held in b after checking N1-N3; the node
// aliases b, which must not be modified afterwards. It never panics on bad
// input.
func FromBytes(b []byte) (*Node, error) {
	if len(b) < headerBytes+slotBytes {
		return nil, corruptf("%d bytes is shorter than a node header", len(b))
	}
	if uint64(len(b)) > maxNodeBytes {
		return nil, corruptf("%d bytes is over the largest node", len(b))
	}
	if b[hdrVersion] != layoutVersion {
		return nil, corruptf("layout version %d, want %d", b[hdrVersion], layoutVersion)
	}
	level, flags := b[hdrLevel], b[hdrFlags]
	if flags&^flagsKnown != 0 || b[3] != 0 {
		return nil, corruptf("unknown flags %#x %#x", flags, b[3])
	}
	if level == 0 && flags&flagMark != 0 {
		return nil, corruptf("leaf with marks")
	}
	count := uint64(le32(b[hdrCount:]))
	loLen, hiLen := uint64(le32(b[hdrLoLen:])), uint64(le32(b[hdrHiLen:]))
	if flags&flagHi == 0 && hiLen != 0 {
		return nil, corruptf("hi bytes without hi")
	}
	if flags&flagHi != 0 && hiLen == 0 {
		return nil, corruptf("empty hi")
	}
	tab := headerBytes + loLen + hiLen
	if tab+slotBytes*(count+1) > uint64(len(b)) {
		return nil, corruptf("%d entries, lo %d and hi %d bytes do not fit in %d bytes", count, loLen, hiLen, len(b))
	}
	if level > 0 && count == 0 {
		return nil, corruptf("index node without entries")
	}
	n := &Node{b: b, tab: int(tab), count: int(count), loEnd: headerBytes + int(loLen), hiEnd: int(tab),
		next: PageID(le64(b[hdrNext:])), level: level, flags: flags}
	prev := n.tab + slotBytes*(n.count+1)
	if n.off(0) != prev || n.off(n.count) != len(b) {
		return nil, corruptf("offset table does not span the entries")
	}
	marked := false
	for i := 0; i < n.count; i++ {
		o, e := n.off(i), n.off(i+1)
		if e < o+4 || e > len(b) {
			return nil, corruptf("entry %d spans [%d, %d)", i, o, e)
		}
		// int64: on 32-bit platforms int(a u32) may be negative.
		kl := int64(le32(b[o:]))
		tail := 0
		if level > 0 {
			tail = indexTailBytes
		}
		if room := int64(e - o - 4 - tail); kl > room || (level > 0 && kl != room) {
			return nil, corruptf("entry %d: key of %d bytes in %d", i, kl, e-o)
		}
		if level > 0 {
			if n.Kid(i) == 0 {
				return nil, corruptf("kid %d is page 0", i)
			}
			switch b[e-1] {
			case 0:
			case 1:
				marked = true
			default:
				return nil, corruptf("mark %d is %d", i, b[e-1])
			}
		}
	}
	if marked != (flags&flagMark != 0) {
		return nil, corruptf("mark flag %v, marks %v", flags&flagMark != 0, marked)
	}
	if err := n.checkOrder(); err != nil {
		return nil, err
	}
	if err := n.checkHeads(); err != nil {
		return nil, err
	}
	return n, nil
}

// checkHeads checks N2a, once the entries are known to be well formed.
func (n *Node) checkHeads() error {
	pfx := uint64(le32(n.b[hdrPfx:]))
	want := 0
	if n.count > 0 {
		want = lcp(n.Key(0), n.Key(n.count-1))
	}
	if pfx != uint64(want) {
		return corruptf("prefix length %d, the keys share %d", pfx, want)
	}
	n.pfx = want
	for i := range n.count {
		if h := be32(n.b[n.tab+slotBytes*i+4:]); h != head(n.Key(i)[want:]) {
			return corruptf("head %d is %#x, its key says %#x", i, h, head(n.Key(i)[want:]))
		}
	}
	if be32(n.b[n.tab+slotBytes*n.count+4:]) != 0 {
		return corruptf("the last table slot has a head")
	}
	return nil
}

// checkOrder checks N2's key order.
func (n *Node) checkOrder() error {
	lo, hi := n.Lo(), n.Hi()
	if hi != nil && len(hi) == 0 {
		return corruptf("empty hi")
	}
	for i := 0; i < n.count; i++ {
		k := n.Key(i)
		if i == 0 {
			if bytes.Compare(k, lo) < 0 {
				return corruptf("key 0 %q below lo %q", k, lo)
			}
		} else if bytes.Compare(n.Key(i-1), k) >= 0 {
			return corruptf("keys %d and %d out of order", i-1, i)
		}
	}
	if hi != nil && n.count > 0 && bytes.Compare(n.Key(n.count-1), hi) >= 0 {
		return corruptf("last key %q not below hi %q", n.Key(n.count-1), hi)
	}
	return nil
}

// sizeClasses are the Go allocator's small object sizes (runtime/sizeclasses.go).
var sizeClasses = [...]int{8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256,
	288, 320, 352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280, 1408, 1536, 1792,
	2048, 2304, 2688, 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528, 6784, 6912, 8192, 9472, 9728, 10240,
	10880, 12288, 13568, 14336, 16384, 18432, 19072, 20480, 21760, 24576, 27264, 28672, 32768}

// allocBytes is the memory the Go allocator uses for an n-byte allocation:
// its size class, or whole 8 KiB pages for large objects.
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

// AllocBytes is allocBytes for other packages' accounting.
func AllocBytes(n int) int { return allocBytes(n) }
