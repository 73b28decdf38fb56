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

// batchObj is what a sled_batch handle names. A sled.Batch is not safe for
// concurrent use, so every call takes mu.
type batchObj struct {
	h  cgo.Handle
	mu struct {
		sync.Mutex
		b     sled.Batch // protected by mu
		freed bool       // protected by mu
	}
}

// withBatch runs fn on the batch b names, under its lock.
func withBatch(b *C.sled_batch, err **C.char, fn func(o *batchObj) error) C.int {
	o, e := lookup[*batchObj](ptrHandle(unsafe.Pointer(b)))
	if e != nil {
		return fail(err, e)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.mu.freed {
		return fail(err, errHandleClosed)
	}
	return done(err, fn(o))
}

//export sled_batch_new
func sled_batch_new(out **C.sled_batch) (rc C.int) {
	defer guard(&rc, nil)
	if out == nil {
		return fail(nil, invalid("out is NULL"))
	}
	o := &batchObj{}
	o.h = cgo.NewHandle(o)
	putHandle(unsafe.Pointer(out), o.h)
	return C.SLED_OK
}

//export sled_batch_free
func sled_batch_free(b *C.sled_batch) (rc C.int) {
	defer guard(&rc, nil)
	return withBatch(b, nil, func(o *batchObj) error {
		o.mu.freed = true
		o.mu.b = sled.Batch{}
		o.h.Delete()
		return nil
	})
}

//export sled_batch_insert
func sled_batch_insert(b *C.sled_batch, k *C.uint8_t, kn C.size_t, v *C.uint8_t, vn C.size_t, err **C.char) (rc C.int) {
	defer guard(&rc, err)
	kb, e := key(k, kn)
	if e != nil {
		return fail(err, e)
	}
	vb, e := val(v, vn)
	if e != nil {
		return fail(err, e)
	}
	return withBatch(b, err, func(o *batchObj) error {
		o.mu.b.Insert(kb, vb) // copies
		return nil
	})
}

//export sled_batch_remove
func sled_batch_remove(b *C.sled_batch, k *C.uint8_t, kn C.size_t, err **C.char) (rc C.int) {
	defer guard(&rc, err)
	kb, e := key(k, kn)
	if e != nil {
		return fail(err, e)
	}
	return withBatch(b, err, func(o *batchObj) error {
		o.mu.b.Remove(kb) // copies
		return nil
	})
}

//export sled_batch_len
func sled_batch_len(b *C.sled_batch, count *C.size_t) (rc C.int) {
	defer guard(&rc, nil)
	if count == nil {
		return fail(nil, invalid("count is NULL"))
	}
	return withBatch(b, nil, func(o *batchObj) error {
		*count = C.size_t(o.mu.b.Len())
		return nil
	})
}

//export sled_apply_batch
func sled_apply_batch(th *C.sled_tree, b *C.sled_batch, err **C.char) (rc C.int) {
	defer guard(&rc, err)
	t, e := treeOf(th)
	if e != nil {
		return fail(err, e)
	}
	return withBatch(b, err, func(o *batchObj) error { return t.t.ApplyBatch(&o.mu.b) })
}
