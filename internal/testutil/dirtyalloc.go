package testutil

import (
	"testing"
	"unsafe"
)

// DirtyAlloc is a node.Allocator for tests: its buffers start full of junk
// (like a reused arena slot, whose bytes are arbitrary), and it tracks what
// is handed out, so a test sees a buffer given back on every error path and
// never given back twice.
type DirtyAlloc struct {
	t    testing.TB
	live map[*byte]bool
}

// NewDirtyAlloc returns an empty DirtyAlloc that fails t on a bad Put.
func NewDirtyAlloc(t testing.TB) *DirtyAlloc { return &DirtyAlloc{t: t, live: map[*byte]bool{}} }

// Get returns n junk bytes with some capacity to spare.
func (a *DirtyAlloc) Get(n int) []byte {
	b := make([]byte, n+n/8+1)
	for i := range b {
		b[i] = 0x80 | byte(i%127) // never 0 or 1: an unwritten zero or mark byte shows
	}
	a.live[unsafe.SliceData(b)] = true
	return b[:n]
}

// Put takes back a buffer Get returned.
func (a *DirtyAlloc) Put(b []byte) {
	p := unsafe.SliceData(b)
	if !a.live[p] {
		a.t.Fatalf("Put of a buffer not handed out, or given back twice")
	}
	delete(a.live, p)
}

// Outstanding is the number of buffers handed out and not given back.
func (a *DirtyAlloc) Outstanding() int { return len(a.live) }
