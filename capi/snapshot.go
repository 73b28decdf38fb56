package main

/*
#define SLED_NO_PROTOTYPES 1
#include "sled.h"
*/
import "C"

import (
	"runtime/cgo"
	"unsafe"

	"github.com/sledgo/sled"
)

// snapObj is what a sled_snapshot handle names. A sled.Snapshot is safe
// for concurrent use, so there is no lock; the handle is a child of the
// database's, and sled_snapshot_close releases it (exactly once, through
// dbObj.release) before closing the snapshot.
type snapObj struct {
	db *dbObj
	h  cgo.Handle
	s  *sled.Snapshot
}

// snapTree returns the snapshot and tree handles sh and th name; the tree
// must belong to the snapshot's database.
func snapTree(sh *C.sled_snapshot, th *C.sled_tree) (*snapObj, *treeObj, error) {
	o, e := lookup[*snapObj](ptrHandle(unsafe.Pointer(sh)))
	if e != nil {
		return nil, nil, e
	}
	t, e := treeOf(th)
	if e != nil {
		return nil, nil, e
	}
	if t.db != o.db {
		return nil, nil, invalid("the tree belongs to another database than the snapshot")
	}
	return o, t, nil
}

//export sled_snapshot_open
func sled_snapshot_open(db *C.sled_db, out **C.sled_snapshot, err **C.char) (rc C.int) {
	defer guard(&rc, err)
	if out == nil {
		return fail(err, invalid("out is NULL"))
	}
	*out = nil
	return withDB(db, err, func(o *dbObj) error {
		s, e := o.db.Snapshot()
		if e != nil {
			return e
		}
		obj := &snapObj{db: o, s: s}
		h, e := o.adopt(obj)
		if e != nil {
			s.Close()
			return e
		}
		obj.h = h
		putHandle(unsafe.Pointer(out), h)
		return nil
	})
}

// sled__snapshot_get is sled_snapshot_get (see sled_static.c) with
// sled__get's scratch buffer for small values.
//
//export sled__snapshot_get
func sled__snapshot_get(sh *C.sled_snapshot, th *C.sled_tree, k *C.uint8_t, kn C.size_t, scratch *C.uint8_t, scratchLen C.size_t, big **C.uint8_t, vn *C.size_t, err **C.char) (rc C.int) {
	defer guard(&rc, err)
	*big, *vn = nil, 0
	o, t, e := snapTree(sh, th)
	if e != nil {
		return fail(err, e)
	}
	kb, e := key(k, kn)
	if e != nil {
		return fail(err, e)
	}
	got, e := o.s.Get(t.t, kb)
	if e != nil {
		return fail(err, e)
	}
	return scratchOut(got, scratch, scratchLen, big, vn, err)
}

//export sled_snapshot_iter_range
func sled_snapshot_iter_range(sh *C.sled_snapshot, th *C.sled_tree, lo *C.uint8_t, loLen C.size_t, hi *C.uint8_t, hiLen C.size_t, reverse C.int, out **C.sled_iter, err **C.char) (rc C.int) {
	defer guard(&rc, err)
	if out == nil {
		return fail(err, invalid("out is NULL"))
	}
	*out = nil
	o, t, e := snapTree(sh, th)
	if e != nil {
		return fail(err, e)
	}
	lb, hb, e := bounds(lo, loLen, hi, hiLen)
	if e != nil {
		return fail(err, e)
	}
	return adoptIter(t.db, o.s.Range(t.t, lb, hb), nil, reverse, out, err)
}

//export sled_snapshot_close
func sled_snapshot_close(sh *C.sled_snapshot) (rc C.int) {
	defer guard(&rc, nil)
	o, e := lookup[*snapObj](ptrHandle(unsafe.Pointer(sh)))
	if e != nil {
		return fail(nil, e)
	}
	if !o.db.release(o.h) {
		return fail(nil, errHandleClosed)
	}
	return done(nil, o.s.Close())
}
