package main

/*
#define SLED_NO_PROTOTYPES 1
#include "sled.h"
*/
import "C"

import (
	"fmt"
	"runtime/cgo"
	"sync"
	"unsafe"

	"github.com/sledgo/sled"
)

// txObj is what a sled_tx handle names: a transaction of sled.DB.Begin. A
// sled.Tx is not safe for concurrent use, so every call takes mu. The
// handle is a child of the database's (sled_close releases it); commit and
// abort release it too, so a finished transaction is a stale handle
// (SLED_ERR_CLOSED) like any other.
type txObj struct {
	db *dbObj
	h  cgo.Handle
	mu struct {
		sync.Mutex
		tx *sled.Tx // nil once committed or aborted; protected by mu
	}
}

// errTxEnded is the error of a call that raced with the commit or abort of
// its transaction (afterwards the handle is released: errHandleClosed).
var errTxEnded = fmt.Errorf("%w: the transaction was committed or aborted", errHandleClosed)

func txOf(h *C.sled_tx) (*txObj, error) { return lookup[*txObj](ptrHandle(unsafe.Pointer(h))) }

// txTree returns the transaction and tree handles txh and th name; the tree
// must belong to the transaction's database.
func txTree(txh *C.sled_tx, th *C.sled_tree) (*txObj, *treeObj, error) {
	o, e := txOf(txh)
	if e != nil {
		return nil, nil, e
	}
	t, e := treeOf(th)
	if e != nil {
		return nil, nil, e
	}
	if t.db != o.db {
		return nil, nil, invalid("the tree belongs to another database than the transaction")
	}
	return o, t, nil
}

// with runs fn on the live transaction, under its lock.
func (o *txObj) with(fn func(tx *sled.Tx) error) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.mu.tx == nil {
		return errTxEnded
	}
	return fn(o.mu.tx)
}

// end takes the transaction out of o and releases o's handle, exactly once
// (a racing commit, abort or sled_close gets errHandleClosed). The caller
// then commits or rolls back the returned Tx, which no other call can reach
// any more: a transaction's iterators check o.mu.tx under the lock.
func (o *txObj) end() (*sled.Tx, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	tx := o.mu.tx
	if tx == nil {
		return nil, errTxEnded
	}
	o.mu.tx = nil
	if !o.db.release(o.h) { // sled_close got there first
		tx.Rollback()
		return nil, errHandleClosed
	}
	return tx, nil
}

//export sled_tx_begin
func sled_tx_begin(db *C.sled_db, out **C.sled_tx, err **C.char) (rc C.int) {
	defer guard(&rc, err)
	if out == nil {
		return fail(err, invalid("out is NULL"))
	}
	*out = nil
	return withDB(db, err, func(o *dbObj) error {
		tx, e := o.db.Begin()
		if e != nil {
			return e
		}
		obj := &txObj{db: o}
		obj.mu.tx = tx
		h, e := o.adopt(obj)
		if e != nil {
			tx.Rollback()
			return e
		}
		obj.h = h
		putHandle(unsafe.Pointer(out), h)
		return nil
	})
}

// sled__tx_get is sled_tx_get (see sled_static.c) with sled__get's scratch
// buffer for small values.
//
//export sled__tx_get
func sled__tx_get(txh *C.sled_tx, th *C.sled_tree, k *C.uint8_t, kn C.size_t, scratch *C.uint8_t, scratchLen C.size_t, big **C.uint8_t, vn *C.size_t, err **C.char) (rc C.int) {
	defer guard(&rc, err)
	*big, *vn = nil, 0
	o, t, e := txTree(txh, th)
	if e != nil {
		return fail(err, e)
	}
	kb, e := key(k, kn)
	if e != nil {
		return fail(err, e)
	}
	var got []byte
	e = o.with(func(tx *sled.Tx) (e error) {
		got, e = tx.Get(t.t, kb)
		return e
	})
	if e != nil {
		return fail(err, e)
	}
	return scratchOut(got, scratch, scratchLen, big, vn, err)
}

// scratchOut ends a get whose C wrapper passed a scratch buffer: a value
// that fits is copied there (*big stays NULL), a larger one is malloc'd
// into *big; nil is SLED_NOT_FOUND.
func scratchOut(got []byte, scratch *C.uint8_t, scratchLen C.size_t, big **C.uint8_t, vn *C.size_t, err **C.char) C.int {
	if got == nil {
		return notFound(err)
	}
	if len(got) <= int(scratchLen) {
		copy(unsafe.Slice((*byte)(unsafe.Pointer(scratch)), len(got)), got)
		*vn = C.size_t(len(got))
	} else {
		output(big, vn, got)
	}
	return done(err, nil)
}

//export sled_tx_insert
func sled_tx_insert(txh *C.sled_tx, th *C.sled_tree, k *C.uint8_t, kn C.size_t, v *C.uint8_t, vn C.size_t, err **C.char) (rc C.int) {
	defer guard(&rc, err)
	o, t, e := txTree(txh, th)
	if e != nil {
		return fail(err, e)
	}
	kb, e := key(k, kn)
	if e != nil {
		return fail(err, e)
	}
	vb, e := val(v, vn)
	if e != nil {
		return fail(err, e)
	}
	return done(err, o.with(func(tx *sled.Tx) error { return tx.Insert(t.t, kb, vb) })) // copies
}

//export sled_tx_remove
func sled_tx_remove(txh *C.sled_tx, th *C.sled_tree, k *C.uint8_t, kn C.size_t, err **C.char) (rc C.int) {
	defer guard(&rc, err)
	o, t, e := txTree(txh, th)
	if e != nil {
		return fail(err, e)
	}
	kb, e := key(k, kn)
	if e != nil {
		return fail(err, e)
	}
	return done(err, o.with(func(tx *sled.Tx) error { return tx.Remove(t.t, kb) })) // copies
}

//export sled_tx_iter_range
func sled_tx_iter_range(txh *C.sled_tx, th *C.sled_tree, lo *C.uint8_t, loLen C.size_t, hi *C.uint8_t, hiLen C.size_t, reverse C.int, out **C.sled_iter, err **C.char) (rc C.int) {
	defer guard(&rc, err)
	if out == nil {
		return fail(err, invalid("out is NULL"))
	}
	*out = nil
	o, t, e := txTree(txh, th)
	if e != nil {
		return fail(err, e)
	}
	lb, hb, e := bounds(lo, loLen, hi, hiLen)
	if e != nil {
		return fail(err, e)
	}
	var it *sled.Iterator
	e = o.with(func(tx *sled.Tx) error {
		it = tx.Range(t.t, lb, hb)
		return nil
	})
	if e != nil {
		return fail(err, e)
	}
	return adoptIter(t.db, it, o, reverse, out, err)
}

//export sled_tx_commit
func sled_tx_commit(txh *C.sled_tx, err **C.char) (rc C.int) {
	defer guard(&rc, err)
	o, e := txOf(txh)
	if e != nil {
		return fail(err, e)
	}
	tx, e := o.end()
	if e != nil {
		return fail(err, e)
	}
	return done(err, tx.Commit())
}

//export sled_tx_abort
func sled_tx_abort(txh *C.sled_tx) (rc C.int) {
	defer guard(&rc, nil)
	o, e := txOf(txh)
	if e != nil {
		return fail(nil, e)
	}
	tx, e := o.end()
	if e != nil {
		return fail(nil, e)
	}
	return done(nil, tx.Rollback())
}
