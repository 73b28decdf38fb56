//go:build !linux

package vfs

// Sync flushes the file with (*os.File).Sync.
func (f *osFile) Sync() error { return f.File.Sync() }

// Preallocate is a no-op on this platform.
func (f *osFile) Preallocate(size int64) error { return nil }
