package tree

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/sledgo/sled/internal/node"
	"github.com/sledgo/sled/internal/testutil"
)

// leafFill returns the entry counts of the tree's leaves in key order.
func leafFill(t *testing.T, tr *Tree) []int {
	t.Helper()
	var counts []int
	p, err := tr.load(tr.root)
	if err != nil {
		t.Fatal(err)
	}
	for !p.Node.IsLeaf() {
		if p, err = tr.load(p.Node.Kid(0)); err != nil {
			t.Fatal(err)
		}
	}
	for {
		counts = append(counts, p.Node.Len())
		next := p.Node.Next()
		if next == 0 {
			return counts
		}
		if p, err = tr.load(next); err != nil {
			t.Fatal(err)
		}
	}
}

// Sequential inserts (one at a time, and in sorted batches of every size
// from 1 to 3 leaves) leave every leaf but the last full: the rightmost
// leaf grows by append splits (appendSplit) instead of half splits, which
// would leave every leaf behind half empty for good. Writes in the middle
// afterwards still split in half, and the model agrees throughout.
func TestAppendSplitFillsLeaves(t *testing.T) {
	seed := testutil.Seed(t)
	rng := rand.New(rand.NewPCG(seed, 3))
	cfg := Config{MaxLeafEntries: 8, MaxIndexEntries: 8, MaxNodeBytes: 1 << 20}
	for _, batch := range []int{0, 1, 3, 8, 13, 24} {
		t.Run(fmt.Sprintf("batch%d", batch), func(t *testing.T) {
			tr, pc := newTree(t, cfg)
			model := map[string][]byte{}
			const n = 1000
			for i := 0; i < n; {
				if batch == 0 {
					k, v := key(i), []byte(fmt.Sprint(i))
					if err := set(tr, k, v); err != nil {
						t.Fatal(err)
					}
					model[string(k)] = v
					i++
					continue
				}
				var ops []BatchOp
				for j := 0; j < batch && i < n; j, i = j+1, i+1 {
					op := BatchOp{Key: key(i), Val: []byte(fmt.Sprint(i))}
					if rng.IntN(10) == 0 { // a delete of an absent key is a no-op
						op = BatchOp{Key: key(i), Delete: true}
					} else {
						model[string(op.Key)] = op.Val
					}
					ops = append(ops, op)
				}
				err := tr.ApplySorted(ops, func(k int, old []byte, found bool) {
					if found || old != nil {
						t.Fatalf("append %q reported an old value %q", ops[k].Key, old)
					}
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			st := mustCheck(t, tr, pc)
			if st.Keys != len(model) {
				t.Fatalf("%d keys, model %d", st.Keys, len(model))
			}
			checkOrder(t, tr, model)
			fill := leafFill(t, tr)
			for i, c := range fill[1 : len(fill)-1] {
				// The first leaf is the left half of the root's growth;
				// every later one but the last is full.
				if c != cfg.MaxLeafEntries {
					t.Fatalf("leaf %d of %d holds %d entries; want %d (fill %v)", i, len(fill), c, cfg.MaxLeafEntries, fill)
				}
			}
			// Writes in the middle: normal splits, still consistent.
			for i := 0; i < 300; i++ {
				k := []byte(fmt.Sprintf("k%05d.%d", rng.IntN(n), i))
				if err := set(tr, k, []byte("mid")); err != nil {
					t.Fatal(err)
				}
				model[string(k)] = []byte("mid")
			}
			mustCheck(t, tr, pc)
			checkOrder(t, tr, model)
		})
	}
}

// An append split is not taken where it would be wrong: at the root, in a
// leaf with a right sibling, for a key not above the leaf's last key, or
// in an empty leaf.
func TestAppendableOnlyAtTheEnd(t *testing.T) {
	cfg := Config{MaxLeafEntries: 4, MaxIndexEntries: 4, MaxNodeBytes: 1 << 20}
	tr, _ := newTree(t, cfg)
	leaf := func(hi []byte, n int) *node.Node {
		var ks, vs [][]byte
		for i := 0; i < n; i++ {
			ks, vs = append(ks, key(10+i)), append(vs, []byte("v"))
		}
		return node.NewLeaf(key(0), hi, 0, ks, vs)
	}
	for _, tc := range []struct {
		name string
		id   node.PageID
		n    *node.Node
		k    []byte
		want bool
	}{
		{"rightmost, full, above", tr.root + 1, leaf(nil, 4), key(99), true},
		{"the root", tr.root, leaf(nil, 4), key(99), false},
		{"has a right sibling", tr.root + 1, leaf(key(200), 4), key(99), false},
		{"key inside", tr.root + 1, leaf(nil, 4), key(11), false},
		{"key equal to the last", tr.root + 1, leaf(nil, 4), key(13), false},
		{"one entry", tr.root + 1, leaf(nil, 1), key(99), true},
		{"empty", tr.root + 1, leaf(nil, 0), key(99), false},
	} {
		if got := tr.appendable(tc.id, tc.n, tc.k); got != tc.want {
			t.Errorf("%s: appendable = %v; want %v", tc.name, got, tc.want)
		}
	}
}
