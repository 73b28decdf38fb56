//go:build lfdelay

package lfsched

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sledgo/sled/internal/lfdelay"
)

// Config bounds an exploration. Zero fields but PreemptionBound take the
// defaults in brackets.
type Config struct {
	// PreemptionBound is the most preemptions a schedule may have; a
	// negative value means no bound. 0 explores only the choices at thread
	// starts, ends and blocks; CHESS found most bugs with 2.
	PreemptionBound int
	// MaxSchedules stops the search after this many schedules [100000].
	MaxSchedules int
	// MaxSteps fails a schedule that makes more decisions [20000].
	MaxSteps int
	// DeadlockTimeout fails a schedule whose unfinished threads are all
	// blocked for this long [5s].
	DeadlockTimeout time.Duration
	// Poll is how long the scheduler waits for a granted thread before it
	// looks whether the thread blocked [100µs].
	Poll time.Duration
}

func (c Config) withDefaults() Config {
	if c.MaxSchedules <= 0 {
		c.MaxSchedules = 100000
	}
	if c.MaxSteps <= 0 {
		c.MaxSteps = 20000
	}
	if c.DeadlockTimeout <= 0 {
		c.DeadlockTimeout = 5 * time.Second
	}
	if c.Poll <= 0 {
		c.Poll = 100 * time.Microsecond
	}
	return c
}

// Scenario sets up fresh state, starts its threads with r.Go, runs them
// with r.Wait and checks its properties. It runs once per schedule.
type Scenario func(r *Run) error

// Step is one decision of a schedule: the thread granted and the point it
// was parked at ("start" before its first instruction).
type Step struct {
	Thread  int
	Name    string // the thread's name
	Point   string
	Preempt bool // the previous thread could have gone on
}

// Failure is a schedule whose scenario failed.
type Failure struct {
	Schedule int   // 1-based index of the schedule in the search
	Choices  []int // the thread granted at each decision: Replay's input
	Trace    []Step
	Err      error
}

func (f *Failure) Error() string {
	return fmt.Sprintf("schedule %d failed: %v\nchoices: %s\n%s", f.Schedule, f.Err, FormatChoices(f.Choices), FormatTrace(f.Trace))
}

// Result is the outcome of an exploration.
type Result struct {
	Schedules int  // schedules run
	Complete  bool // every schedule within the bound was run (and none failed)
	MaxSteps  int  // most decisions in one schedule
	Blocks    int  // times a granted thread was found blocked in real synchronization
	Reruns    int  // schedules run again after their replay diverged (timing of goroutines outside the schedule)
	Bound     int
	Elapsed   time.Duration
	Failure   *Failure // the first failing schedule, where the search stopped
}

func (r Result) String() string {
	s := fmt.Sprintf("%d schedules, preemption bound %d, longest %d decisions, %d blocks seen, %d reruns, %v", r.Schedules, r.Bound, r.MaxSteps, r.Blocks, r.Reruns, r.Elapsed.Round(time.Millisecond))
	switch {
	case r.Failure != nil:
		s += fmt.Sprintf(", FAILED at schedule %d", r.Failure.Schedule)
	case r.Complete:
		s += ", space exhausted"
	default:
		s += ", stopped at the schedule cap: space NOT exhausted"
	}
	return s
}

// FormatChoices prints choices compactly: runs of one thread as t*n.
func FormatChoices(c []int) string {
	var b strings.Builder
	for i := 0; i < len(c); {
		j := i
		for j < len(c) && c[j] == c[i] {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%d*%d", c[i], j-i)
		i = j
	}
	return b.String()
}

// ParseChoices parses what FormatChoices prints ("0*31 1*2 0*4").
func ParseChoices(s string) ([]int, error) {
	var c []int
	for _, run := range strings.Fields(s) {
		var th, n int
		if _, err := fmt.Sscanf(run, "%d*%d", &th, &n); err != nil || th < 0 || n < 1 {
			return nil, fmt.Errorf("lfsched: bad run %q in choices %q", run, s)
		}
		for range n {
			c = append(c, th)
		}
	}
	return c, nil
}

// FormatTrace prints a schedule one decision a line, preemptions marked.
func FormatTrace(tr []Step) string {
	var b strings.Builder
	for i, s := range tr {
		mark := " "
		if s.Preempt {
			mark = "!"
		}
		fmt.Fprintf(&b, "%4d %s %s resumes from %s\n", i, mark, s.Name, s.Point)
	}
	return b.String()
}

// maxReruns is how many times a schedule whose replay diverged is run
// again before the divergence is reported.
const maxReruns = 5

// errNondeterministic reports a replayed prefix that offered other choices.
var errNondeterministic = errors.New("lfsched: replay offered different choices: the scenario is not deterministic under the scheduler")

// Explore runs scenario under every schedule within cfg's bounds, depth
// first, and stops at the first failure. Only one exploration may run at a
// time in a process (the hook is global).
func Explore(cfg Config, scenario Scenario) Result {
	cfg = cfg.withDefaults()
	start := time.Now()
	ex := &explorer{bound: cfg.PreemptionBound}
	res := Result{Bound: cfg.PreemptionBound}
	defer installHook()()
	reruns := 0
	for {
		ex.begin()
		r := newRun(cfg, ex)
		err := r.exec(scenario)
		if errors.Is(err, errNondeterministic) && reruns < maxReruns {
			// A thread blocked on a goroutine outside the schedule (the
			// log's I/O goroutine holding the ring lock, say) for longer
			// than usual; run the same schedule again.
			reruns++
			res.Reruns++
			continue
		}
		reruns = 0
		res.Schedules++
		res.MaxSteps = max(res.MaxSteps, len(r.trace))
		res.Blocks += r.blocks
		if err != nil {
			res.Failure = &Failure{Schedule: res.Schedules, Choices: r.choices(), Trace: r.trace, Err: err}
			break
		}
		if !ex.next() {
			res.Complete = true
			break
		}
		if res.Schedules >= cfg.MaxSchedules {
			break
		}
	}
	res.Elapsed = time.Since(start)
	return res
}

// Replay runs scenario once under the schedule choices (as reported by a
// Failure), continuing past them without preemption, and returns the trace
// and the scenario's error.
func Replay(cfg Config, choices []int, scenario Scenario) ([]Step, error) {
	cfg = cfg.withDefaults()
	defer installHook()()
	ex := &explorer{bound: -1, forced: choices}
	ex.begin()
	r := newRun(cfg, ex)
	err := r.exec(scenario)
	return r.trace, err
}

// hookMu makes explorations exclusive.
var hookMu sync.Mutex

func installHook() (restore func()) {
	hookMu.Lock()
	h := func(name string) {
		if th := lookup(); th != nil {
			th.run.park(th, name)
		}
	}
	prev := lfdelay.Hook.Swap(&h)
	return func() {
		lfdelay.Hook.Store(prev)
		hookMu.Unlock()
	}
}

// registry maps the goroutine id of each controlled thread to its thread.
var registry sync.Map // int64 -> *thread

// registered counts the controlled threads alive, so that points outside
// an exploration's threads cost one atomic load when none is.
var registered atomic.Int64

func lookup() *thread {
	if registered.Load() == 0 {
		return nil
	}
	if v, ok := registry.Load(goid()); ok {
		return v.(*thread)
	}
	return nil
}

// goid returns the id of the calling goroutine, parsed from the header
// line of its stack trace ("goroutine 18 [running]:").
func goid() int64 {
	var buf [64]byte
	n := runtime.Stack(buf[:], false)
	b := bytes.TrimPrefix(buf[:n], []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		panic("lfsched: cannot parse goroutine id from " + strconv.Quote(string(buf[:n])))
	}
	return id
}

// Thread states.
const (
	stRunning = iota // granted (or starting), not yet parked
	stParked         // at a point, waiting for a grant
	stBlocked        // granted, then found waiting in real synchronization
	stDone           // returned (or panicked)
)

type thread struct {
	run     *Run
	idx     int
	name    string
	goid    int64
	grant   chan struct{}
	state   int    // protected by run.mu
	point   string // where it is parked; protected by run.mu
	suspect int    // consecutive dumps that showed it waiting; protected by run.mu
}

// blockConfirmations is how many consecutive dumps, Config.Poll apart, must
// show a running thread waiting before it counts as blocked.
const blockConfirmations = 3

// Run is one execution of a scenario under one schedule.
type Run struct {
	cfg     Config
	ex      *explorer
	wake    chan struct{} // a thread parked or finished; capacity 1
	threads []*thread
	trace   []Step
	current int // thread that ran last, -1 before the first grant
	blocks  int // threads found blocked; protected by mu
	waited  bool
	// before holds the goroutines that existed when the run began; the
	// others, but the threads, are helpers the scenario started (a log's
	// I/O goroutine, say). Written once by newRun.
	before map[int64]bool

	mu struct {
		sync.Mutex
		errs      []error // thread panics and Errorf; protected by mu
		abandoned bool    // threads run freely (after a failure); protected by mu
	}
}

func newRun(cfg Config, ex *explorer) *Run {
	r := &Run{cfg: cfg, ex: ex, wake: make(chan struct{}, 1), current: -1, before: map[int64]bool{}}
	for id := range goroutineStates() {
		r.before[id] = true
	}
	return r
}

// Go starts a controlled thread running f. Call it before Wait.
func (r *Run) Go(name string, f func()) {
	if r.waited {
		panic("lfsched: Go after Wait")
	}
	th := &thread{run: r, idx: len(r.threads), name: name, grant: make(chan struct{}, 1)}
	r.threads = append(r.threads, th)
	go func() {
		id := goid()
		r.mu.Lock()
		th.goid = id
		r.mu.Unlock()
		registry.Store(id, th)
		registered.Add(1)
		defer func() {
			if p := recover(); p != nil {
				r.Errorf("thread %s panicked: %v\n%s", th.name, p, debugStack())
			}
			registry.Delete(id)
			registered.Add(-1)
			r.mu.Lock()
			th.state = stDone
			r.mu.Unlock()
			r.signal()
		}()
		r.park(th, "start")
		f()
	}()
}

func debugStack() []byte {
	buf := make([]byte, 16<<10)
	return buf[:runtime.Stack(buf, false)]
}

// Errorf records a failed property; the schedule fails. Safe from any
// goroutine.
func (r *Run) Errorf(format string, args ...any) {
	r.mu.Lock()
	r.mu.errs = append(r.mu.errs, fmt.Errorf(format, args...))
	r.mu.Unlock()
}

func (r *Run) signal() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// park stops th at point name until the scheduler grants it.
func (r *Run) park(th *thread, name string) {
	r.mu.Lock()
	if r.mu.abandoned {
		r.mu.Unlock()
		return
	}
	th.state = stParked
	th.point = name
	r.mu.Unlock()
	r.signal()
	<-th.grant
}

// exec runs scenario once.
func (r *Run) exec(scenario Scenario) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("scenario panicked: %v\n%s", p, debugStack())
		}
		r.abandon()
	}()
	err = scenario(r)
	if !r.waited && err == nil {
		err = errors.New("lfsched: the scenario did not call Wait")
	}
	// The threads' errors first: a property the scenario checks after
	// Wait often fails because a thread did.
	return errors.Join(r.err(), err)
}

func (r *Run) err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return errors.Join(r.mu.errs...)
}

// abandon lets every thread still under control run freely, so that a
// failed schedule leaves no goroutine parked forever.
func (r *Run) abandon() {
	r.mu.Lock()
	r.mu.abandoned = true
	var parked []*thread
	for _, th := range r.threads {
		if th.state == stParked {
			parked = append(parked, th)
		}
	}
	r.mu.Unlock()
	for _, th := range parked {
		th.grant <- struct{}{}
	}
}

// Wait runs the threads started with Go under the explorer's schedule
// until all have returned. A deadlock, a diverging replay or a schedule over
// MaxSteps fails the run; the threads are then released to run freely, and
// Wait waits (up to DeadlockTimeout) for them to return, so that the
// scenario's checks do not race with them.
func (r *Run) Wait() {
	if r.waited {
		panic("lfsched: Wait twice")
	}
	r.waited = true
	if err := r.schedule(); err != nil {
		r.mu.Lock()
		r.mu.errs = append(r.mu.errs, err)
		r.mu.Unlock()
		r.abandon()
		deadline := time.Now().Add(r.cfg.DeadlockTimeout)
		for time.Now().Before(deadline) {
			if _, done := r.enabled(); done {
				break
			}
			time.Sleep(r.cfg.Poll)
		}
	}
}

func (r *Run) schedule() error {
	for {
		if err := r.settle(); err != nil {
			return err
		}
		enabled, done := r.enabled()
		if done {
			return nil
		}
		if len(r.trace) >= r.cfg.MaxSteps {
			return fmt.Errorf("lfsched: more than %d decisions: a thread running alone does not finish (livelock, or a wait the points cannot see)", r.cfg.MaxSteps)
		}
		// A thread parked at a Yield waits for another one's progress: while
		// others can run, it is not offered, and switching away from it is
		// no preemption (CHESS's fairness for spin-waits). This keeps a
		// spin-wait from making the schedule space infinite.
		cur := r.current
		if cur >= 0 && strings.HasPrefix(r.threads[cur].point, lfdelay.YieldPrefix) {
			if others := slices.DeleteFunc(slices.Clone(enabled), func(t int) bool { return t == cur }); len(others) > 0 {
				enabled = others
			}
			cur = -1
		}
		pick, preempt, err := r.ex.choose(enabled, cur)
		if err != nil {
			return err
		}
		th := r.threads[pick]
		r.mu.Lock()
		r.trace = append(r.trace, Step{Thread: pick, Name: th.name, Point: th.point, Preempt: preempt})
		th.state = stRunning
		r.mu.Unlock()
		r.current = pick
		th.grant <- struct{}{}
	}
}

// enabled returns the parked threads in index order, and whether every
// thread is done.
func (r *Run) enabled() (ids []int, done bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	done = true
	for _, th := range r.threads {
		if th.state == stParked {
			ids = append(ids, th.idx)
		}
		if th.state != stDone {
			done = false
		}
	}
	return ids, done
}

// settle waits until no thread is running: each has parked, finished or
// been found blocked, and every blocked one is still blocked. It spins
// (yielding its P) rather than sleeping on r.wake: a granted thread then
// runs on the scheduler's own P and hands back within microseconds, where a
// sleep and a wake-up through the OS cost tens of them per decision.
func (r *Run) settle() error {
	var allBlockedSince, helpersSince time.Time
	lastCheck := time.Now()
	for spins := 0; ; spins++ {
		running, blocked, parked := r.counts()
		if running == 0 && blocked == 0 {
			return nil
		}
		if running == 0 {
			// Confirm the blocked ones are still blocked; wake ups by
			// goroutines outside the schedule show here. A blocked thread
			// may wait for a helper that is still running (the log's I/O
			// goroutine holding the ring lock, say): the choices offered
			// are fixed only once every helper waits too, so wait for that
			// (for a while: a helper may never rest).
			woke, helpersBusy := r.reclassify()
			if woke {
				continue
			}
			if helpersBusy && (helpersSince.IsZero() || time.Since(helpersSince) < helperPatience) {
				if helpersSince.IsZero() {
					helpersSince = time.Now()
				}
				runtime.Gosched()
				continue
			}
			if parked > 0 {
				return nil
			}
			if allBlockedSince.IsZero() {
				allBlockedSince = time.Now()
			} else if time.Since(allBlockedSince) > r.cfg.DeadlockTimeout {
				return r.deadlock()
			}
			select {
			case <-r.wake:
			case <-time.After(r.cfg.Poll):
			}
			continue
		}
		allBlockedSince = time.Time{}
		runtime.Gosched()
		if spins%32 == 31 && time.Since(lastCheck) > r.cfg.Poll {
			_, _ = r.reclassify()
			lastCheck = time.Now()
		}
	}
}

func (r *Run) counts() (running, blocked, parked int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, th := range r.threads {
		switch th.state {
		case stRunning:
			running++
		case stBlocked:
			blocked++
		case stParked:
			parked++
		}
	}
	return
}

// helperPatience bounds how long settle waits for the helpers to rest.
const helperPatience = time.Second

// reclassify reads the state of every running or blocked thread from a
// goroutine dump and reports whether a blocked one is runnable again, and
// whether, in the same dump, a helper goroutine ran while some thread was
// blocked.
func (r *Run) reclassify() (woke, helpersBusy bool) {
	st := goroutineStates()
	r.mu.Lock()
	defer r.mu.Unlock()
	threads := map[int64]bool{}
	anyBlocked := false
	for _, th := range r.threads {
		threads[th.goid] = true
		anyBlocked = anyBlocked || th.state == stBlocked
	}
	if anyBlocked {
		for id, s := range st {
			if !r.before[id] && !threads[id] && !waiting(s) {
				helpersBusy = true
				break
			}
		}
	}
	for _, th := range r.threads {
		// A thread that parked after the dump is Parked now: its state
		// is set before it waits for the grant, so the dump cannot show
		// it waiting in park while the state says Running.
		// A running goroutine can show a waiting state for a moment (one
		// that starts a garbage collection waits in "semacquire"), so a
		// thread is blocked only when consecutive dumps agree.
		switch s, ok := st[th.goid]; {
		case th.state == stRunning && ok && waiting(s):
			if th.suspect++; th.suspect >= blockConfirmations {
				th.state = stBlocked
				th.suspect = 0
				r.blocks++
			}
		case th.state == stRunning:
			th.suspect = 0
		case th.state == stBlocked && (!ok || !waiting(s)):
			th.state = stRunning
			woke = true
		}
	}
	return woke, helpersBusy
}

func (r *Run) deadlock() error {
	var names []string
	r.mu.Lock()
	for _, th := range r.threads {
		if th.state == stBlocked {
			names = append(names, th.name)
		}
	}
	r.mu.Unlock()
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	return fmt.Errorf("lfsched: deadlock: threads %v blocked for %v\n%s", names, r.cfg.DeadlockTimeout, buf)
}

// waiting reports whether a goroutine status from a dump means that the
// goroutine waits for another one.
func waiting(status string) bool {
	for _, p := range []string{"chan receive", "chan send", "select", "sync.", "semacquire", "sleep", "IO wait"} {
		if strings.HasPrefix(status, p) {
			return true
		}
	}
	return false
}

// goroutineStates returns the status of every goroutine, by id.
func goroutineStates() map[int64]string {
	buf := make([]byte, 64<<10)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	st := map[int64]string{}
	for _, line := range bytes.Split(buf, []byte("\n")) {
		rest, ok := bytes.CutPrefix(line, []byte("goroutine "))
		if !ok {
			continue
		}
		sp := bytes.IndexByte(rest, ' ')
		if sp < 0 {
			continue
		}
		id, err := strconv.ParseInt(string(rest[:sp]), 10, 64)
		if err != nil {
			continue
		}
		s := rest[sp+1:]
		if len(s) < 2 || s[0] != '[' {
			continue
		}
		if e := bytes.IndexByte(s, ']'); e > 0 {
			s = s[1:e]
		}
		st[id] = string(s)
	}
	return st
}

func (r *Run) choices() []int {
	c := make([]int, len(r.trace))
	for i, s := range r.trace {
		c[i] = s.Thread
	}
	return c
}

// decision is one scheduling decision of the current schedule.
type decision struct {
	alts    []int // enabled threads: the one that ran last first (if enabled), then ascending
	pos     int   // index in alts of the thread granted
	preempt int   // preemptions before this decision
	cur     bool  // alts[0] is the thread that ran last
}

// explorer enumerates schedules depth first.
type explorer struct {
	bound  int // -1: none
	stack  []decision
	k      int   // next decision of the current schedule
	forced []int // Replay: the threads to grant first
}

func (e *explorer) begin() { e.k = 0 }

// choose picks the thread to grant among enabled (ascending), cur being
// the thread that ran last, and reports whether that preempts cur.
func (e *explorer) choose(enabled []int, cur int) (int, bool, error) {
	alts := enabled
	curOn := cur >= 0 && slices.Contains(enabled, cur)
	if curOn {
		alts = append([]int{cur}, slices.DeleteFunc(slices.Clone(enabled), func(t int) bool { return t == cur })...)
	}
	k := e.k
	e.k++
	if e.forced != nil {
		if k < len(e.forced) {
			pick := e.forced[k]
			if !slices.Contains(alts, pick) {
				return 0, false, fmt.Errorf("%w: decision %d: thread %d not among %v", errNondeterministic, k, pick, alts)
			}
			return pick, curOn && pick != cur, nil
		}
		return alts[0], false, nil
	}
	if k < len(e.stack) {
		d := &e.stack[k]
		if !slices.Equal(d.alts, alts) || d.cur != curOn {
			return 0, false, fmt.Errorf("%w: decision %d offers %v, the earlier run offered %v", errNondeterministic, k, alts, d.alts)
		}
		return alts[d.pos], curOn && d.pos > 0, nil
	}
	pre := 0
	if k > 0 {
		p := e.stack[k-1]
		pre = p.preempt
		if p.cur && p.pos > 0 {
			pre++
		}
	}
	e.stack = append(e.stack, decision{alts: alts, pos: 0, preempt: pre, cur: curOn})
	return alts[0], false, nil
}

// next moves to the next schedule: the deepest decision with an untried
// alternative within the bound gets it, and what follows is forgotten.
func (e *explorer) next() bool {
	// The decisions past the end of the last run (if it stopped early)
	// are not part of it.
	e.stack = e.stack[:min(len(e.stack), e.k)]
	for k := len(e.stack) - 1; k >= 0; k-- {
		d := &e.stack[k]
		if d.pos+1 >= len(d.alts) {
			continue
		}
		cost := d.preempt
		if d.cur {
			cost++ // every alternative after the first preempts
		}
		if e.bound >= 0 && cost > e.bound {
			continue
		}
		d.pos++
		e.stack = e.stack[:k+1]
		return true
	}
	return false
}
