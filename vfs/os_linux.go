package vfs

import (
	"errors"
	"syscall"
)

// fallocKeepSize is FALLOC_FL_KEEP_SIZE from <linux/falloc.h>.
const fallocKeepSize = 0x1

// Sync flushes the file's data with fdatasync(2).
func (f *osFile) Sync() error {
	return f.control("fdatasync", func(fd int) error {
		return ignoringEINTR(func() error { return syscall.Fdatasync(fd) })
	})
}

// Preallocate reserves disk blocks with fallocate(2) in FALLOC_FL_KEEP_SIZE
// mode, so the file size is unchanged. File systems that do not support
// fallocate are silently tolerated.
func (f *osFile) Preallocate(size int64) error {
	if size <= 0 {
		return nil
	}
	err := f.control("fallocate", func(fd int) error {
		return ignoringEINTR(func() error {
			return syscall.Fallocate(fd, fallocKeepSize, 0, size)
		})
	})
	if errors.Is(err, syscall.EOPNOTSUPP) || errors.Is(err, syscall.ENOSYS) {
		return nil
	}
	return err
}

func ignoringEINTR(fn func() error) error {
	for {
		if err := fn(); err != syscall.EINTR {
			return err
		}
	}
}
