package sled

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sledgo/sled/vfs"
)

// T7: a crash between a multi-key commit's redo record and its end record
// loses nothing: Open finishes the commit from the redo record. The crash is
// taken at each step of the commit (after the redo record, after the first
// tree's writes), with the log flushed up to there and everything unsynced
// dropped, and with nothing flushed (the commit is then absent as a whole).
func TestCommitCrashFinishedByRedo(t *testing.T) {
	for _, step := range []string{"redo", "tree"} {
		for _, flush := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/flush=%v", step, flush), func(t *testing.T) {
				mem := vfs.NewMem()
				cfg := Config{Path: "db", FS: mem, FlushEvery: -1, NodeMaxEntries: 4}
				db, err := cfg.Open()
				if err != nil {
					t.Fatal(err)
				}
				a, _ := db.OpenTree("a")
				b, _ := db.OpenTree("b")
				for i := 0; i < 40; i++ { // several leaves per tree
					a.Insert([]byte(fmt.Sprintf("k%02d", i)), []byte("old"))
					b.Insert([]byte(fmt.Sprintf("k%02d", i)), []byte("old"))
				}
				if err := db.Flush(); err != nil {
					t.Fatal(err)
				}
				var clone *vfs.MemFS
				hook := func(s string) {
					if s != step || clone != nil {
						return
					}
					if flush {
						if err := db.log.Flush(); err != nil {
							t.Error(err)
						}
					}
					clone = mem.CrashClone(vfs.CrashOptions{Mode: vfs.DropAllUnsynced})
				}
				txTestHook.Store(&hook)
				err = db.Transaction(func(tx *Tx) error {
					for i := 0; i < 40; i += 3 {
						k := []byte(fmt.Sprintf("k%02d", i))
						if err := tx.Insert(a, k, []byte("new")); err != nil {
							return err
						}
						if err := tx.Remove(b, k); err != nil {
							return err
						}
					}
					return nil
				})
				txTestHook.Store(nil)
				if err != nil {
					t.Fatal(err)
				}
				if clone == nil {
					t.Fatalf("the commit never reached step %q", step)
				}
				db.Close()
				db2, err := Config{Path: "db", FS: clone, FlushEvery: -1, NodeMaxEntries: 4}.Open()
				if err != nil {
					t.Fatal(err)
				}
				defer db2.Close()
				if flush && db2.redone != 1 {
					t.Errorf("Open finished %d commits, want 1", db2.redone)
				}
				a2, _ := db2.OpenTree("a")
				b2, _ := db2.OpenTree("b")
				news, gone := 0, 0
				for i := 0; i < 40; i++ {
					k := []byte(fmt.Sprintf("k%02d", i))
					va, err := a2.Get(k)
					if err != nil {
						t.Fatal(err)
					}
					vb, err := b2.Get(k)
					if err != nil {
						t.Fatal(err)
					}
					if i%3 != 0 {
						if !bytes.Equal(va, []byte("old")) || !bytes.Equal(vb, []byte("old")) {
							t.Fatalf("untouched key %s: %q %q", k, va, vb)
						}
						continue
					}
					if bytes.Equal(va, []byte("new")) {
						news++
					}
					if vb == nil {
						gone++
					}
				}
				want := 0
				if flush {
					want = 14
				}
				if news != want || gone != want {
					t.Fatalf("after the crash: %d of 14 inserts and %d of 14 removes survived, want %d of each (all or none)", news, gone, want)
				}
				// The finished commit is not finished again by a second open.
				db2.Close()
				db3, err := Config{Path: "db", FS: clone, FlushEvery: -1, NodeMaxEntries: 4}.Open()
				if err != nil {
					t.Fatal(err)
				}
				if db3.redone != 0 {
					t.Errorf("the second open finished %d commits again", db3.redone)
				}
				db3.Close()
			})
		}
	}
}

// A read-only open of a log that ends inside a commit refuses with a clear
// error and changes nothing; a writable open then finishes it.
func TestCommitCrashReadOnlyOpen(t *testing.T) {
	mem := vfs.NewMem()
	dir := t.TempDir()
	_ = dir
	cfg := Config{Path: "db", FS: mem, FlushEvery: -1}
	db, err := cfg.Open()
	if err != nil {
		t.Fatal(err)
	}
	var clone *vfs.MemFS
	hook := func(s string) {
		if s == "redo" && clone == nil {
			db.log.Flush()
			clone = mem.CrashClone(vfs.CrashOptions{Mode: vfs.DropAllUnsynced})
		}
	}
	txTestHook.Store(&hook)
	var b Batch
	b.Insert([]byte("x"), []byte("1"))
	b.Insert([]byte("y"), []byte("2"))
	err = db.ApplyBatch(&b)
	txTestHook.Store(nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := (Config{Path: "db", FS: clone, ReadOnly: true}).Open(); err == nil {
		t.Fatal("a read-only open of a log ending inside a commit succeeded")
	}
	db2, err := Config{Path: "db", FS: clone}.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	for _, k := range []string{"x", "y"} {
		if v, _ := db2.Get([]byte(k)); v == nil {
			t.Fatalf("key %s of the batch is missing after the finishing open", k)
		}
	}
}

// A redo record names its tree by creation: a commit cut by a crash after
// its tree was dropped and created again under the same name is not
// finished into the new tree.
func TestCommitCrashTreeRecreated(t *testing.T) {
	mem := vfs.NewMem()
	db, err := Config{Path: "db", FS: mem, FlushEvery: -1}.Open()
	if err != nil {
		t.Fatal(err)
	}
	x, _ := db.OpenTree("x")
	var clone *vfs.MemFS
	hook := func(s string) {
		if s != "redo" || clone != nil {
			return
		}
		if err := db.DropTree("x"); err != nil {
			t.Error(err)
		}
		if _, err := db.OpenTree("x"); err != nil {
			t.Error(err)
		}
		db.log.Flush()
		clone = mem.CrashClone(vfs.CrashOptions{Mode: vfs.DropAllUnsynced})
	}
	txTestHook.Store(&hook)
	err = db.Transaction(func(tx *Tx) error {
		tx.Insert(x, []byte("a"), []byte("1"))
		return tx.Insert(x, []byte("b"), []byte("2"))
	})
	txTestHook.Store(nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	db2, err := Config{Path: "db", FS: clone}.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	x2, err := db2.OpenTree("x")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := x2.Len(); n != 0 {
		t.Fatalf("the tree created again holds %d entries of a commit into the dropped one", n)
	}
}

// A transaction that only reads a range, run while a batch installs
// (removing one key of the range, adding another), commits only a run that
// saw the range before the batch or after it, never the half between.
func TestReadOnlyRangeDuringInstall(t *testing.T) {
	db, err := Config{Temporary: true}.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.Insert([]byte("a"), []byte("old"))
	var seen []string
	done := make(chan error, 1)
	read := make(chan struct{})
	var once sync.Once
	hook := func(s string) {
		if s != "tree" {
			return
		}
		once.Do(func() {
			go func() {
				first := true
				done <- db.Transaction(func(tx *Tx) error {
					seen = seen[:0]
					it := tx.Range(db.Tree, nil, nil)
					for it.Next() {
						seen = append(seen, string(it.Key()))
					}
					if first {
						first = false
						close(read)
					}
					return it.Err()
				})
			}()
			<-read
			time.Sleep(20 * time.Millisecond) // the reader commits meanwhile, if it can
		})
	}
	txTestHook.Store(&hook)
	var b Batch
	b.Remove([]byte("a"))
	b.Insert([]byte("b"), []byte("new"))
	err = db.ApplyBatch(&b)
	txTestHook.Store(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(seen); got != "[a]" && got != "[b]" {
		t.Fatalf("a read-only transaction committed having seen %s of a batch that turns [a] into [b]", got)
	}
}

// A callback that panics leaves no lock behind: the key can be written
// again and snapshots still open.
func TestPanickingCallbackReleasesKey(t *testing.T) {
	db, err := Config{Temporary: true}.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, _ := db.Snapshot() // versions are recorded
	func() {
		defer func() { recover() }()
		db.Update([]byte("k"), func([]byte) []byte { panic("boom") })
	}()
	s.Close()
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		db.Insert([]byte("k"), []byte("v"))
		s2, _ := db.Snapshot()
		if v, _ := s2.Get(db.Tree, []byte("k")); string(v) != "v" {
			t.Errorf("snapshot after the panic reads %q", v)
		}
		s2.Close()
	}()
	select {
	case <-finished:
	case <-time.After(10 * time.Second):
		t.Fatal("a write after a panicking Update callback hangs: its key's lock was kept")
	}
}
