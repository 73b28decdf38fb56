//go:build !lfdelay

package lfdelay

import (
	"runtime"
	"sync/atomic"
)

// Enabled reports whether the scheduling points are compiled in.
const Enabled = false

// Hook is called at every point with the build tag; without it, never.
var Hook atomic.Pointer[func(name string)]

// Points returns how many scheduling points have been passed (0 without
// the build tag).
func Points() int64 { return 0 }

// Point is a scheduling point; without the build tag it does nothing.
func Point(name string) {}

// Yield is a spin-wait's yield: the caller waits for another goroutine to
// finish a step it cannot help with. It always yields the processor.
func Yield(name string) { runtime.Gosched() }
