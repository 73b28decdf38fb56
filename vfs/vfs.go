package vfs

import (
	"errors"
	"io"
	"os"
)

// File is an open file in an FS.
//
// ReadAt and WriteAt may be called concurrently with each other and with
// Size, Sync, Truncate and Preallocate. Read and Write use and advance a
// per-handle offset; like *os.File, concurrent calls to them on one handle
// are safe but their interleaving is unspecified.
type File interface {
	io.ReaderAt
	io.WriterAt
	io.Writer
	io.Reader
	io.Closer

	// Sync makes the file's data, and the metadata needed to read it back
	// (its size), durable. It has fdatasync semantics: it does NOT make the
	// file's directory entry durable; see FS.SyncDir.
	Sync() error

	// Truncate changes the size of the file. Extending a file fills the new
	// region with zeros.
	Truncate(size int64) error

	// Size returns the current size of the file in bytes.
	Size() (int64, error)

	// Preallocate reserves space for the first size bytes of the file. It
	// does not change the file's size as reported by Size (keep-size
	// semantics); it is purely an allocation hint that implementations may
	// ignore.
	Preallocate(size int64) error

	// Name returns the name the file was opened with.
	Name() string
}

// FS is a file system. All file I/O of the database goes through an FS so that
// tests can substitute an in-memory, fault-injecting implementation.
//
// Names are paths in the syntax of package path/filepath. Errors that concern
// a path are *os.PathError or *os.LinkError values, so errors.Is(err,
// os.ErrNotExist) and errors.Is(err, os.ErrExist) work across implementations.
type FS interface {
	// Create creates the named file, truncating it if it already exists,
	// and opens it read-write.
	Create(name string) (File, error)

	// Open opens the named file read-only.
	Open(name string) (File, error)

	// OpenReadWrite opens the named existing file read-write without
	// truncating it.
	OpenReadWrite(name string) (File, error)

	// Remove removes the named file or empty directory.
	Remove(name string) error

	// RemoveAll removes name and everything it contains. It returns nil if
	// name does not exist.
	RemoveAll(name string) error

	// Rename atomically renames oldname to newname, replacing newname if it
	// exists.
	Rename(oldname, newname string) error

	// MkdirAll creates the directory dir and any missing parents.
	MkdirAll(dir string, perm os.FileMode) error

	// List returns the names (not paths) of the entries of dir, sorted.
	List(dir string) ([]string, error)

	// Stat describes the named file or directory.
	Stat(name string) (os.FileInfo, error)

	// SyncDir makes the creations, renames and removals of entries in dir
	// durable. It does not make dir's own entry in its parent durable.
	SyncDir(dir string) error

	// Lock acquires an exclusive lock on the named lock file, creating the
	// file if needed. A second Lock of the same file, from this or another
	// process, fails with an error matching ErrLocked (errors.Is) until the
	// returned io.Closer is closed.
	Lock(name string) (io.Closer, error)

	// LockShared acquires a shared lock on the named lock file, which must
	// exist (a read-only user never creates files). Shared locks coexist;
	// a shared lock and an exclusive one (Lock) exclude each other, and the
	// one that comes second fails with an error matching ErrLocked.
	LockShared(name string) (io.Closer, error)

	// PathJoin joins path elements like filepath.Join.
	PathJoin(elem ...string) string

	// MkdirTemp creates a new uniquely named directory in dir, like
	// os.MkdirTemp, and returns its path.
	MkdirTemp(dir, pattern string) (string, error)
}

// ErrLocked is matched (with errors.Is) by the error returned from FS.Lock when
// the lock is held elsewhere.
var ErrLocked = errors.New("vfs: locked")
