// Package testutil holds what the tests of every package share, written
// once: the seed of random tests, read from one -seed flag.
//
// Only _test.go files import it. It must not import the root sled package:
// the white-box tests of package sled import it, and that would be a cycle.
package testutil

import (
	"flag"
	"testing"
	"time"
)

// seed is registered here, once per test binary, so that every package's
// random tests replay with the same flag: go test -run Name -seed N.
var seed = flag.Uint64("seed", 0, "seed for random tests (0 = from the clock)")

// Seed returns the seed of a random test: the -seed flag if set, else the
// clock. It logs the seed, so that a failure can be replayed with -seed N.
func Seed(t testing.TB) uint64 {
	t.Helper()
	s := *seed
	if s == 0 {
		s = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay with -seed %d)", s, s)
	return s
}
