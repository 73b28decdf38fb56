package node

import (
	"testing"
	"unsafe"
)

func TestAllocBytes(t *testing.T) {
	for n, want := range map[int]int{0: 0, 1: 8, 8: 8, 9: 16, 100: 112, 1000: 1024, 32768: 32768, 32769: 40960, 1 << 20: 1 << 20} {
		if got := allocBytes(n); got != want {
			t.Errorf("allocBytes(%d) = %d, want %d", n, got, want)
		}
	}
	prev := 0
	for n := 0; n < 70000; n++ {
		a := allocBytes(n)
		if a < n || a < prev {
			t.Fatalf("allocBytes(%d) = %d: below n or not monotonic (previous %d)", n, a, prev)
		}
		prev = a
	}
	for n := 0; n < 1000; n++ {
		if AllocBytes(n) != allocBytes(n) {
			t.Fatalf("AllocBytes(%d) = %d; allocBytes %d", n, AllocBytes(n), allocBytes(n))
		}
	}
}

// TestNodeStructBytes checks the constant MemBytes counts for the Node
// itself against the struct's real size.
func TestNodeStructBytes(t *testing.T) {
	size := int(unsafe.Sizeof(Node{}))
	if want := allocBytes(size); nodeStructBytes != want {
		t.Errorf("nodeStructBytes = %d; Node is %d bytes, allocated as %d", nodeStructBytes, size, want)
	}
}

// TestMemBytesExact checks MemBytes against the buffer's allocation for
// nodes of every size up to a few pages, across size-class boundaries.
func TestMemBytesExact(t *testing.T) {
	for vl := 0; vl < 3*8192; vl += 7 {
		n := NewLeaf([]byte{}, nil, 0, bs("k"), [][]byte{make([]byte, vl)})
		if cap(n.b) != len(n.b) {
			t.Fatalf("value of %d bytes: buffer len %d cap %d", vl, len(n.b), cap(n.b))
		}
		checkMem(t, "leaf", n)
	}
	// A node read from a buffer with spare capacity holds all of it.
	n := testLeaf()
	buf := make([]byte, len(n.Bytes()), 4096)
	copy(buf, n.Bytes())
	c, err := FromBytes(buf)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.MemBytes(), allocBytes(4096)+nodeStructBytes; got != want {
		t.Errorf("MemBytes of a node over a 4096-byte buffer = %d; want %d", got, want)
	}
}
