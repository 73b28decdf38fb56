package main

import (
	"strings"
	"testing"
)

func TestGet(t *testing.T) {
	forEachHarness(t, func(t *testing.T, h *harness) {
		h.ok("insert", "-path", h.path, "k1", "v1")
		h.ok("insert", "-path", h.path, "-hex", "00ff", "0a0b")
		if out := h.ok("get", "-path", h.path, "k1"); out != "v1\n" {
			t.Errorf("get k1 = %q", out)
		}
		// Flags may follow the key.
		if out := h.ok("get", "k1", "-path", h.path); out != "v1\n" {
			t.Errorf("get k1 -path = %q", out)
		}
		if out := h.ok("get", "-path", h.path, "-hex", "00ff"); out != "0a0b\n" {
			t.Errorf("get -hex = %q", out)
		}
		if out := h.ok("get", "-path", h.path, "\x00\xff"); out != "\"\\n\\v\"\n" {
			t.Errorf("get of a non-printable value = %q", out)
		}
		if out := h.ok("get", "-path", h.path, "-raw", "\x00\xff"); out != "\n\v" {
			t.Errorf("get -raw = %q", out)
		}
	})
}

func TestGetAbsent(t *testing.T) {
	forEachHarness(t, func(t *testing.T, h *harness) {
		code, out, errOut := h.run("", "get", "-path", h.path, "nope")
		if code != exitFail || out != "" || errOut != "sled: key not found\n" {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
		}
		code, _, errOut = h.run("", "get", "-path", h.path, "-tree", "missing", "k")
		if code != exitFail || !strings.Contains(errOut, "tree not found") {
			t.Fatalf("missing tree: exit %d, stderr %q", code, errOut)
		}
	})
}

func TestGetUsage(t *testing.T) {
	cases := [][]string{
		{"get", "-path", "db"},
		{"get", "-path", "db", "a", "b"},
		{"get", "-path", "db", "-hex", "xyz"},
		{"get", "-path", "db", "-hex", "-raw", "00"},
	}
	for _, args := range cases {
		if code, _, errOut := runArgs(args...); code != exitUsage || !strings.Contains(errOut, "usage: sled get") {
			t.Errorf("%q: exit %d, stderr %q", args, code, errOut)
		}
	}
}
