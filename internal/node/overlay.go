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
	"fmt"

	"github.com/sledgo/sled/internal/invariants"
)

const (
	// maxOverlayEntries bounds an overlay; the next write folds it. With a
	// leaf of E entries of s bytes, a write copies about k*s/2 overlay
	// bytes and, once per k writes, the leaf's E*s: k near sqrt(2E) keeps
	// the sum smallest (11 for the default 64 entries).
	maxOverlayEntries = 12

	// ovEntBytes is the size of an ovEnt (four uint32 and two bools,
	// aligned to 4; TestOverlaySizes).
	ovEntBytes = 20
	// overlayStructBytes is the Go allocation of an overlay (its size
	// class): two slices and an int, 56 bytes, in the 64-byte class on
	// 64-bit platforms; 28 bytes in the 32-byte class on 32-bit ones.
	overlayStructBytes = 32 + 32*int(^uint(0)>>63)
)

// ovEnt is one write in an overlay. Nothing in it is a pointer, so a slice
// of them is never scanned by the garbage collector.
type ovEnt struct {
	off    uint32 // the key at data[off:off+klen], the value right after
	klen   uint32
	vlen   uint32
	pos    uint32 // the base's Search of the key
	del    bool
	inBase bool
}

// overlay is a leaf's writes since its base was built (N5-N7).
type overlay struct {
	ents  []ovEnt
	data  []byte // the keys and values of ents (and of entries replaced since)
	count int    // the merged view's entries
}

func (o *overlay) key(j int) []byte {
	e := &o.ents[j]
	end := e.off + e.klen
	return o.data[e.off:end:end]
}

func (o *overlay) val(j int) []byte {
	e := &o.ents[j]
	s := e.off + e.klen
	end := s + e.vlen
	return o.data[s:end:end]
}

// find returns the index of the first entry whose key is >= key, and
// whether it is key.
func (o *overlay) find(key []byte) (int, bool) {
	lo, hi := 0, len(o.ents)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if bytes.Compare(o.key(m), key) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(o.ents) && bytes.Equal(o.key(lo), key)
}

// shift is how far the entries before j move the base's entries after
// them: +1 per inserting put, -1 per delete.
func (o *overlay) shift(j int) int {
	s := 0
	for k := range j {
		e := &o.ents[k]
		switch {
		case e.del:
			s--
		case !e.inBase:
			s++
		}
	}
	return s
}

// memBytes is what the overlay holds, in allocator size classes.
func (o *overlay) memBytes() int {
	return overlayStructBytes + allocBytes(cap(o.ents)*ovEntBytes) + allocBytes(cap(o.data))
}

// resolve maps entry i of the merged view to the overlay entry (j >= 0) or
// the base entry (b >= 0) that holds it.
func (n *Node) resolve(i int) (j, b int) {
	shift := 0
	for k := range n.ov.ents {
		e := &n.ov.ents[k]
		at := int(e.pos) + shift
		if i < at {
			return -1, i - shift
		}
		switch {
		case e.del:
			shift--
		case i == at:
			return k, -1
		case !e.inBase:
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
		e := &o.ents[j]
		return int(e.pos) + shift, !e.del
	}
	b, fb := n.searchFrom(0, key)
	return b + shift, fb
}

// withOverlayWrite returns leaf n with key set to val (del == false) or
// deleted (del == true), as a new overlay over n's base. When the overlay
// would outgrow its bounds it returns the flat node instead (one fold that
// includes this write).
func (n *Node) withOverlayWrite(key, val []byte, del bool) *Node {
	var ents []ovEnt
	var data []byte
	count := n.count
	if n.ov != nil {
		ents, data, count = n.ov.ents, n.ov.data, n.ov.count
	}
	j, inOv := 0, false
	if n.ov != nil {
		j, inOv = n.ov.find(key)
	}
	var pos int
	var inBase, present bool
	if inOv {
		e := &ents[j]
		pos, inBase, present = int(e.pos), e.inBase, !e.del
	} else {
		pos, inBase = n.searchFrom(0, key)
		present = inBase
	}
	e := ovEnt{pos: uint32(pos), inBase: inBase, del: del}
	switch {
	case del && !present:
		return n // nothing to delete
	case del && !inBase:
		// Only the overlay held the key: drop its entry (N5).
		if len(ents) == 1 {
			c := *n
			c.ov = nil
			return &c
		}
		ne := make([]ovEnt, len(ents)-1)
		copy(ne, ents[:j])
		copy(ne[j:], ents[j+1:])
		return n.withOverlay(&overlay{ents: ne, data: data, count: count - 1})
	}
	grow := len(key)
	if !del {
		grow += len(val)
	}
	full := len(ents)+1 > maxOverlayEntries || 4*(len(data)+grow) > n.dataBytes()
	switch {
	case del:
		count--
	case !present:
		count++
	}
	nd := make([]byte, len(data)+grow)
	copy(nd, data)
	e.off, e.klen = uint32(len(data)), uint32(len(key))
	copy(nd[len(data):], key)
	if !del {
		e.vlen = uint32(len(val))
		copy(nd[len(data)+len(key):], val)
	}
	var ne []ovEnt
	if inOv {
		ne = make([]ovEnt, len(ents))
		copy(ne, ents)
		ne[j] = e
	} else {
		ne = make([]ovEnt, len(ents)+1)
		copy(ne, ents[:j])
		ne[j] = e
		copy(ne[j+1:], ents[j:])
	}
	o := &overlay{ents: ne, data: nd, count: count}
	if full {
		c := *n
		c.ov = o
		return c.Flat()
	}
	return n.withOverlay(o)
}

// withOverlay returns n's base with overlay o.
func (n *Node) withOverlay(o *overlay) *Node {
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
	for j := range o.ents {
		e := &o.ents[j]
		if e.inBase {
			data -= n.entrySize(int(e.pos))
		}
		if !e.del {
			data += leafEntryBytes(int(e.klen), int(e.vlen))
		}
	}
	w := newBuilder(n.level, n.flags, n.next, n.Lo(), n.Hi(), o.count, data)
	b := 0
	for j := range o.ents {
		e := &o.ents[j]
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

// Overlaid reports whether n has an overlay (for tests and statistics).
func (n *Node) Overlaid() bool { return n.ov != nil }

// checkOverlay checks N5 and N6.
func (n *Node) checkOverlay() error {
	o := n.ov
	if o == nil {
		return nil
	}
	if n.level != 0 || len(o.ents) == 0 {
		return fmt.Errorf("node: overlay of %d entries on a level-%d node", len(o.ents), n.level)
	}
	for j := range o.ents {
		e := &o.ents[j]
		if int(e.off)+int(e.klen)+int(e.vlen) > len(o.data) {
			return fmt.Errorf("node: overlay entry %d out of its data", j)
		}
		k := o.key(j)
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
	count := n.count + o.shift(len(o.ents))
	if count != o.count {
		return fmt.Errorf("node: overlay counts %d entries, the merge has %d", o.count, count)
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
