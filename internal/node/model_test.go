package node

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/sledgo/sled/internal/testutil"
)

// model is a node as plain sorted slices: what every constructor and
// copy-on-write method is checked against.
type model struct {
	level  uint8
	lo, hi []byte // hi nil is +infinity
	next   PageID
	frozen bool
	keys   [][]byte
	vals   [][]byte // leaves
	kids   []PageID // index nodes
	marks  []bool   // index nodes, one per key
}

func (m *model) clone() *model {
	c := *m
	c.lo, c.hi = cloneBytes(m.lo), cloneBytes(m.hi)
	c.keys, c.vals = cloneBytess(m.keys), cloneBytess(m.vals)
	c.kids = append([]PageID(nil), m.kids...)
	c.marks = append([]bool(nil), m.marks...)
	return &c
}

func (m *model) String() string {
	return fmt.Sprintf("level %d [%x, %x) next %d frozen %v keys %x vals %x kids %v marks %v",
		m.level, m.lo, m.hi, m.next, m.frozen, m.keys, m.vals, m.kids, m.marks)
}

func (m *model) search(k []byte) (int, bool) {
	for i, kk := range m.keys {
		if c := bytes.Compare(kk, k); c >= 0 {
			return i, c == 0
		}
	}
	return len(m.keys), false
}

func (m *model) hasMark() bool {
	for _, x := range m.marks {
		if x {
			return true
		}
	}
	return false
}

// set inserts or replaces key in a leaf model.
func (m *model) set(k, v []byte) {
	i, found := m.search(k)
	if found {
		m.vals[i] = cloneBytes(v)
		return
	}
	m.keys = insertAt(m.keys, i, cloneBytes(k))
	m.vals = insertAt(m.vals, i, cloneBytes(v))
}

// addChild inserts an unmarked index entry.
func (m *model) addChild(k []byte, kid PageID) {
	i, _ := m.search(k)
	m.keys = insertAt(m.keys, i, cloneBytes(k))
	m.kids = insertAt(m.kids, i, kid)
	m.marks = insertAt(m.marks, i, false)
}

func (m *model) remove(i int) {
	m.keys = removeAt(m.keys, i)
	if m.level == 0 {
		m.vals = removeAt(m.vals, i)
	} else {
		m.kids = removeAt(m.kids, i)
		m.marks = removeAt(m.marks, i)
	}
}

// split is Split on the model: the halves are never frozen.
func (m *model) split(at int, rightID PageID) (l, r *model) {
	c := m.clone()
	sep := c.keys[at]
	l = &model{level: c.level, lo: c.lo, hi: cloneBytes(sep), next: rightID, keys: c.keys[:at:at]}
	r = &model{level: c.level, lo: cloneBytes(sep), hi: c.hi, next: c.next, keys: c.keys[at:]}
	if c.level == 0 {
		l.vals, r.vals = c.vals[:at:at], c.vals[at:]
	} else {
		l.kids, r.kids = c.kids[:at:at], c.kids[at:]
		l.marks, r.marks = c.marks[:at:at], c.marks[at:]
	}
	return l, r
}

// absorb is Absorb on the model: never frozen.
func absorb(l, r *model) *model {
	a, b := l.clone(), r.clone()
	return &model{level: a.level, lo: a.lo, hi: b.hi, next: b.next,
		keys: append(a.keys, b.keys...), vals: append(a.vals, b.vals...),
		kids: append(a.kids, b.kids...), marks: append(a.marks, b.marks...)}
}

// node builds the model with NewLeaf or NewIndex (and WithFrozen).
func (m *model) node() *Node {
	var n *Node
	if m.level == 0 {
		n = NewLeaf(m.lo, m.hi, m.next, m.keys, m.vals)
	} else {
		n = NewIndex(m.level, m.lo, m.hi, m.next, m.keys, m.kids, m.marks)
	}
	if m.frozen {
		n = n.WithFrozen()
	}
	return n
}

// build builds the model with a Builder.
func (m *model) build() (*Node, error) {
	kb, vb := 0, 0
	for i, k := range m.keys {
		kb += len(k)
		if m.level == 0 {
			vb += len(m.vals[i])
		}
	}
	w := NewBuilder(m.level, m.frozen, m.next, m.lo, m.hi, len(m.keys), kb, vb)
	for i, k := range m.keys {
		var ok bool
		if m.level == 0 {
			ok = w.Leaf(k, m.vals[i])
		} else {
			ok = w.Index(k, m.kids[i], m.marks[i])
		}
		if !ok {
			return nil, fmt.Errorf("Builder refused entry %d of its plan", i)
		}
	}
	return w.Finish()
}

// checkModel fails unless every accessor of n agrees with m, FromBytes
// accepts n, n is byte for byte what NewLeaf/NewIndex and a Builder make of
// m, and n's MemBytes is exact.
func checkModel(t *testing.T, what string, n *Node, m *model) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("%s: %s\nnode  %s\nmodel %s", what, fmt.Sprintf(format, args...), describe(n), m)
	}
	if n.Level() != m.level || n.IsLeaf() != (m.level == 0) || n.Next() != m.next || n.Frozen() != m.frozen || n.Len() != len(m.keys) {
		fail("header differs")
	}
	if lo := n.Lo(); lo == nil || !bytes.Equal(lo, m.lo) {
		fail("Lo %x", lo)
	}
	if hi := n.Hi(); (hi == nil) != (m.hi == nil) || !bytes.Equal(hi, m.hi) {
		fail("Hi %x", hi)
	}
	for i, k := range m.keys {
		if !bytes.Equal(n.Key(i), k) {
			fail("Key(%d) = %x", i, n.Key(i))
		}
		if m.level == 0 {
			if !bytes.Equal(n.Val(i), m.vals[i]) || n.Marked(i) {
				fail("Val(%d) = %x, Marked %v", i, n.Val(i), n.Marked(i))
			}
			if k, v := n.Entry(i); !bytes.Equal(k, m.keys[i]) || !bytes.Equal(v, m.vals[i]) || cap(k) != len(k) || cap(v) != len(v) {
				fail("Entry(%d) = %x, %x (caps %d, %d)", i, k, v, cap(k), cap(v))
			}
		} else if n.Kid(i) != m.kids[i] || n.Marked(i) != m.marks[i] {
			fail("Kid(%d) = %d, Marked %v", i, n.Kid(i), n.Marked(i))
		}
		if j, found := n.Search(k); j != i || !found {
			fail("Search(Key(%d)) = %d,%v", i, j, found)
		}
		// Keys between the entries: where they would go.
		for _, probe := range [][]byte{append(cloneBytes(k), 0), k[:len(k)/2]} {
			wi, wf := m.search(probe)
			if j, found := n.Search(probe); j != wi || found != wf {
				fail("Search(%x) = %d,%v; want %d,%v", probe, j, found, wi, wf)
			}
			if m.level == 0 {
				if v, ok := n.Get(probe); ok != wf || (ok && !bytes.Equal(v, m.vals[wi])) {
					fail("Get(%x) = %x,%v", probe, v, ok)
				}
			}
		}
		if m.level == 0 {
			if v, ok := n.Get(k); !ok || !bytes.Equal(v, m.vals[i]) {
				fail("Get(Key(%d)) = %x,%v", i, v, ok)
			}
		}
	}
	if n.HasMark() != m.hasMark() {
		fail("HasMark %v", n.HasMark())
	}
	if !reflect.DeepEqual(n.Keys(), nonNil(m.keys)) {
		fail("Keys() = %x", n.Keys())
	}
	if m.level == 0 {
		var ek, ev [][]byte
		n.Each(func(k, v []byte) { ek, ev = append(ek, k), append(ev, v) })
		for start := range len(m.keys) {
			c := n.CursorAt(start)
			for i := start; i < len(m.keys); i++ {
				if k, v := n.Step(&c); !bytes.Equal(k, m.keys[i]) || !bytes.Equal(v, m.vals[i]) {
					fail("cursor from %d read %x=%x at %d", start, k, v, i)
				}
			}
		}
		if !reflect.DeepEqual(nonNil(ek), nonNil(m.keys)) || !reflect.DeepEqual(nonNil(ev), nonNil(m.vals)) {
			fail("Each gave keys %x vals %x", ek, ev)
		}
		if !reflect.DeepEqual(n.Vals(), nonNil(m.vals)) || n.Kids() != nil || n.Marks() != nil {
			fail("Vals() %x Kids() %v Marks() %v", n.Vals(), n.Kids(), n.Marks())
		}
	} else {
		if !reflect.DeepEqual(n.Kids(), m.kids) {
			fail("Kids() = %v", n.Kids())
		}
		if m.hasMark() != (n.Marks() != nil) || (m.hasMark() && !reflect.DeepEqual(n.Marks(), m.marks)) {
			fail("Marks() = %v", n.Marks())
		}
	}
	checkValid(t, what, n)
	if ref := m.node(); !sameNode(n, ref) {
		fail("differs from the constructor's node %x", ref.Bytes())
	}
	if m.level == 0 || len(m.keys) > 0 {
		bn, err := m.build()
		if err != nil {
			fail("Builder: %v", err)
		}
		if !sameNode(n, bn) {
			fail("differs from the Builder's node %x", bn.Bytes())
		}
	}
}

// nonNil returns s with nil entries as empty slices, as a node's accessors
// return them.
func nonNil(s [][]byte) [][]byte {
	out := make([][]byte, len(s))
	for i, p := range s {
		out[i] = append([]byte{}, p...)
	}
	return out
}

func insertAt[T any](s []T, i int, v T) []T {
	out := make([]T, 0, len(s)+1)
	out = append(out, s[:i]...)
	out = append(out, v)
	return append(out, s[i:]...)
}

func removeAt[T any](s []T, i int) []T {
	out := make([]T, 0, len(s)-1)
	out = append(out, s[:i]...)
	return append(out, s[i+1:]...)
}

// keyIn draws a key in [lo, hi), if it finds one.
func keyIn(rng *rand.Rand, lo, hi []byte) ([]byte, bool) {
	for try := 0; try < 20; try++ {
		k := randKey(rng)
		if rng.IntN(2) == 0 {
			k = append(cloneBytes(lo), k...)
		}
		if bytes.Compare(k, lo) >= 0 && (hi == nil || bytes.Compare(k, hi) < 0) {
			return k, true
		}
	}
	return nil, false
}

func randVal(rng *rand.Rand) []byte {
	v := make([]byte, rng.IntN(12))
	for i := range v {
		v[i] = byte(rng.IntN(256))
	}
	if rng.IntN(20) == 0 {
		v = bytes.Repeat([]byte{'L'}, 200+rng.IntN(3000))
	}
	return v
}

// randModel draws a leaf or an index node over a random range.
func randModel(rng *rand.Rand) *model { return randModelSized(rng, 14) }

// randModelSized is randModel with up to maxKeys keys.
func randModelSized(rng *rand.Rand, maxKeys int) *model {
	m := &model{next: PageID(rng.IntN(3)), frozen: rng.IntN(4) == 0, lo: []byte{}}
	if rng.IntN(2) == 0 {
		m.level = uint8(1 + rng.IntN(3))
		if rng.IntN(10) == 0 {
			m.level = 255
		}
	}
	if rng.IntN(3) == 0 {
		m.lo = randKey(rng)
	}
	if rng.IntN(2) == 0 {
		m.hi = randKey(rng)
		if bytes.Compare(m.hi, m.lo) <= 0 {
			m.hi = append(cloneBytes(m.lo), byte('a'+rng.IntN(3)))
		}
	}
	set := map[string]bool{}
	if m.level > 0 {
		set[string(m.lo)] = true // Key(0) == Lo
	}
	for j := rng.IntN(maxKeys); j > 0; j-- {
		if k, ok := keyIn(rng, m.lo, m.hi); ok {
			set[string(k)] = true
		}
	}
	m.keys = sortedKeys(set)
	for range m.keys {
		if m.level == 0 {
			m.vals = append(m.vals, randVal(rng))
		} else {
			m.kids = append(m.kids, PageID(1+rng.IntN(1000)))
			m.marks = append(m.marks, rng.IntN(4) == 0)
		}
	}
	return m
}

// TestCopyOnWriteRandomModel runs random sequences of every constructor and
// copy-on-write method against the model, checking after each step that
// the result matches the model exactly (accessors and bytes), that FromBytes
// accepts it, and that no receiver changed.
func TestCopyOnWriteRandomModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(testutil.Seed(t), 7))
	overlaid := 0 // steps that left a leaf with an overlay (the write buffer)
	for iter := 0; iter < 300; iter++ {
		m, steps := randModel(rng), 40
		if iter%4 == 0 {
			// Leaves big enough for overlays of many entries, and chains
			// long enough to fold them again and again.
			m, steps = randModelSized(rng, 120), 300
		}
		n := m.node()
		checkModel(t, fmt.Sprintf("iter %d: constructor", iter), n, m)
		var sib *Node // the other half of the last split, until absorbed
		var msib *model
		sibRight := false
		for step := 0; step < steps; step++ {
			what := fmt.Sprintf("iter %d step %d", iter, step)
			before := deepCopy(n)
			var sibBefore snapshot
			if sib != nil {
				sibBefore = deepCopy(sib)
			}
			prev := n
			r := rng.IntN(100)
			switch {
			case r < 8 && sib == nil && n.Len() >= 2:
				at := n.SplitPoint()
				if at < 0 || rng.IntN(2) == 0 {
					at = 1 + rng.IntN(n.Len()-1)
				}
				rightID := PageID(5000 + step)
				what += fmt.Sprintf(": Split(%d)", at)
				l, rr := n.Split(at, rightID)
				ml, mr := m.split(at, rightID)
				checkModel(t, what+" left", l, ml)
				checkModel(t, what+" right", rr, mr)
				if rng.IntN(2) == 0 {
					n, m, sib, msib, sibRight = l, ml, rr, mr, true
				} else {
					n, m, sib, msib, sibRight = rr, mr, l, ml, false
				}
			case r < 14 && sib != nil:
				what += ": Absorb"
				if sibRight {
					n, m = n.Absorb(sib), absorb(m, msib)
				} else {
					n, m = sib.Absorb(n), absorb(msib, m)
				}
				requireSame(t, what+" (sibling)", sibBefore, sib)
				sib, msib = nil, nil
			case r < 18:
				what += ": WithFrozen"
				n = n.WithFrozen()
				m.frozen = true
			case r < 22:
				what += ": Thawed"
				n = n.Thawed()
				if !prev.Frozen() && n != prev {
					t.Fatalf("%s: Thawed copied a node that is not frozen", what)
				}
				m.frozen = false
			case m.level == 0:
				n = leafStep(t, rng, &what, n, m)
			default:
				n = indexStep(t, rng, &what, n, m)
			}
			requireSame(t, what, before, prev)
			checkModel(t, what, n, m)
			if n.Overlaid() {
				overlaid++
			}
		}
	}
	t.Logf("%d steps left a leaf with an overlay", overlaid)
	if overlaid < 1000 {
		t.Errorf("only %d steps left a leaf with an overlay: the write buffer is barely exercised", overlaid)
	}
}

// leafStep applies a random leaf operation to n and to m.
func leafStep(t *testing.T, rng *rand.Rand, what *string, n *Node, m *model) *Node {
	t.Helper()
	switch r := rng.IntN(100); {
	case r < 35:
		k, ok := keyIn(rng, m.lo, m.hi)
		if !ok {
			*what += ": nothing"
			return n
		}
		v := randVal(rng)
		i, found := n.Search(k)
		m.set(k, v)
		if rng.IntN(2) == 0 {
			*what += fmt.Sprintf(": Set(%x)", k)
			return n.Set(k, v)
		}
		*what += fmt.Sprintf(": WithValue(%d, %v, %x)", i, found, k)
		return n.WithValue(i, found, k, v)
	case r < 55:
		if n.Len() == 0 {
			*what += ": nothing"
			return n
		}
		i := rng.IntN(n.Len())
		m.remove(i)
		if rng.IntN(2) == 0 {
			*what += fmt.Sprintf(": Delete(Key(%d))", i)
			return n.Delete(n.Key(i))
		}
		*what += fmt.Sprintf(": Without(%d)", i)
		return n.Without(i)
	case r < 75:
		k, ok := keyIn(rng, m.lo, m.hi)
		if !ok {
			*what += ": nothing"
			return n
		}
		if rng.IntN(2) == 0 {
			v := randVal(rng)
			*what += fmt.Sprintf(": DeltaSet(%x)", k)
			m.set(k, v)
			return Delta{Kind: DeltaSet, Key: k, Val: v}.Apply(n)
		}
		*what += fmt.Sprintf(": DeltaDel(%x)", k)
		if i, found := m.search(k); found {
			m.remove(i)
		}
		return Delta{Kind: DeltaDel, Key: k}.Apply(n)
	default:
		set := map[string]bool{}
		for j := rng.IntN(8); j > 0; j-- {
			if k, ok := keyIn(rng, m.lo, m.hi); ok {
				set[string(k)] = true
			}
		}
		var ops []Delta
		for _, k := range sortedKeys(set) {
			if rng.IntN(3) > 0 {
				v := randVal(rng)
				ops = append(ops, Delta{Kind: DeltaSet, Key: k, Val: v})
				m.set(k, v)
			} else {
				ops = append(ops, Delta{Kind: DeltaDel, Key: k})
				if i, found := m.search(k); found {
					m.remove(i)
				}
			}
		}
		*what += fmt.Sprintf(": WithOps(%d ops)", len(ops))
		if rng.IntN(2) == 0 {
			return Delta{Kind: DeltaBatch, Ops: ops}.Apply(n)
		}
		return n.WithOps(ops)
	}
}

// indexStep applies a random index operation to n and to m.
func indexStep(t *testing.T, rng *rand.Rand, what *string, n *Node, m *model) *Node {
	t.Helper()
	switch r := rng.IntN(100); {
	case r < 40:
		k, ok := keyIn(rng, m.lo, m.hi)
		if _, found := m.search(k); !ok || found {
			*what += ": nothing"
			return n
		}
		kid := PageID(1 + rng.IntN(1000))
		*what += fmt.Sprintf(": WithChild(%x, %d)", k, kid)
		m.addChild(k, kid)
		return n.WithChild(k, kid)
	case r < 70:
		if n.Len() < 2 {
			*what += ": nothing"
			return n
		}
		i := rng.IntN(n.Len())
		m.remove(i)
		if rng.IntN(2) == 0 {
			*what += fmt.Sprintf(": WithoutChild(%d)", i)
			return n.WithoutChild(i)
		}
		*what += fmt.Sprintf(": Without(%d)", i)
		return n.Without(i)
	default:
		i := rng.IntN(n.Len())
		*what += fmt.Sprintf(": WithMark(%d)", i)
		m.marks[i] = true
		return n.WithMark(i)
	}
}

func TestGrowMatchesModel(t *testing.T) {
	for _, level := range []uint8{0, 1, 7, 254} {
		g := Grow(level, 3, b("sep"), 4)
		m := &model{level: level + 1, lo: []byte{}, keys: [][]byte{{}, b("sep")}, kids: []PageID{3, 4}, marks: []bool{false, false}}
		checkModel(t, fmt.Sprintf("Grow(%d)", level), g, m)
	}
}
