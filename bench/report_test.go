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

// TestReportTx checks tx mode's report on made-up runs: the throughput
// table with its ratios per client count and durability, the conflicts
// table, sled's goals at 8 clients, and that it writes tx.md only.
func TestReportTx(t *testing.T) {
	p := txPlan()
	p.Engines, p.Threads = []string{"sled", "bbolt", "badger"}, 2
	// tx/s per engine at 1, 8, 64 clients, non-durable then durable.
	perSec := map[string][]int64{
		"sled":   {4000, 10000, 12000, 900, 2400, 6400},
		"bbolt":  {2000, 2000, 1000, 300, 300, 320},
		"badger": {2000, 4000, 3000, 400, 1600, 1600},
	}
	t1 := &TxResult{ValueSize: 100, CacheBytes: 64 * mib, Load: map[string]*Result{}, Runs: map[string]map[txRun]*Result{}}
	for e, tps := range perSec {
		t1.Load[e] = &Result{Ops: 1000, Dur: time.Second}
		t1.Runs[e] = map[txRun]*Result{}
		i := 0
		for _, d := range txDurabilities {
			for _, c := range p.Clients {
				for _, w := range p.Workloads {
					x := &Result{Dur: time.Second, Ops: tps[i]}
					x.OpCounts[opTx] = tps[i]
					if w.Name == "A+TX" { // ten times the ops, a tenth of them transactions
						x.Ops, x.OpCounts[opRead] = 10*tps[i], 9*tps[i]
					}
					if e == "badger" {
						x.Retries = tps[i] / 4
					}
					if e == "sled" && c == 64 {
						x.Aborts = tps[i] / 99 // of tps+aborts attempted: ~1%
					}
					x.Hist.record(time.Millisecond)
					t1.Runs[e][txRun{d, c, w.Name}] = x
				}
				i++
			}
		}
	}
	delete(t1.Runs["bbolt"], txRun{true, 64, "TX"})
	rep := &Report{Plan: p, Tx: []*TxResult{t1}}
	dir := t.TempDir()
	md, err := rep.write(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"# sled vs bbolt, badger: read-write transactions (tx mode)",
		"Throughput (committed transactions/s):",
		"| clients, durability | sled | bbolt | badger | sled/bbolt | sled/badger |",
		"|---|---:|---:|---:|---:|---:|",
		"| 1 client, non-durable | 4.0k | 2.0k | 2.0k | 2.00 | 2.00 |",
		"| 8 clients, non-durable | 10.0k | 2.0k | 4.0k | 5.00 | 2.50 |",
		"| 64 clients, durable | 6.4k | — | 1.6k | — | 4.00 |",        // bbolt's run missing
		"| 8 clients, durable | 24.0k | 3.0k | 16.0k | 8.00 | 1.50 |", // A+TX: ops/s
		"| clients, durability | sled aborted | sled retries/tx | bbolt aborted | bbolt retries/tx | badger aborted | badger retries/tx |",
		"| 8 clients, non-durable | 0.00% | 0.000 | 0.00% | 0.000 | 0.00% | 0.250 |",
		"| 64 clients, non-durable | 1.00% | 0.000 | 0.00% | 0.000 | 0.00% | 0.250 |",
		"| workload, durability | sled/badger (goal ≥ 2) | sled/bbolt (goal ≥ 5) |",
		"| TX, non-durable | 2.50 met | 5.00 met |",
		"| TX, durable | 1.50 missed | 8.00 met |",
		"| 1 client, non-durable | 1.02 ms | 1.02 ms | 1.02 ms | 1.00 | 1.00 |", // latency
		"| load | 1.0k | 1.0k | 1.0k | 1.00 | 1.00 |",
		"![transactions v100 durable](tx-v100-durable.png)",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("tx.md lacks %q", want)
		}
	}
	for _, absent := range []string{"Durable writes", "## YCSB", "Errors:"} {
		if strings.Contains(md, absent) {
			t.Errorf("tx.md has %q", absent)
		}
	}
	for _, f := range []string{"tx.md", "tx-v100-non-durable.png", "tx-v100-durable.png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "results.md")); err == nil {
		t.Error("tx mode wrote results.md")
	}

	// Without sled, no ratios and no goals; an engine's error is listed.
	p.Engines = []string{"bbolt", "badger"}
	t1.Runs["badger"][txRun{false, 8, "TX"}].Err = errTxAborted
	md, err = (&Report{Plan: p, Tx: []*TxResult{t1}}).write(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| clients, durability | bbolt | badger |\n", "| 8 clients, non-durable | 2.0k | — |",
		"- badger, TX, 8 clients, non-durable: " + errTxAborted.Error()} {
		if !strings.Contains(md, want) {
			t.Errorf("tx.md without sled lacks %q", want)
		}
	}
	if strings.Contains(md, "goals") {
		t.Error("tx.md without sled states sled's goals")
	}
}
