package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// A bar with a known total shows the count, the rate and the time spent and
// left; done erases it.
func TestProgressBar(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf, "loading", 1000, unitKeys)
	time.Sleep(2 * progressInterval) // past the throttle, so that add redraws
	p.add(500)
	out := buf.String()
	for _, re := range []string{`loading +50% \|`, `\(500/1000, \d+ keys/s\)`, `\[\d+s:\d+s\]`} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("bar lacks %s:\n%q", re, out)
		}
	}
	p.done()
	if out := buf.String(); !regexp.MustCompile(`\r +\r$`).MatchString(out) {
		t.Errorf("done did not erase the bar:\n%q", out)
	}
}

// Without a total, a spinner shows the bytes so far, their rate and the
// time spent.
func TestProgressSpinner(t *testing.T) {
	var buf lockedBuffer // the spinner redraws from its own goroutine
	p := newProgress(&buf, "importing", 0, unitBytes)
	r := p.reader(strings.NewReader(strings.Repeat("x", 3000)))
	if n, err := r.Read(make([]byte, 2048)); n != 2048 || err != nil {
		t.Fatalf("Read: %d, %v", n, err)
	}
	want := regexp.MustCompile(`[-/|\\] importing \(2\.0 kB, [\d.]+ ?[kM]?B/s\) \[\d+s\]`)
	for deadline := time.Now().Add(10 * time.Second); !want.MatchString(buf.String()) && time.Now().Before(deadline); {
		time.Sleep(progressInterval)
	}
	p.done()
	if out := buf.String(); !want.MatchString(out) {
		t.Errorf("spinner lacks %s:\n%q", want, out)
	}
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Progress shows only on a terminal and without -q; otherwise it is nil,
// whose methods do nothing.
func TestProgressOff(t *testing.T) {
	var buf bytes.Buffer
	for _, c := range []struct {
		terminal, quiet bool
		want            bool
	}{{true, false, true}, {true, true, false}, {false, false, false}, {false, true, false}} {
		e := &env{stderr: &buf, stderrTerminal: c.terminal}
		p := e.progress(c.quiet, "x", 10, unitEntries)
		if (p != nil) != c.want || e.showsProgress(c.quiet) != c.want {
			t.Errorf("terminal %v, quiet %v: progress %v, want shown %v", c.terminal, c.quiet, p, c.want)
		}
		p.done()
	}
	buf.Reset()
	var p *progress
	p.add(1)
	p.poll(func() int64 { return 1 })
	r := strings.NewReader("r")
	var w bytes.Buffer
	if p.reader(r) != r || p.writer(&w) != &w {
		t.Error("a nil progress wraps readers or writers")
	}
	p.done()
	if isTerminal(&buf) || isTerminal(os.NewFile(^uintptr(0), "bad")) {
		t.Error("isTerminal of a buffer or a bad file")
	}
	if f, err := os.Create(filepath.Join(t.TempDir(), "f")); err != nil || isTerminal(f) {
		t.Errorf("isTerminal of a regular file (%v)", err)
	}
}

// On a terminal the long commands draw on stderr, -q silences them, and
// stdout is the same either way.
func TestCommandsProgress(t *testing.T) {
	forEachHarness(t, func(t *testing.T, h *harness) {
		fill(h)
		file := filepath.Join(t.TempDir(), "dump")
		h.ok("export", "-path", h.path, file)
		quiet := map[string]string{}
		for _, args := range [][]string{
			{"export", "-path", h.path},
			{"export", "-path", h.path, "-tree", "t2"},
			{"check", "-path", h.path},
			{"import", "-path", h.path, file},
		} {
			for _, q := range []bool{true, false} {
				h.terminal = true
				a := args
				if q {
					a = append(append([]string{}, args...), "-q")
				}
				code, out, errOut := h.run("", a...)
				h.terminal = false
				if code != exitOK {
					t.Fatalf("%q: exit %d, stderr %q", a, code, errOut)
				}
				key := strings.Join(args, " ")
				switch {
				case q && errOut != "":
					t.Errorf("%q printed on stderr: %q", a, errOut)
				case q:
					quiet[key] = out
				case out != quiet[key]:
					t.Errorf("%q: stdout with progress %q, with -q %q", a, out, quiet[key])
				case !strings.Contains(errOut, args[0]+"ing"):
					t.Errorf("%q drew no progress: %q", a, errOut)
				}
			}
		}
	})
}

func TestBenchProgress(t *testing.T) {
	args := []string{"bench", "-keys", "1000", "-duration", "50ms", "-goroutines", "2", "-workload", "read"}
	for _, q := range []bool{true, false} {
		a := args
		if q {
			a = append(append([]string{}, args...), "-q")
		}
		var out, errOut bytes.Buffer
		code := runEnv(&env{stdout: &out, stderr: &errOut, stderrTerminal: true}, a)
		if code != exitOK {
			t.Fatalf("%q: exit %d, stderr %q", a, code, errOut.String())
		}
		if got := errOut.String(); q != (got == "") || !q && !strings.Contains(got, "loading") {
			t.Errorf("%q: stderr %q", a, got)
		}
		if strings.Contains(out.String(), "\r") {
			t.Errorf("%q: progress on stdout:\n%s", a, out.String())
		}
	}
}
