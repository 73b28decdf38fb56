// Package lfdelay marks the scheduling points of the lock-free code: every
// CAS and every atomic publication in internal/tree, internal/pagecache and
// internal/log calls Point just before it. Rust sled's "lock_free_delays"
// did the same to shake out interleavings.
//
// Without the build tag `lfdelay`, Point is an empty function that the
// compiler inlines away. With it, Point yields (runtime.Gosched) or sleeps
// a few microseconds at random, so that the windows between a read and the
// CAS that depends on it open wide and rare interleavings become common
// (schedule fuzzing). A test can instead install a Hook, called at every
// point with the point's name: a deterministic scheduler blocks there until
// it picks the goroutine to run next (see package internal/lfsched).
package lfdelay
