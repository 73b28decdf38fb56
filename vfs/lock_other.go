//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package vfs

import (
	"io"
	"os"
	"path/filepath"
	"sync"
)

// On platforms without flock, locks are tracked in an in-process registry
// only: they exclude other Lock calls in this process but not other
// processes.
var (
	lockRegistryMu sync.Mutex
	lockRegistry   = map[string]bool{}
)

func (osFS) Lock(name string) (io.Closer, error) {
	abs, err := filepath.Abs(name)
	if err != nil {
		return nil, &os.PathError{Op: "lock", Path: name, Err: err}
	}
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return nil, err
	}
	lockRegistryMu.Lock()
	defer lockRegistryMu.Unlock()
	if lockRegistry[abs] {
		_ = f.Close()
		return nil, &os.PathError{Op: "lock", Path: name, Err: ErrLocked}
	}
	lockRegistry[abs] = true
	return &registryLock{abs: abs, f: f}, nil
}

type registryLock struct {
	abs string
	f   *os.File // nil once released; guarded by lockRegistryMu
}

func (l *registryLock) Close() error {
	lockRegistryMu.Lock()
	defer lockRegistryMu.Unlock()
	if l.f == nil {
		return &os.PathError{Op: "unlock", Path: l.abs, Err: os.ErrClosed}
	}
	delete(lockRegistry, l.abs)
	f := l.f
	l.f = nil
	return f.Close()
}
