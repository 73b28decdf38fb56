package sled

import (
	"errors"
	"fmt"
)

// errForeignTree is returned when a transaction or snapshot is given a
// tree of another database.
var errForeignTree = errors.New("sled: the tree belongs to another database")

var (
	// ErrClosed is returned when the database, or a tree of it, is used
	// after Close.
	ErrClosed = errors.New("sled: database closed")
	// ErrCorruption is matched (errors.Is) by every error that reports
	// corrupt data: a bad checksum, an impossible length, a broken tree.
	ErrCorruption = errors.New("sled: corruption")
	// ErrLocked is returned by Open when another opener holds the database.
	ErrLocked = errors.New("sled: database is locked by another opener")
	// ErrExists is returned by Open with CreateNew when a database exists.
	ErrExists = errors.New("sled: database already exists")
	// ErrNoMergeOperator is returned by Merge on a tree without one.
	ErrNoMergeOperator = errors.New("sled: no merge operator set")
	// ErrKeyTooLarge is returned when a key is longer than MaxKeyBytes.
	ErrKeyTooLarge = errors.New("sled: key too large")
	// ErrValueTooLarge is returned when a value is longer than MaxValueBytes.
	ErrValueTooLarge = errors.New("sled: value too large")
	// ErrTreeNotFound is returned by DropTree for an absent tree, and by
	// every method of a Tree that was dropped.
	ErrTreeNotFound = errors.New("sled: tree not found")
	// ErrConflict is returned when a transaction cannot be serialized.
	ErrConflict = errors.New("sled: transaction conflict")
	// ErrDefaultTree is returned by DropTree for the default tree.
	ErrDefaultTree = errors.New("sled: the default tree cannot be dropped")
	// ErrReadOnly is returned by every write to a database opened with
	// Config.ReadOnly.
	ErrReadOnly = errors.New("sled: database is open read-only")
	// ErrTxTooLarge is returned by Transaction and ApplyBatch when a
	// transaction or batch is over MaxTxBytes or MaxTxOps; nothing is
	// written.
	ErrTxTooLarge = errors.New("sled: transaction too large")
	// ErrSnapshotClosed is returned by a Snapshot used after Close.
	ErrSnapshotClosed = errors.New("sled: snapshot closed")
	// ErrSnapshotExpired is returned by a Snapshot (or a View) that the
	// version limit expired (Config.MaxSnapshotBytes).
	ErrSnapshotExpired = errors.New("sled: snapshot expired: the versions it needed exceeded Config.MaxSnapshotBytes")
	// ErrInvalidConfig is matched by every error of Config validation.
	ErrInvalidConfig = errors.New("sled: invalid config")
)

// Limits on what a single entry may hold.
const (
	MaxKeyBytes   = 64 << 10
	MaxValueBytes = 64 << 20
)

// CompareAndSwapError is returned by CompareAndSwap when the current value
// is not the expected one. Nothing was changed.
type CompareAndSwapError struct {
	Current  []byte // the value found (nil when absent)
	Proposed []byte // the value that was not written (nil = delete)
}

func (e *CompareAndSwapError) Error() string {
	return fmt.Sprintf("sled: compare and swap failed: current %s, proposed %s", show(e.Current), show(e.Proposed))
}

func show(b []byte) string {
	if b == nil {
		return "<absent>"
	}
	if len(b) > 32 {
		return fmt.Sprintf("%q...(%d bytes)", b[:32], len(b))
	}
	return fmt.Sprintf("%q", b)
}

// corruption wraps err so that it matches ErrCorruption.
func corruption(err error) error {
	if err == nil || errors.Is(err, ErrCorruption) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrCorruption, err)
}
