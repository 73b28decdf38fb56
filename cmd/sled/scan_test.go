package main

import (
	"strings"
	"testing"
)

func TestScan(t *testing.T) {
	forEachHarness(t, func(t *testing.T, h *harness) {
		for _, kv := range [][2]string{{"a", "1"}, {"b1", "2"}, {"b2", "3"}, {"b3", "4"}, {"c", "x\ty"}} {
			h.ok("insert", "-path", h.path, kv[0], kv[1])
		}
		h.ok("insert", "-path", h.path, "-tree", "other", "zz", "9")
		cases := []struct {
			args []string
			want string
		}{
			{nil, "a\t1\nb1\t2\nb2\t3\nb3\t4\nc\t\"x\\ty\"\n"},
			{[]string{"-prefix", "b"}, "b1\t2\nb2\t3\nb3\t4\n"},
			{[]string{"-prefix", "b", "-rev", "-limit", "2"}, "b3\t4\nb2\t3\n"},
			{[]string{"-from", "b2", "-to", "c"}, "b2\t3\nb3\t4\n"},
			{[]string{"-from", "b2", "-prefix", "b"}, "b2\t3\nb3\t4\n"},
			{[]string{"-to", "b2", "-prefix", "b"}, "b1\t2\n"},
			{[]string{"-from", "c", "-to", "a"}, ""},
			{[]string{"-to", ""}, ""},
			{[]string{"-limit", "1", "-rev"}, "c\t\"x\\ty\"\n"},
			{[]string{"-hex", "-prefix", "62", "-limit", "1"}, "6231\t32\n"},
			{[]string{"-tree", "other"}, "zz\t9\n"},
		}
		for _, c := range cases {
			args := append([]string{"scan", "-path", h.path}, c.args...)
			if got := h.ok(args...); got != c.want {
				t.Errorf("scan %q:\ngot  %q\nwant %q", c.args, got, c.want)
			}
		}
		if code, _, errOut := h.run("", "scan", "-path", h.path, "-tree", "missing"); code != exitFail ||
			!strings.Contains(errOut, "tree not found") {
			t.Errorf("missing tree: exit %d, stderr %q", code, errOut)
		}
	})
}

func TestScanUsage(t *testing.T) {
	cases := [][]string{
		{"scan", "-path", "db", "extra"},
		{"scan", "-path", "db", "-limit", "-1"},
		{"scan", "-path", "db", "-limit", "x"},
		{"scan", "-path", "db", "-hex", "-from", "zz"},
	}
	for _, args := range cases {
		if code, _, errOut := runArgs(args...); code != exitUsage || !strings.Contains(errOut, "usage: sled scan") {
			t.Errorf("%q: exit %d, stderr %q", args, code, errOut)
		}
	}
}

func TestIntersect(t *testing.T) {
	lo, hi := intersect([]byte("a"), nil, []byte("b\xff"))
	if string(lo) != "b\xff" || string(hi) != "c" {
		t.Errorf("intersect = %q, %q", lo, hi)
	}
	if end := prefixEnd([]byte{0xff, 0xff}); end != nil {
		t.Errorf("prefixEnd(ffff) = %q", end)
	}
}
