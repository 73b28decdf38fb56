package raftstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/hashicorp/raft"
	"github.com/sledgo/sled"
	"github.com/sledgo/sled/vfs"
)

// Names of the two sled trees a Store keeps. The logs never share a tree
// with the stable keys, so FirstIndex and LastIndex are the first and last
// keys of their tree.
const (
	LogsTreeName   = "raft-logs"
	StableTreeName = "raft-stable"
)

// DefaultCacheCapacityBytes is the cache bound used when
// Options.CacheCapacityBytes is 0. Raft reads mostly the newest entries, so
// a small cache serves it.
const DefaultCacheCapacityBytes = 64 << 20

var (
	// ErrKeyNotFound is returned by Get and GetUint64 for a key that was
	// never Set. Its text is "not found", which hashicorp/raft compares
	// against (as it does for raft-boltdb's error of the same name).
	ErrKeyNotFound = errors.New("not found")
	// ErrNilLog is returned by StoreLog and StoreLogs when given a nil
	// *raft.Log; nothing is written.
	ErrNilLog = errors.New("raftstore: nil log")
)

// Options describes a Store to open. The zero value of every field but Path
// selects a documented default.
type Options struct {
	// Path is the directory of the sled database (created if absent).
	Path string
	// CacheCapacityBytes bounds the memory sled uses for cached pages;
	// 0 = DefaultCacheCapacityBytes.
	CacheCapacityBytes int64
	// NoSync makes StoreLog, StoreLogs, DeleteRange, Set and SetUint64
	// return without waiting for an fsync; they become durable within
	// FlushEvery, and a crash may lose the newest of them (never a middle
	// one: what survives is a prefix). Unsafe for raft, as raft-boltdb's
	// NoSync is; for tests and benchmarks. Default false: every write is
	// durable when it returns.
	NoSync bool
	// FlushEvery is sled's background flush period; 0 = sled's default.
	// It matters only with NoSync.
	FlushEvery time.Duration
	// FS is the file system; nil = the operating system. Tests use
	// vfs.NewMem for crash and corruption scenarios.
	FS vfs.FS
}

// Store is a raft.LogStore and raft.StableStore on a sled database: one
// *Store serves as both. Every method is safe for concurrent use.
//
// Logs live in the tree LogsTreeName under their 8-byte big-endian index,
// so the tree's order is the index order; the value is the versioned
// encoding described in encoding.go. Stable keys live in StableTreeName.
//
// Guarantees (without NoSync): when StoreLog, StoreLogs, DeleteRange, Set
// or SetUint64 returns nil, its effect survives a crash; StoreLogs and
// DeleteRange are atomic, also across a crash; after a crash the store holds
// a prefix of the completed writes, so LastIndex never goes back below an
// acknowledged index. A corrupt log is reported as an error matching
// sled.ErrCorruption, never returned as a log.
type Store struct {
	db     *sled.DB
	logs   *sled.Tree
	stable *sled.Tree
	noSync bool
}

var (
	_ raft.LogStore    = (*Store)(nil)
	_ raft.StableStore = (*Store)(nil)
)

// Open opens (or creates) the store in directory path with default
// options: every write is durable when it returns.
func Open(path string) (*Store, error) {
	return OpenWithOptions(Options{Path: path})
}

// OpenWithOptions opens (or creates) the store that o describes. A store
// held open by another Store (in this process or another) fails with an
// error matching sled.ErrLocked; corrupt files fail with one matching
// sled.ErrCorruption.
func OpenWithOptions(o Options) (*Store, error) {
	if o.Path == "" {
		return nil, fmt.Errorf("raftstore: Options.Path is empty: %w", sled.ErrInvalidConfig)
	}
	if o.CacheCapacityBytes == 0 {
		o.CacheCapacityBytes = DefaultCacheCapacityBytes
	}
	db, err := sled.Config{
		Path:               o.Path,
		CacheCapacityBytes: o.CacheCapacityBytes,
		FlushEvery:         o.FlushEvery,
		FS:                 o.FS,
	}.Open()
	if err != nil {
		return nil, fmt.Errorf("raftstore: opening %s: %w", o.Path, err)
	}
	s := &Store{db: db, noSync: o.NoSync}
	if s.logs, err = db.OpenTree(LogsTreeName); err == nil {
		s.stable, err = db.OpenTree(StableTreeName)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("raftstore: opening %s: %w", o.Path, err)
	}
	return s, nil
}

// Close flushes and closes the store. It is idempotent; other methods
// return an error matching sled.ErrClosed afterwards.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("raftstore: close: %w", err)
	}
	return nil
}

// Sync makes every write that returned before it durable. Needed only with
// NoSync.
func (s *Store) Sync() error {
	if err := s.db.Flush(); err != nil {
		return fmt.Errorf("raftstore: sync: %w", err)
	}
	return nil
}

// DB returns the underlying sled database, for statistics and checks. Do
// not write to the store's trees through it.
func (s *Store) DB() *sled.DB { return s.db }

// durable waits for an fsync of everything written so far, unless NoSync.
// Concurrent callers share one fsync (sled's group commit).
func (s *Store) durable(op string) error {
	if s.noSync {
		return nil
	}
	if err := s.db.Flush(); err != nil {
		return fmt.Errorf("raftstore: %s: flush: %w", op, err)
	}
	return nil
}

func indexKey(index uint64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), index)
}

func keyIndex(key []byte) (uint64, error) {
	if len(key) != 8 {
		return 0, fmt.Errorf("raftstore: log key of %d bytes, want 8: %w", len(key), sled.ErrCorruption)
	}
	return binary.BigEndian.Uint64(key), nil
}

// FirstIndex returns the lowest index stored, 0 when there are none.
func (s *Store) FirstIndex() (uint64, error) {
	k, _, err := s.logs.First()
	if err != nil {
		return 0, fmt.Errorf("raftstore: FirstIndex: %w", err)
	}
	if k == nil {
		return 0, nil
	}
	return keyIndex(k)
}

// LastIndex returns the highest index stored, 0 when there are none.
func (s *Store) LastIndex() (uint64, error) {
	k, _, err := s.logs.Last()
	if err != nil {
		return 0, fmt.Errorf("raftstore: LastIndex: %w", err)
	}
	if k == nil {
		return 0, nil
	}
	return keyIndex(k)
}

// GetLog reads the log at index into log. It returns raft.ErrLogNotFound
// (unwrapped, as raft compares it) when there is none. On any error log is
// left unchanged. log's Data and Extensions are fresh slices the caller
// owns.
func (s *Store) GetLog(index uint64, log *raft.Log) error {
	v, err := s.logs.Get(indexKey(index))
	if err != nil {
		return fmt.Errorf("raftstore: GetLog(%d): %w", index, err)
	}
	if v == nil {
		return raft.ErrLogNotFound
	}
	var l raft.Log
	if err := decodeLog(v, &l); err != nil {
		return fmt.Errorf("raftstore: GetLog(%d): %w", index, err)
	}
	if l.Index != index {
		return fmt.Errorf("raftstore: GetLog(%d): stored under the key of index %d holds index %d: %w",
			index, index, l.Index, sled.ErrCorruption)
	}
	*log = l
	return nil
}

// StoreLog stores one log durably (see StoreLogs).
func (s *Store) StoreLog(log *raft.Log) error {
	return s.StoreLogs([]*raft.Log{log})
}

// StoreLogs stores logs as one atomic batch: after a crash either all of
// them or none are present. Without NoSync the batch is durable when
// StoreLogs returns; concurrent callers share the fsync. A log with the
// index of a stored one replaces it. Gaps are allowed.
func (s *Store) StoreLogs(logs []*raft.Log) error {
	if len(logs) == 0 {
		return nil
	}
	size := 0
	for _, l := range logs {
		if l == nil {
			return ErrNilLog
		}
		size += encodedLen(l)
	}
	// One buffer for every encoding: the engine copies what it keeps.
	buf := make([]byte, 0, size+8*len(logs))
	var err error
	if len(logs) == 1 {
		// A single insert is atomic by itself and, unlike a batch,
		// logs no redo and end records.
		key := binary.BigEndian.AppendUint64(buf, logs[0].Index)
		_, err = s.logs.Insert(key, appendLog(key[8:], logs[0]))
	} else {
		var b sled.Batch
		for _, l := range logs {
			start := len(buf)
			buf = binary.BigEndian.AppendUint64(buf, l.Index)
			buf = appendLog(buf, l)
			b.Insert(buf[start:start+8], buf[start+8:])
		}
		err = s.logs.ApplyBatch(&b)
	}
	if err != nil {
		return fmt.Errorf("raftstore: StoreLogs: %w", err)
	}
	return s.durable("StoreLogs")
}

// DeleteRange deletes the logs with indexes in [min, max] as one atomic
// batch (all or none, also across a crash), durably unless NoSync.
func (s *Store) DeleteRange(min, max uint64) error {
	if min > max {
		return nil
	}
	var hi []byte // nil: unbounded, when max is the largest index
	if max < math.MaxUint64 {
		hi = indexKey(max + 1)
	}
	var b sled.Batch
	it := s.logs.Range(indexKey(min), hi)
	for it.Next() {
		b.Remove(it.Key())
	}
	if err := errors.Join(it.Err(), it.Close()); err != nil {
		return fmt.Errorf("raftstore: DeleteRange(%d, %d): %w", min, max, err)
	}
	if b.Len() == 0 {
		return nil
	}
	if err := s.logs.ApplyBatch(&b); err != nil {
		return fmt.Errorf("raftstore: DeleteRange(%d, %d): %w", min, max, err)
	}
	return s.durable("DeleteRange")
}

// Set stores key = val in the stable store, durably unless NoSync.
func (s *Store) Set(key, val []byte) error {
	if val == nil {
		val = []byte{}
	}
	if _, err := s.stable.Insert(key, val); err != nil {
		return fmt.Errorf("raftstore: Set(%q): %w", key, err)
	}
	return s.durable("Set")
}

// Get returns the value Set for key, or ErrKeyNotFound. The slice belongs
// to the caller.
func (s *Store) Get(key []byte) ([]byte, error) {
	v, err := s.stable.Get(key)
	if err != nil {
		return nil, fmt.Errorf("raftstore: Get(%q): %w", key, err)
	}
	if v == nil {
		return nil, ErrKeyNotFound
	}
	return append(make([]byte, 0, len(v)), v...), nil
}

// SetUint64 stores key = val (8 bytes, big-endian) in the stable store,
// durably unless NoSync.
func (s *Store) SetUint64(key []byte, val uint64) error {
	return s.Set(key, binary.BigEndian.AppendUint64(nil, val))
}

// GetUint64 returns the value SetUint64 stored for key, or ErrKeyNotFound.
// A value of another length than 8 bytes is an error matching
// sled.ErrCorruption.
func (s *Store) GetUint64(key []byte) (uint64, error) {
	v, err := s.stable.Get(key)
	if err != nil {
		return 0, fmt.Errorf("raftstore: GetUint64(%q): %w", key, err)
	}
	if v == nil {
		return 0, ErrKeyNotFound
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("raftstore: GetUint64(%q): value of %d bytes, want 8: %w", key, len(v), sled.ErrCorruption)
	}
	return binary.BigEndian.Uint64(v), nil
}
