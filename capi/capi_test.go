package main

import (
	"errors"
	"fmt"
	"io/fs"
	"runtime/cgo"
	"testing"

	"github.com/sledgo/sled"
)

// The C API is tested from C (test/sled_test.c) and Python
// (bindings/python); these tests cover the pure-Go pieces: the status
// mapping and the handle registry.

func TestStatusOf(t *testing.T) {
	cases := []struct {
		err  error
		want int
	}{
		{nil, statusOK},
		{errInvalidArgument, statusInvalidArgument},
		{invalid("key is NULL with length %d", 3), statusInvalidArgument},
		{errHandleClosed, statusClosed},
		{errMergeFailed, statusMergeFailed},
		{fmt.Errorf("%w: boom", errInternal), statusInternal},
		{sled.ErrClosed, statusClosed},
		{fmt.Errorf("ctx: %w", sled.ErrCorruption), statusCorruption},
		{sled.ErrLocked, statusLocked},
		{sled.ErrExists, statusExists},
		{fmt.Errorf("%w: name", sled.ErrKeyTooLarge), statusKeyTooLarge},
		{sled.ErrValueTooLarge, statusValueTooLarge},
		{fmt.Errorf("%w: %q", sled.ErrTreeNotFound, "t"), statusTreeNotFound},
		{sled.ErrNoMergeOperator, statusNoMergeOperator},
		{&sled.CompareAndSwapError{Current: []byte("a")}, statusCASMismatch},
		{fmt.Errorf("wrapped: %w", &sled.CompareAndSwapError{}), statusCASMismatch},
		{sled.ErrConflict, statusConflict},
		{fmt.Errorf("%w: a value read changed", sled.ErrConflict), statusConflict},
		{fmt.Errorf("%w: over %d bytes", sled.ErrTxTooLarge, 1), statusTxTooLarge},
		{sled.ErrSnapshotClosed, statusClosed},
		{sled.ErrSnapshotExpired, statusSnapshotExpired},
		{errTxEnded, statusClosed},
		{errors.Join(fmt.Errorf("%w: a", sled.ErrInvalidConfig), fmt.Errorf("%w: b", sled.ErrInvalidConfig)), statusInvalidConfig},
		{sled.ErrDefaultTree, statusInvalidArgument},
		{&fs.PathError{Op: "open", Path: "/x", Err: fs.ErrNotExist}, statusIO},
		{errors.New("sled: import: unexpected EOF"), statusIO},
	}
	for _, c := range cases {
		if got := statusOf(c.err); got != c.want {
			t.Errorf("statusOf(%v) = %d, want %d", c.err, got, c.want)
		}
	}
}

// Every status has a distinct number below statusCount.
func TestStatusesDistinct(t *testing.T) {
	seen := map[int]bool{}
	for _, s := range []int{statusOK, statusNotFound, statusInvalidArgument, statusClosed,
		statusCorruption, statusLocked, statusExists, statusKeyTooLarge, statusValueTooLarge,
		statusTreeNotFound, statusNoMergeOperator, statusCASMismatch, statusConflict,
		statusTxTooLarge, statusIO, statusInvalidConfig, statusMergeFailed, statusInternal,
		statusSnapshotExpired} {
		if seen[s] || s < 0 || s >= statusCount {
			t.Errorf("status %d repeated or out of range", s)
		}
		seen[s] = true
	}
	if len(seen) != statusCount {
		t.Errorf("%d statuses, statusCount is %d", len(seen), statusCount)
	}
}

func TestLookup(t *testing.T) {
	obj := &batchObj{}
	h := cgo.NewHandle(obj)
	if got, err := lookup[*batchObj](uintptr(h)); err != nil || got != obj {
		t.Fatalf("lookup = %v, %v", got, err)
	}
	if _, err := lookup[*dbObj](uintptr(h)); statusOf(err) != statusInvalidArgument {
		t.Errorf("wrong kind: %v", err)
	}
	if _, err := lookup[*batchObj](0); statusOf(err) != statusInvalidArgument {
		t.Errorf("NULL: %v", err)
	}
	h.Delete()
	if _, err := lookup[*batchObj](uintptr(h)); statusOf(err) != statusClosed {
		t.Errorf("deleted: %v", err)
	}
	if _, err := lookup[*batchObj](^uintptr(0)); statusOf(err) != statusClosed {
		t.Errorf("never issued: %v", err)
	}
}

func TestAdoptRelease(t *testing.T) {
	d := &dbObj{}
	d.mu.children = map[cgo.Handle]struct{}{}
	h, err := d.adopt(&treeObj{})
	if err != nil {
		t.Fatal(err)
	}
	if !d.release(h) {
		t.Fatal("first release failed")
	}
	if d.release(h) {
		t.Fatal("second release succeeded") // Delete would have panicked
	}
	d.mu.closed = true
	if _, err := d.adopt(&treeObj{}); !errors.Is(err, errHandleClosed) {
		t.Fatalf("adopt after close: %v", err)
	}
}

// A transaction ends exactly once: the second end (a racing commit or
// abort) fails, and so does an end after the database released the handle.
func TestTxEnd(t *testing.T) {
	db, err := sled.Config{Temporary: true}.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	d := &dbObj{db: db}
	d.mu.children = map[cgo.Handle]struct{}{}
	begin := func() *txObj {
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		o := &txObj{db: d}
		o.mu.tx = tx
		if o.h, err = d.adopt(o); err != nil {
			t.Fatal(err)
		}
		return o
	}
	o := begin()
	if tx, err := o.end(); err != nil || tx == nil {
		t.Fatalf("first end: %v, %v", tx, err)
	}
	if _, err := o.end(); statusOf(err) != statusClosed {
		t.Fatalf("second end: %v", err)
	}
	if err := o.with(func(*sled.Tx) error { return nil }); statusOf(err) != statusClosed {
		t.Fatalf("use after end: %v", err)
	}
	o = begin()
	d.mu.Lock() // as sled_close does
	for h := range d.mu.children {
		h.Delete()
	}
	d.mu.children = nil
	d.mu.Unlock()
	if _, err := o.end(); statusOf(err) != statusClosed {
		t.Fatalf("end after close: %v", err)
	}
}
