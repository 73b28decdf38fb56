//go:build !invariants && !race

package invariants

// Enabled is true with the build tag `invariants` or under the race detector.
const Enabled = false
