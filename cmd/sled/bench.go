package main

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/sledgo/sled"
)

// Limits on bench's flags, so that a typo cannot ask for the impossible.
const (
	benchMaxKeys       = 1 << 40
	benchMaxGoroutines = 1 << 12
	benchScanLength    = 100 // entries per scan operation
)

var benchWorkloads = []string{"load", "read", "write", "mixed", "scan"}

var benchCmd = &command{
	name:     "bench",
	synopsis: "[-workload load|read|write|mixed|scan] [-keys N] [-duration D | -ops N] [flags]",
	short:    "run a workload on an embedded database and print throughput and latency",
	minArgs:  0,
	maxArgs:  0,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		var o benchOptions
		fs.StringVar(&o.path, "path", "", "directory of the database (default: a temporary database)")
		fs.StringVar(&o.workload, "workload", "mixed", "workload `W`: load (insert -keys keys in random order), read (Get), write (Insert), mixed (per -read-ratio) or scan (Range of 100 keys); all but load run after loading the keys")
		fs.Int64Var(&o.keys, "keys", 1_000_000, "number of distinct keys (8-byte big-endian integers)")
		fs.IntVar(&o.valueSizeBytes, "value-size", 100, "bytes per value")
		fs.IntVar(&o.goroutines, "goroutines", runtime.GOMAXPROCS(0), "concurrent workers")
		fs.DurationVar(&o.duration, "duration", 5*time.Second, "length of the measured run (load: a cap on it)")
		fs.Int64Var(&o.ops, "ops", 0, "run exactly `N` operations instead of for -duration (0: use -duration)")
		fs.Float64Var(&o.readRatio, "read-ratio", 0.9, "mixed: fraction of operations that are Get; the rest Insert")
		fs.Uint64Var(&o.seed, "seed", 0, "seed of the key streams (0: from the clock; the seed used is printed)")
		fs.IntVar(&o.nodeEntries, "node-entries", 0, "Config.NodeMaxEntries (0: the default)")
		fs.Int64Var(&o.cacheBytes, "cache", 0, "Config.CacheCapacityBytes in bytes (0: the default, 1 GiB)")
		fs.BoolVar(&o.reopen, "reopen", false, "with -path: after the run, close the database, open it again and print how long Open took")
		fs.BoolVar(&o.quiet, "q", false, "quiet: draw no progress bar of the load on stderr")
		return func(e *env, _ []string) error {
			o.durationSet = isFlagSet(fs, "duration")
			if err := o.validate(); err != nil {
				return err
			}
			return runBench(e, o)
		}
	},
}

type benchOptions struct {
	path           string
	workload       string
	keys           int64
	valueSizeBytes int
	goroutines     int
	duration       time.Duration
	durationSet    bool // load honours -duration only when it is given
	ops            int64
	readRatio      float64
	seed           uint64
	nodeEntries    int
	cacheBytes     int64
	reopen         bool
	quiet          bool // no progress bar of the load
}

// config is the database configuration the options describe.
func (o *benchOptions) config() sled.Config {
	return sled.Config{Path: o.path, Temporary: o.path == "", NodeMaxEntries: o.nodeEntries, CacheCapacityBytes: o.cacheBytes}
}

// validate reports every problem at once, as a usage error.
func (o *benchOptions) validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	known := false
	for _, w := range benchWorkloads {
		known = known || w == o.workload
	}
	if !known {
		bad("-workload %q is not one of %v", o.workload, benchWorkloads)
	}
	if o.keys < 1 || o.keys > benchMaxKeys {
		bad("-keys %d is outside 1..%d", o.keys, int64(benchMaxKeys))
	}
	if o.valueSizeBytes < 0 || o.valueSizeBytes > sled.MaxValueBytes {
		bad("-value-size %d is outside 0..%d", o.valueSizeBytes, sled.MaxValueBytes)
	}
	if o.goroutines < 1 || o.goroutines > benchMaxGoroutines {
		bad("-goroutines %d is outside 1..%d", o.goroutines, benchMaxGoroutines)
	}
	if o.duration <= 0 {
		bad("-duration %v is not positive", o.duration)
	}
	if o.ops < 0 {
		bad("-ops %d is negative", o.ops)
	}
	if !(o.readRatio >= 0 && o.readRatio <= 1) { // also rejects NaN
		bad("-read-ratio %v is outside 0..1", o.readRatio)
	}
	if err := o.config().Validate(); err != nil { // -node-entries; the library owns its limits
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return nil
	}
	msgs := make([]string, len(errs))
	for i, err := range errs {
		msgs[i] = strings.ReplaceAll(strings.TrimPrefix(err.Error(), "sled: "), "\nsled: ", "; ")
	}
	return &usageError{msg: strings.Join(msgs, "; ")}
}

// Operation kinds, the rows of the result table.
const (
	opGet = iota
	opInsert
	opScan
	numOps
)

var opNames = [numOps]string{"get", "insert", "scan"}

// benchPhase is one timed run of workers. It stops at the first of: limit
// operations claimed (limit > 0), duration passed since the phase's start
// (non-zero), an error.
type benchPhase struct {
	limit    int64
	duration time.Duration
	deadline time.Time    // start + duration, set by runPhase
	next     atomic.Int64 // operations claimed so far
	failed   atomic.Bool
	errOnce  sync.Once
	err      error
}

// claim returns the index of the next operation, or false when the phase
// has run its limit or failed.
func (p *benchPhase) claim() (int64, bool) {
	if p.failed.Load() {
		return 0, false
	}
	i := p.next.Add(1) - 1
	return i, p.limit == 0 || i < p.limit
}

func (p *benchPhase) fail(err error) {
	p.errOnce.Do(func() { p.err = err })
	p.failed.Store(true)
}

// benchWorker is one goroutine's state and counters.
type benchWorker struct {
	rng     *rand.Rand
	key     [8]byte
	hi      [8]byte
	value   []byte
	hist    [numOps]histogram
	misses  int64 // Gets of loaded keys that found nothing
	scanned int64 // entries returned by scans
}

func newBenchWorker(o *benchOptions, phaseSeed uint64, g int) *benchWorker {
	w := &benchWorker{rng: rand.New(rand.NewPCG(o.seed, phaseSeed<<32|uint64(g)))}
	w.value = make([]byte, o.valueSizeBytes)
	for i := range w.value {
		w.value[i] = byte(w.rng.Uint32())
	}
	return w
}

// insert writes key number k; the value carries k so that values differ.
func (w *benchWorker) insert(t *sled.Tree, k uint64) error {
	binary.BigEndian.PutUint64(w.key[:], k)
	if len(w.value) >= 8 {
		binary.BigEndian.PutUint64(w.value, k)
	}
	_, err := t.Insert(w.key[:], w.value)
	return err
}

func (w *benchWorker) get(t *sled.Tree, k uint64) error {
	binary.BigEndian.PutUint64(w.key[:], k)
	v, err := t.Get(w.key[:])
	if err == nil && v == nil {
		w.misses++
	}
	return err
}

func (w *benchWorker) scan(t *sled.Tree, k uint64) error {
	binary.BigEndian.PutUint64(w.key[:], k)
	binary.BigEndian.PutUint64(w.hi[:], k+benchScanLength)
	it := t.Range(w.key[:], w.hi[:])
	n := 0
	for n < benchScanLength && it.Next() {
		n++
	}
	w.scanned += int64(n)
	return errors.Join(it.Err(), it.Close())
}

// runPhase runs o.goroutines workers until p stops them. Operation i of a
// load is the insert of key perm.at(i); other workloads draw random keys.
func runPhase(t *sled.Tree, o *benchOptions, workload string, p *benchPhase, perm *permutation, phaseSeed uint64) ([]*benchWorker, time.Duration, error) {
	workers := make([]*benchWorker, o.goroutines)
	var wg sync.WaitGroup
	start := time.Now()
	if p.duration > 0 {
		p.deadline = start.Add(p.duration) // the measured time covers the whole duration
	}
	for g := range workers {
		w := newBenchWorker(o, phaseSeed, g)
		workers[g] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			keys := uint64(o.keys)
			t0 := time.Now()
			for {
				i, ok := p.claim()
				if !ok {
					return
				}
				var op int
				var err error
				switch workload {
				case "load":
					op, err = opInsert, w.insert(t, perm.at(uint64(i)))
				case "read":
					op, err = opGet, w.get(t, w.rng.Uint64N(keys))
				case "write":
					op, err = opInsert, w.insert(t, w.rng.Uint64N(keys))
				case "scan":
					op, err = opScan, w.scan(t, w.rng.Uint64N(keys))
				case "mixed":
					if w.rng.Float64() < o.readRatio {
						op, err = opGet, w.get(t, w.rng.Uint64N(keys))
					} else {
						op, err = opInsert, w.insert(t, w.rng.Uint64N(keys))
					}
				}
				t1 := time.Now()
				if err != nil {
					p.fail(fmt.Errorf("bench %s: %s: %w", workload, opNames[op], err))
					return
				}
				w.hist[op].record(t1.Sub(t0))
				if !p.deadline.IsZero() && t1.After(p.deadline) {
					return
				}
				t0 = t1
			}
		}()
	}
	wg.Wait()
	return workers, time.Since(start), p.err
}

// loadProgress shows the progress of phase p, a load of p.limit keys, on
// a terminal. It samples p's counter instead of counting in the workers,
// so that the bar costs the measured operations nothing.
func loadProgress(e *env, o *benchOptions, p *benchPhase) *progress {
	pr := e.progress(o.quiet, "loading", p.limit, unitKeys)
	pr.poll(func() int64 { return min(p.next.Load(), p.limit) })
	return pr
}

func runBench(e *env, o benchOptions) (err error) {
	out := e.stdout
	if o.seed == 0 {
		o.seed = uint64(time.Now().UnixNano())
	}
	db, err := o.config().Open()
	if err != nil {
		return err
	}
	closed := false
	defer func() {
		if !closed {
			err = errors.Join(err, db.Close())
		}
	}()
	peak := samplePeakHeap()
	defer peak.stop()

	where := "temporary"
	if o.path != "" {
		where = o.path
	}
	nodeEntries := o.nodeEntries
	if nodeEntries == 0 {
		nodeEntries = sled.DefaultNodeMaxEntries
	}
	tw := tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "workload\t%s", o.workload)
	if o.workload == "mixed" {
		fmt.Fprintf(tw, " (read ratio %.2f)", o.readRatio)
	}
	fmt.Fprintf(tw, "\nseed\t%d\n", o.seed)
	fmt.Fprintf(tw, "keys\t%d\n", o.keys)
	fmt.Fprintf(tw, "value size\t%d B\n", o.valueSizeBytes)
	fmt.Fprintf(tw, "goroutines\t%d (GOMAXPROCS %d)\n", o.goroutines, runtime.GOMAXPROCS(0))
	fmt.Fprintf(tw, "database\t%s, node entries %d\n", where, nodeEntries)
	if err := tw.Flush(); err != nil {
		return err
	}

	perm := newPermutation(uint64(o.keys), o.seed)
	measured := &benchPhase{limit: o.ops}
	if o.workload == "load" {
		measured.limit = o.keys
		if o.ops > 0 && o.ops < o.keys {
			measured.limit = o.ops
		}
	} else {
		// Load every key first (not measured), in random order.
		p := &benchPhase{limit: o.keys}
		pr := loadProgress(e, &o, p)
		_, took, err := runPhase(db.Tree, &o, "load", p, perm, 1)
		pr.done()
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "load        %d keys in %v (%.0f inserts/s)\n", o.keys, took.Round(time.Millisecond), float64(o.keys)/took.Seconds())
	}
	fmt.Fprintln(out)

	// -ops wins over -duration; a load ends when every key is in, unless
	// -duration is given explicitly.
	if o.ops == 0 && (o.workload != "load" || o.durationSet) {
		measured.duration = o.duration
	}
	var pr *progress // nil: no bar
	if o.workload == "load" {
		pr = loadProgress(e, &o, measured)
	}
	workers, took, err := runPhase(db.Tree, &o, o.workload, measured, perm, 2)
	pr.done()
	if err != nil {
		return err
	}
	writeBenchTable(out, workers, took)

	var total, misses, scanned int64
	for _, w := range workers {
		misses += w.misses
		scanned += w.scanned
		for op := range w.hist {
			total += w.hist[op].count
		}
	}
	runtime.GC() // so that "heap in use" is what the database keeps live
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	size, err := db.SizeOnDisk()
	if err != nil {
		return err
	}

	fmt.Fprintln(out)
	tw = tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "total ops\t%d\n", total)
	fmt.Fprintf(tw, "total time\t%v\n", took.Round(time.Microsecond))
	if o.workload == "read" || o.workload == "mixed" {
		fmt.Fprintf(tw, "get misses\t%d\n", misses)
	}
	if o.workload == "scan" {
		fmt.Fprintf(tw, "scanned entries\t%d\n", scanned)
	}
	fmt.Fprintf(tw, "heap in use\t%s (after GC)\n", byteSize(int64(ms.HeapInuse)))
	fmt.Fprintf(tw, "peak heap\t%s (sampled every 10ms)\n", byteSize(peak.stop()))
	fmt.Fprintf(tw, "size on disk\t%s\n", byteSize(size))
	writeStats(tw, db.Stats())
	if o.reopen && o.path != "" {
		closed = true
		if err := db.Close(); err != nil {
			return err
		}
		start := time.Now()
		db2, err := o.config().Open()
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "reopen\t%v\n", time.Since(start).Round(time.Microsecond))
		if err := db2.Close(); err != nil {
			return err
		}
	}
	return tw.Flush()
}

// peakHeap samples the heap in use until stopped.
type peakHeap struct {
	max  atomic.Int64
	done chan struct{}
	once sync.Once
}

func samplePeakHeap() *peakHeap {
	p := &peakHeap{done: make(chan struct{})}
	go func() {
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if h := int64(ms.HeapInuse); h > p.max.Load() {
				p.max.Store(h)
			}
			select {
			case <-p.done:
				return
			case <-t.C:
			}
		}
	}()
	return p
}

// stop ends the sampling (once) and returns the peak seen.
func (p *peakHeap) stop() int64 {
	p.once.Do(func() { close(p.done) })
	return p.max.Load()
}

// writeBenchTable prints one row per operation kind that ran, and a total
// row when there is more than one.
func writeBenchTable(out io.Writer, workers []*benchWorker, took time.Duration) {
	var rows [numOps]histogram
	var all histogram
	for _, w := range workers {
		for op := range w.hist {
			rows[op].merge(&w.hist[op])
			all.merge(&w.hist[op])
		}
	}
	tw := tabwriter.NewWriter(out, 0, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "op    \tops\tops/s\tmean\tp50\tp99\tp999\tmax\t")
	row := func(name string, h *histogram) {
		fmt.Fprintf(tw, "%-6s\t%d\t%.0f\t%s\t%s\t%s\t%s\t%s\t\n", name, h.count, float64(h.count)/took.Seconds(),
			latency(h.mean()), latency(h.quantile(0.50)), latency(h.quantile(0.99)), latency(h.quantile(0.999)), latency(h.max))
	}
	kinds := 0
	for op := range rows {
		if rows[op].count > 0 {
			row(opNames[op], &rows[op])
			kinds++
		}
	}
	if kinds != 1 {
		row("all", &all)
	}
	tw.Flush()
}

// latency renders ns nanoseconds with three significant digits.
func latency(ns int64) string {
	switch {
	case ns < 1e3:
		return fmt.Sprintf("%dns", ns)
	case ns < 1e6:
		return fmt.Sprintf("%.3gµs", float64(ns)/1e3)
	case ns < 1e9:
		return fmt.Sprintf("%.3gms", float64(ns)/1e6)
	}
	return fmt.Sprintf("%.3gs", float64(ns)/1e9)
}

// histogram records latencies in log-linear buckets: exact below 64ns, then
// 32 buckets per power of two (an error below 3.2%). Its size is fixed, so
// memory stays bounded however long the run.
type histogram struct {
	buckets [histBuckets]int64
	count   int64
	sum     int64 // nanoseconds
	max     int64
}

const (
	histSubBits = 5 // 32 sub-buckets per power of two
	histLinear  = 2 << histSubBits
	histBuckets = histLinear + (64-histSubBits-1)<<histSubBits
)

func histIndex(v int64) int {
	if v < histLinear {
		return int(max(v, 0))
	}
	shift := bits.Len64(uint64(v)) - histSubBits - 1
	m := int(v>>shift) - 1<<histSubBits // in [0, 32)
	return histLinear + (shift-1)<<histSubBits + m
}

// histValue is the midpoint of bucket i.
func histValue(i int) int64 {
	if i < histLinear {
		return int64(i)
	}
	shift := (i-histLinear)>>histSubBits + 1
	m := int64((i-histLinear)&(1<<histSubBits-1) + 1<<histSubBits)
	return m<<shift + (int64(1)<<shift)/2
}

func (h *histogram) record(d time.Duration) {
	v := int64(d)
	h.buckets[histIndex(v)]++
	h.count++
	h.sum += v
	h.max = max(h.max, v)
}

func (h *histogram) merge(o *histogram) {
	for i, n := range o.buckets {
		h.buckets[i] += n
	}
	h.count += o.count
	h.sum += o.sum
	h.max = max(h.max, o.max)
}

func (h *histogram) mean() int64 {
	if h.count == 0 {
		return 0
	}
	return h.sum / h.count
}

// quantile returns the latency below which a fraction q of samples fall.
func (h *histogram) quantile(q float64) int64 {
	if h.count == 0 {
		return 0
	}
	rank := int64(q * float64(h.count))
	if rank >= h.count {
		rank = h.count - 1
	}
	var seen int64
	for i, n := range h.buckets {
		seen += n
		if seen > rank {
			return min(histValue(i), h.max)
		}
	}
	return h.max
}

// permutation is a bijection of [0, n) that needs no memory: a keyed mix
// that is a bijection of [0, 2^bits), applied again until the result falls
// below n ("cycle walking"; fewer than two steps on average, as n > 2^bits/2).
type permutation struct {
	n     uint64
	bits  uint
	mask  uint64
	round [3]uint64
}

func newPermutation(n, seed uint64) *permutation {
	p := &permutation{n: n, bits: uint(bits.Len64(n - 1))}
	p.mask = 1<<p.bits - 1
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	for i := range p.round {
		p.round[i] = r.Uint64() & p.mask
	}
	return p
}

func (p *permutation) mix(x uint64) uint64 {
	for _, k := range p.round {
		x ^= k                                // bijective: xor with a constant
		x = (x * 0x9e3779b97f4a7c15) & p.mask // bijective mod 2^bits: odd factor
		x ^= x >> (p.bits/2 + 1)              // bijective: xorshift
	}
	return x
}

// at returns the i-th element of the permutation; i < n.
func (p *permutation) at(i uint64) uint64 {
	x := p.mix(i)
	for x >= p.n {
		x = p.mix(x)
	}
	return x
}
