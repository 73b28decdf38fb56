package main

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	forEachHarness(t, func(t *testing.T, h *harness) {
		if out := h.ok("check", "-path", h.path); out != "ok\n" {
			t.Errorf("empty database: %q", out)
		}
		h.ok("insert", "-path", h.path, "-tree", "t2", "k", "v")
		if out := h.ok("check", "-path", h.path, "-tree", "t2"); out != "ok\n" {
			t.Errorf("after an insert: %q", out)
		}
		if code, out, errOut := h.run("", "check", "-path", h.path, "-tree", "missing"); code != exitFail || out != "" ||
			!strings.Contains(errOut, "tree not found") {
			t.Errorf("missing tree: exit %d, stdout %q, stderr %q", code, out, errOut)
		}
	})
}

func TestCheckUsage(t *testing.T) {
	if code, _, errOut := runArgs("check", "-path", "db", "extra"); code != exitUsage || !strings.Contains(errOut, "too many arguments") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}
