package sled

// Stats and sizes.

import "time"

// SizeOnDisk returns the bytes used by the database's files.
func (db *DB) SizeOnDisk() (int64, error) {
	op, err := db.enter()
	if err != nil {
		return 0, err
	}
	defer db.exit(op)
	return db.dirSize(db.dir)
}

func (db *DB) dirSize(dir string) (int64, error) {
	names, err := db.fs.List(dir)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, n := range names {
		p := db.fs.PathJoin(dir, n)
		fi, err := db.fs.Stat(p)
		if err != nil {
			return 0, err
		}
		if fi.IsDir() {
			s, err := db.dirSize(p)
			if err != nil {
				return 0, err
			}
			total += s
			continue
		}
		total += fi.Size()
	}
	return total, nil
}

// Stats describes the database's state. Byte counts are of the files in
// the database's directory; ratios are 0 when undefined.
type Stats struct {
	Trees int // named trees, the default tree included

	Pages          int64   // allocated pages
	CacheBytes     int64   // memory held by resident pages (and by nodes of pages just evicted that operations in flight may still read)
	PageTableBytes int64   // memory the page table holds for pages not resident; counts against the capacity too
	NodeSlotBytes  int64   // bytes of nodes read from disk, held outside the Go heap: resident, or evicted and waiting until no operation in flight can read them (CacheBytes counts them at 100/(100+GOGC))
	NodeSlotMapped int64   // memory held from the system for such nodes: NodeSlotBytes, and free slots that page-ins keep reusing or up to a sixteenth of the cache (idle ones beyond are given back)
	CacheHits      int64   // page loads served from memory
	CacheMisses    int64   // page loads read from the log
	PageInReads    int64   // log reads of those page loads: one per image or fragment gathered
	CacheHitRatio  float64 // hits / (hits + misses)
	Evictions      int64   // pages evicted from memory
	PageUpdates    int64   // page state changes
	PageImages     int64   // full page images written
	PageFragments  int64   // partial page updates (deltas) written

	LiveBytes          int64   // log bytes that pages still name
	DiskBytes          int64   // bytes of all files (SizeOnDisk)
	SpaceAmplification float64 // DiskBytes / LiveBytes
	UserBytesWritten   int64   // key and value bytes of the writes applied
	EngineBytesWritten int64   // bytes written to log, blobs and snapshots
	WriteAmplification float64 // EngineBytesWritten / UserBytesWritten
	CompressionRatio   float64 // page record bytes before / after compression
	LogSyncs           int64   // fsyncs of the log

	SegmentsActive  int   // the segment being written
	SegmentsSealed  int   // full segments kept
	SegmentsCleaned int64 // segments removed by log cleaning since Open
	PagesRelocated  int64 // pages rewritten by log cleaning since Open
	Consolidated    int64 // pages rewritten as one image since Open because their reads kept gathering 3+ fragments

	BackgroundErrors int64 // rounds of cleaning or snapshotting that failed since Open
	BackgroundError  error // the last such failure, nil if none

	TxCommits         int64         // multi-key commits (transactions and batches that wrote) since Open
	TxConflicts       int64         // transaction runs that found a conflict and ran again (or gave up)
	SnapshotsOpen     int           // open snapshots (Views included)
	OldestSnapshotAge time.Duration // age of the oldest open snapshot; 0 when none
	SnapshotVersions  int64         // old values writes keep for open snapshots
	SnapshotBytes     int64         // memory those versions hold (bounded by Config.MaxSnapshotBytes)
	SnapshotsExpired  int64         // snapshots expired by that bound since Open
	TxFinishedAtOpen  int           // commits Open finished from their redo records (a crash during their install)
}

// Stats returns counters of the database.
func (db *DB) Stats() Stats {
	ps := db.pc.Stats()
	ls := db.log.Stats()
	st := Stats{
		Trees:              len(db.TreeNames()),
		Pages:              ps.Allocated,
		CacheBytes:         ps.MemBytes + ps.SlotWaiting,
		PageTableBytes:     ps.TableBytes,
		NodeSlotBytes:      ps.SlotBytes,
		NodeSlotMapped:     ps.SlotMapped,
		CacheHits:          ps.Hits,
		CacheMisses:        ps.Misses,
		PageInReads:        ps.PageInReads,
		Consolidated:       ps.Consolidated,
		Evictions:          ps.Evictions,
		PageUpdates:        ps.Updates,
		PageImages:         ps.Images,
		PageFragments:      ps.Fragments,
		UserBytesWritten:   db.userBytes.Load(),
		EngineBytesWritten: ls.BytesWritten + ls.BlobBytes + db.snap.bytes.Load(),
		LogSyncs:           ls.Syncs,
		SegmentsCleaned:    db.clean.removed.Load(),
		PagesRelocated:     ps.Relocated,
		BackgroundErrors:   db.bg.errors.Load(),
	}
	if e := db.bg.err.Load(); e != nil {
		st.BackgroundError = *e
	}
	st.TxCommits = db.tx.commits.Load()
	st.TxConflicts = db.tx.conflicts.Load()
	st.TxFinishedAtOpen = db.redone
	vs := &db.tx.vs
	vs.live.Lock()
	st.SnapshotsOpen = len(vs.live.m)
	for s := range vs.live.m {
		st.OldestSnapshotAge = max(st.OldestSnapshotAge, time.Since(s.opened))
	}
	st.SnapshotsExpired = vs.live.expired
	if vs.recording.Load() {
		st.SnapshotVersions, st.SnapshotBytes = vs.count.Load(), vs.held.Load()
	}
	vs.live.Unlock()
	if n := ps.Hits + ps.Misses; n > 0 {
		st.CacheHitRatio = float64(ps.Hits) / float64(n)
	}
	if ps.LoggedBytes > 0 {
		st.CompressionRatio = float64(ps.RawBytes) / float64(ps.LoggedBytes)
	}
	if st.UserBytesWritten > 0 {
		st.WriteAmplification = float64(st.EngineBytesWritten) / float64(st.UserBytesWritten)
	}
	for _, u := range db.pc.UseBySegment(db.log.SegmentSize()) {
		st.LiveBytes += u.Live
	}
	if segs, err := db.log.Segments(); err == nil && len(segs) > 0 {
		st.SegmentsActive = 1
		st.SegmentsSealed = len(segs) - 1
	}
	if d, err := db.dirSize(db.dir); err == nil {
		st.DiskBytes = d
	}
	if st.LiveBytes > 0 {
		st.SpaceAmplification = float64(st.DiskBytes) / float64(st.LiveBytes)
	}
	return st
}
