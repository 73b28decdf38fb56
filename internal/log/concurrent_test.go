package log

import (
	"bytes"
	"encoding/binary"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sledgo/sled/internal/testutil"
	"github.com/sledgo/sled/vfs"
)

// TestConcurrentAppendFlushRead runs writers that append, flush and read
// back their own records, then checks that reopening replays everything.
func TestConcurrentAppendFlushRead(t *testing.T) {
	seed := testutil.Seed(t)
	mem := vfs.NewMem()
	opts := smallOpts(mem)
	opts.FlushEvery = time.Millisecond // the background flush races too
	l, _ := replayAll(t, opts)
	const writers, perWriter = 8, 300
	recs := make([][]rec, writers)
	acked := make([]int, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := newRand(seed + uint64(w))
			for i := range perWriter {
				kind, body := randRecord(rng)
				// Tag the body with writer and sequence number.
				body = binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(body, uint32(w)), uint32(i))
				var lsn LSN
				if rng.IntN(4) == 0 { // the Reserve/Complete path
					r, err := l.Reserve(len(body))
					if err != nil {
						t.Errorf("Reserve: %v", err)
						return
					}
					r.Complete(kind, body)
					lsn = r.LSN()
				} else {
					var err error
					if lsn, err = l.Append(kind, body); err != nil {
						t.Errorf("Append: %v", err)
						return
					}
				}
				recs[w] = append(recs[w], rec{lsn, kind, body})
				if rng.IntN(20) == 0 {
					if err := l.Flush(); err != nil {
						t.Errorf("Flush: %v", err)
						return
					}
					acked[w] = len(recs[w])
					if s := l.Stable(); s <= lsn {
						t.Errorf("Stable %d after Flush, not past %d", s, lsn)
					}
				}
				if rng.IntN(5) == 0 {
					r := recs[w][rng.IntN(len(recs[w]))]
					k, b, err := l.Read(r.lsn)
					if err != nil || k != r.kind || !bytes.Equal(b, r.body) {
						t.Errorf("Read(%d) = %d, %d bytes, %v; want %v", r.lsn, k, len(b), err, r)
						return
					}
				}
				if p, tail := l.CompletePrefix(), l.Tail(); p > tail || l.Stable() > l.Written() {
					t.Errorf("CompletePrefix %d > Tail %d, or Stable > Written", p, tail)
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		l.Close()
		return
	}
	// A crash now keeps at least every acknowledged record.
	crashed := mem.CrashClone(vfs.CrashOptions{Mode: vfs.DropAllUnsynced})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		fs   *vfs.MemFS
		all  bool
	}{{"crash", crashed, false}, {"clean", mem, true}} {
		l, got := replayAll(t, smallOpts(tc.fs))
		byLSN := map[LSN]rec{}
		for i, r := range got {
			if i > 0 && r.lsn <= got[i-1].lsn {
				t.Fatalf("%s: replay out of order at %d", tc.name, i)
			}
			byLSN[r.lsn] = r
		}
		for w := range writers {
			n := acked[w]
			if tc.all {
				n = len(recs[w])
			}
			for _, r := range recs[w][:n] {
				g, ok := byLSN[r.lsn]
				if !ok || g.kind != r.kind || !bytes.Equal(g.body, r.body) {
					t.Fatalf("%s: writer %d record %v not replayed intact (found %v)", tc.name, w, r, ok)
				}
			}
		}
		if tc.all && len(got) != writers*perWriter {
			t.Fatalf("%s: replayed %d records, want %d", tc.name, len(got), writers*perWriter)
		}
		l.Close()
	}
}

// TestGroupCommit checks that concurrent Flush callers share syncs.
func TestGroupCommit(t *testing.T) {
	var syncs atomic.Int64
	slow := vfs.InjectorFunc(func(op vfs.Op, path string) error {
		if op == vfs.OpSync {
			syncs.Add(1)
			time.Sleep(time.Millisecond) // a disk that takes its time
		}
		return nil
	})
	fs := vfs.NewInjecting(vfs.NewMem(), slow)
	opts := smallOpts(fs)
	opts.SegmentSizeBytes = 1 << 20
	opts.BufferSizeBytes = 64 << 10
	l, _ := replayAll(t, opts)
	defer l.Close()
	const goroutines, rounds = 64, 10
	before := l.Stats().Syncs
	var wg sync.WaitGroup
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				if _, err := l.Append(1, make([]byte, 100)); err != nil {
					t.Error(err)
					return
				}
				if err := l.Flush(); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	calls := int64(goroutines * rounds)
	n := l.Stats().Syncs - before
	t.Logf("%d Flush calls, %d log syncs (%d syncs seen by the FS)", calls, n, syncs.Load())
	if n == 0 || n*4 > calls {
		t.Fatalf("%d syncs for %d concurrent Flush calls: want at most a quarter", n, calls)
	}
}

// TestRingFullNoDeadlock appends large records from many goroutines with a
// two-buffer ring, so that reservers wait for buffers often.
func TestRingFullNoDeadlock(t *testing.T) {
	opts := smallOpts(vfs.NewMem())
	opts.Buffers = 2
	opts.BufferSizeBytes = 1 << 10
	l, _ := replayAll(t, opts)
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				if _, err := l.Append(1, make([]byte, (g*31+i)%480)); err != nil {
					t.Error(err)
					return
				}
				if i%50 == 0 {
					if err := l.Flush(); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("stats %+v", l.Stats())
	l, got := replayAll(t, opts)
	defer l.Close()
	if len(got) != 16*200 {
		t.Fatalf("replayed %d, want %d", len(got), 16*200)
	}
}
