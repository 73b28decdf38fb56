package sled_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sledgo/sled"
	"github.com/sledgo/sled/internal/pagecache"
	"github.com/sledgo/sled/internal/testutil"
	"github.com/sledgo/sled/vfs"
)

// TestConcurrentCrash cuts power (a crash clone of the file system) at
// random moments while writers make structure changes on tiny nodes, a
// background goroutine takes snapshots and cleans the log every few
// milliseconds, a tiny cache evicts and pages in, and a flusher makes
// prefixes durable. Every clone must open, pass Check (no leaked or
// resurrected page), survive a cleaning round, and hold for each writer a
// prefix of its operations that covers everything it flushed.
//
// Transitions pause at random (pagecache.TestHook) to widen the windows
// between a transition's stages, as schedule fuzzing does.
//
// SLED_CONCURRENT_CRASH=10m runs it for that long; by default it runs a few
// seconds (less with -short).

// testBudget is how long a long-running test runs: the duration in the
// environment variable env, else def (short with -short).
func testBudget(t *testing.T, env string, def, short time.Duration) time.Duration {
	t.Helper()
	if s := os.Getenv(env); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("%s=%q: %v", env, s, err)
		}
		return d
	}
	if testing.Short() {
		return short
	}
	return def
}

// flushLoop flushes until stop, publishing after each Flush, per writer,
// how many of its operations were done before the Flush began: those are
// durable.
func flushLoop(db *sled.DB, stop *atomic.Bool, done, durable []atomic.Int64, fail func(error)) {
	upTo := make([]int64, len(done))
	for !stop.Load() {
		for w := range upTo {
			upTo[w] = done[w].Load()
		}
		if err := db.Flush(); err != nil {
			fail(fmt.Errorf("flush: %w", err))
			return
		}
		for w := range upTo {
			durable[w].Store(upTo[w])
		}
		time.Sleep(time.Duration(100+rand.IntN(900)) * time.Microsecond)
	}
}

// maintenanceLoop writes snapshots and cleans the log every few
// milliseconds until stop.
func maintenanceLoop(db *sled.DB, stop *atomic.Bool, fail func(error)) {
	for !stop.Load() {
		if err := db.WriteSnapshot(); err != nil {
			fail(fmt.Errorf("snapshot: %w", err))
			return
		}
		if err := db.Clean(); err != nil {
			fail(fmt.Errorf("clean: %w", err))
			return
		}
		time.Sleep(time.Duration(1+rand.IntN(4)) * time.Millisecond)
	}
}
func TestConcurrentCrash(t *testing.T) {
	seed := testutil.Seed(t)
	budget := testBudget(t, "SLED_CONCURRENT_CRASH", 6*time.Second, 2*time.Second)
	var pauses atomic.Uint64
	hook := func(string) {
		// A cheap, racy per-call choice is fine: this only perturbs timing.
		switch n := pauses.Add(1) * 0x9E3779B97F4A7C15 >> 58; {
		case n < 6:
			runtime.Gosched()
		case n < 7:
			time.Sleep(20 * time.Microsecond)
		}
	}
	pagecache.TestHook.Store(&hook)
	defer pagecache.TestHook.Store(nil)

	rng := rand.New(rand.NewPCG(seed, 0xC0C0))
	deadline := time.Now().Add(budget)
	var cuts, rounds int
	var images, cleaned int64
	for round := 0; time.Now().Before(deadline); round++ {
		c, im, cl := concurrentCrashRound(t, rng.Uint64(), round)
		cuts += c
		images += im
		cleaned += cl
		rounds++
		if t.Failed() {
			return
		}
	}
	t.Logf("%d rounds, %d cut points checked, %d page images written (splits, merges, consolidations, relocations), %d segments cleaned",
		rounds, cuts, images, cleaned)
}

const (
	ccWriters       = 3
	ccKeysPerWriter = 48
)

// ccOp is one operation of a writer: values[i] == nil removes keys[i].
type ccOp struct {
	keys   []string
	values []*string
}

func concurrentCrashRound(t *testing.T, seed uint64, round int) (cuts int, images, cleaned int64) {
	mem := vfs.NewMem()
	cfg := sled.Config{Path: "db", FS: mem, NodeMaxEntries: 4, SegmentSizeBytes: 64 << 10,
		CacheCapacityBytes: 48 << 10, FlushEvery: -1, Compression: round%3 == 2}
	db, err := cfg.Open()
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	var (
		stop    atomic.Bool
		wg      sync.WaitGroup
		ops     [ccWriters][]ccOp // appended before the op runs; read after wg.Wait
		done    [ccWriters]atomic.Int64
		durable [ccWriters]atomic.Int64 // ops known durable (a Flush began after they returned)
		errs    = make(chan error, 16)
	)
	fail := func(err error) {
		select {
		case errs <- err:
		default:
		}
		stop.Store(true)
	}
	for w := range ccWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, uint64(w)+10))
			for i := 0; !stop.Load(); i++ {
				op := randomOwnerOp(r, fmt.Sprintf("w%d-", w), ccKeysPerWriter, 10, 3, fmt.Sprint(i))
				ops[w] = append(ops[w], op)
				if err := applyOp(db, op); err != nil {
					fail(fmt.Errorf("writer %d op %d: %w", w, i, err))
					return
				}
				done[w].Store(int64(i + 1))
			}
		}()
	}
	wg.Add(2)
	go func() { defer wg.Done(); flushLoop(db, &stop, done[:], durable[:], fail) }()
	go func() { defer wg.Done(); maintenanceLoop(db, &stop, fail) }()

	type cut struct {
		fs      *vfs.MemFS
		durable [ccWriters]int64
		mode    vfs.CrashMode
	}
	var cutList []cut
	for range 3 {
		time.Sleep(time.Duration(5+rng.IntN(40)) * time.Millisecond)
		var c cut
		for w := range c.durable {
			c.durable[w] = durable[w].Load()
		}
		c.mode = vfs.DropAllUnsynced
		if rng.IntN(2) == 0 {
			c.mode = vfs.KeepRandomUnsyncedPrefix
		}
		c.fs = mem.CrashClone(vfs.CrashOptions{Mode: c.mode, Seed: rng.Int64()})
		cutList = append(cutList, c)
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("seed %d: %v", seed, err)
	}
	st := db.Stats()
	images, cleaned = st.PageImages, st.SegmentsCleaned
	if err := db.Check(); err != nil {
		t.Errorf("seed %d: Check of the running database: %v", seed, err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("seed %d: Close: %v", seed, err)
	}
	for i, c := range cutList {
		checkConcurrentCut(t, fmt.Sprintf("seed %d round %d cut %d (%v)", seed, round, i, c.mode), c.fs, cfg, ops, c.durable)
		cuts++
	}
	return cuts, images, cleaned
}

// checkConcurrentCut opens a crash clone and checks it.
func checkConcurrentCut(t *testing.T, name string, fs *vfs.MemFS, cfg sled.Config, ops [ccWriters][]ccOp, durable [ccWriters]int64) {
	cfg.FS = fs
	db, err := cfg.Open()
	if err != nil {
		t.Errorf("%s: reopen: %v (corruption: %v)", name, err, errors.Is(err, sled.ErrCorruption))
		return
	}
	defer db.Close()
	if err := db.Check(); err != nil {
		t.Errorf("%s: Check after recovery: %v", name, err)
		return
	}
	got := map[string]string{}
	it := db.Iter()
	for it.Next() {
		got[string(it.Key())] = string(it.Value())
	}
	if err := it.Close(); err != nil {
		t.Errorf("%s: scan: %v", name, err)
		return
	}
	for w := range ccWriters {
		if err := prefixOf(w, ops[w], durable[w], got); err != nil {
			t.Errorf("%s: writer %d: %v", name, w, err)
		}
	}
	// The recovered database must still clean (a leaked page used to make
	// every round fail) and stay consistent.
	if err := db.Clean(); err != nil {
		t.Errorf("%s: cleaning after recovery: %v", name, err)
	}
	if err := db.Check(); err != nil {
		t.Errorf("%s: Check after cleaning: %v", name, err)
	}
}

// prefixOf reports whether writer w's keys in got equal the state after
// some prefix of ops (from nothing) that includes the first durable ones.
func prefixOf(w int, ops []ccOp, durable int64, got map[string]string) error {
	want := keysWithPrefix(got, fmt.Sprintf("w%d-", w))
	if !isPrefixState(nil, ops, durable, want) {
		return fmt.Errorf("the recovered keys are no prefix of its %d operations covering the %d durable ones (recovered %d keys)", len(ops), durable, len(want))
	}
	return nil
}

// keysWithPrefix returns the entries of m whose keys start with prefix.
func keysWithPrefix(m map[string]string, prefix string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if strings.HasPrefix(k, prefix) {
			out[k] = v
		}
	}
	return out
}

// randomOwnerOp returns an owner's next operation on its keys prefix+NNN:
// one write, or (one time in batchOneIn) an atomic batch of 2 to
// 1+maxBatch writes; 60% sets (valued key=tag), 40% removes.
func randomOwnerOp(r *rand.Rand, prefix string, keys, batchOneIn, maxBatch int, tag string) ccOp {
	var op ccOp
	n := 1
	if r.IntN(batchOneIn) == 0 {
		n = 2 + r.IntN(maxBatch)
	}
	for range n {
		k := fmt.Sprintf("%s%03d", prefix, r.IntN(keys))
		op.keys = append(op.keys, k)
		if r.IntN(10) < 6 {
			v := k + "=" + tag
			op.values = append(op.values, &v)
		} else {
			op.values = append(op.values, nil)
		}
	}
	return op
}

// haveEq reports whether a and b agree on k (both absent, or equal).
func haveEq(a, b map[string]string, k string) bool {
	va, oka := a[k]
	vb, okb := b[k]
	return oka == okb && va == vb
}
