package main

import (
	"strings"
	"testing"
)

func TestInsert(t *testing.T) {
	forEachHarness(t, func(t *testing.T, h *harness) {
		h.ok("insert", "-path", h.path, "k", "one")
		h.ok("insert", "-path", h.path, "k", "two")
		if out := h.ok("get", "-path", h.path, "k"); out != "two\n" {
			t.Errorf("after overwrite: %q", out)
		}
		// The empty value is a value.
		h.ok("insert", "-path", h.path, "empty", "")
		if out := h.ok("get", "-path", h.path, "empty"); out != "\"\"\n" {
			t.Errorf("empty value: %q", out)
		}
		// -tree creates the tree, and keeps it apart from the default one.
		h.ok("insert", "-path", h.path, "-tree", "t2", "k", "other")
		if out := h.ok("get", "-path", h.path, "-tree", "t2", "k"); out != "other\n" {
			t.Errorf("tree t2: %q", out)
		}
		if out := h.ok("get", "-path", h.path, "k"); out != "two\n" {
			t.Errorf("default tree after t2 insert: %q", out)
		}
	})
}

func TestInsertUsage(t *testing.T) {
	cases := [][]string{
		{"insert", "-path", "db"},
		{"insert", "-path", "db", "k"},
		{"insert", "-path", "db", "k", "v", "extra"},
		{"insert", "-path", "db", "-hex", "00", "zz"},
	}
	for _, args := range cases {
		if code, _, errOut := runArgs(args...); code != exitUsage || !strings.Contains(errOut, "usage: sled insert") {
			t.Errorf("%q: exit %d, stderr %q", args, code, errOut)
		}
	}
}
