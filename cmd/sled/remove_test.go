package main

import (
	"strings"
	"testing"
)

func TestRemove(t *testing.T) {
	forEachHarness(t, func(t *testing.T, h *harness) {
		h.ok("insert", "-path", h.path, "k", "v")
		h.ok("remove", "-path", h.path, "k")
		if code, _, _ := h.run("", "get", "-path", h.path, "k"); code != exitFail {
			t.Errorf("get after remove: exit %d", code)
		}
		// Removing an absent key succeeds unless -must-exist.
		h.ok("remove", "-path", h.path, "k")
		code, _, errOut := h.run("", "remove", "-path", h.path, "-must-exist", "k")
		if code != exitFail || errOut != "sled: key not found\n" {
			t.Errorf("-must-exist: exit %d, stderr %q", code, errOut)
		}
		h.ok("insert", "-path", h.path, "-hex", "01", "02")
		h.ok("remove", "-path", h.path, "-hex", "-must-exist", "01")
	})
}

func TestRemoveUsage(t *testing.T) {
	for _, args := range [][]string{{"remove", "-path", "db"}, {"remove", "-path", "db", "a", "b"}} {
		if code, _, errOut := runArgs(args...); code != exitUsage || !strings.Contains(errOut, "usage: sled remove") {
			t.Errorf("%q: exit %d, stderr %q", args, code, errOut)
		}
	}
}
