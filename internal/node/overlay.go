package node

// A leaf's write buffer. A write used to copy its whole leaf (a memmove of
// a few KiB, and as much garbage): the largest cost of the write path. A
// leaf now keeps its last flat buffer (the base, layout.go) and a small
// sorted overlay of the writes since, and folds the overlay into a new base
// (Flat) only when it reaches maxOverlayEntries or outgrows a quarter of the
// base's bytes. A write copies the overlay, not the leaf: about a tenth of
// the bytes for 64 entries of 100 bytes, and the same amortized fold.
//
// Every accessor shows the merged view: the base with the overlay applied.
// Invariants, besides N1-N4 of the base:
//
//	N5. Only leaves have an overlay, and an overlay has at least one entry.
//	    Its entries are strictly increasing by key and lie in [Lo, Hi); each
//	    is a put of a value or a delete. pos is the base's Search of the key
//	    and inBase whether the base holds it: a put with inBase replaces the
//	    base's entry at pos, one without inserts before it, and a delete
//	    always has inBase (deleting a key only the overlay held drops the
//	    overlay entry instead).
//	N6. count is the number of entries in the merged view; the merged view
//	    is strictly sorted (it is a merge of two sorted lists in which each
//	    key appears once).
//	N7. An overlay is never written after its node is built (N4 for the
//	    overlay): successive versions of a leaf share its base, and a node
//	    shares its overlay with its frozen and thawed copies.

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/sledgo/sled/internal/invariants"
)

const (
	// maxOverlayEntries bounds an overlay; the next write folds it. With a
	// leaf of E entries of s bytes, a write copies about k*s/2 overlay
	// bytes and, once per k writes, the leaf's E*s: k near sqrt(2E) keeps
	// the sum smallest (11 for the default 64 entries).
	maxOverlayEntries = 12

	// The layout of an overlay: one pointer-free buffer, so that a read
	// of an overlaid leaf touches one more allocation, not three (a Get
	// over a data set far larger than the CPU caches pays a cache miss per
	// allocation it touches). Integers little endian.
	//
	//	0   count  u32  entries of the merged view
	//	4   n      u32  overlay entries
	//	8   pfx    u32  the bytes every overlay key shares: lcp(first, last)
	//	12  zero   u32
	//	16  n heads, u64 each, in key order: the 8 key bytes after pfx,
	//	    zero padded, big endian: heads order as keys do (ties need the
	//	    keys). Together, right after the header, so that a search for
	//	    a key the overlay lacks (most reads) reads two cache lines.
	//	    n slots of ovSlotBytes, in key order:
	//	      0  off    u32  the key at off (from the buffer's start)
	//	      4  klen   u32
	//	      8  vlen   u32  the value right after the key
	//	      12 pos    u32  the base's Search of the key
	//	      16 flags  u8   ovDel | ovInBase
	//	then the keys and values (and those of entries replaced since).
	ovHeaderBytes = 16
	ovHeadBytes   = 8
	ovSlotBytes   = 24
	ovDel         = 1 << 0
	ovInBase      = 1 << 1
)

// ovEnt is one overlay slot, decoded.
type ovEnt struct {
	head   uint64
	off    uint32
	klen   uint32
	vlen   uint32
	pos    uint32
	del    bool
	inBase bool
}

// overlay is a leaf's writes since its base was built (N5-N7), in the
// layout above; nil for a flat node.
type overlay []byte

func (o overlay) count() int { return int(le32(o[0:])) }
func (o overlay) n() int     { return int(le32(o[4:])) }
func (o overlay) pfx() int   { return int(le32(o[8:])) }

// tableBytes is the header, heads and slots of an overlay of n entries:
// where its keys and values start.
func tableBytes(n int) int { return ovHeaderBytes + (ovHeadBytes+ovSlotBytes)*n }

func (o overlay) slot(j int) []byte {
	return o[ovHeaderBytes+ovHeadBytes*o.n()+ovSlotBytes*j:]
}

func (o overlay) head(j int) uint64 { return le64(o[ovHeaderBytes+ovHeadBytes*j:]) }

func (o overlay) ent(j int) ovEnt {
	s := o.slot(j)
	return ovEnt{head: o.head(j), off: le32(s), klen: le32(s[4:]), vlen: le32(s[8:]), pos: le32(s[12:]),
		del: s[16]&ovDel != 0, inBase: s[16]&ovInBase != 0}
}

func (o overlay) pos(j int) int  { return int(le32(o.slot(j)[12:])) }
func (o overlay) del(j int) bool { return o.slot(j)[16]&ovDel != 0 }

func (o overlay) key(j int) []byte {
	s := o.slot(j)
	off := le32(s)
	end := off + le32(s[4:])
	return o[off:end:end]
}

func (o overlay) val(j int) []byte {
	s := o.slot(j)
	st := le32(s) + le32(s[4:])
	end := st + le32(s[8:])
	return o[st:end:end]
}

// dataBytes is the bytes of keys and values the overlay holds.
func (o overlay) dataBytes() int { return len(o) - tableBytes(o.n()) }

// head8 is the first 8 bytes of s, zero padded, as a big-endian number.
func head8(s []byte) uint64 {
	if len(s) >= 8 {
		return binary.BigEndian.Uint64(s)
	}
	var b [8]byte
	copy(b[:], s)
	return binary.BigEndian.Uint64(b[:])
}

// find returns the index of the first entry whose key is >= key, and
// whether it is key. It compares heads, and reads a key only on a tie.
func (o overlay) find(key []byte) (int, bool) {
	n, pfx := o.n(), o.pfx()
	if pfx > 0 {
		// Every key starts with the first key's pfx bytes: a key that
		// does not is below or above them all.
		p := o.key(0)[:pfx]
		if len(key) < pfx || !bytes.Equal(key[:pfx], p) {
			if bytes.Compare(key, p) < 0 {
				return 0, false
			}
			return n, false
		}
	}
	kh := head8(key[pfx:])
	lo, hi := 0, n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		h := o.head(m)
		if h < kh || (h == kh && bytes.Compare(o.key(m), key) < 0) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < n && o.head(lo) == kh && bytes.Equal(o.key(lo), key)
}

// shift is how far the entries before j move the base's entries after
// them: +1 per inserting put, -1 per delete.
func (o overlay) shift(j int) int {
	s := 0
	for k := range j {
		switch f := o.slot(k)[16]; {
		case f&ovDel != 0:
			s--
		case f&ovInBase == 0:
			s++
		}
	}
	return s
}

// memBytes is what the overlay holds, in allocator size classes.
func (o overlay) memBytes() int { return allocBytes(cap(o)) }

// ovExtra marks, in an ovEnt handed to buildOverlay, an offset into the
// bytes of its extra arguments (concatenated) instead of into src.
const ovExtra = 1 << 31

// buildOverlay encodes entries ents (sorted; their off fields index src,
// or with ovExtra the concatenation of extra) into a new overlay whose data
// region holds src's bytes from dataFrom on and then extra's. It sets pfx
// and heads.
func buildOverlay(count int, ents []ovEnt, src []byte, dataFrom int, extra ...[]byte) overlay {
	table := tableBytes(len(ents))
	size := table
	if src != nil {
		size += len(src) - dataFrom
	}
	for _, x := range extra {
		size += len(x)
	}
	o := make(overlay, size)
	binary.LittleEndian.PutUint32(o[0:], uint32(count))
	binary.LittleEndian.PutUint32(o[4:], uint32(len(ents)))
	d := table
	if src != nil {
		d += copy(o[table:], src[dataFrom:])
	}
	xoff := d
	for _, x := range extra {
		d += copy(o[d:], x)
	}
	for j := range ents {
		e := &ents[j]
		if e.off&ovExtra != 0 {
			e.off = e.off&^ovExtra + uint32(xoff)
		} else {
			e.off = e.off - uint32(dataFrom) + uint32(table)
		}
		s := o.slot(j)
		binary.LittleEndian.PutUint32(s, e.off)
		binary.LittleEndian.PutUint32(s[4:], e.klen)
		binary.LittleEndian.PutUint32(s[8:], e.vlen)
		binary.LittleEndian.PutUint32(s[12:], e.pos)
		var f byte
		if e.del {
			f |= ovDel
		}
		if e.inBase {
			f |= ovInBase
		}
		s[16] = f
	}
	pfx := lcp(o.key(0), o.key(len(ents)-1))
	binary.LittleEndian.PutUint32(o[8:], uint32(pfx))
	for j := range ents {
		binary.LittleEndian.PutUint64(o[ovHeaderBytes+ovHeadBytes*j:], head8(o.key(j)[pfx:]))
	}
	return o
}

// resolve maps entry i of the merged view to the overlay entry (j >= 0) or
// the base entry (b >= 0) that holds it.
func (n *Node) resolve(i int) (j, b int) {
	shift := 0
	o := n.ov
	for k := range o.n() {
		sl := o.slot(k)
		at := int(le32(sl[12:])) + shift
		if i < at {
			return -1, i - shift
		}
		switch f := sl[16]; {
		case f&ovDel != 0:
			shift--
		case i == at:
			return k, -1
		case f&ovInBase == 0:
			shift++
		}
	}
	return -1, i - shift
}

// ovSearch is Search over the merged view.
func (n *Node) ovSearch(key []byte) (int, bool) {
	o := n.ov
	j, found := o.find(key)
	shift := o.shift(j)
	if found {
		return o.pos(j) + shift, !o.del(j)
	}
	b, fb := n.searchFrom(0, key)
	return b + shift, fb
}

// Get returns the value of key in leaf n, if present: the overlay's entry
// for key if it has one (a put's value, or absent for a delete), else the
// base's. No index into the merged view is computed.
func (n *Node) Get(key []byte) ([]byte, bool) {
	if o := n.ov; o != nil {
		if j, found := o.find(key); found {
			if o.del(j) {
				return nil, false
			}
			return o.val(j), true
		}
	}
	i, found := n.searchFrom(0, key)
	if !found {
		return nil, false
	}
	_, v := n.baseEntry(i)
	return v, true
}

// Set returns a copy of leaf n in which key has value val (WithValue
// without the position: a leaf's write goes to its overlay).
func (n *Node) Set(key, val []byte) *Node {
	return n.leafWithOps([]Delta{{Kind: DeltaSet, Key: key, Val: val}})
}

// Delete returns a copy of leaf n without key; n itself when key is absent.
func (n *Node) Delete(key []byte) *Node {
	return n.leafWithOps([]Delta{{Kind: DeltaDel, Key: key}})
}

// leafWithOps returns leaf n with ops (DeltaSet and DeltaDel, keys strictly
// increasing, in [Lo, Hi)) applied as one new overlay merged with n's; when
// that overlay would outgrow its bounds, the folded node instead (one build
// that includes the ops). n itself when the ops change nothing. A write, a
// page-in with a few fragments and a batch's writes to a leaf so cost an
// overlay, not a copy of the leaf.
func (n *Node) leafWithOps(ops []Delta) *Node {
	o := n.ov
	count, nents := n.count, 0
	if o != nil {
		count, nents = o.count(), o.n()
	}
	var buf [maxOverlayEntries + 1]ovEnt // the new slots, on the stack unless a big batch
	ents := buf[:0]
	var xbuf [2 * (maxOverlayEntries + 1)][]byte
	extra := xbuf[:0] // the ops' keys and values
	xlen := uint32(0)
	changed := false
	i := 0
	for _, op := range ops {
		for ; i < nents && bytes.Compare(o.key(i), op.Key) < 0; i++ {
			ents = append(ents, o.ent(i))
		}
		var pos int
		var inBase, present bool
		if i < nents && bytes.Equal(o.key(i), op.Key) {
			e := o.ent(i)
			i++
			pos, inBase, present = int(e.pos), e.inBase, !e.del
			if op.Kind == DeltaDel && !present {
				ents = append(ents, e) // already deleted: keep the delete
				continue
			}
		} else {
			pos, inBase = n.searchFrom(0, op.Key)
			present = inBase
		}
		e := ovEnt{off: ovExtra | xlen, klen: uint32(len(op.Key)), pos: uint32(pos), inBase: inBase}
		switch {
		case op.Kind == DeltaDel && !present:
			continue // nothing to delete
		case op.Kind == DeltaDel && !inBase:
			count-- // only the overlay held it: no entry (N5)
			changed = true
			continue
		case op.Kind == DeltaDel:
			count--
			e.del = true
			extra = append(extra, op.Key)
		default:
			if !present {
				count++
			}
			e.vlen = uint32(len(op.Val))
			extra = append(extra, op.Key, op.Val)
		}
		xlen += e.klen + e.vlen
		ents = append(ents, e)
		changed = true
	}
	for ; i < nents; i++ {
		ents = append(ents, o.ent(i))
	}
	switch {
	case !changed:
		return n
	case len(ents) == 0:
		c := *n
		c.ov = nil
		return &c
	}
	dataFrom, dataBytes := tableBytes(nents), 0
	if o != nil {
		dataBytes = o.dataBytes()
	}
	ov := buildOverlay(count, ents, o, dataFrom, extra...)
	if len(ents) > maxOverlayEntries || 4*(dataBytes+int(xlen)) > n.dataBytes() {
		c := *n
		c.ov = ov
		return c.Flat()
	}
	return n.withOverlay(ov)
}

// withOverlay returns n's base with overlay o.
func (n *Node) withOverlay(o overlay) *Node {
	c := *n
	c.ov = o
	if invariants.Enabled {
		if err := c.checkOverlay(); err != nil {
			invariants.Failf("N5", "%v", err)
		}
	}
	return &c
}

// Flat returns n with its overlay folded into one flat buffer: n itself
// when it has none.
func (n *Node) Flat() *Node {
	o := n.ov
	if o == nil {
		return n
	}
	data := n.dataBytes()
	for j := range o.n() {
		e := o.ent(j)
		if e.inBase {
			data -= n.entrySize(int(e.pos))
		}
		if !e.del {
			data += leafEntryBytes(int(e.klen), int(e.vlen))
		}
	}
	w := newBuilder(n.level, n.flags, n.next, n.Lo(), n.Hi(), o.count(), data)
	b := 0
	for j := range o.n() {
		e := o.ent(j)
		w.copyEntries(n, b, int(e.pos))
		b = int(e.pos)
		if e.inBase {
			b++
		}
		if !e.del {
			w.addLeaf(o.key(j), o.val(j))
		}
	}
	w.copyEntries(n, b, n.count)
	return w.finish()
}

// Cursor is a position in a leaf's merged view for reading its entries in
// order (Next), one step each instead of a walk of the overlay per entry
// (Entry). For a flat leaf it is the entry index.
type Cursor struct{ b, j int } // the next base entry and overlay slot

// CursorAt returns the cursor whose Step reads entry i (0 <= i < Len).
func (n *Node) CursorAt(i int) Cursor {
	if n.ov == nil {
		return Cursor{b: i}
	}
	j, b := n.resolve(i)
	if j >= 0 {
		return Cursor{b: n.ov.pos(j), j: j}
	}
	o := n.ov
	k := 0
	for k < o.n() && o.pos(k) <= b {
		k++
	}
	return Cursor{b: b, j: k}
}

// Step returns the entry at c and moves c to the next one. The caller
// keeps c within Len entries.
func (n *Node) Step(c *Cursor) (key, val []byte) {
	o := n.ov
	if o == nil {
		c.b++
		return n.baseEntry(c.b - 1)
	}
	for c.j < o.n() && o.pos(c.j) == c.b && o.del(c.j) {
		c.b++ // a delete hides the base entry at its position
		c.j++
	}
	if c.j < o.n() && o.pos(c.j) == c.b {
		key, val = o.key(c.j), o.val(c.j)
		if o.slot(c.j)[16]&ovInBase != 0 {
			c.b++ // replaced
		}
		c.j++
		return key, val
	}
	c.b++
	return n.baseEntry(c.b - 1)
}

// Overlaid reports whether n has an overlay (for tests and statistics).
func (n *Node) Overlaid() bool { return n.ov != nil }

// checkOverlay checks N5 and N6.
func (n *Node) checkOverlay() error {
	o := n.ov
	if o == nil {
		return nil
	}
	if len(o) < ovHeaderBytes || n.level != 0 || o.n() == 0 || len(o) < tableBytes(o.n()) {
		return fmt.Errorf("node: overlay of %d bytes on a level-%d node", len(o), n.level)
	}
	table := tableBytes(o.n())
	for j := range o.n() {
		e := o.ent(j)
		if int(e.off) < table || int(e.off)+int(e.klen)+int(e.vlen) > len(o) {
			return fmt.Errorf("node: overlay entry %d out of its data", j)
		}
	}
	if p := lcp(o.key(0), o.key(o.n()-1)); p != o.pfx() {
		return fmt.Errorf("node: overlay prefix %d, its keys share %d", o.pfx(), p)
	}
	for j := range o.n() {
		e := o.ent(j)
		k := o.key(j)
		if e.head != head8(k[o.pfx():]) {
			return fmt.Errorf("node: overlay entry %q has head %x", k, e.head)
		}
		if j > 0 && bytes.Compare(o.key(j-1), k) >= 0 {
			return fmt.Errorf("node: overlay keys %q, %q out of order", o.key(j-1), k)
		}
		if !n.Covers(k) {
			return fmt.Errorf("node: overlay key %q outside the leaf", k)
		}
		pos, in := n.searchFrom(0, k)
		if pos != int(e.pos) || in != e.inBase || (e.del && !e.inBase) {
			return fmt.Errorf("node: overlay entry %q says pos %d inBase %v del %v; the base has pos %d, %v", k, e.pos, e.inBase, e.del, pos, in)
		}
	}
	count := n.count + o.shift(o.n())
	if count != o.count() {
		return fmt.Errorf("node: overlay counts %d entries, the merge has %d", o.count(), count)
	}
	var prev []byte
	seen := 0
	var err error
	n.Each(func(k, _ []byte) {
		if seen > 0 && err == nil && bytes.Compare(prev, k) >= 0 {
			err = fmt.Errorf("node: merged keys %q, %q out of order", prev, k)
		}
		prev = k
		seen++
	})
	if err == nil && seen != count {
		err = fmt.Errorf("node: the merge walk met %d entries, the overlay counts %d", seen, count)
	}
	return err
}
