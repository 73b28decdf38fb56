//go:build !nopebble

package main

import (
	"log"

	"github.com/cockroachdb/pebble/v2"
)

type pebbleEngine struct {
	db  *pebble.DB
	dir string
	wo  *pebble.WriteOptions
}

type quietLogger struct{}

func (quietLogger) Infof(string, ...any)           {}
func (quietLogger) Errorf(string, ...any)          {}
func (quietLogger) Fatalf(format string, a ...any) { log.Fatalf(format, a...) }

// openPebble: block Cache = budget, compression None on every level, writes
// with pebble.NoSync (non-durable) or pebble.Sync (durable; the WAL's commit
// pipeline groups concurrent syncs), other options default (MemTableSize 4
// MiB, L0 thresholds, 2 MiB target file size).
func openPebble(o Options) (Engine, error) {
	cache := pebble.NewCache(o.CacheBytes)
	defer cache.Unref()
	opts := &pebble.Options{Cache: cache, Logger: quietLogger{}}
	opts.ApplyCompressionSettings(func() pebble.DBCompressionSettings { return pebble.DBCompressionNone })
	db, err := pebble.Open(o.Dir, opts)
	if err != nil {
		return nil, err
	}
	wo := pebble.NoSync
	if o.Durable {
		wo = pebble.Sync
	}
	return &pebbleEngine{db: db, dir: o.Dir, wo: wo}, nil
}

func (e *pebbleEngine) Get(key []byte) ([]byte, bool, error) {
	v, closer, err := e.db.Get(key)
	if err == pebble.ErrNotFound {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	out := append([]byte{}, v...)
	closer.Close()
	return out, true, nil
}

func (e *pebbleEngine) Put(key, val []byte) error        { return e.db.Set(key, val, pebble.NoSync) }
func (e *pebbleEngine) PutDurable(key, val []byte) error { return e.db.Set(key, val, pebble.Sync) }
func (e *pebbleEngine) Delete(key []byte) error          { return e.db.Delete(key, e.wo) }

func (e *pebbleEngine) Scan(start []byte, n int) (int, error) {
	it, err := e.db.NewIter(&pebble.IterOptions{LowerBound: start})
	if err != nil {
		return 0, err
	}
	c, s := 0, 0
	defer func() { keep(s) }()
	for ok := it.First(); ok && c < n; ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return c, err
		}
		s += len(it.Key()) + len(v)
		c++
	}
	return c, it.Close()
}

func (e *pebbleEngine) Sync() error          { return e.db.LogData(nil, pebble.Sync) }
func (e *pebbleEngine) Size() (int64, error) { return dirSize(e.dir) }
func (e *pebbleEngine) Close() error         { return e.db.Close() }
