package main

import (
	"regexp"
	"strings"
	"testing"
)

func TestStats(t *testing.T) {
	forEachHarness(t, func(t *testing.T, h *harness) {
		h.ok("insert", "-path", h.path, "-tree", "t2", "k", "v")
		out := h.ok("stats", "-path", h.path, "-tree", "t2")
		for _, want := range []string{"tree ", "entries ", "trees ", "pages ", "cache bytes ", "page updates ",
			"page images ", "page fragments ", "size on disk "} {
			if !strings.Contains(out, "\n"+want) && !strings.HasPrefix(out, want) {
				t.Errorf("stats lacks %q:\n%s", want, out)
			}
		}
		if !regexp.MustCompile(`(?m)^tree +t2$`).MatchString(out) || !regexp.MustCompile(`(?m)^entries +1$`).MatchString(out) {
			t.Errorf("stats of t2:\n%s", out)
		}
	})
}

func TestStatsUsage(t *testing.T) {
	if code, _, errOut := runArgs("stats", "-path", "db", "extra"); code != exitUsage || !strings.Contains(errOut, "usage: sled stats") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}
