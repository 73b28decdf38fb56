package main

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/sledgo/sled"
)

// harness runs command lines against one database directory.
type harness struct {
	t    *testing.T
	path string
	open func(cfg sled.Config) (*sled.DB, func() error, error) // nil: the real Open
	// terminal makes commands take stderr for a terminal, so that they
	// draw progress there; false, as under go test, keeps stderr quiet.
	terminal bool
}

// run runs the command line args with stdin and returns the exit code and
// what was printed.
func (h *harness) run(stdin string, args ...string) (code int, stdout, stderr string) {
	h.t.Helper()
	var out, errOut bytes.Buffer
	e := &env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut, stderrTerminal: h.terminal, open: h.open}
	code = runEnv(e, args)
	return code, out.String(), errOut.String()
}

// ok runs args, fails the test unless they exit 0, and returns stdout.
func (h *harness) ok(args ...string) string {
	h.t.Helper()
	code, out, errOut := h.run("", args...)
	if code != exitOK {
		h.t.Fatalf("sled %s: exit %d, stderr:\n%s", strings.Join(args, " "), code, errOut)
	}
	return out
}

// persistentHarness returns a harness on a fresh database directory. It
// skips the test while this build of the library cannot open persistent
// databases (and only then), so the tests turn on by themselves once it can.
func persistentHarness(t *testing.T) *harness {
	t.Helper()
	dir := t.TempDir()
	db, err := sled.Config{Path: dir}.Open()
	if err != nil {
		if strings.Contains(err.Error(), "not supported") {
			t.Skip(err.Error())
		}
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, path: dir}
}

// memHarness returns a harness whose commands all share one temporary
// database, which they cannot close: it exercises every command today,
// before persistent databases exist.
func memHarness(t *testing.T) *harness {
	t.Helper()
	db, err := sled.Config{Temporary: true}.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Check(); err != nil {
			t.Errorf("Check after the test: %v", err)
		}
		db.Close()
	})
	h := &harness{t: t, path: "mem-db"}
	h.open = func(cfg sled.Config) (*sled.DB, func() error, error) {
		if cfg.Path != h.path {
			t.Fatalf("opened %q, want %q", cfg.Path, h.path)
		}
		return db, func() error { return nil }, nil
	}
	return h
}

// forEachHarness runs fn on a shared temporary database ("mem") and on a
// real directory ("disk", skipped until persistence is supported).
func forEachHarness(t *testing.T, fn func(t *testing.T, h *harness)) {
	t.Run("mem", func(t *testing.T) { fn(t, memHarness(t)) })
	t.Run("disk", func(t *testing.T) { fn(t, persistentHarness(t)) })
}

// runArgs calls run, the entry point main uses.
func runArgs(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestUsage(t *testing.T) {
	code, out, errOut := runArgs()
	if code != exitUsage || out != "" || !strings.Contains(errOut, "Usage:") {
		t.Fatalf("no arguments: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}} {
		code, out, _ := runArgs(args...)
		if code != exitOK {
			t.Fatalf("%v: exit %d", args, code)
		}
		for _, c := range commands() {
			if !strings.Contains(out, "\t"+c.name+" ") {
				t.Errorf("%v: usage does not list %s:\n%s", args, c.name, out)
			}
		}
	}
}

func TestUnknownCommand(t *testing.T) {
	for _, args := range [][]string{{"frobnicate"}, {"help", "frobnicate"}} {
		code, _, errOut := runArgs(args...)
		if code != exitUsage || !strings.HasPrefix(errOut, `sled: unknown command "frobnicate"`) {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
		}
	}
}

func TestCommandHelp(t *testing.T) {
	for _, c := range commands() {
		for _, args := range [][]string{{"help", c.name}, {c.name, "-h"}} {
			code, out, _ := runArgs(args...)
			if code != exitOK || !strings.HasPrefix(out, "usage: sled "+c.name) {
				t.Errorf("%v: exit %d, stdout %q", args, code, out)
			}
		}
	}
	_, out, _ := runArgs("help", "get")
	for _, f := range []string{"-path", "-tree", "-hex"} {
		if !strings.Contains(out, f) {
			t.Errorf("get's usage lacks %s:\n%s", f, out)
		}
	}
}

// Every command on a database requires -path.
func TestMissingPath(t *testing.T) {
	cases := [][]string{
		{"check"}, {"get", "k"}, {"insert", "k", "v"}, {"remove", "k"}, {"scan"},
		{"export"}, {"import"}, {"stats"},
	}
	for _, args := range cases {
		code, out, errOut := runArgs(args...)
		if code != exitUsage || out != "" || !strings.Contains(errOut, "-path is required") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
}

func TestBadFlag(t *testing.T) {
	code, _, errOut := runArgs("get", "-path", "x", "-nope", "k")
	if code != exitUsage || !strings.Contains(errOut, "flag provided but not defined: -nope") ||
		!strings.Contains(errOut, "usage: sled get") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

func TestParseInterspersed(t *testing.T) {
	fs := newTestFlagSet()
	path := fs.String("path", "", "")
	pos, err := parse(fs, []string{"a", "-path", "p", "b", "--", "-c", "-path"}, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	if *path != "p" || strings.Join(pos, ",") != "a,b,-c,-path" {
		t.Fatalf("path %q, positional %q", *path, pos)
	}
	if _, err := parse(newTestFlagSet(), []string{"a"}, 2, 2); err == nil || !strings.Contains(err.Error(), "missing arguments") {
		t.Fatalf("too few: %v", err)
	}
	if _, err := parse(newTestFlagSet(), []string{"a", "b"}, 0, 1); err == nil || !strings.Contains(err.Error(), "too many arguments") {
		t.Fatalf("too many: %v", err)
	}
}

// An error of the library is printed once with the "sled: " prefix, and
// exits 1.
// Reading commands open read-only: on a path without a database they fail
// with a clear error and create nothing.
func TestOpenFailure(t *testing.T) {
	for _, args := range [][]string{{"get", "k"}, {"scan"}, {"stats"}, {"export", "-"}, {"check"}} {
		path := t.TempDir() + "/db"
		code, out, errOut := runArgs(append([]string{args[0], "-path", path}, args[1:]...)...)
		if code != exitFail || out != "" || !strings.HasPrefix(errOut, "sled: ") || strings.HasPrefix(errOut, "sled: sled:") ||
			!strings.Contains(errOut, "no database") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want a failed open naming the missing database", args, code, out, errOut)
		}
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%v on a missing database created %s (stat: %v)", args, path, err)
		}
	}
}
