//go:build lfdelay

package lfdelay

import (
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"time"
)

// Enabled reports whether the scheduling points are compiled in.
const Enabled = true

// Hook, when set, is called at every point instead of the random delay.
var Hook atomic.Pointer[func(name string)]

// points counts the points passed (tests check that the sites are hit).
var points atomic.Int64

// Points returns how many scheduling points have been passed.
func Points() int64 { return points.Load() }

// Point is a scheduling point: with a Hook it calls the hook; otherwise
// it yields about one time in four and sleeps up to 50µs one time in 64.
func Point(name string) {
	points.Add(1)
	if h := Hook.Load(); h != nil {
		(*h)(name)
		return
	}
	switch n := rand.Uint32N(64); {
	case n == 0:
		time.Sleep(time.Duration(1+rand.IntN(50)) * time.Microsecond)
	case n < 16:
		runtime.Gosched()
	}
}

// YieldPrefix starts the name a Hook sees at a Yield: a scheduler may run
// the other goroutines first without counting a preemption (fairness for
// spin-waits, as CHESS does).
const YieldPrefix = "yield:"

// Yield is a spin-wait's yield: the caller waits for another goroutine to
// finish a step it cannot help with. With a Hook it is a scheduling point
// named YieldPrefix+name; otherwise it yields the processor.
func Yield(name string) {
	points.Add(1)
	if h := Hook.Load(); h != nil {
		(*h)(YieldPrefix + name)
		return
	}
	runtime.Gosched()
}
