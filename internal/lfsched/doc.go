// Package lfsched is a deterministic scheduler that explores the
// interleavings of small concurrent scenarios over the real engine code, as
// Rust's loom or Microsoft's CHESS do. It is compiled only with the build
// tag `lfdelay` (this file, which has no tag, only documents it).
//
// The scheduling points are those of package internal/lfdelay: every CAS and
// every atomic publication of internal/tree, internal/pagecache and
// internal/log calls lfdelay.Point just before it. Explore installs
// lfdelay.Hook; a goroutine started with Run.Go (a controlled thread) parks
// at every point until the scheduler grants it, so that exactly one
// controlled thread runs between two points and the scheduler decides the
// order of every pair of CASes. Goroutines not started with Run.Go (the
// log's I/O goroutine, the scenario's own setup and check) pass through the
// points without stopping.
//
// # What a schedule is
//
// A schedule is the sequence of threads granted at the decisions of one
// execution. The execution of a scenario between two points is
// deterministic given the schedule (the scenario is set up anew each time,
// and nothing else runs controlled code), so a schedule replays exactly:
// Explore checks that each replayed prefix offers the same choices and
// reports a scenario that does not as nondeterministic rather than trusting
// it.
//
// Explore enumerates schedules depth first, replaying the prefix of choices
// and trying every alternative at the deepest decision that still has one,
// with a preemption bound (CHESS): switching away from the thread that ran
// last while it could go on counts as a preemption; switching when it
// finished or blocked does not. Every schedule with at most the bound's
// preemptions is run exactly once (TestEnumeration checks the count against
// a closed form). Past Config.MaxSchedules the search stops and says so.
//
// # Blocking
//
// A controlled thread may block in real synchronization (a mutex, a
// condition variable, a channel: the log's reservers wait for a sealer to
// install the next buffer). The scheduler cannot see that from the points,
// so while it waits for a granted thread to reach its next point it reads
// the thread's state from a goroutine dump (runtime.Stack): a thread found
// waiting ("sync.Cond.Wait", "sync.Mutex.Lock", "chan receive", ...) is
// blocked and not offered until a later dump finds it runnable again, and
// then it runs alone until its next point. When every unfinished thread is
// blocked for Config.DeadlockTimeout, the schedule fails as a deadlock.
// A blocked thread woken by a goroutine that is not controlled (the I/O
// goroutine) wakes at a time no schedule fixes; scenarios avoid depending on
// that (big buffers, no Flush inside a thread), and the replay check catches
// it when they do not.
//
// # Properties
//
// A scenario is a function that sets up fresh state, starts threads with
// Run.Go, runs them to the end with Run.Wait and then checks its properties,
// returning an error when one fails. A panic in a thread (an assertion of
// internal/invariants, say) fails the schedule too. So does a schedule that
// exceeds Config.MaxSteps decisions: in a bounded search every schedule ends
// with threads running alone, and a lock-free (obstruction-free) operation
// running alone must finish.
package lfsched
