//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package vfs

import (
	"io"
	"os"
	"sync"
	"syscall"
)

// Lock acquires flock(2) LOCK_EX|LOCK_NB on the named file, creating it if
// needed.
//
// flock locks belong to the open file description, so a second Lock of the
// same file conflicts even within one process (each Lock opens the file
// anew); no in-process registry is needed. Unlike fcntl locks, closing an
// unrelated descriptor of the same file does not release the lock.
func (osFS) Lock(name string) (io.Closer, error) {
	return flock(name, os.O_RDWR|os.O_CREATE, syscall.LOCK_EX)
}

// LockShared acquires flock(2) LOCK_SH|LOCK_NB on the named file, which
// must exist; it is opened read-only.
func (osFS) LockShared(name string) (io.Closer, error) {
	return flock(name, os.O_RDONLY, syscall.LOCK_SH)
}

func flock(name string, flag, how int) (io.Closer, error) {
	f, err := os.OpenFile(name, flag, 0o666)
	if err != nil {
		return nil, err
	}
	of := &osFile{File: f}
	err = of.control("lock", func(fd int) error {
		return syscall.Flock(fd, how|syscall.LOCK_NB)
	})
	if err != nil {
		_ = f.Close()
		if pe, ok := err.(*os.PathError); ok && pe.Err == syscall.EWOULDBLOCK {
			pe.Err = ErrLocked
		}
		return nil, err
	}
	return &osLock{name: name, f: of}, nil
}

// osLock is a held flock. Closing it unlocks and closes the lock file.
type osLock struct {
	name string
	mu   sync.Mutex
	f    *osFile // nil once released
}

func (l *osLock) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return &os.PathError{Op: "unlock", Path: l.name, Err: os.ErrClosed}
	}
	f := l.f
	l.f = nil
	uerr := f.control("unlock", func(fd int) error {
		return syscall.Flock(fd, syscall.LOCK_UN)
	})
	// Closing the only descriptor releases the lock even if LOCK_UN failed.
	if cerr := f.Close(); cerr != nil {
		return cerr
	}
	return uerr
}
