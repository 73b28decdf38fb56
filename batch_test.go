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
		// One update per leaf touched, and a leaf touched once: a batch
		// cannot make more updates than the tree has leaves, plus a few for
		// the splits and merges it causes. The tree settles near 240 pages
		// (about 1,100 keys in leaves of at most 8), so a batch of 400
		// writes or more must make fewer updates than writes; a smaller one
		// may well touch as many leaves as it has keys.
		if updates >= int64(n) && n >= 400 && round >= 10 {
			t.Fatalf("round %d: a batch of %d writes made %d page updates (%d pages before); want one per leaf", round, n, updates, before.Pages)
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

// A batch in strictly increasing key order takes the sorted path (no map,
// no sort): the same state and events as any other batch, across leaves,
// with deletes of present keys, of absent keys and of an empty value.
func TestApplyBatchSortedEvents(t *testing.T) {
	db := openTest(t)
	model := map[string]string{}
	for i := 0; i < 200; i += 2 {
		k := fmt.Sprintf("k%03d", i)
		mustInsert(t, db.Tree, b(k), b("old"))
		model[k] = "old"
	}
	mustInsert(t, db.Tree, b("k005"), []byte{})
	model["k005"] = ""
	s := db.WatchPrefix(nil)
	defer s.Close()
	var batch sled.Batch
	var want []sled.Event
	for i := 0; i < 260; i++ {
		k := fmt.Sprintf("k%03d", i)
		if i%3 == 0 || i == 5 {
			batch.Remove(b(k))
			if _, ok := model[k]; ok {
				want = append(want, del(k))
			}
			delete(model, k)
			continue
		}
		batch.Insert(b(k), b(fmt.Sprint(i)))
		want = append(want, set(k, fmt.Sprint(i)))
		model[k] = fmt.Sprint(i)
	}
	if err := db.ApplyBatch(&batch); err != nil {
		t.Fatal(err)
	}
	expectEvents(t, s, want)
	for i := 0; i < 300; i++ {
		k := fmt.Sprintf("k%03d", i)
		v := mustGet(t, db.Tree, b(k))
		if mv, ok := model[k]; v == nil && ok || v != nil && (!ok || string(v) != mv) {
			t.Fatalf("%s = %q after the sorted batch; model %q, %v", k, v, mv, ok)
		}
	}
}
