package node

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// TestPart: a part holds exactly the entries asked for, in a well-formed
// heap buffer, with the leaf's Hi and Next when it reaches the leaf's end
// and Key(j) and no Next otherwise; for flat leaves and leaves with an
// overlay alike.
func TestPart(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var keys, vals [][]byte
	for i := range 200 {
		keys = append(keys, []byte(fmt.Sprintf("k%04d", 2*i)))
		vals = append(vals, bytes.Repeat([]byte{byte(i)}, rng.IntN(40)))
	}
	flat := NewLeaf([]byte("k"), []byte("z"), 77, keys, vals)
	over := flat
	for i := range 20 { // writes that stay in the overlay: inserts and replacements
		over = over.Set([]byte(fmt.Sprintf("k%04d", 2*rng.IntN(200)+i%2)), []byte{byte(i)})
	}
	if !over.Overlaid() {
		t.Fatal("the writes folded the leaf; the test wants an overlay")
	}
	for _, n := range []*Node{flat, over} {
		for range 300 {
			i := rng.IntN(n.Len() + 1)
			j := i + rng.IntN(n.Len()-i+1)
			p := n.Part(i, j)
			if _, err := FromBytes(p.Bytes()); err != nil {
				t.Fatalf("Part(%d, %d) is not a well-formed node: %v", i, j, err)
			}
			if p.Len() != j-i || p.Slot() != nil || !bytes.Equal(p.Lo(), n.Lo()) {
				t.Fatalf("Part(%d, %d): %d entries, slot %v, lo %q", i, j, p.Len(), p.Slot() != nil, p.Lo())
			}
			for k := i; k < j; k++ {
				pk, pv := p.Entry(k - i)
				nk, nv := n.Entry(k)
				if !bytes.Equal(pk, nk) || !bytes.Equal(pv, nv) {
					t.Fatalf("Part(%d, %d) entry %d: %q=%x, want %q=%x", i, j, k, pk, pv, nk, nv)
				}
			}
			if j == n.Len() {
				if !bytes.Equal(p.Hi(), n.Hi()) || p.Next() != n.Next() {
					t.Fatalf("Part to the end: hi %q next %d, want %q %d", p.Hi(), p.Next(), n.Hi(), n.Next())
				}
			} else if !bytes.Equal(p.Hi(), n.Key(j)) || p.Next() != 0 {
				t.Fatalf("Part(%d, %d): hi %q next %d, want %q 0", i, j, p.Hi(), p.Next(), n.Key(j))
			}
		}
	}
}

// TestCopyRun: CopyRun's runs read back, through RunEntry, as the entries
// of the leaf they came from, for flat leaves and leaves with an overlay
// (inserts, replacements and deletes), empty values included; the copy is
// its own memory and every slice is capped at its end, so an append by a
// caller cannot reach the next entry.
func TestCopyRun(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var keys, vals [][]byte
	for i := range 200 {
		keys = append(keys, []byte(fmt.Sprintf("k%04d", 2*i)))
		vals = append(vals, bytes.Repeat([]byte{byte(i)}, rng.IntN(40))) // some empty
	}
	flat := NewLeaf([]byte("k"), []byte("z"), 77, keys, vals)
	over := flat
	for i := range 30 {
		k := []byte(fmt.Sprintf("k%04d", 2*rng.IntN(200)+i%2))
		if i%3 == 2 {
			over = over.Delete(k)
		} else {
			over = over.Set(k, bytes.Repeat([]byte{byte(i)}, i%4))
		}
	}
	if !over.Overlaid() {
		t.Fatal("the writes folded the leaf; the test wants an overlay")
	}
	var offs []uint32
	for _, n := range []*Node{flat, over} {
		for range 300 {
			i := rng.IntN(n.Len() + 1)
			j := i + rng.IntN(n.Len()-i+1)
			var data []byte
			data, offs = n.CopyRun(i, j, offs)
			if len(offs) != j-i+1 && !(i == j && len(offs) == 0) {
				t.Fatalf("CopyRun(%d, %d): %d offsets", i, j, len(offs))
			}
			if inside(n.Bytes(), data) {
				t.Fatalf("CopyRun(%d, %d) aliases the leaf's buffer", i, j)
			}
			for k := i; k < j; k++ {
				rk, rv := RunEntry(data, offs, k-i)
				nk, nv := n.Entry(k)
				if !bytes.Equal(rk, nk) || !bytes.Equal(rv, nv) || rv == nil || cap(rk) != len(rk) || cap(rv) != len(rv) {
					t.Fatalf("CopyRun(%d, %d) entry %d: %q=%x (nil %v, caps %d %d), want %q=%x",
						i, j, k, rk, rv, rv == nil, cap(rk), cap(rv), nk, nv)
				}
			}
		}
	}
}

// inside reports whether b's bytes lie within buf's.
func inside(buf, b []byte) bool {
	if len(buf) == 0 || len(b) == 0 {
		return false
	}
	s, e := uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&buf[len(buf)-1]))
	p := uintptr(unsafe.Pointer(&b[0]))
	return s <= p && p <= e
}
