package sled

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/sledgo/sled/internal/node"
	"github.com/sledgo/sled/internal/pagecache"
	"github.com/sledgo/sled/internal/tree"
	"github.com/sledgo/sled/vfs"
)

// DefaultTreeName is the name of the tree that DB embeds.
const DefaultTreeName = "__sled__default"

// MaxTreeNameBytes bounds the length of a tree name.
const MaxTreeNameBytes = 1 << 10

const lockFileName = "LOCK"

// DB is an open database: a set of named trees, one of which (the default
// tree) is embedded so that db.Insert, db.Get, ... work on it.
type DB struct {
	*Tree

	cfg     Config
	fs      vfs.FS
	dir     string
	lock    io.Closer
	pc      *pagecache.Cache
	treeCfg tree.Config

	closed    atomic.Bool
	recovered bool
	ids       atomic.Uint64

	mu struct {
		sync.Mutex
		trees map[string]*Tree // protected by mu
	}
	closeOnce sync.Once
	closeErr  error
}

// Open opens the database in directory path with the default Config.
func Open(path string) (*DB, error) { return Config{Path: path}.Open() }

// Open opens (or creates) the database c describes.
func (c Config) Open() (*DB, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	c = c.EnsureDefaults()
	if !c.Temporary {
		return nil, errors.New("sled: persistent databases are not supported by this build yet; set Config.Temporary")
	}
	db := &DB{cfg: c, fs: c.FS, pc: pagecache.New()}
	db.treeCfg = tree.Config{
		MaxLeafEntries:  c.NodeMaxEntries,
		MaxIndexEntries: 2 * c.NodeMaxEntries,
		MaxNodeBytes:    tree.DefaultConfig.MaxNodeBytes,
	}
	if err := db.openDir(); err != nil {
		return nil, err
	}
	db.mu.trees = map[string]*Tree{}
	t, err := db.createTree(DefaultTreeName)
	if err != nil {
		db.releaseDir()
		return nil, err
	}
	db.Tree = t
	return db, nil
}

func (db *DB) openDir() error {
	c := db.cfg
	dir := c.Path
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
	}
	if db.cfg.Temporary && db.dir != "" {
		err = errors.Join(err, db.fs.RemoveAll(db.dir))
	}
	return err
}

func (db *DB) createTree(name string) (*Tree, error) {
	tt, err := tree.Create(db.pc, db.treeCfg)
	if err != nil {
		return nil, err
	}
	t := &Tree{db: db, name: name, t: tt}
	db.mu.trees[name] = t
	return t, nil
}

// OpenTree returns the tree called name, creating it if absent.
func (db *DB) OpenTree(name string) (*Tree, error) {
	if db.closed.Load() {
		return nil, ErrClosed
	}
	if len(name) > MaxTreeNameBytes {
		return nil, fmt.Errorf("%w: tree name of %d bytes (limit %d)", ErrKeyTooLarge, len(name), MaxTreeNameBytes)
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
	if db.closed.Load() {
		return ErrClosed
	}
	if name == DefaultTreeName {
		return ErrDefaultTree
	}
	db.mu.Lock()
	t, ok := db.mu.trees[name]
	if ok {
		delete(db.mu.trees, name)
	}
	db.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w: %q", ErrTreeNotFound, name)
	}
	t.dropped.Store(true)
	t.subs.closeAll()
	t.t.Drop()
	return nil
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
	slices.SortFunc(ts, func(a, b *Tree) int {
		switch {
		case a.name < b.name:
			return -1
		case a.name > b.name:
			return 1
		}
		return 0
	})
	return ts
}

// Flush makes every write that returned before it was called durable.
func (db *DB) Flush() error {
	if db.closed.Load() {
		return ErrClosed
	}
	return nil
}

// Close flushes and closes the database. It is idempotent; every other
// method returns ErrClosed afterwards. Subscribers' channels are closed.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		db.closed.Store(true)
		for _, t := range db.trees() {
			t.subs.closeAll()
		}
		db.closeErr = db.releaseDir()
	})
	return db.closeErr
}

// GenerateID returns a unique, increasing id.
func (db *DB) GenerateID() (uint64, error) {
	if db.closed.Load() {
		return 0, ErrClosed
	}
	return db.ids.Add(1) - 1, nil
}

// SizeOnDisk returns the bytes used by the database's files.
func (db *DB) SizeOnDisk() (int64, error) {
	if db.closed.Load() {
		return 0, ErrClosed
	}
	names, err := db.fs.List(db.dir)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, n := range names {
		fi, err := db.fs.Stat(db.fs.PathJoin(db.dir, n))
		if err != nil {
			return 0, err
		}
		if !fi.IsDir() {
			total += fi.Size()
		}
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
	if db.closed.Load() {
		return 0, ErrClosed
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
		if err := it.Close(); err != nil {
			return 0, err
		}
	}
	return h.Sum32(), nil
}

// Stats describes the database's state.
type Stats struct {
	Trees         int   // named trees, the default tree included
	Pages         int64 // allocated pages
	CacheBytes    int64 // memory held by cached pages
	PageUpdates   int64 // page state changes
	PageImages    int64 // full page images written
	PageFragments int64 // partial page updates (deltas) written
}

// Stats returns counters of the database.
func (db *DB) Stats() Stats {
	ps := db.pc.Stats()
	return Stats{
		Trees:         len(db.TreeNames()),
		Pages:         ps.Allocated,
		CacheBytes:    ps.MemBytes,
		PageUpdates:   ps.Updates,
		PageImages:    ps.Images,
		PageFragments: ps.Fragments,
	}
}

// Check verifies the structural invariants of every tree and that no page
// is leaked. It must run while no other operation does (tests call it before
// Close; the CLI's check command on an idle database). Errors match
// ErrCorruption.
func (db *DB) Check() error {
	if db.closed.Load() {
		return ErrClosed
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
