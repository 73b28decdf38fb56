package sled

// Opening a database: the directory and its lock, recovery from the newest
// snapshot and the log after it, and the trees.

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/sledgo/sled/internal/codec"
	"github.com/sledgo/sled/internal/log"
	"github.com/sledgo/sled/internal/node"
	"github.com/sledgo/sled/internal/pagecache"
	"github.com/sledgo/sled/internal/tree"
	"github.com/sledgo/sled/vfs"
)

// errNoDatabase is returned by a read-only Open of a directory that holds
// no database; it matches fs.ErrNotExist.
func errNoDatabase(dir string) error {
	return fmt.Errorf("sled: no database at %s (a read-only open creates nothing): %w", dir, fs.ErrNotExist)
}

// openDirReadOnly locks an existing database directory with a shared lock,
// creating and syncing nothing.
func (db *DB) openDirReadOnly() error {
	dir := db.cfg.Path
	if fi, err := db.fs.Stat(dir); err != nil || !fi.IsDir() {
		return errNoDatabase(dir)
	}
	db.dir = dir
	l, err := db.fs.LockShared(db.fs.PathJoin(dir, lockFileName))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return errNoDatabase(dir)
	case errors.Is(err, vfs.ErrLocked):
		return fmt.Errorf("%w: %s (open for writing elsewhere)", ErrLocked, dir)
	case err != nil:
		return fmt.Errorf("sled: locking %s: %w", dir, err)
	}
	db.lock = l
	return nil
}

func (db *DB) openDir() error {
	if db.cfg.ReadOnly {
		return db.openDirReadOnly()
	}
	dir := db.cfg.Path
	if dir == "" {
		d, err := db.fs.MkdirTemp("", "sled-*")
		if err != nil {
			return fmt.Errorf("sled: creating a temporary directory: %w", err)
		}
		dir = d
	} else if err := db.fs.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("sled: creating %s: %w", dir, err)
	}
	db.dir = dir
	// The log directory and the database directory's entry for it must be
	// durable before any log record is.
	if err := db.fs.MkdirAll(db.fs.PathJoin(dir, logDirName), 0o755); err != nil {
		return fmt.Errorf("sled: creating %s: %w", dir, err)
	}
	if err := db.fs.SyncDir(dir); err != nil {
		return fmt.Errorf("sled: syncing %s: %w", dir, err)
	}
	if parent := filepath.Dir(dir); parent != dir {
		if err := db.fs.SyncDir(parent); err != nil {
			return fmt.Errorf("sled: syncing %s: %w", parent, err)
		}
	}
	l, err := db.fs.Lock(db.fs.PathJoin(dir, lockFileName))
	if err != nil {
		if errors.Is(err, vfs.ErrLocked) {
			return fmt.Errorf("%w: %s", ErrLocked, dir)
		}
		return fmt.Errorf("sled: locking %s: %w", dir, err)
	}
	db.lock = l
	return nil
}

func (db *DB) releaseDir() error {
	var err error
	if db.lock != nil {
		err = db.lock.Close()
		db.lock = nil
	}
	if db.cfg.Temporary && db.dir != "" {
		err = errors.Join(err, db.fs.RemoveAll(db.dir))
	}
	return err
}

// recover loads the newest snapshot, replays the log after it, and opens
// the trees.
func (db *DB) recover() error {
	names, err := db.fs.List(db.dir)
	if err != nil {
		return fmt.Errorf("sled: listing %s: %w", db.dir, err)
	}
	var snaps []string
	existing := false
	for _, n := range names {
		switch {
		case n == metaFileName+".tmp" && !db.cfg.ReadOnly:
			if err := db.fs.Remove(db.fs.PathJoin(db.dir, n)); err != nil {
				return fmt.Errorf("sled: removing %s: %w", n, err)
			}
		case strings.HasPrefix(n, snapPrefix) && strings.HasSuffix(n, ".tmp"):
			// A snapshot being written when the process stopped.
			if db.cfg.ReadOnly {
				continue // ignored, left in place
			}
			if err := db.fs.Remove(db.fs.PathJoin(db.dir, n)); err != nil {
				return fmt.Errorf("sled: removing %s: %w", n, err)
			}
		case strings.HasPrefix(n, snapPrefix):
			snaps = append(snaps, n)
			existing = true
		case n == logDirName:
			if segs, err := db.fs.List(db.fs.PathJoin(db.dir, logDirName)); err == nil && len(segs) > 0 {
				existing = true
			}
		}
	}
	if existing && db.cfg.CreateNew {
		return fmt.Errorf("%w: %s", ErrExists, db.dir)
	}
	if !existing && db.cfg.ReadOnly {
		return errNoDatabase(db.dir)
	}
	db.recovered = existing
	if err := db.settleMeta(); err != nil {
		return err
	}
	bufSize := logBufferBytes(db.cfg.CacheCapacityBytes, db.cfg.SegmentSizeBytes)
	// The log's ring is outside the Go heap and counted once (up to an
	// eighth of the capacity; below 16 MiB its 2 MiB floor is a fixed
	// cost); the rest of the capacity is the cache's, collector headroom
	// included.
	ring := min(int64(bufSize*log.DefaultBuffers), db.cfg.CacheCapacityBytes/8)
	db.pc = pagecache.Open(pagecache.Options{
		CacheCapacityBytes: pagecache.NodeBudget(db.cfg.CacheCapacityBytes - ring),
		Compression:        db.cfg.Compression,
		CompressionLevel:   db.cfg.CompressionLevel,
		// HighThroughput spends a few percent of space on images a
		// page-in copies instead of decoding; LowSpace keeps them small.
		FlatImages: db.cfg.Mode == HighThroughput,
		// Page-ins build their nodes outside the Go heap, charged once.
		SlotChargePercent: pagecache.SlotChargePercent(),
	})
	trees := map[string]node.PageID{}
	var from, minEnd log.LSN
	if len(snaps) > 0 {
		sort.Strings(snaps) // fixed-width hex LSNs sort in order
		snap, err := db.readSnapshot(snaps[len(snaps)-1])
		if err != nil {
			return err
		}
		from = log.LSN(snap.LSN)
		minEnd = from
		db.snap.lsn.Store(snap.LSN)
		for _, p := range snap.Pages {
			locs := make([]pagecache.Loc, len(p.Locs))
			for i, l := range p.Locs {
				locs[i].LSN = log.LSN(l)
				if p.Sizes != nil {
					locs[i].Size = p.Sizes[i]
				}
				if l >= uint64(minEnd) {
					minEnd = log.LSN(l) + 1 // the log must hold every record named
				}
			}
			db.pc.RestorePage(p.ID, locs)
		}
		for _, f := range snap.Free {
			db.pc.RestoreFree(f.ID, log.LSN(f.LSN))
		}
		db.pc.SetNext(snap.NextPage)
		for _, t := range snap.Trees {
			trees[t.Name] = t.Root
			db.mu.created[t.Name] = log.LSN(t.CreatedLSN)
		}
		db.ids.high.Store(snap.IDHigh)
	}
	// T7: the redo records of multi-key commits whose end record is not
	// in the log; recovery finishes them below.
	redo := map[log.LSN][]codec.Section{}
	replay := func(lsn log.LSN, kind log.Kind, body []byte) error {
		raw, err := db.pc.Decode(kind, body)
		if err != nil {
			return fmt.Errorf("log record at %d: %w", lsn, err)
		}
		secs, err := codec.DecodeSections(raw)
		if err != nil {
			return fmt.Errorf("log record at %d: %w", lsn, err)
		}
		shares := pagecache.ReplayShares(secs, len(raw), len(body))
		for i, s := range secs {
			switch s.Kind {
			case codec.SecTreeCreate:
				if c, ok := db.mu.created[s.Name]; !ok || c < lsn {
					trees[s.Name] = s.Page
					db.mu.created[s.Name] = lsn
				}
			case codec.SecTreeDrop:
				if c, ok := db.mu.created[s.Name]; ok && c < lsn {
					delete(trees, s.Name)
					delete(db.mu.created, s.Name)
				}
			case codec.SecIDReserve:
				if s.Value > db.ids.high.Load() {
					db.ids.high.Store(s.Value)
				}
			case codec.SecTxRedo:
				redo[lsn] = append(redo[lsn], copyRedo(s)) // body is only valid during the call
			case codec.SecTxEnd:
				delete(redo, log.LSN(s.Value))
			default:
				if err := db.pc.Replay(lsn, shares[i], s); err != nil {
					return err
				}
			}
		}
		return nil
	}
	lg, err := log.Open(log.Options{
		FS:               db.fs,
		Dir:              db.fs.PathJoin(db.dir, logDirName),
		SegmentSizeBytes: db.cfg.SegmentSizeBytes,
		BufferSizeBytes:  bufSize,
		Buffers:          log.DefaultBuffers,
		FlushEvery:       db.cfg.FlushEvery,
		MinEnd:           minEnd,
		ReadOnly:         db.cfg.ReadOnly,
		OnNewSegment: func(uint64) {
			select {
			case db.clean.events <- struct{}{}:
			default:
			}
		},
	}, from, replay)
	if err != nil {
		return openErr(err)
	}
	db.log = lg
	db.pc.FinishRecovery()
	// Every record the page table names must be on disk: a missing or
	// short segment is corruption now, not a failed read later.
	if err := lg.CheckPresent(db.pc.LastBySegment(lg.SegmentSize())); err != nil {
		return openErr(err)
	}
	db.pc.Attach(lg)
	db.ids.next.Store(db.ids.high.Load())
	for name, root := range trees {
		t := db.newTree(name, root)
		t.created = uint64(db.mu.created[name])
		db.mu.trees[name] = t
	}
	if _, ok := db.mu.trees[DefaultTreeName]; !ok {
		if db.cfg.ReadOnly {
			// Created, then stopped before its first record was durable.
			return errNoDatabase(db.dir)
		}
		if _, err := db.createTree(DefaultTreeName); err != nil {
			return err
		}
	}
	db.Tree = db.mu.trees[DefaultTreeName]
	return db.finishCommits(redo)
}

// copyRedo copies a redo section out of the record being replayed.
func copyRedo(s codec.Section) codec.Section {
	ops := make([]node.Delta, len(s.Delta.Ops))
	for i, op := range s.Delta.Ops {
		ops[i] = node.Delta{Kind: op.Kind, Key: clone(op.Key)}
		if op.Kind == node.DeltaSet {
			ops[i].Val = clone(op.Val)
		}
	}
	s.Delta.Ops = ops
	return s
}

// finishCommits applies, in log order, the writes of every multi-key
// commit whose redo record is in the log but whose end record is not
// (T7), and logs their end records. Nothing written after such a commit
// survived (its stripes were held until its end record), so its writes are
// the newest of their keys. A tree missing now, or created again under its
// name (another creation LSN), was dropped after it.
func (db *DB) finishCommits(redo map[log.LSN][]codec.Section) error {
	if len(redo) == 0 {
		return nil
	}
	if db.cfg.ReadOnly {
		return fmt.Errorf("sled: open: the log ends inside the commit of a transaction or batch (redo record at %d); open the database for writing once to finish it", slices.Min(slices.Collect(maps.Keys(redo))))
	}
	for _, lsn := range slices.Sorted(maps.Keys(redo)) {
		for _, s := range redo[lsn] {
			t := db.mu.trees[s.Name]
			if t == nil || t.created != s.Value {
				continue // dropped after the commit (and maybe created again)
			}
			if err := applyRedo(t, s.Delta.Ops); err != nil {
				return openErr(fmt.Errorf("finishing the commit at %d: %w", lsn, err))
			}
		}
		if _, err := db.pc.LogMeta(codec.Section{Kind: codec.SecTxEnd, Value: uint64(lsn)}); err != nil {
			return openErr(err)
		}
	}
	if err := db.log.Flush(); err != nil {
		return openErr(err)
	}
	db.redone = len(redo)
	return nil
}

// openErr marks decoding failures as corruption.
func openErr(err error) error {
	if errors.Is(err, codec.ErrCorrupt) || errors.Is(err, log.ErrCorrupt) {
		return corruption(fmt.Errorf("sled: open: %w", err))
	}
	return fmt.Errorf("sled: open: %w", err)
}

func (db *DB) readSnapshot(name string) (*codec.Snapshot, error) {
	f, err := db.fs.Open(db.fs.PathJoin(db.dir, name))
	if err != nil {
		return nil, fmt.Errorf("sled: opening snapshot: %w", err)
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return nil, err
	}
	snap, err := codec.ReadSnapshot(io.NewSectionReader(f, 0, size), size)
	if err != nil {
		return nil, openErr(fmt.Errorf("snapshot %s: %w", name, err))
	}
	return snap, nil
}

func (db *DB) newTree(name string, root node.PageID) *Tree {
	return &Tree{db: db, name: name, t: tree.Open(db.pc, root, db.treeCfg), salt: rand.Uint64()}
}

// createTree creates and logs a new tree; the caller holds db.mu (or runs
// before the database is shared).
func (db *DB) createTree(name string) (*Tree, error) {
	var created log.LSN
	root, err := db.pc.CreatePage(node.NewLeaf([]byte{}, nil, 0, nil, nil), func(id node.PageID) []codec.Section {
		return []codec.Section{{Kind: codec.SecTreeCreate, Name: name, Page: id}}
	})
	if err != nil {
		return nil, err
	}
	if p, err := db.pc.Load(root); err == nil && len(p.Locs) > 0 {
		created = p.Locs[0].LSN
	}
	t := db.newTree(name, root)
	t.created = uint64(created)
	db.mu.trees[name] = t
	db.mu.created[name] = created
	return t, nil
}

// logBufferBytes is the size of one of the log's I/O buffers for a cache
// capacity: the ring of log.DefaultBuffers buffers takes an eighth of the
// capacity, at least 2 MiB (so that a record of up to 128 KiB, a split's
// images with room to spare, stays in line rather than in a blob file) and
// at most 8 MiB, and a buffer at most half a segment. The ring counts
// against the capacity (README, Memory).
func logBufferBytes(capacity int64, segSize int) int {
	ring := min(max(capacity/8, minLogRing), maxLogRing)
	return int(min(ring/log.DefaultBuffers, int64(segSize/2)))
}

const (
	minLogRing = 2 << 20
	maxLogRing = 8 << 20
)
