//go:build !nobadger

package main

import (
	"errors"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

type badgerEngine struct {
	db      *badger.DB
	dir     string
	durable bool
}

// openBadger: SyncWrites = durable, compression None, BlockCacheSize 3/4 and
// IndexCacheSize 1/4 of the budget, conflict detection off unless o.Tx (the
// YCSB and durable columns never use read-write transactions: each op is its
// own txn; tx mode's RMW needs badger's SSI), logger off; other options
// default (MemTableSize 64 MiB, ValueThreshold 1 MiB so values live in the
// LSM, NumCompactors 4).
func openBadger(o Options) (Engine, error) {
	opts := badger.DefaultOptions(o.Dir).
		WithSyncWrites(o.Durable).
		WithCompression(options.None).
		WithBlockCacheSize(o.CacheBytes * 3 / 4).
		WithIndexCacheSize(o.CacheBytes / 4).
		WithDetectConflicts(o.Tx).
		WithLogger(nil)
	db, err := badger.Open(opts)
	if err != nil {
		return nil, err
	}
	return &badgerEngine{db: db, dir: o.Dir, durable: o.Durable}, nil
}

func (e *badgerEngine) Get(key []byte) (v []byte, ok bool, err error) {
	err = e.db.View(func(txn *badger.Txn) error {
		it, err := txn.Get(key)
		if err == badger.ErrKeyNotFound {
			return nil
		}
		if err != nil {
			return err
		}
		v, err = it.ValueCopy(nil)
		ok = err == nil
		return err
	})
	return v, ok, err
}

func (e *badgerEngine) Put(key, val []byte) error {
	return e.db.Update(func(txn *badger.Txn) error { return txn.Set(key, val) })
}

// PutDurable: opened for durable writes (SyncWrites=true), Update returns
// after the value log is fsynced (badger batches concurrent writers'
// requests); otherwise (only the adapter tests do that) Put then Sync.
func (e *badgerEngine) PutDurable(key, val []byte) error {
	if err := e.Put(key, val); err != nil || e.durable {
		return err
	}
	return e.db.Sync()
}

// badgerMaxRetries bounds RMW's retries of one transaction, so that a
// livelock cannot hang a run; a transaction that reaches it is aborted.
const badgerMaxRetries = 1000

// RMW: db.Update (SSI when opened with o.Tx; SyncWrites when Durable),
// run again on badger.ErrConflict, each run counted as a retry.
func (e *badgerEngine) RMW(keys, vals [][]byte) (found, retries int, err error) {
	for {
		err = e.db.Update(func(txn *badger.Txn) error {
			found = 0
			s := 0
			defer func() { keep(s) }()
			for _, k := range keys {
				it, err := txn.Get(k)
				if err == badger.ErrKeyNotFound {
					continue
				}
				if err != nil {
					return err
				}
				v, err := it.ValueCopy(nil)
				if err != nil {
					return err
				}
				s += len(v)
				found++
			}
			for i, k := range keys {
				if err := txn.Set(k, vals[i]); err != nil {
					return err
				}
			}
			return nil
		})
		if !errors.Is(err, badger.ErrConflict) {
			return found, retries, err
		}
		if retries == badgerMaxRetries {
			return found, retries, errTxAborted
		}
		retries++
	}
}

func (e *badgerEngine) Delete(key []byte) error {
	return e.db.Update(func(txn *badger.Txn) error { return txn.Delete(key) })
}

func (e *badgerEngine) Scan(start []byte, n int) (int, error) {
	c, s := 0, 0
	defer func() { keep(s) }()
	err := e.db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.PrefetchValues = false
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Seek(start); it.Valid() && c < n; it.Next() {
			item := it.Item()
			if err := item.Value(func(v []byte) error {
				s += len(item.Key()) + len(v)
				return nil
			}); err != nil {
				return err
			}
			c++
		}
		return nil
	})
	return c, err
}

func (e *badgerEngine) Sync() error          { return e.db.Sync() }
func (e *badgerEngine) Size() (int64, error) { return dirSize(e.dir) }
func (e *badgerEngine) Close() error         { return e.db.Close() }
