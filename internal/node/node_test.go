package node

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"testing"

	"github.com/sledgo/sled/internal/testutil"
)

func b(s string) []byte { return []byte(s) }

func bs(ss ...string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

// cloneBytes deep-copies a byte slice, keeping nil distinct from empty.
func cloneBytes(p []byte) []byte {
	if p == nil {
		return nil
	}
	return append([]byte{}, p...)
}

func cloneBytess(s [][]byte) [][]byte {
	if s == nil {
		return nil
	}
	out := make([][]byte, len(s))
	for i, p := range s {
		out[i] = cloneBytes(p)
	}
	return out
}

// snapshot is a deep copy of a node: its header fields, its buffer and
// its overlay's entries and bytes.
type snapshot struct {
	hdr Node // b and ov are nil
	b   []byte
	ov  []byte
}

// deepCopy returns a copy of n that shares no memory with it.
func deepCopy(n *Node) snapshot {
	h := *n
	h.b, h.ov = nil, nil
	return snapshot{hdr: h, b: bytes.Clone(n.b), ov: bytes.Clone(n.ov)}
}

// requireSame fails unless n still has the header fields and buffer bytes of
// before.
func requireSame(t *testing.T, what string, before snapshot, n *Node) {
	t.Helper()
	h := *n
	h.b, h.ov = nil, nil
	if !bytes.Equal(before.b, n.b) || !reflect.DeepEqual(before.hdr, h) {
		t.Fatalf("%s mutated its receiver:\nbefore %+v %x\nafter  %+v %x", what, before.hdr, before.b, h, n.b)
	}
	if !bytes.Equal(before.ov, n.ov) {
		t.Fatalf("%s mutated its receiver's overlay", what)
	}
}

// sameNode reports whether a and b have the same header fields and bytes,
// once folded (Flat).
func sameNode(a, b *Node) bool {
	a, b = a.Flat(), b.Flat()
	ha, hb := *a, *b
	ha.b, hb.b = nil, nil
	return bytes.Equal(a.Bytes(), b.Bytes()) && reflect.DeepEqual(ha, hb)
}

// scribble overwrites every byte a copy made for itself, which a test may
// do to a throwaway copy to check that it shares nothing writable with its
// origin: its buffer, or, for a copy with an overlay, the overlay (a copy
// shares its origin's base by design, N7).
func scribble(n *Node) {
	if n.ov != nil {
		for i := range n.ov {
			n.ov[i] ^= 0xa5
		}
		return
	}
	for i := range n.b {
		n.b[i] ^= 0xa5
	}
}

// describe prints a node through its accessors, for failure messages.
func describe(n *Node) string {
	s := fmt.Sprintf("level %d [%x, %x) next %d frozen %v keys %x", n.Level(), n.Lo(), n.Hi(), n.Next(), n.Frozen(), n.Keys())
	if n.IsLeaf() {
		return s + fmt.Sprintf(" vals %x", n.Vals())
	}
	return s + fmt.Sprintf(" kids %v marks %v", n.Kids(), n.Marks())
}

// checkMem fails unless n.MemBytes() is exactly its buffer's allocation and
// the Node's.
func checkMem(t *testing.T, what string, n *Node) {
	t.Helper()
	want := allocBytes(cap(n.b)) + nodeStructBytes
	if n.ov != nil {
		want += allocBytes(len(n.ov))
	}
	if got := n.MemBytes(); got != want {
		t.Errorf("%s: MemBytes = %d; want %d (buffer %d bytes, cap %d)", what, got, want, len(n.Bytes()), cap(n.b))
	}
}

// checkValid fails unless FromBytes accepts n's buffer and reads back the
// same node, and n's MemBytes is exact.
func checkValid(t *testing.T, what string, n *Node) {
	t.Helper()
	c, err := FromBytes(n.Bytes())
	if err != nil {
		t.Fatalf("%s: FromBytes rejects the node: %v\n%s", what, err, describe(n))
	}
	if !sameNode(c, n) {
		t.Fatalf("%s: FromBytes read back %+v; want %+v", what, *c, *n)
	}
	if err := n.checkOverlay(); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if f := n.Flat(); n.Len() != f.Len() || !reflect.DeepEqual(n.Keys(), f.Keys()) || (n.IsLeaf() && !reflect.DeepEqual(n.Vals(), f.Vals())) {
		t.Fatalf("%s: the merged view %s differs from the folded node %s", what, describe(n), describe(f))
	}
	checkMem(t, what, n)
}

// testLeaf is a leaf over the whole key space whose keys include the empty
// key and 0xff-heavy keys.
func testLeaf() *Node {
	keys := [][]byte{{}, b("a"), b("b"), {0xff}, {0xff, 0x00}, {0xff, 0xff}}
	vals := bs("v-empty", "va", "vb", "vff", "vff00", "vffff")
	return NewLeaf([]byte{}, nil, 9, keys, vals)
}

func TestSearch(t *testing.T) {
	n := testLeaf()
	cases := []struct {
		key   []byte
		i     int
		found bool
	}{
		{[]byte{}, 0, true},
		{nil, 0, true}, // nil compares equal to the empty key
		{[]byte{0x00}, 1, false},
		{b("a"), 1, true},
		{b("aa"), 2, false},
		{b("b"), 2, true},
		{b("c"), 3, false},
		{[]byte{0xfe, 0xff}, 3, false},
		{[]byte{0xff}, 3, true},
		{[]byte{0xff, 0x00}, 4, true},
		{[]byte{0xff, 0x00, 0x00}, 5, false},
		{[]byte{0xff, 0x01}, 5, false},
		{[]byte{0xff, 0xff}, 5, true},
		{[]byte{0xff, 0xff, 0x00}, 6, false},
		{[]byte{0xff, 0xff, 0xff}, 6, false},
	}
	for _, c := range cases {
		i, found := n.Search(c.key)
		if i != c.i || found != c.found {
			t.Errorf("Search(%x) = %d,%v; want %d,%v", c.key, i, found, c.i, c.found)
		}
	}

	empty := NewLeaf([]byte{}, nil, 0, nil, nil)
	for _, k := range [][]byte{nil, {}, {0xff}} {
		if i, found := empty.Search(k); i != 0 || found {
			t.Errorf("empty.Search(%x) = %d,%v; want 0,false", k, i, found)
		}
	}

	// A leaf without the empty key: the empty key sorts before everything.
	n2 := NewLeaf([]byte{}, nil, 0, bs("k"), bs("v"))
	if i, found := n2.Search([]byte{}); i != 0 || found {
		t.Errorf("Search(empty) = %d,%v; want 0,false", i, found)
	}
}

func TestSearchMatchesLinearScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(testutil.Seed(t), 2))
	for iter := 0; iter < 200; iter++ {
		set := map[string]bool{}
		for j := rng.IntN(20); j > 0; j-- {
			set[string(randKey(rng))] = true
		}
		keys := sortedKeys(set)
		n := NewLeaf([]byte{}, nil, 0, keys, make([][]byte, len(keys)))
		for j := 0; j < 50; j++ {
			k := randKey(rng)
			want := len(keys)
			for x, kk := range keys {
				if bytes.Compare(kk, k) >= 0 {
					want = x
					break
				}
			}
			wantFound := want < len(keys) && bytes.Equal(keys[want], k)
			i, found := n.Search(k)
			if i != want || found != wantFound {
				t.Fatalf("keys %x: Search(%x) = %d,%v want %d,%v", keys, k, i, found, want, wantFound)
			}
		}
	}
}

// testIndex routes [empty, 0xff 0xff) to four children.
func testIndex() *Node {
	keys := [][]byte{{}, b("m"), {0xff}, {0xff, 0x10}}
	return NewIndex(1, []byte{}, []byte{0xff, 0xff}, 0, keys, []PageID{10, 11, 12, 13}, nil)
}

func TestChildIndexAndChildBefore(t *testing.T) {
	n := testIndex()
	cases := []struct {
		key         []byte
		child, prev int
	}{
		{[]byte{}, 0, 0},
		{[]byte{0x00}, 0, 0},
		{b("a"), 0, 0},
		{b("m"), 1, 0},
		{b("m\x00"), 1, 1},
		{b("z"), 1, 1},
		{[]byte{0xfe, 0xff, 0xff}, 1, 1},
		{[]byte{0xff}, 2, 1},
		{[]byte{0xff, 0x00}, 2, 2},
		{[]byte{0xff, 0x0f, 0xff}, 2, 2},
		{[]byte{0xff, 0x10}, 3, 2},
		{[]byte{0xff, 0x10, 0x00}, 3, 3},
		{[]byte{0xff, 0xfe}, 3, 3},
		{[]byte{0xff, 0xff}, 3, 3}, // at Hi: routed to the last child (caller checks BeyondHi)
	}
	for _, c := range cases {
		if got := n.ChildIndex(c.key); got != c.child {
			t.Errorf("ChildIndex(%x) = %d; want %d", c.key, got, c.child)
		}
		if got := n.ChildBefore(c.key); got != c.prev {
			t.Errorf("ChildBefore(%x) = %d; want %d", c.key, got, c.prev)
		}
	}

	// An index node whose first key is not the empty key (not leftmost):
	// keys before every key route to 0.
	n2 := NewIndex(2, b("f"), nil, 0, bs("f", "p"), []PageID{1, 2}, nil)
	for _, k := range [][]byte{{}, b("a"), b("f")} {
		if got := n2.ChildIndex(k); got != 0 {
			t.Errorf("n2.ChildIndex(%q) = %d; want 0", k, got)
		}
		if got := n2.ChildBefore(k); got != 0 {
			t.Errorf("n2.ChildBefore(%q) = %d; want 0", k, got)
		}
	}
	if got := n2.ChildIndex([]byte{0xff}); got != 1 {
		t.Errorf("n2.ChildIndex(ff) = %d; want 1", got)
	}
}

func TestChildIndexMatchesDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(testutil.Seed(t), 3))
	for iter := 0; iter < 200; iter++ {
		set := map[string]bool{"": true}
		for j := rng.IntN(10); j > 0; j-- {
			set[string(randKey(rng))] = true
		}
		keys := sortedKeys(set)
		n := NewIndex(1, []byte{}, nil, 0, keys, make([]PageID, len(keys)), nil)
		for j := 0; j < 50; j++ {
			k := randKey(rng)
			wantChild, wantPrev := 0, 0
			for x, kk := range keys {
				if bytes.Compare(kk, k) <= 0 {
					wantChild = x
				}
				if bytes.Compare(kk, k) < 0 {
					wantPrev = x
				}
			}
			if got := n.ChildIndex(k); got != wantChild {
				t.Fatalf("keys %x: ChildIndex(%x) = %d want %d", keys, k, got, wantChild)
			}
			if got := n.ChildBefore(k); got != wantPrev {
				t.Fatalf("keys %x: ChildBefore(%x) = %d want %d", keys, k, got, wantPrev)
			}
		}
	}
}

func TestChildHi(t *testing.T) {
	n := testIndex()
	want := [][]byte{b("m"), {0xff}, {0xff, 0x10}, {0xff, 0xff}}
	for i, w := range want {
		if got := n.ChildHi(i); !bytes.Equal(got, w) || got == nil {
			t.Errorf("ChildHi(%d) = %x; want %x", i, got, w)
		}
	}
	// Rightmost node: the last child is unbounded (nil).
	r := NewIndex(1, []byte{}, nil, 0, [][]byte{{}, {0xff}}, []PageID{1, 2}, nil)
	if got := r.ChildHi(0); !bytes.Equal(got, []byte{0xff}) {
		t.Errorf("ChildHi(0) = %x; want ff", got)
	}
	if got := r.ChildHi(1); got != nil {
		t.Errorf("ChildHi(1) = %x; want nil (+inf)", got)
	}
}

func TestCoversAndBeyondHi(t *testing.T) {
	n := NewLeaf(b("b"), []byte{0xff}, 0, nil, nil)
	for _, c := range []struct {
		key           []byte
		covers, right bool
	}{
		{[]byte{}, false, false},
		{b("a"), false, false},
		{b("b"), true, false},
		{[]byte{0xfe, 0xff}, true, false},
		{[]byte{0xff}, false, true},
		{[]byte{0xff, 0xff}, false, true},
	} {
		if got := n.Covers(c.key); got != c.covers {
			t.Errorf("Covers(%x) = %v", c.key, got)
		}
		if got := n.BeyondHi(c.key); got != c.right {
			t.Errorf("BeyondHi(%x) = %v", c.key, got)
		}
	}
	inf := NewLeaf([]byte{}, nil, 0, nil, nil)
	if !inf.Covers([]byte{}) || !inf.Covers([]byte{0xff, 0xff, 0xff}) || inf.BeyondHi([]byte{0xff, 0xff}) {
		t.Error("the whole-space leaf must cover every key and never be beyond Hi")
	}
}

func TestLeafCopiesDoNotMutate(t *testing.T) {
	n := testLeaf()
	before := deepCopy(n)
	checkValid(t, "testLeaf", n)

	// Replace an existing value.
	i, found := n.Search(b("a"))
	c := n.WithValue(i, found, b("a"), b("new"))
	requireSame(t, "WithValue(replace)", before, n)
	if !found || !bytes.Equal(c.Val(i), b("new")) || c.Len() != n.Len() {
		t.Fatalf("replace gave %s", describe(c))
	}
	checkValid(t, "WithValue(replace)", c)
	scribble(c)
	requireSame(t, "writing the replaced copy's buffer", before, n)

	// Insert at the front (empty key already present: insert 0x00).
	i, found = n.Search([]byte{0x00})
	c = n.WithValue(i, found, []byte{0x00}, b("z"))
	requireSame(t, "WithValue(insert)", before, n)
	if found || c.Len() != n.Len()+1 || !StrictlySorted(c.Keys()) || !bytes.Equal(c.Key(1), []byte{0x00}) || !bytes.Equal(c.Val(1), b("z")) {
		t.Fatalf("insert gave keys %x", c.Keys())
	}
	checkValid(t, "WithValue(insert)", c)
	scribble(c)
	requireSame(t, "writing the inserted copy's buffer", before, n)

	// Insert at the end.
	k := []byte{0xff, 0xff, 0xff}
	i, found = n.Search(k)
	c = n.WithValue(i, found, k, b("end"))
	requireSame(t, "WithValue(append)", before, n)
	if c.Len() != n.Len()+1 || !bytes.Equal(c.Key(c.Len()-1), k) || !bytes.Equal(c.Val(c.Len()-1), b("end")) {
		t.Fatalf("append gave keys %x", c.Keys())
	}
	checkValid(t, "WithValue(append)", c)

	for i := 0; i < n.Len(); i++ {
		c := n.Without(i)
		requireSame(t, fmt.Sprintf("Without(%d)", i), before, n)
		if c.Len() != n.Len()-1 || !StrictlySorted(c.Keys()) {
			t.Fatalf("Without(%d) gave keys %x", i, c.Keys())
		}
		if _, found := c.Search(n.Key(i)); found {
			t.Fatalf("Without(%d) still holds %x", i, n.Key(i))
		}
		checkValid(t, fmt.Sprintf("Without(%d)", i), c)
		scribble(c)
		requireSame(t, fmt.Sprintf("writing Without(%d)'s buffer", i), before, n)
	}

	f := n.WithFrozen()
	requireSame(t, "WithFrozen", before, n)
	if !f.Frozen() || n.Frozen() {
		t.Fatal("WithFrozen must freeze only the copy")
	}
	checkValid(t, "WithFrozen", f)
	scribble(f)
	requireSame(t, "writing the frozen copy's buffer", before, n)

	// Mutating a derived copy's buffer must not reach the original either,
	// and appending to a slice the node returns must copy.
	c = n.WithValue(0, true, []byte{}, b("x")).Flat()
	c.b[len(c.b)-1] = 'Y'
	requireSame(t, "writing the copy's buffer", before, n)
	for i := 0; i < n.Len(); i++ {
		_ = append(n.Key(i), 'K')
		_ = append(n.Val(i), 'V')
	}
	_ = append(n.Lo(), 'L')
	requireSame(t, "appending to returned slices", before, n)
}

func TestIndexCopiesDoNotMutate(t *testing.T) {
	for _, marked := range []bool{false, true} {
		n := testIndex()
		if marked {
			n = n.WithMark(2)
		}
		before := deepCopy(n)
		checkValid(t, "testIndex", n)

		c := n.WithChild(b("q"), 99)
		requireSame(t, "WithChild", before, n)
		if c.Len() != n.Len()+1 || !StrictlySorted(c.Keys()) || c.Kid(2) != 99 || !bytes.Equal(c.Key(2), b("q")) {
			t.Fatalf("WithChild gave %x %v", c.Keys(), c.Kids())
		}
		if marked && (c.Marked(2) || !c.Marked(3)) {
			t.Fatalf("WithChild must shift marks: %v", c.Marks())
		}
		checkValid(t, "WithChild", c)
		scribble(c)
		requireSame(t, "writing WithChild's buffer", before, n)

		c = n.WithChild([]byte{0xff, 0xfe}, 98) // beyond every key, below Hi
		requireSame(t, "WithChild(end)", before, n)
		if c.Kid(c.Len()-1) != 98 {
			t.Fatalf("WithChild(end) gave %v", c.Kids())
		}
		checkValid(t, "WithChild(end)", c)

		for i := 0; i < n.Len(); i++ {
			c := n.WithoutChild(i)
			requireSame(t, fmt.Sprintf("WithoutChild(%d)", i), before, n)
			if c.Len() != n.Len()-1 || len(c.Kids()) != c.Len() || !StrictlySorted(c.Keys()) {
				t.Fatalf("WithoutChild(%d) gave %x %v", i, c.Keys(), c.Kids())
			}
			checkValid(t, fmt.Sprintf("WithoutChild(%d)", i), c)
			if marked && i == 2 && (c.Marks() != nil || c.HasMark()) {
				t.Errorf("removing the only marked entry must normalize the marks to none, got %v", c.Marks())
			}
			if marked && i != 2 && !c.HasMark() {
				t.Errorf("WithoutChild(%d) lost the mark", i)
			}
			scribble(c)
			requireSame(t, fmt.Sprintf("writing WithoutChild(%d)'s buffer", i), before, n)
		}

		for i := 0; i < n.Len(); i++ {
			c := n.WithMark(i)
			requireSame(t, fmt.Sprintf("WithMark(%d)", i), before, n)
			for j := 0; j < c.Len(); j++ {
				want := j == i || n.Marked(j)
				if c.Marked(j) != want {
					t.Fatalf("WithMark(%d).Marked(%d) = %v", i, j, c.Marked(j))
				}
			}
			if !c.HasMark() {
				t.Fatalf("WithMark(%d) has no mark", i)
			}
			if c.MemBytes() != n.MemBytes() {
				t.Errorf("WithMark changed MemBytes")
			}
			checkValid(t, fmt.Sprintf("WithMark(%d)", i), c)
			scribble(c)
			requireSame(t, fmt.Sprintf("writing WithMark(%d)'s buffer", i), before, n)
		}

		f := n.WithFrozen()
		requireSame(t, "WithFrozen", before, n)
		if !f.Frozen() || n.Frozen() {
			t.Fatal("WithFrozen must freeze only the copy")
		}
		checkValid(t, "WithFrozen", f)
		scribble(f)
		requireSame(t, "writing the frozen copy's buffer", before, n)
	}
}

func TestNewIndexNormalizesMark(t *testing.T) {
	n := NewIndex(1, []byte{}, nil, 0, [][]byte{{}, b("k")}, []PageID{1, 2}, []bool{false, false})
	if n.Marks() != nil || n.HasMark() || n.Bytes()[hdrFlags]&flagMark != 0 {
		t.Errorf("all-false marks should normalize to none, got %v (flags %#x)", n.Marks(), n.Bytes()[hdrFlags])
	}
	if n.Marked(0) || n.Marked(1) {
		t.Error("no entry is marked")
	}
	checkValid(t, "all-false marks", n)
	if !sameNode(n, NewIndex(1, []byte{}, nil, 0, [][]byte{{}, b("k")}, []PageID{1, 2}, nil)) {
		t.Error("all-false marks and nil marks give different nodes")
	}
}

func bigLeaf(rng *rand.Rand, count int) *Node {
	set := map[string]bool{}
	for len(set) < count {
		set[string(randKey(rng))] = true
	}
	keys := sortedKeys(set)
	vals := make([][]byte, len(keys))
	for i := range vals {
		vals[i] = bytes.Repeat([]byte{'v'}, rng.IntN(40))
	}
	return NewLeaf([]byte{}, nil, 42, keys, vals)
}

func checkSplit(t *testing.T, n *Node, at int) {
	t.Helper()
	const rightID = 77
	before := deepCopy(n)
	left, right := n.Split(at, rightID)
	requireSame(t, "Split", before, n)
	checkValid(t, "left half", left)
	checkValid(t, "right half", right)
	sep := n.Key(at)
	if !bytes.Equal(left.Hi(), sep) || !bytes.Equal(right.Lo(), sep) || left.Hi() == nil {
		t.Fatalf("left.Hi %x right.Lo %x sep %x", left.Hi(), right.Lo(), sep)
	}
	if !bytes.Equal(left.Lo(), n.Lo()) || left.Lo() == nil {
		t.Fatalf("left.Lo %x; want %x", left.Lo(), n.Lo())
	}
	if !bytes.Equal(right.Hi(), n.Hi()) || (right.Hi() == nil) != (n.Hi() == nil) {
		t.Fatalf("right.Hi %x; want %x", right.Hi(), n.Hi())
	}
	if left.Next() != rightID || right.Next() != n.Next() {
		t.Fatalf("left.Next %d right.Next %d; want %d %d", left.Next(), right.Next(), rightID, n.Next())
	}
	if left.Level() != n.Level() || right.Level() != n.Level() {
		t.Fatalf("levels %d %d; want %d", left.Level(), right.Level(), n.Level())
	}
	if left.Frozen() || right.Frozen() {
		t.Fatalf("split halves must not be frozen")
	}
	if left.Len()+right.Len() != n.Len() || left.Len() != at {
		t.Fatalf("lens %d+%d; want %d split at %d", left.Len(), right.Len(), n.Len(), at)
	}
	for i := 0; i < n.Len(); i++ {
		h, j := left, i
		if i >= at {
			h, j = right, i-at
		}
		if !bytes.Equal(h.Key(j), n.Key(i)) {
			t.Fatalf("entry %d key %x; want %x", i, h.Key(j), n.Key(i))
		}
		if n.IsLeaf() && !bytes.Equal(h.Val(j), n.Val(i)) {
			t.Fatalf("entry %d val %x; want %x", i, h.Val(j), n.Val(i))
		}
		if !n.IsLeaf() && (h.Kid(j) != n.Kid(i) || h.Marked(j) != n.Marked(i)) {
			t.Fatalf("entry %d kid %d/%v; want %d/%v", i, h.Kid(j), h.Marked(j), n.Kid(i), n.Marked(i))
		}
	}
	for _, h := range []*Node{left, right} {
		marked := false
		for j := 0; j < h.Len(); j++ {
			marked = marked || h.Marked(j)
		}
		if h.HasMark() != marked || (h.Marks() == nil) == marked {
			t.Fatalf("half with marks %v has HasMark %v", h.Marks(), h.HasMark())
		}
	}
	for _, k := range left.Keys() {
		if !left.Covers(k) {
			t.Fatalf("left does not cover its key %x", k)
		}
	}
	for _, k := range right.Keys() {
		if !right.Covers(k) {
			t.Fatalf("right does not cover its key %x", k)
		}
	}
	// The halves hold the same entries; they additionally both hold a
	// header, an offset slot (each table has one more slot than entries)
	// and the separator (as left.Hi and right.Lo).
	if got, want := len(left.Bytes())+len(right.Bytes()), len(n.Bytes())+headerBytes+slotBytes+2*len(sep); got != want {
		t.Errorf("halves' buffers %d+%d=%d bytes; want %d (original %d)", len(left.Bytes()), len(right.Bytes()), got, want, len(n.Bytes()))
	}

	// Building on either half must not overwrite the other half's or the
	// original's entries.
	_ = withLastEntry(left)
	_ = withLastEntry(right)
	requireSame(t, "modifying a half", before, n)

	// Absorb gives back the original.
	lb, rb := deepCopy(left), deepCopy(right)
	m := left.Absorb(right)
	requireSame(t, "Absorb (left)", lb, left)
	requireSame(t, "Absorb (right)", rb, right)
	if !sameNode(m, n) {
		t.Fatalf("Absorb(Split) = %s\nwant %s", describe(m), describe(n))
	}
	checkValid(t, "Absorb(Split)", m)
	requireSame(t, "Absorb", before, n)

	// The halves and the merge share no memory with the original.
	scribble(left)
	scribble(right)
	scribble(m)
	requireSame(t, "writing the halves' and the merge's buffers", before, n)
}

// withLastEntry inserts a new last entry into n whatever its kind; used to
// check that copies of the halves do not write into shared memory.
func withLastEntry(n *Node) *Node {
	k := append(cloneBytes(n.Hi()), 0)
	if n.Hi() == nil {
		k = []byte{0xff, 0xff, 0xff, 0xff}
	}
	if n.IsLeaf() {
		// A leaf only takes keys in [Lo, Hi) (N5 checks an overlay's).
		if n.Len() > 0 {
			k = append(cloneBytes(n.Key(n.Len()-1)), 0)
		}
		if !n.Covers(k) {
			return n.WithFrozen()
		}
		i, found := n.Search(k)
		return n.WithValue(i, found, k, b("x"))
	}
	return n.WithChild(k, 1234)
}

func TestSplitAndAbsorbLeaf(t *testing.T) {
	rng := rand.New(rand.NewPCG(testutil.Seed(t), 4))
	for iter := 0; iter < 300; iter++ {
		n := bigLeaf(rng, 2+rng.IntN(40))
		if rng.IntN(2) == 0 {
			n = NewLeaf(n.Key(0), []byte{0xff, 0xff, 0xff, 0xff, 0xff}, 5, n.Keys(), n.Vals())
		}
		at := n.SplitPoint()
		if at <= 0 || at >= n.Len() {
			t.Fatalf("SplitPoint = %d for %d entries", at, n.Len())
		}
		checkSplit(t, n, at)
		// Every other index is also a valid split.
		checkSplit(t, n, 1+rng.IntN(n.Len()-1))
	}
}

func TestSplitPointLeafBalancesBytes(t *testing.T) {
	// Uniform entries: the split lands in the middle.
	keys := make([][]byte, 10)
	vals := make([][]byte, 10)
	for i := range keys {
		keys[i] = []byte{byte('a' + i)}
		vals[i] = bytes.Repeat([]byte{'x'}, 10)
	}
	n := NewLeaf([]byte{}, nil, 0, keys, vals)
	if at := n.SplitPoint(); at < 4 || at > 6 {
		t.Errorf("uniform SplitPoint = %d; want about 5", at)
	}
	// One huge first value: split right after it.
	vals2 := cloneBytess(vals)
	vals2[0] = bytes.Repeat([]byte{'x'}, 10000)
	n2 := NewLeaf([]byte{}, nil, 0, keys, vals2)
	if at := n2.SplitPoint(); at != 1 {
		t.Errorf("SplitPoint with a huge first value = %d; want 1", at)
	}
	// One huge last value: never returns Len().
	vals3 := cloneBytess(vals)
	vals3[9] = bytes.Repeat([]byte{'x'}, 10000)
	n3 := NewLeaf([]byte{}, nil, 0, keys, vals3)
	if at := n3.SplitPoint(); at != 9 {
		t.Errorf("SplitPoint with a huge last value = %d; want 9", at)
	}
	for _, c := range []*Node{
		NewLeaf([]byte{}, nil, 0, nil, nil),
		NewLeaf([]byte{}, nil, 0, bs("a"), bs("b")),
	} {
		if at := c.SplitPoint(); at != -1 {
			t.Errorf("SplitPoint of %d entries = %d; want -1", c.Len(), at)
		}
	}
}

func TestSplitPointIndexMarks(t *testing.T) {
	rng := rand.New(rand.NewPCG(testutil.Seed(t), 5))
	check := func(n *Node) {
		t.Helper()
		at := n.SplitPoint()
		valid := false
		for i := 1; i < n.Len(); i++ {
			if !n.Marked(i) {
				valid = true
			}
		}
		if !valid {
			if at != -1 {
				t.Fatalf("marks %v: SplitPoint = %d; want -1", n.Marks(), at)
			}
			return
		}
		if at <= 0 || at >= n.Len() {
			t.Fatalf("marks %v (len %d): SplitPoint = %d out of range", n.Marks(), n.Len(), at)
		}
		if n.Marked(at) {
			t.Fatalf("marks %v: SplitPoint = %d is a marked entry", n.Marks(), at)
		}
		checkSplit(t, n, at)
	}
	// Exhaustive over all mark patterns up to 8 entries.
	for size := 0; size <= 8; size++ {
		keys := make([][]byte, size)
		kids := make([]PageID, size)
		for i := range keys {
			keys[i] = []byte{byte(i * 30)}
			kids[i] = PageID(100 + i)
		}
		if size > 0 {
			keys[0] = []byte{}
		}
		for pat := 0; pat < 1<<size; pat++ {
			mark := make([]bool, size)
			for i := range mark {
				mark[i] = pat&(1<<i) != 0
			}
			check(NewIndex(1, []byte{}, nil, 3, keys, kids, mark))
		}
	}
	// Random larger ones.
	for iter := 0; iter < 200; iter++ {
		size := 2 + rng.IntN(60)
		keys := make([][]byte, size)
		kids := make([]PageID, size)
		mark := make([]bool, size)
		for i := range keys {
			keys[i] = []byte{byte(i >> 8), byte(i)}
			kids[i] = PageID(i + 1)
			mark[i] = rng.IntN(10) < 8
		}
		check(NewIndex(2, keys[0], []byte{0xff}, 0, keys, kids, mark))
	}
	// Specific cases.
	for _, c := range []struct {
		mark []bool
		want int
	}{
		{[]bool{false, true}, -1},
		{[]bool{true, true, true}, -1},
		{[]bool{false, false}, 1},
		{[]bool{false, true, false}, 2},
		{[]bool{false, false, true, true}, 1},
		{[]bool{false, false, true, false}, 3},
	} {
		n := NewIndex(1, []byte{}, nil, 0, bs("", "b", "c", "d")[:len(c.mark)], []PageID{1, 2, 3, 4}[:len(c.mark)], c.mark)
		if got := n.SplitPoint(); got != c.want {
			t.Errorf("marks %v: SplitPoint = %d; want %d", c.mark, got, c.want)
		}
	}
}

func TestAbsorbIndexMarks(t *testing.T) {
	l := NewIndex(1, []byte{}, b("m"), 2, bs("", "c"), []PageID{10, 11}, nil)
	r := NewIndex(1, b("m"), nil, 0, bs("m", "x"), []PageID{12, 13}, []bool{false, true})
	m := l.Absorb(r)
	if m.Lo() == nil || len(m.Lo()) != 0 || m.Hi() != nil || m.Next() != 0 || m.Level() != 1 {
		t.Fatalf("Absorb range [%x,%x) next %d level %d", m.Lo(), m.Hi(), m.Next(), m.Level())
	}
	if !reflect.DeepEqual(m.Kids(), []PageID{10, 11, 12, 13}) || !reflect.DeepEqual(m.Marks(), []bool{false, false, false, true}) || !m.HasMark() {
		t.Fatalf("Absorb gave kids %v marks %v", m.Kids(), m.Marks())
	}
	if !reflect.DeepEqual(m.Keys(), bs("", "c", "m", "x")) {
		t.Fatalf("Absorb gave keys %q", m.Keys())
	}
	checkValid(t, "Absorb", m)
	if m.Frozen() {
		t.Error("Absorb result must not be frozen")
	}
	// Marks of the left node survive too.
	m = r.WithMark(0).Without(1)
	m = l.WithMark(1).Absorb(m)
	if !reflect.DeepEqual(m.Marks(), []bool{false, true, true}) {
		t.Fatalf("Absorb gave marks %v", m.Marks())
	}
	checkValid(t, "Absorb (marked left)", m)
}

func TestGrow(t *testing.T) {
	g := Grow(0, 5, b("k"), 6)
	if g.Level() != 1 || g.Hi() != nil || g.Lo() == nil || len(g.Lo()) != 0 || g.Next() != 0 || g.Frozen() || g.HasMark() {
		t.Fatalf("Grow gave %s", describe(g))
	}
	if g.ChildIndex([]byte{}) != 0 || g.ChildIndex(b("k")) != 1 || g.Kid(0) != 5 || g.Kid(1) != 6 || g.Len() != 2 {
		t.Fatalf("Grow routes wrong: %s", describe(g))
	}
	checkValid(t, "Grow", g)
	if g := Grow(4, 1, b("z"), 2); g.Level() != 5 {
		t.Fatalf("Grow(4) gave level %d", g.Level())
	}
}

func TestDeltaApply(t *testing.T) {
	n := testLeaf()
	before := deepCopy(n)

	set := Delta{Kind: DeltaSet, Key: b("aa"), Val: b("AA")}.Apply(n)
	requireSame(t, "DeltaSet", before, n)
	if i, found := set.Search(b("aa")); !found || !bytes.Equal(set.Val(i), b("AA")) || set.Len() != n.Len()+1 {
		t.Fatalf("DeltaSet gave %x", set.Keys())
	}
	checkValid(t, "DeltaSet", set)

	over := Delta{Kind: DeltaSet, Key: []byte{}, Val: b("E")}.Apply(n)
	if over.Len() != n.Len() || !bytes.Equal(over.Val(0), b("E")) {
		t.Fatalf("DeltaSet overwrite gave %x/%q", over.Keys(), over.Vals())
	}
	checkValid(t, "DeltaSet overwrite", over)

	del := Delta{Kind: DeltaDel, Key: []byte{0xff, 0xff}}.Apply(n)
	requireSame(t, "DeltaDel", before, n)
	if _, found := del.Search([]byte{0xff, 0xff}); found || del.Len() != n.Len()-1 {
		t.Fatalf("DeltaDel gave %x", del.Keys())
	}
	checkValid(t, "DeltaDel", del)

	same := Delta{Kind: DeltaDel, Key: b("absent")}.Apply(n)
	if same != n {
		t.Error("deleting an absent key should return the node unchanged")
	}

	batch := Delta{Kind: DeltaBatch, Ops: []Delta{
		{Kind: DeltaDel, Key: []byte{}},
		{Kind: DeltaSet, Key: b("aa"), Val: b("AA")},
		{Kind: DeltaSet, Key: b("b"), Val: b("B")},
		{Kind: DeltaDel, Key: b("c")}, // absent
		{Kind: DeltaSet, Key: []byte{0xff, 0xff, 0xff}, Val: b("end")},
	}}.Apply(n)
	requireSame(t, "DeltaBatch", before, n)
	wantKeys := [][]byte{b("a"), b("aa"), b("b"), {0xff}, {0xff, 0x00}, {0xff, 0xff}, {0xff, 0xff, 0xff}}
	wantVals := bs("va", "AA", "B", "vff", "vff00", "vffff", "end")
	if !reflect.DeepEqual(batch.Keys(), wantKeys) || !reflect.DeepEqual(batch.Vals(), wantVals) {
		t.Fatalf("DeltaBatch gave %x/%q", batch.Keys(), batch.Vals())
	}
	checkValid(t, "DeltaBatch", batch)

	img := NewLeaf([]byte{}, nil, 0, bs("only"), bs("one"))
	if got := (Delta{Kind: DeltaImage, Image: img}).Apply(n); got != img {
		t.Error("DeltaImage must yield its image")
	}
	requireSame(t, "DeltaImage", before, n)
}

func TestDeltaApplyRandomModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(testutil.Seed(t), 6))
	model := map[string]string{}
	n := NewLeaf([]byte{}, nil, 0, nil, nil)
	randVal := func() []byte {
		v := make([]byte, rng.IntN(8))
		for i := range v {
			v[i] = byte(rng.IntN(256))
		}
		return v
	}
	for step := 0; step < 5000; step++ {
		prev, prevCopy := n, deepCopy(n)
		k := randKey(rng)
		var d Delta
		switch r := rng.IntN(100); {
		case r < 50:
			v := randVal()
			d = Delta{Kind: DeltaSet, Key: k, Val: v}
			model[string(k)] = string(v)
		case r < 90:
			if len(model) > 0 && rng.IntN(2) == 0 {
				// delete an existing key
				keys := sortedKeys(boolSet(model))
				k = keys[rng.IntN(len(keys))]
			}
			d = Delta{Kind: DeltaDel, Key: k}
			delete(model, string(k))
		case r < 97:
			// a batch of sets and deletes in key order
			set := map[string]bool{}
			for j := rng.IntN(6); j > 0; j-- {
				set[string(randKey(rng))] = true
			}
			d = Delta{Kind: DeltaBatch}
			for _, kk := range sortedKeys(set) {
				if rng.IntN(2) == 0 {
					v := randVal()
					d.Ops = append(d.Ops, Delta{Kind: DeltaSet, Key: kk, Val: v})
					model[string(kk)] = string(v)
				} else {
					d.Ops = append(d.Ops, Delta{Kind: DeltaDel, Key: kk})
					delete(model, string(kk))
				}
			}
		default:
			// image rebuilt from the model
			keys := sortedKeys(boolSet(model))
			vals := make([][]byte, len(keys))
			for i, kk := range keys {
				vals[i] = []byte(model[string(kk)])
			}
			d = Delta{Kind: DeltaImage, Image: NewLeaf([]byte{}, nil, 0, keys, vals)}
		}
		n = d.Apply(n)
		requireSame(t, fmt.Sprintf("step %d Apply", step), prevCopy, prev)

		if !StrictlySorted(n.Keys()) || len(n.Keys()) != len(n.Vals()) {
			t.Fatalf("step %d: keys not sorted or mismatched: %x", step, n.Keys())
		}
		if n.Len() != len(model) {
			t.Fatalf("step %d: len %d; model %d", step, n.Len(), len(model))
		}
		for i, kk := range n.Keys() {
			v, ok := model[string(kk)]
			if !ok || v != string(n.Val(i)) {
				t.Fatalf("step %d: key %x = %x; model %x,%v", step, kk, n.Val(i), v, ok)
			}
		}
		checkValid(t, fmt.Sprintf("step %d", step), n)
	}
}

func TestStrictlySorted(t *testing.T) {
	for _, c := range []struct {
		keys [][]byte
		want bool
	}{
		{nil, true},
		{[][]byte{{}}, true},
		{[][]byte{{}, {0}}, true},
		{[][]byte{{}, {}}, false},
		{[][]byte{nil, {}}, false}, // nil and empty are the same key
		{[][]byte{{0}, {}}, false},
		{[][]byte{{0xfe}, {0xff}, {0xff, 0}, {0xff, 0xff}}, true},
		{[][]byte{{0xff, 0xff}, {0xff}}, false},
		{bs("a", "b", "b"), false},
		{bs("a", "c", "b"), false},
		{bs("a", "ab", "b"), true},
	} {
		if got := StrictlySorted(c.keys); got != c.want {
			t.Errorf("StrictlySorted(%x) = %v; want %v", c.keys, got, c.want)
		}
	}
}

// randKey draws from a small key space rich in edge cases: the empty key,
// 0x00 and 0xff bytes, and prefixes of one another.
func randKey(rng *rand.Rand) []byte {
	n := rng.IntN(4)
	k := make([]byte, n)
	for i := range k {
		switch rng.IntN(4) {
		case 0:
			k[i] = 0x00
		case 1:
			k[i] = 0xff
		default:
			k[i] = byte('a' + rng.IntN(3))
		}
	}
	return k
}

func sortedKeys(set map[string]bool) [][]byte {
	ss := make([]string, 0, len(set))
	for s := range set {
		ss = append(ss, s)
	}
	sort.Strings(ss)
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

func boolSet(m map[string]string) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}
