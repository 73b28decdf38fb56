package pagecache

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/sledgo/sled/internal/codec"
	"github.com/sledgo/sled/internal/node"
)

func sdKey(i int) []byte { return []byte(fmt.Sprintf("k%04d", i)) }

// update applies d to the resident state of page id, logs it, and returns
// the new state, failing the test on a lost CAS.
func sdUpdate(t *testing.T, c *Cache, id node.PageID, d node.Delta) *Page {
	t.Helper()
	p := mustLoad(t, c, id)
	np, ok, err := c.Update(id, p, d.Apply(p.Node), d)
	if err != nil || !ok {
		t.Fatalf("Update(%d, kind %d) = %v, %v", id, d.Kind, ok, err)
	}
	return np
}

func sameNode(a, b *node.Node) bool {
	a, b = a.Flat(), b.Flat()
	return bytes.Equal(a.Bytes(), b.Bytes())
}

// A page whose log holds entry writes, a split's left half (DeltaSplit)
// and more writes reads back, after eviction and after recovery, as the
// node it was in memory; so does an index page grown by posted children
// (DeltaChild). The split and the children are logged as fragments, not
// images (P4: nothing of these pages is dead yet).
func TestStructuralFragmentsReadBack(t *testing.T) {
	lg := openLogged(t)
	c := lg.c
	var keys, vals [][]byte
	for i := 0; i < 8; i++ {
		keys, vals = append(keys, sdKey(i)), append(vals, bytes.Repeat([]byte{byte(i)}, 100))
	}
	leaf, err := c.CreatePage(node.NewLeaf([]byte{}, nil, 0, keys, vals), func(node.PageID) []codec.Section { return nil })
	if err != nil {
		t.Fatal(err)
	}
	index, err := c.CreatePage(node.NewIndex(1, []byte{}, nil, 0, [][]byte{{}}, []node.PageID{leaf}, nil), func(node.PageID) []codec.Section { return nil })
	if err != nil {
		t.Fatal(err)
	}
	imagesBefore := c.Stats().Images
	sdUpdate(t, c, leaf, node.Delta{Kind: node.DeltaSet, Key: sdKey(20), Val: []byte("appended")})
	// An append split: the left half keeps every entry (the split key is
	// above them all) and names page 99 as its right sibling.
	sdUpdate(t, c, leaf, node.Delta{Kind: node.DeltaSplit, Key: sdKey(30), Kid: 99})
	sdUpdate(t, c, leaf, node.Delta{Kind: node.DeltaBatch, Ops: []node.Delta{
		{Kind: node.DeltaDel, Key: sdKey(1)}, {Kind: node.DeltaSet, Key: sdKey(25), Val: []byte("x")},
	}})
	sdUpdate(t, c, index, node.Delta{Kind: node.DeltaChild, Key: sdKey(30), Kid: 99})
	sdUpdate(t, c, index, node.Delta{Kind: node.DeltaChild, Key: sdKey(40), Kid: 98})
	if got := c.Stats().Images - imagesBefore; got != 0 {
		t.Errorf("%d images logged; want every change as a fragment", got)
	}
	if p := mustLoad(t, c, leaf); p.Frags != 3 {
		t.Errorf("leaf has %d fragments; want 3", p.Frags)
	}
	// A mid split: the left half drops its upper entries (an image or a
	// fragment, as P4 decides).
	sdUpdate(t, c, leaf, node.Delta{Kind: node.DeltaSplit, Key: sdKey(4), Kid: 97})
	sdUpdate(t, c, leaf, node.Delta{Kind: node.DeltaSet, Key: sdKey(2), Val: []byte("after")})
	wantLeaf, wantIndex := mustLoad(t, c, leaf).Node, mustLoad(t, c, index).Node
	if got := wantLeaf.Hi(); !bytes.Equal(got, sdKey(4)) || wantLeaf.Next() != 97 || wantLeaf.Len() != 3 || string(wantLeaf.Val(1)) != "after" {
		t.Fatalf("leaf after the splits: Hi %q Next %d Len %d; want k0004, 97, 3", got, wantLeaf.Next(), wantLeaf.Len())
	}
	if wantIndex.Len() != 3 || wantIndex.Kid(2) != 98 {
		t.Fatalf("index after two posts: %v %v", wantIndex.Keys(), wantIndex.Kids())
	}
	evictNow(t, c, leaf)
	evictNow(t, c, index)
	if got := mustLoad(t, c, leaf).Node; !sameNode(got, wantLeaf) {
		t.Errorf("leaf read back differs: keys %q", got.Keys())
	}
	if got := mustLoad(t, c, index).Node; !sameNode(got, wantIndex) {
		t.Errorf("index read back differs: keys %q", got.Keys())
	}
	rc := lg.recovered(t, nil)
	if got := mustLoad(t, rc, leaf).Node; !sameNode(got, wantLeaf) {
		t.Errorf("leaf recovered differs: keys %q", got.Keys())
	}
	if got := mustLoad(t, rc, index).Node; !sameNode(got, wantIndex) {
		t.Errorf("index recovered differs: keys %q", got.Keys())
	}
}

// A split leaves the dropped half dead in the page's log bytes; once the
// dead bytes would outweigh the live ones the next change logs an image
// (P4), and a page that only grows logs no image before the count bound.
func TestFragmentsOutweighCountsDeadBytes(t *testing.T) {
	lg := openLogged(t)
	c := lg.c
	var keys, vals [][]byte
	rng := rand.New(rand.NewPCG(1, 2))
	val := func() []byte { // incompressible, so that disk shares are sizes
		v := make([]byte, 200)
		for i := range v {
			v[i] = byte(rng.Uint32())
		}
		return v
	}
	for i := 0; i < 32; i++ {
		keys, vals = append(keys, sdKey(i)), append(vals, val())
	}
	id, err := c.CreatePage(node.NewLeaf([]byte{}, nil, 0, keys, vals), func(node.PageID) []codec.Section { return nil })
	if err != nil {
		t.Fatal(err)
	}
	for i := 32; i < 32+FragmentsPerImage-1; i++ { // appends: all live
		if p := sdUpdate(t, c, id, node.Delta{Kind: node.DeltaSet, Key: sdKey(i), Val: val()}); p.Frags != i-31 {
			t.Fatalf("append %d logged an image (Frags %d)", i, p.Frags)
		}
	}
	if p := sdUpdate(t, c, id, node.Delta{Kind: node.DeltaSet, Key: sdKey(100), Val: []byte("v")}); p.Frags != 0 {
		t.Fatalf("the FragmentsPerImage-th fragment was logged as one (Frags %d)", p.Frags)
	}
	// Now one image of 48 entries and an append: split off all but 4 of
	// them. The split must log an image: the dropped 44 entries would be
	// dead. The same split near the end (an append split) is a fragment.
	sdUpdate(t, c, id, node.Delta{Kind: node.DeltaSet, Key: sdKey(200), Val: val()})
	if p := sdUpdate(t, c, id, node.Delta{Kind: node.DeltaSplit, Key: sdKey(150), Kid: 78}); p.Frags != 2 {
		t.Fatalf("an append split that drops nothing logged an image (Frags %d)", p.Frags)
	}
	if p := sdUpdate(t, c, id, node.Delta{Kind: node.DeltaSplit, Key: sdKey(4), Kid: 77}); p.Frags != 0 || len(p.Locs) != 1 {
		t.Fatalf("a split that left most of the page's log dead logged a fragment (Frags %d)", p.Frags)
	}
}

// A fragment that does not fit the node it applies to (written by a bug or
// a corrupt disk: here logged on purpose) reads back as corruption, never
// as a node that breaks the tree's invariants.
func TestBadStructuralFragmentIsCorruption(t *testing.T) {
	for _, tc := range []struct {
		name   string
		index  bool
		d      node.Delta
		frozen bool
	}{
		{"write on a frozen leaf", false, node.Delta{Kind: node.DeltaSet, Key: []byte("c"), Val: []byte("v")}, true},
		{"split of a frozen leaf", false, node.Delta{Kind: node.DeltaSplit, Key: []byte("c"), Kid: 5}, true},
		{"split below Lo", false, node.Delta{Kind: node.DeltaSplit, Key: []byte{}, Kid: 5}, false},
		{"split at Hi", false, node.Delta{Kind: node.DeltaSplit, Key: []byte("m"), Kid: 5}, false},
		{"child on a leaf", false, node.Delta{Kind: node.DeltaChild, Key: []byte("c"), Kid: 5}, false},
		{"write on an index node", true, node.Delta{Kind: node.DeltaSet, Key: []byte("c"), Val: []byte("v")}, false},
		{"child already present", true, node.Delta{Kind: node.DeltaChild, Key: []byte("b"), Kid: 5}, false},
		{"child beyond Hi", true, node.Delta{Kind: node.DeltaChild, Key: []byte("z"), Kid: 5}, false},
		{"write beyond Hi", false, node.Delta{Kind: node.DeltaSet, Key: []byte("z"), Val: []byte("v")}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lg := openLogged(t)
			c := lg.c
			n := node.NewLeaf([]byte{}, []byte("m"), 3, [][]byte{[]byte("a")}, [][]byte{[]byte("1")})
			if tc.index {
				n = node.NewIndex(1, []byte{}, []byte("m"), 3, [][]byte{{}, []byte("b")}, []node.PageID{8, 9}, nil)
			}
			if tc.frozen {
				n = n.WithFrozen()
			}
			id, err := c.CreatePage(n, func(node.PageID) []codec.Section { return nil })
			if err != nil {
				t.Fatal(err)
			}
			p := mustLoad(t, c, id)
			// The in-memory state stays n: only the log holds the bad delta.
			if _, ok, err := c.Update(id, p, n, tc.d); err != nil || !ok {
				t.Fatalf("Update = %v, %v", ok, err)
			}
			evictNow(t, c, id)
			_, err = c.Load(id)
			if !errors.Is(err, codec.ErrCorrupt) {
				t.Fatalf("Load of a page with a bad fragment: %v; want ErrCorrupt", err)
			}
		})
	}
}
