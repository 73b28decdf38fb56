package sled

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/sledgo/sled/internal/codec"
	"github.com/sledgo/sled/internal/log"
	"github.com/sledgo/sled/internal/tree"
)

// Tree is an ordered map from byte-string keys to byte-string values. All
// methods are safe for concurrent use; single-key operations are
// linearizable.
type Tree struct {
	db      *DB
	name    string
	t       *tree.Tree
	salt    uint64 // mixed into its keys' stripes (txlocks.go)
	created uint64 // LSN of its creation record: redo records name it (T7)
	// flips counts the multi-key commits into this tree that became
	// visible; positioned reads and read-only range validation retry
	// when it moves under them (T3).
	flips   atomic.Uint64
	merge   atomic.Pointer[MergeOperator]
	subs    subscribers
	dropped atomic.Bool
}

// MergeOperator combines a key's current value (nil when absent) with an
// operand into the new value; a nil result deletes the key. It must be a
// pure function: it may run more than once per Merge.
type MergeOperator func(key, old, operand []byte) []byte

// Name returns the tree's name.
func (t *Tree) Name() string { return t.name }

func (t *Tree) usable() error {
	if err := t.db.usable(); err != nil {
		return err
	}
	if t.dropped.Load() {
		return ErrTreeNotFound
	}
	return nil
}

// enterWrite is enter for an operation that writes: it also fails on a
// read-only database.
func (t *Tree) enterWrite() (*paddedCount, error) {
	if t.db.cfg.ReadOnly {
		return nil, ErrReadOnly
	}
	return t.enter()
}

// enter registers an operation on t (DB.enter): it fails when the database
// is closed or poisoned, or t was dropped. The caller calls t.db.exit(c).
func (t *Tree) enter() (*paddedCount, error) {
	c, err := t.db.enter()
	if err != nil {
		return nil, err
	}
	if t.dropped.Load() {
		t.db.exit(c)
		return nil, ErrTreeNotFound
	}
	return c, nil
}

func (t *Tree) mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case t.db.closed.Load():
		// Reads do not register with Close (ops.go): one that raced it may
		// have found the log closed under it.
		return ErrClosed
	case errors.Is(err, tree.ErrDropped):
		return ErrTreeNotFound
	case errors.Is(err, log.ErrReadOnly):
		return ErrReadOnly
	case errors.Is(err, tree.ErrCorrupt), errors.Is(err, log.ErrCorrupt), errors.Is(err, codec.ErrCorrupt):
		return corruption(err)
	}
	return err
}

func checkKey(key []byte) error {
	if len(key) > MaxKeyBytes {
		return ErrKeyTooLarge
	}
	return nil
}

func checkEntry(key, value []byte) error {
	if len(key) > MaxKeyBytes {
		return ErrKeyTooLarge
	}
	if len(value) > MaxValueBytes {
		return ErrValueTooLarge
	}
	return nil
}

// clone copies b into memory the engine owns; the result is never nil and
// has no spare capacity, so a caller's append to a returned slice copies.
func clone(b []byte) []byte {
	c := make([]byte, len(b))
	copy(c, b)
	return c
}

// write applies fn to key as a single-key write.
func (t *Tree) write(key []byte, fn func(old []byte, found bool) ([]byte, tree.Action)) (tree.Result, error) {
	op, err := t.enterWrite()
	if err != nil {
		return tree.Result{}, err
	}
	defer t.db.exit(op)
	db := t.db
	defer db.tx.vs.maybeCollect(db) // after the unlock below: it may sweep
	i := db.stripeOf(t, key)
	s := &db.tx.stripes[i]
	s.mu.Lock()         // T1
	defer s.mu.Unlock() // also when a user callback panics
	if db.tx.ranges.n.Load() > 0 {
		db.waitRanges([]int{i}, func(yield func(*Tree, []byte) bool) { yield(t, key) })
	}
	return t.applyLocked(key, fn)
}

// applyLocked applies a single-key write; the caller holds key's stripe.
// While snapshots are open it records the key's version first (T4).
func (t *Tree) applyLocked(key []byte, fn func(old []byte, found bool) ([]byte, tree.Action)) (tree.Result, error) {
	var rec recordWrite
	if t.db.tx.vs.recording.Load() {
		rec.g, rec.c = t.db.tx.vs.current(), &commit{}
		inner := fn
		fn = func(old []byte, found bool) ([]byte, tree.Action) {
			rec.before(t, key, old, found)
			return inner(old, found)
		}
	}
	applied := false
	defer func() {
		if !applied { // a callback panicked: the version never happened
			rec.after(t.db, false)
		}
	}()
	res, err := t.apply(key, fn)
	applied = true
	rec.after(t.db, res.Changed)
	return res, err
}

// apply runs a write with its notifications. The caller holds key's
// stripe.
func (t *Tree) apply(key []byte, fn func(old []byte, found bool) ([]byte, tree.Action)) (tree.Result, error) {
	subs := t.subs.matching(key)
	if subs == nil {
		res, err := t.t.Modify(key, fn)
		t.count(key, res)
		return res, t.mapErr(err)
	}
	mu := t.subs.stripe(key)
	mu.Lock()
	defer mu.Unlock()
	res, err := t.t.Modify(key, fn)
	t.count(key, res)
	if res.Changed {
		// Published even when a structure change after the write failed
		// (err != nil): the write itself is applied and visible. The key
		// is copied: callers' slices are never retained.
		publish(subs, clone(key), res.New, !res.Present)
	}
	return res, t.mapErr(err)
}

// count adds a write to the user bytes (for write amplification).
func (t *Tree) count(key []byte, res tree.Result) {
	if res.Changed {
		t.db.userBytes.Add(int64(len(key) + len(res.New)))
	}
}

// Get returns the value of key, or nil when it is absent.
func (t *Tree) Get(key []byte) ([]byte, error) {
	if err := t.usable(); err != nil { // a read: see Tree.mapErr
		return nil, err
	}
	if err := checkKey(key); err != nil {
		return nil, err
	}
	v, err := t.db.readKey(t, key)
	return v, t.mapErr(err)
}

// ContainsKey reports whether key is present.
func (t *Tree) ContainsKey(key []byte) (bool, error) {
	v, err := t.Get(key)
	return v != nil, err
}

// Insert sets key to value and returns the previous value (nil if absent).
// A nil value is stored as the empty value.
func (t *Tree) Insert(key, value []byte) ([]byte, error) {
	if err := checkEntry(key, value); err != nil {
		return nil, err
	}
	k, v := clone(key), clone(value)
	res, err := t.write(k, func([]byte, bool) ([]byte, tree.Action) { return v, tree.Set })
	return res.Old, err
}

// Remove deletes key and returns its previous value (nil if absent).
func (t *Tree) Remove(key []byte) ([]byte, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	res, err := t.write(key, func([]byte, bool) ([]byte, tree.Action) { return nil, tree.Delete })
	return res.Old, err
}

// CompareAndSwap sets key to new if its current value equals old. old == nil
// expects the key to be absent; new == nil deletes it. On a mismatch it
// returns a *CompareAndSwapError and changes nothing.
func (t *Tree) CompareAndSwap(key, old, new []byte) error {
	if err := checkEntry(key, new); err != nil {
		return err
	}
	k := clone(key)
	var nv []byte
	if new != nil {
		nv = clone(new)
	}
	var mismatch *CompareAndSwapError
	_, err := t.write(k, func(cur []byte, found bool) ([]byte, tree.Action) {
		if found != (old != nil) || (found && !bytes.Equal(cur, old)) {
			mismatch = &CompareAndSwapError{Current: cur, Proposed: new}
			return nil, tree.Keep
		}
		mismatch = nil
		if nv == nil {
			return nil, tree.Delete
		}
		return nv, tree.Set
	})
	if err != nil {
		return err
	}
	if mismatch != nil {
		return mismatch
	}
	return nil
}

// update applies fn and returns the result; fn's output is copied and
// checked against the value limit.
func (t *Tree) update(key []byte, fn func(old []byte) []byte) (tree.Result, error) {
	if err := checkKey(key); err != nil {
		return tree.Result{}, err
	}
	k := clone(key)
	var tooLarge bool
	res, err := t.write(k, func(old []byte, _ bool) ([]byte, tree.Action) {
		nv := fn(old)
		tooLarge = len(nv) > MaxValueBytes
		switch {
		case tooLarge:
			return nil, tree.Keep
		case nv == nil:
			return nil, tree.Delete
		}
		return clone(nv), tree.Set
	})
	if err == nil && tooLarge {
		err = ErrValueTooLarge
	}
	return res, err
}

// Update sets key to fn(current value) atomically and returns the new value.
// fn gets nil when the key is absent and returns nil to delete it; it may
// run more than once.
func (t *Tree) Update(key []byte, fn func(old []byte) []byte) ([]byte, error) {
	res, err := t.update(key, fn)
	if err != nil {
		return nil, err
	}
	return res.New, nil
}

// FetchAndUpdate is Update returning the previous value.
func (t *Tree) FetchAndUpdate(key []byte, fn func(old []byte) []byte) ([]byte, error) {
	res, err := t.update(key, fn)
	if err != nil {
		return nil, err
	}
	return res.Old, nil
}

// SetMergeOperator sets the operator Merge uses (nil unsets it). It is not
// persisted: set it again after every Open.
func (t *Tree) SetMergeOperator(op MergeOperator) {
	if op == nil {
		t.merge.Store(nil)
		return
	}
	t.merge.Store(&op)
}

// Merge applies the tree's merge operator to key's value and operand
// atomically, and returns the new value.
func (t *Tree) Merge(key, operand []byte) ([]byte, error) {
	op := t.merge.Load()
	if op == nil {
		if err := t.usable(); err != nil {
			return nil, err
		}
		return nil, ErrNoMergeOperator
	}
	if err := checkEntry(key, operand); err != nil {
		return nil, err
	}
	k := clone(key)
	res, err := t.update(k, func(old []byte) []byte { return (*op)(k, old, operand) })
	if err != nil {
		return nil, err
	}
	return res.New, nil
}

// position returns the entry nearest from in a direction (forward: the
// first key >= from, or > from when !inclusive; backward: the last key <=
// from, or < from, nil from being +infinity) as readers see the tree (T3):
// the entries a multi-key commit still installing has changed are read as
// they were before it. It retries when a multi-key commit became visible
// meanwhile.
func (t *Tree) position(from []byte, inclusive, back bool) (k, v []byte, err error) {
	if err := t.usable(); err != nil { // a read: see Tree.mapErr
		return nil, nil, err
	}
	db := t.db
	for {
		flips := t.flips.Load()
		k, v, err = t.rawSeek(from, inclusive, back)
		if err != nil {
			return nil, nil, t.mapErr(err)
		}
		inst := db.tx.reg.installing(t)
		if len(inst) == 0 {
			if t.flips.Load() == flips {
				return k, v, nil
			}
			continue // a commit became visible while the seek ran
		}
		// Entries inserted by a commit still installing are not there yet.
		for k != nil {
			old, hit := preimageIn(inst, t, k)
			if !hit {
				break
			}
			if old != nil {
				v = old
				break
			}
			if k, v, err = t.rawSeek(k, false, back); err != nil {
				return nil, nil, t.mapErr(err)
			}
		}
		// Entries removed by a commit still installing are still there.
		for _, c := range inst {
			if c.committed() {
				continue
			}
			for i, ct := range c.trees {
				if ct != t {
					continue
				}
				for _, op := range c.ops[i] {
					if op.old == nil || !between(op.key, from, inclusive, k, back) {
						continue
					}
					if k == nil || (!back && bytes.Compare(op.key, k) < 0) || (back && bytes.Compare(op.key, k) > 0) {
						k, v = op.key, op.old
					}
				}
			}
		}
		if t.flips.Load() == flips && sameCommits(inst, db.tx.reg.installing(t)) {
			return k, v, nil
		}
	}
}

// between reports whether key lies after from (in the direction, from
// included when inclusive) and before end (nil: no end).
func between(key, from []byte, inclusive bool, end []byte, back bool) bool {
	if back {
		if from != nil {
			if c := bytes.Compare(key, from); c > 0 || (c == 0 && !inclusive) {
				return false
			}
		}
		return end == nil || bytes.Compare(key, end) > 0
	}
	if c := bytes.Compare(key, from); c < 0 || (c == 0 && !inclusive) {
		return false
	}
	return end == nil || bytes.Compare(key, end) < 0
}

func preimageIn(cs []*commit, t *Tree, key []byte) (old []byte, ok bool) {
	for _, c := range cs {
		if c.committed() {
			continue
		}
		if old, ok := c.preimage(t, key); ok {
			return old, true
		}
	}
	return nil, false
}

func sameCommits(a, b []*commit) bool {
	if len(a) != len(b) {
		return false
	}
	for _, c := range a {
		if !slices.Contains(b, c) {
			return false
		}
	}
	return true
}

// rawSeek is position without the correction: the tree as it is.
func (t *Tree) rawSeek(from []byte, inclusive, back bool) ([]byte, []byte, error) {
	if back {
		n, i, ok, err := t.t.SeekBefore(from, inclusive, 1)
		if err != nil || !ok {
			return nil, nil, err
		}
		return n.Key(i), n.Val(i), nil
	}
	n, i, ok, err := t.t.Seek(from, inclusive, 1)
	if err != nil || !ok {
		return nil, nil, err
	}
	return n.Key(i), n.Val(i), nil
}

func (t *Tree) seekGE(key []byte, inclusive bool) ([]byte, []byte, error) {
	return t.position(key, inclusive, false)
}

func (t *Tree) seekLT(key []byte, inclusive bool) ([]byte, []byte, error) {
	return t.position(key, inclusive, true)
}

// GetLT returns the entry with the greatest key < key; k == nil if none.
func (t *Tree) GetLT(key []byte) (k, v []byte, err error) {
	if err := checkKey(key); err != nil {
		return nil, nil, err
	}
	return t.seekLT(clone(key), false) // clone: a nil key is the empty key, not +inf
}

// GetGT returns the entry with the smallest key > key; k == nil if none.
func (t *Tree) GetGT(key []byte) (k, v []byte, err error) {
	if err := checkKey(key); err != nil {
		return nil, nil, err
	}
	return t.seekGE(key, false)
}

// First returns the entry with the smallest key; k == nil if the tree is empty.
func (t *Tree) First() (k, v []byte, err error) { return t.seekGE([]byte{}, true) }

// Last returns the entry with the greatest key; k == nil if the tree is empty.
func (t *Tree) Last() (k, v []byte, err error) { return t.seekLT(nil, false) }

// PopMin atomically removes and returns the entry with the smallest key.
func (t *Tree) PopMin() (k, v []byte, err error) { return t.pop(false) }

// PopMax atomically removes and returns the entry with the greatest key.
func (t *Tree) PopMax() (k, v []byte, err error) { return t.pop(true) }

func (t *Tree) pop(last bool) (k, v []byte, err error) {
	op, err := t.enterWrite()
	if err != nil {
		return nil, nil, err
	}
	defer t.db.exit(op)
	db := t.db
	// The callback runs pinned (PopEdge), so it only takes what it can
	// without waiting; when it cannot, the wait happens here, unpinned.
	var wait func()
	tries := 0
	lock := func(key, val []byte) (func(bool), bool) {
		s := &db.tx.stripes[db.stripeOf(t, key)]
		if !s.mu.TryLock() { // T1
			wait = func() { s.mu.Lock(); s.mu.Unlock() }
			return nil, false
		}
		if rl := db.tx.ranges.conflict(nil, t, key); rl != nil { // T9
			s.mu.Unlock()
			wait = func() { <-rl.done }
			return nil, false
		}
		// A commit installing may have removed a key beyond this one
		// that readers still see: the edge is this key once it is done.
		if inst := db.tx.reg.installing(t); len(inst) > 0 {
			if tries < 3 {
				s.mu.Unlock()
				wait = func() { waitCommits(inst) }
				return nil, false
			}
			// Commits keep starting on this tree: wait pinned, for those
			// only (later ones come after this pop), as the bound.
			waitCommits(inst)
		}
		var rec recordWrite
		if db.tx.vs.recording.Load() {
			rec.g, rec.c = db.tx.vs.current(), &commit{}
			rec.before(t, key, val, true)
		}
		notify := t.notifyDelete(key)
		return func(ok bool) {
			if notify != nil {
				notify(ok)
			}
			rec.after(db, ok)
			s.mu.Unlock()
		}, true
	}
	var found, slow bool
	for tries = 0; ; tries++ {
		k, v, found, slow, err = t.t.PopEdge(last, lock)
		if !errors.Is(err, tree.ErrBusy) {
			break
		}
		wait()
	}
	db.tx.vs.maybeCollect(db)
	if err != nil || !slow {
		if !found {
			k, v = nil, nil
		}
		return k, v, t.mapErr(err)
	}
	// The edge leaf is empty but the tree may not be: a transaction reads
	// the first (last) entry and removes it.
	err = db.Transaction(func(tx *Tx) error {
		k, v = nil, nil
		it := tx.Range(t, nil, nil)
		if last {
			it.Rev()
		}
		defer it.Close()
		if !it.Next() {
			return it.Err()
		}
		k, v = it.Key(), it.Value()
		return tx.Remove(t, k)
	})
	if err != nil {
		return nil, nil, err
	}
	return k, v, nil
}

// notifyDelete is PopEdge's hook for ordered notifications.
func (t *Tree) notifyDelete(key []byte) func(bool) {
	subs := t.subs.matching(key)
	if subs == nil {
		return nil
	}
	mu := t.subs.stripe(key)
	mu.Lock()
	return func(ok bool) {
		if ok {
			publish(subs, key, nil, true)
		}
		mu.Unlock()
	}
}

// Len returns the number of entries. It is not a point-in-time count when
// writes run concurrently.
func (t *Tree) Len() (int, error) {
	if err := t.usable(); err != nil { // a read: see Tree.mapErr
		return 0, err
	}
	n, err := t.t.Len()
	return n, t.mapErr(err)
}

// IsEmpty reports whether the tree has no entries.
func (t *Tree) IsEmpty() (bool, error) {
	k, _, err := t.First()
	return k == nil, err
}

// Clear removes every entry. It is not atomic: concurrent writers may see
// (and add to) a partly cleared tree.
func (t *Tree) Clear() error {
	it := t.Iter()
	defer it.Close()
	for it.Next() {
		if _, err := t.Remove(it.Key()); err != nil {
			return err
		}
	}
	return it.Err()
}

// ApplyBatch applies every operation of b atomically: readers and writers
// see all of them or none, and after a crash the database holds all of them
// or none. It is a transaction that only writes: writers of other keys go
// on while it applies. A batch over MaxTxBytes or MaxTxOps returns
// ErrTxTooLarge and changes nothing.
func (t *Tree) ApplyBatch(b *Batch) error {
	op, err := t.enterWrite()
	if err != nil {
		return err
	}
	defer t.db.exit(op)
	var size int64
	for _, op := range b.ops {
		if err := checkEntry(op.key, op.value); err != nil {
			return err
		}
		size += int64(len(op.key) + len(op.value))
	}
	switch {
	case len(b.ops) == 0:
		return nil
	case size > MaxTxBytes || len(b.ops) > MaxTxOps:
		return fmt.Errorf("%w: a batch of %d operations and %d bytes", ErrTxTooLarge, len(b.ops), size)
	case len(b.ops) == 1:
		o := b.ops[0]
		_, err := t.write(o.key, func([]byte, bool) ([]byte, tree.Action) {
			if o.del {
				return nil, tree.Delete
			}
			return o.value, tree.Set
		})
		return err
	}
	ops := make([]txOp, len(b.ops))
	for i, o := range b.ops {
		ops[i] = txOp{key: o.key, val: o.value, del: o.del}
	}
	ws := newWriteSet([]*Tree{t}, [][]txOp{ops})
	// Count and notify every write in batch order, as if applied one by
	// one (a write to a key the batch deletes before is still an event),
	// following each key's presence from its pre-image.
	notify := func() {
		final := ws.ops[0]
		present := make(map[string]bool, len(final))
		for _, op := range final {
			present[string(op.key)] = op.old != nil
		}
		for _, op := range b.ops {
			was := present[string(op.key)]
			present[string(op.key)] = !op.del
			switch {
			case !op.del:
				t.db.userBytes.Add(int64(len(op.key) + len(op.value)))
				if subs := t.subs.matching(op.key); subs != nil {
					publish(subs, op.key, op.value, false)
				}
			case was:
				t.db.userBytes.Add(int64(len(op.key)))
				if subs := t.subs.matching(op.key); subs != nil {
					publish(subs, op.key, nil, true)
				}
			}
		}
	}
	return t.db.commitWrites(ws, notify)
}

// Batch collects writes to apply atomically with Tree.ApplyBatch. Later
// operations on the same key win. A Batch is not safe for concurrent use.
type Batch struct {
	ops []batchOp
}

type batchOp struct {
	key, value []byte
	del        bool
}

// Insert adds a write of key = value to the batch. The slices are copied.
func (b *Batch) Insert(key, value []byte) {
	kv := make([]byte, len(key)+len(value)) // one allocation for both copies
	copy(kv, key)
	copy(kv[len(key):], value)
	b.ops = append(b.ops, batchOp{key: kv[:len(key):len(key)], value: kv[len(key):]})
}

// Remove adds a deletion of key to the batch. The slice is copied.
func (b *Batch) Remove(key []byte) {
	b.ops = append(b.ops, batchOp{key: clone(key), del: true})
}

// Len returns the number of operations in the batch.
func (b *Batch) Len() int { return len(b.ops) }
