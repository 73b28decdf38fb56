package elle

import (
	"errors"
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"testing"
)

// ---- history construction helpers ----

func ap(k string, v int) Op { return Op{Kind: Append, Key: k, Value: v} }

func rd(k string, l ...int) Op { return Op{Kind: Read, Key: k, List: l} }

func ok(id int, ops ...Op) Txn { return Txn{ID: id, Ops: ops, Committed: true} }

func aborted(id int, ops ...Op) Txn { return Txn{ID: id, Ops: ops} }

// anomalyOf runs Check and the unguarded check, insists that they agree and
// that a non-nil result is an *Anomaly, and returns it.
func anomalyOf(t *testing.T, h []Txn) *Anomaly {
	t.Helper()
	err := Check(h)
	raw := check(h)
	if (err == nil) != (raw == nil) || (raw != nil && err.Error() != raw.Error()) {
		t.Fatalf("Check and check disagree: %v vs %v", err, raw)
	}
	if err == nil {
		return nil
	}
	var a *Anomaly
	if !errors.As(err, &a) {
		t.Fatalf("Check returned %T (%v), want *Anomaly", err, err)
	}
	return a
}

func wantPass(t *testing.T, h []Txn) {
	t.Helper()
	if a := anomalyOf(t, h); a != nil {
		t.Fatalf("Check reported an anomaly for a valid history: %v", a)
	}
}

func wantKind(t *testing.T, h []Txn, kinds ...string) *Anomaly {
	t.Helper()
	a := anomalyOf(t, h)
	if a == nil {
		t.Fatalf("Check passed, want an anomaly of kind %v", kinds)
	}
	for _, k := range kinds {
		if a.Kind == k {
			t.Logf("%v", a)
			return a
		}
	}
	t.Fatalf("Check reported %v, want kind %v", a, kinds)
	return nil
}

func sameIDs(got []int, want ...int) bool {
	g := append([]int(nil), got...)
	w := append([]int(nil), want...)
	sort.Ints(g)
	sort.Ints(w)
	return fmt.Sprint(g) == fmt.Sprint(w)
}

// ---- hand-built histories ----

func TestValidHandBuilt(t *testing.T) {
	cases := map[string][]Txn{
		"empty":        nil,
		"only aborted": {aborted(1, ap("x", 1), rd("x", 1))},
		"empty reads":  {ok(1, rd("x"), rd("y", []int{}...)), ok(2, rd("x"))},
		"read own appends": {
			ok(0, ap("x", 1)),
			ok(1, ap("x", 2), rd("x", 1, 2), ap("x", 3), rd("x", 1, 2, 3)),
			ok(2, rd("x", 1)),
			ok(3, rd("x", 1, 2, 3)),
		},
		// T1's read strips its own append: it read [1], so T2, which read
		// [] and [1], fits between T0 and T1.
		"own appends stripped": {
			ok(0, ap("x", 1)),
			ok(1, ap("x", 2), rd("x", 1, 2)),
			ok(2, rd("x", 1), rd("y")),
			ok(3, ap("y", 7)),
			ok(4, rd("x", 1, 2), rd("y", 7)),
		},
		"unobserved appends give no edges": {
			ok(1, ap("x", 1), rd("y")),
			ok(2, ap("y", 2), rd("x")),
		},
		"aborted append never observed": {
			aborted(1, ap("x", 1)),
			ok(2, ap("x", 2)),
			ok(3, rd("x", 2)),
		},
		"aborted txn reads are ignored": {
			ok(1, ap("x", 1)),
			aborted(2, rd("x", 99), rd("x", 1, 1)),
			ok(3, rd("x", 1)),
		},
		"multiple appends read at the end": {
			ok(1, ap("x", 1), ap("x", 2), ap("y", 3)),
			ok(2, rd("x", 1, 2), rd("y", 3), ap("x", 4)),
			ok(3, rd("x", 1, 2, 4)),
		},
		"history order is irrelevant": {
			ok(3, rd("x", 1, 2, 3)),
			ok(2, rd("x", 1, 2), ap("x", 3)),
			ok(1, rd("x", 1), ap("x", 2)),
			ok(0, rd("x"), ap("x", 1)),
		},
	}
	for _, name := range sortedKeys(cases) {
		t.Run(name, func(t *testing.T) { wantPass(t, cases[name]) })
	}
}

func TestWriteSkew(t *testing.T) {
	h := []Txn{
		ok(1, rd("x"), rd("y"), ap("x", 1)),
		ok(2, rd("x"), rd("y"), ap("y", 2)),
		ok(3, rd("x", 1), rd("y", 2)),
	}
	a := wantKind(t, h, KindG2)
	if !sameIDs(a.Txns, 1, 2) {
		t.Errorf("Txns = %v, want T1 and T2", a.Txns)
	}
	for _, s := range []string{"-rw(x)->", "-rw(y)->"} {
		if !strings.Contains(a.Detail, s) {
			t.Errorf("Detail %q lacks %q", a.Detail, s)
		}
	}
}

func TestLostUpdate(t *testing.T) {
	h := []Txn{
		ok(0, ap("x", 1)),
		ok(1, rd("x", 1), ap("x", 2)),
		ok(2, rd("x", 1), ap("x", 3)),
		ok(3, rd("x", 1, 2, 3)),
	}
	a := wantKind(t, h, KindGSingle)
	if want := "T2 -rw(x)-> T1 -ww(x)-> T2"; !strings.HasPrefix(a.Detail, want) {
		t.Errorf("Detail = %q, want it to start with %q", a.Detail, want)
	}
	if fmt.Sprint(a.Txns) != "[2 1]" {
		t.Errorf("Txns = %v, want [2 1] (cycle order)", a.Txns)
	}
}

func TestReadSkew(t *testing.T) {
	h := []Txn{
		ok(0, ap("x", 1), ap("y", 10)),
		ok(1, ap("x", 2), ap("y", 20)),
		ok(2, rd("x", 1), rd("y", 10, 20)),
		ok(3, rd("x", 1, 2), rd("y", 10, 20)),
	}
	a := wantKind(t, h, KindGSingle)
	if !sameIDs(a.Txns, 1, 2) {
		t.Errorf("Txns = %v, want T1 and T2", a.Txns)
	}
}

func TestNonRepeatableRead(t *testing.T) {
	h := []Txn{
		ok(1, rd("x"), rd("x", 5)),
		ok(2, ap("x", 5)),
	}
	wantKind(t, h, KindGSingle)
}

func TestG0(t *testing.T) {
	h := []Txn{
		ok(1, ap("x", 1), ap("y", 2)),
		ok(2, ap("x", 3), ap("y", 4)),
		ok(3, rd("x", 1, 3)),
		ok(4, rd("y", 4, 2)),
	}
	a := wantKind(t, h, KindG0)
	if !sameIDs(a.Txns, 1, 2) {
		t.Errorf("Txns = %v, want T1 and T2", a.Txns)
	}
	if strings.Contains(a.Detail, "-wr(") || strings.Contains(a.Detail, "-rw(") {
		t.Errorf("G0 detail has non-ww edges: %q", a.Detail)
	}
}

func TestG1c(t *testing.T) {
	h := []Txn{
		ok(1, ap("x", 1), rd("y", 2)),
		ok(2, ap("y", 2), rd("x", 1)),
	}
	a := wantKind(t, h, KindG1c)
	if !strings.Contains(a.Detail, "-wr(x)->") || !strings.Contains(a.Detail, "-wr(y)->") {
		t.Errorf("Detail %q lacks the wr edges", a.Detail)
	}
}

// A G1c cycle whose wr edge into T1 only appears once T1's read of its own
// append is stripped (it also has a ww edge, which is preferred).
func TestG1cThroughOwnRead(t *testing.T) {
	h := []Txn{
		ok(0, ap("x", 1), rd("y", 5)),
		ok(1, ap("x", 2), rd("x", 1, 2), ap("y", 5)),
	}
	wantKind(t, h, KindG1c)
}

// G0 is preferred to the G2 cycle that the same history contains.
func TestPrefersStrongestCycle(t *testing.T) {
	h := []Txn{
		ok(1, rd("z"), ap("x", 1), ap("y", 2)),
		ok(2, rd("z"), ap("x", 3), ap("y", 4), ap("z", 9)),
		ok(3, ap("z", 8), rd("w")),
		ok(4, ap("w", 7), rd("z")),
		ok(5, rd("x", 1, 3), rd("y", 4, 2), rd("z", 8, 9), rd("w", 7)),
	}
	wantKind(t, h, KindG0)
}

func TestG1a(t *testing.T) {
	h := []Txn{
		aborted(1, ap("x", 1)),
		ok(2, rd("x", 1)),
	}
	a := wantKind(t, h, KindG1a)
	if !sameIDs(a.Txns, 1, 2) {
		t.Errorf("Txns = %v, want T1 and T2", a.Txns)
	}
}

func TestG1b(t *testing.T) {
	h := []Txn{
		ok(1, ap("x", 1), ap("x", 2)),
		ok(2, rd("x", 1)),
		ok(3, rd("x", 1, 2)),
	}
	a := wantKind(t, h, KindG1b)
	if !sameIDs(a.Txns, 1, 2) {
		t.Errorf("Txns = %v, want T1 and T2", a.Txns)
	}
	// Reading one's own intermediate append is fine.
	wantPass(t, []Txn{ok(1, ap("x", 1), rd("x", 1), ap("x", 2))})
}

func TestIncompatibleOrder(t *testing.T) {
	h := []Txn{
		ok(1, ap("x", 1)),
		ok(2, ap("x", 2)),
		ok(3, rd("x", 1, 2)),
		ok(4, rd("x", 2, 1)),
	}
	a := wantKind(t, h, KindIncompatibleOrder)
	if !sameIDs(a.Txns, 3, 4) {
		t.Errorf("Txns = %v, want T3 and T4", a.Txns)
	}
	// Two reads of the same length that differ.
	wantKind(t, []Txn{
		ok(1, ap("x", 1)),
		ok(2, ap("x", 2)),
		ok(3, rd("x", 1)),
		ok(4, rd("x", 2)),
	}, KindIncompatibleOrder)
	// A transaction's appends observed in the wrong order.
	a = wantKind(t, []Txn{
		ok(1, ap("x", 1), ap("x", 2)),
		ok(3, ap("x", 3)),
		ok(2, rd("x", 2, 1, 3)),
	}, KindIncompatibleOrder)
	if !sameIDs(a.Txns, 1) {
		t.Errorf("Txns = %v, want T1", a.Txns)
	}
}

func TestDuplicate(t *testing.T) {
	h := []Txn{
		ok(1, ap("x", 1)),
		ok(2, rd("x", 1, 1)),
	}
	a := wantKind(t, h, KindDuplicate)
	if !sameIDs(a.Txns, 2) {
		t.Errorf("Txns = %v, want T2", a.Txns)
	}
}

func TestInternal(t *testing.T) {
	cases := map[string]struct {
		h    []Txn
		want string // substring of Detail
	}{
		"garbage element": {
			[]Txn{ok(1, ap("x", 1)), ok(2, rd("x", 1, 99))},
			"garbage read",
		},
		"own append missing": {
			[]Txn{ok(1, ap("x", 1), rd("x"))},
			"does not end with those appends",
		},
		"own append not last": {
			[]Txn{ok(1, ap("x", 1)), ok(2, ap("x", 2), rd("x", 2, 1))},
			"does not end with those appends",
		},
		"own appends reordered": {
			[]Txn{ok(1, ap("x", 1), ap("x", 2), rd("x", 2, 1))},
			"does not end with those appends",
		},
		"future own append": {
			[]Txn{ok(1, rd("x", 1), ap("x", 1))},
			"only later",
		},
		"duplicate ID": {
			[]Txn{ok(1, ap("x", 1)), ok(1, rd("x"))},
			"share the ID 1",
		},
		"invalid op kind": {
			[]Txn{ok(1, Op{Kind: 7, Key: "x"})},
			"invalid kind OpKind(7)",
		},
		"zero op kind": {
			[]Txn{ok(1, Op{Key: "x"})},
			"invalid kind",
		},
		"value appended twice": {
			[]Txn{ok(1, ap("x", 1)), aborted(2, ap("x", 1))},
			"appended to key \"x\" twice",
		},
	}
	for _, name := range sortedKeys(cases) {
		t.Run(name, func(t *testing.T) {
			a := wantKind(t, cases[name].h, KindInternal)
			if !strings.Contains(a.Detail, cases[name].want) {
				t.Errorf("Detail %q lacks %q", a.Detail, cases[name].want)
			}
		})
	}
}

// The same value may be appended to different keys.
func TestValuesUniquePerKeyOnly(t *testing.T) {
	wantPass(t, []Txn{
		ok(1, ap("x", 1), ap("y", 1)),
		ok(2, rd("x", 1), rd("y", 1)),
	})
}

func TestAnomalyError(t *testing.T) {
	a := &Anomaly{Kind: KindG2, Txns: []int{3, 7}, Detail: "T3 -rw(x)-> T7 -rw(y)-> T3"}
	want := "elle: G2 anomaly involving [T3 T7]: T3 -rw(x)-> T7 -rw(y)-> T3"
	if got := a.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	var nilA *Anomaly
	if got := nilA.Error(); !strings.Contains(got, "nil") {
		t.Errorf("nil Error() = %q", got)
	}
	if got := fmtList([]int{1, 2, 3}); got != "[1 2 3]" {
		t.Errorf("fmtList = %q", got)
	}
	long := make([]int, 100)
	for i := range long {
		long[i] = i
	}
	if got := fmtList(long); !strings.Contains(got, "(88 elided)") || !strings.HasSuffix(got, "99]") {
		t.Errorf("fmtList(long) = %q", got)
	}
}

// A G0 cycle through n transactions: T_i appends to k_i and k_{i-1}, and
// the reads order T_i before T_{i+1} on k_i, wrapping around.
func longCycle(n int) []Txn {
	h := make([]Txn, 0, 2*n)
	key := func(i int) string { return fmt.Sprintf("k%d", (i+n)%n) }
	for i := 0; i < n; i++ {
		h = append(h, ok(i, ap(key(i), 2*i), ap(key(i-1), 2*i+1)))
	}
	for i := 0; i < n; i++ {
		next := (i + 1) % n
		h = append(h, ok(n+i, rd(key(i), 2*i, 2*next+1)))
	}
	return h
}

func TestLongCycle(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 2000
	}
	a := wantKindQuiet(t, longCycle(n), KindG0)
	if len(a.Txns) != n {
		t.Fatalf("cycle has %d transactions, want %d", len(a.Txns), n)
	}
}

func wantKindQuiet(t *testing.T, h []Txn, kind string) *Anomaly {
	t.Helper()
	a := anomalyOf(t, h)
	if a == nil || a.Kind != kind {
		t.Fatalf("Check = %v, want kind %s", a, kind)
	}
	return a
}

// ---- generated histories ----

type plannedOp struct {
	kind OpKind
	key  string
}

// randomPlan returns 1..maxOps random operations on nKeys keys; with
// readsFirst, all reads precede all appends (read-modify-write style).
func randomPlan(r *rand.Rand, nKeys, maxOps int, readsFirst bool) []plannedOp {
	ops := make([]plannedOp, 1+r.Intn(maxOps))
	for i := range ops {
		ops[i] = plannedOp{kind: Append, key: fmt.Sprintf("k%d", r.Intn(nKeys))}
		if r.Intn(2) == 0 {
			ops[i].kind = Read
		}
	}
	if readsFirst {
		sort.SliceStable(ops, func(a, b int) bool { return ops[a].kind == Read && ops[b].kind == Append })
	}
	return ops
}

func cloneInts(l []int) []int { return append([]int{}, l...) }

// finalRead is a committed transaction reading every key, so that the
// version orders are fully observed.
func finalRead(id, nKeys int, state map[string][]int) Txn {
	t := Txn{ID: id, Committed: true}
	for k := 0; k < nKeys; k++ {
		key := fmt.Sprintf("k%d", k)
		t.Ops = append(t.Ops, rd(key, cloneInts(state[key])...))
	}
	return t
}

// serialHistory executes n random transactions one after another against an
// in-memory map of lists; about one in ten aborts.
func serialHistory(seed int64, n, nKeys int) []Txn {
	r := rand.New(rand.NewSource(seed))
	state := make(map[string][]int)
	next := 1
	h := make([]Txn, 0, n+1)
	for i := 0; i < n; i++ {
		t := Txn{ID: i, Committed: r.Intn(10) != 0}
		local := make(map[string][]int)
		get := func(k string) []int {
			if l, ok := local[k]; ok {
				return l
			}
			return state[k]
		}
		for _, p := range randomPlan(r, nKeys, 5, false) {
			if p.kind == Append {
				local[p.key] = append(cloneInts(get(p.key)), next)
				t.Ops = append(t.Ops, ap(p.key, next))
				next++
			} else {
				t.Ops = append(t.Ops, rd(p.key, cloneInts(get(p.key))...))
			}
		}
		if t.Committed {
			for k, l := range local {
				state[k] = l
			}
		}
		h = append(h, t)
	}
	return append(h, finalRead(n, nKeys, state))
}

func TestSerialHistories(t *testing.T) {
	for _, seed := range []int64{1, 2, 3, 42, 1234, 99991} {
		h := serialHistory(seed, 500, 5)
		t.Logf("seed %d: %d transactions", seed, len(h))
		if a := anomalyOf(t, h); a != nil {
			t.Fatalf("seed %d: serial history rejected: %v", seed, a)
		}
	}
}

func TestLargeSerialHistory(t *testing.T) {
	n := 100000
	if testing.Short() {
		n = 5000
	}
	h := serialHistory(7, n, n/50)
	if a := anomalyOf(t, h); a != nil {
		t.Fatalf("serial history rejected: %v", a)
	}
}

// locking says how the simulated database isolates transactions.
type locking int

const (
	noLocks    locking = iota // none: transactions interleave freely
	globalLock                // one transaction at a time: serial
	keyLocks                  // conservative two-phase locking per key: serializable
)

type simTxn struct {
	txn    Txn
	plan   []plannedOp
	pc     int
	keys   []string
	snap   map[string][]int // start-of-transaction snapshot (snapshot reads)
	writes map[string][]int // buffered appends, applied at commit
}

// simConfig describes a simulated database run.
type simConfig struct {
	seed    int64
	n       int // transactions
	nKeys   int
	maxConc int // most transactions running at once
	lock    locking
	// snapshotReads: reads see a snapshot taken at transaction start plus
	// the transaction's own appends (snapshot isolation without
	// first-committer-wins: lost updates and write skew are possible);
	// otherwise they see the current committed state plus own appends.
	snapshotReads bool
	// dirty: appends go straight into the shared state, visible to all,
	// and an abort removes them again (read uncommitted); reads see the
	// shared state. Overrides snapshotReads.
	dirty bool
	// readsFirst: every transaction does all its reads before its appends.
	readsFirst bool
}

// simulate runs cfg.n random transactions with random interleaving against
// a simulated database. Unless cfg.dirty, appends are buffered and applied
// at commit without any validation. The history is returned in completion
// order, followed by a final read of every key.
func simulate(cfg simConfig) []Txn {
	r := rand.New(rand.NewSource(cfg.seed))
	maxConc := cfg.maxConc
	if cfg.lock == globalLock {
		maxConc = 1
	}
	state := make(map[string][]int)
	held := make(map[string]bool)
	next := 1
	pending := make([]*simTxn, cfg.n)
	for i := range pending {
		s := &simTxn{
			txn:    Txn{ID: i, Committed: r.Intn(10) != 0},
			plan:   randomPlan(r, cfg.nKeys, 4, cfg.readsFirst),
			writes: make(map[string][]int),
		}
		seen := make(map[string]bool)
		for _, p := range s.plan {
			if !seen[p.key] {
				seen[p.key] = true
				s.keys = append(s.keys, p.key)
			}
		}
		pending[i] = s
	}
	var running []*simTxn
	var h []Txn
	canStart := func(s *simTxn) bool {
		if len(running) >= maxConc {
			return false
		}
		if cfg.lock == keyLocks {
			for _, k := range s.keys {
				if held[k] {
					return false
				}
			}
		}
		return true
	}
	for len(pending) > 0 || len(running) > 0 {
		if len(pending) > 0 && canStart(pending[0]) && (len(running) == 0 || r.Intn(3) == 0) {
			s := pending[0]
			pending = pending[1:]
			if cfg.lock == keyLocks {
				for _, k := range s.keys {
					held[k] = true
				}
			}
			if cfg.snapshotReads {
				s.snap = make(map[string][]int, len(state))
				for k, l := range state {
					s.snap[k] = cloneInts(l)
				}
			}
			running = append(running, s)
			continue
		}
		i := r.Intn(len(running))
		s := running[i]
		if s.pc < len(s.plan) {
			p := s.plan[s.pc]
			s.pc++
			switch {
			case p.kind == Append:
				if cfg.dirty {
					state[p.key] = append(state[p.key], next)
				} else {
					s.writes[p.key] = append(s.writes[p.key], next)
				}
				s.txn.Ops = append(s.txn.Ops, ap(p.key, next))
				next++
			case cfg.dirty:
				s.txn.Ops = append(s.txn.Ops, rd(p.key, cloneInts(state[p.key])...))
			default:
				base := state[p.key]
				if cfg.snapshotReads {
					base = s.snap[p.key]
				}
				s.txn.Ops = append(s.txn.Ops, rd(p.key, append(cloneInts(base), s.writes[p.key]...)...))
			}
			continue
		}
		switch {
		case cfg.dirty && !s.txn.Committed:
			mine := make(map[int]bool)
			for _, op := range s.txn.Ops {
				if op.Kind == Append {
					mine[op.Value] = true
				}
			}
			for _, k := range s.keys {
				var kept []int
				for _, v := range state[k] {
					if !mine[v] {
						kept = append(kept, v)
					}
				}
				state[k] = kept
			}
		case !cfg.dirty && s.txn.Committed:
			for _, k := range s.keys {
				state[k] = append(state[k], s.writes[k]...)
			}
		}
		if cfg.lock == keyLocks {
			for _, k := range s.keys {
				held[k] = false
			}
		}
		running = append(running[:i], running[i+1:]...)
		h = append(h, s.txn)
	}
	return append(h, finalRead(cfg.n, cfg.nKeys, state))
}

func TestConcurrentSerializable(t *testing.T) {
	for _, seed := range []int64{1, 2, 3, 4, 5} {
		h := simulate(simConfig{seed: seed, n: 400, nKeys: 6, maxConc: 5, lock: keyLocks})
		r := rand.New(rand.NewSource(seed))
		r.Shuffle(len(h), func(i, j int) { h[i], h[j] = h[j], h[i] })
		t.Logf("seed %d: %d transactions under per-key two-phase locking, history shuffled", seed, len(h))
		if a := anomalyOf(t, h); a != nil {
			t.Fatalf("seed %d: serializable history rejected: %v", seed, a)
		}
	}
	// A fixed concurrent history: T1 and T2 overlap on disjoint keys, T3
	// overlaps both and serializes after them.
	wantPass(t, []Txn{
		ok(3, rd("x", 1), rd("y", 2), ap("x", 3)),
		ok(1, rd("x"), ap("x", 1)),
		ok(2, rd("y"), ap("y", 2)),
		ok(4, rd("x", 1, 3), rd("y", 2)),
	})
}

func TestSerialExecutorWithGlobalLock(t *testing.T) {
	for _, seed := range []int64{1, 2, 3, 4, 5} {
		for _, snap := range []bool{false, true} {
			h := simulate(simConfig{seed: seed, n: 300, nKeys: 4, maxConc: 6, lock: globalLock, snapshotReads: snap})
			t.Logf("seed %d snapshotReads=%v: %d transactions", seed, snap, len(h))
			if a := anomalyOf(t, h); a != nil {
				t.Fatalf("seed %d: serial history rejected: %v", seed, a)
			}
		}
	}
}

func TestBuggyDatabaseDetected(t *testing.T) {
	seeds := []int64{1, 2, 3, 4, 5}
	found := 0
	for _, seed := range seeds {
		h := simulate(simConfig{seed: seed, n: 300, nKeys: 4, maxConc: 6, snapshotReads: true})
		a := anomalyOf(t, h)
		if a == nil {
			t.Logf("seed %d: no anomaly found", seed)
			continue
		}
		found++
		t.Logf("seed %d: %s: %.200s", seed, a.Kind, a.Detail)
		if again := Check(h); again == nil || again.Error() != a.Error() {
			t.Fatalf("seed %d: Check is not deterministic: %v then %v", seed, a, again)
		}
	}
	if found == 0 {
		t.Fatalf("no anomaly found in the snapshot-isolation executor for any of seeds %v", seeds)
	}
}

// With all reads before all appends, snapshot reads never disagree about the
// version order, so the executor's bugs can only show as dependency cycles.
func TestBuggyDatabaseCycles(t *testing.T) {
	seeds := []int64{1, 2, 3, 4, 5}
	found := 0
	for _, seed := range seeds {
		h := simulate(simConfig{seed: seed, n: 300, nKeys: 4, maxConc: 6, snapshotReads: true, readsFirst: true})
		a := anomalyOf(t, h)
		if a == nil {
			t.Logf("seed %d: no anomaly found", seed)
			continue
		}
		t.Logf("seed %d: %s: %.200s", seed, a.Kind, a.Detail)
		switch a.Kind {
		case KindGSingle, KindG2:
			found++
		default:
			t.Fatalf("seed %d: snapshot isolation produced %v, want only G-single or G2", seed, a)
		}
	}
	if found == 0 {
		t.Fatalf("no dependency cycle found for any of seeds %v", seeds)
	}
}

// serializableByBruteForce reports whether some serial order of the
// committed transactions of h, executed from empty lists, produces exactly
// the observed reads. Only for small histories.
func serializableByBruteForce(h []Txn) bool {
	var committed []Txn
	for _, t := range h {
		if t.Committed {
			committed = append(committed, t)
		}
	}
	perm := make([]int, len(committed))
	for i := range perm {
		perm[i] = i
	}
	replay := func() bool {
		state := make(map[string][]int)
		for _, i := range perm {
			for _, op := range committed[i].Ops {
				if op.Kind == Append {
					state[op.Key] = append(state[op.Key], op.Value)
				} else if !equalInts(op.List, state[op.Key]) {
					return false
				}
			}
		}
		return true
	}
	// Heap's algorithm over all permutations.
	c := make([]int, len(perm))
	if replay() {
		return true
	}
	for i := 0; i < len(perm); {
		if c[i] < i {
			if i%2 == 0 {
				perm[0], perm[i] = perm[i], perm[0]
			} else {
				perm[c[i]], perm[i] = perm[i], perm[c[i]]
			}
			if replay() {
				return true
			}
			c[i]++
			i = 0
		} else {
			c[i] = 0
			i++
		}
	}
	return false
}

// Check must be sound: whatever it reports must make the history
// non-serializable, as judged by trying every serial order. Small random
// histories from all simulated databases (serial, locking, snapshot
// isolation, read-uncommitted) are cross-checked.
func TestSoundnessAgainstBruteForce(t *testing.T) {
	kinds := make(map[string]int)
	missed, nonSerializable := 0, 0
	iters := 3000
	if testing.Short() {
		iters = 300
	}
	for i := 0; i < iters; i++ {
		r := rand.New(rand.NewSource(int64(i)))
		cfg := simConfig{
			seed:          int64(i),
			n:             2 + r.Intn(5),
			nKeys:         1 + r.Intn(3),
			maxConc:       1 + r.Intn(4),
			lock:          locking(r.Intn(3)),
			snapshotReads: r.Intn(2) == 0,
			dirty:         r.Intn(3) == 0,
			readsFirst:    r.Intn(2) == 0,
		}
		h := simulate(cfg)
		a := anomalyOf(t, h)
		serializable := serializableByBruteForce(h)
		if !serializable {
			nonSerializable++
		}
		switch {
		case a != nil && serializable:
			t.Fatalf("config %+v: Check reported %v for a serializable history:\n%s", cfg, a, dumpHistory(h))
		case a == nil && !serializable:
			missed++
		case a != nil:
			kinds[a.Kind]++
		}
	}
	t.Logf("%d histories, %d not serializable; anomalies by kind: %v; not serializable but undetected (unobserved information): %d",
		iters, nonSerializable, kinds, missed)
	if len(kinds) < 5 {
		t.Errorf("only %d anomaly kinds exercised: %v", len(kinds), kinds)
	}
}

func dumpHistory(h []Txn) string {
	var b strings.Builder
	for _, t := range h {
		fmt.Fprintf(&b, "T%d committed=%v:", t.ID, t.Committed)
		for _, op := range t.Ops {
			if op.Kind == Append {
				fmt.Fprintf(&b, " append(%s,%d)", op.Key, op.Value)
			} else {
				fmt.Fprintf(&b, " read(%s)=%v", op.Key, op.List)
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// ---- fuzzing ----

// historyFromBytes builds a small history from fuzz input. If the first
// byte is odd, appended values come from a counter and reads observe
// sequences of values appended to the key, so that the deeper checks run;
// otherwise values and lists are arbitrary small numbers.
func historyFromBytes(data []byte) []Txn {
	pos := 0
	next := func() int {
		if pos >= len(data) {
			return 0
		}
		b := data[pos]
		pos++
		return int(b)
	}
	structured := next()%2 == 1
	keys := []string{"x", "y", "z"}
	appended := make(map[string][]int)
	counter := 0
	nTxns := 1 + next()%6
	h := make([]Txn, 0, nTxns)
	for i := 0; i < nTxns && pos < len(data); i++ {
		b := next()
		t := Txn{ID: i, Committed: b%4 != 0}
		if !structured {
			t.ID = (b >> 2) % 8
		}
		nOps := next() % 5
		for j := 0; j < nOps; j++ {
			b := next()
			key := keys[(b>>2)%3]
			switch b % 4 {
			case 0, 1:
				v := next() % 8
				if structured {
					counter++
					v = counter
					appended[key] = append(appended[key], v)
				}
				t.Ops = append(t.Ops, ap(key, v))
			case 2:
				n := next() % 6
				var l []int
				for m := 0; m < n; m++ {
					e := next()
					if structured && len(appended[key]) > 0 {
						l = append(l, appended[key][e%len(appended[key])])
					} else {
						l = append(l, e%8)
					}
				}
				if structured && b&0x80 != 0 {
					// A prefix of the appends in order: often valid.
					l = append([]int(nil), appended[key][:n%(len(appended[key])+1)]...)
				}
				t.Ops = append(t.Ops, rd(key, l...))
			default:
				t.Ops = append(t.Ops, Op{Kind: OpKind(next() % 4), Key: key, Value: next(), List: []int{next()}})
			}
		}
		h = append(h, t)
	}
	return h
}

var knownKinds = map[string]bool{
	KindG0: true, KindG1a: true, KindG1b: true, KindG1c: true, KindGSingle: true, KindG2: true,
	KindIncompatibleOrder: true, KindDuplicate: true, KindInternal: true,
}

func FuzzCheck(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 3, 1, 2, 0, 5, 2, 1, 5})
	f.Add([]byte{1, 5, 1, 3, 0, 0, 4, 2, 2, 0, 1, 1, 3, 130, 3, 0, 1, 1})
	f.Add([]byte{1, 2, 1, 2, 2, 0, 0, 0, 1, 2, 2, 2, 1, 0, 1, 2, 1, 2, 2, 2, 3, 0, 1, 130, 2})
	f.Add([]byte("the quick brown fox jumps over the lazy dog"))
	f.Fuzz(func(t *testing.T, data []byte) {
		h := historyFromBytes(data)
		a := check(h) // unguarded: a checker panic fails the fuzz run
		err := Check(h)
		if (a == nil) != (err == nil) {
			t.Fatalf("check = %v but Check = %v", a, err)
		}
		if a == nil {
			return
		}
		if !knownKinds[a.Kind] || a.Detail == "" {
			t.Fatalf("bad anomaly %#v", a)
		}
		if err.Error() != a.Error() {
			t.Fatalf("not deterministic: %v then %v", a, err)
		}
	})
}

// ---- benchmarks ----

func BenchmarkCheckSerial(b *testing.B) {
	h := serialHistory(1, 20000, 20)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := Check(h); err != nil {
			b.Fatal(err)
		}
	}
}
