package node

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/sledgo/sled/internal/testutil"
)

func put32(p []byte, at int, v uint32) { binary.LittleEndian.PutUint32(p[at:], v) }

// corrupt returns a copy of n's buffer changed by f.
func corrupt(n *Node, f func(p []byte) []byte) []byte {
	return f(bytes.Clone(n.Bytes()))
}

// requireCorrupt fails unless FromBytes rejects p with an ErrCorrupt whose
// message contains want (the check that should fire; "" for any).
func requireCorrupt(t *testing.T, what string, p []byte, want string) {
	t.Helper()
	n, err := FromBytes(p)
	if err == nil {
		t.Fatalf("%s: FromBytes accepted %x as %s", what, p, describe(n))
	}
	if !errors.Is(err, ErrCorrupt) || n != nil {
		t.Fatalf("%s: FromBytes = %v, %v; want nil and an ErrCorrupt", what, n, err)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("%s: FromBytes error %q; want one about %q", what, err, want)
	}
}

func TestFromBytesAcceptsConstructedNodes(t *testing.T) {
	for i, n := range seedNodes() {
		p := n.Bytes()
		c, err := fromBytes(t, p)
		if err != nil {
			t.Fatalf("seed %d: %v", i, err)
		}
		if !sameNode(c, n) {
			t.Fatalf("seed %d: read back %s; want %s", i, describe(c), describe(n))
		}
	}
}

func TestFromBytesRejectsCorruptions(t *testing.T) {
	leaf := NewLeaf(b("b"), b("y"), 7, bs("b", "c", "x"), bs("1", "22", ""))
	leafInf := NewLeaf([]byte{}, nil, 3, bs("", "k"), bs("v", "w"))
	idx := NewIndex(2, b("b"), b("y"), 7, bs("b", "c", "x"), []PageID{1, 2, 3}, []bool{false, true, false})
	plain := NewIndex(1, []byte{}, nil, 0, bs("", "m"), []PageID{4, 5}, nil)
	bases := map[string]*Node{"leaf": leaf, "leafInf": leafInf, "idx": idx, "plain": plain}
	for name, n := range bases {
		checkValid(t, name, n)
	}

	// Every truncation, and one extra byte.
	for name, n := range bases {
		p := n.Bytes()
		for l := 0; l < len(p); l++ {
			requireCorrupt(t, fmt.Sprintf("%s truncated to %d", name, l), bytes.Clone(p[:l]), "")
		}
		requireCorrupt(t, name+" with a byte appended", append(bytes.Clone(p), 0), "offset table")
	}

	type tc struct {
		name string
		n    *Node
		f    func(p []byte) []byte
		want string
	}
	off := func(n *Node, i int) int { return n.tab + slotBytes*i } // offset slot of entry i
	cases := []tc{
		{"version 0", leaf, func(p []byte) []byte { p[hdrVersion] = 0; return p }, "layout version"},
		{"version 2", idx, func(p []byte) []byte { p[hdrVersion] = 2; return p }, "layout version"},
		{"version 255", leaf, func(p []byte) []byte { p[hdrVersion] = 255; return p }, "layout version"},
		{"zero byte set", leaf, func(p []byte) []byte { p[3] = 1; return p }, "unknown flags"},
		{"leaf with mark flag", leaf, func(p []byte) []byte { p[hdrFlags] |= flagMark; return p }, "leaf with marks"},
		{"hi bytes without hi flag", leaf, func(p []byte) []byte { p[hdrFlags] &^= flagHi; return p }, "hi bytes without hi"},
		{"empty non-nil hi", leafInf, func(p []byte) []byte { p[hdrFlags] |= flagHi; return p }, "empty hi"},
		{"count too large", leaf, func(p []byte) []byte { put32(p, hdrCount, 1000); return p }, "do not fit"},
		{"count max", idx, func(p []byte) []byte { put32(p, hdrCount, 0xffffffff); return p }, "do not fit"},
		{"lo too long", leaf, func(p []byte) []byte { put32(p, hdrLoLen, uint32(len(p))); return p }, "do not fit"},
		{"lo length max", leaf, func(p []byte) []byte { put32(p, hdrLoLen, 0xffffffff); return p }, "do not fit"},
		{"hi too long", leaf, func(p []byte) []byte { put32(p, hdrHiLen, uint32(len(p))); return p }, "do not fit"},
		{"count one less", leaf, func(p []byte) []byte { put32(p, hdrCount, 2); return p }, "offset table"},
		{"count one more", leaf, func(p []byte) []byte { put32(p, hdrCount, 4); return p }, "offset table"},
		{"first offset late", leaf, func(p []byte) []byte { put32(p, off(leaf, 0), le32(p[off(leaf, 0):])+1); return p }, "offset table"},
		{"first offset in table", idx, func(p []byte) []byte { put32(p, off(idx, 0), uint32(idx.tab)); return p }, "offset table"},
		{"last offset short", leaf, func(p []byte) []byte { put32(p, off(leaf, 3), uint32(len(p)-1)); return p }, "offset table"},
		{"last offset past end", idx, func(p []byte) []byte { put32(p, off(idx, 3), uint32(len(p)+1)); return p }, "offset table"},
		{"offsets swapped", leaf, func(p []byte) []byte {
			a, c := le32(p[off(leaf, 1):]), le32(p[off(leaf, 2):])
			put32(p, off(leaf, 1), c)
			put32(p, off(leaf, 2), a)
			return p
		}, "entry 1 spans"},
		{"offset decreasing", idx, func(p []byte) []byte { put32(p, off(idx, 2), le32(p[off(idx, 1):])); return p }, "entry 1 spans"},
		{"offset beyond the buffer", leaf, func(p []byte) []byte { put32(p, off(leaf, 1), uint32(len(p)+10)); return p }, "entry 0 spans"},
		{"offset max", idx, func(p []byte) []byte { put32(p, off(idx, 2), 0xffffffff); return p }, "entry 1 spans"},
		{"offset zero", leaf, func(p []byte) []byte { put32(p, off(leaf, 2), 0); return p }, "entry 1 spans"},
		{"leaf key length over the entry", leaf, func(p []byte) []byte {
			put32(p, leaf.off(1), uint32(leaf.off(2)-leaf.off(1)-4+1))
			return p
		}, "entry 1: key of"},
		{"leaf key length max", leaf, func(p []byte) []byte { put32(p, leaf.off(0), 0xffffffff); return p }, "entry 0: key of"},
		{"index key length over", idx, func(p []byte) []byte { put32(p, idx.off(1), 2); return p }, "entry 1: key of"},
		{"index key length under", idx, func(p []byte) []byte { put32(p, idx.off(1), 0); return p }, "entry 1: key of"},
		{"index key length max", idx, func(p []byte) []byte { put32(p, idx.off(2), 0xffffffff); return p }, "entry 2: key of"},
		{"head changed", leaf, func(p []byte) []byte { p[off(leaf, 1)+4]++; return p }, "head 1"},
		{"head in the last slot", leaf, func(p []byte) []byte { p[off(leaf, 3)+4] = 1; return p }, "last table slot"},
		{"prefix length too long", leaf, func(p []byte) []byte { put32(p, hdrPfx, le32(p[hdrPfx:])+1); return p }, "prefix length"},
		{"prefix length max", idx, func(p []byte) []byte { put32(p, hdrPfx, 0xffffffff); return p }, "prefix length"},
		{"keys out of order", leaf, func(p []byte) []byte { p[leaf.off(1)+4] = 'a'; return p }, "out of order"},
		{"duplicate keys", idx, func(p []byte) []byte { p[idx.off(2)+4] = 'c'; return p }, "out of order"},
		{"key below lo", leaf, func(p []byte) []byte { p[leaf.off(0)+4] = 'a'; return p }, "below lo"},
		{"index key below lo", idx, func(p []byte) []byte { p[idx.off(0)+4] = 'a'; return p }, "below lo"},
		{"key at hi", leaf, func(p []byte) []byte { p[leaf.off(2)+4] = 'y'; return p }, "not below hi"},
		{"key above hi", idx, func(p []byte) []byte { p[idx.off(2)+4] = 'z'; return p }, "not below hi"},
		{"hi below keys", leaf, func(p []byte) []byte { p[leaf.loEnd] = 'c'; return p }, "not below hi"},
		{"lo above keys", idx, func(p []byte) []byte { p[headerBytes] = 'c'; return p }, "below lo"},
		{"index kid 0", idx, func(p []byte) []byte {
			binary.LittleEndian.PutUint64(p[idx.off(2)-indexTailBytes:], 0)
			return p
		}, "kid 1 is page 0"},
		{"first kid 0", plain, func(p []byte) []byte {
			binary.LittleEndian.PutUint64(p[plain.off(1)-indexTailBytes:], 0)
			return p
		}, "kid 0 is page 0"},
		{"mark 2", idx, func(p []byte) []byte { p[idx.off(3)-1] = 2; return p }, "mark 2 is 2"},
		{"mark 255", idx, func(p []byte) []byte { p[idx.off(2)-1] = 255; return p }, "mark 1 is 255"},
		{"mark flag without marks", plain, func(p []byte) []byte { p[hdrFlags] |= flagMark; return p }, "mark flag"},
		{"marks without mark flag", idx, func(p []byte) []byte { p[hdrFlags] &^= flagMark; return p }, "mark flag"},
		{"mark without mark flag", plain, func(p []byte) []byte { p[plain.off(1)-1] = 1; return p }, "mark flag"},
		{"mark flag after unmarking", idx, func(p []byte) []byte { p[idx.off(2)-1] = 0; return p }, "mark flag"},
		{"leaf as index", leaf, func(p []byte) []byte { p[hdrLevel] = 1; return p }, "key of"},
	}
	for bit := 3; bit < 8; bit++ {
		cases = append(cases, tc{fmt.Sprintf("flag bit %d", bit), leaf, func(p []byte) []byte { p[hdrFlags] |= 1 << bit; return p }, "unknown flags"})
		cases = append(cases, tc{fmt.Sprintf("index flag bit %d", bit), idx, func(p []byte) []byte { p[hdrFlags] |= 1 << bit; return p }, "unknown flags"})
	}
	for _, c := range cases {
		before := deepCopy(c.n)
		requireCorrupt(t, c.name, corrupt(c.n, c.f), c.want)
		requireSame(t, c.name, before, c.n)
	}

	// An index node without entries, as a constructor would write it and
	// as a leaf relabelled.
	requireCorrupt(t, "index without entries", NewIndex(1, []byte{}, nil, 0, nil, nil, nil).Bytes(), "index node without entries")
	requireCorrupt(t, "empty leaf as index", corrupt(NewLeaf([]byte{}, nil, 0, nil, nil), func(p []byte) []byte { p[hdrLevel] = 3; return p }), "index node without entries")
}

// TestFromBytesAliases checks that FromBytes keeps its input (no copy) and
// that accessors of the node read it.
func TestFromBytesAliases(t *testing.T) {
	p := bytes.Clone(testLeaf().Bytes())
	n, err := FromBytes(p)
	if err != nil {
		t.Fatal(err)
	}
	if &n.Bytes()[0] != &p[0] || len(n.Bytes()) != len(p) || cap(n.Bytes()) != len(p) {
		t.Fatal("FromBytes copied its input")
	}
	if !sameNode(n, testLeaf()) {
		t.Fatalf("read back %s", describe(n))
	}
}

func TestConstructorsRetainNothing(t *testing.T) {
	lo, hi := b("a"), b("z")
	keys, vals := bs("a", "b", "c"), bs("1", "2", "3")
	kids, mark := []PageID{1, 2, 3}, []bool{false, true, false}
	l := NewLeaf(lo, hi, 1, keys, vals)
	x := NewIndex(1, lo, hi, 1, keys, kids, mark)
	lb, xb := deepCopy(l), deepCopy(x)
	for _, p := range append(append([][]byte{lo, hi}, keys...), vals...) {
		for i := range p {
			p[i] = '!'
		}
	}
	kids[0], kids[1], mark[0], mark[1] = 9, 9, true, false
	requireSame(t, "NewLeaf", lb, l)
	requireSame(t, "NewIndex", xb, x)
}

func TestBuilder(t *testing.T) {
	// Plan: 2 entries, 2 key bytes, 2 value bytes.
	w := NewBuilder(0, false, 5, b("a"), nil, 2, 2, 2)
	if w.Index(b("a"), 1, false) {
		t.Fatal("Index accepted on a leaf builder")
	}
	if !w.Leaf(b("a"), b("1")) {
		t.Fatal("Leaf refused an entry within the plan")
	}
	if w.Leaf(b("abc"), nil) {
		t.Fatal("Leaf accepted an entry over the planned bytes")
	}
	if !w.Leaf(b("b"), b("2")) {
		t.Fatal("Leaf refused an entry within the plan")
	}
	if w.Leaf(b("c"), nil) || w.Leaf(nil, nil) {
		t.Fatal("Leaf accepted an entry over the planned count")
	}
	n, err := w.Finish()
	if err != nil {
		t.Fatal(err)
	}
	// The refused calls wrote nothing.
	checkModel(t, "Builder leaf", n, &model{lo: b("a"), next: 5, keys: bs("a", "b"), vals: bs("1", "2")})

	// Index entries: 2 entries, 3 key bytes; frozen; marked.
	w = NewBuilder(3, true, 0, []byte{}, b("q"), 2, 3, 0)
	if w.Leaf(b("k"), nil) {
		t.Fatal("Leaf accepted on an index builder")
	}
	if !w.Index([]byte{}, 7, true) {
		t.Fatal("Index refused an entry within the plan")
	}
	if w.Index(b("abcd"), 8, false) {
		t.Fatal("Index accepted an entry over the planned bytes")
	}
	if !w.Index(b("abc"), 8, false) {
		t.Fatal("Index refused an entry within the plan")
	}
	if w.Index(b("b"), 9, false) {
		t.Fatal("Index accepted an entry over the planned count")
	}
	n, err = w.Finish()
	if err != nil {
		t.Fatal(err)
	}
	checkModel(t, "Builder index", n, &model{level: 3, frozen: true, lo: []byte{}, hi: b("q"),
		keys: bs("", "abc"), kids: []PageID{7, 8}, marks: []bool{true, false}})

	// All-false marks give no mark flag.
	w = NewBuilder(1, false, 0, []byte{}, nil, 1, 0, 0)
	w.Index(nil, 1, false)
	if n, err = w.Finish(); err != nil || n.HasMark() || n.Marks() != nil {
		t.Fatalf("unmarked Builder node: %v, marks %v", err, n.Marks())
	}

	// The Builder retains nothing passed in.
	lo, k, v := b("a"), b("ab"), b("vv")
	w = NewBuilder(0, false, 0, lo, nil, 1, 2, 2)
	w.Leaf(k, v)
	n, err = w.Finish()
	if err != nil {
		t.Fatal(err)
	}
	before := deepCopy(n)
	copy(lo, "!")
	copy(k, "!!")
	copy(v, "!!")
	requireSame(t, "Builder inputs", before, n)
}

func TestBuilderFinishErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		w    func() *Builder
	}{
		{"no entries of two", func() *Builder { return NewBuilder(0, false, 0, []byte{}, nil, 2, 2, 0) }},
		{"one entry of two", func() *Builder {
			w := NewBuilder(0, false, 0, []byte{}, nil, 2, 2, 0)
			w.Leaf(b("a"), nil)
			return w
		}},
		{"bytes under the plan", func() *Builder {
			w := NewBuilder(0, false, 0, []byte{}, nil, 2, 5, 3)
			w.Leaf(b("a"), nil)
			w.Leaf(b("b"), b("x"))
			return w
		}},
		{"index entries under the plan", func() *Builder {
			w := NewBuilder(1, false, 0, []byte{}, nil, 3, 2, 0)
			w.Index(nil, 1, false)
			w.Index(b("a"), 2, false)
			return w
		}},
		{"unsorted", func() *Builder {
			w := NewBuilder(0, false, 0, []byte{}, nil, 2, 2, 0)
			w.Leaf(b("b"), nil)
			w.Leaf(b("a"), nil)
			return w
		}},
		{"duplicate", func() *Builder {
			w := NewBuilder(1, false, 0, []byte{}, nil, 2, 2, 0)
			w.Index(b("a"), 1, false)
			w.Index(b("a"), 2, false)
			return w
		}},
		{"below lo", func() *Builder {
			w := NewBuilder(0, false, 0, b("b"), nil, 1, 1, 0)
			w.Leaf(b("a"), nil)
			return w
		}},
		{"at hi", func() *Builder {
			w := NewBuilder(0, false, 0, []byte{}, b("m"), 2, 2, 0)
			w.Leaf(b("a"), nil)
			w.Leaf(b("m"), nil)
			return w
		}},
		{"empty non-nil hi", func() *Builder { return NewBuilder(0, false, 0, []byte{}, []byte{}, 0, 0, 0) }},
		{"index without entries", func() *Builder { return NewBuilder(2, false, 0, []byte{}, nil, 0, 0, 0) }},
		{"kid 0", func() *Builder {
			w := NewBuilder(1, false, 0, []byte{}, nil, 2, 1, 0)
			w.Index(nil, 1, false)
			w.Index(b("a"), 0, false)
			return w
		}},
	} {
		n, err := c.w().Finish()
		if err == nil || !errors.Is(err, ErrCorrupt) || n != nil {
			t.Errorf("%s: Finish = %v, %v; want an ErrCorrupt", c.name, n, err)
		}
	}
}

// TestFrozenAcrossCopies: Split, Absorb and Thawed clear Frozen; the copies
// that change entries keep it.
func TestFrozenAcrossCopies(t *testing.T) {
	l := testLeaf().WithFrozen()
	x := testIndex().WithMark(1).WithFrozen()
	i, found := l.Search(b("aa"))
	for name, c := range map[string]*Node{
		"WithValue(insert)":  l.WithValue(i, found, b("aa"), b("x")),
		"WithValue(replace)": l.WithValue(1, true, b("a"), b("x")),
		"Without":            l.Without(0),
		"WithOps":            l.WithOps([]Delta{{Kind: DeltaSet, Key: b("c"), Val: b("C")}, {Kind: DeltaDel, Key: []byte{0xff}}}),
		"DeltaSet":           Delta{Kind: DeltaSet, Key: b("c"), Val: nil}.Apply(l),
		"DeltaDel":           Delta{Kind: DeltaDel, Key: b("a")}.Apply(l),
		"WithChild":          x.WithChild(b("q"), 50),
		"WithoutChild":       x.WithoutChild(3),
		"WithMark":           x.WithMark(3),
		"WithFrozen":         l.WithFrozen(),
	} {
		if !c.Frozen() {
			t.Errorf("%s of a frozen node is not frozen", name)
		}
		checkValid(t, name, c)
	}
	for _, n := range []*Node{l, x} {
		left, right := n.Split(2, 99)
		if left.Frozen() || right.Frozen() {
			t.Errorf("Split of a frozen node gave frozen halves")
		}
		m := left.WithFrozen().Absorb(right.WithFrozen())
		if m.Frozen() {
			t.Errorf("Absorb of frozen nodes is frozen")
		}
		th := n.Thawed()
		if th.Frozen() || th == n {
			t.Errorf("Thawed did not give an unfrozen copy")
		}
		if !sameNode(m, th) {
			t.Errorf("Absorb(Split) of a frozen node = %s; want %s", describe(m), describe(th))
		}
		if th.Thawed() != th {
			t.Errorf("Thawed copied an unfrozen node")
		}
		if !n.Frozen() {
			t.Errorf("Thawed unfroze its receiver")
		}
		checkValid(t, "Thawed", th)
	}
	if !sameNode(l.Thawed(), testLeaf()) || !sameNode(x.Thawed(), testIndex().WithMark(1)) {
		t.Error("WithFrozen then Thawed is not the original node")
	}
}

// TestMarksNormalized: the mark flag follows the marks through every copy,
// so that HasMark is false exactly when no entry is marked.
func TestMarksNormalized(t *testing.T) {
	keys := bs("", "b", "c", "d", "e", "f")
	kids := []PageID{1, 2, 3, 4, 5, 6}
	for pat := 0; pat < 1<<len(keys); pat++ {
		mark := make([]bool, len(keys))
		for i := range mark {
			mark[i] = pat&(1<<i) != 0
		}
		n := NewIndex(1, []byte{}, nil, 0, keys, kids, mark)
		if n.HasMark() != (pat != 0) {
			t.Fatalf("marks %v: HasMark %v", mark, n.HasMark())
		}
		for i := range keys {
			c := n.Without(i)
			only := pat == 1<<i
			if c.HasMark() == (only || pat == 0) {
				t.Fatalf("marks %v: Without(%d).HasMark() = %v", mark, i, c.HasMark())
			}
			if only && (c.Marks() != nil || c.Bytes()[hdrFlags]&flagMark != 0) {
				t.Fatalf("marks %v: Without(%d) of the only marked entry keeps a mark", mark, i)
			}
			checkValid(t, "Without", c)
			checkValid(t, "WithoutChild", n.WithoutChild(i))
		}
		for at := 1; at < len(keys); at++ {
			l, r := n.Split(at, 9)
			if l.HasMark() != (pat&(1<<at-1) != 0) || r.HasMark() != (pat>>at != 0) {
				t.Fatalf("marks %v: Split(%d) halves HasMark %v %v", mark, at, l.HasMark(), r.HasMark())
			}
			checkValid(t, "left half", l)
			checkValid(t, "right half", r)
			m := l.Absorb(r)
			if !sameNode(m, n) {
				t.Fatalf("marks %v: Absorb(Split(%d)) = %s", mark, at, describe(m))
			}
		}
	}
}

// Search through heads and a shared prefix agrees with a linear scan, for
// keys sharing long prefixes, keys ending inside the prefix or inside a
// head, and probes outside the prefix on both sides.
func TestSearchHeadsMatchLinearScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(testutil.Seed(t), 21))
	alphabet := []byte{0x00, 0x01, 'u', 'v', 0xff}
	gen := func(prefix []byte) []byte {
		k := append([]byte{}, prefix[:rng.IntN(len(prefix)+1)]...)
		for range rng.IntN(7) {
			k = append(k, alphabet[rng.IntN(len(alphabet))])
		}
		return k
	}
	for iter := range 3000 {
		prefix := []byte("user")[:rng.IntN(5)]
		set := map[string]bool{}
		for range rng.IntN(40) {
			k := gen(prefix)
			if rng.IntN(3) > 0 {
				k = append(append([]byte{}, prefix...), k...)
			}
			set[string(k)] = true
		}
		keys := sortedKeys(set)
		vals := make([][]byte, len(keys))
		for i := range vals {
			vals[i] = []byte{byte(i)}
		}
		n := NewLeaf([]byte{}, nil, 0, keys, vals)
		for range 50 {
			probe := gen(prefix)
			if rng.IntN(2) == 0 {
				probe = append(append([]byte{}, prefix...), probe...)
			}
			if rng.IntN(5) == 0 && len(keys) > 0 {
				probe = keys[rng.IntN(len(keys))]
			}
			want := sort.Search(len(keys), func(i int) bool { return bytes.Compare(keys[i], probe) >= 0 })
			wantFound := want < len(keys) && bytes.Equal(keys[want], probe)
			if i, found := n.Search(probe); i != want || found != wantFound {
				t.Fatalf("iter %d: Search(%x) over %x = %d,%v; want %d,%v", iter, probe, keys, i, found, want, wantFound)
			}
			from := rng.IntN(want + 1)
			if i, found := n.searchFrom(from, probe); i != want || found != wantFound {
				t.Fatalf("iter %d: searchFrom(%d, %x) over %x = %d,%v; want %d,%v", iter, from, probe, keys, i, found, want, wantFound)
			}
		}
	}
}

// A decoder's unsorted input whose middle key is shorter than the first and
// last keys' common prefix: Finish reports it, computing heads does not
// panic (found by FuzzDecodeNode).
func TestBuilderFinishShortMiddleKey(t *testing.T) {
	keys := [][]byte{[]byte("abcdef1"), []byte("a"), []byte("abcdef2")}
	kb := 0
	for _, k := range keys {
		kb += len(k)
	}
	w := NewBuilder(0, false, 0, []byte{}, nil, len(keys), kb, 0)
	for _, k := range keys {
		if !w.Leaf(k, nil) {
			t.Fatal("Leaf refused a planned entry")
		}
	}
	if n, err := w.Finish(); err == nil || !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Finish = %v, %v; want ErrCorrupt", n, err)
	}
}

// head is a suffix's first 4 bytes, zero padded, big endian, for every
// length: heads order as the suffixes do, ties aside.
func TestHead(t *testing.T) {
	for _, s := range [][]byte{nil, {}, {0x01}, {0xff, 0x02}, {0x80, 0x00, 0x7f}, {1, 2, 3, 4}, {9, 8, 7, 6, 5}} {
		var pad [4]byte
		copy(pad[:], s)
		if got, want := head(s), binary.BigEndian.Uint32(pad[:]); got != want {
			t.Errorf("head(%x) = %#x, want %#x", s, got, want)
		}
	}
}
