//go:build !unix

package slab

// Without anonymous mappings the arena serves nothing: Get returns nil and
// callers use the Go heap.
func mapAnon(int) []byte { return nil }

func unmap([]byte) {}
