// Package elle checks list-append histories for serializability, in the
// manner of the Elle checker (Kingsbury and Alvaro, "Elle: Inferring
// Isolation Anomalies from Experimental Observations", VLDB 2020).
//
// In a list-append workload every transaction performs micro-operations on
// keys: append(k, v) appends an integer v to the list stored at k, and
// read(k) returns the whole list at k. Appended values are unique per key
// across the whole history, so every read reveals a prefix of the key's
// version order, and the longest read reveals the longest known prefix.
// From those version orders Check derives write-write (ww), write-read (wr)
// and read-write (rw, anti-dependency) edges between committed
// transactions and searches the resulting graph for cycles. It also checks
// the non-cyclic anomalies that the observations reveal directly: aborted
// reads (G1a), intermediate reads (G1b), reads that disagree about a key's
// order, duplicated elements, garbage elements, and transactions whose reads
// do not reflect their own earlier appends.
//
// The checker is conservative: it only reports what the observations prove.
// Elements appended by committed transactions but never read are placed in
// no version order and yield no edges.
package elle

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// OpKind is the kind of a micro-operation.
type OpKind uint8

const (
	// Append appends Op.Value to the list stored at Op.Key.
	Append OpKind = iota + 1
	// Read reads the whole list stored at Op.Key into Op.List.
	Read
)

// String returns "append", "read", or a description of an invalid kind.
func (k OpKind) String() string {
	switch k {
	case Append:
		return "append"
	case Read:
		return "read"
	default:
		return "OpKind(" + strconv.Itoa(int(k)) + ")"
	}
}

// Op is one micro-operation of a transaction.
type Op struct {
	// Kind says whether the operation is an Append or a Read.
	Kind OpKind
	// Key is the key operated on.
	Key string
	// Value is the appended element (Append only; ignored for Read).
	Value int
	// List is the list observed (Read only; ignored for Append). Nil and
	// empty both mean the empty list.
	List []int
}

// Txn is one transaction of a history.
type Txn struct {
	// ID is a unique identifier, used in anomaly reports as "T<ID>".
	ID int
	// Ops are the transaction's micro-operations in program order.
	Ops []Op
	// Committed is true if the transaction committed and false if it is
	// known to have aborted, in which case its appends must never be
	// observed and its reads are ignored.
	Committed bool
}

// Anomaly kinds reported by Check.
const (
	KindG0                = "G0"                 // cycle of ww edges only (dirty write)
	KindG1a               = "G1a"                // aborted read
	KindG1b               = "G1b"                // intermediate read
	KindG1c               = "G1c"                // cycle of ww and wr edges (circular information flow)
	KindGSingle           = "G-single"           // cycle with exactly one rw edge (read skew, lost update)
	KindG2                = "G2"                 // cycle with two or more rw edges (e.g. write skew)
	KindIncompatibleOrder = "incompatible-order" // reads disagree about a key's version order
	KindDuplicate         = "duplicate"          // an element appears twice in one read
	KindInternal          = "internal"           // malformed history, garbage read, or a read ignoring own appends
)

// Anomaly describes a problem found in a history. Check returns it as its
// error value.
type Anomaly struct {
	// Kind names the anomaly: "G0", "G1a", "G1b", "G1c", "G-single",
	// "G2", "incompatible-order", "duplicate" or "internal" (see the Kind*
	// constants).
	Kind string
	// Txns are the IDs of the transactions involved; for a cycle they are
	// in cycle order, starting anywhere on the cycle.
	Txns []int
	// Detail is a human-readable explanation; for a cycle it lists the
	// cycle with the kind and key of each edge, like
	// "T3 -ww(x)-> T7 -rw(y)-> T3", where "A -ww(k)-> B" means B appended
	// the element of k right after A's, "A -wr(k)-> B" means B read a list
	// of k ending with A's append, and "A -rw(k)-> B" means B appended the
	// element of k right after the list A read.
	Detail string
}

// Error returns a one-line description of the anomaly.
func (a *Anomaly) Error() string {
	if a == nil {
		return "elle: <nil anomaly>"
	}
	ids := make([]string, len(a.Txns))
	for i, id := range a.Txns {
		ids[i] = "T" + strconv.Itoa(id)
	}
	return fmt.Sprintf("elle: %s anomaly involving [%s]: %s", a.Kind, strings.Join(ids, " "), a.Detail)
}

// Check returns nil when the committed transactions of h are serializable as
// far as the observations reveal, else an *Anomaly describing the first
// problem found.
//
// The checks run in this order, and the first failure is reported:
//  1. well-formedness: unique transaction IDs, valid op kinds, appended
//     values unique per key ("internal");
//  2. every committed read, in history order: no element twice
//     ("duplicate"), every element appended by some transaction ("internal",
//     a garbage read) and by a committed one ("G1a"), the transaction's own
//     earlier appends to the key at the end of the list, in order, and none
//     of its later appends in it ("internal"), and the last element not
//     being another transaction's non-final append to the key ("G1b");
//  3. every key, in sorted order: every committed read is a prefix of the
//     longest one, and each transaction's appends appear in program order
//     ("incompatible-order");
//  4. the dependency graph: a cycle of ww edges ("G0"), else of ww and wr
//     edges ("G1c"), else one with exactly one rw edge ("G-single"), else
//     any cycle ("G2"). Cycles are short but not always the shortest; the
//     search for a G-single cycle examines a bounded number of edges, after
//     which the shortest cycle through one transaction is reported and
//     classified by its own edges.
//
// Check is deterministic and does not modify h. It never panics: an
// unexpected internal failure is reported as an "internal" anomaly.
func Check(h []Txn) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &Anomaly{Kind: KindInternal, Detail: fmt.Sprintf("checker failure (a bug in package elle): %v", r)}
		}
	}()
	if a := check(h); a != nil {
		return a
	}
	return nil
}

// appendRef locates the append of one element.
type appendRef struct {
	txn   int  // index of the appending transaction in the history
	op    int  // index of the append in that transaction's Ops
	final bool // whether it is the transaction's last append to the key
}

// readRef locates a read.
type readRef struct {
	txn int // index in the history
	op  int // index in the transaction's Ops
}

type checker struct {
	h       []Txn
	appends map[string]map[int]appendRef // key -> element -> its append
	reads   map[string]*keyReads         // key -> its committed reads
	orders  map[string][]int             // key -> known version order
}

// check runs all checks; it is Check without the panic guard, so that tests
// and fuzzing see checker bugs as panics.
func check(h []Txn) *Anomaly {
	c := &checker{
		h:       h,
		appends: make(map[string]map[int]appendRef),
		orders:  make(map[string][]int),
	}
	if a := c.checkWellFormed(); a != nil {
		return a
	}
	if a := c.checkReads(); a != nil {
		return a
	}
	if a := c.buildOrders(); a != nil {
		return a
	}
	return c.checkCycles()
}

func (c *checker) id(txn int) int { return c.h[txn].ID }

func internalf(txns []int, format string, args ...any) *Anomaly {
	return &Anomaly{Kind: KindInternal, Txns: txns, Detail: fmt.Sprintf(format, args...)}
}

// checkWellFormed checks IDs and op kinds and indexes every append.
func (c *checker) checkWellFormed() *Anomaly {
	seen := make(map[int]int, len(c.h))
	for ti := range c.h {
		t := &c.h[ti]
		if prev, ok := seen[t.ID]; ok {
			return internalf([]int{t.ID}, "malformed history: transactions at history positions %d and %d share the ID %d; IDs must be unique", prev, ti, t.ID)
		}
		seen[t.ID] = ti
		lastAppend := make(map[string]int)
		for oi, op := range t.Ops {
			switch op.Kind {
			case Append:
				lastAppend[op.Key] = oi
				m := c.appends[op.Key]
				if m == nil {
					m = make(map[int]appendRef)
					c.appends[op.Key] = m
				}
				if prev, ok := m[op.Value]; ok {
					return internalf(uniqueIDs(c.id(prev.txn), t.ID),
						"malformed history: element %d is appended to key %q twice, by T%d (op %d) and by T%d (op %d); appended values must be unique per key",
						op.Value, op.Key, c.id(prev.txn), prev.op, t.ID, oi)
				}
				m[op.Value] = appendRef{txn: ti, op: oi}
			case Read:
			default:
				return internalf([]int{t.ID}, "malformed history: T%d op %d has invalid kind %v (want Append or Read)", t.ID, oi, op.Kind)
			}
		}
		for k, oi := range lastAppend {
			v := t.Ops[oi].Value
			ref := c.appends[k][v]
			ref.final = true
			c.appends[k][v] = ref
		}
	}
	return nil
}

// keyReads summarizes the committed reads of one key.
type keyReads struct {
	reads   []readRef   // in history order
	longest readRef     // the first longest read
	clean   int         // longest list[:clean] has no duplicate, garbage or aborted element
	pos     map[int]int // element -> index, for longest list[:clean]
}

// indexReads groups the committed reads by key and finds, for each key, the
// longest read and how much of it is free of element-level problems. A read
// that is a prefix of that clean part needs no element-by-element checks.
func (c *checker) indexReads() map[string]*keyReads {
	byKey := make(map[string]*keyReads)
	for ti := range c.h {
		if !c.h[ti].Committed {
			continue
		}
		for oi, op := range c.h[ti].Ops {
			if op.Kind != Read {
				continue
			}
			kr := byKey[op.Key]
			if kr == nil {
				kr = &keyReads{longest: readRef{txn: ti, op: oi}}
				byKey[op.Key] = kr
			}
			kr.reads = append(kr.reads, readRef{txn: ti, op: oi})
			if len(op.List) > len(c.list(kr.longest)) {
				kr.longest = readRef{txn: ti, op: oi}
			}
		}
	}
	for k, kr := range byKey {
		l := c.list(kr.longest)
		kr.pos = make(map[int]int, len(l))
		for _, v := range l {
			ref, ok := c.appends[k][v]
			if _, dup := kr.pos[v]; dup || !ok || !c.h[ref.txn].Committed {
				break
			}
			kr.pos[v] = kr.clean
			kr.clean++
		}
	}
	return byKey
}

// checkReads checks each committed read on its own (duplicates, garbage,
// G1a, own appends, G1b), in history order.
func (c *checker) checkReads() *Anomaly {
	c.reads = c.indexReads()
	for ti := range c.h {
		t := &c.h[ti]
		if !t.Committed {
			continue
		}
		appendOps := make(map[string][]int) // key -> op indices of this txn's appends
		for oi, op := range t.Ops {
			if op.Kind == Append {
				appendOps[op.Key] = append(appendOps[op.Key], oi)
			}
		}
		done := make(map[string]int) // key -> number of appends so far
		for oi, op := range t.Ops {
			switch op.Kind {
			case Append:
				done[op.Key]++
			case Read:
				ops := appendOps[op.Key]
				if a := c.checkRead(ti, oi, ops[:done[op.Key]], ops[done[op.Key]:]); a != nil {
					return a
				}
			}
		}
	}
	return nil
}

// checkRead checks read oi of transaction ti; ownOps and laterOps are the
// op indices of the transaction's appends to the key before and after it.
func (c *checker) checkRead(ti, oi int, ownOps, laterOps []int) *Anomaly {
	t := &c.h[ti]
	op := t.Ops[oi]
	k, l := op.Key, op.List
	kr := c.reads[k]
	longest := c.list(kr.longest)
	fast := len(l) <= kr.clean && equalInts(l, longest[:len(l)])
	if !fast {
		pos := make(map[int]int, len(l))
		for i, v := range l {
			if j, ok := pos[v]; ok {
				return &Anomaly{Kind: KindDuplicate, Txns: []int{t.ID}, Detail: fmt.Sprintf(
					"T%d's read of key %q (op %d) observed element %d twice, at positions %d and %d: %s",
					t.ID, k, oi, v, j, i, fmtList(l))}
			}
			pos[v] = i
		}
		for _, v := range l {
			ref, ok := c.appends[k][v]
			if !ok {
				return internalf([]int{t.ID}, "garbage read: T%d's read of key %q (op %d) observed element %d, which no transaction appended: %s",
					t.ID, k, oi, v, fmtList(l))
			}
			if w := &c.h[ref.txn]; !w.Committed {
				return &Anomaly{Kind: KindG1a, Txns: []int{t.ID, w.ID}, Detail: fmt.Sprintf(
					"aborted read: T%d read key %q = %s (op %d), observing element %d appended by aborted T%d",
					t.ID, k, fmtList(l), oi, v, w.ID)}
			}
		}
	}
	own := make([]int, len(ownOps))
	for i, o := range ownOps {
		own[i] = t.Ops[o].Value
	}
	n := len(l) - len(own)
	if n < 0 || !equalInts(l[n:], own) {
		return internalf([]int{t.ID}, "T%d appended %s to key %q earlier in the transaction, but its later read of the key (op %d) observed %s, which does not end with those appends",
			t.ID, fmtList(own), k, oi, fmtList(l))
	}
	// None of the transaction's later appends may be visible: find the
	// first one in the list, if any.
	first, firstOp := -1, 0
	for _, o := range laterOps {
		v := t.Ops[o].Value
		p, ok := -1, false
		if fast {
			p, ok = kr.pos[v]
		} else {
			for i, e := range l {
				if e == v {
					p, ok = i, true
					break
				}
			}
		}
		if ok && p < n && (first < 0 || p < first) {
			first, firstOp = p, o
		}
	}
	if first >= 0 {
		return internalf([]int{t.ID}, "T%d's read of key %q (op %d) observed element %d, which the transaction appends only later (op %d): %s",
			t.ID, k, oi, l[first], firstOp, fmtList(l))
	}
	if n > 0 {
		v := l[n-1]
		if ref := c.appends[k][v]; ref.txn != ti && !ref.final {
			w := &c.h[ref.txn]
			return &Anomaly{Kind: KindG1b, Txns: []int{t.ID, w.ID}, Detail: fmt.Sprintf(
				"intermediate read: T%d read key %q = %s (op %d), whose last element %d is T%d's append at op %d, but T%d appended to %q again later",
				t.ID, k, fmtList(l), oi, v, w.ID, ref.op, w.ID, k)}
		}
	}
	return nil
}

// buildOrders derives each key's version order from the longest read and
// checks that the other reads and the appenders agree with it.
func (c *checker) buildOrders() *Anomaly {
	for _, k := range sortedKeys(c.reads) {
		rs, longest := c.reads[k].reads, c.reads[k].longest
		order := c.list(longest)
		for _, r := range rs {
			l := c.list(r)
			i := 0
			for i < len(l) && l[i] == order[i] {
				i++
			}
			if i < len(l) {
				a, b := c.id(r.txn), c.id(longest.txn)
				return &Anomaly{Kind: KindIncompatibleOrder, Txns: uniqueIDs(a, b), Detail: fmt.Sprintf(
					"reads of key %q disagree on its version order: T%d (op %d) read %s but T%d (op %d) read %s; they differ at index %d (%d vs %d), so the first is not a prefix of the second",
					k, a, r.op, fmtList(l), b, longest.op, fmtList(order), i, l[i], order[i])}
			}
		}
		// A transaction's appends to a key must appear in program order.
		type seen struct{ op, value int }
		last := make(map[int]seen)
		for _, v := range order {
			ref := c.appends[k][v]
			if p, ok := last[ref.txn]; ok && ref.op < p.op {
				id := c.id(ref.txn)
				return &Anomaly{Kind: KindIncompatibleOrder, Txns: []int{id}, Detail: fmt.Sprintf(
					"the version order of key %q, %s (read by T%d), places %d after %d, but T%d appended %d (op %d) before %d (op %d)",
					k, fmtList(order), c.id(longest.txn), v, p.value, id, v, ref.op, p.value, p.op)}
			}
			last[ref.txn] = seen{op: ref.op, value: v}
		}
		c.orders[k] = order
	}
	return nil
}

func (c *checker) list(r readRef) []int { return c.h[r.txn].Ops[r.op].List }

// checkCycles builds the dependency graph over committed transactions and
// searches it for cycles.
func (c *checker) checkCycles() *Anomaly {
	node := make([]int32, len(c.h)) // history index -> node, -1 if aborted
	var txnOf []int                 // node -> history index
	for ti := range c.h {
		node[ti] = -1
		if c.h[ti].Committed {
			node[ti] = int32(len(txnOf))
			txnOf = append(txnOf, ti)
		}
	}
	g := newGraph(len(txnOf))
	// ww: consecutive elements of each version order.
	for _, k := range sortedKeys(c.orders) {
		order := c.orders[k]
		for i := 1; i < len(order); i++ {
			a := c.appends[k][order[i-1]].txn
			b := c.appends[k][order[i]].txn
			if a != b {
				g.add(node[a], node[b], ww, k)
			}
		}
	}
	// wr and rw: from each committed read, ignoring the reader's own
	// trailing appends (checkRead verified that the list ends with them).
	for _, ti := range txnOf {
		t := &c.h[ti]
		own := make(map[string]int)
		for _, op := range t.Ops {
			if op.Kind == Append {
				own[op.Key]++
				continue
			}
			n := len(op.List) - own[op.Key]
			if n > 0 {
				if w := c.appends[op.Key][op.List[n-1]].txn; w != ti {
					g.add(node[w], node[ti], wr, op.Key)
				}
			}
			if order := c.orders[op.Key]; n < len(order) {
				if w := c.appends[op.Key][order[n]].txn; w != ti {
					g.add(node[ti], node[w], rw, op.Key)
				}
			}
		}
	}
	cyc := g.findCycle()
	if cyc == nil {
		return nil
	}
	return c.cycleAnomaly(g, cyc, txnOf)
}

// cycleAnomaly classifies a cycle given as nodes [n0, n1, ..., n0] and
// describes it. In the description, "A -ww(k)-> B" means B appended the
// element of k right after A's, "A -wr(k)-> B" means B read a list of k
// ending with A's append, and "A -rw(k)-> B" means B appended the element
// of k right after the list A read.
func (c *checker) cycleAnomaly(g *graph, cyc []int32, txnOf []int) *Anomaly {
	var b strings.Builder
	var kinds [3]int
	ids := make([]int, 0, len(cyc)-1)
	for i, n := range cyc {
		id := c.id(txnOf[n])
		if i > 0 {
			kind, key := g.label(cyc[i-1], n)
			kinds[kindBit(kind)]++
			fmt.Fprintf(&b, " -%s(%s)-> ", kindName(kind), key)
		}
		fmt.Fprintf(&b, "T%d", id)
		if i < len(cyc)-1 {
			ids = append(ids, id)
		}
	}
	var kind, what string
	switch nrw := kinds[kindBit(rw)]; {
	case nrw == 0 && kinds[kindBit(wr)] == 0:
		kind, what = KindG0, "a cycle of write-write dependencies only"
	case nrw == 0:
		kind, what = KindG1c, "a cycle of write-write and write-read dependencies"
	case nrw == 1:
		kind, what = KindGSingle, "a dependency cycle with exactly one anti-dependency (rw)"
	default:
		kind, what = KindG2, fmt.Sprintf("a dependency cycle with %d anti-dependencies (rw)", nrw)
	}
	return &Anomaly{Kind: kind, Txns: ids, Detail: b.String() + " (" + what + ")"}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func uniqueIDs(a, b int) []int {
	if a == b {
		return []int{a}
	}
	return []int{a, b}
}

// maxListShown bounds how many elements of a list fmtList prints.
const maxListShown = 12

// fmtList formats a list like [1 2 3], eliding the middle of long lists.
func fmtList(l []int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, v := range l {
		if len(l) > maxListShown && i == maxListShown/2 {
			fmt.Fprintf(&b, "... (%d elided) ", len(l)-maxListShown)
		}
		if len(l) > maxListShown && i >= maxListShown/2 && i < len(l)-maxListShown/2 {
			continue
		}
		b.WriteString(strconv.Itoa(v))
		if i < len(l)-1 {
			b.WriteByte(' ')
		}
	}
	b.WriteByte(']')
	return b.String()
}
