package tree

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"testing"

	"github.com/sledgo/sled/internal/node"
	"github.com/sledgo/sled/internal/pagecache"
	"github.com/sledgo/sled/internal/testutil"
)

var tiny = Config{MaxLeafEntries: 4, MaxIndexEntries: 4, MaxNodeBytes: 1 << 20}

func newTree(t *testing.T, cfg Config) (*Tree, *pagecache.Cache) {
	pc := pagecache.New()
	tr, err := Create(pc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mustCheck(t, tr, pc) })
	return tr, pc
}

func mustCheck(t *testing.T, tr *Tree, pc *pagecache.Cache) CheckStats {
	t.Helper()
	pages := 0
	st, err := tr.Check(func(node.PageID) { pages++ })
	if err != nil {
		t.Fatal(err)
	}
	if got := pc.Stats().Allocated; got != int64(pages) {
		t.Fatalf("page leak: %d pages allocated, %d reachable", got, pages)
	}
	if st.UnpostedSplits != 0 || st.PendingMerges != 0 {
		t.Fatalf("quiescent tree has unfinished structure changes: %+v", st)
	}
	return st
}

func set(tr *Tree, k, v []byte) error {
	_, err := tr.Modify(k, func([]byte, bool) ([]byte, Action) { return v, Set })
	return err
}

func del(tr *Tree, k []byte) (bool, error) {
	r, err := tr.Modify(k, func([]byte, bool) ([]byte, Action) { return nil, Delete })
	return r.Changed, err
}

func key(i int) []byte { return []byte(fmt.Sprintf("k%05d", i)) }

func TestModelSequential(t *testing.T) {
	seed := testutil.Seed(t)
	rng := rand.New(rand.NewPCG(seed, 1))
	tr, pc := newTree(t, tiny)
	model := map[string][]byte{}
	for step := 0; step < 20000; step++ {
		k := key(rng.IntN(400))
		switch op := rng.IntN(10); {
		case op < 5:
			v := []byte(fmt.Sprint(step))
			if err := set(tr, k, v); err != nil {
				t.Fatal(err)
			}
			model[string(k)] = v
		case op < 8:
			ok, err := del(tr, k)
			if err != nil {
				t.Fatal(err)
			}
			if _, in := model[string(k)]; in != ok {
				t.Fatalf("step %d: delete %s changed=%v, model has=%v", step, k, ok, in)
			}
			delete(model, string(k))
		default:
			v, ok, err := tr.Get(k)
			if err != nil {
				t.Fatal(err)
			}
			mv, in := model[string(k)]
			if ok != in || !bytes.Equal(v, mv) {
				t.Fatalf("step %d: get %s = %q %v, want %q %v", step, k, v, ok, mv, in)
			}
		}
		if step%1000 == 0 {
			st := mustCheck(t, tr, pc)
			if st.Keys != len(model) {
				t.Fatalf("step %d: %d keys, model %d", step, st.Keys, len(model))
			}
			checkOrder(t, tr, model)
		}
	}
	// Delete everything: merges must bring the tree back to few pages.
	for k := range model {
		if _, err := del(tr, []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	st := mustCheck(t, tr, pc)
	t.Logf("after deleting all: %+v", st)
	if st.Keys != 0 || st.Pages > 2*st.Levels {
		t.Fatalf("empty tree keeps %d pages over %d levels", st.Pages, st.Levels)
	}
}

func checkOrder(t *testing.T, tr *Tree, model map[string][]byte) {
	t.Helper()
	want := make([]string, 0, len(model))
	for k := range model {
		want = append(want, k)
	}
	sort.Strings(want)
	var got []string
	k, incl := []byte{}, true
	for {
		n, i, ok, err := tr.Seek(k, incl, 1)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		got = append(got, string(n.Key(i)))
		k, incl = n.Key(i), false
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("forward scan %v, want %v", got, want)
	}
	var rev []string
	var kk []byte
	incl = false
	for {
		n, i, ok, err := tr.SeekBefore(kk, incl, 1)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		rev = append(rev, string(n.Key(i)))
		kk = n.Key(i)
	}
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	if fmt.Sprint(rev) != fmt.Sprint(want) {
		t.Fatalf("reverse scan %v, want %v", rev, want)
	}
	n, err := tr.Len()
	if err != nil || n != len(want) {
		t.Fatalf("Len = %d, %v; want %d", n, err, len(want))
	}
}

// TestConcurrentDisjoint runs writers on disjoint key sets with constant
// splits and merges; each writer checks its own keys as a model.
func TestConcurrentDisjoint(t *testing.T) {
	seed := testutil.Seed(t)
	tr, pc := newTree(t, tiny)
	const workers = 8
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			mine := map[string]bool{}
			for step := 0; step < 5000; step++ {
				k := []byte(fmt.Sprintf("%03d-%d", rng.IntN(300), w))
				if rng.IntN(3) > 0 {
					if err := set(tr, k, k); err != nil {
						errs <- err
						return
					}
					mine[string(k)] = true
				} else {
					ok, err := del(tr, k)
					if err != nil {
						errs <- err
						return
					}
					if ok != mine[string(k)] {
						errs <- fmt.Errorf("worker %d: delete %s = %v, want %v", w, k, ok, mine[string(k)])
						return
					}
					delete(mine, string(k))
				}
				if step%50 == 0 {
					for mk := range mine {
						v, ok, err := tr.Get([]byte(mk))
						if err != nil || !ok || string(v) != mk {
							errs <- fmt.Errorf("worker %d step %d: get %s = %q %v %v", w, step, mk, v, ok, err)
							return
						}
					}
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	mustCheck(t, tr, pc)
}

// SameLinks compares states that FreeTogether meets while retrying, either
// of which may be evicted (no node): then equal locations mean the same
// content. Found by the race suite: an evicted state as old dereferenced
// its nil node.
func TestSameLinksNonResident(t *testing.T) {
	n := node.NewIndex(1, []byte{}, nil, 0, [][]byte{{}, []byte("m")}, []node.PageID{2, 3}, nil)
	other := node.NewIndex(1, []byte{}, nil, 0, [][]byte{{}, []byte("m")}, []node.PageID{2, 4}, nil)
	locs := []pagecache.Loc{{LSN: 100, Size: 10}}
	moved := []pagecache.Loc{{LSN: 200, Size: 10}}
	resident := &pagecache.Page{Node: n, Locs: locs}
	evicted := &pagecache.Page{Locs: locs}
	for _, c := range []struct {
		name     string
		old, cur *pagecache.Page
		want     bool
	}{
		{"both resident, same kids", resident, &pagecache.Page{Node: n, Locs: moved}, true},
		{"both resident, other kids", resident, &pagecache.Page{Node: other, Locs: locs}, false},
		{"evicted then paged in", evicted, resident, true},
		{"resident then evicted", resident, evicted, true},
		{"both evicted", evicted, &pagecache.Page{Locs: locs}, true},
		{"evicted, then relocated", evicted, &pagecache.Page{Node: n, Locs: moved}, false},
		{"evicted, other content", evicted, &pagecache.Page{Locs: moved}, false},
	} {
		if got := SameLinks(c.old, c.cur); got != c.want {
			t.Errorf("%s: SameLinks = %v, want %v", c.name, got, c.want)
		}
	}
}

// Keys of a quarter of the node byte limit or more (separators are whole
// keys, so a 2-entry index node is over the limit) keep the tree's height
// logarithmic: index nodes split on bytes only from minIndexBytesSplit
// entries. Without that rule every index node held one entry and the tree
// grew a level per key or three, until the level byte wrapped.
func TestLongKeys(t *testing.T) {
	seed := testutil.Seed(t)
	rng := rand.New(rand.NewPCG(seed, 9))
	tr, _ := newTree(t, DefaultConfig)
	model := map[string][]byte{}
	const n = 2000
	for i := range n {
		k := make([]byte, 2<<10+rng.IntN(2<<10))
		for j := range k {
			k[j] = byte(rng.IntN(256))
		}
		v := []byte(fmt.Sprint(i))
		if err := set(tr, k, v); err != nil {
			t.Fatal(err)
		}
		model[string(k)] = v
	}
	for k, v := range model {
		got, ok, err := tr.Get([]byte(k))
		if err != nil || !ok || !bytes.Equal(got, v) {
			t.Fatalf("Get of a %d-byte key = %q, %v, %v; want %q", len(k), got, ok, err, v)
		}
	}
	st, err := tr.Check(nil)
	if err != nil {
		t.Fatal(err)
	}
	// 2000 leaves of one or two entries under index nodes of at least 2:
	// at most log2(2000) ~ 11 levels above the leaves.
	if st.Keys != n || st.Levels > 12 {
		t.Fatalf("%d keys in %d levels; want %d keys in at most 12", st.Keys, st.Levels, n)
	}
	t.Logf("%d keys of 2-4 KiB: %d levels, %d pages", st.Keys, st.Levels, st.Pages)
}

// nextLeaf is the right sibling of leaf snapshot n by rightOf, as a scan
// steps to it, on the heap.
func nextLeaf(tr *Tree, n *node.Node) (*node.Node, bool, error) {
	g := tr.pc.Pin()
	defer g.Unpin()
	r, ok, err := tr.rightOf(n.Hi(), n.Next())
	if ok {
		r = r.OnHeap()
	}
	return r, ok, err
}

// rightOf walks the leaves by their right links: from the first leaf it
// visits every key once, in order; from leaf snapshots that merges and
// splits have made stale, it returns only a leaf starting where the
// snapshot ended, or ok == false (the caller seeks instead).
func TestRightOf(t *testing.T) {
	seed := testutil.Seed(t)
	rng := rand.New(rand.NewPCG(seed, 11))
	tr, _ := newTree(t, tiny)
	model := map[string]bool{}
	for range 600 {
		k := key(rng.IntN(2000))
		if err := set(tr, k, k); err != nil {
			t.Fatal(err)
		}
		model[string(k)] = true
	}
	walk := func() (keys []string, leaves []*node.Node) {
		n, i, ok, err := tr.Seek([]byte{}, true, math.MaxInt32)
		for ok && err == nil {
			leaves = append(leaves, n)
			for ; i < n.Len(); i++ {
				keys = append(keys, string(n.Key(i)))
			}
			var r *node.Node
			r, ok, err = nextLeaf(tr, n)
			if !ok && err == nil && n.Hi() != nil {
				t.Fatalf("rightOf of a leaf ending at %q in a quiescent tree: not ok", n.Hi())
			}
			n, i = r, 0
		}
		if err != nil {
			t.Fatal(err)
		}
		return keys, leaves
	}
	keys, stale := walk()
	want := make([]string, 0, len(model))
	for k := range model {
		want = append(want, k)
	}
	sort.Strings(want)
	if !slices.Equal(keys, want) {
		t.Fatalf("walk by right links: %d keys, want %d", len(keys), len(want))
	}
	for k := range model {
		if rng.IntN(5) != 0 {
			if _, err := del(tr, []byte(k)); err != nil {
				t.Fatal(err)
			}
			delete(model, k)
		}
	}
	for i := range 300 {
		k := key(2000 + i)
		if err := set(tr, k, k); err != nil {
			t.Fatal(err)
		}
		model[string(k)] = true
	}
	moved := 0
	for _, n := range stale {
		r, ok, err := nextLeaf(tr, n)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			moved++
			continue
		}
		if !r.IsLeaf() || !bytes.Equal(r.Lo(), n.Hi()) {
			t.Fatalf("rightOf of a stale leaf ending at %q gave a node over [%q, %q)", n.Hi(), r.Lo(), r.Hi())
		}
	}
	if moved == 0 {
		t.Fatal("no stale leaf lost its right sibling: the merges did not happen")
	}
	keys, _ = walk()
	want = want[:0]
	for k := range model {
		want = append(want, k)
	}
	sort.Strings(want)
	if !slices.Equal(keys, want) {
		t.Fatalf("walk after merges: %d keys, want %d", len(keys), len(want))
	}
}
