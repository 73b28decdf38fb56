package sled

import (
	"bytes"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Versions kept for snapshots (invariants T4-T6 in doc.go).
//
// The trees hold only the newest value of each key. While a snapshot is
// open, every write first records the key's old value (and, once
// committed, its new one) as a version in the current generation of the
// version store; a snapshot reads the tree and corrects what it read with
// the versions committed after it. Generations are dropped whole once no
// open snapshot can need them, and recording stops when no snapshot is open.

// version is one write of a key recorded for snapshots: the value it
// replaced. A snapshot needs no new value: the value it replaced at its
// time is the old value of the first write after it, and when no write
// came after it, the tree holds that value (T5).
type version struct {
	c   *commit
	old []byte // nil: the key was absent; immutable
}

const (
	// versionOverhead is what a version costs beside its bytes: the
	// version, its commit for a single-key write, its slot in the list
	// (measured: heap growth per overwrite with a snapshot open).
	versionOverhead = 160
	// nodeOverhead is what a key's node in a generation's index costs
	// beside its key and its links.
	nodeOverhead = 64
	// sealBytes: a generation this large is sealed (a new one takes the
	// writes) when snapshots are open, so that it can be dropped once they
	// have closed while newer snapshots stay open.
	sealBytes = 8 << 20
	// recordingGrace: once on, recording stays on at least this long,
	// so that a loop of short Views does not sweep the stripes each time.
	recordingGrace = time.Second
	// idleBytes: with no snapshot open, versions beyond this are dropped
	// (a seal and a sweep) while recording stays on for its grace.
	idleBytes = 1 << 20
)

// versionStore holds the generations of versions and the open snapshots.
type versionStore struct {
	// recording says writes record versions; loaded by writers under
	// their stripes (T4), set by openSnapshot before its sweep (T5).
	recording atomic.Bool
	// gens is every generation, oldest first; the last takes new
	// versions. Replaced (copy on write) under mu.
	gens atomic.Pointer[[]*vgen]
	// held: bytes of the versions in all generations (approximate).
	held  atomic.Int64
	count atomic.Int64
	open  atomic.Int64 // len(live.m)

	// mu is held by whoever changes the generations or the recording
	// flag, sweeps included (openSnapshot, collectLocked). A writer that
	// holds stripes never waits for it (maybeCollect and closeSnapshot try
	// it), or a sweep waiting for that writer's stripes would deadlock.
	mu     sync.Mutex
	lastOn time.Time // recording last turned on; protected by mu
	// live is held briefly, never while waiting (Stats takes it).
	live struct {
		sync.Mutex
		m       map[*Snapshot]struct{} // open snapshots; protected by live
		expired int64                  // snapshots expired by the limit; protected by live
	}
	limit int64 // bytes held beyond which the oldest snapshots expire; set by Open
}

// vgen is one generation: per tree, an ordered index of versioned keys.
type vgen struct {
	trees sync.Map // *Tree -> *skiplist
	bytes atomic.Int64
	count atomic.Int64
	// sealed and sealClock: set when the generation was sealed, the clock
	// read after every writer that could still add to it finished (T6).
	// Written and read under versionStore.mu.
	sealed    bool
	sealClock uint64
}

func (vs *versionStore) current() *vgen {
	gens := *vs.gens.Load()
	return gens[len(gens)-1]
}

// record adds v as the newest version of key in t. The caller holds key's
// stripe (T1), so versions of one key are added in commit order.
func (g *vgen) record(t *Tree, key []byte, v *version) {
	sl, ok := g.trees.Load(t)
	if !ok {
		sl, _ = g.trees.LoadOrStore(t, newSkiplist())
	}
	n, added := sl.(*skiplist).insert(key)
	if added {
		size := int64(len(key) + nodeOverhead + 8*len(n.next))
		g.bytes.Add(size)
		t.db.tx.vs.held.Add(size)
	}
	for {
		cur := n.versions.Load()
		var next []*version
		if cur != nil {
			next = make([]*version, len(*cur), len(*cur)+1)
			copy(next, *cur)
		}
		next = append(next, v)
		if n.versions.CompareAndSwap(cur, &next) {
			break
		}
	}
	g.add(t.db, int64(len(v.old)+versionOverhead))
	g.count.Add(1)
	t.db.tx.vs.count.Add(1)
}

// add counts n bytes of versions in g.
func (g *vgen) add(db *DB, n int64) {
	g.bytes.Add(n)
	db.tx.vs.held.Add(n)
}

// recordWrite is the single-key write's part of T4: called from the tree's
// callback with the key's current value, under the key's stripe, before
// the tree changes. It records once per write.
type recordWrite struct {
	g *vgen
	c *commit
	v *version
}

func (r *recordWrite) before(t *Tree, key, old []byte, found bool) {
	if r.g == nil || r.v != nil {
		return
	}
	var o []byte
	if found {
		o = clone(old)
	}
	r.v = &version{c: r.c, old: o}
	r.g.record(t, key, r.v)
}

// after publishes the write (or its absence): changed says whether the
// tree changed.
func (r *recordWrite) after(db *DB, changed bool) {
	if r.g == nil {
		return
	}
	if r.v == nil || !changed {
		r.c.state.Store(stateAborted)
		return
	}
	db.finish(r.c)
}

// resolve returns the value key had at snapshot ts, given v, what the tree
// held when read before the versions (T5): the old value of the first
// version after ts, else v (every write after the tree read has a version
// after ts, recorded before it changed the tree).
func (vs *versionStore) resolve(t *Tree, key []byte, ts uint64, v []byte) []byte {
	for _, g := range *vs.gens.Load() {
		sl, ok := g.trees.Load(t)
		if !ok {
			continue
		}
		n := sl.(*skiplist).find(key)
		if n == nil {
			continue
		}
		for _, ver := range *n.versions.Load() {
			switch s := ver.c.state.Load(); s {
			case stateAborted:
				continue
			case stateWriting:
				return ver.old
			}
			at, ok := ver.c.ts()
			if !ok {
				continue // aborted
			}
			if at > ts {
				return ver.old
			}
		}
	}
	return v
}

// openSnapshot registers a snapshot and sets its timestamp (T5).
func (db *DB) openSnapshot(s *Snapshot) {
	vs := &db.tx.vs
	vs.mu.Lock()
	defer vs.mu.Unlock()
	if !vs.recording.Load() {
		vs.gens.Store(&[]*vgen{{}})
		vs.held.Store(0)
		vs.count.Store(0)
		vs.recording.Store(true)
		vs.lastOn = time.Now()
		// Every write that did not record has finished after this.
		db.sweepStripes()
	}
	s.ts = db.tx.clock.Load()
	s.opened = time.Now()
	vs.live.Lock()
	if vs.live.m == nil {
		vs.live.m = map[*Snapshot]struct{}{}
	}
	vs.live.m[s] = struct{}{}
	vs.open.Store(int64(len(vs.live.m)))
	vs.live.Unlock()
}

// closeSnapshot unregisters s and collects what no snapshot needs, unless
// a collection is running (the next one will).
func (db *DB) closeSnapshot(s *Snapshot) {
	vs := &db.tx.vs
	vs.live.Lock()
	delete(vs.live.m, s)
	vs.open.Store(int64(len(vs.live.m)))
	vs.live.Unlock()
	if vs.mu.TryLock() {
		vs.collectLocked(db, false) // a Close may run under a stripe: no sweep
		vs.mu.Unlock()
	}
}

// liveMin returns the smallest timestamp of the open snapshots (max
// uint64 when none), their number, and the oldest.
func (vs *versionStore) liveMin() (minTS uint64, n int, oldest *Snapshot) {
	vs.live.Lock()
	defer vs.live.Unlock()
	minTS = ^uint64(0)
	for s := range vs.live.m {
		if oldest == nil || s.ts < oldest.ts {
			oldest = s
		}
		minTS = min(minTS, s.ts)
	}
	return minTS, len(vs.live.m), oldest
}

// maybeCollect runs a collection when a generation has outgrown sealBytes
// or the store its limit; a writer calls it after releasing its stripes.
func (vs *versionStore) maybeCollect(db *DB) {
	if !vs.recording.Load() {
		return
	}
	held := vs.held.Load()
	if vs.current().bytes.Load() < sealBytes && held <= vs.limit && (held <= idleBytes || vs.open.Load() > 0) {
		return
	}
	if !vs.mu.TryLock() {
		return // a collection is running
	}
	vs.collectLocked(db, true)
	vs.mu.Unlock()
}

// collectLocked drops the generations no open snapshot needs (T6), seals
// the current one when it is large, expires the oldest snapshots while the
// versions held exceed the limit, and stops recording when no snapshot has
// been open for recordingGrace. The caller holds vs.mu; it must hold no
// stripe when seal is true (a seal sweeps them).
func (vs *versionStore) collectLocked(db *DB, seal bool) {
	if !vs.recording.Load() {
		return
	}
	for vs.held.Load() > vs.limit {
		_, _, oldest := vs.liveMin()
		if oldest == nil {
			break
		}
		oldest.expired.Store(true)
		vs.live.Lock()
		delete(vs.live.m, oldest)
		vs.open.Store(int64(len(vs.live.m)))
		vs.live.expired++
		vs.live.Unlock()
		vs.dropLocked()
		if vs.held.Load() > vs.limit {
			if !seal {
				break
			}
			vs.sealLocked(db)
			vs.dropLocked()
		}
	}
	if _, n, _ := vs.liveMin(); n == 0 {
		if time.Since(vs.lastOn) >= recordingGrace {
			vs.recording.Store(false)
			vs.gens.Store(&[]*vgen{{}})
			vs.held.Store(0)
			vs.count.Store(0)
			return
		}
		if vs.held.Load() > idleBytes && seal {
			vs.sealLocked(db)
			vs.dropLocked() // no snapshot: every sealed generation goes
			return
		}
	}
	if vs.current().bytes.Load() >= sealBytes && seal {
		vs.sealLocked(db)
	}
	vs.dropLocked()
}

// sealLocked starts a new generation and waits out the writers of the old.
func (vs *versionStore) sealLocked(db *DB) {
	gens := *vs.gens.Load()
	old := gens[len(gens)-1]
	next := append(append(make([]*vgen, 0, len(gens)+1), gens...), &vgen{})
	vs.gens.Store(&next)
	db.sweepStripes() // every writer that loaded old has finished
	old.sealClock, old.sealed = db.tx.clock.Load(), true
}

// dropLocked drops the sealed generations every open snapshot is at or
// after (T6).
func (vs *versionStore) dropLocked() {
	minTS, _, _ := vs.liveMin()
	gens := *vs.gens.Load()
	keep := make([]*vgen, 0, len(gens))
	var freed, n int64
	for i, g := range gens {
		if i < len(gens)-1 && g.sealed && g.sealClock <= minTS {
			freed += g.bytes.Load()
			n += g.count.Load()
			continue
		}
		keep = append(keep, g)
	}
	if len(keep) != len(gens) {
		vs.gens.Store(&keep)
		vs.held.Add(-freed)
		vs.count.Add(-n)
	}
}

// skiplist is an ordered set of keys with their versions: lock-free reads
// and inserts, no removal (a generation is dropped whole).
type skiplist struct {
	head slnode // its next has slLevels links
}

const slLevels = 20

type slnode struct {
	key      []byte
	versions atomic.Pointer[[]*version]
	next     []atomic.Pointer[slnode] // one link per level of the node
}

func newSkiplist() *skiplist {
	return &skiplist{head: slnode{next: make([]atomic.Pointer[slnode], slLevels)}}
}

func randomLevel() int {
	l := 1
	for l < slLevels && rand.Uint32()&3 == 0 {
		l++
	}
	return l
}

// seek fills preds and succs at every level around key; it returns the
// node with key, if any.
func (sl *skiplist) seek(key []byte, preds, succs *[slLevels]*slnode) *slnode {
	x := &sl.head
	var found *slnode
	for l := slLevels - 1; l >= 0; l-- {
		for {
			n := x.next[l].Load() // x is the head or has a link at l
			if n == nil {
				succs[l] = nil
				break
			}
			c := bytes.Compare(n.key, key)
			if c < 0 {
				x = n
				continue
			}
			if c == 0 {
				found = n
			}
			succs[l] = n
			break
		}
		preds[l] = x
	}
	return found
}

// insert returns the node of key and whether it added it.
func (sl *skiplist) insert(key []byte) (*slnode, bool) {
	var preds, succs [slLevels]*slnode
	for {
		if n := sl.seek(key, &preds, &succs); n != nil {
			return n, false
		}
		lvl := randomLevel()
		n := &slnode{key: clone(key), next: make([]atomic.Pointer[slnode], lvl)}
		for l := 0; l < lvl; l++ {
			n.next[l].Store(succs[l])
		}
		if !preds[0].next[0].CompareAndSwap(succs[0], n) {
			continue // raced: search again
		}
		for l := 1; l < lvl; l++ {
			for !preds[l].next[l].CompareAndSwap(succs[l], n) {
				sl.seek(key, &preds, &succs)
				if succs[l] == n {
					break
				}
				n.next[l].Store(succs[l])
			}
		}
		return n, true
	}
}

// find returns the node of key, or nil.
func (sl *skiplist) find(key []byte) *slnode {
	x := &sl.head
	for l := slLevels - 1; l >= 0; l-- {
		for {
			n := x.next[l].Load()
			if n == nil {
				break
			}
			c := bytes.Compare(n.key, key)
			if c < 0 {
				x = n
				continue
			}
			if c == 0 {
				return n
			}
			break
		}
	}
	return nil
}

// after returns the smallest key above bound (at or above when incl), or
// nil.
func (sl *skiplist) after(bound []byte, incl bool) []byte {
	x := &sl.head
	for l := slLevels - 1; l >= 0; l-- {
		for {
			n := x.next[l].Load()
			if n == nil {
				break
			}
			c := bytes.Compare(n.key, bound)
			if c < 0 || (c == 0 && !incl) {
				x = n
				continue
			}
			break
		}
	}
	if n := x.next[0].Load(); n != nil {
		return n.key
	}
	return nil
}

// before returns the greatest key below bound (nil: unbounded), or nil.
func (sl *skiplist) before(bound []byte) []byte {
	x := &sl.head
	for l := slLevels - 1; l >= 0; l-- {
		for {
			n := x.next[l].Load()
			if n == nil || (bound != nil && bytes.Compare(n.key, bound) >= 0) {
				break
			}
			x = n
		}
	}
	if x == &sl.head {
		return nil
	}
	return x.key
}
