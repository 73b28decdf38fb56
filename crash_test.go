package sled_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sledgo/sled"
	"github.com/sledgo/sled/internal/testutil"
	"github.com/sledgo/sled/vfs"
)

// persistentConfig is a small on-disk database on fs: tiny segments, a tiny
// cache and tiny nodes, so that segment switches, evictions and structure
// changes all happen within a few hundred operations.
func persistentConfig(fs vfs.FS) sled.Config {
	return sled.Config{
		Path:               "/db",
		FS:                 fs,
		SegmentSizeBytes:   64 << 10,
		CacheCapacityBytes: 16 << 10,
		NodeMaxEntries:     4,
		FlushEvery:         -1,
	}
}

// TestModelRandomPersistent is the model test with restarts: clean ones
// (Close, Open) and crashes (Flush, then a crash clone of the file system,
// abandoning the running database), on an in-memory file system.
func TestModelRandomPersistent(t *testing.T) {
	seed := testutil.Seed(t)
	for _, compress := range []bool{false, true} {
		t.Run(fmt.Sprintf("compression=%v", compress), func(t *testing.T) {
			modelRandomPersistent(t, seed, compress)
		})
	}
}

func modelRandomPersistent(t *testing.T, seed uint64, compress bool) {
	rng := rand.New(rand.NewPCG(seed, 7))
	mem := vfs.NewMem()
	cfg := persistentConfig(mem)
	cfg.Compression = compress
	h := &harness{t: t, m: model{}, cfg: cfg, clears: true}
	h.open()
	var abandoned []*sled.DB
	var evictions, misses int64
	h.restart = func(h *harness) {
		st := h.db.Stats()
		evictions, misses = evictions+st.Evictions, misses+st.CacheMisses
		if rng.IntN(2) == 0 {
			if err := h.db.Check(); err != nil {
				t.Fatalf("step %d: check: %v", h.step, err)
			}
			if err := h.db.Close(); err != nil {
				t.Fatalf("step %d: close: %v", h.step, err)
			}
		} else {
			h.must(h.db.Flush())
			mode := vfs.DropAllUnsynced
			if rng.IntN(2) == 0 {
				mode = vfs.KeepRandomUnsyncedPrefix
			}
			mem = mem.CrashClone(vfs.CrashOptions{Mode: mode, Seed: int64(rng.Uint64())})
			abandoned = append(abandoned, h.db)
			h.cfg.FS = mem
		}
		h.open()
		if !h.db.WasRecovered() {
			t.Fatalf("step %d: reopened database does not report WasRecovered", h.step)
		}
	}
	t.Cleanup(func() {
		if err := h.db.Check(); err != nil {
			t.Errorf("Check at cleanup: %v", err)
		}
		h.db.Close()
		for _, db := range abandoned {
			db.Close()
		}
	})
	steps := 20000
	if testing.Short() {
		steps = 3000
	}
	for i := 0; i < steps; i++ {
		op := opKind(rng.IntN(int(numOps)))
		switch {
		case op == opRestart && rng.IntN(8) != 0,
			op == opClear && rng.IntN(50) != 0:
			op = opInsert
		case op == opRemove && rng.IntN(2) == 0:
			op = opInsert
		}
		h.do(op, randKey(rng, 300), randKey(rng, 300), randVal(rng))
	}
	h.verifyAll()
	st := h.db.Stats()
	evictions, misses = evictions+st.Evictions, misses+st.CacheMisses
	t.Logf("stats at end: %+v; evictions %d, page-ins %d over all runs", st, evictions, misses)
	if evictions == 0 || misses == 0 {
		t.Errorf("a 16 KiB cache should evict and page in: %d evictions, %d page-ins", evictions, misses)
	}
}

// crashOp is one step of the crash-loop workload.
type crashOp struct {
	kind  byte // 'i' insert, 'r' remove, 'b' batch, 'f' flush
	key   int
	batch int
}

func crashWorkload(seed uint64, n int) []crashOp {
	rng := rand.New(rand.NewPCG(seed, 3))
	ops := make([]crashOp, n)
	for i := range ops {
		switch r := rng.IntN(20); {
		case r < 10:
			ops[i] = crashOp{kind: 'i', key: rng.IntN(40)}
		case r < 14:
			ops[i] = crashOp{kind: 'r', key: rng.IntN(40)}
		case r < 16:
			ops[i] = crashOp{kind: 'b', key: rng.IntN(40), batch: i}
		case r < 18:
			ops[i] = crashOp{kind: 'f'}
		default:
			ops[i] = crashOp{kind: 'c'} // a log cleaning round
		}
	}
	return ops
}

func crashKey(k int) []byte { return []byte(fmt.Sprintf("key%03d", k)) }

// crashValue is the value op i writes: up to 4 KiB, so that a workload
// fills several 64 KiB segments and cleaning has work to do.
func crashValue(i int) string { return fmt.Sprintf("v%d-%s", i, strings.Repeat("x", (i*37)%4000)) }

// applyCrashOp applies op to a model map.
func applyCrashOp(m map[string]string, i int, op crashOp) {
	switch op.kind {
	case 'i':
		m[string(crashKey(op.key))] = crashValue(i)
	case 'r':
		delete(m, string(crashKey(op.key)))
	case 'b':
		for j := 0; j < 4; j++ {
			m[string(crashKey(op.key+j))] = fmt.Sprintf("b%d", i)
		}
	}
}

func hashModel(m map[string]string) uint64 {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := fnv.New64a()
	for _, k := range keys {
		fmt.Fprintf(h, "%q=%q;", k, m[k])
	}
	return h.Sum64()
}

func hashDB(t *testing.T, db *sled.DB) uint64 {
	m := map[string]string{}
	it := db.Iter()
	for it.Next() {
		m[string(it.Key())] = string(it.Value())
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	return hashModel(m)
}

// runCrashWorkload runs ops until the first error and returns the index of
// the last op attempted and of the last op acknowledged by a Flush.
func runCrashWorkload(db *sled.DB, ops []crashOp) (attempted, acked int) {
	acked = -1
	for i, op := range ops {
		attempted = i
		var err error
		switch op.kind {
		case 'i':
			_, err = db.Insert(crashKey(op.key), []byte(crashValue(i)))
		case 'r':
			_, err = db.Remove(crashKey(op.key))
		case 'b':
			var b sled.Batch
			for j := 0; j < 4; j++ {
				b.Insert(crashKey(op.key+j), []byte(fmt.Sprintf("b%d", i)))
			}
			err = db.ApplyBatch(&b)
		case 'f':
			if err = db.Flush(); err == nil {
				acked = i
			}
		case 'c':
			err = db.Clean()
		}
		if err != nil {
			return i, acked
		}
	}
	return len(ops) - 1, acked
}

// TestCrashLoop cuts the power at every mutating file system operation of a
// workload, in turn, and checks the prefix rule after recovery: the
// recovered state is the state after some prefix of the operations, at
// least up to the last acknowledged Flush, and batches are whole.
func TestCrashLoop(t *testing.T) {
	seed := testutil.Seed(t)
	ops := crashWorkload(seed, 160)
	states := make([]uint64, len(ops)+1) // states[p] = model after ops[:p]
	m := map[string]string{}
	states[0] = hashModel(m)
	for i, op := range ops {
		applyCrashOp(m, i, op)
		states[i+1] = hashModel(m)
	}
	// Learn how many mutating operations the workload makes.
	counter := vfs.NewCounter()
	mem := vfs.NewMem()
	db, err := persistentConfig(vfs.NewInjecting(mem, counter)).Open()
	if err != nil {
		t.Fatal(err)
	}
	runCrashWorkload(db, ops)
	st := db.Stats()
	db.Close()
	total := counter.Count(vfs.MutatingOps)
	t.Logf("workload: %d ops, %d mutating file system operations, %d segments cleaned, %d pages relocated", len(ops), total, st.SegmentsCleaned, st.PagesRelocated)
	if st.SegmentsCleaned == 0 {
		t.Errorf("the workload should make log cleaning remove segments")
	}
	step := int64(1)
	if testing.Short() {
		step = 5
	}
	for k := int64(1); k <= total; k += step {
		for _, mode := range []vfs.CrashMode{vfs.DropAllUnsynced, vfs.KeepRandomUnsyncedPrefix} {
			mem := vfs.NewMem()
			inj := vfs.CrashAfter(k)
			db, err := persistentConfig(vfs.NewInjecting(mem, inj)).Open()
			attempted, acked := -1, -1
			if err == nil {
				attempted, acked = runCrashWorkload(db, ops)
			}
			clone := mem.CrashClone(vfs.CrashOptions{Mode: mode, Seed: int64(seed) + k})
			if db != nil {
				db.Close() // writes fail from k on; the clone is what survives
			}
			rdb, err := persistentConfig(clone).Open()
			if err != nil {
				t.Fatalf("crash at op %d (%v): reopen: %v", k, mode, err)
			}
			got := hashDB(t, rdb)
			ok := false
			for p := acked + 1; p <= attempted+1 && p <= len(ops); p++ {
				if states[p] == got {
					ok = true
					break
				}
			}
			if !ok {
				t.Fatalf("crash at op %d (%v): recovered state is not the state after any prefix from the last acknowledged flush (op %d) to the last attempted op (%d)", k, mode, acked, attempted)
			}
			if err := rdb.Check(); err != nil {
				t.Fatalf("crash at op %d (%v): check: %v", k, mode, err)
			}
			// The recovered database must take new writes and survive
			// another clean restart.
			if _, err := rdb.Insert([]byte("after"), []byte("crash")); err != nil {
				t.Fatalf("crash at op %d: write after recovery: %v", k, err)
			}
			if err := rdb.Close(); err != nil {
				t.Fatalf("crash at op %d: close after recovery: %v", k, err)
			}
			rdb, err = persistentConfig(clone).Open()
			if err != nil {
				t.Fatalf("crash at op %d: second reopen: %v", k, err)
			}
			if v, _ := rdb.Get([]byte("after")); string(v) != "crash" {
				t.Fatalf("crash at op %d: write after recovery lost over a clean restart", k)
			}
			rdb.Close()
		}
	}
}

// TestFaultInjection fails writes, syncs and reads at random and checks
// that errors surface, nothing panics, and what was acknowledged survives.
func TestFaultInjection(t *testing.T) {
	seed := testutil.Seed(t)
	for round := 0; round < 30; round++ {
		mem := vfs.NewMem()
		ops := crashWorkload(seed+uint64(round), 80)
		inj := vfs.Random(int64(seed)+int64(round), 0.02, vfs.Ops(vfs.OpWrite, vfs.OpSync, vfs.OpRead, vfs.OpCreate, vfs.OpSyncDir))
		db, err := persistentConfig(vfs.NewInjecting(mem, inj)).Open()
		if err != nil {
			continue // an injected error during Open is reported, fine
		}
		_, acked := runCrashWorkload(db, ops)
		ackedState := map[string]string{}
		for i := 0; i <= acked; i++ {
			applyCrashOp(ackedState, i, ops[i])
		}
		db.Close()
		rdb, err := persistentConfig(mem).Open()
		if err != nil {
			t.Fatalf("round %d: reopen without faults: %v", round, err)
		}
		// Everything acknowledged must be there (later ops may be too).
		for k, v := range ackedState {
			got, err := rdb.Get([]byte(k))
			if err != nil {
				t.Fatal(err)
			}
			_ = v
			if got == nil && !laterTouched(ops, acked, k) {
				t.Fatalf("round %d: acknowledged key %s lost", round, k)
			}
		}
		if err := rdb.Check(); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		rdb.Close()
	}
}

// laterTouched reports whether an op after acked changed key k.
func laterTouched(ops []crashOp, acked int, k string) bool {
	for i := acked + 1; i < len(ops); i++ {
		op := ops[i]
		if string(crashKey(op.key)) == k && op.kind != 'f' {
			return true
		}
		if op.kind == 'b' {
			for j := 0; j < 4; j++ {
				if string(crashKey(op.key+j)) == k {
					return true
				}
			}
		}
	}
	return false
}

// TestCorruptionDetected flips bytes in the files of a closed database and
// checks that Open or reads report ErrCorruption (or succeed with the right
// data), never wrong data and never a panic.
func TestCorruptionDetected(t *testing.T) {
	seed := testutil.Seed(t)
	rng := rand.New(rand.NewPCG(seed, 11))
	build := func() *vfs.MemFS {
		mem := vfs.NewMem()
		db, err := persistentConfig(mem).Open()
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 400; i++ {
			db.Insert(crashKey(i), []byte(fmt.Sprintf("value-%d", i)))
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		return mem
	}
	files := listFiles(t, build(), "/db")
	for round := 0; round < 60; round++ {
		mem := build()
		f := files[rng.IntN(len(files))]
		data, err := mem.ReadFile(f)
		if err != nil || len(data) == 0 {
			continue
		}
		off := rng.IntN(len(data))
		if err := mem.Corrupt(f, int64(off), min(1+rng.IntN(4), len(data)-off)); err != nil {
			t.Fatal(err)
		}
		db, err := persistentConfig(mem).Open()
		if err != nil {
			if !errors.Is(err, sled.ErrCorruption) {
				t.Fatalf("corrupting %s at %d: Open error does not match ErrCorruption: %v", f, off, err)
			}
			continue
		}
		for i := 0; i < 400; i++ {
			v, err := db.Get(crashKey(i))
			if err != nil {
				if !errors.Is(err, sled.ErrCorruption) {
					t.Fatalf("corrupting %s at %d: Get error does not match ErrCorruption: %v", f, off, err)
				}
				continue
			}
			if v != nil && string(v) != fmt.Sprintf("value-%d", i) {
				t.Fatalf("corrupting %s at %d: Get(%d) returned wrong data %q", f, off, i, v)
			}
		}
		db.Close()
	}
}

func listFiles(t *testing.T, fs vfs.FS, dir string) []string {
	var out []string
	names, err := fs.List(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		p := fs.PathJoin(dir, n)
		fi, err := fs.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.IsDir() {
			out = append(out, listFiles(t, fs, p)...)
		} else if n != "LOCK" {
			out = append(out, p)
		}
	}
	return out
}

// The SIGKILL test: a child process (this test binary, re-run) writes
// forever on a real directory and prints what Flush acknowledged; the parent
// kills it at a random moment, reopens the database and checks the
// acknowledgements, the per-writer prefix rule and batch atomicity.

const crashChildEnv = "SLED_CRASH_CHILD_DIR"

func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashChildEnv)
	if dir == "" {
		t.Skip("run by TestCrashSIGKILL")
	}
	db, err := sled.Config{Path: dir, SegmentSizeBytes: 256 << 10, CacheCapacityBytes: 256 << 10, NodeMaxEntries: 8}.Open()
	if err != nil {
		fmt.Println("open error:", err)
		os.Exit(3)
	}
	out := bufio.NewWriter(os.Stdout)
	var mu sync.Mutex
	ack := func(format string, args ...any) {
		mu.Lock()
		fmt.Fprintf(out, format+"\n", args...)
		out.Flush()
		mu.Unlock()
	}
	next := func(prefix string) int {
		k, _, err := db.GetLT([]byte(prefix + "~"))
		if err != nil || k == nil || !bytes.HasPrefix(k, []byte(prefix)) {
			return 0
		}
		n, _ := strconv.Atoi(strings.SplitN(string(k[len(prefix):]), "-", 2)[0])
		return n + 1
	}
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { // overwriter: u-(N%64) = "N-" and padding, so that pages die and the cleaner has work
		defer wg.Done()
		for i := lastOverwrite(db) + 1; ; i++ {
			if _, err := db.Insert(overwriteKey(i), overwriteVal(i)); err != nil {
				return
			}
			if i%5 == 0 {
				if db.Flush() == nil {
					ack("u %d", i)
				}
			}
		}
	}()
	go func() { // sequential writer: a-N
		defer wg.Done()
		for i := next("a-"); ; i++ {
			if _, err := db.Insert([]byte(fmt.Sprintf("a-%08d", i)), bytes.Repeat([]byte{byte(i)}, i%300)); err != nil {
				return
			}
			if i%7 == 0 {
				if db.Flush() == nil {
					ack("a %d", i)
				}
			}
		}
	}()
	go func() { // batches: b-N-0..4
		defer wg.Done()
		for i := next("b-"); ; i++ {
			var b sled.Batch
			for j := 0; j < 5; j++ {
				b.Insert([]byte(fmt.Sprintf("b-%08d-%d", i, j)), []byte(fmt.Sprint(i)))
			}
			if db.ApplyBatch(&b) != nil {
				return
			}
			if db.Flush() == nil {
				ack("b %d", i)
			}
			if i%20 == 0 {
				ack("c %d", db.Stats().SegmentsCleaned)
			}
		}
	}()
	wg.Wait()
}

func overwriteKey(i int) []byte { return []byte(fmt.Sprintf("u-%02d", i%64)) }

func overwriteVal(i int) []byte {
	return append([]byte(fmt.Sprintf("%d-", i)), bytes.Repeat([]byte{byte(i)}, 200)...)
}

// lastOverwrite returns the greatest N the overwriter of TestCrashChild
// wrote (-1 for none), checking that every u-key holds a value it wrote.
func lastOverwrite(db *sled.DB) int {
	last := -1
	it := db.ScanPrefix([]byte("u-"))
	defer it.Close()
	for it.Next() {
		v := it.Value()
		n, err := strconv.Atoi(string(v[:max(bytes.IndexByte(v, '-'), 0)]))
		if err != nil || !bytes.Equal(it.Key(), overwriteKey(n)) || !bytes.Equal(v, overwriteVal(n)) {
			return -2
		}
		last = max(last, n)
	}
	if it.Err() != nil {
		return -2
	}
	return last
}

func TestCrashSIGKILL(t *testing.T) {
	if os.Getenv(crashChildEnv) != "" {
		t.Skip("child")
	}
	rounds := 100
	if v, err := strconv.Atoi(os.Getenv("SLED_CRASH_ROUNDS")); err == nil {
		rounds = v
	}
	if testing.Short() {
		rounds = 10
	}
	seed := testutil.Seed(t)
	rng := rand.New(rand.NewPCG(seed, 5))
	dir := t.TempDir()
	maxA, maxB, maxU := -1, -1, -1
	cleaned := 0
	for round := 0; round < rounds; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1024)
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		time.Sleep(time.Duration(20+rng.IntN(200)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		for line := range lines {
			var w string
			var n int
			if _, err := fmt.Sscanf(line, "%s %d", &w, &n); err != nil {
				t.Fatalf("round %d: child said %q", round, line)
			}
			if w == "a" && n > maxA {
				maxA = n
			}
			if w == "b" && n > maxB {
				maxB = n
			}
			if w == "u" && n > maxU {
				maxU = n
			}
			if w == "c" {
				cleaned += n
			}
		}
		cmd.Wait()
		io.Copy(io.Discard, stdout)
		checkCrashDir(t, round, dir, maxA, maxB, maxU)
	}
	t.Logf("%d rounds; acknowledged a-%d, b-%d; the children reported %d segment removals by the cleaner", rounds, maxA, maxB, cleaned)
	if cleaned == 0 && rounds >= 50 {
		t.Errorf("log cleaning never ran in the children: the test would not cover crashes while cleaning")
	}
}

func checkCrashDir(t *testing.T, round int, dir string, maxA, maxB, maxU int) {
	t.Helper()
	db, err := sled.Config{Path: dir, SegmentSizeBytes: 256 << 10, NodeMaxEntries: 8}.Open()
	if err != nil {
		t.Fatalf("round %d: reopen after SIGKILL: %v", round, err)
	}
	defer db.Close()
	// a: a prefix, at least up to the acknowledgement.
	n := 0
	it := db.ScanPrefix([]byte("a-"))
	for it.Next() {
		want := fmt.Sprintf("a-%08d", n)
		if string(it.Key()) != want {
			t.Fatalf("round %d: a-keys are not a prefix: found %s where %s was expected", round, it.Key(), want)
		}
		if !bytes.Equal(it.Value(), bytes.Repeat([]byte{byte(n)}, n%300)) {
			t.Fatalf("round %d: wrong value for %s", round, it.Key())
		}
		n++
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	if n <= maxA {
		t.Fatalf("round %d: acknowledged a-%d lost (only %d a-keys)", round, maxA, n)
	}
	// b: whole batches, a prefix of them, at least up to the ack.
	counts := map[int]int{}
	it = db.ScanPrefix([]byte("b-"))
	for it.Next() {
		var i, j int
		fmt.Sscanf(string(it.Key()), "b-%08d-%d", &i, &j)
		counts[i]++
	}
	for i := 0; i < len(counts); i++ {
		if counts[i] != 5 {
			t.Fatalf("round %d: batch %d has %d of 5 keys (batches: %d)", round, i, counts[i], len(counts))
		}
	}
	if len(counts) <= maxB {
		t.Fatalf("round %d: acknowledged batch %d lost (%d batches)", round, maxB, len(counts))
	}
	// u: every value one the overwriter wrote, the newest at least the ack.
	if last := lastOverwrite(db); last == -2 || last < maxU {
		t.Fatalf("round %d: overwrites: newest %d, acknowledged %d (-2: a u-key holds a value never written)", round, last, maxU)
	}
	if err := db.Check(); err != nil {
		t.Fatalf("round %d: %v", round, err)
	}
}
