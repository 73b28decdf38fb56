package sled

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sledgo/sled/internal/codec"
	"github.com/sledgo/sled/internal/log"
	"github.com/sledgo/sled/internal/node"
	"github.com/sledgo/sled/internal/pagecache"
	"github.com/sledgo/sled/internal/tree"
	"github.com/sledgo/sled/vfs"
)

// DefaultTreeName is the name of the tree that DB embeds.
const DefaultTreeName = "__sled__default"

// MaxTreeNameBytes bounds the length of a tree name.
const MaxTreeNameBytes = 1 << 10

const (
	lockFileName = "LOCK"
	logDirName   = "log"
	snapPrefix   = "snap-"
	// idBlock is how many ids GenerateID hands out per durable reservation.
	idBlock = 1 << 20
	// snapshotEveryBytes of log makes the background snapshot run, which
	// bounds how much log Open replays.
	snapshotEveryBytes = 64 << 20
	// cleanQuietDelay is how long after a segment switch a quiet database
	// waits before it cleans.
	cleanQuietDelay = 200 * time.Millisecond
)

// DB is an open database: a set of named trees, one of which (the default
// tree) is embedded so that db.Insert, db.Get, ... work on it.
type DB struct {
	*Tree

	cfg     Config
	fs      vfs.FS
	dir     string
	lock    io.Closer
	log     *log.Log
	pc      *pagecache.Cache
	treeCfg tree.Config
	gate    gate

	closed    atomic.Bool
	poisoned  atomic.Pointer[error]
	recovered bool

	ids       atomic.Uint64 // next id to hand out
	idHigh    atomic.Uint64 // ids below this are durably reserved
	idPending atomic.Uint64 // a reservation logged, maybe not yet durable
	idMu      sync.Mutex    // serializes reservations

	mu struct {
		sync.Mutex
		trees   map[string]*Tree   // protected by mu
		created map[string]log.LSN // LSN of each tree's creation record; protected by mu
	}
	snapMu    sync.Mutex // one snapshot at a time
	snapLSN   atomic.Uint64
	snapBytes atomic.Int64  // bytes written to snapshot files
	cleanMu   sync.Mutex    // one cleaning round at a time
	segEvents chan struct{} // the log created a segment
	userBytes atomic.Int64  // key and value bytes of the writes applied
	cleaned   atomic.Int64  // segments removed by the cleaner
	noClean   atomic.Bool   // tests: the background cleaner is off
	stop      chan struct{}
	bg        sync.WaitGroup
	closeMu   sync.Mutex
	closeErr  error
	isClosed  bool
}

// Open opens the database in directory path with the default Config.
func Open(path string) (*DB, error) { return Config{Path: path}.Open() }

// Open opens (or creates) the database c describes, recovering it from its
// snapshot and log when it exists.
func (c Config) Open() (*DB, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	c = c.EnsureDefaults()
	db := &DB{cfg: c, fs: c.FS, stop: make(chan struct{}), segEvents: make(chan struct{}, 1)}
	db.treeCfg = tree.Config{
		MaxLeafEntries:  c.NodeMaxEntries,
		MaxIndexEntries: 2 * c.NodeMaxEntries,
		MaxNodeBytes:    tree.DefaultConfig.MaxNodeBytes,
	}
	db.mu.trees = map[string]*Tree{}
	db.mu.created = map[string]log.LSN{}
	if err := db.openDir(); err != nil {
		return nil, err
	}
	if err := db.recover(); err != nil {
		db.shutdown()
		db.releaseDir()
		return nil, err
	}
	db.bg.Add(1)
	go db.background()
	return db, nil
}

func (db *DB) openDir() error {
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
		case strings.HasPrefix(n, snapPrefix) && strings.HasSuffix(n, ".tmp"):
			// A snapshot being written when the process stopped.
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
	db.recovered = existing
	db.pc = pagecache.Open(pagecache.Options{
		CacheCapacityBytes: db.cfg.CacheCapacityBytes,
		Compression:        db.cfg.Compression,
		CompressionLevel:   db.cfg.CompressionLevel,
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
		db.snapLSN.Store(snap.LSN)
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
		db.idHigh.Store(snap.IDHigh)
	}
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
				if s.Value > db.idHigh.Load() {
					db.idHigh.Store(s.Value)
				}
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
		FlushEvery:       db.cfg.FlushEvery,
		MinEnd:           minEnd,
		OnNewSegment: func(uint64) {
			select {
			case db.segEvents <- struct{}{}:
			default:
			}
		},
	}, from, replay)
	if err != nil {
		return openErr(err)
	}
	db.log = lg
	db.pc.FinishRecovery()
	db.pc.Attach(lg)
	db.ids.Store(db.idHigh.Load())
	for name, root := range trees {
		db.mu.trees[name] = db.newTree(name, root)
	}
	if _, ok := db.mu.trees[DefaultTreeName]; !ok {
		if _, err := db.createTree(DefaultTreeName); err != nil {
			return err
		}
	}
	db.Tree = db.mu.trees[DefaultTreeName]
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
	return &Tree{db: db, name: name, t: tree.Open(db.pc, root, db.treeCfg), gate: &db.gate}
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
	db.mu.trees[name] = t
	db.mu.created[name] = created
	return t, nil
}

func (db *DB) usable() error {
	if db.closed.Load() {
		return ErrClosed
	}
	if p := db.poisoned.Load(); p != nil {
		return *p
	}
	return nil
}

// poison makes every later call fail with err (see ApplyBatch).
func (db *DB) poison(err error) {
	e := fmt.Errorf("sled: database failed and must be reopened: %w", err)
	db.poisoned.CompareAndSwap(nil, &e)
}

// OpenTree returns the tree called name, creating it if absent.
func (db *DB) OpenTree(name string) (*Tree, error) {
	if err := db.usable(); err != nil {
		return nil, err
	}
	if len(name) > MaxTreeNameBytes {
		return nil, fmt.Errorf("%w: tree name of %d bytes (limit %d)", ErrKeyTooLarge, len(name), MaxTreeNameBytes)
	}
	db.mu.Lock()
	t, ok := db.mu.trees[name]
	db.mu.Unlock()
	if ok {
		return t, nil
	}
	// Lock order: the gate, then mu (as snapshot does).
	c := db.gate.enterWrite()
	defer db.gate.exitWrite(c)
	db.mu.Lock()
	defer db.mu.Unlock()
	if t, ok := db.mu.trees[name]; ok {
		return t, nil
	}
	return db.createTree(name)
}

// DropTree removes the tree called name and all its contents. Handles to it
// return ErrTreeNotFound afterwards; OpenTree(name) makes a new, empty tree.
func (db *DB) DropTree(name string) error {
	if err := db.usable(); err != nil {
		return err
	}
	if name == DefaultTreeName {
		return ErrDefaultTree
	}
	// Lock order: the gate, then mu (as snapshot does).
	c := db.gate.enterWrite()
	defer db.gate.exitWrite(c)
	db.mu.Lock()
	defer db.mu.Unlock()
	t, ok := db.mu.trees[name]
	if !ok {
		return fmt.Errorf("%w: %q", ErrTreeNotFound, name)
	}
	t.dropped.Store(true) // new operations on t fail; those in flight finish
	if err := db.dropPages(t); err != nil {
		t.dropped.Store(false) // nothing changed
		return err
	}
	delete(db.mu.trees, name)
	delete(db.mu.created, name)
	t.subs.closeAll()
	return nil
}

// maxDropAttempts bounds how often DropTree walks a tree that writers
// already in flight keep changing.
const maxDropAttempts = 1 << 12

// dropPages frees every page of t and logs the drop, in one transition:
// after a crash the tree is either whole or gone.
func (db *DB) dropPages(t *Tree) error {
	for range maxDropAttempts {
		refs, err := t.t.Pages()
		if errors.Is(err, tree.ErrChanged) {
			runtime.Gosched()
			continue
		}
		if err != nil {
			return t.mapErr(err)
		}
		ok, err := db.pc.FreeTogether(refs, codec.Section{Kind: codec.SecTreeDrop, Name: t.name})
		if err != nil {
			return t.mapErr(err)
		}
		if ok {
			return nil
		}
		runtime.Gosched() // a writer in flight changed a page: walk again
	}
	return fmt.Errorf("sled: dropping tree %q: writers in flight kept changing it", t.name)
}

// TreeNames returns the names of all trees, the default tree included,
// sorted.
func (db *DB) TreeNames() []string {
	db.mu.Lock()
	defer db.mu.Unlock()
	names := make([]string, 0, len(db.mu.trees))
	for n := range db.mu.trees {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (db *DB) trees() []*Tree {
	db.mu.Lock()
	defer db.mu.Unlock()
	ts := make([]*Tree, 0, len(db.mu.trees))
	for _, t := range db.mu.trees {
		ts = append(ts, t)
	}
	slices.SortFunc(ts, func(a, b *Tree) int { return strings.Compare(a.name, b.name) })
	return ts
}

// Flush makes every write that returned before it was called durable. Many
// goroutines flushing at once share one fsync (group commit).
func (db *DB) Flush() error {
	if err := db.usable(); err != nil {
		return err
	}
	return db.log.Flush()
}

// Close flushes and closes the database: it writes a snapshot so that the
// next Open replays little, and releases the directory. It is idempotent;
// every other method returns ErrClosed afterwards. Subscribers' channels are
// closed.
func (db *DB) Close() error {
	db.closeMu.Lock()
	defer db.closeMu.Unlock()
	if db.isClosed {
		return db.closeErr
	}
	db.isClosed = true
	db.closed.Store(true)
	for _, t := range db.trees() {
		t.subs.closeAll()
	}
	var err error
	if !db.cfg.Temporary && db.poisoned.Load() == nil && db.log.Err() == nil {
		err = db.snapshot()
	}
	db.closeErr = errors.Join(err, db.shutdown(), db.releaseDir())
	return db.closeErr
}

// shutdown stops background work and closes the log and the cache.
func (db *DB) shutdown() error {
	select {
	case <-db.stop:
	default:
		close(db.stop)
	}
	db.bg.Wait()
	var err error
	if db.log != nil {
		err = db.log.Close()
	}
	if db.pc != nil {
		db.pc.Close()
	}
	return err
}

// background cleans the log and writes snapshots. It runs when the log
// creates a segment (at once every second segment, else once the database
// is quiet for cleanQuietDelay), and sleeps otherwise: an idle database uses
// no CPU.
func (db *DB) background() {
	defer db.bg.Done()
	var quiet <-chan time.Time
	pending := 0
	for {
		select {
		case <-db.stop:
			return
		case <-db.segEvents:
			pending++
			if pending < 2 {
				quiet = time.After(cleanQuietDelay)
				continue
			}
		case <-quiet:
		}
		quiet, pending = nil, 0
		if db.log.Err() != nil {
			continue
		}
		if !db.noClean.Load() {
			if err := db.clean(); err != nil {
				continue // the log's sticky error reaches the writers
			}
		}
		if !db.cfg.Temporary && uint64(db.log.Tail())-db.snapLSN.Load() >= snapshotEveryBytes {
			db.snapshot() // a failure leaves the older snapshot in place
		}
	}
}

// snapshot writes the page table's locations to a new snapshot file. The
// scan runs as a writer (no batch is half applied), from the LSN below which
// every reservation is complete; the records it names are made durable
// before the file is, and replay from that LSN is idempotent (pagecache P9).
func (db *DB) snapshot() error {
	_, err := db.writeSnapshot()
	return err
}

// writeSnapshot is snapshot, returning what it wrote.
func (db *DB) writeSnapshot() (*codec.Snapshot, error) {
	db.snapMu.Lock()
	defer db.snapMu.Unlock()
	snap := &codec.Snapshot{}
	c := db.gate.enterWrite()
	from := db.log.CompletePrefix()
	snap.LSN = uint64(from)
	snap.NextPage = db.pc.SnapshotPages(func(id node.PageID, locs []pagecache.Loc) {
		e := codec.PageEntry{ID: id, Locs: make([]uint64, len(locs)), Sizes: make([]uint32, len(locs))}
		for i, l := range locs {
			e.Locs[i], e.Sizes[i] = uint64(l.LSN), l.Size
		}
		snap.Pages = append(snap.Pages, e)
	}, func(id node.PageID, lsn log.LSN) {
		snap.Free = append(snap.Free, codec.FreeEntry{ID: id, LSN: uint64(lsn)})
	})
	db.mu.Lock()
	for name, t := range db.mu.trees {
		snap.Trees = append(snap.Trees, codec.TreeEntry{Name: name, Root: t.t.Root(), CreatedLSN: uint64(db.mu.created[name])})
	}
	db.mu.Unlock()
	snap.IDHigh = max(db.idHigh.Load(), db.idPending.Load())
	tail := db.log.Tail()
	db.gate.exitWrite(c)
	// Every record the scan saw is below tail; wait for the reservations
	// in flight to complete, then make them durable.
	for db.log.CompletePrefix() < tail && db.log.Err() == nil {
		time.Sleep(50 * time.Microsecond)
	}
	if err := db.log.Flush(); err != nil {
		return nil, err
	}
	name := fmt.Sprintf("%s%016x", snapPrefix, snap.LSN)
	path := db.fs.PathJoin(db.dir, name)
	f, err := db.fs.Create(path + ".tmp")
	if err != nil {
		return nil, err
	}
	cw := &countingWriter{w: f}
	err = codec.WriteSnapshot(cw, snap)
	db.snapBytes.Add(cw.n)
	if err == nil {
		err = f.Sync()
	}
	err = errors.Join(err, f.Close())
	if err == nil {
		err = db.fs.Rename(path+".tmp", path)
	}
	if err == nil {
		err = db.fs.SyncDir(db.dir)
	}
	if err != nil {
		db.fs.Remove(path + ".tmp")
		return nil, fmt.Errorf("sled: writing snapshot: %w", err)
	}
	db.snapLSN.Store(snap.LSN)
	if names, err := db.fs.List(db.dir); err == nil {
		for _, n := range names {
			if strings.HasPrefix(n, snapPrefix) && n != name {
				db.fs.Remove(db.fs.PathJoin(db.dir, n))
			}
		}
	}
	return snap, nil
}

// GenerateID returns a unique, increasing id, also across restarts and
// crashes: ids are reserved in durable blocks.
func (db *DB) GenerateID() (uint64, error) {
	if err := db.usable(); err != nil {
		return 0, err
	}
	for {
		n := db.ids.Load()
		if n < db.idHigh.Load() {
			if db.ids.CompareAndSwap(n, n+1) {
				return n, nil
			}
			continue
		}
		if err := db.reserveIDs(); err != nil {
			return 0, err
		}
	}
}

func (db *DB) reserveIDs() error {
	db.idMu.Lock()
	defer db.idMu.Unlock()
	if db.ids.Load() < db.idHigh.Load() {
		return nil
	}
	high := db.idHigh.Load() + idBlock
	// A snapshot taken while the reservation's record is in flight must
	// record the new high-water: its replay would start past the record.
	db.idPending.Store(high)
	c := db.gate.enterWrite()
	_, err := db.pc.LogMeta(codec.Section{Kind: codec.SecIDReserve, Value: high})
	db.gate.exitWrite(c)
	if err == nil {
		err = db.log.Flush()
	}
	if err != nil {
		return err
	}
	db.idHigh.Store(high)
	return nil
}

// SizeOnDisk returns the bytes used by the database's files.
func (db *DB) SizeOnDisk() (int64, error) {
	if err := db.usable(); err != nil {
		return 0, err
	}
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

// WasRecovered reports whether Open found an existing database.
func (db *DB) WasRecovered() bool { return db.recovered }

// Checksum returns a CRC-32 (IEEE) over the contents of all trees, in name
// order: for each tree its name, then each entry's key and value, each
// preceded by its length as 4 little-endian bytes. It is computed while
// writes may run, so it describes a consistent state only when none do.
func (db *DB) Checksum() (uint32, error) {
	if err := db.usable(); err != nil {
		return 0, err
	}
	h := crc32.NewIEEE()
	var l [4]byte
	put := func(b []byte) {
		n := len(b)
		l[0], l[1], l[2], l[3] = byte(n), byte(n>>8), byte(n>>16), byte(n>>24)
		h.Write(l[:])
		h.Write(b)
	}
	for _, t := range db.trees() {
		put([]byte(t.name))
		it := t.Iter()
		for it.Next() {
			put(it.Key())
			put(it.Value())
		}
		if err := it.Err(); err != nil {
			return 0, err
		}
		it.Close()
	}
	return h.Sum32(), nil
}

// Stats describes the database's state. Byte counts are of the files in
// the database's directory; ratios are 0 when undefined.
type Stats struct {
	Trees int // named trees, the default tree included

	Pages         int64   // allocated pages
	CacheBytes    int64   // memory held by resident pages
	CacheHits     int64   // page loads served from memory
	CacheMisses   int64   // page loads read from the log
	CacheHitRatio float64 // hits / (hits + misses)
	Evictions     int64   // pages evicted from memory
	PageUpdates   int64   // page state changes
	PageImages    int64   // full page images written
	PageFragments int64   // partial page updates (deltas) written

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
}

// Stats returns counters of the database.
func (db *DB) Stats() Stats {
	ps := db.pc.Stats()
	ls := db.log.Stats()
	st := Stats{
		Trees:              len(db.TreeNames()),
		Pages:              ps.Allocated,
		CacheBytes:         ps.MemBytes,
		CacheHits:          ps.Hits,
		CacheMisses:        ps.Misses,
		Evictions:          ps.Evictions,
		PageUpdates:        ps.Updates,
		PageImages:         ps.Images,
		PageFragments:      ps.Fragments,
		UserBytesWritten:   db.userBytes.Load(),
		EngineBytesWritten: ls.BytesWritten + ls.BlobBytes + db.snapBytes.Load(),
		LogSyncs:           ls.Syncs,
		SegmentsCleaned:    db.cleaned.Load(),
		PagesRelocated:     ps.Relocated,
	}
	if n := ps.Hits + ps.Misses; n > 0 {
		st.CacheHitRatio = float64(ps.Hits) / float64(n)
	}
	if ps.LoggedBytes > 0 {
		st.CompressionRatio = float64(ps.RawBytes) / float64(ps.LoggedBytes)
	}
	if st.UserBytesWritten > 0 {
		st.WriteAmplification = float64(st.EngineBytesWritten) / float64(st.UserBytesWritten)
	}
	for _, b := range db.pc.LiveBySegment(db.log.SegmentSize()) {
		st.LiveBytes += b
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

// Check verifies the structural invariants of every tree and that no page
// is leaked. It must run while no other operation does (tests call it before
// Close; the CLI's check command on an idle database). Errors match
// ErrCorruption.
func (db *DB) Check() error {
	if err := db.usable(); err != nil {
		return err
	}
	reachable := int64(0)
	for _, t := range db.trees() {
		if _, err := t.t.Check(func(node.PageID) { reachable++ }); err != nil {
			return corruption(fmt.Errorf("tree %q: %w", t.name, err))
		}
	}
	if got := db.pc.Stats().Allocated; got != reachable {
		return corruption(fmt.Errorf("%d pages allocated but %d reachable", got, reachable))
	}
	return nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
