package sled_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/sledgo/sled"
	"github.com/sledgo/sled/internal/testutil"
	"github.com/sledgo/sled/vfs"
)

// TestTorture runs everything at once, round after round on one database
// that lives through crashes:
//
//   - owners: writers of their own keys (single-key writes and atomic
//     batches), whose recovered keys must be a prefix of their operations
//     covering everything flushed, and after a clean close all of them;
//   - clients: single-key operations (get, put, del, cas, merge) on keys
//     shared between them, whose history must be linearizable (porcupine);
//   - scanners: iterators over live data, which must return keys in strict
//     order, each once;
//   - a flusher, and snapshots and log cleaning every few milliseconds;
//   - a tiny cache (eviction and page-in all the time), tiny segments and
//     tiny nodes (structure changes all the time), compression every other
//     round;
//   - at the end of a round a crash-clone cut at a random point (or a clean
//     close), from which the next round reopens.
//
// SLED_TORTURE=30m runs it for that long; by default a few seconds.
func TestTorture(t *testing.T) {
	seed := testutil.Seed(t)
	budget := testBudget(t, "SLED_TORTURE", 4*time.Second, 1500*time.Millisecond)
	rng := rand.New(rand.NewPCG(seed, 0x7047))
	tt := &torture{t: t, fs: vfs.NewMem(), base: map[string]string{}}
	deadline := time.Now().Add(budget)
	for round := 0; time.Now().Before(deadline) && !t.Failed(); round++ {
		tt.round(round, rng.Uint64())
	}
	t.Logf("%d rounds (%d crash cuts, %d clean closes), %d owner ops, %d linearizability-checked ops, %d scans, %d page images, %d segments cleaned",
		tt.rounds, tt.cuts, tt.closes, tt.ownerOps, tt.linOps, tt.scans, tt.images, tt.cleaned)
}

const (
	tortureOwners   = 2
	tortureClients  = 3
	tortureScanners = 1
	tortureKeys     = 40 // per owner
)

type torture struct {
	t    *testing.T
	fs   *vfs.MemFS
	base map[string]string // the owners' keys as the last round left them

	rounds, cuts, closes    int
	ownerOps, linOps, scans int
	images, cleaned         int64
}

func (tt *torture) config(round int) sled.Config {
	return sled.Config{Path: "db", FS: tt.fs, NodeMaxEntries: 4 + round%5, SegmentSizeBytes: 64 << 10,
		CacheCapacityBytes: 32 << 10, FlushEvery: -1, Compression: round%2 == 1}
}

func (tt *torture) round(round int, seed uint64) {
	t := tt.t
	db, err := tt.config(round).Open()
	if err != nil {
		t.Fatalf("seed %d round %d: open: %v", seed, round, err)
	}
	db.SetMergeOperator(concat)
	var (
		stop    atomic.Bool
		wg      sync.WaitGroup
		ops     [tortureOwners][]ccOp
		done    [tortureOwners]atomic.Int64
		durable [tortureOwners]atomic.Int64
		h       history
		scans   atomic.Int64
		errs    = make(chan error, 32)
	)
	fail := func(err error) {
		select {
		case errs <- fmt.Errorf("seed %d round %d: %w", seed, round, err):
		default:
		}
		stop.Store(true)
	}
	for w := range tortureOwners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, uint64(w)))
			for i := 0; !stop.Load(); i++ {
				op := randomOwnerOp(r, fmt.Sprintf("o%d-", w), tortureKeys, 8, 4, fmt.Sprintf("%d.%d", round, i))
				ops[w] = append(ops[w], op)
				if err := applyOp(db, op); err != nil {
					fail(fmt.Errorf("owner %d op %d: %w", w, i, err))
					return
				}
				done[w].Store(int64(i + 1))
			}
		}()
	}
	for c := range tortureClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, uint64(100+c)))
			for i := 0; !stop.Load(); i++ {
				// fresh keys each round: absent at its start, as the model assumes
				in := randomKV(r, fmt.Sprintf("r%d-k%d", round, r.IntN(6)), c, i, tortureClients)
				h.record(c, in, func() any { return runKV(t, db, in) })
			}
		}()
	}
	for s := range tortureScanners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, uint64(200+s)))
			for !stop.Load() {
				it := db.Range([]byte(fmt.Sprintf("o%d-", r.IntN(tortureOwners))), nil)
				rev := r.IntN(3) == 0
				if rev {
					it = it.Rev()
				}
				var prev []byte
				for it.Next() {
					k := it.Key()
					if c := bytes.Compare(prev, k); prev != nil && (c == 0 || (c > 0) != rev) {
						fail(fmt.Errorf("iterator (reverse %v): %q after %q", rev, k, prev))
					}
					prev = append(prev[:0], k...)
				}
				if err := it.Close(); err != nil {
					fail(fmt.Errorf("iterator: %w", err))
					return
				}
				scans.Add(1)
			}
		}()
	}
	wg.Add(2)
	go func() { defer wg.Done(); flushLoop(db, &stop, done[:], durable[:], fail) }()
	go func() { defer wg.Done(); maintenanceLoop(db, &stop, fail) }()

	rng := rand.New(rand.NewPCG(seed, 0xC7))
	time.Sleep(time.Duration(50+rng.IntN(250)) * time.Millisecond)
	crash := rng.IntN(3) != 0
	var cut *vfs.MemFS
	var cutDurable [tortureOwners]int64
	if crash {
		for w := range cutDurable {
			cutDurable[w] = durable[w].Load()
		}
		mode := vfs.DropAllUnsynced
		if rng.IntN(2) == 0 {
			mode = vfs.KeepRandomUnsyncedPrefix
		}
		cut = tt.fs.CrashClone(vfs.CrashOptions{Mode: mode, Seed: rng.Int64()})
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if res, info := porcupine.CheckOperationsVerbose(kvModel, h.ops, 30*time.Second); res == porcupine.Illegal {
		dumpViolation(t, kvModel, info)
		t.Errorf("seed %d round %d: the clients' history is not linearizable", seed, round)
	}
	if err := db.Check(); err != nil {
		t.Errorf("seed %d round %d: Check: %v", seed, round, err)
	}
	st := db.Stats()
	tt.images += st.PageImages
	tt.cleaned += st.SegmentsCleaned
	tt.linOps += len(h.ops)
	tt.scans += int(scans.Load())
	for w := range ops {
		tt.ownerOps += len(ops[w])
	}
	if err := db.Close(); err != nil {
		t.Fatalf("seed %d round %d: Close: %v", seed, round, err)
	}
	tt.rounds++
	all := [tortureOwners]int64{}
	for w := range all {
		all[w] = int64(len(ops[w]))
	}
	if crash {
		tt.fs = cut
		tt.cuts++
		tt.verify(seed, round, ops, cutDurable, false)
	} else {
		tt.closes++
		tt.verify(seed, round, ops, all, true)
	}
}

// verify reopens the database the round left (a crash cut or a clean
// close), checks the owners' keys against their operations, and adopts the
// recovered state as the next round's base.
func (tt *torture) verify(seed uint64, round int, ops [tortureOwners][]ccOp, durable [tortureOwners]int64, exact bool) {
	t := tt.t
	db, err := tt.config(round).Open()
	if err != nil {
		t.Fatalf("seed %d round %d: reopen: %v", seed, round, err)
	}
	defer db.Close()
	if err := db.Check(); err != nil {
		t.Fatalf("seed %d round %d: Check after reopen: %v", seed, round, err)
	}
	got := map[string]string{}
	it := db.Range([]byte("o"), []byte("p"))
	for it.Next() {
		got[string(it.Key())] = string(it.Value())
	}
	if err := it.Close(); err != nil {
		t.Fatalf("seed %d round %d: scan after reopen: %v", seed, round, err)
	}
	for w := range tortureOwners {
		prefix := fmt.Sprintf("o%d-", w)
		base, want := keysWithPrefix(tt.base, prefix), keysWithPrefix(got, prefix)
		lo := durable[w]
		if exact {
			lo = int64(len(ops[w]))
		}
		if !isPrefixState(base, ops[w], lo, want) {
			t.Fatalf("seed %d round %d: owner %d: the reopened keys are no prefix of its %d operations covering %d (exact %v)", seed, round, w, len(ops[w]), lo, exact)
		}
	}
	tt.base = got
}

// isPrefixState reports whether applying some prefix of ops, at least lo
// long, to base gives want.
func isPrefixState(base map[string]string, ops []ccOp, lo int64, want map[string]string) bool {
	state := map[string]string{}
	for k, v := range base {
		state[k] = v
	}
	mismatches := 0
	keys := map[string]bool{}
	for k := range state {
		keys[k] = true
	}
	for k := range want {
		keys[k] = true
	}
	for k := range keys {
		if !haveEq(state, want, k) {
			mismatches++
		}
	}
	for c := 0; c <= len(ops); c++ {
		if int64(c) >= lo && mismatches == 0 {
			return true
		}
		if c == len(ops) {
			break
		}
		for i, k := range ops[c].keys {
			before := haveEq(state, want, k)
			if v := ops[c].values[i]; v == nil {
				delete(state, k)
			} else {
				state[k] = *v
			}
			after := haveEq(state, want, k)
			switch {
			case before && !after:
				mismatches++
			case !before && after:
				mismatches--
			}
		}
	}
	return false
}

// applyOp runs an owner's operation: one write, or an atomic batch.
func applyOp(db *sled.DB, op ccOp) error {
	if len(op.keys) == 1 {
		var err error
		if op.values[0] != nil {
			_, err = db.Insert([]byte(op.keys[0]), []byte(*op.values[0]))
		} else {
			_, err = db.Remove([]byte(op.keys[0]))
		}
		return err
	}
	var b sled.Batch
	for j, k := range op.keys {
		if op.values[j] != nil {
			b.Insert([]byte(k), []byte(*op.values[j]))
		} else {
			b.Remove([]byte(k))
		}
	}
	return db.ApplyBatch(&b)
}
