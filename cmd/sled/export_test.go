package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// fill inserts a few entries into the default tree and tree "t2".
func fill(h *harness) {
	h.t.Helper()
	h.ok("insert", "-path", h.path, "a", "1")
	h.ok("insert", "-path", h.path, "-hex", "00ff", "")
	h.ok("insert", "-path", h.path, "-tree", "t2", "x", "y")
}

func TestExportImportFile(t *testing.T) {
	forEachHarness(t, func(t *testing.T, src *harness) {
		fill(src)
		file := filepath.Join(t.TempDir(), "dump")
		if out := src.ok("export", "-path", src.path, file); out != "" {
			t.Errorf("export to a file printed %q", out)
		}
		// An existing file is never overwritten.
		if code, _, errOut := src.run("", "export", "-path", src.path, file); code != exitFail || !strings.HasPrefix(errOut, "sled: ") {
			t.Errorf("export over an existing file: exit %d, stderr %q", code, errOut)
		}
		dst := newLike(t, src)
		dst.ok("import", "-path", dst.path, file)
		for _, tree := range []string{"", "t2"} {
			want := src.ok("scan", "-path", src.path, "-tree", tree)
			if got := dst.ok("scan", "-path", dst.path, "-tree", tree); got != want || want == "" {
				t.Errorf("tree %q after import:\ngot  %q\nwant %q", tree, got, want)
			}
		}
	})
}

func TestExportImportStdio(t *testing.T) {
	forEachHarness(t, func(t *testing.T, src *harness) {
		fill(src)
		dump := src.ok("export", "-path", src.path, "-tree", "t2", "-")
		if dump == "" || dump != src.ok("export", "-path", src.path, "-tree", "t2") {
			t.Fatalf("export to - and with no file argument differ")
		}
		dst := newLike(t, src)
		if code, _, errOut := dst.run(dump, "import", "-path", dst.path, "-"); code != exitOK {
			t.Fatalf("import -: exit %d, stderr %q", code, errOut)
		}
		if got := dst.ok("scan", "-path", dst.path, "-tree", "t2"); got != "x\ty\n" {
			t.Errorf("t2 after import: %q", got)
		}
		if got := dst.ok("scan", "-path", dst.path); got != "" {
			t.Errorf("default tree after importing only t2: %q", got)
		}
	})
}

// import -tree takes one tree out of a full dump.
func TestImportOneTree(t *testing.T) {
	forEachHarness(t, func(t *testing.T, src *harness) {
		fill(src)
		dump := src.ok("export", "-path", src.path)
		dst := newLike(t, src)
		if code, _, errOut := dst.run(dump, "import", "-path", dst.path, "-tree", "t2"); code != exitOK {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
		if got := dst.ok("scan", "-path", dst.path, "-tree", "t2"); got != "x\ty\n" {
			t.Errorf("t2: %q", got)
		}
		if got := dst.ok("scan", "-path", dst.path); got != "" {
			t.Errorf("default tree: %q", got)
		}
		if code, _, errOut := dst.run(dump, "import", "-path", dst.path, "-tree", "absent"); code != exitFail ||
			!strings.Contains(errOut, "no tree") {
			t.Errorf("absent tree: exit %d, stderr %q", code, errOut)
		}
	})
}

func TestImportCorrupt(t *testing.T) {
	forEachHarness(t, func(t *testing.T, src *harness) {
		fill(src)
		dump := src.ok("export", "-path", src.path)
		for name, bad := range map[string]string{"garbage": "not a dump", "truncated": dump[:len(dump)-3]} {
			code, _, errOut := src.run(bad, "import", "-path", src.path)
			if code != exitFail || !strings.HasPrefix(errOut, "sled: importing -: ") {
				t.Errorf("%s: exit %d, stderr %q", name, code, errOut)
			}
		}
		if code, _, errOut := src.run("", "import", "-path", src.path, filepath.Join(t.TempDir(), "absent")); code != exitFail ||
			!strings.Contains(errOut, "no such file") {
			t.Errorf("absent file: exit %d, stderr %q", code, errOut)
		}
	})
}

func TestExportImportUsage(t *testing.T) {
	for _, args := range [][]string{{"export", "-path", "db", "a", "b"}, {"import", "-path", "db", "a", "b"}} {
		if code, _, errOut := runArgs(args...); code != exitUsage || !strings.Contains(errOut, "usage: sled "+args[0]) {
			t.Errorf("%q: exit %d, stderr %q", args, code, errOut)
		}
	}
}

// newLike returns an empty database of the same kind as h.
func newLike(t *testing.T, h *harness) *harness {
	if h.open != nil {
		return memHarness(t)
	}
	return persistentHarness(t)
}
