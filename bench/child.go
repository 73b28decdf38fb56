package main

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Memory mode runs every engine in a child process of its own (this bench
// built with only that engine linked in, and without the charts, run with
// -child): the peak RSS it reports is then that one engine's process, from
// a fresh Go runtime, instead of a process whose heap the harness and the
// engines that ran before it have already grown, and whose text holds
// every engine and the plotting library's fonts. The
// child does exactly what runEngine does in-process and sends the EngineRun
// back on stdout (gob); its log goes to stderr, which it shares with the
// parent.

// childEnv marks a process as a child, for test binaries, whose main is not
// ours: TestMain runs main when it is set.
const childEnv = "SLEDBENCH_CHILD"

// wireResult is Result with its histogram and error in exported form.
type wireResult struct {
	Ops       int64
	Dur       time.Duration
	Counts    []uint64
	N         uint64
	OpCounts  [numOps]int64
	NotFound  int64
	Logical   int64
	DiskBytes int64
	Aborts    int64
	Retries   int64
	Err       string
}

type wireRun struct {
	Load          *wireResult
	Workloads     map[string]*wireResult
	SizeAfterLoad int64
	SizeAtClose   int64
	LiveLogical   int64
	TotalLogical  int64
	TotalDisk     int64
	Stats         string
	Mem           MemStats
	Err           string
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func stringErr(s string) error {
	if s == "" {
		return nil
	}
	return errors.New(s)
}

func toWireResult(r *Result) *wireResult {
	if r == nil {
		return nil
	}
	return &wireResult{Ops: r.Ops, Dur: r.Dur, Counts: r.Hist.counts[:], N: r.Hist.n, OpCounts: r.OpCounts,
		NotFound: r.NotFound, Logical: r.Logical, DiskBytes: r.DiskBytes, Aborts: r.Aborts, Retries: r.Retries, Err: errString(r.Err)}
}

func fromWireResult(w *wireResult) (*Result, error) {
	if w == nil {
		return nil, nil
	}
	r := &Result{Ops: w.Ops, Dur: w.Dur, OpCounts: w.OpCounts, NotFound: w.NotFound, Logical: w.Logical,
		DiskBytes: w.DiskBytes, Aborts: w.Aborts, Retries: w.Retries, Err: stringErr(w.Err)}
	if len(w.Counts) != len(r.Hist.counts) {
		return nil, fmt.Errorf("child histogram has %d buckets, want %d", len(w.Counts), len(r.Hist.counts))
	}
	copy(r.Hist.counts[:], w.Counts)
	r.Hist.n = w.N
	return r, nil
}

func encodeRun(run *EngineRun) ([]byte, error) {
	w := wireRun{Load: toWireResult(run.Load), Workloads: map[string]*wireResult{}, SizeAfterLoad: run.SizeAfterLoad,
		SizeAtClose: run.SizeAtClose, LiveLogical: run.LiveLogical, TotalLogical: run.TotalLogical,
		TotalDisk: run.TotalDisk, Stats: run.Stats, Mem: run.Mem, Err: errString(run.Err)}
	for k, r := range run.Workloads {
		w.Workloads[k] = toWireResult(r)
	}
	var b bytes.Buffer
	err := gob.NewEncoder(&b).Encode(&w)
	return b.Bytes(), err
}

func decodeRun(b []byte) (*EngineRun, error) {
	var w wireRun
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&w); err != nil {
		return nil, fmt.Errorf("decode the child's result: %w", err)
	}
	run := &EngineRun{Workloads: map[string]*Result{}, SizeAfterLoad: w.SizeAfterLoad, SizeAtClose: w.SizeAtClose,
		LiveLogical: w.LiveLogical, TotalLogical: w.TotalLogical, TotalDisk: w.TotalDisk, Stats: w.Stats,
		Mem: w.Mem, Err: stringErr(w.Err)}
	var err error
	if run.Load, err = fromWireResult(w.Load); err != nil {
		return nil, err
	}
	for k, wr := range w.Workloads {
		if run.Workloads[k], err = fromWireResult(wr); err != nil {
			return nil, err
		}
	}
	return run, nil
}

// childArgs are the arguments of a child that runs one engine on one value
// size and data set: the parent's own (so the plan is the same), then the
// child's, which flag parsing lets win.
func childArgs(parent []string, engine string, vs int, ds Dataset, profile string) []string {
	args := append([]string(nil), parent...)
	return append(args, "-child", engine, "-child-value-size", strconv.Itoa(vs), "-child-dataset", ds.Name,
		"-cpuprofile", profile)
}

// childBinaries caches, per engine, the binary built with only that engine
// linked in ("" when it could not be built).
var childBinaries = map[string]string{}

// childBinary returns a build of this bench with only engine linked in
// (the other engines' files are left out by their no<engine> tags), so that
// the child's RSS does not count the other engines' code and data: the
// binary's text pages are resident file pages, and a binary with every
// engine is about three times the size. It builds from the bench module
// in the working directory (where `go run .` runs) with the go command
// that is on PATH, into a temporary directory; when it cannot (no module
// here, no toolchain), it returns this binary and why not.
func childBinary(engine string) (path string, note string) {
	if p, ok := childBinaries[engine]; ok && p != "" {
		return p, ""
	}
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Sprintf("find this binary to re-run it: %v", err)
	}
	mod, err := os.ReadFile("go.mod")
	if err != nil || !bytes.Contains(mod, []byte("module github.com/sledgo/sled/bench\n")) {
		return exe, "not in the bench module's directory: children run this binary, with every engine linked in"
	}
	dir, err := os.MkdirTemp("", "sledbench-bin-*")
	if err != nil {
		return exe, fmt.Sprintf("no directory for child binaries (%v): children run this binary", err)
	}
	tags := []string{"nochart"} // a child reports back; the parent draws
	for _, e := range engines {
		if e.name != engine {
			tags = append(tags, "no"+e.name)
		}
	}
	out := filepath.Join(dir, "bench-"+engine)
	cmd := exec.Command("go", "build", "-tags", strings.Join(tags, ","), "-o", out, ".")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		childBinaries[engine] = ""
		return exe, fmt.Sprintf("go build of a %s-only binary failed (%v): children run this binary", engine, err)
	}
	childBinaries[engine] = out
	return out, ""
}

// removeChildBinaries removes the binaries childBinary built.
func removeChildBinaries() {
	for e, p := range childBinaries {
		if p != "" {
			os.RemoveAll(filepath.Dir(p))
		}
		delete(childBinaries, e)
	}
}

// runEngineChild runs runEngine in a child process. A child that fails
// (a crash, a bad result) is an EngineRun with Err set, like an engine that
// fails in-process.
func runEngineChild(parentArgs []string, engine string, vs int, ds Dataset, profile string) *EngineRun {
	exe, note := childBinary(engine)
	if exe == "" {
		return &EngineRun{Workloads: map[string]*Result{}, Err: errors.New(note)}
	}
	if note != "" {
		log.Printf("  %s: %s", engine, note)
	}
	cmd := exec.Command(exe, childArgs(parentArgs, engine, vs, ds, profile)...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return &EngineRun{Workloads: map[string]*Result{}, Err: fmt.Errorf("child for %s: %w", engine, err)}
	}
	run, err := decodeRun(out)
	if err != nil {
		return &EngineRun{Workloads: map[string]*Result{}, Err: fmt.Errorf("child for %s: %w", engine, err)}
	}
	return run
}

// childMain is main in a child: run one engine and print its EngineRun.
func childMain(p Plan, engine string, vs int, dsName, profile string) error {
	spec, err := engineByName(engine)
	if err != nil {
		return err
	}
	for _, ds := range p.Datasets(vs, p.Records) {
		if ds.Name != dsName {
			continue
		}
		run := runEngine(spec, p, vs, ds, profile)
		b, err := encodeRun(run)
		if err != nil {
			return err
		}
		_, err = os.Stdout.Write(b)
		return err
	}
	return fmt.Errorf("no data set %q for value size %d in mode %s", dsName, vs, p.Mode)
}
