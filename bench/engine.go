package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"syscall"
)

// Engine is the small interface every adapter implements. Keys and values
// passed in are not retained by the caller after the call returns, and the
// harness never modifies them while a call is in flight.
type Engine interface {
	// Get returns the value of key; ok is false when the key is absent.
	Get(key []byte) (val []byte, ok bool, err error)
	// Put writes key=val without waiting for durability.
	Put(key, val []byte) error
	// PutDurable writes key=val and returns only once the write is durable.
	PutDurable(key, val []byte) error
	// Delete removes key.
	Delete(key []byte) error
	// Scan visits up to n entries with key >= start, in key order, and returns
	// how many it visited (reading key and value of each).
	Scan(start []byte, n int) (int, error)
	// Sync makes every write that returned so far durable.
	Sync() error
	// Size is the engine's footprint on disk (allocated bytes of its directory).
	Size() (int64, error)
	// Close closes the engine (flushing whatever it flushes on close).
	Close() error
}

// TxEngine is an Engine with serializable read-write transactions over
// several keys (tx mode). sled, bbolt and badger implement it; pebble has no
// conflict-checked transactions.
type TxEngine interface {
	Engine
	// RMW runs one read-modify-write transaction: it reads every key of keys
	// (distinct), then writes vals[i] to keys[i], and returns once the
	// transaction committed (durably when the engine was opened Durable).
	// found is how many keys were present; retries how many times the
	// transaction was run again after a conflict (by the engine or by the
	// adapter). When the transaction was given up on a conflict it returns
	// errTxAborted (and nothing was written).
	RMW(keys, vals [][]byte) (found, retries int, err error)
}

// errTxAborted: a transaction gave up on a conflict. tx mode counts it as an
// aborted operation, not as a failure of the run.
var errTxAborted = errors.New("transaction aborted on conflict")

// Options are shared by every adapter, so that a column compares like with like.
type Options struct {
	Dir        string // a fresh, empty directory owned by the engine
	CacheBytes int64  // memory budget for the engine's caches
	Durable    bool   // the engine is opened for durable writes (PutDurable, RMW)
	Clients    int    // expected concurrent writers (bbolt's batch size)
	Tx         bool   // read-write transactions will run (badger detects conflicts)
}

type engineSpec struct {
	name string
	open func(Options) (Engine, error)
}

var engines = []engineSpec{
	{"sled", openSled},
	{"bbolt", openBbolt},
	{"badger", openBadger},
	{"pebble", openPebble},
}

func engineByName(name string) (engineSpec, error) {
	for _, e := range engines {
		if e.name == name {
			return e, nil
		}
	}
	return engineSpec{}, fmt.Errorf("unknown engine %q", name)
}

// dirSize returns the allocated bytes (st_blocks*512, like du) of the files
// under dir. Allocated rather than apparent size, because badger's and
// bbolt's files are preallocated/sparse and mmapped: the apparent size would
// count holes. The same function measures every engine.
func dirSize(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			total += st.Blocks * 512
		} else {
			total += fi.Size()
		}
		return nil
	})
	return total, err
}

func sortedNames(m map[string]bool) []string {
	var s []string
	for k := range m {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}
