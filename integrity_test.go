package sled_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sledgo/sled"
	"github.com/sledgo/sled/vfs"
)

// Regression (crash-integrity issue, defect 4): Remove must not retain the
// caller's key; the subscriber's event used to alias it.
func TestRemoveDoesNotRetainKey(t *testing.T) {
	db := openTest(t)
	mustInsert(t, db.Tree, b("watched"), b("v"))
	s := db.WatchPrefix(b("w"))
	defer s.Close()
	k := b("watched")
	if _, err := db.Remove(k); err != nil {
		t.Fatal(err)
	}
	copy(k, "XXXXXXX") // the caller reuses its buffer
	ev := recv(t, s)
	if string(ev.Key) != "watched" || !ev.Deleted {
		t.Fatalf("event %q deleted=%v, want the removed key unchanged", ev.Key, ev.Deleted)
	}
}

// Regression (defect 5): calls racing Close return nil or ErrClosed, never
// an internal error, and every write that returned nil survives the close.
func TestCloseDrainsOperationsInFlight(t *testing.T) {
	for round := range 20 {
		fs := vfs.NewMem()
		cfg := sled.Config{Path: "db", FS: fs, FlushEvery: -1, NodeMaxEntries: 4}
		db, err := cfg.Open()
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		acked := map[string]bool{}
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					k := fmt.Sprintf("g%d-%06d", g, i)
					var err error
					switch i % 4 {
					case 0, 1:
						_, err = db.Insert(b(k), b("v"))
					case 2:
						_, err = db.Get(b(k))
						k = ""
					case 3:
						it := db.Range(b(fmt.Sprintf("g%d-", g)), nil)
						for it.Next() {
						}
						err = it.Err()
						it.Close()
						k = ""
					}
					if errors.Is(err, sled.ErrClosed) {
						return
					}
					if err != nil {
						errs <- fmt.Errorf("round %d: %s: %w", round, k, err)
						return
					}
					if k != "" {
						mu.Lock()
						acked[k] = true
						mu.Unlock()
					}
				}
			}()
		}
		time.Sleep(time.Duration(1+round%5) * time.Millisecond)
		if err := db.Close(); err != nil {
			t.Fatalf("round %d: Close: %v", round, err)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("a call racing Close returned %v (want nil or ErrClosed)", err)
		}
		db, err = cfg.Open()
		if err != nil {
			t.Fatalf("round %d: reopen: %v", round, err)
		}
		for k := range acked {
			if v := mustGet(t, db.Tree, b(k)); string(v) != "v" {
				t.Fatalf("round %d: acknowledged write %s lost by Close", round, k)
			}
		}
		closeDB(t, db)
	}
}

// Regression (defect 3): a failure of background work is never dropped: it
// shows in Stats and Check, and a failure that means corruption makes every
// later call fail with it.
func TestBackgroundErrorsSurface(t *testing.T) {
	mem := vfs.NewMem()
	var failSnapshots sync.Map
	inj := vfs.InjectorFunc(func(op vfs.Op, path string) error {
		if _, on := failSnapshots.Load("on"); on && op == vfs.OpCreate && strings.Contains(path, "snap-") {
			return vfs.InjectedError(op, path, errors.New("disk full"))
		}
		return nil
	})
	cfg := sled.Config{Path: "db", FS: vfs.NewInjecting(mem, inj), SegmentSizeBytes: 64 << 10, NodeMaxEntries: 8, FlushEvery: -1}
	db, err := cfg.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	failSnapshots.Store("on", true)
	// Overwrites leave dead segments; the background cleaner's round
	// needs a snapshot, which fails.
	deadline := time.Now().Add(guard)
	for i := 0; db.Stats().BackgroundErrors == 0; i++ {
		if time.Now().After(deadline) {
			t.Fatalf("no background error recorded; stats %+v", db.Stats())
		}
		if _, err := db.Insert(key(i%500), make([]byte, 200)); err != nil {
			t.Fatal(err)
		}
	}
	st := db.Stats()
	if st.BackgroundError == nil || !strings.Contains(st.BackgroundError.Error(), "disk full") {
		t.Fatalf("Stats().BackgroundError = %v, want the injected failure", st.BackgroundError)
	}
	if err := db.Check(); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Check = %v, want the background failure", err)
	}
	// A transient failure does not stop writes.
	if _, err := db.Insert(b("after"), b("1")); err != nil {
		t.Fatalf("write after a failed snapshot: %v", err)
	}
}

// Regression (defect 8): a segment file that the page table needs and that
// is missing or cut short is corruption at Open, not a failed read later.
// Each segment in turn is removed (or cut short): Open either reports
// corruption or, when no page needed that segment any more, opens a
// database holding every key with its value. At least one segment must be
// needed, or the test tests nothing.
func TestOpenReportsMissingOrShortSegment(t *testing.T) {
	val := func(i int) []byte { return append(make([]byte, 96), key(i)...) }
	build := func(t *testing.T) (*vfs.MemFS, sled.Config, []string) {
		mem := vfs.NewMem()
		cfg := sled.Config{Path: "db", FS: mem, SegmentSizeBytes: 64 << 10, FlushEvery: -1}
		db, err := cfg.Open()
		if err != nil {
			t.Fatal(err)
		}
		for i := range 3000 {
			mustInsert(t, db.Tree, key(i), val(i))
		}
		closeDB(t, db)
		names, err := mem.List("db/log")
		if err != nil {
			t.Fatal(err)
		}
		var segs []string
		for _, n := range names {
			if strings.HasPrefix(n, "seg-") {
				segs = append(segs, "db/log/"+n)
			}
		}
		if len(segs) < 3 {
			t.Fatalf("only %d segments", len(segs))
		}
		return mem, cfg, segs
	}
	for _, damage := range []string{"missing", "short"} {
		t.Run(damage, func(t *testing.T) {
			needed, tried := 0, 0
			// The cleaner runs in the background, so the segments left
			// differ from build to build: take the i-th of each.
			for i := 0; ; i++ {
				mem, cfg, segs := build(t)
				if i >= len(segs) {
					break
				}
				seg := segs[i]
				tried++
				if damage == "missing" {
					if err := mem.Remove(seg); err != nil {
						t.Fatal(err)
					}
				} else {
					f, err := mem.OpenReadWrite(seg)
					if err != nil {
						t.Fatal(err)
					}
					if err := f.Truncate(100); err != nil {
						t.Fatal(err)
					}
					f.Close()
				}
				db, err := cfg.Open()
				if err != nil {
					// A missing segment is named; a missing last segment
					// also shows as a log that ends before what the
					// snapshot saw durable.
					if !errors.Is(err, sled.ErrCorruption) || (damage == "missing" && !strings.Contains(err.Error(), "missing") && !strings.Contains(err.Error(), "snapshot has seen durable")) {
						t.Fatalf("Open with %s %s: %v, want ErrCorruption naming the damage", seg, damage, err)
					}
					needed++
					continue
				}
				// Not needed: every key reads back whole.
				for k := range 3000 {
					if v := mustGet(t, db.Tree, key(k)); !bytes.Equal(v, val(k)) {
						t.Fatalf("with %s %s, Open succeeded but key %d reads %q", seg, damage, k, v)
					}
				}
				if err := db.Check(); err != nil {
					t.Fatalf("with %s %s, Open succeeded but Check: %v", seg, damage, err)
				}
				closeDB(t, db)
			}
			if needed == 0 {
				t.Fatalf("no segment of %d was needed: the test damages nothing that matters", tried)
			}
			t.Logf("%d of %d segments needed", needed, tried)
		})
	}
}

// The segment size is the database's, not the opener's: a reopen with a
// different (or the default) SegmentSizeBytes reads the database as
// written; a damaged META is corruption.
func TestSegmentSizeKeptAcrossOpens(t *testing.T) {
	mem := vfs.NewMem()
	db, err := sled.Config{Path: "db", FS: mem, SegmentSizeBytes: 64 << 10, FlushEvery: -1}.Open()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2000 {
		mustInsert(t, db.Tree, key(i), make([]byte, 100))
	}
	closeDB(t, db)
	for _, size := range []int{0, 1 << 20} {
		db, err := sled.Config{Path: "db", FS: mem, SegmentSizeBytes: size, FlushEvery: -1}.Open()
		if err != nil {
			t.Fatalf("reopen with SegmentSizeBytes %d: %v", size, err)
		}
		for i := range 2000 {
			if v := mustGet(t, db.Tree, key(i)); len(v) != 100 {
				t.Fatalf("key %d: %q", i, v)
			}
		}
		closeDB(t, db)
	}
	f, err := mem.OpenReadWrite("db/META")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("X"), 12); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := (sled.Config{Path: "db", FS: mem}).Open(); !errors.Is(err, sled.ErrCorruption) {
		t.Fatalf("open with a damaged META: %v, want ErrCorruption", err)
	}
}

// Defect 9 (suspected): DropTree racing cleaning rounds. The drop walks the
// tree pinned, so no segment it reads is removed under it; trees are
// dropped and recreated while the cleaner relocates and removes segments
// and a tiny cache makes the walk page in from the log.
func TestDropTreeRacingCleaning(t *testing.T) {
	mem := vfs.NewMem()
	cfg := sled.Config{Path: "db", FS: mem, NodeMaxEntries: 4, SegmentSizeBytes: 64 << 10, CacheCapacityBytes: 32 << 10, FlushEvery: -1}
	db, err := cfg.Open()
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	cleanErr := make(chan error, 1)
	go func() {
		defer close(cleanErr)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := db.Clean(); err != nil {
				cleanErr <- err
				return
			}
		}
	}()
	for round := range 40 {
		tr, err := db.OpenTree("victim")
		if err != nil {
			t.Fatal(err)
		}
		for i := range 300 {
			mustInsert(t, tr, key(i), make([]byte, 64))
			mustInsert(t, db.Tree, key(i), []byte(fmt.Sprint(round))) // churn for the cleaner
		}
		if err := db.DropTree("victim"); err != nil {
			t.Fatalf("round %d: DropTree: %v", round, err)
		}
	}
	close(stop)
	if err := <-cleanErr; err != nil {
		t.Fatalf("cleaning: %v", err)
	}
	if err := db.Check(); err != nil {
		t.Fatal(err)
	}
	if st := db.Stats(); st.SegmentsCleaned == 0 || st.Evictions == 0 {
		t.Fatalf("the race did not happen: %d segments cleaned, %d evictions", st.SegmentsCleaned, st.Evictions)
	}
	closeDB(t, db)
	db, err = cfg.Open()
	if err != nil {
		t.Fatal(err)
	}
	if names := db.TreeNames(); len(names) != 1 {
		t.Fatalf("trees after reopen: %v", names)
	}
	closeDB(t, db)
}
