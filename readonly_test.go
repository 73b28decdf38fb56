package sled_test

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/sledgo/sled"
	"github.com/sledgo/sled/vfs"
)

// digest returns every file under dir with its contents.
func digest(t *testing.T, fsys vfs.FS, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	names, err := fsys.List(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		p := fsys.PathJoin(dir, n)
		fi, err := fsys.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.IsDir() {
			for k, v := range digest(t, fsys, p) {
				out[k] = v
			}
			continue
		}
		f, err := fsys.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(io.NewSectionReader(f, 0, fi.Size()))
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[p] = string(b)
	}
	return out
}

func TestReadOnlyMissingDatabase(t *testing.T) {
	mem := vfs.NewMem()
	_, err := sled.Config{Path: "nothing/here", FS: mem, ReadOnly: true}.Open()
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("read-only Open of a missing database: %v, want fs.ErrNotExist", err)
	}
	if _, err := mem.Stat("nothing"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("read-only Open created a directory (stat: %v)", err)
	}
	// An empty directory is no database either.
	if err := mem.MkdirAll("empty", 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := (sled.Config{Path: "empty", FS: mem, ReadOnly: true}).Open(); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("read-only Open of an empty directory: %v", err)
	}
	if d := digest(t, mem, "empty"); len(d) != 0 {
		t.Fatalf("read-only Open wrote %v", d)
	}
	if _, err := (sled.Config{Path: "x", ReadOnly: true, Temporary: true}).Open(); !errors.Is(err, sled.ErrInvalidConfig) {
		t.Fatalf("ReadOnly with Temporary: %v, want ErrInvalidConfig", err)
	}
}

// A read-only open reads everything, refuses every write with ErrReadOnly,
// and leaves every byte of the directory as it was, also when the log has
// a torn tail that a writing open would clean.
func TestReadOnlyReadsAndWritesNothing(t *testing.T) {
	mem := vfs.NewMem()
	cfg := sled.Config{Path: "db", FS: mem, SegmentSizeBytes: 64 << 10, NodeMaxEntries: 8, FlushEvery: -1}
	db, err := cfg.Open()
	if err != nil {
		t.Fatal(err)
	}
	users, err := db.OpenTree("users")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2000 {
		mustInsert(t, db.Tree, key(i), bytes.Repeat([]byte{byte(i)}, 50))
	}
	mustInsert(t, users, b("u1"), b("ada"))
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	// Unflushed writes, then a crash: the clone has a torn, unsynced tail.
	for i := range 100 {
		mustInsert(t, db.Tree, key(5000+i), b("late"))
	}
	crashed := mem.CrashClone(vfs.CrashOptions{Mode: vfs.KeepRandomUnsyncedPrefix, Seed: 7})
	closeDB(t, db)

	for name, fsys := range map[string]*vfs.MemFS{"clean": mem, "crashed": crashed} {
		t.Run(name, func(t *testing.T) {
			before := digest(t, fsys, "db")
			ro, err := sled.Config{Path: "db", FS: fsys, ReadOnly: true}.Open()
			if err != nil {
				t.Fatal(err)
			}
			for i := range 2000 {
				if v := mustGet(t, ro.Tree, key(i)); !bytes.Equal(v, bytes.Repeat([]byte{byte(i)}, 50)) {
					t.Fatalf("key %d = %q", i, v)
				}
			}
			it := ro.Range(key(10), key(20))
			if got := len(collect(t, it)); got != 10 {
				t.Fatalf("range: %d entries", got)
			}
			u, err := ro.OpenTree("users")
			if err != nil {
				t.Fatal(err)
			}
			if v := mustGet(t, u, b("u1")); string(v) != "ada" {
				t.Fatalf("users/u1 = %q", v)
			}
			var batch sled.Batch
			batch.Insert(b("x"), b("y"))
			writes := map[string]error{}
			_, writes["Insert"] = ro.Insert(b("x"), b("y"))
			_, writes["Remove"] = ro.Remove(key(1))
			writes["CompareAndSwap"] = ro.CompareAndSwap(key(1), nil, b("z"))
			_, writes["Update"] = ro.Update(key(1), func([]byte) []byte { return b("z") })
			_, _, writes["PopMin"] = ro.PopMin()
			writes["ApplyBatch"] = ro.ApplyBatch(&batch)
			writes["Clear"] = ro.Clear()
			_, writes["OpenTree(new)"] = ro.OpenTree("new")
			writes["DropTree"] = ro.DropTree("users")
			_, writes["GenerateID"] = ro.GenerateID()
			writes["Import"] = ro.Import(bytes.NewReader(nil))
			for op, err := range writes {
				if !errors.Is(err, sled.ErrReadOnly) {
					t.Errorf("%s on a read-only database: %v, want ErrReadOnly", op, err)
				}
			}
			if err := ro.Flush(); err != nil {
				t.Errorf("Flush: %v", err)
			}
			if err := ro.Check(); err != nil {
				t.Errorf("Check: %v", err)
			}
			if err := ro.Close(); err != nil {
				t.Fatal(err)
			}
			after := digest(t, fsys, "db")
			if len(after) != len(before) {
				t.Fatalf("files changed: %d before, %d after", len(before), len(after))
			}
			for p, c := range before {
				if after[p] != c {
					t.Fatalf("read-only open changed %s", p)
				}
			}
		})
	}
}

// Read-only opens share the database; a writer excludes them and they
// exclude a writer. On the real file system (flock) and on MemFS.
func TestReadOnlyLocking(t *testing.T) {
	for name, fsys := range map[string]vfs.FS{"os": vfs.Default, "mem": vfs.NewMem()} {
		t.Run(name, func(t *testing.T) {
			dir := "db"
			if name == "os" {
				dir = filepath.Join(t.TempDir(), "db")
			}
			w, err := sled.Config{Path: dir, FS: fsys}.Open()
			if err != nil {
				t.Fatal(err)
			}
			mustInsert(t, w.Tree, b("k"), b("v"))
			if _, err := (sled.Config{Path: dir, FS: fsys, ReadOnly: true}).Open(); !errors.Is(err, sled.ErrLocked) {
				t.Fatalf("read-only open beside a writer: %v, want ErrLocked", err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			r1, err := sled.Config{Path: dir, FS: fsys, ReadOnly: true}.Open()
			if err != nil {
				t.Fatal(err)
			}
			r2, err := sled.Config{Path: dir, FS: fsys, ReadOnly: true}.Open()
			if err != nil {
				t.Fatalf("second read-only open: %v", err)
			}
			if v := mustGet(t, r2.Tree, b("k")); string(v) != "v" {
				t.Fatalf("k = %q", v)
			}
			if _, err := (sled.Config{Path: dir, FS: fsys}).Open(); !errors.Is(err, sled.ErrLocked) {
				t.Fatalf("writer open beside readers: %v, want ErrLocked", err)
			}
			r1.Close()
			r2.Close()
			w, err = sled.Config{Path: dir, FS: fsys}.Open()
			if err != nil {
				t.Fatalf("writer open after the readers closed: %v", err)
			}
			w.Close()
		})
	}
}
