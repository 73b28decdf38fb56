package sled

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync/atomic"
	"time"
)

// Limits of one transaction (and one batch): beyond them Transaction and
// ApplyBatch return ErrTxTooLarge and change nothing.
const (
	// MaxTxBytes bounds the key and value bytes a transaction writes plus
	// the key bytes it reads.
	MaxTxBytes = 512 << 20
	// MaxTxOps bounds the reads and writes of a transaction.
	MaxTxOps = 1 << 22
	// MaxTxAttempts is how many times Transaction runs fn before it
	// returns ErrConflict.
	MaxTxAttempts = 100
)

// Tx is a transaction, given to the function passed to DB.Transaction or
// DB.View. It is valid only during that call and is not safe for
// concurrent use.
type Tx struct {
	db   *DB
	snap *Snapshot // View: the snapshot read; nil in Transaction
	done bool      // fn returned: every method fails
	pre  []int     // stripes held while fn runs (sorted; after conflicts)
	// manual: started by Begin, ended by Commit or Rollback.
	manual bool

	reads  []txRead
	ranges []*txRange
	trees  []*Tree          // trees written, in first-write order
	writes []map[string]int // per tree: key -> index in ops; nil while small (findWrite)
	ops    [][]txOp
	bytes  int64
	nops   int
	err    error // a limit exceeded: the commit fails with it
}

type txRead struct {
	t        *Tree
	key, val []byte
}

// errTxDone is returned by a Tx used after its function returned.
var errTxDone = errors.New("sled: transaction used after its function returned")

// Transaction runs fn in a serializable read-write transaction over any
// trees of the database and commits its writes atomically. When fn returns
// an error the transaction aborts (nothing is written) and Transaction
// returns it, unless it matches ErrConflict: then, as when the commit finds
// that another write changed what fn read, fn runs again, up to
// MaxTxAttempts times, after which ErrConflict is returned. After two
// conflicts fn runs holding the locks of the keys the previous runs touched,
// so that a transaction that keeps losing to others' writes does not
// starve. fn must have no side effects besides the Tx (it may run more than
// once), must not write to the database nor take a Snapshot or View other
// than through the Tx (it may hold locks such calls wait for), and it may
// see a state that turns out to conflict: such a run never commits.
//
// Transactions on disjoint keys commit in parallel; readers never wait for
// them. After Transaction returns nil, every read, view, snapshot and
// transaction that starts sees its writes; after the next Flush they
// survive a crash, all or none.
func (db *DB) Transaction(fn func(tx *Tx) error) error {
	if db.cfg.ReadOnly {
		return ErrReadOnly
	}
	var pre []int
	for attempt := 0; attempt < MaxTxAttempts; attempt++ {
		if attempt > 0 {
			backoff(attempt)
		}
		tx, err := db.runTx(fn, pre)
		if err == nil || !errors.Is(err, ErrConflict) {
			return err
		}
		db.tx.conflicts.Add(1)
		if attempt >= pessimisticAfter-1 && tx != nil {
			// Run again holding the stripes of every key this run
			// read or wrote: writers of them wait, so those reads
			// cannot change before the commit (a transaction that
			// lost the race this often would otherwise starve).
			pre = sortedStripes(append(pre, tx.stripes()...))
		}
	}
	return fmt.Errorf("%w: gave up after %d attempts", ErrConflict, MaxTxAttempts)
}

// pessimisticAfter is how many conflicts make Transaction run fn with the
// stripes of the keys it touched held from the start.
const pessimisticAfter = 2

// backoff waits a little more after every conflict, so that transactions
// fighting over keys take turns.
func backoff(attempt int) {
	if attempt < 4 {
		runtime.Gosched()
		return
	}
	// jittered, so that two transactions that abort each other (two
	// with ranges writing into each other's) do not meet again
	d := time.Duration(min(attempt, 20)) * 20 * time.Microsecond
	time.Sleep(d/2 + time.Duration(rand.Int64N(int64(d))))
}

// runTx runs fn once and commits. pre are stripes (sorted) to hold while
// fn runs (T1: taken in order before any other).
func (db *DB) runTx(fn func(tx *Tx) error, pre []int) (_ *Tx, err error) {
	op, err := db.enterWrite()
	if err != nil {
		return nil, err
	}
	defer db.exit(op)
	tx := &Tx{db: db, pre: pre}
	db.lockStripes(pre)
	err = callTx(tx, fn, func() { db.unlockStripes(tx.pre) })
	if err == nil {
		err = tx.commit()
	}
	tx.done = true
	db.unlockStripes(tx.pre)  // commit may have released them (T9)
	db.tx.vs.maybeCollect(db) // with no stripe held: it may sweep them
	return tx, err
}

// stripes returns the stripes of the keys tx read and wrote.
func (tx *Tx) stripes() []int {
	var idx []int
	for _, r := range tx.reads {
		idx = append(idx, tx.db.stripeOf(r.t, r.key))
	}
	for i, t := range tx.trees {
		for _, op := range tx.ops[i] {
			idx = append(idx, tx.db.stripeOf(t, op.key))
		}
	}
	return idx
}

// callTx runs fn; a panic marks tx done (nothing is written), runs
// onPanic and goes on.
func callTx(tx *Tx, fn func(tx *Tx) error, onPanic func()) error {
	panicked := true
	defer func() {
		if panicked {
			tx.done = true
			if onPanic != nil {
				onPanic()
			}
		}
	}()
	err := fn(tx)
	panicked = false
	return err
}

// Begin starts a transaction driven by hand, for bindings that cannot pass
// a function (the C API): read and write through the Tx, then Commit or
// Rollback. Commit does not retry: when it returns an error matching
// ErrConflict, begin again. In Go, prefer Transaction.
func (db *DB) Begin() (*Tx, error) {
	if db.cfg.ReadOnly {
		return nil, ErrReadOnly
	}
	if err := db.usable(); err != nil {
		return nil, err
	}
	return &Tx{db: db, manual: true}, nil
}

// Commit commits a transaction started by Begin: its writes become
// visible atomically, or, with an error matching ErrConflict, nothing is
// written because what it read changed. The Tx is finished either way.
func (tx *Tx) Commit() error {
	if !tx.manual {
		return errNotManual
	}
	if tx.done {
		return errTxDone
	}
	tx.done = true
	db := tx.db
	op, err := db.enterWrite()
	if err != nil {
		return err
	}
	defer db.exit(op)
	err = tx.commit()
	db.tx.vs.maybeCollect(db)
	if errors.Is(err, ErrConflict) {
		db.tx.conflicts.Add(1)
	}
	return err
}

// Rollback ends a transaction started by Begin without writing anything.
// It is idempotent; after Commit it does nothing.
func (tx *Tx) Rollback() error {
	if !tx.manual {
		return errNotManual
	}
	tx.done = true
	return nil
}

// errNotManual is returned by Commit and Rollback on a Tx that
// Transaction or View drives.
var errNotManual = errors.New("sled: Commit and Rollback are for transactions started by Begin; Transaction and View commit by returning")

// View runs fn in a read-only transaction that reads one consistent
// committed state: everything committed before View began and nothing
// after. It never conflicts; writes through its Tx return ErrReadOnly.
func (db *DB) View(fn func(tx *Tx) error) error {
	s, err := db.Snapshot()
	if err != nil {
		return err
	}
	defer s.Close()
	tx := &Tx{db: db, snap: s}
	defer func() { tx.done = true }()
	return callTx(tx, fn, nil)
}

func (tx *Tx) usable(t *Tree) error {
	if tx.done {
		return errTxDone
	}
	if t == nil || t.db != tx.db {
		return errForeignTree
	}
	return t.usable()
}

// Get returns key's value in t as the transaction sees it (its own writes
// first), or nil when absent.
func (tx *Tx) Get(t *Tree, key []byte) ([]byte, error) {
	if err := tx.usable(t); err != nil {
		return nil, err
	}
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if tx.snap != nil {
		return tx.snap.Get(t, key)
	}
	if i := slices.Index(tx.trees, t); i >= 0 {
		if j, ok := tx.findWrite(i, key); ok {
			op := tx.ops[i][j]
			if op.del {
				return nil, nil
			}
			return op.val, nil
		}
	}
	if err := tx.grow(len(key)); err != nil {
		return nil, err
	}
	v, err := tx.db.readKey(t, key)
	if err != nil {
		return nil, t.mapErr(err)
	}
	tx.reads = append(tx.reads, txRead{t: t, key: clone(key), val: v})
	return v, nil
}

// grow counts n more bytes and one more op against the limits.
func (tx *Tx) grow(n int) error {
	tx.bytes += int64(n)
	tx.nops++
	if tx.bytes > MaxTxBytes || tx.nops > MaxTxOps {
		tx.err = fmt.Errorf("%w: over %d bytes or %d operations", ErrTxTooLarge, MaxTxBytes, MaxTxOps)
		return tx.err
	}
	return nil
}

// Insert sets key to value in t when the transaction commits.
func (tx *Tx) Insert(t *Tree, key, value []byte) error {
	return tx.write(t, key, value, false)
}

// Remove deletes key from t when the transaction commits.
func (tx *Tx) Remove(t *Tree, key []byte) error {
	return tx.write(t, key, nil, true)
}

func (tx *Tx) write(t *Tree, key, value []byte, del bool) error {
	if err := tx.usable(t); err != nil {
		return err
	}
	if tx.snap != nil {
		return ErrReadOnly
	}
	if err := checkEntry(key, value); err != nil {
		return err
	}
	if err := tx.grow(len(key) + len(value)); err != nil {
		return err
	}
	// One allocation for both copies, each capped so that an append by a
	// reader of a returned slice copies.
	kv := make([]byte, len(key)+len(value))
	copy(kv, key)
	copy(kv[len(key):], value)
	op := txOp{key: kv[:len(key):len(key)], del: del}
	if !del {
		op.val = kv[len(key):]
	}
	i := slices.Index(tx.trees, t)
	if i < 0 {
		i = len(tx.trees)
		tx.trees = append(tx.trees, t)
		tx.writes = append(tx.writes, nil)
		tx.ops = append(tx.ops, nil)
	}
	if j, ok := tx.findWrite(i, key); ok {
		tx.ops[i][j] = op
		return nil
	}
	tx.ops[i] = append(tx.ops[i], op)
	if m := tx.writes[i]; m != nil {
		m[string(op.key)] = len(tx.ops[i]) - 1
	} else if len(tx.ops[i]) > smallWrites {
		m = make(map[string]int, 2*len(tx.ops[i]))
		for j, o := range tx.ops[i] {
			m[string(o.key)] = j
		}
		tx.writes[i] = m
	}
	return nil
}

// smallWrites: up to this many writes to a tree, a transaction finds them
// by a scan instead of a map.
const smallWrites = 8

// findWrite returns the index of the write of key in tree i's ops.
func (tx *Tx) findWrite(i int, key []byte) (int, bool) {
	if m := tx.writes[i]; m != nil {
		j, ok := m[string(key)]
		return j, ok
	}
	for j, op := range tx.ops[i] {
		if bytes.Equal(op.key, key) {
			return j, true
		}
	}
	return 0, false
}

// Range returns an iterator over [lo, hi) of t as the transaction sees it:
// its own writes made before the call merged in key order.
func (tx *Tx) Range(t *Tree, lo, hi []byte) *Iterator {
	if err := tx.usable(t); err != nil {
		return &Iterator{done: true, err: err}
	}
	if tx.snap != nil {
		return tx.snap.Range(t, lo, hi)
	}
	it := t.Range(lo, hi)
	r := &txRange{t: t, lo: it.lo, hi: it.hi}
	var own []txOp
	if i := slices.Index(tx.trees, t); i >= 0 {
		for _, op := range tx.ops[i] {
			if bytes.Compare(op.key, it.lo) >= 0 && (it.hi == nil || bytes.Compare(op.key, it.hi) < 0) {
				own = append(own, op)
			}
		}
		slices.SortFunc(own, func(a, b txOp) int { return bytes.Compare(a.key, b.key) })
	}
	tx.ranges = append(tx.ranges, r)
	it.src = func(rev bool) iterSource {
		r.rev = rev
		base := t.Range(r.lo, r.hi)
		if rev {
			base.Rev()
			slices.Reverse(own)
		}
		return &txIter{tx: tx, r: r, base: base, own: own}
	}
	return it
}

// txRange is a range a transaction read: what the tree gave, to check at
// commit that it still gives the same (T2).
type txRange struct {
	t        *Tree
	lo, hi   []byte
	rev      bool
	seen     []kv // from the tree, in iteration order
	complete bool // the tree had nothing more in the range
}

type kv struct{ k, v []byte }

// txIter merges the tree's entries (read as readers read them, T3) with
// the transaction's own writes.
type txIter struct {
	tx   *Tx
	r    *txRange
	base *Iterator
	own  []txOp
	// peeked tree entry
	pk, pv []byte
	have   bool
	end    bool
}

func (x *txIter) less(a, b []byte) bool {
	if x.r.rev {
		return bytes.Compare(a, b) > 0
	}
	return bytes.Compare(a, b) < 0
}

func (x *txIter) fill() error {
	for !x.have && !x.end {
		if x.tx.done {
			return errTxDone
		}
		if !x.base.Next() {
			if err := x.base.Err(); err != nil {
				return err
			}
			x.end = true
			x.r.complete = true
			return nil
		}
		k, v := x.base.Key(), x.tx.db.correct(x.r.t, x.base.Key(), x.base.Value())
		x.r.seen = append(x.r.seen, kv{k, v})
		if err := x.tx.grow(len(k)); err != nil {
			return err
		}
		if v == nil {
			continue // inserted by a commit still installing
		}
		x.pk, x.pv, x.have = k, v, true
	}
	return nil
}

func (x *txIter) next() (k, v []byte, ok bool, err error) {
	for {
		if err := x.fill(); err != nil {
			return nil, nil, false, err
		}
		switch {
		case len(x.own) > 0 && (!x.have || !x.less(x.pk, x.own[0].key)):
			op := x.own[0]
			x.own = x.own[1:]
			if x.have && bytes.Equal(x.pk, op.key) {
				x.have = false // shadowed by the transaction's write
			}
			if op.del {
				continue
			}
			return op.key, op.val, true, nil
		case x.have:
			x.have = false
			return x.pk, x.pv, true, nil
		default:
			return nil, nil, false, nil
		}
	}
}

func (x *txIter) close() { x.base.Close() }

// commit validates and installs the transaction (T1, T2). It returns an
// error matching ErrConflict when what it read has changed.
func (tx *Tx) commit() error {
	if tx.err != nil {
		return tx.err
	}
	db := tx.db
	if len(tx.reads) == 0 && len(tx.ranges) == 0 && len(tx.trees) == 0 {
		return nil
	}
	ws := newWriteSet(tx.trees, tx.ops)
	held := sortedStripes(tx.stripes())
	var rl *rangeLock
	if ws.n > 0 {
		var ranges []*txRange
		for _, r := range tx.ranges {
			if len(r.seen) > 0 || r.complete {
				ranges = append(ranges, r)
			}
		}
		if len(ranges) > 0 { // T9: announce, then let earlier writers finish
			rl = newRangeLock(ranges)
			db.tx.ranges.add(rl)
			defer db.tx.ranges.remove(rl)
			// The sweep waits for every stripe: holding some while
			// others hold lower ones and wait for them would close a
			// cycle (T1), so the stripes held from the start go first.
			db.unlockStripes(tx.pre)
			tx.pre = nil
			db.sweepStripes()
			rl.state.Store(rlLocking)
		}
	}
	if len(tx.pre) == 0 {
		db.lockStripes(held)
		defer db.unlockStripes(held)
	} else {
		// Holding pre, take the others without waiting (T1: a wait out
		// of order could close a cycle); a miss is a conflict, and the
		// next run holds them from the start.
		var got []int
		defer func() { db.unlockStripes(got) }()
		for _, i := range held {
			if _, ok := slices.BinarySearch(tx.pre, i); ok {
				continue
			}
			if !db.tx.stripes[i].mu.TryLock() {
				return errBusy
			}
			got = append(got, i)
		}
		// Nor wait for announced ranges (waitRanges would release only
		// some of pre): a conflict is a conflict.
		if rl == nil && db.tx.ranges.n.Load() > 0 {
			busy := false
			ws.each(func(t *Tree, key []byte) bool {
				busy = db.tx.ranges.conflict(nil, t, key) != nil
				return !busy
			})
			if busy {
				return errBusy
			}
		}
	}
	if rl != nil {
		for i, t := range ws.trees {
			for _, op := range ws.ops[i] {
				if db.tx.ranges.conflict(rl, t, op.key) != nil {
					return errRangeConflict
				}
			}
		}
	} else if ws.n > 0 && len(tx.pre) == 0 {
		db.waitRanges(held, ws.each)
	}
	if err := tx.validate(rl != nil); err != nil {
		return err
	}
	if rl != nil {
		rl.markValidated()
	}
	if ws.n == 0 {
		return nil
	}
	// Pre-images the reads validated: those keys hold what was read.
	type treeKey struct {
		t *Tree
		k string
	}
	read := make(map[treeKey][]byte, len(tx.reads))
	for _, r := range tx.reads {
		read[treeKey{r.t, string(r.key)}] = r.val
	}
	known := make([][]bool, len(ws.trees))
	for i, t := range ws.trees {
		known[i] = make([]bool, len(ws.ops[i]))
		for j := range ws.ops[i] {
			if v, ok := read[treeKey{t, string(ws.ops[i][j].key)}]; ok {
				ws.ops[i][j].old, known[i][j] = v, true
			}
		}
	}
	return db.install(ws, held, known, nil)
}

// errRangeConflict is the conflict of a transaction that would write into
// the ranges another one announced (T9).
var errRangeConflict = fmt.Errorf("%w: a write into a range another transaction is committing", ErrConflict)

// errBusy is the conflict of a run holding stripes from its start that
// found another stripe it needs taken.
var errBusy = fmt.Errorf("%w: a key the transaction did not touch before is being written", ErrConflict)

// errValidation is the conflict a commit reports when a read changed.
var errValidation = fmt.Errorf("%w: a value read changed before the commit", ErrConflict)

// validate checks, with the stripes held, that every point read and every
// range read still gives what it gave (T2). guarded says the ranges were
// announced (T9): no commit installs into them now. Otherwise (a
// transaction that only reads) a range is read again after the commits
// installing into its tree have ended, until none began or became visible
// during the reading.
func (tx *Tx) validate(guarded bool) error {
	if validationOff.Load() {
		return nil
	}
	for _, r := range tx.reads {
		// The stripe is held: no commit installs into this key.
		v, _, err := r.t.t.Get(r.key)
		if err != nil {
			return r.t.mapErr(err)
		}
		if (v == nil) != (r.val == nil) || !bytes.Equal(v, r.val) {
			return errValidation
		}
	}
	for _, r := range tx.ranges {
		if guarded {
			if err := tx.revalidate(r); err != nil {
				return err
			}
			continue
		}
		settled := false
		for try := 0; try < 8 && !settled; try++ {
			flips := r.t.flips.Load()
			tx.db.waitInstalls(r.t) // commits never wait for stripes
			if err := tx.revalidate(r); err != nil {
				return err
			}
			settled = r.t.flips.Load() == flips && len(tx.db.tx.reg.installing(r.t)) == 0
		}
		if !settled {
			return errValidation
		}
	}
	return nil
}

// revalidate reads r's range again, as readers read it (T3), over what
// the transaction read of it (to its end when it read it all), and checks
// it gives the same entries.
func (tx *Tx) revalidate(r *txRange) error {
	if len(r.seen) == 0 && !r.complete {
		return nil // never read
	}
	var bound []byte
	if !r.complete {
		bound = r.seen[len(r.seen)-1].k
	}
	it := r.t.Range(r.lo, r.hi)
	if r.rev {
		it.Rev()
	}
	defer it.Close()
	i := 0
	next := func() (kv, bool) { // the next entry the transaction saw
		for ; i < len(r.seen); i++ {
			if r.seen[i].v != nil {
				i++
				return r.seen[i-1], true
			}
		}
		return kv{}, false
	}
	for it.Next() {
		k := it.Key()
		if bound != nil && ((!r.rev && bytes.Compare(k, bound) > 0) || (r.rev && bytes.Compare(k, bound) < 0)) {
			break
		}
		v := tx.db.correct(r.t, k, it.Value())
		if v == nil {
			continue // inserted by a commit still installing
		}
		want, ok := next()
		if !ok || !bytes.Equal(k, want.k) || !bytes.Equal(v, want.v) {
			return errValidation
		}
	}
	if err := it.Err(); err != nil {
		return r.t.mapErr(err)
	}
	if _, ok := next(); ok {
		return errValidation // an entry read is gone
	}
	return nil
}

// validationOff disables validation: tests use it to show that the
// serializability checks catch its absence. Never set outside tests.
var validationOff atomic.Bool
