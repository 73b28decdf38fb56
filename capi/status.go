package main

import (
	"errors"

	"github.com/sledgo/sled"
)

// Status codes, as in sled.h (capi.go asserts at compile time that each
// equals its C enum constant). Numbers are stable: new ones are appended.
const (
	statusOK              = 0
	statusNotFound        = 1
	statusInvalidArgument = 2
	statusClosed          = 3
	statusCorruption      = 4
	statusLocked          = 5
	statusExists          = 6
	statusKeyTooLarge     = 7
	statusValueTooLarge   = 8
	statusTreeNotFound    = 9
	statusNoMergeOperator = 10
	statusCASMismatch     = 11
	statusConflict        = 12
	statusTxTooLarge      = 13
	statusIO              = 14
	statusInvalidConfig   = 15
	statusMergeFailed     = 16
	statusInternal        = 17
	statusSnapshotExpired = 18
	statusCount           = 19 // one past the last code
)

var (
	// errInvalidArgument is the cause of every argument check of the C API.
	errInvalidArgument = errors.New("sled: invalid argument")
	// errHandleClosed is returned for a handle that was closed or freed.
	errHandleClosed = errors.New("sled: handle is closed (or was never valid)")
	// errMergeFailed is returned when the C merge callback reports failure.
	errMergeFailed = errors.New("sled: merge callback failed")
	// errInternal marks a broken invariant of the C API itself.
	errInternal = errors.New("sled: internal error (please report)")
)

// sentinels maps the root package's sentinel errors to statuses, checked in
// order with errors.Is (the first match wins).
var sentinels = []struct {
	err    error
	status int
}{
	{errInvalidArgument, statusInvalidArgument},
	{errHandleClosed, statusClosed},
	{errMergeFailed, statusMergeFailed},
	{errInternal, statusInternal},
	{sled.ErrClosed, statusClosed},
	{sled.ErrCorruption, statusCorruption},
	{sled.ErrLocked, statusLocked},
	{sled.ErrExists, statusExists},
	{sled.ErrKeyTooLarge, statusKeyTooLarge},
	{sled.ErrValueTooLarge, statusValueTooLarge},
	{sled.ErrTreeNotFound, statusTreeNotFound},
	{sled.ErrNoMergeOperator, statusNoMergeOperator},
	{sled.ErrConflict, statusConflict},
	{sled.ErrTxTooLarge, statusTxTooLarge},
	{sled.ErrSnapshotClosed, statusClosed},
	{sled.ErrSnapshotExpired, statusSnapshotExpired},
	{sled.ErrInvalidConfig, statusInvalidConfig},
	{sled.ErrDefaultTree, statusInvalidArgument},
}

// statusOf maps an error of the Go API to a C status. What no sentinel
// matches is SLED_ERR_IO: the engine's only other errors come from the file
// system (a failed read, write or fsync, which also makes the database
// refuse later writes), and the C API's own ones (files of export/import).
func statusOf(err error) int {
	if err == nil {
		return statusOK
	}
	var cas *sled.CompareAndSwapError
	if errors.As(err, &cas) {
		return statusCASMismatch
	}
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			return s.status
		}
	}
	return statusIO
}
