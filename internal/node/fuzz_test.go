package node

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/sledgo/sled/internal/testutil"
)

// seedNodes are valid nodes of every kind, for fuzz seeds and corruption
// sweeps.
func seedNodes() []*Node {
	rng := rand.New(rand.NewPCG(1, 2))
	return []*Node{
		testLeaf(),
		testLeaf().WithFrozen(),
		NewLeaf([]byte{}, nil, 0, nil, nil),
		NewLeaf(b("b"), b("y"), 7, bs("b", "c", "x"), bs("1", "22", "")),
		bigLeaf(rng, 12),
		testIndex(),
		testIndex().WithMark(2).WithFrozen(),
		NewIndex(255, b("b"), b("y"), 1<<40, bs("b", "c", "x"), []PageID{1, 2, 3}, []bool{true, false, true}),
		Grow(0, 5, b("k"), 6),
	}
}

// checkAccepted fails unless a node FromBytes accepted from in is sound:
// it aliases in, FromBytes accepts its Bytes again, every accessor is in
// bounds and returns capped slices, keys are strictly sorted within
// [Lo, Hi), and NewLeaf/NewIndex rebuild the same bytes from its accessors.
func checkAccepted(t *testing.T, in []byte, n *Node) {
	t.Helper()
	if len(n.Bytes()) != len(in) || &n.Bytes()[0] != &in[0] {
		t.Fatalf("the node does not alias its input")
	}
	if got, want := n.MemBytes(), allocBytes(cap(in))+nodeStructBytes; got != want {
		t.Fatalf("MemBytes %d; want %d", got, want)
	}
	c, err := FromBytes(n.Bytes())
	if err != nil {
		t.Fatalf("FromBytes rejects an accepted node's Bytes: %v", err)
	}
	if !sameNode(c, n) {
		t.Fatalf("FromBytes of Bytes differs: %+v; want %+v", *c, *n)
	}
	capped := func(what string, p []byte) {
		t.Helper()
		if cap(p) != len(p) {
			t.Fatalf("%s has len %d cap %d", what, len(p), cap(p))
		}
	}
	lo, hi := n.Lo(), n.Hi()
	capped("Lo", lo)
	capped("Hi", hi)
	if lo == nil {
		t.Fatal("nil Lo")
	}
	if hi != nil && len(hi) == 0 {
		t.Fatal("empty non-nil Hi")
	}
	if !n.IsLeaf() && n.Len() == 0 {
		t.Fatal("index node without entries")
	}
	marked := false
	for i := 0; i < n.Len(); i++ {
		k := n.Key(i)
		capped("Key", k)
		if i == 0 && bytes.Compare(k, lo) < 0 {
			t.Fatalf("key 0 %x below Lo %x", k, lo)
		}
		if i > 0 && bytes.Compare(n.Key(i-1), k) >= 0 {
			t.Fatalf("keys %d and %d out of order", i-1, i)
		}
		if hi != nil && bytes.Compare(k, hi) >= 0 {
			t.Fatalf("key %d %x not below Hi %x", i, k, hi)
		}
		if !n.Covers(k) {
			t.Fatalf("the node does not cover its key %d", i)
		}
		if j, found := n.Search(k); j != i || !found {
			t.Fatalf("Search(Key(%d)) = %d,%v", i, j, found)
		}
		if n.IsLeaf() {
			capped("Val", n.Val(i))
			if n.Marked(i) {
				t.Fatalf("leaf entry %d marked", i)
			}
		} else {
			if n.Kid(i) == 0 {
				t.Fatalf("kid %d is 0", i)
			}
			marked = marked || n.Marked(i)
		}
	}
	if n.HasMark() != marked {
		t.Fatalf("HasMark %v; marks %v", n.HasMark(), marked)
	}
	var r *Node
	if n.IsLeaf() {
		r = NewLeaf(lo, hi, n.Next(), n.Keys(), n.Vals())
	} else {
		r = NewIndex(n.Level(), lo, hi, n.Next(), n.Keys(), n.Kids(), n.Marks())
	}
	if n.Frozen() {
		r = r.WithFrozen()
	}
	if !sameNode(r, n) {
		t.Fatalf("rebuilt from its accessors the node differs:\n%x\n%x", r.Bytes(), n.Bytes())
	}
}

// fromBytes runs FromBytes and checks its result either way.
func fromBytes(t *testing.T, in []byte) (*Node, error) {
	t.Helper()
	n, err := FromBytes(in)
	if err != nil {
		if !errors.Is(err, ErrCorrupt) || n != nil {
			t.Fatalf("FromBytes failed with %v (node %v); want an ErrCorrupt and no node", err, n)
		}
		return nil, err
	}
	checkAccepted(t, in, n)
	return n, nil
}

func FuzzFromBytes(f *testing.F) {
	for _, n := range seedNodes() {
		p := n.Bytes()
		f.Add(bytes.Clone(p))
		f.Add(bytes.Clone(p[:len(p)-1]))
		q := bytes.Clone(p)
		q[hdrFlags] ^= flagMark
		f.Add(q)
		q = bytes.Clone(p)
		q[hdrCount]++
		f.Add(q)
		q = bytes.Clone(p)
		q[len(q)-1] ^= 1
		f.Add(q)
	}
	f.Add([]byte{})
	f.Add(make([]byte, headerBytes+4))
	f.Fuzz(func(t *testing.T, in []byte) {
		n, err := fromBytes(t, in)
		// The same bytes in an Allocator's buffer: the same verdict, the
		// same node, and the buffer given back on a rejection.
		a := testutil.NewDirtyAlloc(t)
		m, err2 := FromBytesIn(a, in)
		if (err == nil) != (err2 == nil) {
			t.Fatalf("FromBytes: %v; FromBytesIn: %v", err, err2)
		}
		if err != nil {
			if a.Outstanding() != 0 {
				t.Fatal("FromBytesIn kept a buffer after rejecting its input")
			}
			return
		}
		if !bytes.Equal(m.Bytes(), n.Bytes()) || (len(in) > 0 && m.Slot() == nil) {
			t.Fatalf("FromBytesIn: slot %v, bytes differ: %v", m.Slot() != nil, !bytes.Equal(m.Bytes(), n.Bytes()))
		}
		a.Put(m.Slot())
	})
}

// TestFromBytesByteFlips is a deterministic sweep in the fuzz target's
// spirit: every byte of every seed node changed a few ways.
func TestFromBytesByteFlips(t *testing.T) {
	for _, n := range seedNodes() {
		p := n.Bytes()
		for i := range p {
			for _, f := range []func(byte) byte{
				func(x byte) byte { return x ^ 0x01 },
				func(x byte) byte { return x ^ 0x80 },
				func(x byte) byte { return x + 1 },
				func(x byte) byte { return x - 1 },
				func(byte) byte { return 0 },
				func(byte) byte { return 0xff },
			} {
				q := bytes.Clone(p)
				q[i] = f(q[i])
				fromBytes(t, q)
			}
		}
	}
}
