package log

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/sledgo/sled/vfs"
)

// noBatch marks that no batch is open during a scan.
const noBatch = ^LSN(0)

// dirState is what recovery found in the directory.
type dirState struct {
	segs  map[uint64]bool
	blobs []LSN
}

// recover finds the valid end of the log, replays it from `from`, and
// cleans the tail (L11). It returns the end, where appends continue.
func (l *Log) recover(from LSN, replay func(LSN, Kind, []byte) error) (LSN, error) {
	names, err := l.fs.List(l.dir)
	if err != nil {
		return 0, fmt.Errorf("log: list %s: %w", l.dir, err)
	}
	st := dirState{segs: map[uint64]bool{}}
	for _, name := range names {
		if hex, ok := strings.CutPrefix(name, "seg-"); ok && len(hex) == 16 {
			if n, err := strconv.ParseUint(hex, 16, 64); err == nil {
				st.segs[n] = true
			}
		} else if hex, ok := strings.CutPrefix(name, "blob-"); ok && len(hex) == 16 {
			if n, err := strconv.ParseUint(hex, 16, 64); err == nil {
				st.blobs = append(st.blobs, LSN(n))
			}
		}
	}
	// One segment's worth of scratch, outside the heap: recovery's
	// largest allocation is returned to the system, not left for the
	// collector, when Open is done with it.
	buf, mapped := allocBuffer(int(l.segSize))
	defer freeBuffer(buf, mapped)
	end, err := l.scan(from, &st, buf)
	if err != nil {
		return 0, err
	}
	if end < l.minEnd {
		return 0, fmt.Errorf("%w: the log ends at LSN %d, before LSN %d that a snapshot has seen durable", ErrCorrupt, end, l.minEnd)
	}
	if replay != nil {
		if err := l.replay(from, end, buf, replay); err != nil {
			return 0, err
		}
	}
	if l.readOnly {
		return end, nil // leave the tail and the files as they are
	}
	if err := l.cleanTail(end, &st, buf); err != nil {
		return 0, err
	}
	if err := l.syncRecovered(from, end, &st); err != nil {
		return 0, err
	}
	return end, nil
}

// syncRecovered syncs every segment that holds replayed records: a process
// that was killed may have left them written but not synced (the OS still
// has them), and Open reports all of them as durable (L6, L7).
func (l *Log) syncRecovered(from, end LSN, st *dirState) error {
	if end == from {
		return nil
	}
	last := uint64((end - 1) / l.segSize)
	for seg := uint64(from / l.segSize); seg <= last; seg++ {
		if !st.segs[seg] {
			continue
		}
		f := l.files.m[seg]
		if f == nil {
			var err error
			if f, err = l.fs.OpenReadWrite(l.path(segName(seg))); err != nil {
				return fmt.Errorf("log: open %s: %w", segName(seg), err)
			}
			defer f.Close() // synced below; only the sync matters
		}
		if err := f.Sync(); err != nil {
			return fmt.Errorf("log: sync %s: %w", segName(seg), err)
		}
	}
	return nil
}

// readSegment reads the file of seg into buf (len segSize); a missing part
// (a file cut short) reads as zeros.
func (l *Log) readSegment(seg uint64, buf []byte) error {
	name := segName(seg)
	f, err := l.fs.Open(l.path(name))
	if err != nil {
		return fmt.Errorf("log: open %s: %w", name, err)
	}
	defer f.Close() // read-only
	n, err := f.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("log: read %s: %w", name, err)
	}
	clear(buf[n:])
	return nil
}

// scan validates the log from `from` and returns its valid end: the first
// position holding no valid record (or a missing segment), moved back to
// the start of a batch left open. It fails with ErrCorrupt if a later
// segment holds a valid first record: by L7 the invalid position cannot be
// a torn tail then.
func (l *Log) scan(from LSN, st *dirState, buf []byte) (LSN, error) {
	pos := from
	batch := noBatch
	segLimit := int(l.segSize) - headerSize
	for {
		seg := uint64(pos / l.segSize)
		if !st.segs[seg] {
			return l.tailAt(pos, seg, batch, st, buf, errors.New("segment file missing"))
		}
		if err := l.readSegment(seg, buf); err != nil {
			return 0, err
		}
		off := int(pos % l.segSize)
	records:
		for {
			kind, body, n, err := DecodeRecord(buf[off:], pos)
			if err != nil {
				return l.tailAt(pos, seg, batch, st, buf, err)
			}
			if (kind == KindSegmentEnd && off > segLimit) || (kind != KindSegmentEnd && off+n > segLimit) {
				return 0, fmt.Errorf("%w: record at LSN %d crosses the end of segment %d", ErrCorrupt, pos, seg)
			}
			switch kind {
			case KindSegmentEnd:
				pos = LSN(seg+1) * l.segSize
				break records
			case KindBatchStart:
				if batch != noBatch {
					return 0, fmt.Errorf("%w: batch at LSN %d starts inside the batch at LSN %d", ErrCorrupt, pos, batch)
				}
				batch = pos
			case KindBatchEnd:
				// An end without a start: `from` was inside the batch.
				batch = noBatch
			case KindBlob:
				if _, err := decodeBlobPointer(body, pos); err != nil {
					return 0, err
				}
			}
			off += n
			pos += LSN(n)
		}
	}
}

// tailAt decides whether the invalid position pos in segment seg is the
// torn tail of the log or corruption.
func (l *Log) tailAt(pos LSN, seg uint64, batch LSN, st *dirState, buf []byte, why error) (LSN, error) {
	for _, s := range slices.Sorted(maps.Keys(st.segs)) {
		if s <= seg {
			continue
		}
		if err := l.readSegment(s, buf); err != nil {
			return 0, err
		}
		if _, _, _, err := DecodeRecord(buf, LSN(s)*l.segSize); err == nil {
			return 0, fmt.Errorf("%w: no valid record at LSN %d (%v), but segment %d after it holds records",
				ErrCorrupt, pos, why, s)
		}
	}
	if batch != noBatch {
		return batch, nil // L12: an unfinished batch is dropped as a whole
	}
	return pos, nil
}

// replay calls fn for every caller record in [from, end).
func (l *Log) replay(from, end LSN, buf []byte, fn func(LSN, Kind, []byte) error) error {
	pos := from
	for pos < end {
		seg := uint64(pos / l.segSize)
		if err := l.readSegment(seg, buf); err != nil {
			return err
		}
		off := int(pos % l.segSize)
		for pos < end && uint64(pos/l.segSize) == seg {
			kind, body, n, err := DecodeRecord(buf[off:], pos)
			if err != nil {
				return fmt.Errorf("log: record changed during recovery: %w", err)
			}
			switch {
			case kind == KindSegmentEnd:
				n = int(LSN(seg+1)*l.segSize - pos)
			case kind == KindBlob:
				ptr, err := decodeBlobPointer(body, pos)
				if err != nil {
					return err
				}
				data, err := l.readBlob(pos, ptr)
				if err != nil {
					return err
				}
				if err := fn(pos, ptr.kind, data); err != nil {
					return err
				}
			case kind.user():
				if err := fn(pos, kind, body); err != nil {
					return err
				}
			}
			off += n
			pos += LSN(n)
		}
	}
	return nil
}

// cleanTail makes the log end at end for good (L11): it removes the later
// segments and the blobs at or after end (first, so that a crash in the
// middle never leaves a valid later segment behind a zeroed tail, which
// the next recovery would call corruption), then zeroes the tail segment
// after end and syncs it.
func (l *Log) cleanTail(end LSN, st *dirState, buf []byte) error {
	tailSeg := uint64(end / l.segSize)
	removed := false
	for s := range st.segs {
		if s > tailSeg {
			if err := l.fs.Remove(l.path(segName(s))); err != nil {
				return fmt.Errorf("log: remove stale %s: %w", segName(s), err)
			}
			removed = true
		}
	}
	for _, b := range st.blobs {
		if b >= end {
			if err := l.fs.Remove(l.path(blobName(b))); err != nil {
				return fmt.Errorf("log: remove stale %s: %w", blobName(b), err)
			}
			removed = true
		}
	}
	if removed {
		if err := l.fs.SyncDir(l.dir); err != nil {
			return fmt.Errorf("log: sync directory: %w", err)
		}
	}
	l.io.seg = tailSeg
	if !st.segs[tailSeg] {
		return nil // created by the first write into it
	}
	name := segName(tailSeg)
	f, err := l.fs.OpenReadWrite(l.path(name))
	if err != nil {
		return fmt.Errorf("log: open %s: %w", name, err)
	}
	if err := l.zeroTail(f, int(end%l.segSize), buf); err != nil {
		_ = f.Close() // the error that matters is err
		return fmt.Errorf("log: clean tail of %s: %w", name, err)
	}
	l.io.file = f
	l.files.m[tailSeg] = f
	return nil
}

// zeroTail zeroes f from off to the end of the segment (only as far as it
// holds non-zero bytes), gives it the full segment size, and syncs it if
// it changed anything.
func (l *Log) zeroTail(f vfs.File, off int, buf []byte) error {
	size, err := f.Size()
	if err != nil {
		return err
	}
	n, err := f.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	last := -1
	for i := n - 1; i >= off; i-- {
		if buf[i] != 0 {
			last = i
			break
		}
	}
	changed := false
	if last >= 0 {
		zeros := buf[off : last+1]
		clear(zeros)
		if _, err := f.WriteAt(zeros, int64(off)); err != nil {
			return err
		}
		changed = true
	}
	if size != int64(l.segSize) {
		if err := f.Truncate(int64(l.segSize)); err != nil {
			return err
		}
		changed = true
	}
	if changed {
		if err := f.Sync(); err != nil {
			return err
		}
	}
	return nil
}
