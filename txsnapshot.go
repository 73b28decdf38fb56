package sled

import (
	"bytes"
	"sync/atomic"
	"time"
)

// Snapshot is a consistent, read-only view of every tree of the database as
// of its creation: everything committed before DB.Snapshot returned, nothing
// after. It is safe for concurrent use and lives until Close.
//
// While a snapshot is open, writes keep the values they overwrite as
// versions (in memory, not on disk), and Stats shows how many and how old
// the oldest snapshot is. They are bounded: when the versions held exceed
// Config.MaxSnapshotBytes, the oldest open snapshots expire, and their
// reads return ErrSnapshotExpired. Close snapshots when done.
type Snapshot struct {
	db      *DB
	ts      uint64    // the clock when taken (T5); set by openSnapshot
	opened  time.Time // set by openSnapshot
	closed  atomic.Bool
	expired atomic.Bool // set under the version store's mutex
}

// Snapshot returns a consistent view of the database as it is now.
func (db *DB) Snapshot() (*Snapshot, error) {
	if err := db.usable(); err != nil {
		return nil, err
	}
	s := &Snapshot{db: db}
	db.openSnapshot(s)
	return s, nil
}

// Close releases the snapshot; later reads return ErrSnapshotClosed. It is
// idempotent.
func (s *Snapshot) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.db.closeSnapshot(s)
	return nil
}

func (s *Snapshot) usable(t *Tree) error {
	if s.closed.Load() {
		return ErrSnapshotClosed
	}
	if s.expired.Load() {
		return ErrSnapshotExpired
	}
	if t == nil || t.db != s.db {
		return errForeignTree
	}
	return t.usable()
}

// Get returns key's value in t as of the snapshot, or nil when absent.
func (s *Snapshot) Get(t *Tree, key []byte) ([]byte, error) {
	if err := s.usable(t); err != nil {
		return nil, err
	}
	if err := checkKey(key); err != nil {
		return nil, err
	}
	v, _, err := t.t.Get(key) // T5: the tree first, then the versions
	if err != nil {
		return nil, t.mapErr(err)
	}
	v = s.db.tx.vs.resolve(t, key, s.ts, v)
	if s.expired.Load() { // after resolving: its generations may be gone
		return nil, ErrSnapshotExpired
	}
	return v, nil
}

// Range returns an iterator over [lo, hi) of t as of the snapshot; a nil
// bound is unbounded.
func (s *Snapshot) Range(t *Tree, lo, hi []byte) *Iterator {
	if err := s.usable(t); err != nil {
		return &Iterator{done: true, err: err}
	}
	it := t.Range(lo, hi)
	it.src = func(rev bool) iterSource {
		base := t.Range(it.lo, it.hi)
		if rev {
			base.Rev()
		}
		return &snapIter{s: s, t: t, lo: it.lo, hi: it.hi, rev: rev, base: base}
	}
	return it
}

// snapIter merges the live tree's entries with the keys that have
// versions, and resolves each at the snapshot. The versions are searched
// again after every step of the tree (T5): a key removed from the tree
// after the snapshot has a version recorded before its removal, so a
// search made after the tree passed its place finds it.
type snapIter struct {
	s      *Snapshot
	t      *Tree
	lo, hi []byte
	rev    bool
	base   *Iterator
	pk, pv []byte // the tree's next entry
	have   bool
	end    bool
	last   []byte // the last key considered
	moved  bool
}

func (x *snapIter) next() (k, v []byte, ok bool, err error) {
	vs := &x.s.db.tx.vs
	for {
		if err := x.s.usable(x.t); err != nil {
			return nil, nil, false, err
		}
		if !x.have && !x.end {
			if x.base.Next() {
				x.pk, x.pv, x.have = x.base.Key(), x.base.Value(), true
			} else if err := x.base.Err(); err != nil {
				return nil, nil, false, err
			} else {
				x.end = true
			}
		}
		var vk []byte
		if x.rev {
			bound := x.hi
			if x.moved {
				bound = x.last
			}
			vk = vs.before(x.t, bound, x.lo)
		} else {
			bound, incl := x.lo, true
			if x.moved {
				bound, incl = x.last, false
			}
			vk = vs.after(x.t, bound, incl, x.hi)
		}
		var key, tv []byte
		switch {
		case x.have && (vk == nil || x.precedesOrEqual(x.pk, vk)):
			key, tv, x.have = x.pk, x.pv, false
		case vk != nil:
			key = vk // not in the tree when it passed its place
		default:
			return nil, nil, false, nil
		}
		x.last, x.moved = key, true
		v := vs.resolve(x.t, key, x.s.ts, tv)
		if x.s.expired.Load() {
			return nil, nil, false, ErrSnapshotExpired
		}
		if v != nil {
			return key, v, true, nil
		}
	}
}

func (x *snapIter) precedesOrEqual(a, b []byte) bool {
	c := bytes.Compare(a, b)
	if x.rev {
		return c >= 0
	}
	return c <= 0
}

func (x *snapIter) close() { x.base.Close() }

// after returns the smallest versioned key of t above bound (at or above
// when incl) and below hi (nil: unbounded), or nil.
func (vs *versionStore) after(t *Tree, bound []byte, incl bool, hi []byte) []byte {
	var best []byte
	for _, g := range *vs.gens.Load() {
		sl, ok := g.trees.Load(t)
		if !ok {
			continue
		}
		k := sl.(*skiplist).after(bound, incl)
		if k != nil && (hi == nil || bytes.Compare(k, hi) < 0) && (best == nil || bytes.Compare(k, best) < 0) {
			best = k
		}
	}
	return best
}

// before returns the greatest versioned key of t below bound (nil:
// unbounded) and at or above lo, or nil.
func (vs *versionStore) before(t *Tree, bound, lo []byte) []byte {
	var best []byte
	for _, g := range *vs.gens.Load() {
		sl, ok := g.trees.Load(t)
		if !ok {
			continue
		}
		k := sl.(*skiplist).before(bound)
		if k != nil && bytes.Compare(k, lo) >= 0 && (best == nil || bytes.Compare(k, best) > 0) {
			best = k
		}
	}
	return best
}
