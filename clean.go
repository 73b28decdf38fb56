package sled

import (
	"errors"
	"sort"
	"time"

	"github.com/sledgo/sled/internal/codec"
	"github.com/sledgo/sled/internal/log"
	"github.com/sledgo/sled/internal/pagecache"
)

// errClosing ends a cleaning round that Close interrupted.
var errClosing = errors.New("sled: closing")

// Log cleaning (segment GC).
//
// The log only grows; pages are rewritten at its tail, so old segments fill
// with dead fragments. A cleaning round:
//
//  1. measures, for every segment, the bytes pages still name in it and
//     what relocating those pages would write (pagecache.UseBySegment: a
//     relocation writes a page whole, so a segment holding small fragments
//     of large pages is expensive however dead it is);
//  2. runs only while the log's space amplification (bytes written to the
//     segments on disk over live bytes) is above the Mode's target:
//     LowSpace lowSpaceTarget, HighThroughput highThroughputTarget.
//     Cleaning below the target would
//     trade write amplification for space nobody asked for;
//  3. picks victims among the segments wholly written, by cost-benefit
//     (1-u)*age/(1+u) (LFS), u the relocation cost over the segment size:
//     cheap, old segments first, none whose relocation would write more
//     than maxRelocate of what it frees, and only as many as bring the
//     projected amplification under the target;
//  4. rewrites every page with a fragment in a victim as one full image at
//     the tail (pagecache.Relocate), as a writer (never inside a batch), one
//     page at a time so that foreground writers interleave;
//  5. writes a snapshot, which flushes the log first: after it, recovery
//     neither replays nor pages in anything from the victims;
//  6. waits until every operation that could have read a victim has ended
//     (pagecache.WaitReaders, epochs), then removes the victims.
//
// A crash at any point leaves either the old snapshot (which still names the
// victims, present until step 5) or the new one (which names none of them).

const (
	lowSpaceTarget       = 1.25
	highThroughputTarget = 2.0
	// maxRewrite: a victim's relocation may be expected to write at most
	// this much of the segment it frees (C4): each victim must shrink the
	// files by 1/16 of a segment, or a round that ends just over the
	// target would pick full segments, write them again, seal a new
	// segment, and so start the next round forever. The expectation
	// (SegmentUse.Rewrite) can be wrong; a round that did not shrink the
	// files by minGain per victim stops cleaning until users write again.
	maxRewrite         = 15.0 / 16
	minGain            = 1.0 / 16
	maxVictimsPerRound = 16
	// paceBytes: after relocating this much the cleaner pauses for
	// pacePause, so that relocations (which share the log and its
	// fsyncs with foreground writes) reach durable writers as a trickle,
	// not as bursts that swell the fsync they wait for (raftstore's
	// StoreLogs(64) p99 went from 2.3 to 8 ms with unpaced rounds). It
	// bounds cleaning to paceBytes/pacePause (256 MiB/s).
	paceBytes = 256 << 10
	pacePause = time.Millisecond
)

// othersChanges counts the page changes that relocations did not make:
// writes, structure changes, consolidations and frees.
func othersChanges(st pagecache.Stats) int64 { return st.Updates + st.FreedTotal - st.Relocated }

// cleanRound runs one cleaning round.
func (db *DB) cleanRound() error {
	db.clean.mu.Lock()
	defer db.clean.mu.Unlock()
	if db.clean.stalled && db.log.Tail() == db.clean.stalledAt {
		return nil // C4: nothing logged since a round that gained nothing
	}
	db.clean.stalled = false
	segs, err := db.log.Segments()
	if err != nil {
		return err
	}
	segSize := db.log.SegmentSize()
	written := db.log.Written()
	use := db.pc.UseBySegment(segSize)
	target := lowSpaceTarget
	if db.cfg.Mode == HighThroughput {
		target = highThroughputTarget
	}
	var live int64
	for _, u := range use {
		live += u.Live
	}
	// The space to judge is what the log has written: the unwritten tail
	// of the segment being written is no garbage, and counting it (up to a
	// whole segment) made small databases of live data clean nearly full
	// segments for nothing.
	var disk int64
	for _, seg := range segs {
		disk += max(min(int64(segSize), int64(written)-int64(seg)*int64(segSize)), 0)
	}
	if live == 0 || float64(disk) <= target*float64(live) {
		return nil // within the target: nothing to gain
	}
	type cand struct {
		seg   uint64
		cost  int64
		score float64
	}
	var cands []cand
	newest := uint64(written / segSize)
	for _, seg := range segs {
		if log.LSN(seg+1)*segSize > written {
			continue // still being written
		}
		u := float64(use[seg].Rewrite) / float64(segSize)
		if u > maxRewrite {
			continue
		}
		age := float64(newest - seg)
		cands = append(cands, cand{seg, use[seg].Rewrite, (1 - u) * age / (1 + u)})
	}
	if len(cands) == 0 {
		return nil
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].score > cands[j].score })
	// As many victims as bring the projected amplification under the
	// target: each frees its segment and writes its relocation cost.
	n := 0
	for n < len(cands) && n < maxVictimsPerRound && float64(disk) > target*float64(live) {
		disk -= int64(segSize) - cands[n].cost
		n++
	}
	cands = cands[:n]
	victims := map[uint64]bool{}
	for _, c := range cands {
		victims[c.seg] = true
	}
	st := db.pc.Stats()
	logged := st.LoggedBytes
	startLogged, others := logged, othersChanges(st)
	for _, id := range db.pc.PagesIn(segSize, victims) {
		err := db.pc.Relocate(id, segSize, victims)
		if err != nil {
			return err
		}
		if now := db.pc.Stats().LoggedBytes; now-logged >= paceBytes {
			logged = now
			select {
			case <-db.bg.stop:
				return errClosing
			case <-time.After(pacePause):
			}
		}
	}
	// Recovery must not need the victims: a durable snapshot past them.
	// A temporary database never recovers, a flush is enough for readers.
	var snap *codec.Snapshot
	if db.cfg.Temporary {
		err = db.log.Flush()
	} else {
		snap, err = db.writeSnapshot()
	}
	if err != nil {
		return err
	}
	if !db.pc.WaitReaders(db.bg.stop) {
		return errClosing
	}
	// C2: remove only what neither the snapshot recovery will read nor any
	// page state names. A relocation can skip a page whose free was staged
	// and then rolled back; such a segment waits for the next round.
	named := db.pc.Named(segSize, victims)
	if snap != nil {
		for _, p := range snap.Pages {
			for _, l := range p.Locs {
				if seg := l / uint64(segSize); victims[seg] {
					named[seg] = true
				}
			}
		}
	}
	removed := 0
	for seg := range victims {
		if named[seg] || (snap != nil && seg >= snap.LSN/uint64(segSize)) {
			// named, or at or after where recovery starts (T7: a
			// commit in flight keeps the replay start at its redo)
			continue
		}
		if err := db.log.RemoveSegment(seg); err != nil {
			return err
		}
		db.clean.removed.Add(1)
		removed++
	}
	// C4: a round that removed its victims must have shrunk the files by
	// minGain of a segment per victim; one that did not (its Rewrite
	// estimates were low) stops cleaning until anything more is logged. A
	// round that left named victims in place (C2: a free not yet decided,
	// a reader) is retried as it was: they become removable without a
	// write, and a round that relocates nothing seals no segment.
	// Only a round that alone changed pages can judge: others' records
	// count in what the log took meanwhile.
	st = db.pc.Stats()
	wrote := st.LoggedBytes - startLogged
	if gain := int64(removed)*int64(segSize) - wrote; removed == len(victims) && othersChanges(st) == others && float64(gain) < minGain*float64(removed)*float64(segSize) {
		db.clean.stalled, db.clean.stalledAt = true, db.log.Tail()
	}
	return nil
}
