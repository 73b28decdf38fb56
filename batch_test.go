package sled_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/sledgo/sled"
	"github.com/sledgo/sled/internal/testutil"
	"github.com/sledgo/sled/vfs"
)

// A batch is applied leaf by leaf: large batches over existing keys, with
// repeated keys (the last write wins) and deletes, give the state of the
// writes applied one by one, survive a reopen, and log one fragment per
// leaf touched rather than one per write.
func TestApplyBatchLeafByLeaf(t *testing.T) {
	seed := testutil.Seed(t)
	rng := rand.New(rand.NewPCG(seed, 3))
	mem := vfs.NewMem()
	cfg := sled.Config{Path: "db", FS: mem, NodeMaxEntries: 8, FlushEvery: -1}
	db, err := cfg.Open()
	if err != nil {
		t.Fatal(err)
	}
	model := map[string]string{}
	for round := range 30 {
		var b sled.Batch
		n := 1 + rng.IntN(600)
		for i := range n {
			k := fmt.Sprintf("k%04d", rng.IntN(1500))
			if rng.IntN(4) == 0 {
				b.Remove([]byte(k))
				delete(model, k)
			} else {
				v := fmt.Sprintf("%d.%d", round, i)
				b.Insert([]byte(k), []byte(v))
				model[k] = v
			}
		}
		before := db.Stats()
		if err := db.ApplyBatch(&b); err != nil {
			t.Fatal(err)
		}
		after := db.Stats()
		// The cleaner's relocations, in the background, are page updates
		// too: not the batch's. While the tree grows (the first rounds
		// insert mostly new keys into 8-entry leaves), splits add updates
		// of their own; later most keys exist and leaves rarely split.
		updates := after.PageUpdates - before.PageUpdates - (after.PagesRelocated - before.PagesRelocated)
		if updates >= int64(n) && n > 50 && round >= 10 {
			t.Fatalf("round %d: a batch of %d writes made %d page updates; want one per leaf", round, n, updates)
		}
		if got := dump(t, db.Tree); !mapsEqual(got, model) {
			t.Fatalf("round %d: state differs from the model: %v", round, diff(got, model))
		}
	}
	closeDB(t, db)
	db, err = cfg.Open()
	if err != nil {
		t.Fatal(err)
	}
	if got := dump(t, db.Tree); !mapsEqual(got, model) {
		t.Fatalf("after reopen: %v", diff(got, model))
	}
	closeDB(t, db)
}

// Subscribers see every write of a batch in batch order, also several
// writes to one key, even though the tree applies only the last.
func TestApplyBatchEventsInOrder(t *testing.T) {
	db := openTest(t)
	mustInsert(t, db.Tree, b("a"), b("0"))
	s := db.WatchPrefix(nil)
	defer s.Close()
	var batch sled.Batch
	batch.Insert(b("b"), b("1"))
	batch.Remove(b("a"))
	batch.Remove(b("a")) // absent by now: no event
	batch.Insert(b("a"), b("2"))
	batch.Remove(b("zz")) // never present: no event
	batch.Insert(b("b"), b("3"))
	if err := db.ApplyBatch(&batch); err != nil {
		t.Fatal(err)
	}
	expectEvents(t, s, []sled.Event{set("b", "1"), del("a"), set("a", "2"), set("b", "3")})
	if v := mustGet(t, db.Tree, b("b")); string(v) != "3" {
		t.Fatalf("b = %q", v)
	}
}
