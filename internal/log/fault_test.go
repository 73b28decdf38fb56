package log

import (
	"errors"
	"sync"
	"testing"

	"github.com/sledgo/sled/internal/testutil"
	"github.com/sledgo/sled/vfs"
)

// TestFailedIOIsSticky injects one failed write, sync or blob operation and
// checks that Flush fails, every later write fails with the same cause,
// nothing panics or hangs, and the acknowledged records survive a crash.
func TestFailedIOIsSticky(t *testing.T) {
	for _, tc := range []struct {
		name string
		inj  vfs.Injector
	}{
		{"write", vfs.FailNth(vfs.Ops(vfs.OpWrite), 6, nil)},
		{"sync", vfs.FailNth(vfs.Ops(vfs.OpSync), 5, nil)},
		{"create", vfs.FailNth(vfs.Ops(vfs.OpCreate), 3, nil)},
		{"syncdir", vfs.FailNth(vfs.Ops(vfs.OpSyncDir), 4, nil)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := vfs.NewMem()
			opts := smallOpts(vfs.NewInjecting(mem, tc.inj))
			l, err := Open(opts, 0, nil)
			if err != nil {
				t.Fatal(err)
			}
			var recs []rec
			acked := 0
			var flushErr error
			for i := 0; i < 2000 && flushErr == nil; i++ {
				body := make([]byte, 50+i%3000) // blobs too
				lsn, err := l.Append(1, body)
				if err != nil {
					flushErr = err
					break
				}
				recs = append(recs, rec{lsn, 1, body})
				if i%5 == 0 {
					if flushErr = l.Flush(); flushErr == nil {
						acked = len(recs)
					}
				}
			}
			if flushErr == nil || !errors.Is(flushErr, vfs.ErrInjected) {
				t.Fatalf("no injected failure surfaced: %v", flushErr)
			}
			if err := l.Err(); !errors.Is(err, vfs.ErrInjected) {
				t.Fatalf("Err() = %v", err)
			}
			if _, err := l.Append(1, []byte("x")); !errors.Is(err, vfs.ErrInjected) {
				t.Fatalf("Append after failure: %v", err)
			}
			if _, err := l.Reserve(1); !errors.Is(err, vfs.ErrInjected) {
				t.Fatalf("Reserve after failure: %v", err)
			}
			if err := l.BeginBatch(); !errors.Is(err, vfs.ErrInjected) {
				t.Fatalf("BeginBatch after failure: %v", err)
			}
			if err := l.Flush(); !errors.Is(err, vfs.ErrInjected) {
				t.Fatalf("Flush after failure: %v", err)
			}
			if st := l.Stable(); acked > 0 && st <= recs[acked-1].lsn {
				t.Fatalf("Stable %d below an acknowledged record", st)
			}
			if err := l.Close(); !errors.Is(err, vfs.ErrInjected) {
				t.Fatalf("Close after failure: %v", err)
			}
			crashed := mem.CrashClone(vfs.CrashOptions{Mode: vfs.DropAllUnsynced})
			l, got := replayAll(t, smallOpts(crashed))
			defer l.Close()
			checkPrefix(t, got, recs, acked)
		})
	}
}

// TestRandomFaultsConcurrent fails random operations under concurrent
// writers: no panic, no hang, and failures surface as errors.
func TestRandomFaultsConcurrent(t *testing.T) {
	seed := testutil.Seed(t)
	for round := range 5 {
		mem := vfs.NewMem()
		inj := vfs.Random(int64(seed)+int64(round), 0.01, vfs.Ops(vfs.OpWrite, vfs.OpSync, vfs.OpCreate, vfs.OpSyncDir, vfs.OpRead))
		l, err := Open(smallOpts(vfs.NewInjecting(mem, inj, vfs.WithTornWrites(int64(seed)))), 0, nil)
		if err != nil {
			continue // the open itself failed: fine
		}
		var wg sync.WaitGroup
		for g := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var mine []LSN
				for i := range 300 {
					lsn, err := l.Append(1, make([]byte, (g*131+i*17)%3000))
					if err != nil {
						if l.Err() == nil {
							t.Errorf("Append failed without a sticky error: %v", err)
						}
						return
					}
					mine = append(mine, lsn)
					if i%10 == 0 && l.Flush() != nil {
						return
					}
					if i%7 == 0 {
						// A failed read is an error, never wrong data.
						_, _, _ = l.Read(mine[i/2])
					}
				}
			}()
		}
		wg.Wait()
		_ = l.Close()
	}
}
