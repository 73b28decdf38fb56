package codec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/sledgo/sled/internal/node"
	"github.com/sledgo/sled/internal/testutil"
)

func bs(ss ...string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

// sampleNodes covers every field and edge the node encoding must preserve.
func sampleNodes() map[string]*node.Node {
	manyKeys := make([][]byte, 300)
	manyVals := make([][]byte, 300)
	manyKids := make([]node.PageID, 300)
	manyMark := make([]bool, 300)
	for i := range manyKeys {
		manyKeys[i] = fmt.Appendf(nil, "k%05d", i)
		manyVals[i] = bytes.Repeat([]byte{byte(i)}, i%7)
		manyKids[i] = node.PageID(1 + i*977)
	}
	manyMark[299] = true
	manyKeys[0] = []byte{}
	frozen := node.NewLeaf([]byte("m"), []byte{0xff, 0xff}, 7, bs("m", "n"), bs("1", "2")).WithFrozen()
	return map[string]*node.Node{
		"empty-root-leaf": node.NewLeaf([]byte{}, nil, 0, nil, nil),
		"empty-bounded":   node.NewLeaf([]byte("a"), []byte("b"), 3, nil, nil),
		"leaf": node.NewLeaf([]byte{}, []byte{0xff, 0xff, 0xff}, math.MaxUint64, [][]byte{{}, []byte("a"), {0xff}, {0xff, 0xfe}},
			[][]byte{[]byte("empty key"), {}, bytes.Repeat([]byte{0xff}, 3), {0}}),
		"leaf-hi-nil":   node.NewLeaf([]byte("x"), nil, 0, bs("x", "y"), bs("", "")),
		"frozen-leaf":   frozen,
		"large-value":   node.NewLeaf([]byte{}, nil, 0, bs("big", "small"), [][]byte{bytes.Repeat([]byte("v"), 1<<20), []byte("s")}),
		"many-leaf":     node.NewLeaf([]byte{}, nil, 9, manyKeys, manyVals),
		"index":         node.NewIndex(1, []byte{}, nil, 0, bs("", "f", "p"), []node.PageID{1, 2, 1 << 40}, nil),
		"index-marked":  node.NewIndex(2, []byte("c"), []byte("z"), 12, bs("c", "d", "e"), []node.PageID{4, 5, 6}, []bool{false, true, false}),
		"index-frozen":  node.NewIndex(255, []byte{}, []byte{0xff}, 1, bs(""), []node.PageID{3}, nil).WithFrozen(),
		"index-many":    node.NewIndex(1, []byte{}, nil, 0, manyKeys, manyKids, manyMark),
		"index-mark-8":  node.NewIndex(1, []byte{}, nil, 0, bs("", "1", "2", "3", "4", "5", "6", "7"), []node.PageID{1, 2, 3, 4, 5, 6, 7, 8}, []bool{7: true}),
		"index-mark-0":  node.NewIndex(1, []byte{}, nil, 0, bs("", "1"), []node.PageID{1, 2}, []bool{true, false}),
		"index-ff-keys": node.NewIndex(3, []byte{0xff}, nil, 0, [][]byte{{0xff}, {0xff, 0xff}}, []node.PageID{8, 9}, nil),
	}
}

// sameNode fails t unless got and want are the same node: the same buffer
// and the same value through every accessor (Lo and Hi nil-ness included).
func sameNode(t testing.TB, what string, got, want *node.Node) {
	t.Helper()
	if err := nodeDiff(got, want); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func nodeDiff(got, want *node.Node) error {
	switch {
	case !bytes.Equal(got.Bytes(), want.Bytes()):
		return fmt.Errorf("buffers differ:\n got %x\nwant %x", got.Bytes(), want.Bytes())
	case got.Level() != want.Level() || got.Frozen() != want.Frozen() || got.Next() != want.Next() ||
		got.Len() != want.Len() || got.HasMark() != want.HasMark() || got.IsLeaf() != want.IsLeaf():
		return fmt.Errorf("level %d/%d frozen %v/%v next %d/%d len %d/%d marked %v/%v",
			got.Level(), want.Level(), got.Frozen(), want.Frozen(), got.Next(), want.Next(),
			got.Len(), want.Len(), got.HasMark(), want.HasMark())
	case !bytes.Equal(got.Lo(), want.Lo()) || (got.Lo() == nil) != (want.Lo() == nil):
		return fmt.Errorf("lo %q, want %q", got.Lo(), want.Lo())
	case !bytes.Equal(got.Hi(), want.Hi()) || (got.Hi() == nil) != (want.Hi() == nil):
		return fmt.Errorf("hi %q (nil %v), want %q (nil %v)", got.Hi(), got.Hi() == nil, want.Hi(), want.Hi() == nil)
	case got.MemBytes() != want.MemBytes():
		return fmt.Errorf("MemBytes %d, want %d", got.MemBytes(), want.MemBytes())
	}
	for i := range want.Len() {
		if !bytes.Equal(got.Key(i), want.Key(i)) {
			return fmt.Errorf("key %d = %q, want %q", i, got.Key(i), want.Key(i))
		}
		if want.IsLeaf() {
			if !bytes.Equal(got.Val(i), want.Val(i)) {
				return fmt.Errorf("value %d = %q, want %q", i, got.Val(i), want.Val(i))
			}
		} else if got.Kid(i) != want.Kid(i) || got.Marked(i) != want.Marked(i) {
			return fmt.Errorf("entry %d: kid %d marked %v, want %d %v", i, got.Kid(i), got.Marked(i), want.Kid(i), want.Marked(i))
		}
	}
	return nil
}

func TestNodeRoundTrip(t *testing.T) {
	for name, n := range sampleNodes() {
		t.Run(name, func(t *testing.T) {
			if err := CheckNode(n); err != nil {
				t.Fatalf("sample is ill formed: %v", err)
			}
			enc := EncodeNode([]byte("prefix"), n)[len("prefix"):]
			if len(enc) != NodeSize(n) {
				t.Fatalf("NodeSize = %d, encoded %d bytes", NodeSize(n), len(enc))
			}
			got, err := DecodeNode(enc)
			if err != nil {
				t.Fatal(err)
			}
			sameNode(t, "decoded", got, n)
			// DeepEqual also compares what the node caches about its
			// buffer.
			if !reflect.DeepEqual(got, n) {
				t.Fatal("decoded node is not DeepEqual to the original")
			}
			if err := CheckNode(got); err != nil {
				t.Fatalf("decoded node fails CheckNode: %v", err)
			}
			if !bytes.Equal(EncodeNode(nil, got), enc) {
				t.Fatal("re-encoding differs")
			}
		})
	}
}

func TestNodePreservesNilness(t *testing.T) {
	n := node.NewLeaf([]byte{}, nil, 0, bs("a", "b"), [][]byte{{}, nil})
	got, err := DecodeNode(EncodeNode(nil, n))
	if err != nil {
		t.Fatal(err)
	}
	if got.Lo() == nil || got.Hi() != nil || got.HasMark() || got.Marks() != nil || got.Kids() != nil {
		t.Fatalf("lo nil %v hi nil %v mark %v kids %v", got.Lo() == nil, got.Hi() == nil, got.Marks(), got.Kids())
	}
	// Values are never nil after decoding: an empty value is present.
	for i := range got.Len() {
		if v := got.Val(i); v == nil || len(v) != 0 {
			t.Fatalf("value %d = %#v, want non-nil empty", i, v)
		}
	}
	// An empty Hi (never valid: a finite Hi is a nonempty key) does not
	// decode as +infinity.
	if _, err := DecodeNode(nodeBytes(nodeFlagHi, 0, nil, []byte{}, 0)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("empty hi: %v", err)
	}
	// A Mark of all false is no mark: not encoded, and none after decoding.
	ix := node.NewIndex(1, []byte{}, nil, 0, bs(""), []node.PageID{1}, []bool{false})
	enc := EncodeNode(nil, ix)
	if enc[0]&nodeFlagMark != 0 {
		t.Fatalf("all-false mark encoded with a bitmap: %x", enc)
	}
	got, err = DecodeNode(enc)
	if err != nil || got.HasMark() || got.Marks() != nil || got.Marked(0) {
		t.Fatalf("all-false mark decoded as %+v, %v", got, err)
	}
	sameNode(t, "all-false mark", got, node.NewIndex(1, []byte{}, nil, 0, bs(""), []node.PageID{1}, nil))
}

// TestDecodedSlicesCapped: the slices a decoded node hands out are capped at
// their length, so appending to them writes neither into the node nor into
// the input.
func TestDecodedSlicesCapped(t *testing.T) {
	n := node.NewLeaf([]byte("a"), []byte("z"), 0, bs("b", "c"), bs("1", "2"))
	enc := EncodeNode(nil, n)
	orig := bytes.Clone(enc)
	got, err := DecodeNode(enc)
	if err != nil {
		t.Fatal(err)
	}
	buf := bytes.Clone(got.Bytes())
	for _, p := range [][]byte{got.Lo(), got.Hi(), got.Key(0), got.Key(1), got.Val(0), got.Val(1), got.Bytes()} {
		if cap(p) != len(p) {
			t.Fatalf("slice %q has cap %d", p, cap(p))
		}
		_ = append(p, 'X', 'X', 'X')
	}
	if !bytes.Equal(enc, orig) {
		t.Fatal("append through a decoded slice wrote into the input")
	}
	if !bytes.Equal(got.Bytes(), buf) {
		t.Fatal("append through a decoded slice wrote into the node")
	}
	sameNode(t, "after appends", got, n)
}

// TestDecodeNodeDoesNotAlias: DecodeNode copies everything out of its input,
// so the input can be reused (overwritten) while the node lives on.
func TestDecodeNodeDoesNotAlias(t *testing.T) {
	for name, n := range sampleNodes() {
		enc := EncodeNode(nil, n)
		got, err := DecodeNode(enc)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, fill := range []byte{0x00, 0xff, 0x5a} {
			for i := range enc {
				enc[i] = fill
			}
			sameNode(t, fmt.Sprintf("%s after filling the input with %#x", name, fill), got, n)
		}
		if err := CheckNode(got); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	// The same through DecodeSections and FindPage: images are copied
	// (delta keys and values still alias the record, as documented).
	want := sampleNodes()["index-marked"]
	rec := AppendSections(nil, []Section{
		{Kind: SecImage, Page: 1, Node: sampleNodes()["leaf"]},
		{Kind: SecImage, Page: 2, Node: want},
	})
	secs, err := DecodeSections(rec)
	if err != nil {
		t.Fatal(err)
	}
	found, ok, err := FindPage(rec, 2)
	if err != nil || !ok {
		t.Fatalf("FindPage: %v %v", ok, err)
	}
	for i := range rec {
		rec[i] = 0xee
	}
	sameNode(t, "DecodeSections image after overwriting the record", secs[0].Node, sampleNodes()["leaf"])
	sameNode(t, "DecodeSections image after overwriting the record", secs[1].Node, want)
	sameNode(t, "FindPage image after overwriting the record", found.Node, want)
}

// nodeBytes builds a node encoding by hand for the validation tests.
func nodeBytes(flags, level byte, lo, hi []byte, count uint64, rest ...byte) []byte {
	b := []byte{flags, level, 0}
	b = append(append(b, byte(len(lo))), lo...)
	if hi != nil {
		b = append(append(b, byte(len(hi))), hi...)
	}
	b = append(b, byte(count))
	return append(b, rest...)
}

// imageRecord wraps a node encoding (under 128 bytes) in a record of one
// image section of page 1.
func imageRecord(body []byte) []byte {
	return append([]byte{1, byte(SecImage), 1, byte(len(body))}, body...)
}

// badNodes are node encodings that DecodeNode must reject. Ill-formed nodes
// cannot be built through the node API, so this is where every rule of a
// well-formed node (node.FromBytes' checks, run by CheckNode) is tested.
func badNodes() map[string][]byte {
	return map[string][]byte{
		// Framing and truncation.
		"empty":                {},
		"flags only":           {0},
		"no next":              {0, 0},
		"next truncated":       {0, 0, 0x80},
		"no lo":                {0, 0, 0},
		"lo past end":          {0, 0, 0, 2, 'a'},
		"hi missing":           {nodeFlagHi, 0, 0, 0},
		"hi truncated":         {nodeFlagHi, 0, 0, 0, 3, 'a'},
		"no count":             {0, 0, 0, 0},
		"trailing byte":        nodeBytes(0, 0, nil, nil, 0, 0),
		"count beyond input":   nodeBytes(0, 0, nil, nil, 100, 0, 0),
		"huge count":           append([]byte{0, 0, 0, 0}, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01),
		"non-minimal varint":   {0, 0, 0x80, 0x00, 0, 0},
		"varint overflow":      {0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0, 0},
		"key length past end":  nodeBytes(0, 0, nil, nil, 1, 5, 'a', 0),
		"leaf value missing":   nodeBytes(0, 0, nil, nil, 1, 1, 'a'),
		"leaf value past end":  nodeBytes(0, 0, nil, nil, 1, 1, 'a', 3, 'v'),
		"leaf entry missing":   nodeBytes(0, 0, nil, nil, 2, 1, 'a', 0, 1),
		"index kid missing":    nodeBytes(0, 1, nil, nil, 2, 0, 1, 1, 'a'),
		"index kid long form":  nodeBytes(0, 1, nil, nil, 1, 0, 0x81, 0x00),
		"index value bytes":    nodeBytes(0, 1, nil, nil, 1, 0, 1, 1, 'v'),
		"index entry trailing": nodeBytes(0, 1, nil, nil, 1, 0, 1, 0),
		// Flags.
		"unknown flag":        nodeBytes(0x08, 0, nil, nil, 0),
		"unknown flag 0x80":   nodeBytes(0x80|nodeFlagFrozen, 1, nil, nil, 1, 0, 1),
		"all flags":           nodeBytes(0xff, 1, nil, []byte("z"), 1, 0, 1, 0x01),
		"leaf with mark flag": nodeBytes(nodeFlagMark, 0, nil, nil, 0),
		"leaf with bitmap":    nodeBytes(nodeFlagMark, 0, nil, nil, 1, 1, 'a', 0, 0x01),
		// Key order and bounds.
		"keys out of order":       nodeBytes(0, 0, nil, nil, 2, 1, 'b', 0, 1, 'a', 0),
		"duplicate keys":          nodeBytes(0, 0, nil, nil, 2, 1, 'a', 0, 1, 'a', 0),
		"key below lo":            nodeBytes(0, 0, []byte("b"), nil, 1, 1, 'a', 0),
		"key at hi":               nodeBytes(nodeFlagHi, 0, nil, []byte("b"), 1, 1, 'b', 0),
		"key above hi":            nodeBytes(nodeFlagHi, 0, nil, []byte("b"), 1, 1, 'c', 0),
		"empty hi":                nodeBytes(nodeFlagHi, 0, nil, []byte{}, 0),
		"empty hi with key":       nodeBytes(nodeFlagHi, 0, nil, []byte{}, 1, 0, 0),
		"index keys out of order": nodeBytes(0, 1, nil, nil, 2, 1, 'b', 1, 1, 'a', 2),
		"index duplicate keys":    nodeBytes(0, 1, nil, nil, 2, 1, 'a', 1, 1, 'a', 2),
		"index key below lo":      nodeBytes(0, 1, []byte("b"), nil, 1, 1, 'a', 1),
		"index key at hi":         nodeBytes(nodeFlagHi, 1, nil, []byte("b"), 1, 1, 'b', 1),
		"index key above hi":      nodeBytes(nodeFlagHi, 1, nil, []byte("b"), 1, 1, 'c', 1),
		// Index entries.
		"index no entries":        nodeBytes(0, 1, nil, nil, 0),
		"frozen index no entries": nodeBytes(nodeFlagFrozen|nodeFlagHi, 7, nil, []byte("b"), 0),
		"index kid 0":             nodeBytes(0, 1, nil, nil, 1, 0, 0),
		"index second kid 0":      nodeBytes(0, 1, nil, nil, 2, 0, 1, 1, 'a', 0),
		// Mark bitmap.
		"index mark none":    nodeBytes(nodeFlagMark, 1, nil, nil, 2, 0, 1, 1, 'a', 2, 0x00),
		"index mark padding": nodeBytes(nodeFlagMark, 1, nil, nil, 2, 0, 1, 1, 'a', 2, 0x06),
		"index mark missing": nodeBytes(nodeFlagMark, 1, nil, nil, 2, 0, 1, 1, 'a', 2),
		"index mark long":    nodeBytes(nodeFlagMark, 1, nil, nil, 2, 0, 1, 1, 'a', 2, 0x02, 0x00),
		"index mark no flag": nodeBytes(0, 1, nil, nil, 2, 0, 1, 1, 'a', 2, 0x02),
	}
}

func TestDecodeNodeRejects(t *testing.T) {
	for name, b := range badNodes() {
		if n, err := DecodeNode(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: decoded %+v, err %v", name, n, err)
		}
		// Inside a record: the framing is intact, the image is not.
		rec := imageRecord(b)
		if secs, err := DecodeSections(rec); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s in a record: decoded %+v, err %v", name, secs, err)
		}
		if s, ok, err := FindPage(rec, 1); ok || !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s in a record: FindPage = %+v %v %v", name, s, ok, err)
		}
		if _, ok, err := FindPage(rec, 2); ok || err != nil {
			t.Errorf("%s in a record: FindPage of another page: %v %v", name, ok, err)
		}
	}
	// Sanity: the hand encoder agrees with EncodeNode on good nodes, so the
	// cases above fail for the reason their names give.
	good := map[string]struct {
		enc  []byte
		want *node.Node
	}{
		"index marked": {nodeBytes(nodeFlagMark, 1, nil, nil, 2, 0, 1, 1, 'a', 2, 0x02),
			node.NewIndex(1, []byte{}, nil, 0, bs("", "a"), []node.PageID{1, 2}, []bool{false, true})},
		"leaf bounded": {nodeBytes(nodeFlagHi, 0, []byte("b"), []byte("d"), 2, 1, 'b', 0, 1, 'c', 1, 'v'),
			node.NewLeaf([]byte("b"), []byte("d"), 0, bs("b", "c"), bs("", "v"))},
		"index bounded frozen": {nodeBytes(nodeFlagHi|nodeFlagFrozen, 7, []byte("b"), []byte("d"), 2, 1, 'b', 1, 1, 'c', 2),
			node.NewIndex(7, []byte("b"), []byte("d"), 0, bs("b", "c"), []node.PageID{1, 2}, nil).WithFrozen()},
		"leaf empty": {nodeBytes(0, 0, nil, nil, 0), node.NewLeaf([]byte{}, nil, 0, nil, nil)},
	}
	for name, g := range good {
		if !bytes.Equal(EncodeNode(nil, g.want), g.enc) {
			t.Fatalf("good %s: EncodeNode gives %x, hand encoding %x", name, EncodeNode(nil, g.want), g.enc)
		}
		got, err := DecodeNode(g.enc)
		if err != nil {
			t.Fatalf("good %s: %v", name, err)
		}
		sameNode(t, "good "+name, got, g.want)
		if _, err := DecodeSections(imageRecord(g.enc)); err != nil {
			t.Fatalf("good %s in a record: %v", name, err)
		}
	}
}

// TestCheckNode: CheckNode accepts every node the node API builds, and
// rejects a node whose buffer was damaged after it was checked (the node
// package never writes a buffer once built, so this is how a corrupted node
// can reach CheckNode at all; the damage is located without assuming the
// buffer layout beyond "keys and kids are stored as they are").
func TestCheckNode(t *testing.T) {
	for name, n := range sampleNodes() {
		if err := CheckNode(n); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if err := CheckNode(n.WithFrozen()); err != nil {
			t.Errorf("%s frozen: %v", name, err)
		}
		if at := n.SplitPoint(); at > 0 {
			l, r := n.Split(at, 99)
			if err := CheckNode(l); err != nil {
				t.Errorf("%s left half: %v", name, err)
			}
			if err := CheckNode(r); err != nil {
				t.Errorf("%s right half: %v", name, err)
			}
		}
	}

	const bigKid = node.PageID(0x0102030405060708)
	kidLE := binary.LittleEndian.AppendUint64(nil, uint64(bigKid))
	leaf := node.NewLeaf([]byte("K"), []byte("Zq"), 0, bs("Kb", "Kc"), bs("v1", "v2"))
	ix := node.NewIndex(1, []byte("K"), nil, 0, bs("K", "Kb", "Kc"), []node.PageID{3, 4, bigKid}, nil)
	ixMarked := node.NewIndex(1, []byte("K"), nil, 0, bs("K", "Kb", "Kc"), []node.PageID{3, 4, bigKid}, []bool{false, false, true})
	// The flags byte is the one byte in which a node and its frozen copy
	// differ; the mark flag is the bit in which ix and ixMarked's differ.
	flagsAt := -1
	for i, c := range leaf.Bytes() {
		if c != leaf.WithFrozen().Bytes()[i] {
			if flagsAt >= 0 {
				t.Fatal("frozen copy differs in more than one byte")
			}
			flagsAt = i
		}
	}
	if flagsAt < 0 {
		t.Fatal("frozen copy does not differ")
	}
	markFlag := ix.Bytes()[flagsAt] ^ ixMarked.Bytes()[flagsAt]
	if markFlag == 0 {
		t.Fatal("mark flag not found")
	}
	replace := func(old, new []byte) func([]byte) {
		return func(b []byte) {
			if bytes.Count(b, old) != 1 {
				t.Fatalf("%q occurs %d times in %x", old, bytes.Count(b, old), b)
			}
			copy(b[bytes.Index(b, old):], new)
		}
	}
	at := func(pattern []byte, delta int, v byte) func([]byte) {
		return func(b []byte) {
			if bytes.Count(b, pattern) != 1 {
				t.Fatalf("%x occurs %d times in %x", pattern, bytes.Count(b, pattern), b)
			}
			b[bytes.Index(b, pattern)+delta] = v
		}
	}
	cases := []struct {
		name   string
		n      *node.Node
		damage func([]byte)
	}{
		{"keys out of order", leaf, replace([]byte("Kc"), []byte("Ka"))},
		{"duplicate keys", leaf, replace([]byte("Kc"), []byte("Kb"))},
		{"key below lo", leaf, replace([]byte("Kb"), []byte("Ja"))},
		{"key at hi", leaf, replace([]byte("Kc"), []byte("Zq"))},
		{"key above hi", leaf, replace([]byte("Kc"), []byte("Zz"))},
		{"index keys out of order", ix, replace([]byte("Kc"), []byte("Ka"))},
		{"index kid 0", ix, replace(kidLE, make([]byte, 8))},
		{"index mark without flag", ix, at(kidLE, 8, 1)},
		{"index mark 2", ixMarked, at(kidLE, 8, 2)},
		{"index mark flag without mark", ixMarked, at(kidLE, 8, 0)},
		{"unknown flag", leaf, func(b []byte) { b[flagsAt] |= 0x80 }},
		{"leaf with mark flag", leaf, func(b []byte) { b[flagsAt] |= markFlag }},
	}
	for _, c := range cases {
		buf := bytes.Clone(c.n.Bytes())
		n, err := node.FromBytes(buf)
		if err != nil {
			t.Fatalf("%s: the undamaged buffer: %v", c.name, err)
		}
		if err := CheckNode(n); err != nil {
			t.Fatalf("%s: the undamaged node: %v", c.name, err)
		}
		c.damage(buf) // n aliases buf
		if err := CheckNode(n); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: CheckNode: %v", c.name, err)
		}
		if m, err := node.FromBytes(buf); !errors.Is(err, node.ErrCorrupt) {
			t.Errorf("%s: FromBytes = %v, %v", c.name, m, err)
		}
	}
}

// sampleSections is a record with every section kind and several pages.
func sampleSections() []Section {
	nodes := sampleNodes()
	return []Section{
		{Kind: SecTreeCreate, Page: 1, Name: "default"},
		{Kind: SecImage, Page: 1, Node: nodes["leaf"]},
		{Kind: SecDelta, Page: 2, Delta: node.Delta{Kind: node.DeltaSet, Key: []byte("k"), Val: []byte("v")}},
		{Kind: SecDelta, Page: 2, Delta: node.Delta{Kind: node.DeltaSet, Key: []byte{}, Val: []byte{}}},
		{Kind: SecDelta, Page: 1, Delta: node.Delta{Kind: node.DeltaDel, Key: []byte{0xff}}},
		{Kind: SecImage, Page: 3, Node: nodes["index-marked"]},
		{Kind: SecFree, Page: 4},
		{Kind: SecTreeDrop, Name: ""},
		{Kind: SecTreeDrop, Name: "old\x00tree"},
		{Kind: SecIDReserve, Value: math.MaxUint64},
		{Kind: SecIDReserve, Value: 0},
		{Kind: SecImage, Page: math.MaxUint64, Node: nodes["frozen-leaf"]},
		{Kind: SecDelta, Page: 10, Delta: node.Delta{Kind: node.DeltaSplit, Key: []byte("sep"), Kid: 300}},
		{Kind: SecDelta, Page: 11, Delta: node.Delta{Kind: node.DeltaChild, Key: []byte("c"), Kid: math.MaxUint64}},
	}
}

func TestSectionsRoundTrip(t *testing.T) {
	records := map[string][]Section{
		"empty":      nil,
		"all kinds":  sampleSections(),
		"one image":  {{Kind: SecImage, Page: 9, Node: sampleNodes()["large-value"]}},
		"one delete": {{Kind: SecDelta, Page: 9, Delta: node.Delta{Kind: node.DeltaDel, Key: []byte("gone")}}},
	}
	for name, secs := range records {
		t.Run(name, func(t *testing.T) {
			enc := AppendSections([]byte("hdr"), secs)
			if string(enc[:3]) != "hdr" {
				t.Fatal("AppendSections overwrote dst")
			}
			enc = enc[3:]
			if SectionsSize(secs) != len(enc) {
				t.Fatalf("SectionsSize = %d, encoded %d bytes", SectionsSize(secs), len(enc))
			}
			got, err := DecodeSections(enc)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, secs) {
				t.Fatalf("decoded %+v\nwant    %+v", got, secs)
			}
			if !bytes.Equal(AppendSections(nil, got), enc) {
				t.Fatal("re-encoding differs")
			}
		})
	}
}

func TestSectionsIgnoreUnusedFields(t *testing.T) {
	// Fields a kind does not use are not encoded and decode as zero.
	in := []Section{
		{Kind: SecTreeDrop, Page: 5, Name: "t", Value: 3},
		{Kind: SecIDReserve, Page: 5, Name: "t", Value: 3},
		{Kind: SecFree, Page: 5, Name: "t", Value: 3},
	}
	got, err := DecodeSections(AppendSections(nil, in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Section{{Kind: SecTreeDrop, Name: "t"}, {Kind: SecIDReserve, Value: 3}, {Kind: SecFree, Page: 5}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if SectionsSize(in) != len(AppendSections(nil, in)) {
		t.Fatal("SectionsSize disagrees")
	}
}

func TestDecodeSectionsAliasesCapped(t *testing.T) {
	secs := []Section{
		{Kind: SecDelta, Page: 2, Delta: node.Delta{Kind: node.DeltaSet, Key: []byte("k"), Val: []byte("v")}},
		{Kind: SecImage, Page: 1, Node: node.NewLeaf([]byte{}, nil, 0, bs("a"), bs("b"))},
	}
	enc := AppendSections(nil, secs)
	orig := bytes.Clone(enc)
	got, err := DecodeSections(enc)
	if err != nil {
		t.Fatal(err)
	}
	img := bytes.Clone(got[1].Node.Bytes())
	for _, p := range [][]byte{got[0].Delta.Key, got[0].Delta.Val, got[1].Node.Key(0), got[1].Node.Val(0), got[1].Node.Lo()} {
		if cap(p) != len(p) {
			t.Fatalf("%q: cap %d", p, cap(p))
		}
		_ = append(p, 'X')
	}
	if !bytes.Equal(enc, orig) {
		t.Fatal("append through a decoded slice wrote into the input")
	}
	if !bytes.Equal(got[1].Node.Bytes(), img) {
		t.Fatal("append through a decoded slice wrote into the node")
	}
}

func TestFindPage(t *testing.T) {
	secs := sampleSections()
	enc := AppendSections(nil, secs)
	want := map[node.PageID]int{1: 4, 2: 3, 3: 5, 4: 6, math.MaxUint64: 11, 10: 12, 11: 13}
	for id, i := range want {
		got, ok, err := FindPage(enc, id)
		if err != nil || !ok {
			t.Fatalf("page %d: ok %v err %v", id, ok, err)
		}
		if !reflect.DeepEqual(got, secs[i]) {
			t.Fatalf("page %d: got %+v, want section %d %+v", id, got, i, secs[i])
		}
	}
	for _, id := range []node.PageID{0, 5, 1 << 40} {
		if _, ok, err := FindPage(enc, id); ok || err != nil {
			t.Fatalf("page %d: ok %v err %v", id, ok, err)
		}
	}
	// A tree-create naming page 6 is not a state of page 6.
	enc = AppendSections(nil, []Section{{Kind: SecTreeCreate, Page: 6, Name: "t"}})
	if _, ok, err := FindPage(enc, 6); ok || err != nil {
		t.Fatalf("tree create found as a page: ok %v err %v", ok, err)
	}
}

func TestFindPageSkipsOtherBodies(t *testing.T) {
	// Page 7's image body is damaged (keys out of order) but its framing is
	// intact: FindPage for page 8 never decodes it; DecodeSections does.
	bad := nodeBytes(0, 0, nil, nil, 2, 1, 'b', 0, 1, 'a', 0)
	enc := []byte{3, byte(SecImage), 7, byte(len(bad))}
	enc = append(enc, bad...)
	good := AppendSections(nil, []Section{
		{Kind: SecDelta, Page: 8, Delta: node.Delta{Kind: node.DeltaDel, Key: []byte("x")}},
		{Kind: SecFree, Page: 8},
	})
	enc = append(enc, good[1:]...) // drop good's count (2); enc's count says 3
	if _, err := DecodeSections(enc); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("DecodeSections: %v", err)
	}
	s, ok, err := FindPage(enc, 8)
	if err != nil || !ok || s.Kind != SecFree || s.Page != 8 {
		t.Fatalf("FindPage(8) = %+v %v %v", s, ok, err)
	}
	if _, _, err := FindPage(enc, 7); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("FindPage(7): %v", err)
	}
	// Damaged framing is reported even when the page is found before it.
	if _, _, err := FindPage(append(bytes.Clone(enc), 0), 8); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("trailing byte: %v", err)
	}
}

func TestDecodeSectionsRejects(t *testing.T) {
	cases := map[string][]byte{
		"empty":              {},
		"count too big":      {2, byte(SecFree), 1, 0},
		"huge count":         {0xff, 0xff, 0xff, 0xff, 0x0f},
		"unknown kind 0":     {1, 0, 1, 0},
		"unknown kind 7":     {1, 7, 1, 0},
		"page 0 image":       {1, byte(SecFree), 0, 0},
		"drop with page":     {1, byte(SecTreeDrop), 1, 0},
		"free with body":     {1, byte(SecFree), 1, 1, 0},
		"body past end":      {1, byte(SecFree), 1, 9},
		"delta no body":      {1, byte(SecDelta), 1, 0},
		"delta image kind":   {1, byte(SecDelta), 1, 2, byte(node.DeltaImage), 0},
		"delete with value":  {1, byte(SecDelta), 1, 3, byte(node.DeltaDel), 0, 'v'},
		"delta key too big":  {1, byte(SecDelta), 1, 2, byte(node.DeltaSet), 5},
		"split without kid":  {1, byte(SecDelta), 1, 3, byte(node.DeltaSplit), 1, 'k'},
		"split kid 0":        {1, byte(SecDelta), 1, 4, byte(node.DeltaSplit), 1, 'k', 0},
		"child kid trailing": {1, byte(SecDelta), 1, 5, byte(node.DeltaChild), 1, 'k', 7, 0},
		"child kid long":     {1, byte(SecDelta), 1, 5, byte(node.DeltaChild), 1, 'k', 0x87, 0x00},
		"unknown delta 7":    {1, byte(SecDelta), 1, 3, 7, 1, 'k'},
		"reserve trailing":   {1, byte(SecIDReserve), 0, 2, 1, 0},
		"reserve empty":      {1, byte(SecIDReserve), 0, 0},
		"reserve long form":  {1, byte(SecIDReserve), 0, 2, 0x81, 0x00},
		"trailing byte":      {0, 0},
		"image bad node":     {1, byte(SecImage), 1, 1, 0},
	}
	for name, b := range cases {
		if s, err := DecodeSections(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: decoded %+v, err %v", name, s, err)
		}
	}
}

// checkSectionsDecode asserts what every decoder promise implies for data:
// an error wrapping ErrCorrupt, or sections that re-encode to data itself
// and that FindPage agrees with.
func checkSectionsDecode(t testing.TB, data []byte) {
	t.Helper()
	secs, err := DecodeSections(data)
	if err != nil {
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("error does not wrap ErrCorrupt: %v", err)
		}
		return
	}
	if enc := AppendSections(nil, secs); !bytes.Equal(enc, data) {
		t.Fatalf("decoded %+v re-encodes to %x, not %x", secs, enc, data)
	}
	if SectionsSize(secs) != len(data) {
		t.Fatalf("SectionsSize %d, want %d", SectionsSize(secs), len(data))
	}
	last := map[node.PageID]Section{}
	for _, s := range secs {
		if s.Kind.pageKind() {
			last[s.Page] = s
		}
		if s.Kind == SecImage {
			if err := CheckNode(s.Node); err != nil {
				t.Fatalf("decoded image of page %d fails CheckNode: %v", s.Page, err)
			}
		}
	}
	// Images keep nothing of the record: decoded from a copy that is then
	// overwritten, they are unchanged.
	scratch := bytes.Clone(data)
	copies, err := DecodeSections(scratch)
	if err != nil {
		t.Fatalf("a copy of the record does not decode: %v", err)
	}
	for i := range scratch {
		scratch[i] ^= 0xa5
	}
	for i, s := range copies {
		if s.Kind == SecImage {
			if err := nodeDiff(s.Node, secs[i].Node); err != nil {
				t.Fatalf("image %d changed when its record was overwritten: %v", i, err)
			}
		}
	}
	for id, want := range last {
		got, ok, err := FindPage(data, id)
		if err != nil || !ok || !reflect.DeepEqual(got, want) {
			t.Fatalf("FindPage(%d) = %+v %v %v, want %+v", id, got, ok, err, want)
		}
	}
}

func smallRecord() []byte {
	return AppendSections(nil, []Section{
		{Kind: SecTreeCreate, Page: 1, Name: "t"},
		{Kind: SecImage, Page: 1, Node: node.NewLeaf([]byte{}, []byte{0xff}, 2, bs("", "a", "b"), bs("x", "", "yy"))},
		{Kind: SecImage, Page: 3, Node: node.NewIndex(1, []byte("a"), nil, 0, bs("a", "c", "e"), []node.PageID{4, 5, 200}, []bool{false, true, false})},
		{Kind: SecDelta, Page: 1, Delta: node.Delta{Kind: node.DeltaSet, Key: []byte("c"), Val: []byte("z")}},
		{Kind: SecDelta, Page: 3, Delta: node.Delta{Kind: node.DeltaDel, Key: []byte("q")}},
		{Kind: SecFree, Page: 300},
		{Kind: SecTreeDrop, Name: "u"},
		{Kind: SecIDReserve, Value: 1000},
	})
}

func TestSectionsDamage(t *testing.T) {
	data := smallRecord()
	for n := 0; n < len(data); n++ {
		checkSectionsDecode(t, data[:n])
		if _, err := DecodeSections(data[:n]); err == nil {
			// The count and length prefixes catch every truncation.
			t.Fatalf("truncated to %d bytes: no error", n)
		}
	}
	// Every byte replaced by every other value.
	for i := range data {
		for v := range 256 {
			if byte(v) == data[i] {
				continue
			}
			c := bytes.Clone(data)
			c[i] = byte(v)
			checkSectionsDecode(t, c)
		}
	}
}

func TestNodeDamage(t *testing.T) {
	for _, name := range []string{"leaf", "index-marked", "index-mark-8", "frozen-leaf"} {
		data := EncodeNode(nil, sampleNodes()[name])
		check := func(b []byte) {
			n, err := DecodeNode(b)
			if err != nil {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("%s: error does not wrap ErrCorrupt: %v", name, err)
				}
				return
			}
			if !bytes.Equal(EncodeNode(nil, n), b) {
				t.Fatalf("%s: %x decodes to %+v which re-encodes differently", name, b, n)
			}
		}
		for n := 0; n < len(data); n++ {
			if _, err := DecodeNode(data[:n]); err == nil {
				t.Fatalf("%s truncated to %d bytes: no error", name, n)
			}
		}
		for i := range data {
			for v := range 256 {
				c := bytes.Clone(data)
				c[i] = byte(v)
				check(c)
			}
		}
	}
}

// randomNode returns a random well-formed node.
func randomNode(r *rand.Rand) *node.Node {
	lo := []byte{}
	if r.IntN(2) == 0 {
		lo = []byte{byte(r.IntN(4))}
	}
	var hi []byte
	if r.IntN(2) == 0 {
		hi = []byte{0xf0, byte(r.IntN(256))}
	}
	keys := [][]byte{}
	for range r.IntN(40) {
		k := append(bytes.Clone(lo), byte(4+r.IntN(200)), byte(r.IntN(256)))
		keys = append(keys, k)
	}
	slicesSortDedup(&keys)
	if len(keys) == 0 {
		keys = nil
	}
	if r.IntN(2) == 0 {
		var vals [][]byte // nil with no keys, as decoded
		if keys != nil {
			vals = make([][]byte, len(keys))
		}
		for i := range vals {
			vals[i] = bytes.Repeat([]byte{byte(i)}, r.IntN(300))
		}
		n := node.NewLeaf(lo, hi, node.PageID(r.Uint64N(1<<20)), keys, vals)
		if r.IntN(4) == 0 {
			n = n.WithFrozen()
		}
		return n
	}
	keys = append([][]byte{lo}, keys...)
	kids := make([]node.PageID, len(keys))
	var mark []bool
	for i := range kids {
		kids[i] = node.PageID(1 + r.Uint64N(math.MaxUint64-1))
	}
	if r.IntN(2) == 0 {
		mark = make([]bool, len(keys))
		for i := range mark {
			mark[i] = r.IntN(5) == 0
		}
	}
	n := node.NewIndex(uint8(1+r.IntN(255)), lo, hi, node.PageID(r.Uint64()), keys, kids, mark)
	if r.IntN(4) == 0 {
		n = n.WithFrozen()
	}
	return n
}

func slicesSortDedup(keys *[][]byte) {
	ks := *keys
	for i := 1; i < len(ks); i++ {
		for j := i; j > 0 && bytes.Compare(ks[j-1], ks[j]) > 0; j-- {
			ks[j-1], ks[j] = ks[j], ks[j-1]
		}
	}
	out := ks[:0]
	for i, k := range ks {
		if i == 0 || !bytes.Equal(k, out[len(out)-1]) {
			out = append(out, k)
		}
	}
	*keys = out
}

func TestRandomRecords(t *testing.T) {
	r := rand.New(rand.NewPCG(testutil.Seed(t), 0))
	for range 300 {
		var secs []Section
		for range r.IntN(6) {
			page := node.PageID(1 + r.Uint64N(5))
			switch SectionKind(1 + r.IntN(6)) {
			case SecImage:
				secs = append(secs, Section{Kind: SecImage, Page: page, Node: randomNode(r)})
			case SecDelta:
				d := node.Delta{Kind: node.DeltaDel, Key: []byte{byte(r.IntN(256))}}
				switch r.IntN(4) {
				case 0, 1:
					d = node.Delta{Kind: node.DeltaSet, Key: d.Key, Val: bytes.Repeat([]byte("v"), r.IntN(200))}
				case 2:
					d = node.Delta{Kind: node.DeltaSplit + node.DeltaKind(r.IntN(2)), Key: d.Key, Kid: node.PageID(1 + r.Uint64N(1<<40))}
				}
				secs = append(secs, Section{Kind: SecDelta, Page: page, Delta: d})
			case SecFree:
				secs = append(secs, Section{Kind: SecFree, Page: page})
			case SecTreeCreate:
				secs = append(secs, Section{Kind: SecTreeCreate, Page: page, Name: fmt.Sprint(r.IntN(1000))})
			case SecTreeDrop:
				secs = append(secs, Section{Kind: SecTreeDrop, Name: fmt.Sprint(r.IntN(1000))})
			case SecIDReserve:
				secs = append(secs, Section{Kind: SecIDReserve, Value: r.Uint64()})
			}
		}
		enc := AppendSections(nil, secs)
		if len(enc) != SectionsSize(secs) {
			t.Fatalf("SectionsSize %d, encoded %d", SectionsSize(secs), len(enc))
		}
		got, err := DecodeSections(enc)
		if err != nil {
			t.Fatal(err)
		}
		for i := range secs {
			if !reflect.DeepEqual(got[i], secs[i]) {
				t.Fatalf("section %d: decoded %#v\nwant    %#v", i, got[i].Node, secs[i].Node)
			}
		}
		checkSectionsDecode(t, enc)
	}
}

func FuzzDecodeSections(f *testing.F) {
	f.Add(smallRecord())
	f.Add(AppendSections(nil, nil))
	f.Add(AppendSections(nil, []Section{{Kind: SecImage, Page: 1, Node: sampleNodes()["index-many"]}}))
	f.Add(AppendSections(nil, []Section{{Kind: SecImage, Page: 1, Node: sampleNodes()["leaf"]}}))
	f.Add(AppendSections(nil, []Section{{Kind: SecImage, Page: 1, Node: sampleNodes()["index-marked"], Varint: true}}))
	f.Add([]byte{1, byte(SecDelta), 1, 2, byte(node.DeltaSet), 0})
	f.Add(AppendSections(nil, []Section{{Kind: SecDelta, Page: 2, Delta: node.Delta{Kind: node.DeltaSplit, Key: []byte("s"), Kid: 9}}}))
	f.Add(AppendSections(nil, []Section{{Kind: SecDelta, Page: 2, Delta: node.Delta{Kind: node.DeltaChild, Key: []byte("c"), Kid: 1 << 40}}}))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add(AppendSections(nil, txSections()))
	f.Fuzz(func(t *testing.T, data []byte) {
		// Whatever decodes re-encodes to the same bytes (the encoding is
		// canonical), and so decodes equal again.
		checkSectionsDecode(t, data)
		for _, id := range []node.PageID{0, 1, 2, 3} {
			s, ok, err := FindPage(data, id) // must not panic
			a := testutil.NewDirtyAlloc(t)
			s2, ok2, err2 := FindPageIn(a, data, id)
			if ok != ok2 || (err == nil) != (err2 == nil) {
				t.Fatalf("page %d: FindPage %v %v, FindPageIn %v %v", id, ok, err, ok2, err2)
			}
			if s2.Node != nil {
				if !bytes.Equal(s2.Node.Bytes(), s.Node.Bytes()) {
					t.Fatalf("page %d: the image decoded into junk memory differs", id)
				}
				if sl := s2.Node.Slot(); sl != nil {
					a.Put(sl)
				}
			}
			if a.Outstanding() != 0 {
				t.Fatalf("page %d: an allocator buffer was kept (error %v)", id, err2)
			}
		}
	})
}

func FuzzDecodeNode(f *testing.F) {
	for _, name := range []string{"leaf", "index-marked", "index-mark-8", "frozen-leaf", "empty-root-leaf", "index-frozen"} {
		f.Add(EncodeNode(nil, sampleNodes()[name]))
	}
	f.Add(nodeBytes(nodeFlagMark, 1, nil, nil, 2, 0, 1, 1, 'a', 2, 0x02))
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := DecodeNode(data)
		// Decoding into an Allocator's junk-filled buffer: the same
		// verdict, the same node bytes (the builder writes every byte),
		// and the buffer given back on a rejection.
		a := testutil.NewDirtyAlloc(t)
		m, err2 := decodeNodeIn(a, data)
		if (err == nil) != (err2 == nil) {
			t.Fatalf("heap: %v; allocator: %v", err, err2)
		}
		if err2 != nil && a.Outstanding() != 0 {
			t.Fatal("a rejected node kept its allocator buffer")
		}
		if err2 == nil {
			if !bytes.Equal(m.Bytes(), n.Bytes()) {
				t.Fatalf("the node decoded into junk memory differs:\n%x\n%x", m.Bytes(), n.Bytes())
			}
			if sl := m.Slot(); sl != nil {
				a.Put(sl)
			} else if n.IsLeaf() {
				t.Fatal("a leaf was not decoded into the allocator's buffer")
			}
		}
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error does not wrap ErrCorrupt: %v", err)
			}
			return
		}
		if err := CheckNode(n); err != nil {
			t.Fatalf("decoded node fails CheckNode: %v", err)
		}
		enc := EncodeNode(nil, n)
		if !bytes.Equal(enc, data) {
			t.Fatalf("%+v re-encodes to %x, not %x", n, enc, data)
		}
		if NodeSize(n) != len(enc) {
			t.Fatalf("NodeSize %d, encoded %d bytes", NodeSize(n), len(enc))
		}
		again, err := DecodeNode(enc)
		if err != nil || !reflect.DeepEqual(again, n) {
			t.Fatalf("round trip: %v %+v vs %+v", err, again, n)
		}
		// The node keeps nothing of its input: overwriting the input
		// after decoding changes nothing.
		scratch := bytes.Clone(data)
		c, err := DecodeNode(scratch)
		if err != nil {
			t.Fatalf("a copy does not decode: %v", err)
		}
		for i := range scratch {
			scratch[i] ^= 0xff
		}
		if err := nodeDiff(c, n); err != nil {
			t.Fatalf("overwriting the input changed the node: %v", err)
		}
	})
}

// FuzzCheckNode: CheckNode (node.FromBytes) and DecodeNode (node.Builder)
// agree on what a well-formed node is. Whatever node buffer FromBytes
// accepts passes CheckNode, encodes to NodeSize bytes, and decodes back to
// the same buffer; whatever it rejects wraps node.ErrCorrupt. (Together
// with FuzzDecodeNode: the two representations are in bijection.)
func FuzzCheckNode(f *testing.F) {
	// Small seeds only: the fuzzer's minimization of an interesting input
	// is quadratic in its length.
	for _, name := range []string{"leaf", "index-marked", "index-mark-8", "frozen-leaf", "empty-root-leaf", "empty-bounded", "index-frozen", "index-ff-keys"} {
		f.Add(bytes.Clone(sampleNodes()[name].Bytes()))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		buf := bytes.Clone(data) // FromBytes aliases its input
		n, err := node.FromBytes(buf)
		if err != nil {
			if !errors.Is(err, node.ErrCorrupt) {
				t.Fatalf("error does not wrap node.ErrCorrupt: %v", err)
			}
			return
		}
		if err := CheckNode(n); err != nil {
			t.Fatalf("FromBytes accepts what CheckNode rejects: %v", err)
		}
		enc := EncodeNode(nil, n)
		if NodeSize(n) != len(enc) {
			t.Fatalf("NodeSize %d, encoded %d bytes", NodeSize(n), len(enc))
		}
		got, err := DecodeNode(enc)
		if err != nil {
			t.Fatalf("FromBytes accepts %x, its encoding %x does not decode: %v", data, enc, err)
		}
		if err := nodeDiff(got, n); err != nil {
			t.Fatalf("%x: %v", data, err)
		}
		if !bytes.Equal(got.Bytes(), data) {
			t.Fatalf("%x decodes back to %x", data, got.Bytes())
		}
	})
}

func benchLeaf() *node.Node {
	keys := make([][]byte, 64)
	vals := make([][]byte, 64)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "user:%012d", i)
		vals[i] = bytes.Repeat([]byte{byte(i)}, 100)
	}
	return node.NewLeaf([]byte{}, nil, 0, keys, vals)
}

func BenchmarkEncodeLeaf(b *testing.B) {
	n := benchLeaf()
	buf := make([]byte, 0, NodeSize(n))
	b.SetBytes(int64(NodeSize(n)))
	b.ReportAllocs()
	for range b.N {
		buf = EncodeNode(buf[:0], n)
	}
}

func BenchmarkDecodeLeaf(b *testing.B) {
	enc := EncodeNode(nil, benchLeaf())
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for range b.N {
		if _, err := DecodeNode(enc); err != nil {
			b.Fatal(err)
		}
	}
}

func benchLeafV(nent, vs int) *node.Node {
	keys := make([][]byte, nent)
	vals := make([][]byte, nent)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "user:%012d", i)
		vals[i] = bytes.Repeat([]byte{byte(i)}, vs)
	}
	return node.NewLeaf([]byte{}, nil, 0, keys, vals)
}

// BenchmarkImageForms: a page-in of an image in either form (FindPage:
// the record parsed, the node built), for small and large entries.
func BenchmarkImageForms(b *testing.B) {
	for _, c := range []struct{ n, vs int }{{64, 100}, {20, 1024}} {
		n := benchLeafV(c.n, c.vs)
		for _, varint := range []bool{true, false} {
			enc := AppendSections(nil, []Section{{Kind: SecImage, Page: 7, Node: n, Varint: varint}})
			b.Run(fmt.Sprintf("v%d/varint=%v/size=%d", c.vs, varint, len(enc)), func(b *testing.B) {
				b.SetBytes(int64(len(enc)))
				b.ReportAllocs()
				for range b.N {
					if _, _, err := FindPage(enc, 7); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// TestImageForms: writers put images in the flat form (0x80, then the
// node's own buffer); records holding the varint form (databases written
// before it) still decode, say so (Section.Varint) and re-encode to their
// own bytes; a flat image that node.FromBytes rejects is corruption.
func TestImageForms(t *testing.T) {
	for name, n := range sampleNodes() {
		t.Run(name, func(t *testing.T) {
			flat := AppendSections(nil, []Section{{Kind: SecImage, Page: 7, Node: n}})
			if !bytes.Contains(flat, append([]byte{imageFlat}, n.Bytes()...)) {
				t.Fatalf("the record %x does not hold 0x80 and the node's buffer", flat)
			}
			varint := AppendSections(nil, []Section{{Kind: SecImage, Page: 7, Node: n, Varint: true}})
			if !bytes.Contains(varint, EncodeNode(nil, n)) {
				t.Fatalf("the varint record %x does not hold EncodeNode's bytes", varint)
			}
			for _, c := range []struct {
				name   string
				rec    []byte
				varint bool
			}{{"flat", flat, false}, {"varint", varint, true}} {
				secs, err := DecodeSections(c.rec)
				if err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				if len(secs) != 1 || secs[0].Varint != c.varint {
					t.Fatalf("%s: decoded %+v, want one image with Varint %v", c.name, secs, c.varint)
				}
				if err := nodeDiff(secs[0].Node, n); err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				if !bytes.Equal(secs[0].Node.Bytes(), n.Bytes()) {
					t.Fatalf("%s: the decoded node's buffer differs", c.name)
				}
				if got := AppendSections(nil, secs); !bytes.Equal(got, c.rec) {
					t.Fatalf("%s: re-encodes to %x, not %x", c.name, got, c.rec)
				}
				checkSectionsDecode(t, c.rec)
			}
		})
	}
	// A flat image whose buffer is not a node: the layout version byte
	// (the first of the buffer) is wrong.
	n := sampleNodes()["leaf"]
	rec := AppendSections(nil, []Section{{Kind: SecImage, Page: 7, Node: n}})
	i := bytes.Index(rec, append([]byte{imageFlat}, n.Bytes()...))
	bad := bytes.Clone(rec)
	bad[i+1] ^= 0xff
	if _, err := DecodeSections(bad); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("a flat image with a bad version decodes: %v", err)
	}
	if _, _, err := FindPage(bad, 7); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("FindPage of a bad flat image: %v", err)
	}
}

// txSections is a transaction's redo and end sections.
func txSections() []Section {
	return []Section{
		{Kind: SecTxRedo, Name: "accounts", Value: 4096, Delta: node.Delta{Kind: node.DeltaBatch, Ops: []node.Delta{
			{Kind: node.DeltaSet, Key: []byte("a"), Val: []byte("1")},
			{Kind: node.DeltaDel, Key: []byte("b")},
			{Kind: node.DeltaSet, Key: []byte("c"), Val: []byte{}},
		}}},
		{Kind: SecTxRedo, Name: "", Delta: node.Delta{Kind: node.DeltaBatch, Ops: []node.Delta{
			{Kind: node.DeltaSet, Key: []byte{}, Val: []byte("x")},
		}}},
		{Kind: SecTxEnd, Value: 1 << 40},
	}
}

func TestTxSectionsRoundTrip(t *testing.T) {
	secs := txSections()
	enc := AppendSections(nil, secs)
	if len(enc) != SectionsSize(secs) {
		t.Fatalf("SectionsSize %d, encoded %d bytes", SectionsSize(secs), len(enc))
	}
	got, err := DecodeSections(enc)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(secs) {
		t.Fatalf("decoded %d sections, want %d", len(got), len(secs))
	}
	for i := range secs {
		if got[i].Kind != secs[i].Kind || got[i].Name != secs[i].Name || got[i].Value != secs[i].Value || len(got[i].Delta.Ops) != len(secs[i].Delta.Ops) {
			t.Fatalf("section %d: got %+v, want %+v", i, got[i], secs[i])
		}
		for j, op := range secs[i].Delta.Ops {
			g := got[i].Delta.Ops[j]
			if g.Kind != op.Kind || !bytes.Equal(g.Key, op.Key) || !bytes.Equal(g.Val, op.Val) {
				t.Fatalf("section %d op %d: got %+v, want %+v", i, j, g, op)
			}
		}
	}
	checkSectionsDecode(t, enc)
	// Every cut of the record fails to decode.
	for n := 0; n < len(enc); n++ {
		if _, err := DecodeSections(enc[:n]); err == nil {
			t.Fatalf("a record cut to %d of %d bytes decoded", n, len(enc))
		}
	}
	// Ops out of order are corruption.
	bad := []Section{{Kind: SecTxRedo, Name: "t", Delta: node.Delta{Kind: node.DeltaBatch, Ops: []node.Delta{
		{Kind: node.DeltaDel, Key: []byte("b")}, {Kind: node.DeltaDel, Key: []byte("a")},
	}}}}
	if _, err := DecodeSections(AppendSections(nil, bad)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("redo ops out of order: %v, want ErrCorrupt", err)
	}
}
