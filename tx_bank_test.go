package sled_test

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sledgo/sled"
	"github.com/sledgo/sled/internal/testutil"
	"github.com/sledgo/sled/vfs"
)

// The bank under crashes: transfers between accounts in two trees (so a
// transfer is a multi-tree commit), audited after every crash through the
// trees, a View and a Snapshot. The total never changes.

const (
	bankAccounts = 24
	bankInitial  = 1000
)

func bankKey(i int) []byte { return []byte(fmt.Sprintf("acct%03d", i)) }

// bankTrees opens the two trees of the bank; accounts alternate between
// them.
func bankTrees(db *sled.DB) ([2]*sled.Tree, error) {
	var ts [2]*sled.Tree
	var err error
	if ts[0], err = db.OpenTree("bank-even"); err != nil {
		return ts, err
	}
	ts[1], err = db.OpenTree("bank-odd")
	return ts, err
}

// bankInit funds the accounts once, in one transaction.
func bankInit(db *sled.DB, ts [2]*sled.Tree) error {
	return db.Transaction(func(tx *sled.Tx) error {
		v, err := tx.Get(ts[0], bankKey(0))
		if err != nil || v != nil {
			return err // funded already
		}
		for i := 0; i < bankAccounts; i++ {
			if err := tx.Insert(ts[i%2], bankKey(i), binary.BigEndian.AppendUint64(nil, bankInitial)); err != nil {
				return err
			}
		}
		return nil
	})
}

// bankTransfer moves a random amount between two random accounts.
func bankTransfer(db *sled.DB, ts [2]*sled.Tree, rng *rand.Rand) error {
	from, to := rng.IntN(bankAccounts), rng.IntN(bankAccounts)
	if from == to {
		return nil
	}
	amt := uint64(rng.IntN(100))
	return db.Transaction(func(tx *sled.Tx) error {
		fv, err := tx.Get(ts[from%2], bankKey(from))
		if err != nil {
			return err
		}
		tv, err := tx.Get(ts[to%2], bankKey(to))
		if err != nil {
			return err
		}
		if len(fv) != 8 || len(tv) != 8 {
			return fmt.Errorf("account values %q %q", fv, tv)
		}
		f, t := binary.BigEndian.Uint64(fv), binary.BigEndian.Uint64(tv)
		if amt > f {
			return nil
		}
		if err := tx.Insert(ts[from%2], bankKey(from), binary.BigEndian.AppendUint64(nil, f-amt)); err != nil {
			return err
		}
		return tx.Insert(ts[to%2], bankKey(to), binary.BigEndian.AppendUint64(nil, t+amt))
	})
}

// bankAudit checks the total three ways: plain reads, a View, a Snapshot's
// ranges.
func bankAudit(t *testing.T, db *sled.DB, what string) {
	t.Helper()
	ts, err := bankTrees(db)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	sum := func(get func(tr *sled.Tree, k []byte) ([]byte, error)) uint64 {
		var s uint64
		for i := 0; i < bankAccounts; i++ {
			v, err := get(ts[i%2], bankKey(i))
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if v == nil {
				if i == 0 {
					return 0 // never funded: the crash came first
				}
				t.Fatalf("%s: account %d missing (a half-applied funding)", what, i)
			}
			s += binary.BigEndian.Uint64(v)
		}
		return s
	}
	check := func(how string, s uint64) {
		if s != 0 && s != bankAccounts*bankInitial {
			t.Fatalf("%s: %s total %d, want %d", what, how, s, bankAccounts*bankInitial)
		}
	}
	check("plain", sum(func(tr *sled.Tree, k []byte) ([]byte, error) { return tr.Get(k) }))
	db.View(func(tx *sled.Tx) error {
		check("view", sum(tx.Get))
		return nil
	})
	s, err := db.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var total uint64
	n := 0
	for _, tr := range ts {
		it := s.Range(tr, nil, nil)
		for it.Next() {
			total += binary.BigEndian.Uint64(it.Value())
			n++
		}
		if it.Err() != nil {
			t.Fatalf("%s: %v", what, it.Err())
		}
	}
	if n != 0 && n != bankAccounts {
		t.Fatalf("%s: a snapshot's ranges hold %d accounts", what, n)
	}
	check("snapshot ranges", total)
}

// TestBankCrashClone: transfers run while crash images of the in-memory
// file system are taken; each image must open to a consistent bank.
func TestBankCrashClone(t *testing.T) {
	seed := testutil.Seed(t)
	rng := rand.New(rand.NewPCG(seed, 11))
	mem := vfs.NewMem()
	cfg := sled.Config{Path: "bank", FS: mem, FlushEvery: time.Millisecond, NodeMaxEntries: 4, SegmentSizeBytes: 64 << 10}
	db, err := cfg.Open()
	if err != nil {
		t.Fatal(err)
	}
	ts, err := bankTrees(db)
	if err != nil {
		t.Fatal(err)
	}
	if err := bankInit(db, ts); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	var transfers atomic.Int64
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, uint64(w)))
			for !stop.Load() {
				if err := bankTransfer(db, ts, r); err != nil {
					t.Error(err)
					return
				}
				transfers.Add(1)
			}
		}(w)
	}
	rounds := 20
	if testing.Short() {
		rounds = 8
	}
	for round := 0; round < rounds; round++ {
		time.Sleep(time.Duration(1+rng.IntN(15)) * time.Millisecond)
		mode := vfs.DropAllUnsynced
		if rng.IntN(2) == 0 {
			mode = vfs.KeepRandomUnsyncedPrefix
		}
		clone := mem.CrashClone(vfs.CrashOptions{Mode: mode, Seed: int64(rng.Uint64())})
		c := cfg
		c.FS = clone
		db2, err := c.Open()
		if err != nil {
			t.Fatalf("round %d (%v): open: %v", round, mode, err)
		}
		bankAudit(t, db2, fmt.Sprintf("round %d (%v)", round, mode))
		db2.Close()
	}
	stop.Store(true)
	wg.Wait()
	db.Close()
	t.Logf("seed %d: %d rounds, %d transfers", seed, rounds, transfers.Load())
}

// The SIGKILL bank: a child process runs transfers on a real directory; the
// parent kills it at a random moment, audits, and starts the next child on
// the same directory.

const bankChildEnv = "SLED_BANK_CHILD_DIR"

func TestBankChild(t *testing.T) {
	dir := os.Getenv(bankChildEnv)
	if dir == "" {
		t.Skip("run by TestBankSIGKILL")
	}
	db, err := sled.Config{Path: dir, SegmentSizeBytes: 128 << 10, NodeMaxEntries: 4, FlushEvery: 2 * time.Millisecond}.Open()
	if err != nil {
		fmt.Println("open error:", err)
		os.Exit(3)
	}
	ts, err := bankTrees(db)
	if err == nil {
		err = bankInit(db, ts)
	}
	if err != nil {
		fmt.Println("init error:", err)
		os.Exit(3)
	}
	fmt.Println("ready", db.Stats().TxFinishedAtOpen)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(w)))
			for i := 0; ; i++ {
				if err := bankTransfer(db, ts, r); err != nil && !errors.Is(err, sled.ErrConflict) {
					fmt.Println("transfer error:", err)
					os.Exit(4)
				}
				if i%16 == 0 {
					db.Flush()
				}
			}
		}(w)
	}
	wg.Wait()
}

func TestBankSIGKILL(t *testing.T) {
	if os.Getenv(bankChildEnv) != "" {
		t.Skip("child")
	}
	rounds := 30
	if v, err := strconv.Atoi(os.Getenv("SLED_CRASH_ROUNDS")); err == nil {
		rounds = v
	}
	if testing.Short() {
		rounds = 6
	}
	seed := testutil.Seed(t)
	rng := rand.New(rand.NewPCG(seed, 7))
	dir := t.TempDir()
	finished := 0
	for round := 0; round < rounds; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestBankChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), bankChildEnv+"="+dir)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stdout)
		if !sc.Scan() {
			cmd.Wait()
			t.Fatalf("round %d: the child said nothing", round)
		}
		var n int
		if _, err := fmt.Sscanf(sc.Text(), "ready %d", &n); err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("round %d: the child said %q", round, sc.Text())
		}
		finished += n
		time.Sleep(time.Duration(10+rng.IntN(150)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		for sc.Scan() {
			t.Errorf("round %d: the child said %q", round, sc.Text())
		}
		io.Copy(io.Discard, stdout)
		cmd.Wait()
		db, err := sled.Config{Path: dir, SegmentSizeBytes: 128 << 10, NodeMaxEntries: 4}.Open()
		if err != nil {
			t.Fatalf("round %d: open: %v", round, err)
		}
		finished += db.Stats().TxFinishedAtOpen
		bankAudit(t, db, fmt.Sprintf("round %d", round))
		db.Close()
	}
	t.Logf("seed %d: %d rounds; opens finished %d commits from their redo records", seed, rounds, finished)
}
