package sled

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sledgo/sled/internal/codec"
	"github.com/sledgo/sled/internal/log"
	"github.com/sledgo/sled/internal/node"
	"github.com/sledgo/sled/internal/pagecache"
	"github.com/sledgo/sled/vfs"
)

// Regression: a snapshot whose page scan runs while DropTree's frees are
// made but not decided, after a write to the tree past the snapshot's start,
// must still recover (db.snapshot's steps, interleaved by hand).
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
	from := db.log.CompletePrefix()
	snap.LSN = uint64(from)
	// a writer logs a delta to the tree's leaf after `from`
	if _, err := tr.Insert([]byte("b"), []byte("2")); err != nil {
		t.Fatal(err)
	}
	// the snapshot's page scan runs while DropTree's transition is staged:
	// its frees are made, not yet decided
	var scanned atomic.Bool
	hook := func(stage string) {
		if stage != pagecache.StageStaged || !scanned.CompareAndSwap(false, true) {
			return
		}
		snap.NextPage = db.pc.SnapshotPages(func(id node.PageID, locs []pagecache.Loc) {
			e := codec.PageEntry{ID: id}
			for _, l := range locs {
				e.Locs = append(e.Locs, uint64(l.LSN))
			}
			snap.Pages = append(snap.Pages, e)
		}, func(id node.PageID, lsn log.LSN) {
			snap.Free = append(snap.Free, codec.FreeEntry{ID: id, LSN: uint64(lsn)})
		})
	}
	pagecache.TestHook.Store(&hook)
	err = db.DropTree("t")
	pagecache.TestHook.Store(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !scanned.Load() {
		t.Fatal("the drop ran no staged transition")
	}
	// the snapshot's tree list, then the rest of db.snapshot
	db.mu.Lock()
	for name, t := range db.mu.trees {
		snap.Trees = append(snap.Trees, codec.TreeEntry{Name: name, Root: t.t.Root(), CreatedLSN: uint64(db.mu.created[name])})
	}
	db.mu.Unlock()
	snap.IDHigh = db.ids.high.Load()
	tail := db.log.Tail()
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
