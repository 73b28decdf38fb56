package main

/*
#define SLED_NO_PROTOTYPES 1
#include "sled.h"
#include <stdlib.h>

int sled__call_merge(sled_merge_fn fn, void *ctx,
                     const uint8_t *key, size_t key_len,
                     const uint8_t *old, size_t old_len,
                     const uint8_t *operand, size_t operand_len,
                     uint8_t **out, size_t *out_len);

// The arguments of one callback, in C memory (so the callback never sees
// Go memory, and cannot scribble on the engine's immutable values).
struct sled__merge_args {
    uint8_t *out;
    size_t out_len;
};
*/
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/sledgo/sled"
)

// mergeOp is a C merge callback with its context. ctx is C memory (or any
// value the caller chose), never dereferenced by Go.
type mergeOp struct {
	fn  C.sled_merge_fn
	ctx unsafe.Pointer
}

//export sled_set_merge_operator
func sled_set_merge_operator(th *C.sled_tree, fn C.sled_merge_fn, ctx unsafe.Pointer, err **C.char) (rc C.int) {
	defer guard(&rc, err)
	t, e := treeOf(th)
	if e != nil {
		return fail(err, e)
	}
	if fn == nil {
		t.db.merges.Delete(t.t)
	} else {
		t.db.merges.Store(t.t, &mergeOp{fn: fn, ctx: ctx})
	}
	return done(err, nil)
}

// call runs the callback once. ok is false when it reported failure (or
// broke its contract); nil with ok deletes.
func (m *mergeOp) call(k, old, operand []byte) (nv []byte, ok bool) {
	// One block: the out-parameters, then key, old value and operand.
	head := int(unsafe.Sizeof(C.struct_sled__merge_args{}))
	total := head + len(k) + len(old) + len(operand)
	block := C.malloc(C.size_t(total))
	defer C.free(block)
	args := (*C.struct_sled__merge_args)(block)
	args.out, args.out_len = nil, 0
	data := unsafe.Slice((*byte)(block), total)
	place := func(off int, b []byte) *C.uint8_t {
		copy(data[off:], b)
		return (*C.uint8_t)(unsafe.Add(block, off))
	}
	kp := place(head, k)
	var op *C.uint8_t
	if old != nil {
		op = place(head+len(k), old) // non-NULL even when empty: present
	}
	pp := place(head+len(k)+len(old), operand)
	st := C.sled__call_merge(m.fn, m.ctx, kp, C.size_t(len(k)), op, C.size_t(len(old)),
		pp, C.size_t(len(operand)), &args.out, &args.out_len)
	out, outLen := args.out, uint64(args.out_len)
	if out != nil {
		defer C.free(unsafe.Pointer(out))
	}
	switch {
	case st == C.SLED_MERGE_DELETE:
		return nil, true
	case st != C.SLED_MERGE_SET:
		return nil, false
	case out == nil && outLen != 0:
		return nil, false // a length without a buffer: a broken callback
	case outLen > sled.MaxValueBytes:
		return make([]byte, sled.MaxValueBytes+1), true // Update reports ErrValueTooLarge
	case out == nil:
		return []byte{}, true
	}
	return C.GoBytes(unsafe.Pointer(out), C.int(outLen)), true
}

//export sled_merge
func sled_merge(th *C.sled_tree, k *C.uint8_t, kn C.size_t, operand *C.uint8_t, operandLen C.size_t, nv **C.uint8_t, nvLen *C.size_t, err **C.char) (rc C.int) {
	defer guard(&rc, err)
	clearOut(nv, nvLen)
	t, e := treeOf(th)
	if e != nil {
		return fail(err, e)
	}
	kb, e := key(k, kn)
	if e != nil {
		return fail(err, e)
	}
	ob, e := input(operand, operandLen, "operand", sled.MaxValueBytes, sled.ErrValueTooLarge)
	if e != nil {
		return fail(err, e)
	}
	m, ok := t.db.merges.Load(t.t)
	if !ok {
		// The Go tree has no operator either: Merge reports ErrClosed,
		// ErrTreeNotFound or ErrNoMergeOperator as the state calls for.
		_, e := t.t.Merge(kb, ob)
		if e == nil {
			e = fmt.Errorf("%w: merge without an operator succeeded", errInternal)
		}
		return fail(err, e)
	}
	op := m.(*mergeOp)
	// Merge is Update with the operator; done this way (not with
	// Tree.SetMergeOperator) so that a failed callback fails this call
	// only. The callback may run more than once: the last run decides.
	failed := false
	res, e := t.t.Update(kb, func(old []byte) []byte {
		v, ok := op.call(kb, old, ob)
		failed = !ok
		if !ok {
			return old // keep the value
		}
		return v
	})
	if e == nil && failed {
		e = errMergeFailed
	}
	if e != nil {
		return fail(err, e)
	}
	output(nv, nvLen, res)
	return done(err, nil)
}
