package vfs_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/sledgo/sled/internal/testutil"
	"github.com/sledgo/sled/vfs"
)

func TestOpStrings(t *testing.T) {
	if got := vfs.OpSyncDir.String(); got != "syncdir" {
		t.Errorf("OpSyncDir.String() = %q", got)
	}
	if got := vfs.Ops(vfs.OpWrite, vfs.OpSync).String(); got != "write|sync" {
		t.Errorf("mask String() = %q", got)
	}
	if got := vfs.Op(99).String(); got != "Op(99)" {
		t.Errorf("Op(99).String() = %q", got)
	}
	for _, op := range []vfs.Op{vfs.OpRead, vfs.OpOpen, vfs.OpStat, vfs.OpList, vfs.OpLock} {
		if op.Mutating() {
			t.Errorf("%s is mutating", op)
		}
	}
	if !vfs.OpSyncDir.Mutating() || vfs.MutatingOps.Len() != 9 {
		t.Errorf("MutatingOps = %s", vfs.MutatingOps)
	}
}

// workload performs a fixed sequence of operations and returns the first
// error.
func workload(fs vfs.FS) error {
	if err := fs.MkdirAll("/db", 0o755); err != nil { // 1 mkdir
		return err
	}
	f, err := fs.Create("/db/f") // 1 create
	if err != nil {
		return err
	}
	defer f.Close()
	for i := range 3 { // 3 writes
		if _, err := fmt.Fprintf(f, "line %d\n", i); err != nil {
			return err
		}
	}
	if err := f.Sync(); err != nil { // 1 sync
		return err
	}
	if _, err := f.ReadAt(make([]byte, 4), 0); err != nil { // 1 read
		return err
	}
	if err := fs.Rename("/db/f", "/db/g"); err != nil { // 1 rename
		return err
	}
	return fs.SyncDir("/db") // 1 syncdir
}

func TestCounter(t *testing.T) {
	c := vfs.NewCounter()
	must(t, workload(vfs.NewInjecting(vfs.NewMem(), c)))
	if got := c.Count(vfs.MutatingOps); got != 8 {
		t.Errorf("mutating ops = %d, want 8", got)
	}
	if got := c.Count(vfs.Ops(vfs.OpWrite)); got != 3 {
		t.Errorf("writes = %d, want 3", got)
	}
	if got := c.Count(vfs.Ops(vfs.OpRead)); got != 1 {
		t.Errorf("reads = %d, want 1", got)
	}
	c.Reset()
	if got := c.Count(vfs.AllOps); got != 0 {
		t.Errorf("after Reset: %d", got)
	}
}

func TestFailNth(t *testing.T) {
	mem := vfs.NewMem()
	inj := vfs.FailNth(vfs.Ops(vfs.OpWrite), 2, nil)
	fs := vfs.NewInjecting(mem, inj)
	f, err := fs.Create("/f")
	must(t, err)
	defer f.Close()
	_, err = f.Write([]byte("a"))
	must(t, err)
	_, err = f.Write([]byte("b"))
	wantErrIs(t, err, vfs.ErrInjected)
	if !strings.Contains(err.Error(), "write /f") {
		t.Errorf("error %q does not name the operation", err)
	}
	_, err = f.Write([]byte("c"))
	must(t, err)
	if got := contents(t, mem, "/f"); got != "ac" {
		t.Fatalf("contents = %q", got)
	}
	if inj.Count() != 3 || inj.Failed() != 1 || !inj.Triggered() {
		t.Fatalf("Count=%d Failed=%d", inj.Count(), inj.Failed())
	}
}

func TestAlwaysWrapsCause(t *testing.T) {
	cause := errors.New("disk on fire")
	mem := vfs.NewMem()
	fs := vfs.NewInjecting(mem, vfs.Always(vfs.AllOps, cause))
	_, err := fs.Create("/f")
	wantErrIs(t, err, vfs.ErrInjected)
	wantErrIs(t, err, cause)
	if exists(t, mem, "/f") {
		t.Fatal("failed Create created the file")
	}

	// Every operation is subject to injection.
	must(t, mem.WriteFile("/f", []byte("x")))
	fs = vfs.NewInjecting(mem, vfs.Always(vfs.AllOps&^vfs.Ops(vfs.OpOpen), nil))
	f, err := fs.OpenReadWrite("/f")
	must(t, err)
	defer f.Close()
	buf := make([]byte, 1)
	checks := map[string]error{
		"Read":        func() error { _, err := f.Read(buf); return err }(),
		"ReadAt":      func() error { _, err := f.ReadAt(buf, 0); return err }(),
		"Write":       func() error { _, err := f.Write(buf); return err }(),
		"WriteAt":     func() error { _, err := f.WriteAt(buf, 0); return err }(),
		"Sync":        f.Sync(),
		"Truncate":    f.Truncate(0),
		"Size":        func() error { _, err := f.Size(); return err }(),
		"Preallocate": f.Preallocate(10),
		"Remove":      fs.Remove("/f"),
		"RemoveAll":   fs.RemoveAll("/f"),
		"Rename":      fs.Rename("/f", "/g"),
		"MkdirAll":    fs.MkdirAll("/d", 0o755),
		"List":        func() error { _, err := fs.List("/"); return err }(),
		"Stat":        func() error { _, err := fs.Stat("/f"); return err }(),
		"SyncDir":     fs.SyncDir("/"),
		"Lock":        func() error { _, err := fs.Lock("/LOCK"); return err }(),
		"MkdirTemp":   func() error { _, err := fs.MkdirTemp("/", "x"); return err }(),
		"Create":      func() error { _, err := fs.Create("/f"); return err }(),
	}
	for name, err := range checks {
		if !errors.Is(err, vfs.ErrInjected) {
			t.Errorf("%s: got %v, want injected error", name, err)
		}
	}
	if got := dump(t, mem); got != "/f \"x\"\n" {
		t.Fatalf("failed operations changed the FS:\n%s", got)
	}
}

func TestRandomInjector(t *testing.T) {
	seed := int64(testutil.Seed(t))
	pattern := func(seed int64, p float64) string {
		inj := vfs.Random(seed, p, vfs.Ops(vfs.OpWrite))
		var b strings.Builder
		for range 200 {
			if inj.MaybeError(vfs.OpRead, "f") != nil {
				t.Fatal("Random failed an operation outside its mask")
			}
			if err := inj.MaybeError(vfs.OpWrite, "f"); err != nil {
				wantErrIs(t, err, vfs.ErrInjected)
				b.WriteByte('x')
			} else {
				b.WriteByte('.')
			}
		}
		return b.String()
	}
	a, b := pattern(seed, 0.3), pattern(seed, 0.3)
	if a != b {
		t.Fatalf("same seed, different failures:\n%s\n%s", a, b)
	}
	if n := strings.Count(a, "x"); n < 20 || n > 120 {
		t.Fatalf("%d failures out of 200 at p=0.3", n)
	}
	if strings.Contains(pattern(seed, 0), "x") || strings.Contains(pattern(seed, 1), ".") {
		t.Fatal("p=0 or p=1 not honoured")
	}
}

func TestTornWrites(t *testing.T) {
	seed := int64(testutil.Seed(t))
	run := func() (int, string) {
		mem := vfs.NewMem()
		fs := vfs.NewInjecting(mem, vfs.FailNth(vfs.Ops(vfs.OpWrite), 2, nil), vfs.WithTornWrites(seed))
		f, err := fs.Create("/f")
		must(t, err)
		defer f.Close()
		_, err = f.Write([]byte("head:"))
		must(t, err)
		data := []byte(strings.Repeat("0123456789", 10))
		n, err := f.Write(data)
		wantErrIs(t, err, vfs.ErrInjected)
		if n < 0 || n >= len(data) {
			t.Fatalf("torn write reported %d of %d bytes", n, len(data))
		}
		got := contents(t, mem, "/f")
		if got != "head:"+string(data[:n]) {
			t.Fatalf("torn write of %d bytes left %q", n, got)
		}
		return n, got
	}
	n1, c1 := run()
	n2, c2 := run()
	if n1 != n2 || c1 != c2 {
		t.Fatalf("same seed, different torn writes: %d vs %d", n1, n2)
	}
}

// kvStore is a tiny store that keeps one value in /db/CURRENT, replacing it
// with the write-sync-rename-syncdir protocol (or, if buggy, without the
// file sync). Set returns once the value is durable.
type kvStore struct {
	fs    vfs.FS
	buggy bool
}

func (s kvStore) Set(v string) error {
	f, err := s.fs.Create("/db/tmp")
	if err != nil {
		return err
	}
	if _, err := io.WriteString(f, "value="+v+";"); err != nil {
		f.Close()
		return err
	}
	if !s.buggy {
		if err := f.Sync(); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := s.fs.Rename("/db/tmp", "/db/CURRENT"); err != nil {
		return err
	}
	return s.fs.SyncDir("/db")
}

// crashWorkload sets values 1..3 and returns the last acknowledged one.
func crashWorkload(fs vfs.FS, buggy bool) (acked int) {
	if fs.MkdirAll("/db", 0o755) != nil || fs.SyncDir("/") != nil {
		return 0
	}
	s := kvStore{fs: fs, buggy: buggy}
	for v := 1; v <= 3; v++ {
		if s.Set(fmt.Sprint(v)) != nil {
			break
		}
		acked = v
	}
	return acked
}

// checkRecovered verifies that the state after a crash holds a complete
// value at least as new as the last acknowledged one.
func checkRecovered(fs *vfs.MemFS, acked int) error {
	b, err := fs.ReadFile("/db/CURRENT")
	if errors.Is(err, os.ErrNotExist) {
		if acked > 0 {
			return fmt.Errorf("CURRENT lost; value %d was acknowledged", acked)
		}
		return nil
	}
	if err != nil {
		return err
	}
	var v int
	if _, err := fmt.Sscanf(string(b), "value=%d;", &v); err != nil || !strings.HasSuffix(string(b), ";") {
		return fmt.Errorf("CURRENT corrupt: %q", b)
	}
	if v < acked {
		return fmt.Errorf("CURRENT holds %d; %d was acknowledged", v, acked)
	}
	return nil
}

// TestCrashAfterEveryOp cuts the power before each mutating operation of the
// workload in turn and checks recovery; the buggy variant must be caught.
func TestCrashAfterEveryOp(t *testing.T) {
	seed := int64(testutil.Seed(t))
	for _, buggy := range []bool{false, true} {
		t.Run(fmt.Sprintf("buggy=%v", buggy), func(t *testing.T) {
			counter := vfs.NewCounter()
			if acked := crashWorkload(vfs.NewInjecting(vfs.NewMem(), counter), buggy); acked != 3 {
				t.Fatalf("workload without faults acknowledged %d", acked)
			}
			n := counter.Count(vfs.MutatingOps)
			var failures int
			for k := int64(1); k <= n+1; k++ {
				mem := vfs.NewMem()
				crash := vfs.CrashAfter(k)
				acked := crashWorkload(vfs.NewInjecting(mem, crash), buggy)
				if k <= n && !crash.Triggered() {
					t.Fatalf("k=%d: CrashAfter did not trigger", k)
				}
				for i, opts := range []vfs.CrashOptions{
					{Mode: vfs.DropAllUnsynced},
					{Mode: vfs.KeepRandomUnsyncedPrefix, Seed: seed + k},
				} {
					if err := checkRecovered(mem.CrashClone(opts), acked); err != nil {
						if !buggy {
							t.Errorf("k=%d/%d opts#%d (%v, seed %d): %v", k, n, i, opts.Mode, opts.Seed, err)
						}
						failures++
					}
				}
			}
			if buggy && failures == 0 {
				t.Fatal("missing file sync before rename went undetected")
			}
			t.Logf("%d mutating ops, %d failed recoveries", n, failures)
		})
	}
}
