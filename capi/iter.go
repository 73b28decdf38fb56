package main

/*
#define SLED_NO_PROTOTYPES 1
#include "sled.h"
*/
import "C"

import (
	"runtime/cgo"
	"sync"
	"unsafe"

	"github.com/sledgo/sled"
)

// iterObj is what a sled_iter handle names. A sled.Iterator is not safe
// for concurrent use, so every call takes mu.
type iterObj struct {
	db *dbObj
	h  cgo.Handle
	// tx is the transaction an iterator of sled_tx_iter_range reads
	// through (nil otherwise): its steps read and record state of the
	// sled.Tx, so they also take tx.mu (after mu; a transaction's calls
	// never take an iterator's lock), and fail once it ended.
	tx *txObj
	mu struct {
		sync.Mutex
		it         *sled.Iterator // protected by mu
		positioned bool           // Key and Value name an entry; protected by mu
	}
}

func newIter(th *C.sled_tree, mk func(t *sled.Tree) *sled.Iterator, reverse C.int, out **C.sled_iter, err **C.char) C.int {
	t, e := treeOf(th)
	if e != nil {
		return fail(err, e)
	}
	return adoptIter(t.db, mk(t.t), nil, reverse, out, err)
}

// adoptIter registers a handle to it (reading through tx when not nil), a
// child of db.
func adoptIter(db *dbObj, it *sled.Iterator, tx *txObj, reverse C.int, out **C.sled_iter, err **C.char) C.int {
	if reverse != 0 {
		it.Rev()
	}
	o := &iterObj{db: db, tx: tx}
	o.mu.it = it
	h, e := db.adopt(o)
	if e != nil {
		it.Close()
		return fail(err, e)
	}
	o.h = h
	putHandle(unsafe.Pointer(out), h)
	return done(err, nil)
}

// bounds reads the optional bounds of a range. Bounds are keys; one over
// the key limit would still be a valid bound, but no key lies beyond it
// that a shorter bound cannot name, so a limit is kept (and guards the
// slice).
func bounds(lo *C.uint8_t, loLen C.size_t, hi *C.uint8_t, hiLen C.size_t) (lb, hb []byte, e error) {
	lb, e = optInput(lo, loLen, "lower bound", 1<<30, errInvalidArgument)
	if e != nil {
		return nil, nil, e
	}
	hb, e = optInput(hi, hiLen, "upper bound", 1<<30, errInvalidArgument)
	return lb, hb, e
}

//export sled_iter_range
func sled_iter_range(th *C.sled_tree, lo *C.uint8_t, loLen C.size_t, hi *C.uint8_t, hiLen C.size_t, reverse C.int, out **C.sled_iter, err **C.char) (rc C.int) {
	defer guard(&rc, err)
	if out == nil {
		return fail(err, invalid("out is NULL"))
	}
	*out = nil
	lb, hb, e := bounds(lo, loLen, hi, hiLen)
	if e != nil {
		return fail(err, e)
	}
	return newIter(th, func(t *sled.Tree) *sled.Iterator { return t.Range(lb, hb) }, reverse, out, err)
}

//export sled_iter_prefix
func sled_iter_prefix(th *C.sled_tree, p *C.uint8_t, pn C.size_t, reverse C.int, out **C.sled_iter, err **C.char) (rc C.int) {
	defer guard(&rc, err)
	if out == nil {
		return fail(err, invalid("out is NULL"))
	}
	*out = nil
	pb, e := key(p, pn)
	if e != nil {
		return fail(err, e)
	}
	return newIter(th, func(t *sled.Tree) *sled.Iterator { return t.ScanPrefix(pb) }, reverse, out, err)
}

// withIter runs fn on the iterator it names, under its lock.
func withIter(it *C.sled_iter, fn func(o *iterObj) C.int) C.int {
	o, e := lookup[*iterObj](ptrHandle(unsafe.Pointer(it)))
	if e != nil {
		return fail(nil, e)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.mu.it == nil {
		return fail(nil, errHandleClosed)
	}
	return fn(o)
}

//export sled_iter_next
func sled_iter_next(it *C.sled_iter, ko **C.uint8_t, kl *C.size_t, vo **C.uint8_t, vl *C.size_t, err **C.char) (rc C.int) {
	defer guard(&rc, err)
	clearOut(ko, kl)
	clearOut(vo, vl)
	o, e := lookup[*iterObj](ptrHandle(unsafe.Pointer(it)))
	if e != nil {
		return fail(err, e)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.mu.it == nil {
		return fail(err, errHandleClosed)
	}
	if o.tx != nil {
		o.tx.mu.Lock()
		defer o.tx.mu.Unlock()
		if o.tx.mu.tx == nil {
			o.mu.positioned = false
			return fail(err, errTxEnded)
		}
	}
	if !o.mu.it.Next() {
		o.mu.positioned = false
		if e := o.mu.it.Err(); e != nil {
			return fail(err, e)
		}
		return notFound(err)
	}
	o.mu.positioned = true
	output(ko, kl, o.mu.it.Key())
	output(vo, vl, o.mu.it.Value())
	return done(err, nil)
}

//export sled_iter_key
func sled_iter_key(it *C.sled_iter, ko **C.uint8_t, kl *C.size_t) (rc C.int) {
	defer guard(&rc, nil)
	if ko == nil {
		return fail(nil, invalid("key is NULL"))
	}
	clearOut(ko, kl)
	return withIter(it, func(o *iterObj) C.int {
		if !o.mu.positioned {
			return C.SLED_NOT_FOUND
		}
		output(ko, kl, o.mu.it.Key())
		return C.SLED_OK
	})
}

//export sled_iter_value
func sled_iter_value(it *C.sled_iter, vo **C.uint8_t, vl *C.size_t) (rc C.int) {
	defer guard(&rc, nil)
	if vo == nil {
		return fail(nil, invalid("val is NULL"))
	}
	clearOut(vo, vl)
	return withIter(it, func(o *iterObj) C.int {
		if !o.mu.positioned {
			return C.SLED_NOT_FOUND
		}
		output(vo, vl, o.mu.it.Value())
		return C.SLED_OK
	})
}

//export sled_iter_close
func sled_iter_close(it *C.sled_iter) (rc C.int) {
	defer guard(&rc, nil)
	return withIter(it, func(o *iterObj) C.int {
		if !o.db.release(o.h) {
			return fail(nil, errHandleClosed)
		}
		o.mu.it.Close()
		o.mu.it = nil
		o.mu.positioned = false
		return C.SLED_OK
	})
}
