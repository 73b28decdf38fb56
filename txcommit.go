package sled

import (
	"bytes"
	"hash/maphash"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/sledgo/sled/internal/codec"
	"github.com/sledgo/sled/internal/log"
	"github.com/sledgo/sled/internal/node"
	"github.com/sledgo/sled/internal/tree"
)

// txState is the database's concurrency control: key stripes, the commit
// clock, the registry of multi-key commits installing, and the versions
// kept for snapshots. Each part says what protects it.
type txState struct {
	seed    maphash.Seed // set by Open
	stripes [nStripes]stripe
	// clock is the last commit timestamp handed out (T8); it advances
	// once per multi-key commit and per single-key write recorded for
	// snapshots.
	clock atomic.Uint64
	// commits and conflicts count multi-key commits and transaction runs
	// that conflicted (Stats).
	commits, conflicts atomic.Int64
	reg                registry
	ranges             rangeLocks
	vs                 versionStore
}

const regShards = 16

// registry holds the multi-key commits between their registration (before
// the redo record is appended, T7) and their end.
type registry struct {
	n      atomic.Int64 // commits registered
	shards [regShards]struct {
		mu sync.Mutex
		m  map[*commit]log.LSN // commit -> lower bound of its redo record's LSN; protected by mu
		_  [40]byte
	}
}

func (r *registry) add(c *commit, lower log.LSN) {
	c.shard = int(rand.Uint32() % regShards)
	s := &r.shards[c.shard]
	s.mu.Lock()
	if s.m == nil {
		s.m = map[*commit]log.LSN{}
	}
	s.m[c] = lower
	s.mu.Unlock()
	r.n.Add(1)
}

func (r *registry) remove(c *commit) {
	s := &r.shards[c.shard]
	s.mu.Lock()
	delete(s.m, c)
	s.mu.Unlock()
	r.n.Add(-1)
}

// minLSN returns the smallest lower bound of the registered commits.
func (r *registry) minLSN() (log.LSN, bool) {
	var lo log.LSN
	found := false
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		for _, l := range s.m {
			if !found || l < lo {
				lo, found = l, true
			}
		}
		s.mu.Unlock()
	}
	return lo, found
}

// installing returns the registered commits that write tree t.
func (r *registry) installing(t *Tree) []*commit {
	if r.n.Load() == 0 {
		return nil
	}
	var out []*commit
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		for c := range s.m {
			if slices.Contains(c.trees, t) {
				out = append(out, c)
			}
		}
		s.mu.Unlock()
	}
	return out
}

// waitInstalls waits until the multi-key commits installing into t now
// have ended. A writer calls it with a stripe held: installing commits hold
// all their stripes already and wait for none.
func (db *DB) waitInstalls(t *Tree) { waitCommits(db.tx.reg.installing(t)) }

// waitCommits waits until each of cs has committed or aborted.
func waitCommits(cs []*commit) {
	for _, c := range cs {
		for c.state.Load() == stateWriting {
			runtime.Gosched()
		}
	}
}

// readKey reads key's committed value for a reader (T3): what the tree
// holds, or the pre-image of an uncommitted multi-key commit that writes
// key. The result is the caller's.
func (db *DB) readKey(t *Tree, key []byte) ([]byte, error) {
	v, _, err := t.t.Get(key)
	if err != nil {
		return nil, err
	}
	return db.correct(t, key, v), nil
}

// correct returns v, read from the tree for key, or the pre-image of the
// uncommitted multi-key commit that owns key's stripe and writes key (T3).
// The tree must be read before the stripe: a commit publishes itself in
// the stripe before it changes the tree, and leaves after it committed.
func (db *DB) correct(t *Tree, key, v []byte) []byte {
	if db.tx.reg.n.Load() == 0 {
		// Every commit whose change the tree read saw has ended: it
		// registers before its first change and leaves after it
		// committed.
		return v
	}
	c := db.tx.stripes[db.stripeOf(t, key)].inst.Load()
	if c == nil || c.committed() {
		return v
	}
	if old, ok := c.preimage(t, key); ok {
		return old
	}
	return v
}

// writeSet is what a multi-key commit writes: per tree, the ops in key
// order, the last write of each key winning.
type writeSet struct {
	trees []*Tree
	ops   [][]txOp
	bytes int64 // key and value bytes
	n     int   // ops
}

// each calls yield with every key ws writes, until it returns false.
func (ws *writeSet) each(yield func(t *Tree, key []byte) bool) {
	for i, t := range ws.trees {
		for _, op := range ws.ops[i] {
			if !yield(t, op.key) {
				return
			}
		}
	}
}

// stripesOf returns the sorted distinct stripes of ws's keys.
func (db *DB) stripesOf(ws *writeSet) []int {
	var idx []int
	ws.each(func(t *Tree, key []byte) bool {
		idx = append(idx, db.stripeOf(t, key))
		return true
	})
	return sortedStripes(idx)
}

// install applies ws atomically (T3, T4, T7). The caller holds the stripes
// held (sorted) of every key of ws, has validated what it read, and filled
// the pre-images it knows (known[i][j]); install reads the others from the
// tree. notify, when not nil, counts and publishes the writes instead of
// install (still under the stripes).
func (db *DB) install(ws *writeSet, held []int, known [][]bool, notify func()) error {
	if ws.n == 0 {
		return nil
	}
	for i, t := range ws.trees {
		for j := range ws.ops[i] {
			if known != nil && known[i][j] {
				continue
			}
			old, _, err := t.t.Get(ws.ops[i][j].key)
			if err != nil {
				return t.mapErr(err)
			}
			ws.ops[i][j].old = old
		}
	}
	c := &commit{trees: ws.trees, ops: ws.ops}
	// T3: publish the pre-images before the tree changes.
	for _, i := range held {
		db.tx.stripes[i].inst.Store(c)
	}
	defer func() {
		for _, i := range held {
			db.tx.stripes[i].inst.Store(nil)
		}
	}()
	db.tx.reg.add(c, db.log.Tail()) // T7: before the redo record
	defer db.tx.reg.remove(c)
	if db.tx.vs.recording.Load() { // T4: under the stripes, before the tree changes
		g := db.tx.vs.current()
		for i, t := range ws.trees {
			for _, op := range ws.ops[i] {
				g.record(t, op.key, &version{c: c, old: op.old})
			}
		}
	}
	redo := make([]codec.Section, 0, len(ws.trees))
	for i, t := range ws.trees {
		ops := make([]node.Delta, len(ws.ops[i]))
		for j, op := range ws.ops[i] {
			if op.del {
				ops[j] = node.Delta{Kind: node.DeltaDel, Key: op.key}
			} else {
				ops[j] = node.Delta{Kind: node.DeltaSet, Key: op.key, Val: op.val}
			}
		}
		redo = append(redo, codec.Section{Kind: codec.SecTxRedo, Name: t.name, Value: t.created, Delta: node.Delta{Kind: node.DeltaBatch, Ops: ops}})
	}
	r, err := db.pc.LogMeta(redo...)
	if err != nil {
		c.state.Store(stateAborted)
		return db.Tree.mapErr(err)
	}
	txHook("redo")
	for i, t := range ws.trees {
		err := applyRedo(t, redo[i].Delta.Ops)
		if err != nil && t.dropped.Load() {
			// Dropped while the commit ran: the drop comes after it,
			// and recovery skips a dropped tree's redo too.
			err = nil
		}
		if err != nil {
			// The log refuses writes now (a failed write or sync is the
			// only way here); recovery finishes the commit from its
			// redo record if that is durable, or drops it. In memory it
			// is half applied: fail every later call rather than show it.
			db.poison(err)
			c.state.Store(stateAborted)
			return t.mapErr(err)
		}
		txHook("tree")
	}
	if _, err := db.pc.LogMeta(codec.Section{Kind: codec.SecTxEnd, Value: uint64(r)}); err != nil {
		db.poison(err)
		c.state.Store(stateAborted)
		return db.Tree.mapErr(err)
	}
	db.finish(c)
	for _, t := range ws.trees {
		t.flips.Add(1)
	}
	db.tx.commits.Add(1)
	// Count and notify under the stripes: events of a key stay in order.
	if notify != nil {
		notify()
		return nil
	}
	for i, t := range ws.trees {
		for _, op := range ws.ops[i] {
			switch {
			case !op.del:
				db.userBytes.Add(int64(len(op.key) + len(op.val)))
				if subs := t.subs.matching(op.key); subs != nil {
					publish(subs, op.key, op.val, false)
				}
			case op.old != nil:
				db.userBytes.Add(int64(len(op.key)))
				if subs := t.subs.matching(op.key); subs != nil {
					publish(subs, op.key, nil, true)
				}
			}
		}
	}
	return nil
}

// commitWrites locks, installs and unlocks a write-only commit (a batch);
// notify counts and publishes its writes (install's notify).
func (db *DB) commitWrites(ws *writeSet, notify func()) error {
	held := db.stripesOf(ws)
	db.lockStripes(held)
	db.waitRanges(held, ws.each)
	err := db.install(ws, held, nil, notify)
	db.unlockStripes(held)
	db.tx.vs.maybeCollect(db)
	return err
}

// newWriteSet builds a write set from per-tree op lists in write order:
// each tree's ops are sorted by key, the last write of a key winning.
func newWriteSet(trees []*Tree, ops [][]txOp) *writeSet {
	ws := &writeSet{trees: trees, ops: make([][]txOp, len(trees))}
	for i := range trees {
		list := ops[i]
		sorted := true
		for j := 1; j < len(list) && sorted; j++ {
			sorted = bytes.Compare(list[j-1].key, list[j].key) < 0
		}
		if !sorted {
			list = slices.Clone(list)
			slices.SortStableFunc(list, func(a, b txOp) int { return bytes.Compare(a.key, b.key) })
			// keep the last of each run of equal keys
			out := list[:0]
			for j := range list {
				if len(out) > 0 && bytes.Equal(out[len(out)-1].key, list[j].key) {
					out[len(out)-1] = list[j]
					continue
				}
				out = append(out, list[j])
			}
			list = out
		}
		ws.ops[i] = list
		ws.n += len(list)
		for _, op := range list {
			ws.bytes += int64(len(op.key) + len(op.val))
		}
	}
	return ws
}

// txTestHook, when set by a test, is called at the steps of a multi-key
// commit ("redo": its redo record appended; "tree": one tree's writes
// applied), to crash there.
var txTestHook atomic.Pointer[func(step string)]

func txHook(step string) {
	if h := txTestHook.Load(); h != nil {
		(*h)(step)
	}
}

// applyRedo applies the ops of one tree's redo section (keys increasing),
// as a commit installs them and as Open finishes a commit (T7).
func applyRedo(t *Tree, ops []node.Delta) error {
	bops := make([]tree.BatchOp, len(ops))
	for i, op := range ops {
		bops[i] = tree.BatchOp{Key: op.Key, Val: op.Val, Delete: op.Kind == node.DeltaDel}
	}
	return t.t.ApplySorted(bops, func(int, []byte, bool) {})
}
