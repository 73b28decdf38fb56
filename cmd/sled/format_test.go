package main

import (
	"flag"
	"io"
	"testing"
)

func newTestFlagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

func TestFormatBytes(t *testing.T) {
	cases := []struct {
		in        string
		text, hex string
	}{
		{"hello world", "hello world", "68656c6c6f20776f726c64"},
		{"", `""`, ""},
		{"a\tb", `"a\tb"`, "610962"},
		{"line\n", `"line\n"`, "6c696e650a"},
		{"\x00\xff", `"\x00\xff"`, "00ff"},
		{`"quoted"`, `"\"quoted\""`, "2271756f74656422"},
		{"héllo", "héllo", "68c3a96c6c6f"},
	}
	for _, c := range cases {
		if got := formatBytes([]byte(c.in), false); got != c.text {
			t.Errorf("formatBytes(%q) = %s, want %s", c.in, got, c.text)
		}
		if got := formatBytes([]byte(c.in), true); got != c.hex {
			t.Errorf("formatBytes(%q, hex) = %s, want %s", c.in, got, c.hex)
		}
		if b, err := parseBytes("key", c.hex, true); err != nil || string(b) != c.in {
			t.Errorf("parseBytes(%q, hex) = %q, %v", c.hex, b, err)
		}
	}
	if _, err := parseBytes("key", "zz", true); err == nil {
		t.Error("parseBytes accepted bad hex")
	}
}

func TestByteSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 3 << 20: "3.0 MiB", 5 << 30: "5.0 GiB"} {
		if got := byteSize(n); got != want {
			t.Errorf("byteSize(%d) = %q, want %q", n, got, want)
		}
	}
}
