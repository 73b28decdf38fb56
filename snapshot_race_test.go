package sled

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sledgo/sled/internal/codec"
	"github.com/sledgo/sled/internal/log"
	"github.com/sledgo/sled/internal/node"
	"github.com/sledgo/sled/internal/pagecache"
	"github.com/sledgo/sled/vfs"
)

// Regression: a snapshot whose page scan runs between DropTree's Take and
// its logged free, after a write to the tree past the snapshot's start,
// must still recover (db.snapshot's steps, interleaved by hand; all three
// hold the gate as writers).
func TestSnapshotDuringDropTree(t *testing.T) {
	mem := vfs.NewMem()
	cfg := Config{Path: "db", FS: mem, FlushEvery: -1}
	db, err := cfg.Open()
	if err != nil {
		t.Fatal(err)
	}
	tr, _ := db.OpenTree("t")
	tr.Insert([]byte("a"), []byte("1"))
	db.Flush()

	snap := &codec.Snapshot{}
	c := db.gate.enterWrite()
	from := db.log.CompletePrefix()
	snap.LSN = uint64(from)
	// a writer logs a delta to the tree's leaf after `from`
	if _, err := tr.Insert([]byte("b"), []byte("2")); err != nil {
		t.Fatal(err)
	}
	// DropTree, first half (it holds db.mu)
	db.mu.Lock()
	tr.dropped.Store(true)
	dc := db.gate.enterWrite()
	ids, err := tr.t.Take()
	if err != nil {
		t.Fatal(err)
	}
	// the snapshot's page scan runs now
	snap.NextPage = db.pc.SnapshotPages(func(id node.PageID, locs []pagecache.Loc) {
		e := codec.PageEntry{ID: id}
		for _, l := range locs {
			e.Locs = append(e.Locs, uint64(l.LSN))
		}
		snap.Pages = append(snap.Pages, e)
	}, func(id node.PageID, lsn log.LSN) {
		snap.Free = append(snap.Free, codec.FreeEntry{ID: id, LSN: uint64(lsn)})
	})
	// DropTree, second half
	if err := db.pc.FreePages(ids, codec.Section{Kind: codec.SecTreeDrop, Name: "t"}); err != nil {
		t.Fatal(err)
	}
	db.gate.exitWrite(dc)
	delete(db.mu.trees, "t")
	delete(db.mu.created, "t")
	db.mu.Unlock()
	// the snapshot's tree list, then the rest of db.snapshot
	db.mu.Lock()
	for name, t := range db.mu.trees {
		snap.Trees = append(snap.Trees, codec.TreeEntry{Name: name, Root: t.t.Root(), CreatedLSN: uint64(db.mu.created[name])})
	}
	db.mu.Unlock()
	snap.IDHigh = db.idHigh.Load()
	tail := db.log.Tail()
	db.gate.exitWrite(c)
	for db.log.CompletePrefix() < tail {
		time.Sleep(50 * time.Microsecond)
	}
	if err := db.log.Flush(); err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("%s%016x", snapPrefix, snap.LSN)
	f, _ := mem.Create("db/" + name)
	if err := codec.WriteSnapshot(f, snap); err != nil {
		t.Fatal(err)
	}
	f.Sync()
	f.Close()
	mem.SyncDir("db")
	// power loss (or any crash) before the next snapshot
	_, err = Config{Path: "db", FS: mem.CrashClone(vfs.CrashOptions{Mode: vfs.DropAllUnsynced}), FlushEvery: -1}.Open()
	if err != nil {
		t.Fatalf("reopen: %v (corruption: %v)", err, errors.Is(err, ErrCorruption))
	}
}
