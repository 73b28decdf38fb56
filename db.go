package sled

import (
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sledgo/sled/internal/codec"
	"github.com/sledgo/sled/internal/lfdelay"
	"github.com/sledgo/sled/internal/log"
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
//
// Its state is grouped by what protects it: fields set by Open and only
// read afterwards; atomics, each saying what it counts; and structs with
// their own mutex, whose fields say "protected by".
type DB struct {
	*Tree

	// Set by Open, read-only afterwards.
	cfg       Config
	fs        vfs.FS
	dir       string
	lock      io.Closer
	log       *log.Log
	pc        *pagecache.Cache
	treeCfg   tree.Config
	recovered bool
	redone    int // commits Open finished from their redo records (T7)

	tx  txState // concurrency control: stripes, clock, versions (txcommit.go)
	ops opGroup // operations in flight, drained by Close (ops.go)

	// The lifecycle: closed is set once, by Close, before it drains ops;
	// poisoned holds the first error that makes the database unusable.
	closed   atomic.Bool
	poisoned atomic.Pointer[error]

	ids struct {
		next    atomic.Uint64 // next id to hand out
		high    atomic.Uint64 // ids below this are durably reserved
		pending atomic.Uint64 // a reservation logged, maybe not yet durable
		mu      sync.Mutex    // serializes reservations
	}

	mu struct {
		sync.Mutex
		trees   map[string]*Tree   // protected by mu
		created map[string]log.LSN // LSN of each tree's creation record; protected by mu
	}

	snap struct {
		mu    sync.Mutex    // held by the snapshot being written: one at a time
		lsn   atomic.Uint64 // replay start of the newest snapshot file
		bytes atomic.Int64  // bytes written to snapshot files
	}

	clean struct {
		mu      sync.Mutex    // held by the cleaning round: one at a time
		events  chan struct{} // the log created a segment
		removed atomic.Int64  // segments removed by the cleaner
		off     atomic.Bool   // tests: the background cleaner is off
		// stalledAt is the log's tail after a round that failed to
		// shrink the files by its minimum gain (C4); rounds wait for the
		// log to grow past it (any write, batch, drop) before they try
		// again. Guarded by mu.
		stalledAt log.LSN
		stalled   bool
	}

	bg struct {
		stop   chan struct{} // closed by shutdown
		wg     sync.WaitGroup
		err    atomic.Pointer[error] // the last error of background work
		errors atomic.Int64          // background rounds that failed
	}

	closing struct {
		sync.Mutex
		done bool  // Close ran; protected by closing
		err  error // what it returned; protected by closing
	}

	userBytes atomic.Int64 // key and value bytes of the writes applied
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
	db := &DB{cfg: c, fs: c.FS}
	db.bg.stop = make(chan struct{})
	db.clean.events = make(chan struct{}, 1)
	db.treeCfg = tree.Config{
		MaxLeafEntries:  c.NodeMaxEntries,
		MaxIndexEntries: 2 * c.NodeMaxEntries,
		MaxNodeBytes:    tree.DefaultConfig.MaxNodeBytes,
	}
	db.mu.trees = map[string]*Tree{}
	db.mu.created = map[string]log.LSN{}
	db.tx.seed = maphash.MakeSeed()
	db.tx.vs.gens.Store(&[]*vgen{{}})
	db.tx.vs.limit = c.MaxSnapshotBytes
	if err := db.openDir(); err != nil {
		return nil, err
	}
	if err := db.recover(); err != nil {
		db.shutdown()
		db.releaseDir()
		return nil, err
	}
	if !c.ReadOnly {
		db.bg.wg.Add(2)
		go db.background()
		go db.consolidator()
	}
	return db, nil
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

// OpenTree returns the tree called name, creating it if absent (on a
// read-only database, an absent tree is an error matching ErrReadOnly).
func (db *DB) OpenTree(name string) (*Tree, error) {
	op, err := db.enter()
	if err != nil {
		return nil, err
	}
	defer db.exit(op)
	if len(name) > MaxTreeNameBytes {
		return nil, fmt.Errorf("%w: tree name of %d bytes (limit %d)", ErrKeyTooLarge, len(name), MaxTreeNameBytes)
	}
	db.mu.Lock()
	t, ok := db.mu.trees[name]
	db.mu.Unlock()
	if ok {
		return t, nil
	}
	if db.cfg.ReadOnly {
		return nil, fmt.Errorf("%w: tree %q does not exist and cannot be created", ErrReadOnly, name)
	}
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
	op, err := db.enterWrite()
	if err != nil {
		return err
	}
	defer db.exit(op)
	if name == DefaultTreeName {
		return ErrDefaultTree
	}
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
		ok, err := db.dropPagesOnce(t)
		if err != nil || ok {
			return err
		}
	}
	return fmt.Errorf("sled: dropping tree %q: writers in flight kept changing it", t.name)
}

// dropPagesOnce walks t and frees what it found, pinned throughout: the
// states the walk read stay readable for FreeTogether's comparisons even
// when writers replace them meanwhile (pagecache P17). ok == false: a
// writer changed a page; walk again.
func (db *DB) dropPagesOnce(t *Tree) (ok bool, err error) {
	g := db.pc.Pin()
	defer g.Unpin()
	refs, err := t.t.Pages()
	if errors.Is(err, tree.ErrChanged) {
		lfdelay.Yield("drop.walk")
		return false, nil
	}
	if err != nil {
		return false, t.mapErr(err)
	}
	ok, err = db.pc.FreeTogether(refs, tree.SameLinks, codec.Section{Kind: codec.SecTreeDrop, Name: t.name})
	if err != nil {
		return false, t.mapErr(err)
	}
	if !ok {
		lfdelay.Yield("drop.retry") // a writer in flight changed a page: walk again
	}
	return ok, nil
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
	op, err := db.enter()
	if err != nil {
		return err
	}
	defer db.exit(op)
	return db.log.Flush()
}

// Close flushes and closes the database: it writes a snapshot so that the
// next Open replays little, and releases the directory. It is idempotent;
// every other method returns ErrClosed afterwards. Subscribers' channels are
// closed. Operations running when Close is called finish first (a write
// that returns nil is in the log that Close flushes); operations that start
// after it fail with ErrClosed.
func (db *DB) Close() error {
	db.closing.Lock()
	defer db.closing.Unlock()
	if db.closing.done {
		return db.closing.err
	}
	db.closing.done = true
	db.closed.Store(true) // later operations fail with ErrClosed
	for _, t := range db.trees() {
		t.subs.closeAll() // releases writers blocked on a full subscriber
	}
	db.ops.drain() // the operations in flight finish against an open log
	var err error
	if !db.cfg.Temporary && !db.cfg.ReadOnly && db.poisoned.Load() == nil && db.log.Err() == nil {
		err = db.snapshot()
	}
	db.closing.err = errors.Join(err, db.shutdown(), db.releaseDir())
	return db.closing.err
}

// shutdown stops background work and closes the log and the cache.
func (db *DB) shutdown() error {
	select {
	case <-db.bg.stop:
	default:
		close(db.bg.stop)
	}
	db.bg.wg.Wait()
	var err error
	if db.log != nil {
		err = db.log.Close()
	}
	if db.pc != nil {
		db.pc.Close()
	}
	return err
}

// WasRecovered reports whether Open found an existing database.
func (db *DB) WasRecovered() bool { return db.recovered }
