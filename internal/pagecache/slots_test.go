package pagecache

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"testing"

	"github.com/sledgo/sled/internal/codec"
	"github.com/sledgo/sled/internal/invariants"
	"github.com/sledgo/sled/internal/node"
)

// TestSlotWaitsForPins is P17: a page-in's node lives in an arena slot;
// evicting the page retires the slot, which goes back to the arena only
// after every operation pinned at the eviction has unpinned. A reader
// that pinned before the eviction reads the node intact however much the
// epoch is pushed; once it unpins, the slot is returned (and poisoned
// with assertions on).
func TestSlotWaitsForPins(t *testing.T) {
	lg := openLogged(t)
	c := lg.c
	if c.slab == nil {
		t.Skip("no slab")
	}
	id := createLeaf(t, c, "slot")
	evictNow(t, c, id) // the created node is on the heap; no slot yet
	if in, _, _ := c.SlotStats(); in != 0 {
		t.Fatalf("%d slot bytes in use before any page-in", in)
	}
	g := c.Pin()
	p := mustLoad(t, c, id)
	sl := p.Node.Slot()
	if sl == nil {
		t.Fatal("a page-in's node is not in a slot")
	}
	if in, _, _ := c.SlotStats(); in != int64(cap(sl)) {
		t.Fatalf("slot bytes in use %d, want the page's slot %d", in, cap(sl))
	}
	want := append([]byte(nil), p.Node.Bytes()...)
	evictNow(t, c, id)
	for range 10 {
		c.reclaimSlots()
	}
	if _, _, waiting := c.SlotStats(); waiting != 1 {
		t.Fatalf("%d slots waiting, want the evicted page's", waiting)
	}
	if !bytes.Equal(p.Node.Bytes(), want) || tagOf(p) != "slot" {
		t.Fatal("a pinned reader's node changed after eviction")
	}
	if s := c.Stats(); s.SlotWaiting != c.slotCharge(sl) || s.MemBytes != 0 {
		t.Fatalf("evicted: MemBytes %d SlotWaiting %d, want 0 and %d", s.MemBytes, s.SlotWaiting, c.slotCharge(sl))
	}
	g.Unpin()
	for range 3 {
		c.reclaimSlots()
	}
	in, _, waiting := c.SlotStats()
	if waiting != 0 || in != 0 || c.Stats().SlotWaiting != 0 {
		t.Fatalf("after the pin: %d slots waiting, %d bytes in use", waiting, in)
	}
	// The next page-in reuses the slot.
	p2 := mustLoad(t, c, id)
	if tagOf(p2) != "slot" || p2.Node.Slot() == nil {
		t.Fatal("the page did not come back in a slot")
	}
}

// TestSlotsAccountedThroughWrites: writes that add an overlay share a
// page-in's slot; a write that folds the leaf into a new heap buffer, a
// free and failed page-ins give the slot back. Every slot handed out is
// either held by a resident state or waiting, at every step.
func TestSlotsAccountedThroughWrites(t *testing.T) {
	lg := openLogged(t)
	c := lg.c
	if c.slab == nil {
		t.Skip("no slab")
	}
	ids := leafPages(t, c, 8, 50)
	check := func(what string) {
		t.Helper()
		var held int64
		c.each(func(_ node.PageID, _ *slot, p *Page) {
			if sl := p.slotOf(); sl != nil {
				held += int64(cap(sl))
			}
		})
		c.slots.mu.Lock()
		for _, r := range c.slots.list {
			held += int64(cap(r.b))
		}
		c.slots.mu.Unlock()
		if in, _, _ := c.SlotStats(); in != held {
			t.Fatalf("%s: %d slot bytes handed out, %d held by states or waiting", what, in, held)
		}
	}
	for round := range 5 {
		for _, id := range ids {
			evictNow(t, c, id)
		}
		check("evicted")
		for i, id := range ids {
			p := mustLoad(t, c, id)
			if p.Node.Slot() == nil {
				t.Fatalf("round %d: page-in of %d not in a slot", round, id)
			}
			var n *node.Node
			var d node.Delta
			if i%2 == 0 { // a small write: an overlay on the slot
				d = node.Delta{Kind: node.DeltaSet, Key: []byte(fmt.Sprintf("key%03d", round)), Val: []byte("v")}
				n = d.Apply(p.Node)
				if !n.SharesSlot(p.Node) {
					t.Fatal("an overlay write copied the page-in's node")
				}
			} else { // a full image on the heap
				n = tagLeaf(fmt.Sprint("leaf", i, "round", round))
				d = image(n)
			}
			if _, ok, err := c.Update(id, p, n, d); !ok || err != nil {
				t.Fatalf("Update = %v, %v", ok, err)
			}
			check(fmt.Sprint("round ", round, " page ", id))
		}
		for range 3 {
			c.reclaimSlots()
		}
		check("reclaimed")
	}
	if c.Free(ids[0]) == nil {
		t.Fatal("Free found nothing")
	}
	for range 3 {
		c.reclaimSlots()
	}
	check("freed")
}

// TestIdleSlotsGoBack (M2, slab S4): once page-ins stop needing the slots
// that evictions freed, a trim gives their pages back beyond the arena's
// keep, so it does not hold its high-water mark.
func TestIdleSlotsGoBack(t *testing.T) {
	if runtime.GOOS != "linux" || os.Getpagesize() != 4096 || invariants.Enabled {
		t.Skip("needs Linux with 4 KiB pages (the test's nodes are sized for them), and no re-poisoning (slab S4)")
	}
	lg := openLogged(t)
	c := lg.c
	if c.slab == nil {
		t.Skip("no slab")
	}
	keep := int64(64 << 10)
	c.slab.SetKeep(keep) // below what the test's pages take (Open sets capacity/16)
	ids := leafPages(t, c, 64, 100)
	for _, id := range ids {
		evictNow(t, c, id)
		if p := mustLoad(t, c, id); p.Node.Slot() == nil {
			t.Fatal("page-in not in a slot")
		}
	}
	_, peak, _ := c.SlotStats()
	for _, id := range ids {
		evictNow(t, c, id)
	}
	for range 3 {
		c.reclaimSlots()
	}
	c.slab.Trim() // the page-ins needed every slot in this interval
	c.slab.Trim() // none in this one
	inUse, held, _ := c.SlotStats()
	if held-inUse > keep+int64(len(ids))*2*int64(os.Getpagesize()) {
		t.Fatalf("after the trims the arena holds %d bytes (%d in use, keep %d; %d at the peak)", held, inUse, keep, peak)
	}
	if held >= peak {
		t.Fatalf("the arena still holds its high-water mark: %d of %d", held, peak)
	}
	t.Logf("held %d at the peak, %d after trims (%d in use, keep %d)", peak, held, inUse, keep)
}

// leafPages creates n leaf pages of 100 entries with values of valLen
// bytes, page i's values all byte i.
func leafPages(t *testing.T, c *Cache, n, valLen int) []node.PageID {
	t.Helper()
	var ids []node.PageID
	for i := range n {
		var keys, vals [][]byte
		for j := range 100 {
			keys = append(keys, []byte(fmt.Sprintf("key%03d", j)))
			vals = append(vals, bytes.Repeat([]byte{byte(i)}, valLen))
		}
		id, err := c.CreatePage(node.NewLeaf([]byte{}, nil, 0, keys, vals), func(node.PageID) []codec.Section { return nil })
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}
