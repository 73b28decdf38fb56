package main

/*
#define SLED_NO_PROTOTYPES 1
#include "sled.h"
*/
import "C"

import (
	"errors"

	"github.com/sledgo/sled"
)

// sled__get is sled_get (see sled_static.c) without the final allocation
// for small values: when the value fits in the caller's scratch buffer
// (C memory, on the C wrapper's stack) it is copied there and *big stays
// NULL; the C wrapper then mallocs the result itself. This saves a second
// cgo transition (a C.malloc call from Go) per small get.
//
//export sled__get
func sled__get(th *C.sled_tree, k *C.uint8_t, kn C.size_t, scratch *C.uint8_t, scratchLen C.size_t, big **C.uint8_t, vn *C.size_t, err **C.char) (rc C.int) {
	defer guard(&rc, err)
	*big, *vn = nil, 0
	t, e := treeOf(th)
	if e != nil {
		return fail(err, e)
	}
	kb, e := key(k, kn)
	if e != nil {
		return fail(err, e)
	}
	got, e := t.t.Get(kb)
	if e != nil {
		return fail(err, e)
	}
	return scratchOut(got, scratch, scratchLen, big, vn, err)
}

//export sled_contains
func sled_contains(th *C.sled_tree, k *C.uint8_t, kn C.size_t, found *C.int, err **C.char) (rc C.int) {
	defer guard(&rc, err)
	if found == nil {
		return fail(err, invalid("found is NULL"))
	}
	*found = 0
	t, e := treeOf(th)
	if e != nil {
		return fail(err, e)
	}
	kb, e := key(k, kn)
	if e != nil {
		return fail(err, e)
	}
	ok, e := t.t.ContainsKey(kb)
	if ok {
		*found = 1
	}
	return done(err, e)
}

//export sled_insert
func sled_insert(th *C.sled_tree, k *C.uint8_t, kn C.size_t, v *C.uint8_t, vn C.size_t, prev **C.uint8_t, prevLen *C.size_t, err **C.char) (rc C.int) {
	defer guard(&rc, err)
	clearOut(prev, prevLen)
	t, e := treeOf(th)
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
	old, e := t.t.Insert(kb, vb)
	if e != nil {
		return fail(err, e)
	}
	output(prev, prevLen, old)
	return done(err, nil)
}

//export sled_remove
func sled_remove(th *C.sled_tree, k *C.uint8_t, kn C.size_t, prev **C.uint8_t, prevLen *C.size_t, err **C.char) (rc C.int) {
	defer guard(&rc, err)
	clearOut(prev, prevLen)
	t, e := treeOf(th)
	if e != nil {
		return fail(err, e)
	}
	kb, e := key(k, kn)
	if e != nil {
		return fail(err, e)
	}
	old, e := t.t.Remove(kb)
	if e != nil {
		return fail(err, e)
	}
	output(prev, prevLen, old)
	return done(err, nil)
}

//export sled_compare_and_swap
func sled_compare_and_swap(th *C.sled_tree, k *C.uint8_t, kn C.size_t, old *C.uint8_t, oldLen C.size_t, nv *C.uint8_t, nvLen C.size_t, cur **C.uint8_t, curLen *C.size_t, err **C.char) (rc C.int) {
	defer guard(&rc, err)
	clearOut(cur, curLen)
	t, e := treeOf(th)
	if e != nil {
		return fail(err, e)
	}
	kb, e := key(k, kn)
	if e != nil {
		return fail(err, e)
	}
	// An expected value over the limit can never match; it is rejected
	// like a new value over the limit.
	ob, e := optInput(old, oldLen, "old value", sled.MaxValueBytes, sled.ErrValueTooLarge)
	if e != nil {
		return fail(err, e)
	}
	nb, e := optInput(nv, nvLen, "new value", sled.MaxValueBytes, sled.ErrValueTooLarge)
	if e != nil {
		return fail(err, e)
	}
	e = t.t.CompareAndSwap(kb, ob, nb)
	var mismatch *sled.CompareAndSwapError
	if errors.As(e, &mismatch) {
		output(cur, curLen, mismatch.Current)
	}
	return done(err, e)
}

// entry reports a (key, value) result of an ordered read.
func entry(k, v []byte, e error, ko **C.uint8_t, kl *C.size_t, vo **C.uint8_t, vl *C.size_t, err **C.char) C.int {
	if e != nil {
		return fail(err, e)
	}
	if k == nil {
		return notFound(err)
	}
	output(ko, kl, k)
	output(vo, vl, v)
	return done(err, nil)
}

// ordered runs a read that returns an entry.
func ordered(th *C.sled_tree, read func(t *sled.Tree) (k, v []byte, e error), ko **C.uint8_t, kl *C.size_t, vo **C.uint8_t, vl *C.size_t, err **C.char) C.int {
	clearOut(ko, kl)
	clearOut(vo, vl)
	t, e := treeOf(th)
	if e != nil {
		return fail(err, e)
	}
	k, v, e := read(t.t)
	return entry(k, v, e, ko, kl, vo, vl, err)
}

//export sled_first
func sled_first(th *C.sled_tree, ko **C.uint8_t, kl *C.size_t, vo **C.uint8_t, vl *C.size_t, err **C.char) (rc C.int) {
	defer guard(&rc, err)
	return ordered(th, (*sled.Tree).First, ko, kl, vo, vl, err)
}

//export sled_last
func sled_last(th *C.sled_tree, ko **C.uint8_t, kl *C.size_t, vo **C.uint8_t, vl *C.size_t, err **C.char) (rc C.int) {
	defer guard(&rc, err)
	return ordered(th, (*sled.Tree).Last, ko, kl, vo, vl, err)
}

//export sled_pop_min
func sled_pop_min(th *C.sled_tree, ko **C.uint8_t, kl *C.size_t, vo **C.uint8_t, vl *C.size_t, err **C.char) (rc C.int) {
	defer guard(&rc, err)
	return ordered(th, (*sled.Tree).PopMin, ko, kl, vo, vl, err)
}

//export sled_pop_max
func sled_pop_max(th *C.sled_tree, ko **C.uint8_t, kl *C.size_t, vo **C.uint8_t, vl *C.size_t, err **C.char) (rc C.int) {
	defer guard(&rc, err)
	return ordered(th, (*sled.Tree).PopMax, ko, kl, vo, vl, err)
}

//export sled_get_lt
func sled_get_lt(th *C.sled_tree, b *C.uint8_t, bn C.size_t, ko **C.uint8_t, kl *C.size_t, vo **C.uint8_t, vl *C.size_t, err **C.char) (rc C.int) {
	defer guard(&rc, err)
	bound, e := key(b, bn)
	if e != nil {
		clearOut(ko, kl)
		clearOut(vo, vl)
		return fail(err, e)
	}
	return ordered(th, func(t *sled.Tree) ([]byte, []byte, error) { return t.GetLT(bound) }, ko, kl, vo, vl, err)
}

//export sled_get_gt
func sled_get_gt(th *C.sled_tree, b *C.uint8_t, bn C.size_t, ko **C.uint8_t, kl *C.size_t, vo **C.uint8_t, vl *C.size_t, err **C.char) (rc C.int) {
	defer guard(&rc, err)
	bound, e := key(b, bn)
	if e != nil {
		clearOut(ko, kl)
		clearOut(vo, vl)
		return fail(err, e)
	}
	return ordered(th, func(t *sled.Tree) ([]byte, []byte, error) { return t.GetGT(bound) }, ko, kl, vo, vl, err)
}

//export sled_len
func sled_len(th *C.sled_tree, count *C.uint64_t, err **C.char) (rc C.int) {
	defer guard(&rc, err)
	if count == nil {
		return fail(err, invalid("count is NULL"))
	}
	*count = 0
	t, e := treeOf(th)
	if e != nil {
		return fail(err, e)
	}
	n, e := t.t.Len()
	*count = C.uint64_t(n)
	return done(err, e)
}

//export sled_clear
func sled_clear(th *C.sled_tree, err **C.char) (rc C.int) {
	defer guard(&rc, err)
	t, e := treeOf(th)
	if e != nil {
		return fail(err, e)
	}
	return done(err, t.t.Clear())
}
