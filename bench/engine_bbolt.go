//go:build !nobbolt

package main

import (
	"path/filepath"

	bolt "go.etcd.io/bbolt"
)

var boltBucket = []byte("b")

type bboltEngine struct {
	db      *bolt.DB
	dir     string
	durable bool
}

// openBbolt: hashmap freelist, NoFreelistSync (as etcd does; the freelist is
// rebuilt on open), NoSync = !durable (bbolt without NoSync fsyncs every
// transaction, so the non-durable columns set NoSync). bbolt has no cache of
// its own: it reads through mmap, i.e. the OS page cache, which the budget
// cannot bound. Durable writes use DB.Batch with MaxBatchSize = clients, so
// concurrent writers share one commit+fsync (bbolt's group commit).
func openBbolt(o Options) (Engine, error) {
	db, err := bolt.Open(filepath.Join(o.Dir, "bolt.db"), 0o600, &bolt.Options{
		FreelistType:   bolt.FreelistMapType,
		NoFreelistSync: true,
		NoSync:         !o.Durable,
	})
	if err != nil {
		return nil, err
	}
	if o.Clients > 0 {
		db.MaxBatchSize = o.Clients
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(boltBucket)
		return err
	}); err != nil {
		db.Close()
		return nil, err
	}
	return &bboltEngine{db: db, dir: o.Dir, durable: o.Durable}, nil
}

func (e *bboltEngine) Get(key []byte) (v []byte, ok bool, err error) {
	err = e.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(boltBucket).Get(key)
		if b != nil {
			v = append([]byte{}, b...)
			ok = true
		}
		return nil
	})
	return v, ok, err
}

func (e *bboltEngine) Put(key, val []byte) error {
	return e.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(boltBucket).Put(key, val) })
}

// PutDurable: opened for durable writes (NoSync false), every commit of
// the batch fsyncs; otherwise (only the adapter tests do that) Batch then Sync.
func (e *bboltEngine) PutDurable(key, val []byte) error {
	err := e.db.Batch(func(tx *bolt.Tx) error { return tx.Bucket(boltBucket).Put(key, val) })
	if err != nil || e.durable {
		return err
	}
	return e.db.Sync()
}

// RMW: one db.Update (bbolt has a single writer: transactions never
// conflict, they wait), which fsyncs on commit when opened Durable (NoSync
// false). Reads copy the value out, as Get does.
func (e *bboltEngine) RMW(keys, vals [][]byte) (found, retries int, err error) {
	err = e.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(boltBucket)
		found = 0
		s := 0
		defer func() { keep(s) }()
		for _, k := range keys {
			if v := b.Get(k); v != nil {
				s += len(append([]byte{}, v...))
				found++
			}
		}
		for i, k := range keys {
			if err := b.Put(k, vals[i]); err != nil {
				return err
			}
		}
		return nil
	})
	return found, 0, err
}

func (e *bboltEngine) Delete(key []byte) error {
	return e.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(boltBucket).Delete(key) })
}

func (e *bboltEngine) Scan(start []byte, n int) (int, error) {
	c, s := 0, 0
	defer func() { keep(s) }()
	err := e.db.View(func(tx *bolt.Tx) error {
		cur := tx.Bucket(boltBucket).Cursor()
		for k, v := cur.Seek(start); k != nil && c < n; k, v = cur.Next() {
			s += len(k) + len(v)
			c++
		}
		return nil
	})
	return c, err
}

func (e *bboltEngine) Sync() error          { return e.db.Sync() }
func (e *bboltEngine) Size() (int64, error) { return dirSize(e.dir) }
func (e *bboltEngine) Close() error         { return e.db.Close() }
