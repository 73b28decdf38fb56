package pagecache

import (
	"errors"
	"sync/atomic"
	"testing"

	"github.com/sledgo/sled/internal/codec"
	"github.com/sledgo/sled/internal/log"
	"github.com/sledgo/sled/internal/node"
	"github.com/sledgo/sled/vfs"
)

// logged is a log-backed cache on a MemFS, with what a test needs to replay
// it into a fresh cache as recovery would.
type logged struct {
	fs *vfs.MemFS
	l  *log.Log
	c  *Cache
}

const testSegBytes = 64 << 10

func openLogged(t *testing.T) *logged {
	t.Helper()
	fs := vfs.NewMem()
	l, err := log.Open(log.Options{FS: fs, Dir: "log", SegmentSizeBytes: testSegBytes, FlushEvery: -1}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := Open(Options{Log: l})
	t.Cleanup(func() { c.Close(); l.Close() })
	return &logged{fs: fs, l: l, c: c}
}

// recovered replays the whole log (after a flush) into a fresh cache, as
// Open does with a snapshot of nothing, or with snapshot snap when not nil.
func (lg *logged) recovered(t *testing.T, snap *snapshotOf) *Cache {
	t.Helper()
	if err := lg.l.Flush(); err != nil {
		t.Fatal(err)
	}
	c := Open(Options{})
	from := log.LSN(0)
	if snap != nil {
		from = snap.from
		for id, locs := range snap.pages {
			c.RestorePage(id, locs)
		}
		for id, lsn := range snap.free {
			c.RestoreFree(id, lsn)
		}
		c.SetNext(snap.next)
	}
	clone := lg.fs.CrashClone(vfs.CrashOptions{})
	l2, err := log.Open(log.Options{FS: clone, Dir: "log", SegmentSizeBytes: testSegBytes, FlushEvery: -1}, from, func(lsn log.LSN, kind log.Kind, body []byte) error {
		raw, err := c.Decode(kind, body)
		if err != nil {
			return err
		}
		secs, err := codec.DecodeSections(raw)
		if err != nil {
			return err
		}
		shares := ReplayShares(secs, len(raw), len(body))
		for i, s := range secs {
			if err := c.Replay(lsn, shares[i], s); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	c.FinishRecovery()
	c.Attach(l2)
	t.Cleanup(func() { c.Close(); l2.Close() })
	return c
}

// snapshotOf is what SnapshotPages reported, from the LSN recovery would
// replay from.
type snapshotOf struct {
	from  log.LSN
	next  uint64
	pages map[node.PageID][]Loc
	free  map[node.PageID]log.LSN
}

func (lg *logged) snapshot() *snapshotOf {
	s := &snapshotOf{from: lg.l.CompletePrefix(), pages: map[node.PageID][]Loc{}, free: map[node.PageID]log.LSN{}}
	s.next = lg.c.SnapshotPages(func(id node.PageID, locs []Loc) {
		s.pages[id] = append([]Loc(nil), locs...)
	}, func(id node.PageID, lsn log.LSN) { s.free[id] = lsn })
	return s
}

func setHook(t *testing.T, fn func(stage string)) {
	t.Helper()
	var done atomic.Bool // not sync.Once: fn may run a transition itself
	h := func(stage string) {
		if done.CompareAndSwap(false, true) {
			fn(stage)
		}
	}
	TestHook.Store(&h)
	t.Cleanup(func() { TestHook.Store(nil) })
}

func createLeaf(t *testing.T, c *Cache, tag string) node.PageID {
	t.Helper()
	id, err := c.CreatePage(tagLeaf(tag), func(node.PageID) []codec.Section { return nil })
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func image(n *node.Node) node.Delta { return node.Delta{Kind: node.DeltaImage, Image: n} }

// Defect 1 of the crash-integrity issue: a split that loses its CAS must
// never be seen by a snapshot as having allocated its right page. Here the
// losing update publishes page r (Alloc); a snapshot runs while the update
// is staged (its record reserved, its CAS not yet run) and a racing writer
// makes the CAS lose. Recovery from that snapshot must not find r
// allocated: nothing links it, and its record is canceled.
func TestCanceledAllocationNotInSnapshot(t *testing.T) {
	lg := openLogged(t)
	c := lg.c
	a := createLeaf(t, c, "a0")
	p := mustLoad(t, c, a)
	r, err := c.Allocate(nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Init(r, tagLeaf("right"))

	var snap *snapshotOf
	setHook(t, func(stage string) {
		if stage != StageStaged {
			t.Errorf("first stage %q, want %q", stage, StageStaged)
			return
		}
		snap = lg.snapshot()
		// A racing writer wins the page first.
		q := mustLoad(t, c, a)
		if _, ok, err := c.Update(a, q, tagLeaf("a1"), image(tagLeaf("a1"))); err != nil || !ok {
			t.Errorf("racing update: ok %v, err %v", ok, err)
		}
	})
	_, ok, err := c.Update(a, p, tagLeaf("a-split"), image(tagLeaf("a-split")), Alloc(r))
	if err != nil || ok {
		t.Fatalf("update that must lose: ok %v, err %v", ok, err)
	}
	c.Release(r)
	TestHook.Store(nil)
	if snap == nil {
		t.Fatal("the hook never ran")
	}
	if locs, ok := snap.pages[r]; ok {
		t.Errorf("snapshot records the canceled allocation of page %d at %v", r, locs)
	}
	rc := lg.recovered(t, snap)
	if _, err := rc.Load(r); !errors.Is(err, ErrFreed) {
		t.Errorf("after recovery page %d: %v, want ErrFreed", r, err)
	}
	if got := rc.Stats().Allocated; got != 1 {
		t.Errorf("after recovery %d pages allocated, want 1", got)
	}
	if got := tagOf(mustLoad(t, rc, a)); got != "a1" {
		t.Errorf("page a = %q after recovery, want a1", got)
	}
}

// Defect 2: the cleaner's relocation of a page that an update is freeing
// (a merge victim being unlinked) must never land after the free. Here the
// relocation runs when the unlinking update's decisive CAS has succeeded
// but before its record completes. Recovery must find the victim free.
func TestRelocationCannotResurrectFreedPage(t *testing.T) {
	lg := openLogged(t)
	c := lg.c
	parent := createLeaf(t, c, "parent")
	victim := createLeaf(t, c, "victim")
	vp := mustLoad(t, c, victim)
	segs := map[uint64]bool{uint64(vp.Locs[0].LSN / testSegBytes): true}
	pp := mustLoad(t, c, parent)

	ran := false
	setHook(t, func(stage string) {
		if stage != StageDecided {
			return
		}
		ran = true
		if err := c.Relocate(victim, testSegBytes, segs); err != nil {
			t.Errorf("relocate: %v", err)
		}
	})
	// The hook acts once, at the first stage it is called with; make it
	// skip the staged stage of this update.
	h := *TestHook.Load()
	calls := 0
	wrapped := func(stage string) {
		calls++
		if stage == StageDecided {
			h(stage)
		}
	}
	TestHook.Store(&wrapped)
	if _, ok, err := c.Update(parent, pp, tagLeaf("parent2"), image(tagLeaf("parent2")), Freed(victim)); err != nil || !ok {
		t.Fatalf("unlinking update: ok %v, err %v", ok, err)
	}
	TestHook.Store(nil)
	if !ran {
		t.Fatal("the hook never ran")
	}
	requireFreed(t, c, victim)
	rc := lg.recovered(t, nil)
	if p, err := rc.Load(victim); !errors.Is(err, ErrFreed) {
		t.Errorf("after recovery the freed page %d is back: %v (locs %v)", victim, err, p)
	}
	if got := rc.Stats().Allocated; got != 1 {
		t.Errorf("after recovery %d pages allocated, want 1", got)
	}
}

// A page id freed and reserved again keeps the stamp of its free (P15): a
// snapshot that reports the reserved page as free must report it free at
// that free's LSN, so that replay skips the records of the page's previous
// life. Found by TestConcurrentCrash ("delta ... for page that is not
// allocated" at recovery): here a slow writer's reservation holds the
// snapshot's replay start below the old life's records.
func TestReusedPageKeepsItsFreeStamp(t *testing.T) {
	lg := openLogged(t)
	c := lg.c
	parent := createLeaf(t, c, "parent")
	old := createLeaf(t, c, "old") // its image is below the snapshot's start
	if err := lg.l.Flush(); err != nil {
		t.Fatal(err)
	}
	slow, err := lg.l.Reserve(8) // a slow writer, completed at the end
	if err != nil {
		t.Fatal(err)
	}
	var settled atomic.Bool
	settle := func() {
		if settled.CompareAndSwap(false, true) {
			slow.Abort()
		}
	}
	t.Cleanup(settle) // before the log closes
	p := mustLoad(t, c, old)
	d := node.Delta{Kind: node.DeltaSet, Key: counterKey, Val: []byte("0")}
	if _, ok, err := c.Update(old, p, d.Apply(p.Node), d); err != nil || !ok {
		t.Fatalf("delta: %v %v", ok, err)
	}
	pp := mustLoad(t, c, parent)
	if _, ok, err := c.Update(parent, pp, tagLeaf("p2"), image(tagLeaf("p2")), Freed(old)); err != nil || !ok {
		t.Fatalf("free: %v %v", ok, err)
	}
	if !c.WaitReaders(nil) {
		t.Fatal("WaitReaders")
	}
	c.reclaim()
	again, err := c.Allocate(nil)
	if err != nil {
		t.Fatal(err)
	}
	if again != old {
		t.Fatalf("Allocate returned %d, want the freed id %d back", again, old)
	}
	snap := lg.snapshot()
	if snap.from <= p.Locs[0].LSN {
		t.Fatalf("snapshot starts at %d, not after the old life's image", snap.from)
	}
	settle()
	c.Release(again)
	rc := lg.recovered(t, snap) // failed: "delta at ... for page 2 that is not allocated"
	requireFreed(t, rc, old)
	if got := rc.Stats().Allocated; got != 1 {
		t.Errorf("after recovery %d pages allocated, want 1", got)
	}
}

// A zstd page record whose frame declares more than maxRawRecordBytes is
// refused as corrupt, not allocated.
func TestDecodeRefusesHugeFrames(t *testing.T) {
	c := Open(Options{Compression: true})
	defer c.Close()
	huge := make([]byte, maxRawRecordBytes+1)
	body := c.zenc.EncodeAll(huge, nil) // a few KB declaring 256 MiB + 1
	if _, err := c.Decode(KindPagesZstd, body); !errors.Is(err, codec.ErrCorrupt) {
		t.Fatalf("Decode of a frame of %d bytes: %v, want ErrCorrupt", len(huge), err)
	}
	small := c.zenc.EncodeAll([]byte("sections"), nil)
	if raw, err := c.Decode(KindPagesZstd, small); err != nil || string(raw) != "sections" {
		t.Fatalf("Decode of a small frame: %q, %v", raw, err)
	}
}
