package main

import (
	"strings"
	"testing"
)

// Import adds to what is there: it overwrites equal keys and removes nothing.
func TestImportMerges(t *testing.T) {
	forEachHarness(t, func(t *testing.T, src *harness) {
		src.ok("insert", "-path", src.path, "a", "new")
		dump := src.ok("export", "-path", src.path)
		dst := newLike(t, src)
		dst.ok("insert", "-path", dst.path, "a", "old")
		dst.ok("insert", "-path", dst.path, "b", "kept")
		if code, _, errOut := dst.run(dump, "import", "-path", dst.path); code != exitOK {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
		if got := dst.ok("scan", "-path", dst.path); got != "a\tnew\nb\tkept\n" {
			t.Errorf("after import: %q", got)
		}
	})
}

func TestImportMissingPath(t *testing.T) {
	if code, _, errOut := runArgs("import", "-"); code != exitUsage || !strings.Contains(errOut, "-path is required") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}
