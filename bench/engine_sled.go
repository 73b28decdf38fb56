//go:build !nosled

package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sledgo/sled"
)

type sledEngine struct {
	db      *sled.DB
	dir     string
	durable bool // RMW flushes after each committed transaction
}

// openSled: CacheCapacityBytes = budget, Compression off, FlushEvery default
// (500ms background flush; non-durable columns never call Flush per op),
// Mode default (LowSpace), SegmentSizeBytes default.
func openSled(o Options) (Engine, error) {
	db, err := sled.Config{
		Path:               o.Dir,
		CacheCapacityBytes: o.CacheBytes,
		Compression:        false,
	}.Open()
	if err != nil {
		return nil, err
	}
	return &sledEngine{db: db, dir: o.Dir, durable: o.Durable}, nil
}

func (e *sledEngine) Get(key []byte) ([]byte, bool, error) {
	v, err := e.db.Get(key)
	return v, v != nil, err
}

func (e *sledEngine) Put(key, val []byte) error {
	_, err := e.db.Insert(key, val)
	return err
}

func (e *sledEngine) PutDurable(key, val []byte) error {
	if _, err := e.db.Insert(key, val); err != nil {
		return err
	}
	return e.db.Flush()
}

// RMW: one db.Transaction on the default tree (it retries fn itself on a
// conflict: retries are the runs of fn after the first; ErrConflict once its
// retries are exhausted is errTxAborted), then, opened Durable, db.Flush
// (concurrent Flushes share one fsync: group commit).
func (e *sledEngine) RMW(keys, vals [][]byte) (found, retries int, err error) {
	runs := 0
	err = e.db.Transaction(func(tx *sled.Tx) error {
		runs++
		found = 0
		s := 0
		defer func() { keep(s) }()
		for _, k := range keys {
			v, err := tx.Get(e.db.Tree, k)
			if err != nil {
				return err
			}
			if v != nil {
				s += len(v)
				found++
			}
		}
		for i, k := range keys {
			if err := tx.Insert(e.db.Tree, k, vals[i]); err != nil {
				return err
			}
		}
		return nil
	})
	retries = max(runs-1, 0)
	if errors.Is(err, sled.ErrConflict) {
		return found, retries, errTxAborted
	}
	if err != nil || !e.durable {
		return found, retries, err
	}
	return found, retries, e.db.Flush()
}

func (e *sledEngine) Delete(key []byte) error {
	_, err := e.db.Remove(key)
	return err
}

func (e *sledEngine) Scan(start []byte, n int) (int, error) {
	it := e.db.Range(start, nil)
	defer it.Close()
	c, s := 0, 0
	defer func() { keep(s) }()
	for c < n && it.Next() {
		s += len(it.Key()) + len(it.Value())
		c++
	}
	return c, it.Err()
}

func (e *sledEngine) Sync() error          { return e.db.Flush() }
func (e *sledEngine) Size() (int64, error) { return dirSize(e.dir) }
func (e *sledEngine) Close() error         { return e.db.Close() }

// Stats reports sled's own counters (the report prints them under the
// amplification table: they explain sled's write amplification).
func (e *sledEngine) Stats() string {
	// %+v rather than named fields: Stats grows while the engine is built.
	return strings.TrimSuffix(strings.TrimPrefix(fmt.Sprintf("%+v", e.db.Stats()), "{"), "}")
}
