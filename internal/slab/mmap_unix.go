//go:build unix

package slab

import "syscall"

// mapAnon returns n bytes of zeroed anonymous private memory, or nil.
func mapAnon(n int) []byte {
	m, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil
	}
	return m
}

func unmap(m []byte) { _ = syscall.Munmap(m) }
