package vfs_test

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/sledgo/sled/internal/testutil"
	"github.com/sledgo/sled/vfs"
)

var (
	dropAll = vfs.CrashOptions{Mode: vfs.DropAllUnsynced}
)

// exists reports whether name exists in fs.
func exists(t *testing.T, fs *vfs.MemFS, name string) bool {
	t.Helper()
	_, err := fs.Stat(name)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return err == nil
}

func contents(t *testing.T, fs *vfs.MemFS, name string) string {
	t.Helper()
	b, err := fs.ReadFile(name)
	must(t, err)
	return string(b)
}

// newDurableDir returns a MemFS with a durable directory /db.
func newDurableDir(t *testing.T) *vfs.MemFS {
	fs := vfs.NewMem()
	must(t, fs.MkdirAll("/db", 0o755))
	must(t, fs.SyncDir("/"))
	return fs
}

func TestCrashDropsUnsyncedData(t *testing.T) {
	fs := newDurableDir(t)
	f, err := fs.Create("/db/f")
	must(t, err)
	_, err = f.Write([]byte("synced"))
	must(t, err)
	must(t, f.Sync())
	must(t, fs.SyncDir("/db"))
	_, err = f.Write([]byte("+unsynced"))
	must(t, err)

	after := fs.CrashClone(dropAll)
	if got := contents(t, after, "/db/f"); got != "synced" {
		t.Fatalf("after crash: %q, want %q", got, "synced")
	}
	// The original is unaffected and the handle still works.
	if got := contents(t, fs, "/db/f"); got != "synced+unsynced" {
		t.Fatalf("original: %q", got)
	}
	must(t, f.Sync())
	if got := contents(t, fs.CrashClone(dropAll), "/db/f"); got != "synced+unsynced" {
		t.Fatalf("after sync and crash: %q", got)
	}
	must(t, f.Close())
}

func TestCrashUnsyncedTruncateAndCreate(t *testing.T) {
	fs := newDurableDir(t)
	must(t, fs.WriteFile("/db/f", []byte("0123456789")))
	fs.SyncAll()

	f, err := fs.OpenReadWrite("/db/f")
	must(t, err)
	must(t, f.Truncate(2))
	must(t, f.Close())
	if got := contents(t, fs.CrashClone(dropAll), "/db/f"); got != "0123456789" {
		t.Fatalf("unsynced truncate survived: %q", got)
	}
	must(t, fs.WriteFile("/db/f", []byte("new"))) // Create truncates the same file
	if got := contents(t, fs.CrashClone(dropAll), "/db/f"); got != "0123456789" {
		t.Fatalf("unsynced re-create survived: %q", got)
	}
}

func TestCrashDirEntryDurability(t *testing.T) {
	fs := newDurableDir(t)
	f, err := fs.Create("/db/f")
	must(t, err)
	_, err = f.Write([]byte("data"))
	must(t, err)
	must(t, f.Sync()) // data durable, entry not
	must(t, f.Close())

	if exists(t, fs.CrashClone(dropAll), "/db/f") {
		t.Fatal("file whose directory was not synced survived the crash")
	}
	must(t, fs.SyncDir("/db"))
	if got := contents(t, fs.CrashClone(dropAll), "/db/f"); got != "data" {
		t.Fatalf("after SyncDir: %q", got)
	}

	// An entry synced before its data: the file survives, empty.
	must(t, fs.WriteFile("/db/g", []byte("lost")))
	must(t, fs.SyncDir("/db"))
	if got := contents(t, fs.CrashClone(dropAll), "/db/g"); got != "" {
		t.Fatalf("unsynced data survived: %q", got)
	}
}

func TestCrashMkdirNeedsParentSync(t *testing.T) {
	fs := vfs.NewMem()
	must(t, fs.MkdirAll("/a/b", 0o755))
	must(t, fs.WriteFile("/a/b/f", nil))
	must(t, fs.SyncDir("/a/b"))
	must(t, fs.SyncDir("/a"))
	if exists(t, fs.CrashClone(dropAll), "/a") {
		t.Fatal("directory survived without syncing its parent")
	}
	must(t, fs.SyncDir("/"))
	if !exists(t, fs.CrashClone(dropAll), "/a/b/f") {
		t.Fatal("fully synced file lost")
	}
}

func TestCrashRenameAndRemoveDurability(t *testing.T) {
	fs := newDurableDir(t)
	must(t, fs.WriteFile("/db/a", []byte("A")))
	must(t, fs.WriteFile("/db/CURRENT", []byte("old")))
	fs.SyncAll()

	must(t, fs.Rename("/db/a", "/db/b"))
	after := fs.CrashClone(dropAll)
	if !exists(t, after, "/db/a") || exists(t, after, "/db/b") {
		t.Fatal("unsynced rename became durable")
	}
	must(t, fs.SyncDir("/db"))
	after = fs.CrashClone(dropAll)
	if exists(t, after, "/db/a") || contents(t, after, "/db/b") != "A" {
		t.Fatal("synced rename not durable")
	}

	// The atomic-replace protocol: write, sync, rename over, sync dir.
	must(t, fs.WriteFile("/db/tmp", []byte("new")))
	f, err := fs.OpenReadWrite("/db/tmp")
	must(t, err)
	must(t, f.Sync())
	must(t, f.Close())
	must(t, fs.Rename("/db/tmp", "/db/CURRENT"))
	if got := contents(t, fs.CrashClone(dropAll), "/db/CURRENT"); got != "old" {
		t.Fatalf("before SyncDir: CURRENT = %q", got)
	}
	must(t, fs.SyncDir("/db"))
	if got := contents(t, fs.CrashClone(dropAll), "/db/CURRENT"); got != "new" {
		t.Fatalf("after SyncDir: CURRENT = %q", got)
	}

	must(t, fs.Remove("/db/b"))
	if !exists(t, fs.CrashClone(dropAll), "/db/b") {
		t.Fatal("unsynced remove became durable")
	}
	must(t, fs.SyncDir("/db"))
	if exists(t, fs.CrashClone(dropAll), "/db/b") {
		t.Fatal("synced remove not durable")
	}
}

func TestCrashCrossDirRename(t *testing.T) {
	fs := vfs.NewMem()
	must(t, fs.MkdirAll("/x", 0o755))
	must(t, fs.MkdirAll("/y", 0o755))
	must(t, fs.WriteFile("/x/f", []byte("F")))
	fs.SyncAll()
	must(t, fs.Rename("/x/f", "/y/f"))
	must(t, fs.SyncDir("/y")) // only the destination is synced
	after := fs.CrashClone(dropAll)
	if contents(t, after, "/x/f") != "F" || contents(t, after, "/y/f") != "F" {
		t.Fatal("expected the file under both names")
	}
	must(t, fs.SyncDir("/x"))
	if exists(t, fs.CrashClone(dropAll), "/x/f") {
		t.Fatal("old name survived after syncing both directories")
	}
}

func TestCrashCloneIsIndependent(t *testing.T) {
	fs := newDurableDir(t)
	must(t, fs.WriteFile("/db/f", []byte("base")))
	fs.SyncAll()
	clone := fs.CrashClone(dropAll)
	must(t, clone.WriteFile("/db/f", []byte("clone")))
	must(t, clone.WriteFile("/db/g", nil))
	if contents(t, fs, "/db/f") != "base" || exists(t, fs, "/db/g") {
		t.Fatal("writing to the clone changed the original")
	}
	// Everything in a clone is durable.
	if contents(t, clone.CrashClone(dropAll), "/db/f") != "base" {
		t.Fatal("clone state was not durable")
	}
}

func TestCorruptAndTruncate(t *testing.T) {
	fs := newDurableDir(t)
	must(t, fs.WriteFile("/db/f", []byte("abcdef")))
	fs.SyncAll()
	must(t, fs.Corrupt("/db/f", 1, 2))
	want := []byte{'a', 'b' ^ 0xff, 'c' ^ 0xff, 'd', 'e', 'f'}
	for _, s := range []*vfs.MemFS{fs, fs.CrashClone(dropAll)} {
		if got, _ := s.ReadFile("/db/f"); !bytes.Equal(got, want) {
			t.Fatalf("after Corrupt: %q, want %q", got, want)
		}
	}
	if err := fs.Corrupt("/db/f", 4, 10); err == nil {
		t.Fatal("Corrupt beyond EOF succeeded")
	}

	must(t, fs.Truncate("/db/f", 4))
	for _, s := range []*vfs.MemFS{fs, fs.CrashClone(dropAll)} {
		if got, _ := s.ReadFile("/db/f"); !bytes.Equal(got, want[:4]) {
			t.Fatalf("after Truncate: %q, want %q", got, want[:4])
		}
	}
}

// dump renders every file of fs and its contents, for comparisons.
func dump(t *testing.T, fs *vfs.MemFS) string {
	t.Helper()
	var b strings.Builder
	var walk func(dir string)
	walk = func(dir string) {
		names, err := fs.List(dir)
		must(t, err)
		for _, name := range names {
			p := fs.PathJoin(dir, name)
			fi, err := fs.Stat(p)
			must(t, err)
			if fi.IsDir() {
				fmt.Fprintf(&b, "%s/\n", p)
				walk(p)
				continue
			}
			fmt.Fprintf(&b, "%s %q\n", p, contents(t, fs, p))
		}
	}
	walk("/")
	return b.String()
}

// TestCrashRandomPrefix appends records to several files with periodic syncs
// and checks that every random crash state is valid (durable contents plus a
// possibly torn prefix of the unsynced appends), that the same seed
// reproduces the same state, and that different seeds explore different
// states.
func TestCrashRandomPrefix(t *testing.T) {
	seed := int64(testutil.Seed(t))
	rng := rand.New(rand.NewPCG(uint64(seed), 1))
	fs := newDurableDir(t)

	const numFiles = 4
	durable := map[string]string{}
	written := map[string]string{}
	var files []vfs.File
	for i := range numFiles {
		name := fmt.Sprintf("/db/%d.log", i)
		f, err := fs.Create(name)
		must(t, err)
		defer f.Close()
		files = append(files, f)
		durable[name], written[name] = "", ""
	}
	must(t, fs.SyncDir("/db"))
	for i := range 200 {
		j := rng.IntN(numFiles)
		f := files[j]
		rec := strings.Repeat(string(rune('a'+i%26)), 1+rng.IntN(20))
		_, err := f.Write([]byte(rec))
		must(t, err)
		written[f.Name()] += rec
		if rng.IntN(10) == 0 {
			must(t, f.Sync())
			durable[f.Name()] = written[f.Name()]
		}
	}

	states := map[string]bool{}
	for k := range int64(20) {
		opts := vfs.CrashOptions{Mode: vfs.KeepRandomUnsyncedPrefix, Seed: seed + k}
		a, b := fs.CrashClone(opts), fs.CrashClone(opts)
		da, db := dump(t, a), dump(t, b)
		if da != db {
			t.Fatalf("seed %d: crash clones differ:\n%s\nvs\n%s", opts.Seed, da, db)
		}
		states[da] = true
		for _, name := range slices.Sorted(maps.Keys(written)) {
			got := contents(t, a, name)
			if !strings.HasPrefix(written[name], got) || len(got) < len(durable[name]) {
				t.Fatalf("seed %d: %s = %q\nnot between durable %q\nand written %q",
					opts.Seed, name, got, durable[name], written[name])
			}
		}
	}
	if len(states) < 2 {
		t.Fatalf("20 seeds produced %d distinct crash states", len(states))
	}
}

// TestCrashRandomDirOps checks that random crashes keep a prefix of the
// unsynced directory changes.
func TestCrashRandomDirOps(t *testing.T) {
	seed := int64(testutil.Seed(t))
	fs := newDurableDir(t)
	const n = 10
	for i := range n {
		must(t, fs.WriteFile(fmt.Sprintf("/db/%02d", i), nil))
	}
	seen := map[int]bool{}
	for k := range int64(50) {
		after := fs.CrashClone(vfs.CrashOptions{Mode: vfs.KeepRandomUnsyncedPrefix, Seed: seed + k})
		names, err := after.List("/db")
		must(t, err)
		for i, name := range names {
			if name != fmt.Sprintf("%02d", i) {
				t.Fatalf("seed %d: entries %v are not a prefix of the creations", seed+k, names)
			}
		}
		seen[len(names)] = true
	}
	if len(seen) < 2 {
		t.Fatalf("50 seeds kept always the same number of entries: %v", seen)
	}
}

// TestMemFSConcurrent exercises concurrent use of one MemFS, one file and
// crash clones; run it with -race.
func TestMemFSConcurrent(t *testing.T) {
	fs := newDurableDir(t)
	f, err := fs.Create("/db/shared")
	must(t, err)
	defer f.Close()

	const writers, blocks, blockSize = 4, 64, 128
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := bytes.Repeat([]byte{byte('A' + w)}, blockSize)
			for b := w; b < blocks; b += writers {
				if _, err := f.WriteAt(buf, int64(b*blockSize)); err != nil {
					t.Error(err)
					return
				}
				if b%8 == 0 {
					if err := f.Sync(); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := fs.Open("/db/shared")
			if err != nil {
				t.Error(err)
				return
			}
			defer r.Close()
			buf := make([]byte, blockSize)
			for i := range 200 {
				if _, err := r.ReadAt(buf, int64(i%blocks*blockSize)); err != nil && err != io.EOF {
					t.Error(err)
					return
				}
				if _, err := r.Size(); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 20 {
			name := fmt.Sprintf("/db/side%d", i)
			if err := fs.WriteFile(name, []byte("x")); err != nil {
				t.Error(err)
				return
			}
			if _, err := fs.List("/db"); err != nil {
				t.Error(err)
				return
			}
			if err := fs.SyncDir("/db"); err != nil {
				t.Error(err)
				return
			}
			_ = fs.CrashClone(vfs.CrashOptions{Mode: vfs.KeepRandomUnsyncedPrefix, Seed: int64(i)})
		}
	}()
	wg.Wait()

	got := contents(t, fs, "/db/shared")
	if len(got) != blocks*blockSize {
		t.Fatalf("size %d, want %d", len(got), blocks*blockSize)
	}
	for b := range blocks {
		want := strings.Repeat(string(rune('A'+b%writers)), blockSize)
		if got[b*blockSize:(b+1)*blockSize] != want {
			t.Fatalf("block %d corrupted", b)
		}
	}
}

// TestCrashUnsyncedDirMoves checks that unsynced directory moves cannot make
// a crash clone cyclic: /a/b moved to /b, then /a moved into /b, with only /b
// synced, leaves durable entries / -> a -> b -> a.
func TestCrashUnsyncedDirMoves(t *testing.T) {
	seed := int64(testutil.Seed(t))
	fs := vfs.NewMem()
	must(t, fs.MkdirAll("/a/b", 0o755))
	fs.SyncAll()
	must(t, fs.Rename("/a/b", "/b"))
	must(t, fs.Rename("/a", "/b/a"))
	must(t, fs.SyncDir("/b"))
	for _, opts := range []vfs.CrashOptions{
		{Mode: vfs.DropAllUnsynced},
		{Mode: vfs.KeepRandomUnsyncedPrefix, Seed: seed},
	} {
		after := fs.CrashClone(opts)
		d := dump(t, after) // terminates only if the tree is acyclic
		must(t, after.RemoveAll("/a"))
		must(t, after.RemoveAll("/b"))
		t.Logf("%v:\n%s", opts.Mode, d)
	}
}
