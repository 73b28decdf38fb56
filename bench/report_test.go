package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestReportMemory checks the memory rows of the quick/full report (the
// existing tables kept) and the memory scenario's report on made-up runs.
func TestReportMemory(t *testing.T) {
	res := func(ops int64) *Result {
		r := &Result{Ops: ops, Dur: time.Second, Logical: ops * 1000}
		r.Hist.record(time.Microsecond)
		return r
	}
	run := func(ops int64, m MemStats) *EngineRun {
		r := &EngineRun{Load: res(ops), Workloads: map[string]*Result{}, Mem: m,
			SizeAfterLoad: 1, SizeAtClose: 1, LiveLogical: 1, TotalLogical: 1}
		for _, w := range ycsb {
			r.Workloads[w.Name] = res(ops)
		}
		return r
	}
	sledMem := MemStats{StartRSS: 30 * mib, PeakRSS: 48 * mib, PeakHeap: 20 * mib, HWM: true}
	boltMem := MemStats{StartRSS: 30 * mib, PeakRSS: 96 * mib, PeakHeap: 8 * mib, HWM: true}

	t.Run("quick", func(t *testing.T) {
		p := quickPlan()
		p.Engines, p.Threads = []string{"sled", "bbolt"}, 2
		cfg := &ConfigResult{ValueSize: 100, Dataset: Dataset{"inside", 64 * mib},
			Runs: map[string]*EngineRun{"sled": run(1000, sledMem), "bbolt": run(500, boltMem)}}
		dr := &DurableResult{ValueSize: 100, Runs: map[string]map[int]*Result{}, Mem: map[string]map[int]MemStats{}}
		for _, e := range p.Engines {
			dr.Runs[e], dr.Mem[e] = map[int]*Result{}, map[int]MemStats{}
			for _, c := range p.Clients {
				dr.Runs[e][c] = res(100)
				dr.Mem[e][c] = sledMem
			}
		}
		rep := &Report{Plan: p, Configs: []*ConfigResult{cfg}, Durable: []*DurableResult{dr}}
		dir := t.TempDir()
		md, err := rep.write(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{
			"| workload | sled | bbolt | sled/bbolt |", // existing columns unchanged
			"| A | 1.0k | 500 | 2.00 |",
			"| peak RSS | 48.0 | 96.0 | 0.50 |",
			"| RSS at start | 30.0 | 30.0 | 1.00 |",
			"| peak Go heap | 20.0 | 8.0 | 2.50 |",
			"Peak RSS (MiB; from just before open",
			"| 8 clients | 48.0 | 48.0 | 1.00 |",
			"Peak Go heap (MiB;",
		} {
			if !strings.Contains(md, want) {
				t.Errorf("results.md lacks %q", want)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "results.md")); err != nil {
			t.Error(err)
		}
	})

	t.Run("memory", func(t *testing.T) {
		p := memoryPlan()
		p.Engines = []string{"sled", "bbolt"}
		cfg := &ConfigResult{ValueSize: 1024, Dataset: Dataset{"memory", 16 * mib},
			Runs: map[string]*EngineRun{"sled": run(1000, sledMem), "bbolt": run(500, boltMem)}}
		rep := &Report{Plan: p, Configs: []*ConfigResult{cfg}}
		dir := t.TempDir()
		md, err := rep.write(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{
			"| load | 1.0k | 500 | 2.00 |",
			"| A | 1.0k | 500 | 2.00 |",
			"| peak RSS | 48.0 | 96.0 | 0.50 |",
			"| peak RSS / cache | 3.00× | 6.00× | 0.50 |",
			"| (peak RSS − RSS at start) / cache | 1.12× | 4.12× | 0.27 |",
			"| peak Go heap / cache | 1.25× | 0.50× | 2.50 |",
			"peak RSS ≤ 1.25 × cache + 32 MiB = 52 MiB. Peak RSS 48.0 MiB = 0.92× the goal: met.",
		} {
			if !strings.Contains(md, want) {
				t.Errorf("memory.md lacks %q", want)
			}
		}
		for _, absent := range []string{"| B |", "Durable writes", "D uses latest"} {
			if strings.Contains(md, absent) {
				t.Errorf("memory.md has %q", absent)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "memory.md")); err != nil {
			t.Error(err)
		}
		if _, err := os.Stat(filepath.Join(dir, "results.md")); err == nil {
			t.Error("memory mode wrote results.md")
		}
	})
}
