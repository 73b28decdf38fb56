package sled_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sledgo/sled"
)

func openTemp(t *testing.T, cfg sled.Config) *sled.DB {
	t.Helper()
	cfg.Temporary = true
	db, err := cfg.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func u64(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

func getU64(t testing.TB, v []byte) uint64 {
	if len(v) != 8 {
		t.Fatalf("value %q is not a counter", v)
	}
	return binary.BigEndian.Uint64(v)
}

func TestTransactionBasics(t *testing.T) {
	db := openTemp(t, sled.Config{})
	other, _ := db.OpenTree("other")
	err := db.Transaction(func(tx *sled.Tx) error {
		if err := tx.Insert(db.Tree, b("a"), b("1")); err != nil {
			return err
		}
		if err := tx.Insert(other, b("a"), b("2")); err != nil {
			return err
		}
		// own writes are visible
		if v, err := tx.Get(db.Tree, b("a")); err != nil || string(v) != "1" {
			t.Errorf("own write: %q %v", v, err)
		}
		if v, _ := db.Get(b("a")); v != nil {
			t.Errorf("a write is visible before the commit: %q", v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := db.Get(b("a")); string(v) != "1" {
		t.Fatalf("after commit: %q", v)
	}
	if v, _ := other.Get(b("a")); string(v) != "2" {
		t.Fatalf("after commit, other tree: %q", v)
	}
	// fn's error aborts and is returned as it is
	boom := errors.New("boom")
	err = db.Transaction(func(tx *sled.Tx) error {
		tx.Insert(db.Tree, b("b"), b("x"))
		tx.Remove(db.Tree, b("a"))
		return boom
	})
	if err != boom {
		t.Fatalf("fn's error: got %v", err)
	}
	if v, _ := db.Get(b("b")); v != nil {
		t.Fatal("an aborted transaction's write is visible")
	}
	if v, _ := db.Get(b("a")); v == nil {
		t.Fatal("an aborted transaction's remove is visible")
	}
	// a Tx used after fn returned
	var kept *sled.Tx
	db.Transaction(func(tx *sled.Tx) error { kept = tx; return nil })
	if _, err := kept.Get(db.Tree, b("a")); err == nil {
		t.Fatal("Get on a finished Tx succeeded")
	}
	if err := kept.Insert(db.Tree, b("a"), b("z")); err == nil {
		t.Fatal("Insert on a finished Tx succeeded")
	}
	if it := kept.Range(db.Tree, nil, nil); it.Next() || it.Err() == nil {
		t.Fatal("Range on a finished Tx gave no error")
	}
	// a panic aborts and goes on
	func() {
		defer func() {
			if r := recover(); r != "oops" {
				t.Fatalf("recovered %v, want the panic", r)
			}
		}()
		db.Transaction(func(tx *sled.Tx) error {
			tx.Insert(db.Tree, b("p"), b("1"))
			panic("oops")
		})
	}()
	if v, _ := db.Get(b("p")); v != nil {
		t.Fatal("a panicking transaction's write is visible")
	}
	// limits
	err = db.Transaction(func(tx *sled.Tx) error {
		return tx.Insert(db.Tree, make([]byte, sled.MaxKeyBytes+1), nil)
	})
	if !errors.Is(err, sled.ErrKeyTooLarge) {
		t.Fatalf("oversized key: %v", err)
	}
	// a tree of another database
	db2 := openTemp(t, sled.Config{})
	err = db.Transaction(func(tx *sled.Tx) error { return tx.Insert(db2.Tree, b("a"), b("1")) })
	if err == nil {
		t.Fatal("a transaction wrote a tree of another database")
	}
	// View is read-only and sees committed data
	err = db.View(func(tx *sled.Tx) error {
		if v, err := tx.Get(other, b("a")); err != nil || string(v) != "2" {
			t.Errorf("View Get: %q %v", v, err)
		}
		return tx.Insert(db.Tree, b("v"), b("1"))
	})
	if !errors.Is(err, sled.ErrReadOnly) {
		t.Fatalf("a write in View: %v", err)
	}
	db.Close()
	if err := db.Transaction(func(*sled.Tx) error { return nil }); !errors.Is(err, sled.ErrClosed) {
		t.Fatalf("Transaction after Close: %v", err)
	}
	if err := db.View(func(*sled.Tx) error { return nil }); !errors.Is(err, sled.ErrClosed) {
		t.Fatalf("View after Close: %v", err)
	}
}

func TestTransactionRangeSeesOwnWrites(t *testing.T) {
	db := openTemp(t, sled.Config{NodeMaxEntries: 4})
	for i := 0; i < 20; i += 2 {
		db.Insert(b(fmt.Sprintf("k%02d", i)), b("t"))
	}
	err := db.Transaction(func(tx *sled.Tx) error {
		tx.Insert(db.Tree, b("k03"), b("own"))
		tx.Remove(db.Tree, b("k04"))
		tx.Insert(db.Tree, b("k06"), b("over"))
		tx.Insert(db.Tree, b("k99"), b("out of range"))
		for _, rev := range []bool{false, true} {
			it := tx.Range(db.Tree, b("k02"), b("k09"))
			if rev {
				it.Rev()
			}
			var got []string
			for it.Next() {
				got = append(got, string(it.Key())+"="+string(it.Value()))
			}
			if it.Err() != nil {
				return it.Err()
			}
			want := []string{"k02=t", "k03=own", "k06=over", "k08=t"}
			if rev {
				want = []string{"k08=t", "k06=over", "k03=own", "k02=t"}
			}
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("rev=%v: got %v, want %v", rev, got, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// interleave runs first until it signals, then second to the end, then
// lets first finish: the classic schedule of the anomalies below. It
// returns how many times first's function ran.
func interleave(t *testing.T, db *sled.DB, first func(tx *sled.Tx, pause func()) error, second func(tx *sled.Tx) error) int {
	t.Helper()
	paused, resume := make(chan struct{}), make(chan struct{})
	var runs atomic.Int32
	done := make(chan error)
	go func() {
		done <- db.Transaction(func(tx *sled.Tx) error {
			n := runs.Add(1)
			return first(tx, func() {
				if n == 1 {
					paused <- struct{}{}
					<-resume
				}
			})
		})
	}()
	<-paused
	if err := db.Transaction(second); err != nil {
		t.Fatal(err)
	}
	close(resume)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	return int(runs.Load())
}

// Write skew: two doctors on call each go off call after checking that the
// other is on; run together, they must not both go.
func TestAnomalyWriteSkew(t *testing.T) {
	db := openTemp(t, sled.Config{})
	db.Insert(b("alice"), b("on"))
	db.Insert(b("bob"), b("on"))
	offCall := func(me, other string) func(tx *sled.Tx) error {
		return func(tx *sled.Tx) error {
			v, err := tx.Get(db.Tree, b(other))
			if err != nil {
				return err
			}
			if string(v) == "on" {
				return tx.Insert(db.Tree, b(me), b("off"))
			}
			return nil
		}
	}
	runs := interleave(t, db, func(tx *sled.Tx, pause func()) error {
		if _, err := tx.Get(db.Tree, b("alice")); err != nil {
			return err
		}
		if err := offCall("alice", "bob")(tx); err != nil {
			return err
		}
		pause()
		return nil
	}, offCall("bob", "alice"))
	a, _ := db.Get(b("alice"))
	bb, _ := db.Get(b("bob"))
	if string(a) == "off" && string(bb) == "off" {
		t.Fatal("write skew: both doctors went off call")
	}
	if runs < 2 {
		t.Fatalf("the first transaction ran %d times: its conflict went unnoticed", runs)
	}
}

// Lost update: two read-modify-write increments, interleaved.
func TestAnomalyLostUpdate(t *testing.T) {
	db := openTemp(t, sled.Config{})
	db.Insert(b("n"), u64(0))
	incr := func(tx *sled.Tx) error {
		v, err := tx.Get(db.Tree, b("n"))
		if err != nil {
			return err
		}
		return tx.Insert(db.Tree, b("n"), u64(getU64(t, v)+1))
	}
	interleave(t, db, func(tx *sled.Tx, pause func()) error {
		v, err := tx.Get(db.Tree, b("n"))
		if err != nil {
			return err
		}
		pause()
		return tx.Insert(db.Tree, b("n"), u64(getU64(t, v)+1))
	}, incr)
	if v, _ := db.Get(b("n")); getU64(t, v) != 2 {
		t.Fatalf("lost update: n = %d after two increments", getU64(t, v))
	}
	// and against a plain single-key write
	db.Insert(b("m"), u64(0))
	interleave(t, db, func(tx *sled.Tx, pause func()) error {
		v, err := tx.Get(db.Tree, b("m"))
		if err != nil {
			return err
		}
		pause()
		return tx.Insert(db.Tree, b("m"), u64(getU64(t, v)+1))
	}, func(*sled.Tx) error {
		_, err := db.Update(b("m"), func(old []byte) []byte { return u64(getU64(t, old) + 10) })
		return err
	})
	if v, _ := db.Get(b("m")); getU64(t, v) != 11 {
		t.Fatalf("lost update against Update: m = %d, want 11", getU64(t, v))
	}
}

// Read skew: a reader of two accounts must not see a transfer half done.
func TestAnomalyReadSkew(t *testing.T) {
	db := openTemp(t, sled.Config{})
	db.Insert(b("x"), u64(50))
	db.Insert(b("y"), u64(50))
	var sums []uint64
	transfer := func(tx *sled.Tx) error {
		x, _ := tx.Get(db.Tree, b("x"))
		y, _ := tx.Get(db.Tree, b("y"))
		tx.Insert(db.Tree, b("x"), u64(getU64(t, x)-10))
		return tx.Insert(db.Tree, b("y"), u64(getU64(t, y)+10))
	}
	interleave(t, db, func(tx *sled.Tx, pause func()) error {
		x, err := tx.Get(db.Tree, b("x"))
		if err != nil {
			return err
		}
		pause()
		y, err := tx.Get(db.Tree, b("y"))
		if err != nil {
			return err
		}
		sums = append(sums, getU64(t, x)+getU64(t, y))
		return nil
	}, transfer)
	if last := sums[len(sums)-1]; last != 100 {
		t.Fatalf("read skew: the committed run saw a total of %d", last)
	}
	if len(sums) < 2 {
		t.Fatal("the skewed first run was not retried")
	}
	// a snapshot taken before the transfer keeps seeing the old pair
	s, err := db.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := db.Transaction(transfer); err != nil {
		t.Fatal(err)
	}
	x, _ := s.Get(db.Tree, b("x"))
	y, _ := s.Get(db.Tree, b("y"))
	if getU64(t, x) != 40 || getU64(t, y) != 60 {
		t.Fatalf("the snapshot sees x=%d y=%d, want 40 60", getU64(t, x), getU64(t, y))
	}
}

// Phantom: a transaction that counts a range and writes the count must not
// miss an insertion into the range committed in between.
func TestAnomalyPhantom(t *testing.T) {
	db := openTemp(t, sled.Config{})
	for _, k := range []string{"p/1", "p/2"} {
		db.Insert(b(k), b("x"))
	}
	count := func(tx *sled.Tx) (int, error) {
		it := tx.Range(db.Tree, b("p/"), b("p0"))
		defer it.Close()
		n := 0
		for it.Next() {
			n++
		}
		return n, it.Err()
	}
	for _, second := range []func(tx *sled.Tx) error{
		func(tx *sled.Tx) error { return tx.Insert(db.Tree, b("p/3"), b("x")) },
		func(tx *sled.Tx) error { _, err := db.Insert(b("p/4"), b("x")); return err }, // a single-key write
		func(tx *sled.Tx) error { return tx.Remove(db.Tree, b("p/1")) },
	} {
		runs := interleave(t, db, func(tx *sled.Tx, pause func()) error {
			n, err := count(tx)
			if err != nil {
				return err
			}
			pause()
			return tx.Insert(db.Tree, b("count"), []byte(fmt.Sprint(n)))
		}, second)
		var n int
		db.View(func(tx *sled.Tx) error { n, _ = count(tx); return nil })
		if v, _ := db.Get(b("count")); string(v) != fmt.Sprint(n) {
			t.Fatalf("phantom: count = %s, the range holds %d", v, n)
		}
		if runs < 2 {
			t.Fatal("the phantom was not noticed")
		}
	}
}

func TestSnapshotAPI(t *testing.T) {
	db := openTemp(t, sled.Config{NodeMaxEntries: 4})
	tr, _ := db.OpenTree("t")
	for i := 0; i < 50; i++ {
		tr.Insert(b(fmt.Sprintf("k%02d", i)), b(fmt.Sprint(i)))
	}
	s, err := db.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	// change everything after the snapshot: updates, removes, inserts,
	// a batch, a transaction, pops
	for i := 0; i < 50; i += 2 {
		tr.Insert(b(fmt.Sprintf("k%02d", i)), b("new"))
	}
	for i := 1; i < 50; i += 4 {
		tr.Remove(b(fmt.Sprintf("k%02d", i)))
	}
	tr.Insert(b("k50"), b("added"))
	var bt sled.Batch
	bt.Insert(b("k03"), b("batch"))
	bt.Remove(b("k07"))
	bt.Insert(b("a"), b("batch"))
	if err := tr.ApplyBatch(&bt); err != nil {
		t.Fatal(err)
	}
	tr.PopMin()
	tr.PopMax()
	want := func(i int) string { return fmt.Sprint(i) }
	for i := 0; i < 52; i++ {
		v, err := s.Get(tr, b(fmt.Sprintf("k%02d", i)))
		if err != nil {
			t.Fatal(err)
		}
		if i >= 50 {
			if v != nil {
				t.Fatalf("k%02d added after the snapshot is visible in it", i)
			}
			continue
		}
		if string(v) != want(i) {
			t.Fatalf("snapshot k%02d = %q, want %q", i, v, want(i))
		}
	}
	for _, rev := range []bool{false, true} {
		it := s.Range(tr, b("k10"), b("k20"))
		if rev {
			it.Rev()
		}
		var got []string
		for it.Next() {
			got = append(got, string(it.Key())+"="+string(it.Value()))
		}
		if it.Err() != nil {
			t.Fatal(it.Err())
		}
		var exp []string
		for i := 10; i < 20; i++ {
			exp = append(exp, fmt.Sprintf("k%02d=%d", i, i))
		}
		if rev {
			for i, j := 0, len(exp)-1; i < j; i, j = i+1, j-1 {
				exp[i], exp[j] = exp[j], exp[i]
			}
		}
		if strings.Join(got, ",") != strings.Join(exp, ",") {
			t.Fatalf("snapshot range rev=%v:\n got %v\nwant %v", rev, got, exp)
		}
	}
	st := db.Stats()
	if st.SnapshotsOpen != 1 || st.SnapshotVersions == 0 {
		t.Fatalf("Stats: %d snapshots open, %d versions held", st.SnapshotsOpen, st.SnapshotVersions)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	if _, err := s.Get(tr, b("k00")); !errors.Is(err, sled.ErrSnapshotClosed) {
		t.Fatalf("Get after Close: %v", err)
	}
	if it := s.Range(tr, nil, nil); it.Next() || !errors.Is(it.Err(), sled.ErrSnapshotClosed) {
		t.Fatalf("Range after Close: %v", it.Err())
	}
}

// A forgotten snapshot does not hold memory without bound: past
// MaxSnapshotBytes it expires, and says so.
func TestSnapshotExpires(t *testing.T) {
	db := openTemp(t, sled.Config{MaxSnapshotBytes: 1 << 20})
	db.Insert(b("k"), b("v0"))
	s, err := db.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	val := bytes.Repeat([]byte("x"), 1000)
	for i := 0; i < 3000; i++ {
		if _, err := db.Insert(b(fmt.Sprintf("w%d", i%100)), val); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Get(db.Tree, b("k")); !errors.Is(err, sled.ErrSnapshotExpired) {
		t.Fatalf("a snapshot past the limit: %v, want ErrSnapshotExpired", err)
	}
	st := db.Stats()
	if st.SnapshotBytes > 2<<20 {
		t.Fatalf("versions held %d bytes with a 1 MiB limit", st.SnapshotBytes)
	}
	if st.SnapshotsExpired != 1 {
		t.Fatalf("Stats: %d snapshots expired, want 1", st.SnapshotsExpired)
	}
}

// The bank: concurrent transfers between accounts, single-key writes to
// other keys, views and snapshots checking the total all along.
func TestBankConcurrent(t *testing.T) {
	const accounts, initial = 20, 1000
	db := openTemp(t, sled.Config{NodeMaxEntries: 8})
	acct := func(i int) []byte { return b(fmt.Sprintf("acct%02d", i)) }
	for i := 0; i < accounts; i++ {
		db.Insert(acct(i), u64(initial))
	}
	total := func(get func(k []byte) ([]byte, error)) (uint64, error) {
		var s uint64
		for i := 0; i < accounts; i++ {
			v, err := get(acct(i))
			if err != nil {
				return 0, err
			}
			s += binary.BigEndian.Uint64(v)
		}
		return s, nil
	}
	var wg, workers sync.WaitGroup
	var stop atomic.Bool
	var transfers atomic.Int64
	errc := make(chan error, 16)
	for w := 0; w < 4; w++ {
		workers.Add(1)
		go func(w int) {
			defer workers.Done()
			r := uint64(w)*7919 + 1
			for i := 0; i < 300; i++ {
				r = r*6364136223846793005 + 1442695040888963407
				from, to := int(r>>33)%accounts, int(r>>43)%accounts
				if from == to {
					continue
				}
				err := db.Transaction(func(tx *sled.Tx) error {
					fv, err := tx.Get(db.Tree, acct(from))
					if err != nil {
						return err
					}
					tv, err := tx.Get(db.Tree, acct(to))
					if err != nil {
						return err
					}
					f, tt := binary.BigEndian.Uint64(fv), binary.BigEndian.Uint64(tv)
					amt := uint64(r>>50) % 50
					if amt > f {
						return nil
					}
					if err := tx.Insert(db.Tree, acct(from), u64(f-amt)); err != nil {
						return err
					}
					return tx.Insert(db.Tree, acct(to), u64(tt+amt))
				})
				if err != nil {
					errc <- err
					return
				}
				transfers.Add(1)
			}
		}(w)
	}
	wg.Add(1)
	go func() { // single-key writes elsewhere
		defer wg.Done()
		for i := 0; !stop.Load(); i++ {
			db.Insert(b(fmt.Sprintf("other%03d", i%200)), u64(uint64(i)))
		}
	}()
	wg.Add(1)
	go func() { // readers
		defer wg.Done()
		for !stop.Load() {
			err := db.View(func(tx *sled.Tx) error {
				s, err := total(func(k []byte) ([]byte, error) { return tx.Get(db.Tree, k) })
				if err == nil && s != accounts*initial {
					err = fmt.Errorf("a view saw a total of %d", s)
				}
				return err
			})
			if err == nil {
				err = db.Transaction(func(tx *sled.Tx) error {
					s, err := total(func(k []byte) ([]byte, error) { return tx.Get(db.Tree, k) })
					if err == nil && s != accounts*initial {
						// possible in a run that then conflicts; checked below
						return fmt.Errorf("%w: skewed", sled.ErrConflict)
					}
					return err
				})
			}
			if err != nil {
				errc <- err
				return
			}
		}
	}()
	workers.Wait()
	stop.Store(true)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	s, err := total(db.Get)
	if err != nil || s != accounts*initial {
		t.Fatalf("final total %d (%v), want %d", s, err, accounts*initial)
	}
	t.Logf("%d transfers", transfers.Load())
}

func TestBeginCommit(t *testing.T) {
	db := openTemp(t, sled.Config{})
	db.Insert(b("n"), u64(0))
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	v, _ := tx.Get(db.Tree, b("n"))
	tx.Insert(db.Tree, b("n"), u64(getU64(t, v)+1))
	// a concurrent write to what tx read
	db.Insert(b("n"), u64(10))
	if err := tx.Commit(); !errors.Is(err, sled.ErrConflict) {
		t.Fatalf("Commit after a conflicting write: %v", err)
	}
	if err := tx.Commit(); err == nil {
		t.Fatal("a second Commit succeeded")
	}
	if _, err := tx.Get(db.Tree, b("n")); err == nil {
		t.Fatal("Get after Commit succeeded")
	}
	for {
		tx, _ := db.Begin()
		v, _ := tx.Get(db.Tree, b("n"))
		tx.Insert(db.Tree, b("n"), u64(getU64(t, v)+1))
		err := tx.Commit()
		if err == nil {
			break
		}
		if !errors.Is(err, sled.ErrConflict) {
			t.Fatal(err)
		}
	}
	if v, _ := db.Get(b("n")); getU64(t, v) != 11 {
		t.Fatalf("n = %d, want 11", getU64(t, v))
	}
	tx, _ = db.Begin()
	tx.Insert(db.Tree, b("gone"), b("x"))
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal("second Rollback:", err)
	}
	if v, _ := db.Get(b("gone")); v != nil {
		t.Fatal("a rolled back write is visible")
	}
	db.Transaction(func(tx *sled.Tx) error {
		if tx.Commit() == nil || tx.Rollback() == nil {
			t.Error("Commit or Rollback inside Transaction succeeded")
		}
		return nil
	})
	db.Close()
	if _, err := db.Begin(); !errors.Is(err, sled.ErrClosed) {
		t.Fatalf("Begin after Close: %v", err)
	}
}

// Many writes in one transaction, some overwritten, some removed again:
// the last write of each key wins, inside the transaction and after it.
func TestTransactionManyWrites(t *testing.T) {
	db := openTemp(t, sled.Config{NodeMaxEntries: 4})
	err := db.Transaction(func(tx *sled.Tx) error {
		for round := 0; round < 3; round++ {
			for i := 0; i < 40; i++ {
				k := b(fmt.Sprintf("k%02d", i))
				switch {
				case round == 2 && i%5 == 0:
					tx.Remove(db.Tree, k)
				default:
					tx.Insert(db.Tree, k, b(fmt.Sprintf("%d-%d", round, i)))
				}
			}
		}
		for i := 0; i < 40; i++ {
			v, _ := tx.Get(db.Tree, b(fmt.Sprintf("k%02d", i)))
			want := fmt.Sprintf("2-%d", i)
			if i%5 == 0 {
				want = ""
			}
			if string(v) != want || (want == "") != (v == nil) {
				t.Errorf("inside: k%02d = %q, want %q", i, v, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	n, _ := db.Len()
	if n != 32 {
		t.Fatalf("after the commit: %d keys, want 32", n)
	}
	v, _ := db.Get(b("k07"))
	if string(v) != "2-7" {
		t.Fatalf("k07 = %q", v)
	}
}
