// Package invariants holds run-time assertions of the engine's numbered
// invariants (pebble's pattern). They are compiled in with the build tag
// `invariants` and under the race detector, and compiled away otherwise:
// Enabled is a constant, so `if invariants.Enabled { ... }` costs nothing
// in a normal build.
//
// An assertion that fails panics with the invariant's name: a broken rule
// fails where it breaks, not later in a Check. Library code never panics on
// bad input; these panics mean a bug in the engine, found by a test.
package invariants

import "fmt"

// Failf panics with the invariant's name and a message when Enabled; it is
// a no-op otherwise. Call it as `if invariants.Enabled && bad { invariants.Failf(...) }`
// so that the condition is not evaluated in normal builds.
func Failf(invariant, format string, args ...any) {
	if Enabled {
		panic(fmt.Sprintf("sled: invariant %s violated: %s", invariant, fmt.Sprintf(format, args...)))
	}
}
