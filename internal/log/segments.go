package log

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
)

// Segment management for log cleaning. The cleaner (the caller) decides
// which segments hold no live record any more; RemoveSegment deletes one
// with the blobs whose pointer records live in it. The caller guarantees
// that no reader can still read it (pagecache epochs) and that recovery
// will not need it (a snapshot at or past its end is durable).

// SegmentSize returns the size of a segment in LSN units (bytes).
func (l *Log) SegmentSize() LSN { return l.segSize }

// Segments returns the numbers of the segment files that exist, in order.
func (l *Log) Segments() ([]uint64, error) {
	names, err := l.fs.List(l.dir)
	if err != nil {
		return nil, fmt.Errorf("log: list %s: %w", l.dir, err)
	}
	var segs []uint64
	for _, name := range names {
		if hex, ok := strings.CutPrefix(name, "seg-"); ok && len(hex) == 16 {
			if n, err := strconv.ParseUint(hex, 16, 64); err == nil {
				segs = append(segs, n)
			}
		}
	}
	sort.Slice(segs, func(i, j int) bool { return segs[i] < segs[j] })
	return segs, nil
}

// BlobBytes returns the total size of the blob files whose pointer records
// lie in segment seg.
func (l *Log) BlobBytes(seg uint64) (int64, error) {
	var total int64
	err := l.eachBlob(seg, func(name string) error {
		fi, err := l.fs.Stat(l.path(name))
		if err != nil {
			return err
		}
		total += fi.Size()
		return nil
	})
	return total, err
}

func (l *Log) eachBlob(seg uint64, fn func(name string) error) error {
	names, err := l.fs.List(l.dir)
	if err != nil {
		return fmt.Errorf("log: list %s: %w", l.dir, err)
	}
	lo, hi := LSN(seg)*l.segSize, LSN(seg+1)*l.segSize
	for _, name := range names {
		if hex, ok := strings.CutPrefix(name, "blob-"); ok && len(hex) == 16 {
			if n, err := strconv.ParseUint(hex, 16, 64); err == nil && LSN(n) >= lo && LSN(n) < hi {
				if err := fn(name); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// ErrSegmentInUse is returned by RemoveSegment for a segment that appends
// may still reach.
var ErrSegmentInUse = errors.New("log: segment in use")

// RemoveSegment deletes the file of segment seg and its blobs, and makes
// the removal durable. Only segments wholly below the written prefix can be
// removed.
func (l *Log) RemoveSegment(seg uint64) error {
	if LSN(seg+1)*l.segSize > l.Written() {
		return fmt.Errorf("%w: segment %d (written up to %d)", ErrSegmentInUse, seg, l.Written())
	}
	l.files.Lock()
	if f := l.files.m[seg]; f != nil {
		_ = f.Close() // read-only by now; the removal is what matters
		delete(l.files.m, seg)
	}
	l.files.Unlock()
	if err := l.eachBlob(seg, func(name string) error {
		if err := l.fs.Remove(l.path(name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}); err != nil {
		return fmt.Errorf("log: removing blobs of segment %d: %w", seg, err)
	}
	if err := l.fs.Remove(l.path(segName(seg))); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("log: removing segment %d: %w", seg, err)
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		return fmt.Errorf("log: sync directory: %w", err)
	}
	l.stats.removed.Add(1)
	return nil
}

// CheckPresent verifies that the records a caller's state names exist on
// disk: for each segment in last, the segment file exists and the record
// at last[seg] reads back whole, its checksum intact (one read per
// segment: a file cut inside that record, or a tail recovered short of
// it, is caught, not only a file too short for its header). Open calls it with the
// newest location that the page table names in each segment, so that a
// missing or cut-short file is reported as corruption at once, not by a
// read much later. Every failure wraps ErrCorrupt.
func (l *Log) CheckPresent(last map[uint64]LSN) error {
	for seg, lsn := range last {
		name := segName(seg)
		fi, err := l.fs.Stat(l.path(name))
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%w: segment file %s is missing (it holds the record at LSN %d)", ErrCorrupt, name, lsn)
		}
		if err != nil {
			return fmt.Errorf("log: stat %s: %w", name, err)
		}
		if need := int64(lsn%l.segSize) + headerSize; fi.Size() < need {
			return fmt.Errorf("%w: segment file %s has %d bytes, cut short of the record at LSN %d", ErrCorrupt, name, fi.Size(), lsn)
		}
		if _, _, err := l.Read(lsn); err != nil {
			if errors.Is(err, ErrCorrupt) {
				return fmt.Errorf("segment file %s: the record at LSN %d does not read back: %w", name, lsn, err)
			}
			return fmt.Errorf("%w: segment file %s: the record at LSN %d does not read back: %w", ErrCorrupt, name, lsn, err)
		}
	}
	return nil
}
