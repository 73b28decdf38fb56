//go:build !linux

package slab

// releasePages: the syscall package offers madvise on Linux only, so
// elsewhere free slots keep their memory (S4 counts them warm).
func releasePages([]byte) bool { return false }
