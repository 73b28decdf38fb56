package pagecache

import (
	"fmt"
	"testing"

	"github.com/sledgo/sled/internal/codec"
	"github.com/sledgo/sled/internal/log"
	"github.com/sledgo/sled/internal/node"
	"github.com/sledgo/sled/vfs"
)

// evictNow drops page id's node as the CLOCK hand would (P6), failing the
// test if the page is not resident or its fragments are not written.
func evictNow(t *testing.T, c *Cache, id node.PageID) {
	t.Helper()
	if err := c.log.Flush(); err != nil {
		t.Fatal(err)
	}
	s := c.slot(id, false)
	p := s.p.Load()
	if p == nil || p.Node == nil {
		t.Fatalf("page %d is not resident", id)
	}
	if !c.dropNode(s, p) {
		t.Fatalf("evicting page %d lost a race", id)
	}
}

func queued(c *Cache) []Scattered {
	var ids []Scattered
	for {
		select {
		case sc := <-c.Consolidations():
			ids = append(ids, sc)
		default:
			return ids
		}
	}
}

// TestConsolidateScatteredPage is C3: a page whose image and fragments lie
// in consolidateReads or more places is queued on its consolidateAfter-th
// such page-in (not its first), and Consolidate rewrites it as one image:
// same content, one read at the next page-in, and recovery finds it.
func TestConsolidateScatteredPage(t *testing.T) {
	lg := openLogged(t)
	c := lg.c
	// A leaf much larger than a fragment, so that fragments stay
	// fragments (P4's byte rule) and the page ends up in several places.
	var keys, vals [][]byte
	for i := range 50 {
		keys = append(keys, []byte(fmt.Sprintf("a%03d", i)))
		vals = append(vals, make([]byte, 100))
	}
	keys = append(keys, counterKey)
	vals = append(vals, []byte("0"))
	id, err := c.CreatePage(node.NewLeaf([]byte{}, nil, 0, keys, vals), func(node.PageID) []codec.Section { return nil })
	if err != nil {
		t.Fatal(err)
	}
	p := mustLoad(t, c, id)
	for range consolidateReads {
		n, d := incr(t, p)
		np, ok, err := c.Update(id, p, n, d)
		if !ok || err != nil {
			t.Fatalf("Update = %v, %v", ok, err)
		}
		p = np
	}
	locs := len(p.Locs)
	if locs <= consolidateReads {
		t.Fatalf("%d locations after %d fragments; the test needs more than %d", locs, consolidateReads, consolidateReads)
	}
	// Consolidate does not page a page in: an evicted page is left alone.
	evictNow(t, c, id)
	if err := c.Consolidate(Scattered{id, p.stamp()}); err != nil || c.Stats().Consolidated != 0 {
		t.Fatalf("Consolidate of an evicted page: %v, %d consolidated", err, c.Stats().Consolidated)
	}
	for i := 1; i <= consolidateAfter; i++ {
		before := c.Stats()
		if got := counterOf(t, mustLoad(t, c, id)); got != consolidateReads {
			t.Fatalf("page-in %d: counter %d, want %d", i, got, consolidateReads)
		}
		after := c.Stats()
		if r := after.PageInReads - before.PageInReads; r != int64(locs) || after.Misses-before.Misses != 1 {
			t.Fatalf("page-in %d: %d reads, %d misses; want %d reads, 1 miss", i, r, after.Misses-before.Misses, locs)
		}
		q := queued(c)
		switch {
		case i < consolidateAfter && len(q) != 0:
			t.Fatalf("page-in %d queued %v before the %d-th scattered page-in", i, q, consolidateAfter)
		case i == consolidateAfter && (len(q) != 1 || q[0] != Scattered{id, p.stamp()}):
			t.Fatalf("page-in %d queued %v, want [{%d %d}]", i, q, id, p.stamp())
		}
		if i < consolidateAfter {
			evictNow(t, c, id)
		}
	}
	// A page written since it was queued is left to the byte rule (P4).
	written := mustLoad(t, c, id)
	n, d := incr(t, written)
	written, ok, err := c.Update(id, written, n, d)
	if !ok || err != nil {
		t.Fatalf("Update = %v, %v", ok, err)
	}
	if err := c.Consolidate(Scattered{id, p.stamp()}); err != nil || c.Stats().Consolidated != 0 {
		t.Fatalf("Consolidate of a page written since: %v, %d consolidated", err, c.Stats().Consolidated)
	}
	p = written
	want := consolidateReads + 1
	if err := c.Consolidate(Scattered{id, p.stamp()}); err != nil {
		t.Fatal(err)
	}
	p = mustLoad(t, c, id)
	if len(p.Locs) != 1 || p.Frags != 0 || counterOf(t, p) != want || c.Stats().Consolidated != 1 {
		t.Fatalf("after Consolidate: %d locations, %d fragments, counter %d, %d consolidated; want 1, 0, %d, 1",
			len(p.Locs), p.Frags, counterOf(t, p), c.Stats().Consolidated, want)
	}
	// Nothing left to do: a second Consolidate writes nothing.
	logged := c.Stats().LoggedBytes
	if err := c.Consolidate(Scattered{id, p.stamp()}); err != nil || c.Stats().LoggedBytes != logged {
		t.Fatalf("second Consolidate: %v, wrote %d bytes", err, c.Stats().LoggedBytes-logged)
	}
	evictNow(t, c, id)
	before := c.Stats()
	if got := counterOf(t, mustLoad(t, c, id)); got != want {
		t.Fatalf("after consolidation: counter %d, want %d", got, want)
	}
	if r := c.Stats().PageInReads - before.PageInReads; r != 1 {
		t.Fatalf("page-in after consolidation: %d reads, want 1", r)
	}
	if len(queued(c)) != 0 {
		t.Fatal("a one-read page-in queued the page")
	}
	rc := lg.recovered(t, nil)
	if got := counterOf(t, mustLoad(t, rc, id)); got != want {
		t.Fatalf("recovered: counter %d, want %d", got, want)
	}
	// A freed page is left alone.
	if c.Free(id) == nil {
		t.Fatal("Free found no state")
	}
	if err := c.Consolidate(Scattered{id, p.stamp()}); err != nil || c.Stats().Consolidated != 1 {
		t.Fatalf("Consolidate of a freed page: %v, %d consolidated", err, c.Stats().Consolidated)
	}
}

// checkResidentHints checks R1 at rest: every slot's resident hint says
// whether its page is resident.
func checkResidentHints(c *Cache) error {
	var err error
	c.each(func(id node.PageID, s *slot, p *Page) {
		hint := s.meta.Load()&residentBit != 0
		if resident := p != nil && p.Node != nil; hint != resident && err == nil {
			err = fmt.Errorf("page %d: resident %v, hint %v", id, resident, hint)
		}
	})
	return err
}

// recount sums, over every slot, what memBytes and tableBytes count.
func recount(c *Cache) (mem, table int64) {
	c.each(func(_ node.PageID, _ *slot, p *Page) {
		mem += c.charge(p)
		table += p.tableBytes()
	})
	return mem, table
}

// TestTableBytesExact is M1's accounting: through page-ins, updates,
// evictions, consolidation, frees and recovery, the counters equal a
// recount of the page states, and the node target is the capacity less
// the table, floored at a quarter of the capacity.
func TestTableBytesExact(t *testing.T) {
	lg := openLogged(t)
	c := lg.c
	check := func(what string, c *Cache) {
		t.Helper()
		mem, table := recount(c)
		s := c.Stats()
		if s.MemBytes != mem || s.TableBytes != table {
			t.Fatalf("%s: MemBytes %d TableBytes %d; a recount gives %d and %d", what, s.MemBytes, s.TableBytes, mem, table)
		}
		if w := c.waitingCharge(); s.SlotWaiting != w {
			t.Fatalf("%s: SlotWaiting %d; a recount gives %d", what, s.SlotWaiting, w)
		}
		if err := checkResidentHints(c); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	var ids []node.PageID
	for i := range 20 {
		ids = append(ids, createLeaf(t, c, fmt.Sprint("leaf", i)))
	}
	check("created", c)
	for round := range 3 {
		for i, id := range ids {
			p := mustLoad(t, c, id)
			n := tagLeaf(fmt.Sprint("leaf", i, "round", round))
			d := image(n)
			if i%2 == 0 {
				d = node.Delta{Kind: node.DeltaSet, Key: []byte("tag"), Val: n.Val(0)}
				n = d.Apply(p.Node)
			}
			if _, ok, err := c.Update(id, p, n, d); !ok || err != nil {
				t.Fatalf("Update = %v, %v", ok, err)
			}
		}
		check(fmt.Sprint("round ", round), c)
		for _, id := range ids[:10] {
			evictNow(t, c, id)
		}
		if c.Stats().TableBytes == 0 {
			t.Fatal("evicted pages cost the table nothing")
		}
		check(fmt.Sprint("evicted, round ", round), c)
	}
	for _, id := range ids[:5] {
		mustLoad(t, c, id)
	}
	check("paged in", c)
	for _, id := range ids[15:] {
		c.Free(id)
	}
	check("freed", c)
	rc := lg.recovered(t, nil)
	check("recovered", rc)
	mustLoad(t, rc, ids[0])
	check("recovered, paged in", rc)

	saved := c.tableBytes.Load()
	defer c.tableBytes.Store(saved)
	c.capacity = 1000
	defer func() { c.capacity = 0 }()
	c.tableBytes.Store(300)
	if got := c.nodeTarget(); got != 700 {
		t.Errorf("nodeTarget = %d with capacity 1000 and a table of 300; want 700", got)
	}
	c.tableBytes.Store(900)
	if got := c.nodeTarget(); got != 1000/minNodeShare {
		t.Errorf("nodeTarget = %d with a table of 900; want the floor %d", got, 1000/minNodeShare)
	}
}

// TestImageFormOption: the cache writes images in the form
// Options.FlatImages asks for, and pages in either.
func TestImageFormOption(t *testing.T) {
	for _, flat := range []bool{false, true} {
		fs := vfs.NewMem()
		l, err := log.Open(log.Options{FS: fs, Dir: "log", SegmentSizeBytes: testSegBytes, FlushEvery: -1}, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		c := Open(Options{Log: l, FlatImages: flat})
		id := createLeaf(t, c, "x")
		p := mustLoad(t, c, id)
		kind, body, err := l.Read(p.Locs[0].LSN)
		if err != nil {
			t.Fatal(err)
		}
		if body, err = c.Decode(kind, body); err != nil {
			t.Fatal(err)
		}
		secs, err := codec.DecodeSections(body)
		if err != nil || len(secs) == 0 || secs[0].Kind != codec.SecImage {
			t.Fatalf("flat %v: sections %+v, %v", flat, secs, err)
		}
		if secs[0].Varint == flat {
			t.Errorf("FlatImages %v wrote an image with Varint %v", flat, secs[0].Varint)
		}
		evictNow(t, c, id)
		if got := tagOf(mustLoad(t, c, id)); got != "x" {
			t.Errorf("flat %v: paged in %q", flat, got)
		}
		c.Close()
		l.Close()
	}
}
