// Command capi is the C API of sled: built with
//
//	go build -buildmode=c-shared -o libsled.so ./capi
//	go build -buildmode=c-archive -o libsled.a ./capi
//
// it exports the functions declared in sled.h (the hand-written, stable
// header; the generated libsled.h is not part of the API). See README.md.
//
// Rules at the boundary, kept by every exported function:
//
//  1. No Go pointer is given to C: handles are runtime/cgo.Handle numbers,
//     and every returned buffer is a C.malloc copy the caller frees with
//     sled_free.
//  2. C memory passed in is read only during the call (the engine copies
//     what it keeps), after its length has been checked against the limits,
//     so no length makes a slice the runtime refuses.
//  3. No panic crosses into C: guard turns one into SLED_ERR_INTERNAL.
//  4. A NULL handle is SLED_ERR_INVALID_ARGUMENT; a deleted one is
//     SLED_ERR_CLOSED (cgo.Handle never reuses a number, and lookup turns
//     Value's panic on a deleted handle into that status).
//  5. Each handle is deleted exactly once, under the lock of the object
//     that owns it (dbObj.mu for trees, iterators, transactions and
//     snapshots, the object's own mu for batches and configs), because
//     cgo.Handle.Delete panics on a second call.
package main

/*
#define SLED_NO_PROTOTYPES 1
#include "sled.h"
#include <stdlib.h>
#include <string.h>
*/
import "C"

import (
	"fmt"
	"runtime/cgo"
	"runtime/debug"
	"sync"
	"unsafe"

	"github.com/sledgo/sled"
)

func main() {}

// Each Go status constant equals its C enum constant (a mismatch is a
// constant index out of range, a compile error).
var _ = [1]struct{}{}[C.SLED_OK-statusOK]
var _ = [1]struct{}{}[C.SLED_NOT_FOUND-statusNotFound]
var _ = [1]struct{}{}[C.SLED_ERR_INVALID_ARGUMENT-statusInvalidArgument]
var _ = [1]struct{}{}[C.SLED_ERR_CLOSED-statusClosed]
var _ = [1]struct{}{}[C.SLED_ERR_CORRUPTION-statusCorruption]
var _ = [1]struct{}{}[C.SLED_ERR_LOCKED-statusLocked]
var _ = [1]struct{}{}[C.SLED_ERR_EXISTS-statusExists]
var _ = [1]struct{}{}[C.SLED_ERR_KEY_TOO_LARGE-statusKeyTooLarge]
var _ = [1]struct{}{}[C.SLED_ERR_VALUE_TOO_LARGE-statusValueTooLarge]
var _ = [1]struct{}{}[C.SLED_ERR_TREE_NOT_FOUND-statusTreeNotFound]
var _ = [1]struct{}{}[C.SLED_ERR_NO_MERGE_OPERATOR-statusNoMergeOperator]
var _ = [1]struct{}{}[C.SLED_ERR_CAS_MISMATCH-statusCASMismatch]
var _ = [1]struct{}{}[C.SLED_ERR_CONFLICT-statusConflict]
var _ = [1]struct{}{}[C.SLED_ERR_TX_TOO_LARGE-statusTxTooLarge]
var _ = [1]struct{}{}[C.SLED_ERR_IO-statusIO]
var _ = [1]struct{}{}[C.SLED_ERR_INVALID_CONFIG-statusInvalidConfig]
var _ = [1]struct{}{}[C.SLED_ERR_MERGE_FAILED-statusMergeFailed]
var _ = [1]struct{}{}[C.SLED_ERR_INTERNAL-statusInternal]
var _ = [1]struct{}{}[C.SLED_ERR_SNAPSHOT_EXPIRED-statusSnapshotExpired]

// The limits of sled.h equal the engine's.
var _ = [1]struct{}{}[C.SLED_MAX_KEY_BYTES-sled.MaxKeyBytes]
var _ = [1]struct{}{}[C.SLED_MAX_VALUE_BYTES-sled.MaxValueBytes]
var _ = [1]struct{}{}[C.SLED_MAX_TREE_NAME_BYTES-sled.MaxTreeNameBytes]
var _ = [1]struct{}{}[C.SLED_MAX_TX_BYTES-sled.MaxTxBytes]
var _ = [1]struct{}{}[C.SLED_MAX_TX_OPS-sled.MaxTxOps]

// dbObj is what a sled_db handle names.
type dbObj struct {
	db *sled.DB
	h  cgo.Handle

	mu struct {
		sync.Mutex
		closed   bool                    // protected by mu
		children map[cgo.Handle]struct{} // tree, iterator, tx and snapshot handles; protected by mu
	}
	// merges maps a *sled.Tree to its *mergeOp (see merge.go): the
	// operator belongs to the tree, whatever handle set it.
	merges sync.Map
}

// adopt registers obj as a child handle of d, released at sled_close. It
// fails with errHandleClosed when d is closing.
func (d *dbObj) adopt(obj any) (cgo.Handle, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.mu.closed {
		return 0, errHandleClosed
	}
	h := cgo.NewHandle(obj)
	d.mu.children[h] = struct{}{}
	return h, nil
}

// release deletes the child handle h; false when it was already released.
func (d *dbObj) release(h cgo.Handle) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.mu.children[h]; !ok {
		return false
	}
	delete(d.mu.children, h)
	h.Delete()
	return true
}

// value returns the object handle h names; ok is false for a deleted (or
// never issued) handle, whose Value panics.
func value(h uintptr) (v any, ok bool) {
	defer func() {
		if recover() != nil {
			v, ok = nil, false
		}
	}()
	return cgo.Handle(h).Value(), true
}

// lookup returns the object of kind T that handle h names.
func lookup[T any](h uintptr) (T, error) {
	var zero T
	if h == 0 {
		return zero, fmt.Errorf("%w: NULL handle", errInvalidArgument)
	}
	v, ok := value(h)
	if !ok {
		return zero, errHandleClosed
	}
	t, ok := v.(T)
	if !ok {
		return zero, fmt.Errorf("%w: handle of type %T where %T was expected", errInvalidArgument, v, zero)
	}
	return t, nil
}

// ptrHandle is the handle number a C handle pointer carries.
func ptrHandle(p unsafe.Pointer) uintptr { return uintptr(p) }

// putHandle stores handle h through a C out-parameter of a handle type: out
// is a T** in C, written as the integer it holds so that no Go pointer
// variable ever carries a handle number.
func putHandle(out unsafe.Pointer, h cgo.Handle) {
	*(*C.uintptr_t)(out) = C.uintptr_t(h)
}

// guard turns a panic into SLED_ERR_INTERNAL; every exported function
// defers it first.
func guard(rc *C.int, err **C.char) {
	if r := recover(); r != nil {
		*rc = C.int(fail(err, fmt.Errorf("%w: panic: %v\n%s", errInternal, r, debug.Stack())))
	}
}

// fail reports e through err (when not NULL) and returns its status.
func fail(err **C.char, e error) C.int {
	st := statusOf(e)
	if err != nil {
		*err = C.CString(e.Error())
	}
	return C.int(st)
}

// done ends a call: SLED_OK (or the status of e) with err cleared or set.
func done(err **C.char, e error) C.int {
	if e != nil {
		return fail(err, e)
	}
	if err != nil {
		*err = nil
	}
	return C.SLED_OK
}

// notFound ends a call with SLED_NOT_FOUND, which is not an error.
func notFound(err **C.char) C.int {
	if err != nil {
		*err = nil
	}
	return C.SLED_NOT_FOUND
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errInvalidArgument, fmt.Sprintf(format, args...))
}

// input views C bytes as a Go slice (no copy) for the duration of a call.
// NULL with length 0 is the empty string; NULL with a length is invalid.
// Lengths over limit fail with tooLarge before any slice is made.
func input(p *C.uint8_t, n C.size_t, what string, limit int, tooLarge error) ([]byte, error) {
	if p == nil {
		if n != 0 {
			return nil, invalid("%s is NULL with length %d", what, uint64(n))
		}
		return []byte{}, nil
	}
	if uint64(n) > uint64(limit) {
		return nil, fmt.Errorf("%w: %s of %d bytes (limit %d)", tooLarge, what, uint64(n), limit)
	}
	if n == 0 {
		return []byte{}, nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(p)), int(n)), nil
}

// optInput is input for an optional argument: NULL is absent (nil).
func optInput(p *C.uint8_t, n C.size_t, what string, limit int, tooLarge error) ([]byte, error) {
	if p == nil {
		if n != 0 {
			return nil, invalid("%s is NULL with length %d", what, uint64(n))
		}
		return nil, nil
	}
	return input(p, n, what, limit, tooLarge)
}

func key(p *C.uint8_t, n C.size_t) ([]byte, error) {
	return input(p, n, "key", sled.MaxKeyBytes, sled.ErrKeyTooLarge)
}

func val(p *C.uint8_t, n C.size_t) ([]byte, error) {
	return input(p, n, "value", sled.MaxValueBytes, sled.ErrValueTooLarge)
}

// output copies b into C memory through the optional out-parameters p
// and n: nil is NULL, a present (even empty) slice a malloc'd buffer.
func output(p **C.uint8_t, n *C.size_t, b []byte) {
	if n != nil {
		*n = C.size_t(len(b))
	}
	if p == nil {
		return
	}
	if b == nil {
		*p = nil
		return
	}
	c := C.malloc(C.size_t(max(len(b), 1)))
	copy(unsafe.Slice((*byte)(c), len(b)), b)
	*p = (*C.uint8_t)(c)
}

// clearOut sets the optional out-parameters to NULL, 0, so that an error
// leaves no stale pointer behind.
func clearOut(p **C.uint8_t, n *C.size_t) {
	if p != nil {
		*p = nil
	}
	if n != nil {
		*n = 0
	}
}

// goString copies a NUL-terminated C string; NULL is invalid.
func goString(s *C.char, what string) (string, error) {
	if s == nil {
		return "", invalid("%s is NULL", what)
	}
	return C.GoString(s), nil
}

// name reads a tree name of n bytes.
func name(p *C.char, n C.size_t) (string, error) {
	b, err := input((*C.uint8_t)(unsafe.Pointer(p)), n, "tree name", sled.MaxTreeNameBytes, sled.ErrKeyTooLarge)
	return string(b), err
}
