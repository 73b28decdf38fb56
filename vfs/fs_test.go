package vfs_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/sledgo/sled/vfs"
)

// TestConformance runs the same behavioural checks against every FS
// implementation, so that MemFS stays faithful to the operating system.
func TestConformance(t *testing.T) {
	t.Run("os", func(t *testing.T) { testConformance(t, vfs.Default, t.TempDir()) })
	t.Run("mem-abs", func(t *testing.T) { testConformance(t, vfs.NewMem(), "/data") })
	t.Run("mem-rel", func(t *testing.T) { testConformance(t, vfs.NewMem(), "data") })
	t.Run("injecting-mem", func(t *testing.T) {
		testConformance(t, vfs.NewInjecting(vfs.NewMem(), vfs.NewCounter()), "/data")
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErrIs(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("got error %v, want one matching %v", err, target)
	}
}

func readAll(t *testing.T, fs vfs.FS, name string) string {
	t.Helper()
	f, err := fs.Open(name)
	must(t, err)
	defer f.Close()
	b, err := io.ReadAll(f)
	must(t, err)
	return string(b)
}

func writeFile(t *testing.T, fs vfs.FS, name, data string) {
	t.Helper()
	f, err := fs.Create(name)
	must(t, err)
	_, err = f.Write([]byte(data))
	must(t, err)
	must(t, f.Close())
}

func testConformance(t *testing.T, fs vfs.FS, dir string) {
	must(t, fs.MkdirAll(dir, 0o755))
	p := func(elem ...string) string { return fs.PathJoin(append([]string{dir}, elem...)...) }

	t.Run("ReadWrite", func(t *testing.T) {
		f, err := fs.Create(p("rw"))
		must(t, err)
		if f.Name() != p("rw") {
			t.Errorf("Name() = %q, want %q", f.Name(), p("rw"))
		}
		if n, err := f.Write([]byte("hello")); n != 5 || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
		if n, err := f.WriteAt([]byte(" world"), 5); n != 6 || err != nil {
			t.Fatalf("WriteAt = %d, %v", n, err)
		}
		if sz, err := f.Size(); sz != 11 || err != nil {
			t.Fatalf("Size = %d, %v", sz, err)
		}
		buf := make([]byte, 5)
		if n, err := f.ReadAt(buf, 6); n != 5 || err != nil || string(buf) != "world" {
			t.Fatalf("ReadAt = %d, %v, %q", n, err, buf)
		}
		if n, err := f.ReadAt(buf, 8); n != 3 || err != io.EOF || string(buf[:n]) != "rld" {
			t.Fatalf("ReadAt past EOF = %d, %v, %q", n, err, buf[:n])
		}
		if n, err := f.ReadAt(buf, 100); n != 0 || err != io.EOF {
			t.Fatalf("ReadAt far past EOF = %d, %v", n, err)
		}
		// Writing past the end zero-fills the gap.
		if _, err := f.WriteAt([]byte("!"), 13); err != nil {
			t.Fatal(err)
		}
		must(t, f.Sync())
		must(t, f.Close())
		wantErrIs(t, f.Close(), os.ErrClosed)
		_, err = f.ReadAt(buf, 0)
		wantErrIs(t, err, os.ErrClosed)
		_, err = f.Write(buf)
		wantErrIs(t, err, os.ErrClosed)
		wantErrIs(t, f.Sync(), os.ErrClosed)

		if got := readAll(t, fs, p("rw")); got != "hello world\x00\x00!" {
			t.Fatalf("contents = %q", got)
		}

		// Sequential reads.
		r, err := fs.Open(p("rw"))
		must(t, err)
		defer r.Close()
		if n, err := r.Read(buf); n != 5 || err != nil || string(buf) != "hello" {
			t.Fatalf("Read = %d, %v, %q", n, err, buf)
		}
		if _, err := io.ReadAll(r); err != nil {
			t.Fatal(err)
		}
		if n, err := r.Read(buf); n != 0 || err != io.EOF {
			t.Fatalf("Read at EOF = %d, %v", n, err)
		}
		// Read-only handles reject writes.
		if _, err := r.Write([]byte("x")); err == nil {
			t.Fatal("Write on read-only file succeeded")
		}
		if _, err := r.WriteAt([]byte("x"), 0); err == nil {
			t.Fatal("WriteAt on read-only file succeeded")
		}
	})

	t.Run("CreateTruncatesOpenReadWriteDoesNot", func(t *testing.T) {
		writeFile(t, fs, p("ct"), "0123456789")
		f, err := fs.OpenReadWrite(p("ct"))
		must(t, err)
		_, err = f.WriteAt([]byte("ab"), 2)
		must(t, err)
		must(t, f.Close())
		if got := readAll(t, fs, p("ct")); got != "01ab456789" {
			t.Fatalf("after OpenReadWrite: %q", got)
		}
		writeFile(t, fs, p("ct"), "x")
		if got := readAll(t, fs, p("ct")); got != "x" {
			t.Fatalf("after Create: %q", got)
		}
	})

	t.Run("TruncatePreallocate", func(t *testing.T) {
		f, err := fs.Create(p("tr"))
		must(t, err)
		defer f.Close()
		_, err = f.Write([]byte("abcdef"))
		must(t, err)
		must(t, f.Truncate(3))
		must(t, f.Truncate(5))
		must(t, f.Preallocate(1<<20))
		if sz, err := f.Size(); sz != 5 || err != nil {
			t.Fatalf("Size = %d, %v; want 5 (Preallocate must keep the size)", sz, err)
		}
		buf := make([]byte, 5)
		_, err = f.ReadAt(buf, 0)
		must(t, err)
		if string(buf) != "abc\x00\x00" {
			t.Fatalf("contents = %q", buf)
		}
	})

	t.Run("NotExist", func(t *testing.T) {
		_, err := fs.Open(p("missing"))
		wantErrIs(t, err, os.ErrNotExist)
		_, err = fs.OpenReadWrite(p("missing"))
		wantErrIs(t, err, os.ErrNotExist)
		_, err = fs.Create(p("nodir", "f"))
		wantErrIs(t, err, os.ErrNotExist)
		_, err = fs.Stat(p("missing"))
		wantErrIs(t, err, os.ErrNotExist)
		_, err = fs.List(p("missing"))
		wantErrIs(t, err, os.ErrNotExist)
		wantErrIs(t, fs.Remove(p("missing")), os.ErrNotExist)
		wantErrIs(t, fs.Rename(p("missing"), p("other")), os.ErrNotExist)
		wantErrIs(t, fs.SyncDir(p("missing")), os.ErrNotExist)
		must(t, fs.RemoveAll(p("missing")))
	})

	t.Run("DirsListStat", func(t *testing.T) {
		d := p("ls")
		must(t, fs.MkdirAll(fs.PathJoin(d, "sub", "deeper"), 0o755))
		must(t, fs.MkdirAll(fs.PathJoin(d, "sub"), 0o755)) // exists: no error
		for _, name := range []string{"c", "a", "b"} {
			writeFile(t, fs, fs.PathJoin(d, name), name+name)
		}
		names, err := fs.List(d)
		must(t, err)
		if got := strings.Join(names, ","); got != "a,b,c,sub" {
			t.Fatalf("List = %s", got)
		}
		fi, err := fs.Stat(fs.PathJoin(d, "b"))
		must(t, err)
		if fi.Name() != "b" || fi.Size() != 2 || fi.IsDir() {
			t.Fatalf("Stat(b) = %s %d %v", fi.Name(), fi.Size(), fi.IsDir())
		}
		fi, err = fs.Stat(fs.PathJoin(d, "sub"))
		must(t, err)
		if fi.Name() != "sub" || !fi.IsDir() {
			t.Fatalf("Stat(sub) = %s %v", fi.Name(), fi.IsDir())
		}
		if err := fs.MkdirAll(fs.PathJoin(d, "a", "x"), 0o755); err == nil {
			t.Fatal("MkdirAll through a file succeeded")
		}
		if _, err := fs.List(fs.PathJoin(d, "a")); err == nil {
			t.Fatal("List of a file succeeded")
		}
		must(t, fs.SyncDir(d))

		if err := fs.Remove(fs.PathJoin(d, "sub")); err == nil {
			t.Fatal("Remove of a non-empty directory succeeded")
		}
		must(t, fs.Remove(fs.PathJoin(d, "a")))
		must(t, fs.Remove(fs.PathJoin(d, "sub", "deeper")))
		must(t, fs.RemoveAll(d))
		_, err = fs.Stat(d)
		wantErrIs(t, err, os.ErrNotExist)
	})

	t.Run("Rename", func(t *testing.T) {
		writeFile(t, fs, p("r1"), "one")
		writeFile(t, fs, p("r2"), "two")
		must(t, fs.Rename(p("r1"), p("r3")))
		_, err := fs.Stat(p("r1"))
		wantErrIs(t, err, os.ErrNotExist)
		if got := readAll(t, fs, p("r3")); got != "one" {
			t.Fatalf("r3 = %q", got)
		}
		must(t, fs.Rename(p("r3"), p("r2"))) // replaces
		if got := readAll(t, fs, p("r2")); got != "one" {
			t.Fatalf("r2 = %q", got)
		}
		must(t, fs.MkdirAll(p("rd", "x"), 0o755))
		must(t, fs.Rename(p("r2"), p("rd", "x", "moved")))
		must(t, fs.Rename(p("rd"), p("rd2")))
		if got := readAll(t, fs, p("rd2", "x", "moved")); got != "one" {
			t.Fatalf("moved = %q", got)
		}
		if err := fs.Rename(p("rd2"), p("rd2", "x", "inside")); err == nil {
			t.Fatal("renaming a directory into itself succeeded")
		}
	})

	t.Run("MkdirTemp", func(t *testing.T) {
		a, err := fs.MkdirTemp(dir, "tmp-*.d")
		must(t, err)
		b, err := fs.MkdirTemp(dir, "tmp-*.d")
		must(t, err)
		if a == b {
			t.Fatalf("MkdirTemp returned %q twice", a)
		}
		for _, d := range []string{a, b} {
			fi, err := fs.Stat(d)
			must(t, err)
			if !fi.IsDir() || !strings.HasPrefix(fi.Name(), "tmp-") || !strings.HasSuffix(fi.Name(), ".d") {
				t.Fatalf("MkdirTemp created %q (dir=%v)", d, fi.IsDir())
			}
		}
	})

	t.Run("Lock", func(t *testing.T) { testLock(t, fs, p("LOCK")) })
}

func testLock(t *testing.T, fs vfs.FS, name string) {
	l, err := fs.Lock(name)
	must(t, err)
	for range 2 {
		_, err := fs.Lock(name)
		wantErrIs(t, err, vfs.ErrLocked)
	}
	must(t, l.Close())
	if err := l.Close(); err == nil {
		t.Fatal("second Close of a lock succeeded")
	}
	l2, err := fs.Lock(name)
	must(t, err)
	must(t, l2.Close())
}

func TestMemFSReadFileWriteFile(t *testing.T) {
	fs := vfs.NewMem()
	must(t, fs.WriteFile("/f", []byte("data")))
	got, err := fs.ReadFile("f") // relative names resolve against the root
	must(t, err)
	if !bytes.Equal(got, []byte("data")) {
		t.Fatalf("ReadFile = %q", got)
	}
	_, err = fs.ReadFile("/missing")
	wantErrIs(t, err, os.ErrNotExist)
	must(t, fs.MkdirAll("/d", 0o755))
	if _, err := fs.Open("/d"); err == nil {
		t.Fatal("MemFS opened a directory")
	}
}

func TestMemFSUnlinkedOpenFile(t *testing.T) {
	fs := vfs.NewMem()
	f, err := fs.Create("/f")
	must(t, err)
	defer f.Close()
	must(t, fs.Remove("/f"))
	_, err = f.Write([]byte("still works"))
	must(t, err)
	buf := make([]byte, 5)
	_, err = f.ReadAt(buf, 0)
	must(t, err)
	if string(buf) != "still" {
		t.Fatalf("ReadAt = %q", buf)
	}
	names, err := fs.List("/")
	must(t, err)
	if len(names) != 0 {
		t.Fatalf("List = %v", names)
	}
}
