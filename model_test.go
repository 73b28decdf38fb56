package sled_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/sledgo/sled"
	"github.com/sledgo/sled/internal/testutil"
)

// model is the reference: a plain map, with sorted views on demand.
type model map[string][]byte

func (m model) sortedKeys() []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// opKind enumerates the operations of the model test and the fuzz target.
type opKind uint8

const (
	opInsert opKind = iota
	opRemove
	opGet
	opCAS
	opMerge
	opUpdate
	opGetLT
	opGetGT
	opFirstLast
	opPop
	opRange
	opPrefix
	opBatch
	opLen
	opRestart
	opClear
	opTx       // a transaction: read, write, remove, range with its own writes
	opSnapshot // take a snapshot (the model is copied with it)
	opSnapRead // read a held snapshot against its copy of the model
	numOps
)

// harness runs operations against a database and the model, failing the
// test at the first difference.
type harness struct {
	t       testing.TB
	db      *sled.DB
	m       model
	cfg     sled.Config
	step    int
	clears  bool // whether opClear may run (it is expensive on big trees)
	restart func(h *harness)
	snaps   []heldSnapshot // at most two, closed at a restart
}

type heldSnapshot struct {
	s *sled.Snapshot
	t *sled.Tree // the default tree of the database it was taken of
	m model      // the model when it was taken
}

func (m model) clone() model {
	c := make(model, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// rangeOf returns the model's entries in [lo, hi) as "k=v" strings.
func (m model) rangeOf(lo, hi []byte) []string {
	var out []string
	for _, k := range m.sortedKeys() {
		if k >= string(lo) && (hi == nil || k < string(hi)) {
			out = append(out, fmt.Sprintf("%q=%q", k, m[k]))
		}
	}
	return out
}

func iterStrings(h *harness, it *sled.Iterator) []string {
	var out []string
	for it.Next() {
		out = append(out, fmt.Sprintf("%q=%q", it.Key(), it.Value()))
	}
	h.must(it.Err())
	return out
}

// closeSnapshots closes the held snapshots (after a restart: a snapshot of
// a closed database must fail like its trees, not read stale memory).
func (h *harness) closeSnapshots(closed bool) {
	for _, hs := range h.snaps {
		if closed {
			// The database may be closed, or abandoned by a crash test.
			_, terr := hs.t.Get([]byte("a"))
			_, serr := hs.s.Get(hs.t, []byte("a"))
			if errors.Is(terr, sled.ErrClosed) != errors.Is(serr, sled.ErrClosed) {
				h.fatalf("after a restart a tree read gives %v and a snapshot read %v", terr, serr)
			}
		}
		h.must(hs.s.Close())
	}
	h.snaps = nil
}

func appendOp(key, old, operand []byte) []byte {
	if len(operand) == 1 && operand[0] == 'X' {
		return nil // an operand that deletes
	}
	return append(append([]byte{}, old...), operand...)
}

func newHarness(t testing.TB, cfg sled.Config) *harness {
	h := &harness{t: t, m: model{}, cfg: cfg, clears: true}
	h.open()
	h.restart = restartByExport
	t.Cleanup(func() {
		h.closeSnapshots(false)
		if err := h.db.Check(); err != nil {
			t.Errorf("Check at cleanup: %v", err)
		}
		h.db.Close()
	})
	return h
}

func (h *harness) open() {
	db, err := h.cfg.Open()
	if err != nil {
		h.t.Fatal(err)
	}
	db.SetMergeOperator(appendOp)
	h.db = db
}

// restartByExport stands in for a restart until databases persist: the
// contents travel through Export and Import into a fresh database.
func restartByExport(h *harness) {
	var buf bytes.Buffer
	if err := h.db.Export(&buf); err != nil {
		h.t.Fatalf("step %d: export: %v", h.step, err)
	}
	if err := h.db.Check(); err != nil {
		h.t.Fatalf("step %d: check: %v", h.step, err)
	}
	if err := h.db.Close(); err != nil {
		h.t.Fatalf("step %d: close: %v", h.step, err)
	}
	h.open()
	if err := h.db.Import(&buf); err != nil {
		h.t.Fatalf("step %d: import: %v", h.step, err)
	}
}

func (h *harness) fatalf(format string, args ...any) {
	h.t.Helper()
	h.t.Fatalf("step %d: %s", h.step, fmt.Sprintf(format, args...))
}

func (h *harness) must(err error) {
	h.t.Helper()
	if err != nil {
		h.fatalf("unexpected error: %v", err)
	}
}

func (h *harness) expectVal(what string, got, want []byte, wantOK bool) {
	h.t.Helper()
	if (got != nil) != wantOK || !bytes.Equal(got, want) {
		h.fatalf("%s = %q (present %v), want %q (present %v)", what, got, got != nil, want, wantOK)
	}
}

func (h *harness) expectKV(what string, k, v []byte, wantK string, ok bool) {
	h.t.Helper()
	if !ok {
		if k != nil {
			h.fatalf("%s = %q, want none", what, k)
		}
		return
	}
	if k == nil || string(k) != wantK || !bytes.Equal(v, h.m[wantK]) {
		h.fatalf("%s = %q=%q, want %q=%q", what, k, v, wantK, h.m[wantK])
	}
}

// do runs one operation chosen by op with arguments a and b (keys) and val.
func (h *harness) do(op opKind, a, b, val []byte) {
	h.step++
	m := h.m
	switch op {
	case opInsert:
		prev, err := h.db.Insert(a, val)
		h.must(err)
		old, ok := m[string(a)]
		h.expectVal("insert prev", prev, old, ok)
		m[string(a)] = bytes.Clone(val)
		if m[string(a)] == nil {
			m[string(a)] = []byte{}
		}
	case opRemove:
		prev, err := h.db.Remove(a)
		h.must(err)
		old, ok := m[string(a)]
		h.expectVal("remove prev", prev, old, ok)
		delete(m, string(a))
	case opGet:
		v, err := h.db.Get(a)
		h.must(err)
		old, ok := m[string(a)]
		h.expectVal("get", v, old, ok)
	case opCAS:
		cur, ok := m[string(a)]
		var expect []byte
		switch len(val) % 3 {
		case 0:
			expect = cur // matches (nil when absent)
		case 1:
			expect = nil
		default:
			expect = []byte("nope")
		}
		var nv []byte
		if len(val)%2 == 0 {
			nv = val
		}
		err := h.db.CompareAndSwap(a, expect, nv)
		match := ok == (expect != nil) && (!ok || bytes.Equal(cur, expect))
		var ce *sled.CompareAndSwapError
		switch {
		case match && err != nil:
			h.fatalf("cas should succeed: %v", err)
		case !match && !errors.As(err, &ce):
			h.fatalf("cas should fail with CompareAndSwapError, got %v", err)
		case !match:
			h.expectVal("cas current", ce.Current, cur, ok)
		case nv == nil:
			delete(m, string(a))
		default:
			m[string(a)] = bytes.Clone(nv)
		}
	case opMerge:
		nv, err := h.db.Merge(a, val)
		h.must(err)
		old := m[string(a)]
		want := appendOp(a, old, val)
		if want == nil {
			delete(m, string(a))
		} else {
			m[string(a)] = want
		}
		h.expectVal("merge", nv, want, want != nil)
	case opUpdate:
		fn := func(old []byte) []byte {
			if old == nil {
				return []byte("1")
			}
			if len(old) > 3 {
				return nil
			}
			return append(bytes.Clone(old), '+')
		}
		old, ok := m[string(a)]
		var prevArg []byte
		if ok {
			prevArg = old
		}
		want := fn(prevArg)
		var got []byte
		var err error
		if len(val)%2 == 0 {
			got, err = h.db.Update(a, fn)
			h.must(err)
			h.expectVal("update", got, want, want != nil)
		} else {
			got, err = h.db.FetchAndUpdate(a, fn)
			h.must(err)
			h.expectVal("fetch and update", got, old, ok)
		}
		if want == nil {
			delete(m, string(a))
		} else {
			m[string(a)] = want
		}
	case opGetLT, opGetGT:
		keys := m.sortedKeys()
		var k, v []byte
		var err error
		var want string
		ok := false
		if op == opGetLT {
			k, v, err = h.db.GetLT(a)
			i := sort.SearchStrings(keys, string(a))
			if i > 0 {
				want, ok = keys[i-1], true
			}
		} else {
			k, v, err = h.db.GetGT(a)
			i := sort.SearchStrings(keys, string(a))
			if i < len(keys) && keys[i] == string(a) {
				i++
			}
			if i < len(keys) {
				want, ok = keys[i], true
			}
		}
		h.must(err)
		h.expectKV(fmt.Sprintf("op %d on %q", op, a), k, v, want, ok)
	case opFirstLast:
		keys := m.sortedKeys()
		k, v, err := h.db.First()
		h.must(err)
		if len(keys) > 0 {
			h.expectKV("first", k, v, keys[0], true)
		} else {
			h.expectKV("first", k, v, "", false)
		}
		k, v, err = h.db.Last()
		h.must(err)
		if len(keys) > 0 {
			h.expectKV("last", k, v, keys[len(keys)-1], true)
		} else {
			h.expectKV("last", k, v, "", false)
		}
	case opPop:
		keys := m.sortedKeys()
		var k, v []byte
		var err error
		want := ""
		if len(val)%2 == 0 {
			k, v, err = h.db.PopMin()
			if len(keys) > 0 {
				want = keys[0]
			}
		} else {
			k, v, err = h.db.PopMax()
			if len(keys) > 0 {
				want = keys[len(keys)-1]
			}
		}
		h.must(err)
		h.expectKV("pop", k, v, want, len(keys) > 0)
		delete(m, want)
	case opRange, opPrefix:
		var it *sled.Iterator
		var want []string
		rev := len(val)%2 == 1
		if op == opRange {
			lo, hi := a, b
			if len(val)%3 == 0 {
				lo = nil
			}
			if len(val)%5 == 0 {
				hi = nil
			}
			it = h.db.Range(lo, hi)
			for _, k := range m.sortedKeys() {
				if k >= string(lo) && (hi == nil || k < string(hi)) {
					want = append(want, k)
				}
			}
		} else {
			p := a
			if len(p) > 2 {
				p = p[:2]
			}
			it = h.db.ScanPrefix(p)
			for _, k := range m.sortedKeys() {
				if len(k) >= len(p) && k[:len(p)] == string(p) {
					want = append(want, k)
				}
			}
		}
		if rev {
			it.Rev()
			for i, j := 0, len(want)-1; i < j; i, j = i+1, j-1 {
				want[i], want[j] = want[j], want[i]
			}
		}
		var got []string
		for it.Next() {
			got = append(got, string(it.Key()))
			if !bytes.Equal(it.Value(), m[string(it.Key())]) {
				h.fatalf("iterator value of %q = %q, want %q", it.Key(), it.Value(), m[string(it.Key())])
			}
		}
		h.must(it.Err())
		h.must(it.Close())
		if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
			h.fatalf("iteration (op %d, %q, %q, rev %v) = %q, want %q", op, a, b, rev, got, want)
		}
	case opBatch:
		var batch sled.Batch
		next := model{}
		for k, v := range m {
			next[k] = v
		}
		for i := 0; i < len(val)%7+1; i++ {
			k := append(bytes.Clone(a), byte('0'+i))
			if i%3 == 2 {
				batch.Remove(k)
				delete(next, string(k))
			} else {
				batch.Insert(k, val)
				next[string(k)] = bytes.Clone(val)
				if next[string(k)] == nil {
					next[string(k)] = []byte{}
				}
			}
		}
		h.must(h.db.ApplyBatch(&batch))
		h.m = next
	case opLen:
		n, err := h.db.Len()
		h.must(err)
		if n != len(m) {
			h.fatalf("len = %d, want %d", n, len(m))
		}
		empty, err := h.db.IsEmpty()
		h.must(err)
		if empty != (len(m) == 0) {
			h.fatalf("IsEmpty = %v with %d keys", empty, len(m))
		}
	case opRestart:
		old := h.snaps
		h.restart(h)
		h.snaps = old
		h.closeSnapshots(true)
		h.verifyAll()
	case opTx:
		lo, hi := a, b
		if bytes.Compare(lo, hi) > 0 {
			lo, hi = hi, lo
		}
		var next model
		h.must(h.db.Transaction(func(tx *sled.Tx) error {
			next = m.clone()
			v, err := tx.Get(h.db.Tree, a)
			if err != nil {
				return err
			}
			old, ok := next[string(a)]
			h.expectVal("tx get", v, old, ok)
			if err := tx.Insert(h.db.Tree, a, val); err != nil {
				return err
			}
			next[string(a)] = bytes.Clone(val)
			if next[string(a)] == nil {
				next[string(a)] = []byte{}
			}
			if len(val)%2 == 0 {
				if err := tx.Remove(h.db.Tree, b); err != nil {
					return err
				}
				delete(next, string(b))
			}
			it := tx.Range(h.db.Tree, lo, hi)
			if len(val)%3 == 0 {
				it.Rev()
			}
			got, want := iterStrings(h, it), next.rangeOf(lo, hi)
			if len(val)%3 == 0 {
				slices.Reverse(want)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				h.fatalf("tx range [%q, %q) = %v, want %v", lo, hi, got, want)
			}
			return nil
		}))
		h.m = next
	case opSnapshot:
		if len(h.snaps) == 2 {
			h.must(h.snaps[0].s.Close())
			h.snaps = h.snaps[1:]
		}
		s, err := h.db.Snapshot()
		h.must(err)
		h.snaps = append(h.snaps, heldSnapshot{s, h.db.Tree, m.clone()})
	case opSnapRead:
		if len(h.snaps) == 0 {
			return
		}
		hs := h.snaps[len(val)%len(h.snaps)]
		v, err := hs.s.Get(hs.t, a)
		h.must(err)
		old, ok := hs.m[string(a)]
		h.expectVal("snapshot get", v, old, ok)
		lo, hi := a, b
		if bytes.Compare(lo, hi) > 0 {
			lo, hi = hi, lo
		}
		it := hs.s.Range(hs.t, lo, hi)
		if len(val)%2 == 0 {
			it.Rev()
		}
		got, want := iterStrings(h, it), hs.m.rangeOf(lo, hi)
		if len(val)%2 == 0 {
			slices.Reverse(want)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			h.fatalf("snapshot range [%q, %q) = %v, want %v", lo, hi, got, want)
		}
	case opClear:
		if !h.clears {
			return
		}
		h.must(h.db.Clear())
		h.m = model{}
	}
}

// verifyAll compares the whole database with the model.
func (h *harness) verifyAll() {
	h.t.Helper()
	it := h.db.Iter()
	defer it.Close()
	keys := h.m.sortedKeys()
	i := 0
	for it.Next() {
		if i >= len(keys) || string(it.Key()) != keys[i] || !bytes.Equal(it.Value(), h.m[keys[i]]) {
			h.fatalf("full scan entry %d = %q=%q, model has %d keys", i, it.Key(), it.Value(), len(keys))
		}
		i++
	}
	h.must(it.Err())
	if i != len(keys) {
		h.fatalf("full scan returned %d keys, model has %d", i, len(keys))
	}
}

// randKey draws from a small key space with shared prefixes, the empty key
// and 0xff bytes, so that operations collide and boundaries are hit.
func randKey(rng *rand.Rand, space int) []byte {
	switch rng.IntN(20) {
	case 0:
		return []byte{}
	case 1:
		return []byte{0xff, byte(rng.IntN(3))}
	}
	return []byte(fmt.Sprintf("%c%03d", 'a'+rng.IntN(3), rng.IntN(space)))
}

func randVal(rng *rand.Rand) []byte {
	if rng.IntN(10) == 0 {
		return []byte{}
	}
	v := make([]byte, rng.IntN(12))
	for i := range v {
		v[i] = byte('a' + rng.IntN(26))
	}
	return v
}

func TestModelRandom(t *testing.T) {
	seed := testutil.Seed(t)
	for _, nodeEntries := range []int{4, 64} {
		t.Run(fmt.Sprintf("node%d", nodeEntries), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, uint64(nodeEntries)))
			h := newHarness(t, sled.Config{Temporary: true, NodeMaxEntries: nodeEntries})
			steps := 30000
			if testing.Short() {
				steps = 5000
			}
			for i := 0; i < steps; i++ {
				op := opKind(rng.IntN(int(numOps)))
				switch {
				case op == opRestart && rng.IntN(20) != 0,
					op == opClear && rng.IntN(50) != 0:
					op = opInsert // keep restarts and clears rare
				case op == opRemove && rng.IntN(2) == 0:
					op = opInsert // grow the tree on average
				}
				h.do(op, randKey(rng, 300), randKey(rng, 300), randVal(rng))
			}
			h.verifyAll()
		})
	}
}
