package log

import (
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/sledgo/sled/internal/invariants"
	"github.com/sledgo/sled/internal/lfdelay"
	"github.com/sledgo/sled/vfs"
)

// segName returns the file name of segment seg.
func segName(seg uint64) string { return fmt.Sprintf("seg-%016x", seg) }

// blobName returns the file name of the blob of the pointer record at lsn.
func blobName(lsn LSN) string { return fmt.Sprintf("blob-%016x", uint64(lsn)) }

func (l *Log) path(name string) string { return l.fs.PathJoin(l.dir, name) }

// ioLoop is the I/O goroutine: it writes handed-off buffers strictly in
// generation order (L5) and syncs when a Flush waits (L6).
func (l *Log) ioLoop() {
	defer close(l.ioDone)
	for {
		if l.err() == nil {
			l.writeReady()
			// Seal the partial buffer a waiter needs, now that the
			// previous sync is over: everyone who flushed meanwhile
			// shares it.
			if want := max(l.wanted.Load(), l.wantedW.Load()); want > l.written.Load() {
				l.trySeal(LSN(want))
				l.writeReady()
			}
		}
		if l.err() == nil && l.wanted.Load() > l.stable.Load() && l.gather() {
			// Seal what the gathered waiters wrote, then sync once for
			// them all.
			if want := l.wanted.Load(); want > l.written.Load() {
				l.trySeal(LSN(want))
				l.writeReady()
			}
		}
		if l.err() == nil {
			st, w := l.stable.Load(), l.written.Load()
			if l.wanted.Load() > st && w > st {
				// Group commit: one sync covers every buffer written so
				// far, for every waiter.
				l.syncNow()
				continue
			}
		}
		select {
		case <-l.kick:
		case <-l.stopIO:
			return
		}
	}
}

// gather delays the next sync until as many Flush calls have arrived
// since the last sync started as waited when it ended (io.peak), or for at
// most the last sync's duration (capped at maxGather), whichever comes
// first, writing buffers as they fill meanwhile. It reports whether it
// waited.
//
// Without it, writers that a sync wakes find the next sync already
// started for those that arrived during the last one, and wait for the
// one after: with many writers, each sync covers about half of them.
// Waiting for the woken ones to come back (they each apply a write and
// flush again, microseconds of CPU) lets one sync cover them all; a lone
// writer, or writers that stop, cost no wait or one bounded wait.
func (l *Log) gather() bool {
	peak := l.io.peak
	arrived := func() int64 { return l.syncArrivals.Load() - l.io.arrivals }
	if peak <= 1 || arrived() >= peak {
		return false
	}
	timer := time.NewTimer(min(l.io.lastSync, maxGather))
	defer timer.Stop()
	for arrived() < peak && l.err() == nil {
		select {
		case <-l.kick:
			l.writeReady()
			if want := l.wantedW.Load(); want > l.written.Load() {
				l.trySeal(LSN(want)) // a Read waits: do not make it wait for the sync
				l.writeReady()
			}
		case <-timer.C:
			return true
		case <-l.stopIO:
			return true
		}
	}
	return true
}

// maxGather bounds how long gather delays a sync.
const maxGather = 2 * time.Millisecond

// writeReady writes every buffer that is ready, in order.
func (l *Log) writeReady() {
	for l.err() == nil {
		slot := int(l.io.gen % uint64(l.nbuf))
		b := l.slots[slot].Load()
		if b == nil || b.gen != l.io.gen || !b.ready.Load() {
			return
		}
		n := b.hdr.Load() & offsetMask // final: b is sealed (L3)
		end := b.base + LSN(n)
		if b.segEnd {
			n += headerSize
			end = end - end%l.segSize + l.segSize
		}
		if n > 0 {
			if err := l.writeAt(b.data[:n], b.base); err != nil {
				l.fail(err)
				return
			}
			l.stats.written.Add(int64(n))
		}
		l.io.gen++
		l.ring.Lock()
		l.ring.busy[slot] = false // L9: the slot's memory may be reused
		l.ring.cond.Broadcast()
		l.ring.Unlock()
		// L5: Written covers b only now that its write has returned.
		if invariants.Enabled && uint64(b.base) != l.written.Load() {
			invariants.Failf("L5", "buffer at %d written after Written %d (out of LSN order)", b.base, l.written.Load())
		}
		lfdelay.Point("log.written")
		l.written.Store(uint64(end))
		l.writtenN.broadcast()
	}
}

// writeAt writes p at lsn, in the segment of lsn. A write to a new segment
// first syncs the previous one (L7) and creates the new file.
func (l *Log) writeAt(p []byte, lsn LSN) error {
	seg := uint64(lsn / l.segSize)
	if l.io.file == nil || l.io.seg != seg {
		if l.io.file != nil && l.written.Load() > l.stable.Load() {
			// L7: the previous segment, segment-end record included, is
			// durable before the first byte of the next is written.
			l.syncNow()
			if err := l.err(); err != nil {
				return err
			}
		}
		f, err := l.createSegment(seg)
		if err != nil {
			return err
		}
		l.io.seg, l.io.file, l.io.zeroed = seg, f, 0
	}
	off := int64(lsn % l.segSize)
	if _, err := l.io.file.WriteAt(p, off); err != nil {
		return fmt.Errorf("write %s: %w", segName(seg), err)
	}
	return l.zeroAhead(off+int64(len(p)), len(p))
}

// zeroAheadBytes is how far past a small write the I/O goroutine writes
// zeros into the segment (zeroAhead).
const zeroAheadBytes = 256 << 10

// zeroPage is what zeroAhead writes: never written, so in the binary's
// zeroed data, which the kernel maps to its shared zero page (no memory).
var zeroPage [zeroChunkBytes]byte

// zeroAhead writes zeros into the segment from end, the end of the n
// bytes just written, to zeroAheadBytes past it (or the segment's end) when
// a small write reached space not written since the segment file was
// opened. A segment's untouched space has no blocks yet (createSegment;
// unwritten extents when it was preallocated): the first sync after each
// write into it must also commit the allocation to the file system's
// journal, which made a durable
// write of 2.5 KB about 25% slower (ext4, 2-core CI machine: 160 against
// 210-240 us per pwrite+fdatasync). Written once per 256 KiB by one
// write, the space costs one allocation per 256 KiB, in the sync of the
// write that crossed into it; that sync also writes the zeros, so the
// step is a trade between throughput and tail latency: with 1 MiB, raft
// StoreLogs(64)'s p99 was 1.2 ms against a p50 of 0.22 ms, with 256 KiB
// 0.7 ms, at the same throughput. Large writes (loads, full buffers) skip
// it: they convert their own space in bulk. The zeros lie beyond every written
// record, where recovery expects zeros or garbage it treats as the end, so
// a crash at any point loses nothing (L11 zeroes the tail again).
func (l *Log) zeroAhead(end int64, n int) error {
	if end <= l.io.zeroed {
		return nil
	}
	if n >= zeroAheadBytes/4 {
		l.io.zeroed = end
		return nil
	}
	to := min(int64(l.segSize), end+zeroAheadBytes)
	// In page-sized writes: the kernel may cache one large write in one
	// large folio (Linux 6.16+ on ext4), and every later small write into
	// it would then dirty, and be accounted as writing, the whole folio
	// (/proc/self/io counted 2 MiB per 500-byte durable write after one
	// 8 MiB write, though the device wrote ~5 KB).
	for at := end; at < to; {
		chunk := min(zeroChunkBytes-at%zeroChunkBytes, to-at)
		if _, err := l.io.file.WriteAt(zeroPage[:chunk], at); err != nil {
			return fmt.Errorf("write %s: %w", segName(l.io.seg), err)
		}
		at += chunk
	}
	l.io.zeroed = to
	return nil
}

// zeroChunkBytes is the size of zeroAhead's writes: a page.
const zeroChunkBytes = 4 << 10

// syncNow syncs the current segment file and advances Stable to what was
// written before the sync started (L6).
func (l *Log) syncNow() {
	w := l.written.Load()
	l.io.arrivals = l.syncArrivals.Load()
	if l.io.file != nil {
		start := time.Now()
		if err := l.io.file.Sync(); err != nil {
			l.fail(fmt.Errorf("sync %s: %w", segName(l.io.seg), err))
			return
		}
		l.io.lastSync = time.Since(start)
		l.stats.syncs.Add(1)
	}
	// Everyone waiting now (those this sync covers included: they have
	// not woken yet) is a writer that will flush again soon: the next
	// sync waits for as many (gather).
	l.io.peak = l.syncWaiters.Load()
	if invariants.Enabled && w < l.stable.Load() {
		invariants.Failf("L6", "Stable would go back from %d to %d", l.stable.Load(), w)
	}
	lfdelay.Point("log.stable")
	l.stable.Store(w) // L6: everything below w was written before the sync
	l.stableN.broadcast()
}

// createSegment creates the file of seg at its full size and makes it and
// its directory entry durable, so that overwriting it later needs only a
// data sync.
func (l *Log) createSegment(seg uint64) (_ vfs.File, err error) {
	name := l.path(segName(seg))
	f, err := l.fs.Create(name)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", segName(seg), err)
	}
	defer func() {
		if err != nil {
			_ = f.Close() // the error that matters is err
		}
	}()
	// The file gets its full size but no blocks (no fallocate): blocks
	// are allocated as the log writes, and zeroAhead allocates them 256
	// KiB ahead of small writes, so that a sync rarely commits an
	// allocation. Preallocating the whole segment made the one being
	// written take a full segment on disk from its first record (8 MiB by
	// default: 43% of a 19 MB database), for the same durable-write
	// latency (BenchmarkDurableInsert, 1 and 64 goroutines, alternating).
	if err = f.Truncate(int64(l.segSize)); err != nil {
		return nil, fmt.Errorf("size %s: %w", segName(seg), err)
	}
	if err = f.Sync(); err != nil {
		return nil, fmt.Errorf("sync %s: %w", segName(seg), err)
	}
	if err = l.fs.SyncDir(l.dir); err != nil {
		return nil, fmt.Errorf("sync directory: %w", err)
	}
	l.stats.segments.Add(1)
	l.files.Lock()
	if old := l.files.m[seg]; old != nil {
		_ = old.Close() // a read-only handle; the new file replaces it
	}
	l.files.m[seg] = f
	l.files.Unlock()
	if l.onSeg != nil {
		l.onSeg(seg)
	}
	return f, nil
}

// segFile returns an open handle of the file of seg, for reading.
func (l *Log) segFile(seg uint64) (vfs.File, error) {
	l.files.RLock()
	f := l.files.m[seg]
	l.files.RUnlock()
	if f != nil {
		return f, nil
	}
	l.files.Lock()
	defer l.files.Unlock()
	if f := l.files.m[seg]; f != nil {
		return f, nil
	}
	if l.closed.Load() {
		return nil, ErrClosed
	}
	f, err := l.fs.Open(l.path(segName(seg)))
	if errors.Is(err, fs.ErrNotExist) {
		// A record that was named (the caller read its LSN from the page
		// table) lives in a segment the directory lacks.
		return nil, fmt.Errorf("%w: segment file %s is missing", ErrCorrupt, segName(seg))
	}
	if err != nil {
		return nil, fmt.Errorf("log: open %s: %w", segName(seg), err)
	}
	l.files.m[seg] = f
	return f, nil
}
