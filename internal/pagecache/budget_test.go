package pagecache

import (
	"runtime/debug"
	"testing"
)

func TestNodeBudget(t *testing.T) {
	for _, c := range []struct {
		gogc uint64
		want int64
	}{{100, 50 << 20}, {50, 69_905_066}, {300, 25 << 20}, {0, 100 << 20}, {1 << 40, 100 << 20}} {
		if got := budgetFor(100<<20, c.gogc); got != c.want {
			t.Errorf("budgetFor(100 MiB, GOGC=%d) = %d, want %d", c.gogc, got, c.want)
		}
	}
	old := debug.SetGCPercent(25)
	defer debug.SetGCPercent(old)
	if got, want := NodeBudget(100<<20), int64(80<<20); got != want {
		t.Errorf("NodeBudget(100 MiB) with GOGC=25 = %d, want %d", got, want)
	}
	debug.SetGCPercent(-1)
	if got := NodeBudget(100 << 20); got != 100<<20 {
		t.Errorf("NodeBudget(100 MiB) with GOGC=off = %d, want the capacity", got)
	}
	if got := NodeBudget(0); got != 0 {
		t.Errorf("NodeBudget(0) = %d", got)
	}
}
