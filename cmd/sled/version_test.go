package main

import (
	"runtime"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	code, out, errOut := runArgs("version")
	if code != exitOK || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if !strings.HasPrefix(out, "sled ") || !strings.Contains(out, "github.com/sledgo/sled") ||
		!strings.Contains(out, runtime.Version()) {
		t.Errorf("version output:\n%s", out)
	}
	if code, _, _ := runArgs("version", "extra"); code != exitUsage {
		t.Errorf("version extra: exit %d", code)
	}
}
