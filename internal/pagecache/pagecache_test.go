package pagecache

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"

	"github.com/sledgo/sled/internal/node"
	"github.com/sledgo/sled/internal/testutil"
)

var counterKey = []byte("n")

// counterLeaf is a leaf whose single value is the decimal counter v.
func counterLeaf(v int) *node.Node {
	return node.NewLeaf([]byte{}, nil, 0, [][]byte{counterKey}, [][]byte{[]byte(strconv.Itoa(v))})
}

func counterOf(t testing.TB, p *Page) int {
	t.Helper()
	i, found := p.Node.Search(counterKey)
	if !found {
		t.Fatalf("counter key missing in %+v", p.Node)
	}
	v, err := strconv.Atoi(string(p.Node.Val(i)))
	if err != nil {
		t.Fatalf("counter value %q: %v", p.Node.Val(i), err)
	}
	return v
}

// incr returns the delta and node that increment the counter of p.
func incr(t testing.TB, p *Page) (*node.Node, node.Delta) {
	d := node.Delta{Kind: node.DeltaSet, Key: counterKey, Val: []byte(strconv.Itoa(counterOf(t, p) + 1))}
	return d.Apply(p.Node), d
}

func tagLeaf(tag string) *node.Node {
	return node.NewLeaf([]byte{}, nil, 0, [][]byte{[]byte("tag")}, [][]byte{[]byte(tag)})
}

func tagOf(p *Page) string { return string(p.Node.Val(0)) }

func mustLoad(t testing.TB, c *Cache, id node.PageID) *Page {
	t.Helper()
	p, err := c.Load(id)
	if err != nil {
		t.Fatalf("Load(%d): %v", id, err)
	}
	return p
}

func requireFreed(t testing.TB, c *Cache, id node.PageID) {
	t.Helper()
	p, err := c.Load(id)
	if !errors.Is(err, ErrFreed) || p != nil {
		t.Fatalf("Load(%d) = %v, %v; want nil, ErrFreed", id, p, err)
	}
}

func TestAllocateLoad(t *testing.T) {
	c := New()
	n1, n2 := counterLeaf(1), counterLeaf(2)
	id1, err := c.Allocate(n1)
	if err != nil || id1 == 0 {
		t.Fatalf("Allocate = %d, %v", id1, err)
	}
	id2, err := c.Allocate(n2)
	if err != nil || id2 == 0 || id2 == id1 {
		t.Fatalf("second Allocate = %d, %v (first %d)", id2, err, id1)
	}
	if p := mustLoad(t, c, id1); !sameNode(p.Node, n1) || p.Frags != 0 {
		t.Fatalf("Load(%d) = %+v", id1, p)
	}
	if p := mustLoad(t, c, id2); !sameNode(p.Node, n2) || p.Frags != 0 {
		t.Fatalf("Load(%d) = %+v", id2, p)
	}
	s := c.Stats()
	if s.Allocated != 2 || s.Highest != 2 || s.Images != 2 || s.Fragments != 0 || s.Updates != 0 {
		t.Fatalf("Stats = %+v", s)
	}
	if want := mustLoad(t, c, id1).memBytes() + mustLoad(t, c, id2).memBytes(); s.MemBytes != want {
		t.Fatalf("MemBytes = %d; want %d", s.MemBytes, want)
	}
}

func TestLoadUnallocated(t *testing.T) {
	c := New()
	for _, id := range []node.PageID{0, 1, chunkLen, chunkLen * 5, topLen * chunkLen, 1<<64 - 1} {
		requireFreed(t, c, id)
	}
	id, _ := c.Allocate(counterLeaf(0))
	requireFreed(t, c, 0)    // 0 is never a page, even with its chunk present
	requireFreed(t, c, id+1) // chunk exists, slot empty
}

func TestUpdate(t *testing.T) {
	c := New()
	id, _ := c.Allocate(counterLeaf(0))
	p0 := mustLoad(t, c, id)
	n1, d1 := incr(t, p0)
	p1, ok, err := c.Update(id, p0, n1, d1)
	if err != nil || !ok || p1 == nil || !sameNode(p1.Node, n1) || p1.Frags != 1 {
		t.Fatalf("Update = %+v, %v, %v", p1, ok, err)
	}
	if got := mustLoad(t, c, id); got != p1 {
		t.Fatalf("Load after Update = %p; want the returned state %p", got, p1)
	}
	before := c.Stats()

	// A writer still holding p0 loses: nothing changes (P1).
	stale, d := incr(t, p0)
	p, ok, err := c.Update(id, p0, stale, d)
	if err != nil || ok || p != nil {
		t.Fatalf("stale Update = %+v, %v, %v; want nil, false, nil", p, ok, err)
	}
	if got := mustLoad(t, c, id); got != p1 || counterOf(t, got) != 1 {
		t.Fatalf("stale Update changed the page: %+v", got)
	}
	if after := c.Stats(); noReads(after) != noReads(before) {
		t.Fatalf("stale Update changed Stats: %+v -> %+v", before, after)
	}

	// An image update over a page in a chunk that does not exist.
	far := node.PageID(chunkLen * 7)
	if p, ok, err := c.Update(far, p1, n1, node.Delta{Kind: node.DeltaImage, Image: n1}); !errors.Is(err, ErrFreed) || ok || p != nil {
		t.Fatalf("Update of an id without a chunk = %v, %v, %v; want ErrFreed", p, ok, err)
	}
}

func TestFree(t *testing.T) {
	c := New()
	id, _ := c.Allocate(counterLeaf(0))
	keep, _ := c.Allocate(counterLeaf(100))
	p0 := mustLoad(t, c, id)
	n1, d1 := incr(t, p0)
	p1, ok, _ := c.Update(id, p0, n1, d1)
	if !ok {
		t.Fatal("Update failed")
	}

	if last := c.Free(id); last != p1 {
		t.Fatalf("Free returned %p; want the last state %p", last, p1)
	}
	requireFreed(t, c, id)

	// Updates from any earlier state now fail (P5) and leave it absent.
	for _, old := range []*Page{p0, p1} {
		n, d := incr(t, old)
		p, ok, err := c.Update(id, old, n, d)
		if ok || p != nil {
			t.Fatalf("Update after Free = %+v, %v, %v; want failure", p, ok, err)
		}
		if err != nil && !errors.Is(err, ErrFreed) {
			t.Fatalf("Update after Free: unexpected error %v", err)
		}
		requireFreed(t, c, id)
	}

	s := c.Stats()
	if s.Allocated != 1 || s.FreedTotal != 1 || s.Updates != 1 {
		t.Fatalf("Stats = %+v", s)
	}
	if want := mustLoad(t, c, keep).memBytes(); s.MemBytes != want {
		t.Fatalf("MemBytes = %d; want %d (only the kept page)", s.MemBytes, want)
	}
	// The other page is untouched.
	if counterOf(t, mustLoad(t, c, keep)) != 100 {
		t.Fatal("Free touched another page")
	}

	// Free of an id whose chunk was never created is a no-op.
	if p := c.Free(node.PageID(chunkLen * 3)); p != nil {
		t.Fatalf("Free of an id without a chunk = %v", p)
	}
	if s2 := c.Stats(); noReads(s2) != noReads(s) {
		t.Fatalf("Free of an id without a chunk changed Stats: %+v -> %+v", s, s2)
	}
}

func TestAllocateNilReserves(t *testing.T) {
	c := New()
	id, err := c.Allocate(nil)
	if err != nil || id == 0 {
		t.Fatalf("Allocate(nil) = %d, %v", id, err)
	}
	requireFreed(t, c, id)
	if s := c.Stats(); s.Allocated != 1 || s.Images != 0 || s.MemBytes != 0 {
		t.Fatalf("Stats after reserve = %+v", s)
	}
	other, _ := c.Allocate(counterLeaf(7))
	if other == id {
		t.Fatalf("reserved id %d handed out again", id)
	}
	n := counterLeaf(3)
	c.Init(id, n)
	p := mustLoad(t, c, id)
	if !sameNode(p.Node, n) || p.Frags != 0 {
		t.Fatalf("Load after Init = %+v", p)
	}
	if s := c.Stats(); s.Allocated != 2 || s.Images != 2 {
		t.Fatalf("Stats after Init = %+v", s)
	}

	// A reservation that is freed without Init returns nil and the id is
	// reused later.
	r, _ := c.Allocate(nil)
	if last := c.Free(r); last != nil {
		t.Fatalf("Free of a reserved id = %+v; want nil", last)
	}
	reused := false
	for i := 0; i < 10 && !reused; i++ {
		got, _ := c.Allocate(nil)
		reused = got == r
	}
	if !reused {
		t.Fatalf("freed reservation %d never reused", r)
	}
}

func TestFragmentCounting(t *testing.T) {
	c := New()
	id, _ := c.Allocate(counterLeaf(0))
	p := mustLoad(t, c, id)
	wantImages, wantFrags := int64(1), int64(0)
	maxFrags := 0
	sinceImage := 0 // updates since the last image
	for step := 0; step < 5*FragmentsPerImage+3; step++ {
		var n *node.Node
		var d node.Delta
		switch {
		case step == 13 || step == 14:
			// DeltaImage resets at any point, including twice in a row.
			n = counterLeaf(counterOf(t, p) + 1)
			d = node.Delta{Kind: node.DeltaImage, Image: n}
		case step%3 == 2:
			d = node.Delta{Kind: node.DeltaDel, Key: []byte("absent")}
			n = d.Apply(p.Node)
			n = node.NewLeaf(n.Lo(), n.Hi(), n.Next(), n.Keys(), n.Vals())
		default:
			n, d = incr(t, p)
		}
		np, ok, err := c.Update(id, p, n, d)
		if !ok || err != nil {
			t.Fatalf("step %d: Update = %v, %v", step, ok, err)
		}
		prev := p.Frags
		p = np
		switch {
		case d.Kind == node.DeltaImage:
			if p.Frags != 0 {
				t.Fatalf("step %d: DeltaImage left Frags = %d", step, p.Frags)
			}
			wantImages++
			sinceImage = 0
		case sinceImage+1 == FragmentsPerImage:
			// P4: the FragmentsPerImage-th update after an image consolidates.
			if p.Frags != 0 {
				t.Fatalf("step %d: Frags = %d after %d fragments; want a consolidating image (0)", step, p.Frags, prev)
			}
			wantImages++
			sinceImage = 0
		default:
			if p.Frags != prev+1 {
				t.Fatalf("step %d: Frags = %d; want %d", step, p.Frags, prev+1)
			}
			wantFrags++
			sinceImage++
		}
		if p.Frags > maxFrags {
			maxFrags = p.Frags
		}
		if p.Frags > FragmentsPerImage {
			t.Fatalf("step %d: Frags %d exceeds FragmentsPerImage %d", step, p.Frags, FragmentsPerImage)
		}
		if got := mustLoad(t, c, id); got != p {
			t.Fatalf("step %d: Load does not return the installed state", step)
		}
		s := c.Stats()
		if s.Images != wantImages || s.Fragments != wantFrags || s.Updates != int64(step+1) {
			t.Fatalf("step %d: Stats %+v; want Images %d Fragments %d Updates %d", step, s, wantImages, wantFrags, step+1)
		}
		if s.Updates != s.Images-1+s.Fragments {
			t.Fatalf("step %d: Updates %d != image updates %d + fragments %d", step, s.Updates, s.Images-1, s.Fragments)
		}
		if s.MemBytes != p.memBytes() {
			t.Fatalf("step %d: MemBytes %d; want %d", step, s.MemBytes, p.memBytes())
		}
	}
	if maxFrags != FragmentsPerImage-1 {
		t.Errorf("max Frags seen = %d; want %d", maxFrags, FragmentsPerImage-1)
	}
	if counterOf(t, p) == 0 {
		t.Error("counter never advanced")
	}
}

// TestNoReuseWhilePinned checks P3: an id freed while a guard is pinned is not
// handed out again until that guard is unpinned.
func TestNoReuseWhilePinned(t *testing.T) {
	for _, churnFirst := range []int{0, 1, 2, 5} {
		t.Run(fmt.Sprintf("epochs%d", churnFirst), func(t *testing.T) {
			c := New()
			// Move the global epoch to various phases of the 3-slot ring.
			for i := 0; i < churnFirst; i++ {
				id, _ := c.Allocate(counterLeaf(i))
				c.Free(id)
				c.Allocate(nil)
			}
			victim, _ := c.Allocate(counterLeaf(-1))
			g := c.Pin()
			c.Free(victim)

			var mine []node.PageID
			for i := 0; i < 2000; i++ {
				id, err := c.Allocate(counterLeaf(i))
				if err != nil {
					t.Fatal(err)
				}
				if id == victim {
					t.Fatalf("allocation %d: id %d freed under a pinned guard was reused", i, victim)
				}
				mine = append(mine, id)
				// Churn: free some of them too, which tries to advance the epoch.
				if i%3 == 0 {
					c.Free(mine[0])
					mine = mine[1:]
				}
				if i%100 == 0 {
					// Other short pins come and go.
					c.Pin().Unpin()
				}
			}
			requireFreed(t, c, victim)
			g.Unpin()

			for i := 0; i < 100; i++ {
				id, _ := c.Allocate(counterLeaf(i))
				if id == victim {
					if p := mustLoad(t, c, id); counterOf(t, p) != i {
						t.Fatalf("reused id holds %d; want %d", counterOf(t, p), i)
					}
					return
				}
				c.Free(id)
			}
			t.Fatalf("id %d never reused after the guard was unpinned", victim)
		})
	}
}

// TestReuseNotBlockedByLaterPin: a pin taken after an id's epoch has passed
// does not hold that id back forever.
func TestReuseNotBlockedByLaterPin(t *testing.T) {
	c := New()
	id, _ := c.Allocate(counterLeaf(0))
	c.Free(id)
	g := c.Pin()
	defer g.Unpin()
	for i := 0; i < 10; i++ {
		got, _ := c.Allocate(nil)
		if got == id {
			return
		}
	}
	t.Fatalf("id %d freed before the pin was not reused", id)
}

func TestChunkGrowth(t *testing.T) {
	c := New()
	const n = 2*chunkLen + 17
	ids := make([]node.PageID, n)
	for i := range ids {
		id, err := c.Allocate(counterLeaf(i))
		if err != nil {
			t.Fatal(err)
		}
		if id != node.PageID(i+1) {
			t.Fatalf("allocation %d got id %d; want %d", i, id, i+1)
		}
		ids[i] = id
	}
	for hi := 0; hi <= 2; hi++ {
		if c.top[hi].Load() == nil {
			t.Fatalf("chunk %d not installed", hi)
		}
	}
	if c.top[3].Load() != nil {
		t.Fatal("chunk 3 installed without need")
	}
	for i, id := range ids {
		if got := counterOf(t, mustLoad(t, c, id)); got != i {
			t.Fatalf("page %d holds %d; want %d", id, got, i)
		}
	}
	// Updates and frees across the chunk boundary.
	for _, id := range []node.PageID{chunkLen - 1, chunkLen, chunkLen + 1, 2 * chunkLen} {
		p := mustLoad(t, c, id)
		nn, d := incr(t, p)
		if _, ok, err := c.Update(id, p, nn, d); !ok || err != nil {
			t.Fatalf("Update(%d) = %v, %v", id, ok, err)
		}
		if got := counterOf(t, mustLoad(t, c, id)); got != int(id) {
			t.Fatalf("page %d = %d after increment; want %d", id, got, id)
		}
		c.Free(id)
		requireFreed(t, c, id)
	}
	requireFreed(t, c, n+1)
	requireFreed(t, c, 3*chunkLen+1)
	if s := c.Stats(); s.Allocated != n-4 || s.Highest != n {
		t.Fatalf("Stats = %+v", s)
	}
}

func TestPageTableFull(t *testing.T) {
	c := New()
	last := node.PageID(topLen*chunkLen - 1)
	c.next.Store(uint64(last) - 1)
	id, err := c.Allocate(counterLeaf(1))
	if err != nil || id != last {
		t.Fatalf("Allocate = %d, %v; want the last id %d", id, err, last)
	}
	if got := counterOf(t, mustLoad(t, c, id)); got != 1 {
		t.Fatalf("last page holds %d", got)
	}
	if id, err := c.Allocate(counterLeaf(2)); err == nil {
		t.Fatalf("Allocate beyond the table = %d; want an error", id)
	}
}

// TestConcurrentCounters: 8 goroutines increment counters in shared pages
// with Pin / Load / Update-CAS retry loops; no increment may be lost.
func TestConcurrentCounters(t *testing.T) {
	seed := testutil.Seed(t)
	const (
		workers = 8
		pages   = 4
		perG    = 2000
	)
	c := New()
	ids := make([]node.PageID, pages)
	for i := range ids {
		ids[i], _ = c.Allocate(counterLeaf(0))
	}
	var done [workers][pages]int
	var retries atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			for i := 0; i < perG; i++ {
				pi := rng.IntN(pages)
				id := ids[pi]
				g := c.Pin()
				for {
					p, err := c.Load(id)
					if err != nil {
						t.Errorf("Load(%d): %v", id, err)
						g.Unpin()
						return
					}
					if p.Frags < 0 || p.Frags > FragmentsPerImage {
						t.Errorf("Frags = %d", p.Frags)
					}
					n, d := incr(t, p)
					np, ok, err := c.Update(id, p, n, d)
					if err != nil {
						t.Errorf("Update(%d): %v", id, err)
						g.Unpin()
						return
					}
					if ok {
						if !sameNode(np.Node, n) {
							t.Errorf("Update returned a state with another node")
						}
						break
					}
					retries.Add(1)
					if rng.IntN(4) == 0 {
						runtime.Gosched()
					}
				}
				g.Unpin()
				done[w][pi]++
			}
		}(w)
	}
	wg.Wait()
	total := 0
	for pi, id := range ids {
		want := 0
		for w := 0; w < workers; w++ {
			want += done[w][pi]
		}
		total += want
		if got := counterOf(t, mustLoad(t, c, id)); got != want {
			t.Errorf("page %d counter = %d; want %d", id, got, want)
		}
	}
	if total != workers*perG {
		t.Fatalf("total increments %d; want %d", total, workers*perG)
	}
	s := c.Stats()
	if s.Updates != int64(total) {
		t.Errorf("Stats.Updates = %d; want %d", s.Updates, total)
	}
	if s.Images-pages+s.Fragments != s.Updates {
		t.Errorf("Stats: image updates %d + fragments %d != updates %d", s.Images-pages, s.Fragments, s.Updates)
	}
	var mem int64
	for _, id := range ids {
		mem += mustLoad(t, c, id).memBytes()
	}
	if s.MemBytes != mem {
		t.Errorf("Stats.MemBytes = %d; want %d", s.MemBytes, mem)
	}
	t.Logf("%d increments, %d CAS retries", total, retries.Load())
}

// TestConcurrentAllocFreeChurn: concurrent Allocate/Free never hands out an id
// that is currently allocated (P3), and a live page always reads as its own
// content (P5).
func TestConcurrentAllocFreeChurn(t *testing.T) {
	seed := testutil.Seed(t)
	const (
		workers = 8
		ops     = 4000
	)
	c := New()
	var live sync.Map // id -> owner tag
	var wg sync.WaitGroup
	remaining := make([]int, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			type own struct {
				id  node.PageID
				tag string
			}
			var mine []own
			for i := 0; i < ops; i++ {
				g := c.Pin()
				if len(mine) == 0 || rng.IntN(100) < 55 {
					tag := fmt.Sprintf("w%d-%d", w, i)
					var id node.PageID
					var err error
					if rng.IntN(4) == 0 {
						id, err = c.Allocate(nil)
						if err == nil {
							if _, e := c.Load(id); !errors.Is(e, ErrFreed) {
								t.Errorf("reserved id %d does not read as freed: %v", id, e)
							}
							c.Init(id, tagLeaf(tag))
						}
					} else {
						id, err = c.Allocate(tagLeaf(tag))
					}
					if err != nil {
						t.Errorf("Allocate: %v", err)
						g.Unpin()
						return
					}
					if prev, dup := live.LoadOrStore(id, tag); dup {
						t.Errorf("id %d handed out to %s while still allocated to %s", id, tag, prev)
					}
					mine = append(mine, own{id, tag})
				} else {
					k := rng.IntN(len(mine))
					o := mine[k]
					mine[k] = mine[len(mine)-1]
					mine = mine[:len(mine)-1]
					if p, err := c.Load(o.id); err != nil || tagOf(p) != o.tag {
						t.Errorf("live id %d reads %v, %v; want tag %s", o.id, p, err, o.tag)
					}
					// Forget the id before freeing it: once freed it may be
					// handed out again to someone else.
					live.Delete(o.id)
					last := c.Free(o.id)
					if last == nil || tagOf(last) != o.tag {
						t.Errorf("Free(%d) returned %v; want tag %s", o.id, last, o.tag)
					}
				}
				// Check a few of our live pages still read as ours.
				for j := 0; j < 2 && len(mine) > 0; j++ {
					o := mine[rng.IntN(len(mine))]
					if p, err := c.Load(o.id); err != nil || tagOf(p) != o.tag {
						t.Errorf("live id %d reads %v, %v; want tag %s", o.id, p, err, o.tag)
					}
				}
				g.Unpin()
			}
			remaining[w] = len(mine)
		}(w)
	}
	wg.Wait()
	want := 0
	for _, r := range remaining {
		want += r
	}
	n := 0
	live.Range(func(k, v any) bool {
		n++
		p, err := c.Load(k.(node.PageID))
		if err != nil || tagOf(p) != v.(string) {
			t.Errorf("id %v reads %v, %v; want %s", k, p, err, v)
		}
		return true
	})
	s := c.Stats()
	if n != want || s.Allocated != int64(want) {
		t.Errorf("live ids %d, Stats.Allocated %d; want %d", n, s.Allocated, want)
	}
	if s.Highest >= uint64(workers*ops) {
		t.Errorf("Highest %d: ids were apparently never reused", s.Highest)
	}
	t.Logf("highest id %d, %d live, %d freed in total", s.Highest, want, s.FreedTotal)
}

// TestConcurrentPinnedReaders: while a reader is pinned, an id it has read
// keeps naming the same page or reads as freed; it never turns into another
// page (P3, P5), even though writers keep replacing and freeing pages.
func TestConcurrentPinnedReaders(t *testing.T) {
	seed := testutil.Seed(t)
	type ref struct {
		id  node.PageID
		tag string
	}
	const slots = 4
	c := New()
	var table [slots]atomic.Pointer[ref]
	for i := range table {
		tag := fmt.Sprintf("init-%d", i)
		id, _ := c.Allocate(tagLeaf(tag))
		table[i].Store(&ref{id, tag})
	}
	var stop atomic.Bool
	var writers, readers sync.WaitGroup
	for w := 0; w < 3; w++ { // writers: replace a slot's page, free the old one
		writers.Add(1)
		go func(w int) {
			defer writers.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			for i := 0; !stop.Load(); i++ {
				g := c.Pin()
				tag := fmt.Sprintf("w%d-%d", w, i)
				id, err := c.Allocate(tagLeaf(tag))
				if err != nil {
					t.Errorf("Allocate: %v", err)
					g.Unpin()
					return
				}
				old := table[rng.IntN(slots)].Swap(&ref{id, tag})
				c.Free(old.id)
				g.Unpin()
				runtime.Gosched()
			}
		}(w)
	}
	for r := 0; r < 4; r++ { // readers
		readers.Add(1)
		go func(r int) {
			defer readers.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(100+r)))
			for i := 0; i < 1500; i++ {
				g := c.Pin()
				ref := table[rng.IntN(slots)].Load()
				gone := false
				for j := 0; j < 4; j++ {
					p, err := c.Load(ref.id)
					switch {
					case err != nil:
						gone = true
					case gone:
						t.Errorf("id %d was freed, then read as %s while pinned", ref.id, tagOf(p))
					case tagOf(p) != ref.tag:
						t.Errorf("id %d reads %s; want %s", ref.id, tagOf(p), ref.tag)
					}
					runtime.Gosched()
				}
				g.Unpin()
			}
		}(r)
	}
	readers.Wait()
	stop.Store(true)
	writers.Wait()
	requireAllocated(t, c, slots)
}

func requireAllocated(t *testing.T, c *Cache, want int64) {
	t.Helper()
	if s := c.Stats(); s.Allocated != want {
		t.Errorf("Stats.Allocated = %d; want %d", s.Allocated, want)
	}
}

// noReads drops the read counters, which Loads change.
func noReads(s Stats) Stats {
	s.Hits, s.Misses = 0, 0
	return s
}

// A resident page state and its node are one allocation (withNode), which
// memBytes charges exactly: the allocation, the node's buffer and overlay,
// and the locations. node.MemBytes charges the node's struct as
// nodeStructBytes, which memBytes takes back out.
func TestResidentPageAllocation(t *testing.T) {
	n := counterLeaf(1)
	p := withNode(n)
	p.Locs = make([]Loc, 3)
	want := node.AllocBytes(int(unsafe.Sizeof(residentPage{}))) + n.MemBytes() - node.AllocBytes(int(unsafe.Sizeof(node.Node{}))) + node.AllocBytes(3*locBytes)
	if got := p.memBytes(); got != int64(want) {
		t.Fatalf("memBytes = %d; the allocations take %d", got, want)
	}
	if unsafe.Sizeof(uintptr(0)) == 8 && pageStructBytes+nodeStructBytes != residentPageBytes {
		t.Fatalf("on 64-bit platforms a resident page should cost what a Page and a Node cost apart: %d + %d != %d", pageStructBytes, nodeStructBytes, residentPageBytes)
	}
	if !sameNode(p.Node, n) || p.Node == n {
		t.Fatalf("withNode(%p) = %p: want a copy of the node", n, p.Node)
	}
	if withNode(nil).Node != nil {
		t.Fatal("withNode(nil) has a node")
	}
}
