package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

type ConfigResult struct {
	ValueSize int
	Dataset   Dataset
	Runs      map[string]*EngineRun
}

// mems are the memory measurements of c's runs.
func (c *ConfigResult) mems() []MemStats {
	var ms []MemStats
	for _, run := range c.Runs {
		ms = append(ms, run.Mem)
	}
	return ms
}

func (c *ConfigResult) id() string { return fmt.Sprintf("v%d-%s", c.ValueSize, c.Dataset.Name) }

type DurableResult struct {
	ValueSize int
	Runs      map[string]map[int]*Result  // engine -> clients -> result
	Mem       map[string]map[int]MemStats // engine -> clients -> memory from open to before Close
}

type Report struct {
	Plan              Plan
	Started, Finished time.Time
	Configs           []*ConfigResult
	Durable           []*DurableResult
	Tx                []*TxResult // tx mode
}

const ours = "sled"

func (r *Report) peers() []string {
	var ps []string
	for _, e := range r.Plan.Engines {
		if e != ours {
			ps = append(ps, e)
		}
	}
	return ps
}

func (r *Report) hasOurs() bool {
	for _, e := range r.Plan.Engines {
		if e == ours {
			return true
		}
	}
	return false
}

// table writes a markdown table: one row per label, one column per engine
// (cell formats the value), then one ours/peer ratio column per peer.
func (r *Report) table(b *strings.Builder, first string, rows []string, val func(row, eng string) (float64, bool), cell func(float64) string) {
	cols := append([]string{first}, r.Plan.Engines...)
	ratio := r.hasOurs()
	if ratio {
		for _, p := range r.peers() {
			cols = append(cols, ours+"/"+p)
		}
	}
	b.WriteString("| " + strings.Join(cols, " | ") + " |\n|")
	for i := range cols {
		if i == 0 {
			b.WriteString("---|")
		} else {
			b.WriteString("---:|")
		}
	}
	b.WriteString("\n")
	for _, row := range rows {
		cells := []string{row}
		for _, e := range r.Plan.Engines {
			if v, ok := val(row, e); ok {
				cells = append(cells, cell(v))
			} else {
				cells = append(cells, "—")
			}
		}
		if ratio {
			o, ook := val(row, ours)
			for _, p := range r.peers() {
				v, ok := val(row, p)
				if ook && ok && v != 0 {
					cells = append(cells, fmt.Sprintf("%.2f", o/v))
				} else {
					cells = append(cells, "—")
				}
			}
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	b.WriteString("\n")
}

func fmtOps(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

func fmtDur(v float64) string {
	d := time.Duration(v)
	switch {
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2f ms", v/1e6)
	case d >= time.Microsecond:
		return fmt.Sprintf("%.1f µs", v/1e3)
	}
	return fmt.Sprintf("%.0f ns", v)
}

func fmtX(v float64) string { return fmt.Sprintf("%.2f×", v) }

func mibStr(b int64) string { return fmt.Sprintf("%d MiB", b/mib) }

// mibf formats bytes as MiB with one decimal (memory measurements).
func mibf(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/mib) }

// fmtMiB is a table cell of bytes in MiB (the table's title names the unit).
func fmtMiB(v float64) string { return fmt.Sprintf("%.1f", v/mib) }

// memRows are the memory rows of every table that has them.
var memRows = []string{"peak RSS", "RSS at start", "peak Go heap"}

// memVal is the memRows value of m; false when /proc was unavailable.
func memVal(m MemStats, row string) (float64, bool) {
	if m.PeakRSS == 0 {
		return 0, false
	}
	switch row {
	case memRows[0]:
		return float64(m.PeakRSS), true
	case memRows[1]:
		return float64(m.StartRSS), true
	case memRows[2]:
		return float64(m.PeakHeap), true
	}
	return 0, false
}

// memMethod says what the memory numbers are, below each memory table.
const memMethod = "RSS is the whole process's (VmRSS, peak from VmHWM after resetting it through /proc/self/clear_refs, and samples every 20 ms): " +
	"the harness and the Go runtime (see RSS at start, after a GC and FreeOSMemory, before open) and the file pages an engine has mmapped " +
	"(bbolt's file, badger's tables) count, the OS page cache behind read(2) does not. " +
	"Go heap = `/memory/classes/heap/objects:bytes` (live objects and garbage not yet swept), sampled every 20 ms."

// memNote is memMethod, plus a warning when some run could not reset VmHWM
// (its peak RSS is the sampled peak only).
func memNote(ms ...MemStats) string {
	for _, m := range ms {
		if m.PeakRSS > 0 && !m.HWM {
			return memMethod + " VmHWM could not be reset on this machine: peak RSS is the peak of the 20 ms samples only."
		}
	}
	return memMethod
}

func (r *Report) fileName() string {
	switch {
	case r.Plan.Memory:
		return "memory.md"
	case r.Plan.Tx:
		return "tx.md"
	}
	return "results.md"
}

func (r *Report) write(dir string) (string, error) {
	var b strings.Builder
	p := r.Plan
	if p.Tx {
		fmt.Fprintf(&b, "# sled vs %s: read-write transactions (%s mode)\n\n", strings.Join(r.peers(), ", "), p.Mode)
	} else {
		fmt.Fprintf(&b, "# sled vs bbolt, badger, pebble: %s mode\n\n", p.Mode)
	}
	args := strings.Join(os.Args[1:], " ")
	if args == "" {
		args = "-mode " + p.Mode
	}
	fmt.Fprintf(&b, "Generated by `cd bench && go run . %s` on %s (%s/%s, %d CPUs, GOMAXPROCS %d, %s) in %v. ",
		args, r.Started.Format("2006-01-02 15:04 MST"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(),
		r.Finished.Sub(r.Started).Round(time.Second))
	fmt.Fprintf(&b, "Settings of every engine and the method: [bench/README.md](../../bench/README.md).\n\n")
	if p.Tx {
		if err := r.writeTx(&b, dir); err != nil {
			return "", err
		}
		md := b.String()
		return md, os.WriteFile(filepath.Join(dir, r.fileName()), []byte(md), 0o644)
	}
	where := "in this process"
	if p.Memory {
		where = "each in a child process of its own"
	}
	fmt.Fprintf(&b, "%d records (keys `user<fnv hash>`, ~23 B), %d client goroutines, %v per YCSB workload per engine, compression off everywhere, "+
		"each engine in a fresh directory under %s, engines run one after the other %s. ", p.Records, p.Threads, p.Dur, os.TempDir(), where)
	b.WriteString("Ratios are ours/peer: above 1 is better for sled in throughput tables, below 1 is better in latency, amplification and memory tables.\n\n")
	dist := "zipfian constant 0.99 scrambled"
	if slices.Contains(r.workloadNames(), "D") {
		dist += "; D uses latest"
	}
	b.WriteString("Workloads (YCSB core, " + dist + "): ")
	var ws []string
	for _, w := range append([]string{"load"}, r.workloadNames()...) {
		ws = append(ws, workloadDesc[w])
	}
	b.WriteString(strings.Join(ws, "; ") + ".\n\n")

	if p.Memory {
		for _, c := range r.Configs {
			if err := r.writeMemory(&b, c, dir); err != nil {
				return "", err
			}
		}
		md := b.String()
		return md, os.WriteFile(filepath.Join(dir, r.fileName()), []byte(md), 0o644)
	}
	if len(r.Configs) > 0 {
		b.WriteString("## YCSB (non-durable writes in every engine)\n\n")
	}
	rows := append([]string{"load"}, r.workloadNames()...)
	for _, c := range r.Configs {
		fmt.Fprintf(&b, "### %d-byte values, data set %s the cache (cache budget %s, ~%d MiB logical)\n\n",
			c.ValueSize, map[string]string{"inside": "inside", "larger": "larger than"}[c.Dataset.Name], mibStr(c.Dataset.CacheBytes), logicalOf(c)/mib)
		get := c.result
		ok := func(x *Result) bool { return x != nil && x.Err == nil && x.Ops > 0 }
		b.WriteString("Throughput (ops/s):\n\n")
		r.table(&b, "workload", rows, func(row, eng string) (float64, bool) {
			x := get(row, eng)
			return x.Throughput(), ok(x)
		}, fmtOps)
		for _, q := range []struct {
			name string
			q    float64
		}{{"p50", 0.5}, {"p99", 0.99}} {
			fmt.Fprintf(&b, "Latency %s:\n\n", q.name)
			r.table(&b, "workload", rows, func(row, eng string) (float64, bool) {
				x := get(row, eng)
				if !ok(x) {
					return 0, false
				}
				return float64(x.Hist.quantile(q.q)), true
			}, fmtDur)
		}
		b.WriteString("Space and write amplification (bytes on disk / logical key+value bytes):\n\n")
		ampRows := []string{"space amp after load (+sync)", "space amp at close", "write amp of load (+sync)", "write amp of whole run (open..close)"}
		r.table(&b, "metric", ampRows, func(row, eng string) (float64, bool) {
			run := c.Runs[eng]
			if run == nil || run.Err != nil || run.Load == nil || run.Load.Logical == 0 {
				return 0, false
			}
			switch row {
			case ampRows[0]:
				return float64(run.SizeAfterLoad) / float64(run.Load.Logical), true
			case ampRows[1]:
				return float64(run.SizeAtClose) / float64(run.LiveLogical), true
			case ampRows[2]:
				return float64(run.Load.DiskBytes) / float64(run.Load.Logical), true
			case ampRows[3]:
				return float64(run.TotalDisk) / float64(run.TotalLogical), true
			}
			return 0, false
		}, fmtX)
		b.WriteString("Memory (MiB; from just before open to just before Close, load and every workload):\n\n")
		r.table(&b, "metric", memRows, func(row, eng string) (float64, bool) {
			run := c.Runs[eng]
			if run == nil {
				return 0, false
			}
			return memVal(run.Mem, row)
		}, fmtMiB)
		b.WriteString(memNote(c.mems()...) + "\n\n")
		r.statsAndErrors(&b, c)
		png := "throughput-" + c.id() + ".png"
		if err := r.throughputChart(c, filepath.Join(dir, png)); err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "![throughput %s](%s)\n\n", c.id(), png)
	}

	for _, d := range r.Durable {
		fmt.Fprintf(&b, "## Durable writes, %d-byte values (each put acknowledged only when durable)\n\n", d.ValueSize)
		fmt.Fprintf(&b, "Each client loops on one durable put of a uniformly random key among %d for %v; a fresh database per engine and client count. "+
			"sled: Insert + Flush; bbolt: DB.Batch (MaxBatchSize = clients) with fsync per commit; badger: SyncWrites=true; pebble: Set with pebble.Sync.\n\n", p.Records, p.DurableDur)
		var crow []string
		for _, c := range p.Clients {
			crow = append(crow, clientsLabel(c))
		}
		get := func(row, eng string) *Result {
			var c int
			fmt.Sscanf(row, "%d", &c)
			if d.Runs[eng] == nil {
				return nil
			}
			x := d.Runs[eng][c]
			if x == nil || x.Err != nil || x.Ops == 0 {
				return nil
			}
			return x
		}
		b.WriteString("Throughput (durable puts/s):\n\n")
		r.table(&b, "clients", crow, func(row, eng string) (float64, bool) {
			x := get(row, eng)
			return x.Throughput(), x != nil
		}, fmtOps)
		for _, q := range []struct {
			name string
			q    float64
		}{{"p50", 0.5}, {"p99", 0.99}} {
			fmt.Fprintf(&b, "Latency %s:\n\n", q.name)
			r.table(&b, "clients", crow, func(row, eng string) (float64, bool) {
				x := get(row, eng)
				if x == nil {
					return 0, false
				}
				return float64(x.Hist.quantile(q.q)), true
			}, fmtDur)
		}
		b.WriteString("Write amplification (bytes written to disk / logical bytes):\n\n")
		r.table(&b, "clients", crow, func(row, eng string) (float64, bool) {
			x := get(row, eng)
			if x == nil || x.Logical == 0 {
				return 0, false
			}
			return float64(x.DiskBytes) / float64(x.Logical), true
		}, fmtX)
		var dmems []MemStats
		for _, m := range []struct{ title, row string }{{"Peak RSS", memRows[0]}, {"Peak Go heap", memRows[2]}} {
			fmt.Fprintf(&b, "%s (MiB; from just before open to just before Close; cache budget 64 MiB):\n\n", m.title)
			r.table(&b, "clients", crow, func(row, eng string) (float64, bool) {
				if get(row, eng) == nil {
					return 0, false
				}
				var c int
				fmt.Sscanf(row, "%d", &c)
				dmems = append(dmems, d.Mem[eng][c])
				return memVal(d.Mem[eng][c], m.row)
			}, fmtMiB)
		}
		b.WriteString(memNote(dmems...) + "\n\n")
		var errs []string
		for _, e := range p.Engines {
			for _, c := range p.Clients {
				if x := d.Runs[e][c]; x != nil && x.Err != nil {
					errs = append(errs, fmt.Sprintf("- %s, %d clients: %v", e, c, x.Err))
				}
			}
		}
		if len(errs) > 0 {
			b.WriteString("Errors:\n\n" + strings.Join(errs, "\n") + "\n\n")
		}
		png := fmt.Sprintf("durable-v%d.png", d.ValueSize)
		if err := r.durableChart(d, filepath.Join(dir, png)); err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "![durable writes v%d](%s)\n\n", d.ValueSize, png)
	}
	md := b.String()
	return md, os.WriteFile(filepath.Join(dir, "results.md"), []byte(md), 0o644)
}

// statsAndErrors writes the engines' own counters and the errors of c.
func (r *Report) statsAndErrors(b *strings.Builder, c *ConfigResult) {
	for _, e := range r.Plan.Engines {
		if run := c.Runs[e]; run != nil && run.Stats != "" {
			fmt.Fprintf(b, "%s's counters at the end of the run: %s.\n\n", e, run.Stats)
		}
	}
	var errs []string
	for _, e := range r.Plan.Engines {
		if run := c.Runs[e]; run != nil && run.Err != nil {
			errs = append(errs, fmt.Sprintf("- %s: %v", e, run.Err))
		}
	}
	if len(errs) > 0 {
		b.WriteString("Errors:\n\n" + strings.Join(errs, "\n") + "\n\n")
	}
}

// writeMemory is the memory scenario's section: throughput, then memory in
// MiB and against the cache budget, then sled against its goal.
func (r *Report) writeMemory(b *strings.Builder, c *ConfigResult, dir string) error {
	cache := c.Dataset.CacheBytes
	fmt.Fprintf(b, "## Memory: %d-byte values, cache budget %s for every engine (~%d MiB logical, %.0f× the cache)\n\n",
		c.ValueSize, mibStr(cache), logicalOf(c)/mib, float64(logicalOf(c))/float64(cache))
	fmt.Fprintf(b, "Load (non-durable puts), then %d clients run YCSB A (50%% read, 50%% overwrite of a whole value, zipfian) for %v. "+
		"No durable writes. Memory is measured from just before open to just before Close: load and the mix.\n\n", r.Plan.Threads, r.Plan.Dur)
	rows := append([]string{"load"}, r.workloadNames()...)
	get := c.result
	b.WriteString("Throughput (ops/s):\n\n")
	r.table(b, "workload", rows, func(row, eng string) (float64, bool) {
		x := get(row, eng)
		return x.Throughput(), x != nil && x.Err == nil && x.Ops > 0
	}, fmtOps)
	mem := func(eng string) (MemStats, bool) {
		run := c.Runs[eng]
		if run == nil || run.Mem.PeakRSS == 0 {
			return MemStats{}, false
		}
		return run.Mem, true
	}
	b.WriteString("Memory (MiB):\n\n")
	r.table(b, "metric", memRows, func(row, eng string) (float64, bool) {
		m, ok := mem(eng)
		if !ok {
			return 0, false
		}
		return memVal(m, row)
	}, fmtMiB)
	ratioRows := []string{"peak RSS / cache", "(peak RSS − RSS at start) / cache", "peak Go heap / cache"}
	b.WriteString("Memory / cache budget:\n\n")
	r.table(b, "metric", ratioRows, func(row, eng string) (float64, bool) {
		m, ok := mem(eng)
		if !ok {
			return 0, false
		}
		switch row {
		case ratioRows[0]:
			return float64(m.PeakRSS) / float64(cache), true
		case ratioRows[1]:
			return float64(m.PeakRSS-m.StartRSS) / float64(cache), true
		case ratioRows[2]:
			return float64(m.PeakHeap) / float64(cache), true
		}
		return 0, false
	}, fmtX)
	b.WriteString(memNote(c.mems()...) + "\n\n")
	if m, ok := mem(ours); ok {
		g := rssGoal(cache)
		verdict := "met"
		if m.PeakRSS > g {
			verdict = "missed"
		}
		fmt.Fprintf(b, "sled's goal: peak RSS ≤ 1.25 × cache + 32 MiB = %s. Peak RSS %s = %.2f× the goal: %s.\n\n",
			mibStr(g), mibf(m.PeakRSS), float64(m.PeakRSS)/float64(g), verdict)
	}
	r.statsAndErrors(b, c)
	png := "memory-" + c.id() + ".png"
	if err := r.memoryChart(c, filepath.Join(dir, png)); err != nil {
		return err
	}
	fmt.Fprintf(b, "![memory %s](%s)\n\n", c.id(), png)
	return nil
}

func (r *Report) workloadNames() []string {
	var s []string
	for _, w := range r.Plan.Workloads {
		s = append(s, w.Name)
	}
	return s
}

func logicalOf(c *ConfigResult) int64 {
	for _, run := range c.Runs {
		if run.Load != nil && run.Load.Logical > 0 {
			return run.Load.Logical
		}
	}
	return 0
}

func clientsLabel(c int) string {
	if c == 1 {
		return "1 client"
	}
	return fmt.Sprintf("%d clients", c)
}

// result is engine eng's result for row: "load" or a workload's name; nil
// when the engine did not run.
func (c *ConfigResult) result(row, eng string) *Result {
	run := c.Runs[eng]
	if run == nil {
		return nil
	}
	if row == "load" {
		return run.Load
	}
	return run.Workloads[row]
}
