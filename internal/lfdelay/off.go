//go:build !lfdelay

package lfdelay

// Enabled reports whether the scheduling points are compiled in.
const Enabled = false

// Point is a scheduling point; without the build tag it does nothing.
func Point(name string) {}
