package invariants_test

import (
	"strings"
	"testing"

	"github.com/sledgo/sled/internal/invariants"
)

func TestFailf(t *testing.T) {
	defer func() {
		r := recover()
		if !invariants.Enabled {
			if r != nil {
				t.Fatalf("Failf panicked with assertions off: %v", r)
			}
			return
		}
		if s, _ := r.(string); !strings.Contains(s, "P1") || !strings.Contains(s, "boom 7") {
			t.Fatalf("Failf panicked with %v, want the invariant and message", r)
		}
	}()
	invariants.Failf("P1", "boom %d", 7)
}
