package sled_test

import (
	"bytes"
	"flag"
	"fmt"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sledgo/sled"
)

// The engine's long-lived goroutines, by the function each runs. Only the
// log's flush ticker wakes on its own, once per FlushEvery; every other loop
// sleeps until work arrives. If one is renamed, TestIdleUsesNoCPU fails
// (it checks they all run), rather than passing without looking.
const tickLoop = "github.com/sledgo/sled/internal/log.(*Log).tickLoop"

var engineLoops = []string{
	"github.com/sledgo/sled.(*DB).background",
	"github.com/sledgo/sled/internal/log.(*Log).ioLoop",
	tickLoop,
	"github.com/sledgo/sled/internal/pagecache.(*Cache).evictor",
}

// engineLoop returns the engine function a goroutine runs: the outermost
// frame of package sled or below it (not this test package, not a go
// statement's wrapper), or "".
func engineLoop(funcs []string) string {
	loop := ""
	for _, fn := range funcs {
		if strings.Contains(fn, ".gowrap") {
			continue // the wrapper of a go statement with arguments
		}
		if strings.HasPrefix(fn, "github.com/sledgo/sled.") || strings.HasPrefix(fn, "github.com/sledgo/sled/") {
			loop = fn
		}
	}
	return loop
}

// engineWakeups returns, per engine loop, how many times its goroutines
// blocked and then were woken, from the block profile (which records a
// blocking event when it ends, and only while the profile rate is set).
func engineWakeups(t *testing.T) map[string]int64 {
	t.Helper()
	var recs []runtime.BlockProfileRecord
	for n := 64; ; n *= 2 {
		recs = make([]runtime.BlockProfileRecord, n)
		if m, ok := runtime.BlockProfile(recs); ok {
			recs = recs[:m]
			break
		}
	}
	woken := map[string]int64{}
	for _, r := range recs {
		var funcs []string
		frames := runtime.CallersFrames(r.Stack())
		for {
			f, more := frames.Next()
			funcs = append(funcs, f.Function)
			if !more {
				break
			}
		}
		if loop := engineLoop(funcs); loop != "" {
			woken[loop] += r.Count
		}
	}
	return woken
}

// engineGoroutine is a goroutine running engine code, from a stack dump.
type engineGoroutine struct {
	header string // "goroutine 7 [select]:"
	state  string // "select"
	loop   string
}

// engineGoroutines returns the goroutines running engine code, but the
// caller's.
func engineGoroutines() []engineGoroutine {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var gs []engineGoroutine
	for i, block := range strings.Split(string(buf), "\n\n") {
		if i == 0 {
			continue // the caller, running
		}
		lines := strings.Split(block, "\n")
		header := lines[0]
		lo, hi := strings.Index(header, "["), strings.Index(header, "]")
		if lo < 0 || hi < lo {
			continue
		}
		state, _, _ := strings.Cut(header[lo+1:hi], ",") // drop ", 2 minutes"
		var funcs []string
		for _, l := range lines[1:] {
			if l == "" || l[0] == '\t' || strings.HasPrefix(l, "created by ") {
				continue
			}
			if j := strings.LastIndex(l, "("); j > 0 {
				l = l[:j] // drop the arguments
			}
			funcs = append(funcs, l)
		}
		if loop := engineLoop(funcs); loop != "" {
			gs = append(gs, engineGoroutine{header, state, loop})
		}
	}
	return gs
}

// parked reports whether a goroutine state is blocked waiting for work,
// not running, runnable, or sleeping on a timer of its own.
func parked(state string) bool {
	switch state {
	case "select", "chan receive", "sync.Cond.Wait":
		return true
	}
	return false
}

// TestIdleUsesNoCPU: once writes stop and the background work they caused
// is done, an open database does nothing: no engine goroutine wakes but the
// flush ticker, at most once per FlushEvery, and every engine goroutine is
// parked waiting for work (no polling loop, no sleep loop, no spinning).
//
// It counts wakeups (the block profile records each blocking event with its
// stack) and reads goroutine states, instead of timing the process's CPU: a
// loaded machine delays wakeups but cannot add any.
func TestIdleUsesNoCPU(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for seconds")
	}
	db, err := sled.Config{Path: t.TempDir(), SegmentSizeBytes: 1 << 20}.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	}()
	val := make([]byte, 100)
	for i := 0; i < 50000; i++ {
		if _, err := db.Insert(benchKey(uint64(i)), val); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}

	prevRate := 0 // unless go test -blockprofile set one
	if f := flag.Lookup("test.blockprofile"); f != nil && f.Value.String() != "" {
		prevRate, _ = strconv.Atoi(flag.Lookup("test.blockprofilerate").Value.String())
	}
	runtime.SetBlockProfileRate(1) // record every blocking event
	defer runtime.SetBlockProfileRate(prevRate)
	others := func(w map[string]int64) (n int64) {
		for loop, c := range w {
			if loop != tickLoop {
				n += c
			}
		}
		return n
	}

	// Let the work the writes caused finish (the cleaner's quiet-time round
	// and what it flushes): wait until only the ticker has woken for a
	// second. An engine that keeps waking never gets there.
	const quietFor, settleFor = time.Second, 15 * time.Second
	last, quietSince, start := others(engineWakeups(t)), time.Now(), time.Now()
	for time.Since(quietSince) < quietFor {
		if time.Since(start) > settleFor {
			t.Fatalf("the engine did not stay idle for %v within %v of the last write; wakeups per loop: %v",
				quietFor, settleFor, engineWakeups(t))
		}
		time.Sleep(50 * time.Millisecond)
		if n := others(engineWakeups(t)); n != last {
			last, quietSince = n, time.Now()
		}
	}

	t.Logf("background work done %v after the last write; wakeups so far: %v", time.Since(start).Round(time.Millisecond), engineWakeups(t))
	// Idle: count every engine wakeup for two seconds.
	const idle = 2 * time.Second
	w0, t0 := engineWakeups(t), time.Now()
	time.Sleep(idle)
	w1, elapsed := engineWakeups(t), time.Since(t0)
	tickers, running := 0, map[string]bool{}
	for _, g := range engineGoroutines() {
		running[g.loop] = true
		if g.loop == tickLoop {
			tickers++
		}
	}
	for _, loop := range engineLoops {
		if !running[loop] {
			t.Fatalf("no goroutine runs %s; the engine's loops are now %v: update engineLoops", loop, running)
		}
	}
	// Each ticker (this database's, and that of any database another test
	// left open) runs at the default FlushEvery: one wakeup a period.
	maxTicks := int64(tickers) * (int64(elapsed/sled.DefaultFlushEvery) + 1)
	var woke []string
	for loop, n := range w1 {
		if n -= w0[loop]; n > 0 {
			woke = append(woke, fmt.Sprintf("%s: %d", loop, n))
			if loop == tickLoop && n <= maxTicks {
				continue
			}
			t.Errorf("idle for %v, %s woke %d times", elapsed.Round(time.Millisecond), loop, n)
		}
	}
	sort.Strings(woke)
	t.Logf("wakeups in %v idle (the %d flush tickers may wake %d times): %v", elapsed.Round(time.Millisecond), tickers, maxTicks, woke)

	// Every engine goroutine is parked waiting for work. One that the ticker
	// just woke may be caught runnable, so look again until all are seen
	// parked at once: a polling, sleeping or spinning loop never is.
	var gs []engineGoroutine
	for try := 0; try < 100; try++ {
		gs = engineGoroutines()
		ok := true
		for _, g := range gs {
			ok = ok && parked(g.state)
		}
		if ok {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	var b bytes.Buffer
	for _, g := range gs {
		mark := ""
		if !parked(g.state) {
			mark = " <- not parked"
		}
		fmt.Fprintf(&b, "\n%s %s%s", g.header, g.loop, mark)
	}
	t.Errorf("an idle database's goroutines are not all parked waiting for work:%s", b.String())
}
