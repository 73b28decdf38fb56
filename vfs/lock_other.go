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
	lockRegistry   = map[string]int{} // -1: held exclusively; n > 0: n shared holders
)

func (osFS) Lock(name string) (io.Closer, error) {
	return registryLockOf(name, os.O_RDWR|os.O_CREATE, false)
}

func (osFS) LockShared(name string) (io.Closer, error) {
	return registryLockOf(name, os.O_RDONLY, true)
}

func registryLockOf(name string, flag int, shared bool) (io.Closer, error) {
	abs, err := filepath.Abs(name)
	if err != nil {
		return nil, &os.PathError{Op: "lock", Path: name, Err: err}
	}
	f, err := os.OpenFile(name, flag, 0o666)
	if err != nil {
		return nil, err
	}
	lockRegistryMu.Lock()
	defer lockRegistryMu.Unlock()
	held := lockRegistry[abs]
	if held < 0 || (held > 0 && !shared) {
		_ = f.Close()
		return nil, &os.PathError{Op: "lock", Path: name, Err: ErrLocked}
	}
	if shared {
		lockRegistry[abs] = held + 1
	} else {
		lockRegistry[abs] = -1
	}
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
	if n := lockRegistry[l.abs]; n > 1 {
		lockRegistry[l.abs] = n - 1
	} else {
		delete(lockRegistry, l.abs)
	}
	f := l.f
	l.f = nil
	return f.Close()
}
