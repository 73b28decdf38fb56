// Command bench runs sled and its peers (bbolt, badger, pebble) side by side
// on YCSB A-F and durable writes, and writes docs/bench/results.md and PNG
// charts; -mode memory measures memory against a small cache budget and
// writes docs/bench/memory.md; -mode tx compares read-write transactions
// (sled, bbolt, badger) and writes docs/bench/tx.md. See README.md.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Dataset is a memory-budget setting: the same cache budget for every engine.
type Dataset struct {
	Name       string // "inside" (the data fits the cache) or "larger"
	CacheBytes int64
}

// Plan is what one invocation measures.
type Plan struct {
	Mode        string
	Records     int64
	ValueSizes  []int
	Datasets    func(valueSize int, records int64) []Dataset
	Workloads   []Workload    // run in this order on the loaded database
	Dur         time.Duration // per YCSB workload per engine
	DurableDur  time.Duration // per client count per engine
	Clients     []int
	Threads     int // client goroutines for load and YCSB; 0: GOMAXPROCS
	Engines     []string
	DurableVals []int
	// Memory: the memory scenario. Its report (memory.md, so that it does
	// not overwrite the quick or full results.md) puts memory beside the
	// cache budget instead of the YCSB tables.
	Memory bool
	// Tx: the transactions scenario (tx.go): Workloads run at each of
	// Clients, non-durable and durable, instead of YCSB and durable writes;
	// its report is tx.md.
	Tx bool
}

const mib = 1 << 20

// keep narrows the plan to the value sizes, data sets and workloads named
// (comma-separated; an empty list keeps all), so that one column can be
// run or profiled alone.
func (p *Plan) keep(valueSizes, datasets, workloads string) error {
	if valueSizes != "" {
		var vs []int
		for _, f := range strings.Split(valueSizes, ",") {
			n, err := strconv.Atoi(f)
			if err != nil || !slices.Contains(p.ValueSizes, n) {
				return fmt.Errorf("-value-sizes: %q is not one of the plan's %v", f, p.ValueSizes)
			}
			vs = append(vs, n)
		}
		p.ValueSizes = vs
		p.DurableVals = slices.DeleteFunc(slices.Clone(p.DurableVals), func(v int) bool { return !slices.Contains(vs, v) })
	}
	if datasets != "" {
		want := strings.Split(datasets, ",")
		all := p.Datasets
		for _, name := range want {
			known := false
			for _, vs := range p.ValueSizes {
				known = known || slices.ContainsFunc(all(vs, p.Records), func(ds Dataset) bool { return ds.Name == name })
			}
			if !known {
				return fmt.Errorf("-datasets: %q is not a data set of the plan", name)
			}
		}
		p.Datasets = func(vs int, records int64) []Dataset {
			var out []Dataset
			for _, ds := range all(vs, records) {
				if slices.Contains(want, ds.Name) {
					out = append(out, ds)
				}
			}
			return out
		}
	}
	if workloads != "" {
		var ws []Workload
		for _, f := range strings.Split(workloads, ",") {
			i := slices.IndexFunc(p.Workloads, func(w Workload) bool { return w.Name == f })
			if i < 0 {
				return fmt.Errorf("-workloads: %q is not a workload of the plan", f)
			}
			ws = append(ws, p.Workloads[i])
		}
		p.Workloads = ws
	}
	return nil
}

func quickPlan() Plan {
	return Plan{
		Mode:        "quick",
		Records:     150_000,
		ValueSizes:  []int{100},
		Datasets:    func(int, int64) []Dataset { return []Dataset{{"inside", 64 * mib}} },
		Workloads:   ycsb,
		Dur:         3 * time.Second,
		DurableDur:  2 * time.Second,
		Clients:     []int{1, 8, 64},
		DurableVals: []int{100},
	}
}

func fullPlan() Plan {
	return Plan{
		Mode:       "full",
		Records:    1_000_000,
		ValueSizes: []int{100, 1024},
		Datasets: func(vs int, records int64) []Dataset {
			// "inside": a budget of at least twice the logical data set
			// (rounded up to a power of two); "larger": 64 MiB, 2x (100 B) to
			// 16x (1 KiB) smaller than the data set.
			logical := records * int64(vs+24)
			inside := int64(64 * mib)
			for inside < 2*logical {
				inside *= 2
			}
			return []Dataset{{"inside", inside}, {"larger", 64 * mib}}
		},
		Workloads:   ycsb,
		Dur:         10 * time.Second,
		DurableDur:  5 * time.Second,
		Clients:     []int{1, 8, 64},
		DurableVals: []int{100, 1024},
	}
}

// memoryPlan: does an engine keep its memory near its cache budget under a
// data set ~20x larger (300k records of 1 KiB, ~300 MiB logical, against 16
// MiB) and a write-heavy skewed mix? Load, then YCSB A (50% read, 50%
// overwrite of a whole value, zipfian) with 2 clients (the reference
// machine's GOMAXPROCS, fixed so that runs on bigger machines compare).
// Non-durable writes only: durable runs would measure fsync, not memory.
func memoryPlan() Plan {
	return Plan{
		Mode:       "memory",
		Records:    300_000,
		ValueSizes: []int{1024},
		Datasets:   func(int, int64) []Dataset { return []Dataset{{"memory", 16 * mib}} },
		Workloads:  []Workload{ycsb[0]},
		Dur:        20 * time.Second,
		Threads:    2,
		Memory:     true,
	}
}

func main() {
	mode := flag.String("mode", "quick", "quick (< 2 min), full, memory (peak RSS and Go heap against a 16 MiB cache), or tx (read-write transactions: sled, bbolt, badger)")
	out := flag.String("out", "../docs/bench", "output directory for results.md and charts")
	engList := flag.String("engines", "sled,bbolt,badger,pebble", "comma-separated engines (tx mode: sled,bbolt,badger unless given)")
	records := flag.Int64("records", 0, "override the number of records")
	dur := flag.Duration("dur", 0, "override the duration of each YCSB workload (memory mode: of the read/overwrite mix; tx mode: of each workload per durability, client count and engine)")
	ddur := flag.Duration("durable-dur", 0, "override the duration of each durable-writes run")
	threads := flag.Int("threads", runtime.GOMAXPROCS(0), "client goroutines for load and YCSB (memory mode: 2 unless set; tx mode: the load's only)")
	skipDurable := flag.Bool("skip-durable", false, "skip the durable-writes runs")
	skipYCSB := flag.Bool("skip-ycsb", false, "skip load and YCSB")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of one engine's load+YCSB run (the first data set) to this file (tx mode: of its runs, one file per durability and client count)")
	profEngine := flag.String("profile-engine", "sled", "the engine -cpuprofile and -durable-cpuprofile cover")
	child := flag.String("child", "", "internal: run this one engine and write its result to stdout (memory mode runs each engine so)")
	childVS := flag.Int("child-value-size", 0, "internal: the child's value size")
	childDS := flag.String("child-dataset", "", "internal: the child's data set")
	onlyVS := flag.String("value-sizes", "", "comma-separated value sizes to keep from the mode's plan (default: all)")
	onlyDS := flag.String("datasets", "", "comma-separated data sets to keep (inside, larger; default: all)")
	onlyWL := flag.String("workloads", "", "comma-separated YCSB workloads to keep after the load (A,B,C,F,D,E; tx mode: TX,A+TX; default: all)")
	durProfile := flag.String("durable-cpuprofile", "", "write CPU profiles of one engine's durable-writes runs (the first value size) to this file, with .c<clients> before the extension")
	flag.Parse()

	var p Plan
	switch *mode {
	case "quick":
		p = quickPlan()
	case "full":
		p = fullPlan()
	case "memory":
		p = memoryPlan()
	case "tx":
		p = txPlan()
	default:
		log.Fatalf("unknown -mode %q", *mode)
	}
	if *records > 0 {
		p.Records = *records
	}
	if *dur > 0 {
		p.Dur = *dur
	}
	if *ddur > 0 {
		p.DurableDur = *ddur
	}
	if err := p.keep(*onlyVS, *onlyDS, *onlyWL); err != nil {
		log.Fatal(err)
	}
	threadsSet, enginesSet := false, false
	flag.Visit(func(f *flag.Flag) {
		threadsSet = threadsSet || f.Name == "threads"
		enginesSet = enginesSet || f.Name == "engines"
	})
	if threadsSet || p.Threads == 0 {
		p.Threads = *threads
	}
	if p.Tx && !enginesSet {
		*engList = txEngineNames
	}
	for _, n := range strings.Split(*engList, ",") {
		if _, err := engineByName(n); err != nil {
			log.Fatal(err)
		}
		p.Engines = append(p.Engines, n)
	}
	if *child != "" {
		if err := childMain(p, *child, *childVS, *childDS, *cpuprofile); err != nil {
			log.Fatal(err)
		}
		return
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}

	defer removeChildBinaries()
	rep := &Report{Plan: p, Started: time.Now()}
	profiled := false
	if p.Tx {
		for _, vs := range p.ValueSizes {
			rep.Tx = append(rep.Tx, runTx(p, vs, *cpuprofile, *profEngine))
			*cpuprofile = ""
		}
	}
	if !*skipYCSB && !p.Tx {
		for _, vs := range p.ValueSizes {
			for _, ds := range p.Datasets(vs, p.Records) {
				cfg := &ConfigResult{ValueSize: vs, Dataset: ds, Runs: map[string]*EngineRun{}}
				rep.Configs = append(rep.Configs, cfg)
				for _, name := range p.Engines {
					spec, _ := engineByName(name)
					prof := ""
					if *cpuprofile != "" && !profiled && name == *profEngine {
						prof, profiled = *cpuprofile, true
					}
					log.Printf("ycsb %s v=%d %s(%d MiB): %s", p.Mode, vs, ds.Name, ds.CacheBytes/mib, name)
					var run *EngineRun
					if p.Memory {
						run = runEngineChild(os.Args[1:], name, vs, ds, prof)
					} else {
						run = runEngine(spec, p, vs, ds, prof)
					}
					cfg.Runs[name] = run
					logRun(name, run)
					if p.Memory && run.Mem.PeakRSS > 0 {
						log.Printf("  %s peak RSS / cache %.2fx", name, float64(run.Mem.PeakRSS)/float64(ds.CacheBytes))
						if name == ours {
							g := rssGoal(ds.CacheBytes)
							log.Printf("  %s peak RSS / goal (1.25 x cache + 32 MiB = %s) %.2fx", name, mibStr(g), float64(run.Mem.PeakRSS)/float64(g))
						}
					}
				}
			}
		}
	}
	if !*skipDurable {
		for _, vs := range p.DurableVals {
			dr := &DurableResult{ValueSize: vs, Runs: map[string]map[int]*Result{}, Mem: map[string]map[int]MemStats{}}
			rep.Durable = append(rep.Durable, dr)
			// Client-count major: the engines of one column run next to each
			// other in time, so that fsync latency drifting on a shared
			// machine hits them alike.
			for _, name := range p.Engines {
				dr.Runs[name] = map[int]*Result{}
				dr.Mem[name] = map[int]MemStats{}
			}
			for _, c := range p.Clients {
				for _, name := range p.Engines {
					spec, _ := engineByName(name)
					stop := func() {}
					if *durProfile != "" && name == *profEngine {
						stop = startProfile(profileName(*durProfile, c))
					}
					r, m := runDurable(spec, p, vs, c)
					stop()
					dr.Runs[name][c] = r
					dr.Mem[name][c] = m
					log.Printf("durable v=%d %s clients=%d: %.0f ops/s p50=%v p99=%v peak RSS %s peak heap %s err=%v", vs, name, c, r.Throughput(), r.Hist.quantile(.5), r.Hist.quantile(.99), mibf(m.PeakRSS), mibf(m.PeakHeap), r.Err)
				}
			}
			*durProfile = ""
		}
	}
	rep.Finished = time.Now()
	md, err := rep.write(*out)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(md)
	log.Printf("wrote %s in %v", filepath.Join(*out, rep.fileName()), rep.Finished.Sub(rep.Started).Round(time.Second))
}

// EngineRun is one engine's load + YCSB on one data set.
type EngineRun struct {
	Load          *Result
	Workloads     map[string]*Result
	SizeAfterLoad int64
	SizeAtClose   int64
	LiveLogical   int64    // logical bytes of the live data at close
	TotalLogical  int64    // logical bytes written over the run
	TotalDisk     int64    // write_bytes from open to close
	Stats         string   // the engine's own counters before Close, when it has any
	Mem           MemStats // open .. just before Close: load and every workload
	Err           error
}

// profileName: durable.pprof -> durable.c8.pprof for 8 clients.
func profileName(path string, clients int) string {
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext) + ".c" + strconv.Itoa(clients) + ext
}

func startProfile(path string) (stop func()) {
	f, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		log.Fatal(err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}

func freshDir(name string) (string, error) {
	return os.MkdirTemp(os.TempDir(), "sledbench-"+name+"-*")
}

func settle() {
	runtime.GC()
	debug.FreeOSMemory()
}

func runEngine(spec engineSpec, p Plan, vs int, ds Dataset, profile string) (run *EngineRun) {
	run = &EngineRun{Workloads: map[string]*Result{}}
	settle()
	// Right after settle, so that StartRSS is the harness's own floor and
	// the previous engine's garbage is not counted against this one.
	mem := startMem()
	defer func() { run.Mem = mem.Stop() }() // error paths; after the Stop below, the same stats
	dir, err := freshDir(spec.name)
	if err != nil {
		run.Err = err
		return run
	}
	defer os.RemoveAll(dir)
	if profile != "" {
		defer startProfile(profile)()
	}
	w0 := diskWriteBytes()
	e, err := spec.open(Options{Dir: dir, CacheBytes: ds.CacheBytes, Clients: p.Threads})
	if err != nil {
		run.Err = err
		return run
	}
	closed := false
	defer func() {
		if !closed {
			e.Close()
		}
	}()
	st := &state{valueSize: vs}
	run.Load = load(e, st, p.Records, p.Threads, 1)
	if run.Err = run.Load.Err; run.Err != nil {
		return run
	}
	if run.Err = e.Sync(); run.Err != nil {
		return run
	}
	run.Load.DiskBytes = diskWriteBytes() - w0 // open + load + sync
	run.SizeAfterLoad, _ = e.Size()
	run.TotalLogical = run.Load.Logical
	avgKV := run.Load.Logical / max(run.Load.Ops, 1)
	for i := range p.Workloads {
		w := &p.Workloads[i]
		r := runWorkload(e, w, st, p.Threads, p.Dur, 0, uint64(100+i))
		run.Workloads[w.Name] = r
		run.TotalLogical += r.Logical
		if r.Err != nil {
			run.Err = fmt.Errorf("workload %s: %w", w.Name, r.Err)
			return run
		}
	}
	if s, ok := e.(interface{ Stats() string }); ok {
		run.Stats = s.Stats()
	}
	// Before Close: what an engine allocates to shut down (a last flush) is
	// not its working memory.
	run.Mem = mem.Stop()
	closed = true
	if run.Err = e.Close(); run.Err != nil {
		return run
	}
	run.TotalDisk = diskWriteBytes() - w0
	run.SizeAtClose, _ = dirSize(dir)
	run.LiveLogical = (st.inserts.last() + 1) * avgKV
	return run
}

// runDurable measures memory as runEngine does: from before open to before
// Close.
func runDurable(spec engineSpec, p Plan, vs, clients int) (*Result, MemStats) {
	settle()
	mem := startMem()
	dir, err := freshDir(spec.name + "-durable")
	if err != nil {
		return &Result{Err: err}, mem.Stop()
	}
	defer os.RemoveAll(dir)
	e, err := spec.open(Options{Dir: dir, CacheBytes: 64 * mib, Durable: true, Clients: clients})
	if err != nil {
		return &Result{Err: err}, mem.Stop()
	}
	r := durableWrites(e, p.Records, vs, clients, p.DurableDur, uint64(clients))
	m := mem.Stop()
	if err := e.Close(); err != nil && r.Err == nil {
		r.Err = err
	}
	return r, m
}

func logRun(name string, r *EngineRun) {
	if r.Load != nil {
		log.Printf("  %s load: %.0f ops/s, space after load %.2fx", name, r.Load.Throughput(), float64(r.SizeAfterLoad)/float64(max(r.Load.Logical, 1)))
	}
	for _, w := range ycsb {
		if x := r.Workloads[w.Name]; x != nil {
			log.Printf("  %s %s: %.0f ops/s p50=%v p99=%v notfound=%d", name, w.Name, x.Throughput(), x.Hist.quantile(.5), x.Hist.quantile(.99), x.NotFound)
		}
	}
	if r.Mem.PeakRSS > 0 {
		how := "VmHWM"
		if !r.Mem.HWM {
			how = "sampled only"
		}
		log.Printf("  %s memory: peak RSS %s (start %s, %s), peak Go heap %s (start %s)", name,
			mibf(r.Mem.PeakRSS), mibf(r.Mem.StartRSS), how, mibf(r.Mem.PeakHeap), mibf(r.Mem.StartHeap))
	}
	if r.Stats != "" {
		log.Printf("  %s stats: %s", name, r.Stats)
	}
	if r.Err != nil {
		log.Printf("  %s ERROR: %v", name, r.Err)
	}
}
