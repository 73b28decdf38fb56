//go:build lfdelay

package lfsched

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sledgo/sled/internal/lfdelay"
)

// countSchedules counts, independently of the explorer, the interleavings
// of threads with the given numbers of grants (a thread with k points needs
// k+1 grants: one from its start and one from each point) with at most
// bound preemptions (-1: any).
func countSchedules(left []int, cur, preempts, bound int) int {
	total, any := 0, false
	for t, n := range left {
		if n == 0 {
			continue
		}
		any = true
		p := preempts
		if cur >= 0 && left[cur] > 0 && t != cur {
			p++
		}
		if bound >= 0 && p > bound {
			continue
		}
		left[t]--
		total += countSchedules(left, t, p, bound)
		left[t]++
	}
	if !any {
		return 1
	}
	return total
}

// TestLFSchedEnumeration checks that Explore runs exactly the schedules
// within the bound, each once.
func TestLFSchedEnumeration(t *testing.T) {
	for _, tc := range []struct {
		points []int
		bound  int
	}{
		{[]int{2, 2}, -1}, {[]int{2, 2}, 1}, {[]int{3, 3}, 0}, {[]int{3, 3}, 2},
		{[]int{2, 2, 2}, -1}, {[]int{3, 2, 4}, 2}, {[]int{4, 4, 4}, 1},
	} {
		t.Run(fmt.Sprint(tc.points, tc.bound), func(t *testing.T) {
			res := Explore(Config{PreemptionBound: tc.bound}, func(r *Run) error {
				for i, n := range tc.points {
					r.Go(fmt.Sprint("t", i), func() {
						for range n {
							lfdelay.Point("p")
						}
					})
				}
				r.Wait()
				return nil
			})
			grants := make([]int, len(tc.points))
			for i, n := range tc.points {
				grants[i] = n + 1
			}
			want := countSchedules(grants, -1, 0, tc.bound)
			if res.Failure != nil {
				t.Fatal(res.Failure)
			}
			if !res.Complete || res.Schedules != want {
				t.Fatalf("%v; want %d schedules", res, want)
			}
			t.Logf("%v", res)
		})
	}
}

// TestLFSchedFindsLostUpdate seeds the classic bug: an increment as load,
// then store (at a scheduling point between them) instead of a CAS loop.
// The explorer must find it, at the same schedule every time, and not flag
// the CAS version.
func TestLFSchedFindsLostUpdate(t *testing.T) {
	inc := func(v *atomic.Int64, cas bool) {
		for {
			old := v.Load()
			lfdelay.Point("inc")
			if !cas {
				v.Store(old + 1)
				return
			}
			if v.CompareAndSwap(old, old+1) {
				return
			}
		}
	}
	scenario := func(cas bool) Scenario {
		return func(r *Run) error {
			var v atomic.Int64
			for i := range 2 {
				r.Go(fmt.Sprint("inc", i), func() { inc(&v, cas); inc(&v, cas) })
			}
			r.Wait()
			if got := v.Load(); got != 4 {
				return fmt.Errorf("counter %d after 4 increments", got)
			}
			return nil
		}
	}
	ok := Explore(Config{PreemptionBound: 2}, scenario(true))
	if ok.Failure != nil || !ok.Complete {
		t.Fatalf("CAS increment: %v\n%v", ok, ok.Failure)
	}
	var first *Failure
	for range 3 {
		res := Explore(Config{PreemptionBound: 2}, scenario(false))
		if res.Failure == nil {
			t.Fatalf("the lost update was not found: %v", res)
		}
		if first == nil {
			first = res.Failure
			t.Logf("CAS version: %v; load/store version: found at schedule %d\n%v", ok, first.Schedule, first)
			continue
		}
		if res.Failure.Schedule != first.Schedule || !slices.Equal(res.Failure.Choices, first.Choices) {
			t.Fatalf("found at schedule %d (%v), earlier at %d (%v)", res.Failure.Schedule, res.Failure.Choices, first.Schedule, first.Choices)
		}
	}
	if _, err := Replay(Config{}, first.Choices, scenario(false)); err == nil {
		t.Fatal("replaying the failing schedule passed")
	}
}

// TestLFSchedBlockingMutex runs threads that hold a real mutex across a
// point: a thread that blocks on it is not offered until it can go on, and
// every schedule completes.
func TestLFSchedBlockingMutex(t *testing.T) {
	res := Explore(Config{PreemptionBound: 2}, func(r *Run) error {
		var mu sync.Mutex
		n := 0
		for i := range 3 {
			r.Go(fmt.Sprint("t", i), func() {
				mu.Lock()
				lfdelay.Point("locked")
				n++
				mu.Unlock()
				lfdelay.Point("unlocked")
			})
		}
		r.Wait()
		if n != 3 {
			return fmt.Errorf("n = %d", n)
		}
		return nil
	})
	if res.Failure != nil || !res.Complete {
		t.Fatalf("%v\n%v", res, res.Failure)
	}
	t.Log(res)
}

// TestLFSchedWaitsForHelpers: a thread blocked on a goroutine outside the
// schedule (one the scenario started, as a log starts its I/O goroutine)
// that is still running. The choices at each decision must not depend on
// how far that helper got, so the explorer waits for helpers to rest:
// every schedule replays without divergence (no reruns).
func TestLFSchedWaitsForHelpers(t *testing.T) {
	res := Explore(Config{PreemptionBound: 2}, func(r *Run) error {
		var mu sync.Mutex
		locked := make(chan struct{})
		mu.Lock()
		go func() { // the helper: holds mu while it computes for a while
			close(locked)
			for start := time.Now(); time.Since(start) < 3*time.Millisecond; {
			}
			mu.Unlock()
		}()
		<-locked
		r.Go("waiter", func() {
			mu.Lock()
			lfdelay.Point("locked")
			mu.Unlock()
		})
		r.Go("other", func() {
			lfdelay.Point("a")
			lfdelay.Point("b")
		})
		r.Wait()
		return nil
	})
	if res.Failure != nil || !res.Complete {
		t.Fatalf("%v\n%v", res, res.Failure)
	}
	if res.Reruns != 0 {
		t.Fatalf("%v: a replay diverged while a helper ran", res)
	}
	t.Log(res)
}

// TestLFSchedDeadlock: lock order inversion across a point is reported as
// a deadlock, and the threads are released.
func TestLFSchedDeadlock(t *testing.T) {
	res := Explore(Config{PreemptionBound: 1, DeadlockTimeout: 200 * time.Millisecond}, func(r *Run) error {
		var a, b sync.Mutex
		r.Go("ab", func() {
			a.Lock()
			lfdelay.Point("a")
			b.Lock()
			b.Unlock()
			a.Unlock()
		})
		r.Go("ba", func() {
			b.Lock()
			lfdelay.Point("b")
			a.Lock()
			a.Unlock()
			b.Unlock()
		})
		r.Wait()
		return nil
	})
	if res.Failure == nil || !strings.Contains(res.Failure.Err.Error(), "deadlock") {
		t.Fatalf("no deadlock found: %v", res)
	}
	t.Logf("deadlock found at schedule %d, choices %s", res.Failure.Schedule, FormatChoices(res.Failure.Choices))
}

// TestLFSchedLivelock: a thread that spins on a flag another thread sets
// after a point never finishes when run alone; the step limit reports it.
func TestLFSchedLivelock(t *testing.T) {
	res := Explore(Config{PreemptionBound: 1, MaxSteps: 200}, func(r *Run) error {
		var flag atomic.Bool
		r.Go("spin", func() {
			for !flag.Load() {
				lfdelay.Point("spin")
			}
		})
		r.Go("set", func() {
			lfdelay.Point("set")
			flag.Store(true)
		})
		r.Wait()
		return nil
	})
	if res.Failure == nil || !strings.Contains(res.Failure.Err.Error(), "decisions") {
		t.Fatalf("no livelock found: %v", res)
	}
}

func TestLFSchedUncontrolledPassThrough(t *testing.T) {
	res := Explore(Config{}, func(r *Run) error {
		done := make(chan struct{})
		go func() { // not controlled: never stops at the point
			lfdelay.Point("outside")
			close(done)
		}()
		<-done
		r.Go("t", func() { lfdelay.Point("inside") })
		r.Wait()
		return nil
	})
	if res.Failure != nil {
		t.Fatal(res.Failure)
	}
}
