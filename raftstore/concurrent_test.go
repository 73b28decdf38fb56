package raftstore_test

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/hashicorp/raft"
)

// TestConcurrent runs writers of disjoint index ranges, a truncator,
// readers and stable-store writers at once (meant for -race). Readers
// check content and that LastIndex never goes back; at the end every log
// not truncated is present.
func TestConcurrent(t *testing.T) {
	s, _ := testStore(t)
	const (
		writers   = 4
		batches   = 60
		perBatch  = 8
		keepLogs  = 50
		stripeLen = 1 << 20
	)
	stripe := func(w int) uint64 { return uint64(w+1) * stripeLen } // writer w's first index
	var writersDone, others sync.WaitGroup
	var done atomic.Bool
	var writerErr sync.Map
	fail := func(format string, args ...any) { writerErr.Store(fmt.Sprintf(format, args...), true) }
	var top atomic.Uint64 // highest acknowledged index of the last writer's stripe
	for w := 0; w < writers; w++ {
		writersDone.Add(1)
		go func() {
			defer writersDone.Done()
			next := stripe(w)
			for b := 0; b < batches; b++ {
				batch := make([]*raft.Log, perBatch)
				for i := range batch {
					batch[i] = crashLog(next + uint64(i))
				}
				if err := s.StoreLogs(batch); err != nil {
					fail("writer %d: %v", w, err)
					return
				}
				next += perBatch
				if w == writers-1 {
					top.Store(next - 1)
				}
			}
		}()
	}
	// The truncator deletes writer 0's old logs, as raft's compaction does.
	var truncated atomic.Uint64
	others.Add(1)
	go func() {
		defer others.Done()
		for !done.Load() {
			var l raft.Log
			first := stripe(0)
			last := truncated.Load()
			for i := max(last+1, first); ; i++ {
				if err := s.GetLog(i+keepLogs, &l); err != nil {
					break
				}
				last = i
			}
			if last > truncated.Load() {
				if err := s.DeleteRange(first, last); err != nil {
					fail("truncator: %v", err)
					return
				}
				truncated.Store(last)
			}
		}
	}()
	// Stable-store writers and readers.
	others.Add(1)
	go func() {
		defer others.Done()
		for i := uint64(0); !done.Load(); i++ {
			if err := s.SetUint64([]byte("term"), i); err != nil {
				fail("SetUint64: %v", err)
				return
			}
			if v, err := s.GetUint64([]byte("term")); err != nil || v < i {
				fail("GetUint64 = %d, %v after SetUint64(%d)", v, err, i)
				return
			}
		}
	}()
	// Readers: LastIndex never goes back; the last writer's acknowledged
	// logs read back right.
	for r := 0; r < 2; r++ {
		others.Add(1)
		go func() {
			defer others.Done()
			var prevLast uint64
			for !done.Load() {
				last, err := s.LastIndex()
				if err != nil || last < prevLast {
					fail("LastIndex = %d (before %d), %v", last, prevLast, err)
					return
				}
				prevLast = last
				if _, err := s.FirstIndex(); err != nil {
					fail("FirstIndex: %v", err)
					return
				}
				if i := top.Load(); i != 0 {
					var l raft.Log
					if err := s.GetLog(i, &l); err != nil || !bytes.Equal(l.Data, crashLog(i).Data) {
						fail("GetLog(%d) of an acknowledged log: %v", i, err)
						return
					}
				}
			}
		}()
	}
	// The writers end on their own; then stop the others.
	writersDone.Wait()
	done.Store(true)
	others.Wait()
	writerErr.Range(func(k, _ any) bool { t.Error(k); return true })
	if t.Failed() {
		return
	}
	for w := 0; w < writers; w++ {
		from := stripe(w)
		if w == 0 {
			from = max(from, truncated.Load()+1)
		}
		for i := from; i < stripe(w)+batches*perBatch; i++ {
			var l raft.Log
			if err := s.GetLog(i, &l); err != nil {
				t.Fatalf("writer %d: GetLog(%d): %v", w, i, err)
			}
		}
	}
	if err := s.GetLog(truncated.Load(), new(raft.Log)); truncated.Load() != 0 && !errors.Is(err, raft.ErrLogNotFound) {
		t.Fatalf("a truncated log is still there: %v", err)
	}
}
