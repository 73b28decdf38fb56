package testutil

import (
	"flag"
	"testing"
)

// The flag is -seed, the name every replay instruction gives, and a set
// flag is what Seed returns.
func TestSeedReadsFlag(t *testing.T) {
	if flag.Lookup("seed") == nil {
		t.Fatal("no -seed flag registered")
	}
	old := *seed
	t.Cleanup(func() { *seed = old })
	*seed = 42
	if got := Seed(t); got != 42 {
		t.Fatalf("Seed with -seed 42 = %d", got)
	}
	*seed = 0
	if Seed(t) == 0 {
		t.Fatal("Seed without -seed returned 0, which replays nothing")
	}
}
