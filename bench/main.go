// Command bench runs sled and its peers (bbolt, badger, pebble) side by side
// on YCSB A-F and durable writes, and writes docs/bench/results.md and PNG
// charts. See README.md.
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
	Dur         time.Duration // per YCSB workload per engine
	DurableDur  time.Duration // per client count per engine
	Clients     []int
	Threads     int
	Engines     []string
	DurableVals []int
}

const mib = 1 << 20

func quickPlan() Plan {
	return Plan{
		Mode:        "quick",
		Records:     150_000,
		ValueSizes:  []int{100},
		Datasets:    func(int, int64) []Dataset { return []Dataset{{"inside", 64 * mib}} },
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
		Dur:         10 * time.Second,
		DurableDur:  5 * time.Second,
		Clients:     []int{1, 8, 64},
		DurableVals: []int{100, 1024},
	}
}

func main() {
	mode := flag.String("mode", "quick", "quick (< 2 min) or full")
	out := flag.String("out", "../docs/bench", "output directory for results.md and charts")
	engList := flag.String("engines", "sled,bbolt,badger,pebble", "comma-separated engines")
	records := flag.Int64("records", 0, "override the number of records")
	dur := flag.Duration("dur", 0, "override the duration of each YCSB workload")
	ddur := flag.Duration("durable-dur", 0, "override the duration of each durable-writes run")
	threads := flag.Int("threads", runtime.GOMAXPROCS(0), "client goroutines for load and YCSB")
	skipDurable := flag.Bool("skip-durable", false, "skip the durable-writes runs")
	skipYCSB := flag.Bool("skip-ycsb", false, "skip load and YCSB")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of one engine's load+YCSB run (the first data set) to this file")
	profEngine := flag.String("profile-engine", "sled", "the engine -cpuprofile and -durable-cpuprofile cover")
	durProfile := flag.String("durable-cpuprofile", "", "write CPU profiles of one engine's durable-writes runs (the first value size) to this file, with .c<clients> before the extension")
	flag.Parse()

	var p Plan
	switch *mode {
	case "quick":
		p = quickPlan()
	case "full":
		p = fullPlan()
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
	p.Threads = *threads
	for _, n := range strings.Split(*engList, ",") {
		if _, err := engineByName(n); err != nil {
			log.Fatal(err)
		}
		p.Engines = append(p.Engines, n)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}

	rep := &Report{Plan: p, Started: time.Now()}
	profiled := false
	if !*skipYCSB {
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
					run := runEngine(spec, p, vs, ds, prof)
					cfg.Runs[name] = run
					logRun(name, run)
				}
			}
		}
	}
	if !*skipDurable {
		for _, vs := range p.DurableVals {
			dr := &DurableResult{ValueSize: vs, Runs: map[string]map[int]*Result{}}
			rep.Durable = append(rep.Durable, dr)
			// Client-count major: the engines of one column run next to each
			// other in time, so that fsync latency drifting on a shared
			// machine hits them alike.
			for _, name := range p.Engines {
				dr.Runs[name] = map[int]*Result{}
			}
			for _, c := range p.Clients {
				for _, name := range p.Engines {
					spec, _ := engineByName(name)
					stop := func() {}
					if *durProfile != "" && name == *profEngine {
						stop = startProfile(profileName(*durProfile, c))
					}
					r := runDurable(spec, p, vs, c)
					stop()
					dr.Runs[name][c] = r
					log.Printf("durable v=%d %s clients=%d: %.0f ops/s p50=%v p99=%v err=%v", vs, name, c, r.Throughput(), r.Hist.quantile(.5), r.Hist.quantile(.99), r.Err)
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
	log.Printf("wrote %s in %v", filepath.Join(*out, "results.md"), rep.Finished.Sub(rep.Started).Round(time.Second))
}

// EngineRun is one engine's load + YCSB on one data set.
type EngineRun struct {
	Load          *Result
	Workloads     map[string]*Result
	SizeAfterLoad int64
	SizeAtClose   int64
	LiveLogical   int64  // logical bytes of the live data at close
	TotalLogical  int64  // logical bytes written over the run
	TotalDisk     int64  // write_bytes from open to close
	Stats         string // the engine's own counters before Close, when it has any
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
	for i := range ycsb {
		w := &ycsb[i]
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
	closed = true
	if run.Err = e.Close(); run.Err != nil {
		return run
	}
	run.TotalDisk = diskWriteBytes() - w0
	run.SizeAtClose, _ = dirSize(dir)
	run.LiveLogical = (st.inserts.last() + 1) * avgKV
	return run
}

func runDurable(spec engineSpec, p Plan, vs, clients int) *Result {
	settle()
	dir, err := freshDir(spec.name + "-durable")
	if err != nil {
		return &Result{Err: err}
	}
	defer os.RemoveAll(dir)
	e, err := spec.open(Options{Dir: dir, CacheBytes: 64 * mib, Durable: true, Clients: clients})
	if err != nil {
		return &Result{Err: err}
	}
	r := durableWrites(e, p.Records, vs, clients, p.DurableDur, uint64(clients))
	if err := e.Close(); err != nil && r.Err == nil {
		r.Err = err
	}
	return r
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
	if r.Stats != "" {
		log.Printf("  %s stats: %s", name, r.Stats)
	}
	if r.Err != nil {
		log.Printf("  %s ERROR: %v", name, r.Err)
	}
}
