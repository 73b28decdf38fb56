package node

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
)

// TestOverlayFoldsOnBounds: writes to a leaf stay in its overlay until the
// overlay holds maxOverlayEntries entries or a quarter of the base's bytes;
// the write past either bound folds it (a flat node with every write).
func TestOverlayFoldsOnBounds(t *testing.T) {
	base, _ := benchLeaf(64)
	val := make([]byte, 100)
	n := base
	for w := 1; w <= maxOverlayEntries+1; w++ {
		k := []byte(fmt.Sprintf("key%08d", 2*w+1)) // between the base's keys
		i, found := n.Search(k)
		n = n.WithValue(i, found, k, val)
		if got, want := n.Overlaid(), w <= maxOverlayEntries; got != want {
			t.Fatalf("after %d writes: overlay %v, want %v", w, got, want)
		}
		if n.Len() != 64+w {
			t.Fatalf("after %d writes: %d entries", w, n.Len())
		}
	}
	// Big values fold sooner: a quarter of the base's bytes.
	big := make([]byte, base.dataBytes()/8)
	n = base
	writes := 0
	for n.Overlaid() || writes == 0 {
		k := []byte(fmt.Sprintf("key%08d", 2*writes+1))
		i, found := n.Search(k)
		n = n.WithValue(i, found, k, big)
		writes++
	}
	if writes > 2 {
		t.Fatalf("values of an eighth of the leaf folded after %d writes, want at most 2", writes)
	}
}

// FuzzOverlay drives a leaf through the writes the fuzzer chooses (sets,
// deletes, overwrites, batches, folds, splits) and checks every accessor
// against a sorted model after each: the merged view of base and overlay is
// exactly what a flat leaf would hold.
func FuzzOverlay(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17})
	f.Add(bytes.Repeat([]byte{0x13, 0x80, 0x7f}, 40))
	f.Add(bytes.Repeat([]byte{0xff, 0x01, 0x40, 0xc3}, 30))
	f.Fuzz(func(t *testing.T, in []byte) {
		next := func() byte {
			if len(in) == 0 {
				return 0
			}
			b := in[0]
			in = in[1:]
			return b
		}
		key := func(b byte) []byte { return []byte{'k', b >> 2, b} }
		// A base of up to 63 entries with 100-byte values, so that
		// overlays hold several writes.
		m := &model{lo: []byte{}}
		for c := int(next() % 64); c > 0; c-- {
			m.set(key(next()), bytes.Repeat([]byte{next()}, 100))
		}
		n := m.node()
		for step := 0; len(in) > 0 && step < 200; step++ {
			op, b := next(), next()
			k := key(b)
			what := fmt.Sprintf("step %d op %d key %x", step, op%8, k)
			switch op % 8 {
			case 0, 1, 2:
				if !n.Covers(k) {
					continue // a leaf only takes keys in its range
				}
				v := bytes.Repeat([]byte{op}, int(next()))
				if op&0x40 != 0 {
					n = n.Set(k, v)
				} else {
					i, found := n.Search(k)
					n = n.WithValue(i, found, k, v)
				}
				m.set(k, v)
			case 3, 4:
				if op&0x40 != 0 {
					if n.Covers(k) {
						n = n.Delete(k)
						if i, found := m.search(k); found {
							m.remove(i)
						}
					}
				} else if n.Len() > 0 {
					i := int(b) % n.Len()
					n = n.Without(i)
					m.remove(i)
				}
			case 5:
				var ops []Delta
				for j := 0; j < int(op>>5); j++ {
					kk := key(b + byte(3*j))
					if (len(ops) > 0 && bytes.Compare(kk, ops[len(ops)-1].Key) <= 0) || !n.Covers(kk) {
						break
					}
					if next()%2 == 0 {
						ops = append(ops, Delta{Kind: DeltaDel, Key: kk})
						if i, found := m.search(kk); found {
							m.remove(i)
						}
					} else {
						ops = append(ops, Delta{Kind: DeltaSet, Key: kk, Val: []byte{b}})
						m.set(kk, []byte{b})
					}
				}
				n = Delta{Kind: DeltaBatch, Ops: ops}.Apply(n)
			case 6:
				n = n.Flat()
			case 7:
				if n.Len() >= 2 {
					at := 1 + int(b)%(n.Len()-1)
					l, r := n.Split(at, 9)
					ml, mr := m.split(at, 9)
					if op&0x80 != 0 {
						n = l.Absorb(r)
						m = absorb(ml, mr)
					} else {
						n, m = r, mr
					}
				}
			}
			checkOverlayModel(t, what, n, m)
		}
	})
}

// checkOverlayModel checks leaf n's merged view against m: Len, Entry,
// Key, Val, Search of present and absent keys, Each, and the folded node.
func checkOverlayModel(t *testing.T, what string, n *Node, m *model) {
	t.Helper()
	if err := n.checkOverlay(); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if n.Len() != len(m.keys) {
		t.Fatalf("%s: Len %d, model %d", what, n.Len(), len(m.keys))
	}
	for i, k := range m.keys {
		gk, gv := n.Entry(i)
		if !bytes.Equal(gk, k) || !bytes.Equal(gv, m.vals[i]) || !bytes.Equal(n.Key(i), k) || !bytes.Equal(n.Val(i), m.vals[i]) {
			t.Fatalf("%s: entry %d is %x=%x, model %x=%x", what, i, gk, gv, k, m.vals[i])
		}
		if j, found := n.Search(k); j != i || !found {
			t.Fatalf("%s: Search(%x) = %d, %v; want %d, true", what, k, j, found, i)
		}
		if v, ok := n.Get(k); !ok || !bytes.Equal(v, m.vals[i]) {
			t.Fatalf("%s: Get(%x) = %x, %v; want %x", what, k, v, ok, m.vals[i])
		}
		probe := append(slices.Clone(k), 0)
		wi, wf := m.search(probe)
		if j, found := n.Search(probe); j != wi || found != wf {
			t.Fatalf("%s: Search(%x) = %d, %v; want %d, %v", what, probe, j, found, wi, wf)
		}
		if v, ok := n.Get(probe); ok != wf || (ok && !bytes.Equal(v, m.vals[wi])) {
			t.Fatalf("%s: Get(%x) = %x, %v; want present %v", what, probe, v, ok, wf)
		}
	}
	i := 0
	n.Each(func(k, v []byte) {
		if i >= len(m.keys) || !bytes.Equal(k, m.keys[i]) || !bytes.Equal(v, m.vals[i]) {
			t.Fatalf("%s: Each's entry %d is %x=%x", what, i, k, v)
		}
		i++
	})
	if i != len(m.keys) {
		t.Fatalf("%s: Each gave %d entries, model %d", what, i, len(m.keys))
	}
	// Cursors from every start read the rest in order.
	for start := 0; start < len(m.keys); start += 1 + len(m.keys)/5 {
		c := n.CursorAt(start)
		for i := start; i < len(m.keys); i++ {
			k, v := n.Step(&c)
			if !bytes.Equal(k, m.keys[i]) || !bytes.Equal(v, m.vals[i]) {
				t.Fatalf("%s: cursor from %d read %x=%x at %d, model %x=%x", what, start, k, v, i, m.keys[i], m.vals[i])
			}
		}
	}
	if f := n.Flat(); !sameNode(f, m.node()) {
		t.Fatalf("%s: the folded node differs from the model's", what)
	}
}
