package sled

import (
	"errors"
	"sort"

	"github.com/sledgo/sled/internal/codec"
	"github.com/sledgo/sled/internal/log"
)

// errClosing ends a cleaning round that Close interrupted.
var errClosing = errors.New("sled: closing")

// Log cleaning (segment GC).
//
// The log only grows; pages are rewritten at its tail, so old segments fill
// with dead fragments. A cleaning round:
//
//  1. measures the live bytes of every segment (the fragments that pages
//     still name, pagecache.LiveBySegment);
//  2. picks victims among the segments wholly written, by cost-benefit
//     (1-u)*age/(1+u) (LFS), u the live fraction: cheap, old segments first.
//     Mode sets how dead a segment must be: LowSpace cleans segments up to
//     lowSpaceMaxLive live, HighThroughput only up to highThroughputMaxLive;
//  3. rewrites every page with a fragment in a victim as one full image at
//     the tail (pagecache.Relocate), as a writer (never inside a batch), one
//     page at a time so that foreground writers interleave;
//  4. writes a snapshot, which flushes the log first: after it, recovery
//     neither replays nor pages in anything from the victims;
//  5. waits until every operation that could have read a victim has ended
//     (pagecache.WaitReaders, epochs), then removes the victims.
//
// A crash at any point leaves either the old snapshot (which still names the
// victims, present until step 5) or the new one (which names none of them).

const (
	lowSpaceMaxLive       = 0.80
	highThroughputMaxLive = 0.35
	maxVictimsPerRound    = 16
)

// cleanRound runs one cleaning round.
func (db *DB) cleanRound() error {
	db.clean.mu.Lock()
	defer db.clean.mu.Unlock()
	segs, err := db.log.Segments()
	if err != nil {
		return err
	}
	segSize := db.log.SegmentSize()
	written := db.log.Written()
	live := db.pc.LiveBySegment(segSize)
	maxLive := lowSpaceMaxLive
	if db.cfg.Mode == HighThroughput {
		maxLive = highThroughputMaxLive
	}
	type cand struct {
		seg   uint64
		score float64
	}
	var cands []cand
	newest := uint64(written / segSize)
	for _, seg := range segs {
		if log.LSN(seg+1)*segSize > written {
			continue // still being written
		}
		u := float64(live[seg]) / float64(segSize)
		if u > maxLive {
			continue
		}
		age := float64(newest - seg)
		cands = append(cands, cand{seg, (1 - u) * age / (1 + u)})
	}
	if len(cands) == 0 {
		return nil
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].score > cands[j].score })
	if len(cands) > maxVictimsPerRound {
		cands = cands[:maxVictimsPerRound]
	}
	victims := map[uint64]bool{}
	for _, c := range cands {
		victims[c.seg] = true
	}
	for _, id := range db.pc.PagesIn(segSize, victims) {
		c := db.gate.enterWrite()
		err := db.pc.Relocate(id, segSize, victims)
		db.gate.exitWrite(c)
		if err != nil {
			return err
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
	for seg := range victims {
		if named[seg] {
			continue
		}
		if err := db.log.RemoveSegment(seg); err != nil {
			return err
		}
		db.clean.removed.Add(1)
	}
	return nil
}
