package node

import "testing"

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
}
