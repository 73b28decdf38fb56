package codec

import (
	"bytes"
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
			// DeepEqual also compares nil against empty slices and the
			// cached size (MemBytes).
			if !reflect.DeepEqual(got, n) {
				t.Fatalf("decoded %+v\nwant    %+v", got, n)
			}
			if got.MemBytes() != n.MemBytes() {
				t.Fatalf("MemBytes %d, want %d", got.MemBytes(), n.MemBytes())
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
	if got.Lo == nil || got.Hi != nil || got.Mark != nil || got.Kids != nil {
		t.Fatalf("lo %v hi %v mark %v kids %v", got.Lo == nil, got.Hi == nil, got.Mark, got.Kids)
	}
	// Values are never nil after decoding: an empty value is present.
	for i, v := range got.Vals {
		if v == nil || len(v) != 0 {
			t.Fatalf("value %d = %#v, want non-nil empty", i, v)
		}
	}
	// A Mark of all false is no mark.
	ix := &node.Node{Level: 1, Lo: []byte{}, Keys: bs(""), Kids: []node.PageID{1}, Mark: []bool{false}}
	got, err = DecodeNode(EncodeNode(nil, ix))
	if err != nil || got.Mark != nil {
		t.Fatalf("all-false mark decoded as %v, %v", got, err)
	}
}

func TestDecodeNodeAliasesCapped(t *testing.T) {
	n := node.NewLeaf([]byte("a"), []byte("z"), 0, bs("b", "c"), bs("1", "2"))
	enc := EncodeNode(nil, n)
	orig := bytes.Clone(enc)
	got, err := DecodeNode(enc)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range [][]byte{got.Lo, got.Hi, got.Keys[0], got.Keys[1], got.Vals[0], got.Vals[1]} {
		if cap(p) != len(p) {
			t.Fatalf("slice %q has cap %d", p, cap(p))
		}
		_ = append(p, 'X', 'X', 'X')
	}
	if !bytes.Equal(enc, orig) {
		t.Fatal("append through a decoded slice wrote into the input")
	}
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

func TestDecodeNodeRejects(t *testing.T) {
	cases := map[string][]byte{
		"empty":               {},
		"unknown flag":        nodeBytes(0x08, 0, nil, nil, 0),
		"leaf with mark flag": nodeBytes(nodeFlagMark, 0, nil, nil, 0),
		"trailing byte":       nodeBytes(0, 0, nil, nil, 0, 0),
		"count beyond input":  nodeBytes(0, 0, nil, nil, 100, 0, 0),
		"huge count":          append([]byte{0, 0, 0, 0}, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01),
		"non-minimal varint":  {0, 0, 0x80, 0x00, 0, 0},
		"varint overflow":     {0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0, 0},
		"key length past end": nodeBytes(0, 0, nil, nil, 1, 5, 'a', 0),
		"keys out of order":   nodeBytes(0, 0, nil, nil, 2, 1, 'b', 0, 1, 'a', 0),
		"duplicate keys":      nodeBytes(0, 0, nil, nil, 2, 1, 'a', 0, 1, 'a', 0),
		"key below lo":        nodeBytes(0, 0, []byte("b"), nil, 1, 1, 'a', 0),
		"key at hi":           nodeBytes(nodeFlagHi, 0, nil, []byte("b"), 1, 1, 'b', 0),
		"key above hi":        nodeBytes(nodeFlagHi, 0, nil, []byte("b"), 1, 1, 'c', 0),
		"index no entries":    nodeBytes(0, 1, nil, nil, 0),
		"index kid 0":         nodeBytes(0, 1, nil, nil, 1, 0, 0),
		"index mark none":     nodeBytes(nodeFlagMark, 1, nil, nil, 2, 0, 1, 1, 'a', 2, 0x00),
		"index mark padding":  nodeBytes(nodeFlagMark, 1, nil, nil, 2, 0, 1, 1, 'a', 2, 0x06),
		"index mark missing":  nodeBytes(nodeFlagMark, 1, nil, nil, 2, 0, 1, 1, 'a', 2),
		"hi truncated":        {nodeFlagHi, 0, 0, 0, 3, 'a'},
	}
	for name, b := range cases {
		if n, err := DecodeNode(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: decoded %+v, err %v", name, n, err)
		}
	}
	// Sanity: the hand encoder agrees with EncodeNode on a good node.
	good := nodeBytes(nodeFlagMark, 1, nil, nil, 2, 0, 1, 1, 'a', 2, 0x02)
	if _, err := DecodeNode(good); err != nil {
		t.Fatalf("good node: %v", err)
	}
}

func TestCheckNode(t *testing.T) {
	bad := map[string]*node.Node{
		"leaf vals short": {Lo: []byte{}, Keys: bs("a"), Vals: nil},
		"leaf with kids":  {Lo: []byte{}, Keys: bs("a"), Vals: bs("1"), Kids: []node.PageID{1}},
		"nil lo":          {Keys: nil},
		"index kids":      {Level: 1, Lo: []byte{}, Keys: bs("", "a"), Kids: []node.PageID{1}},
		"index marks":     {Level: 1, Lo: []byte{}, Keys: bs(""), Kids: []node.PageID{1}, Mark: []bool{true, false}},
		"index vals":      {Level: 1, Lo: []byte{}, Keys: bs(""), Kids: []node.PageID{1}, Vals: bs("")},
	}
	for name, n := range bad {
		if err := CheckNode(n); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: err %v", name, err)
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
	for _, p := range [][]byte{got[0].Delta.Key, got[0].Delta.Val, got[1].Node.Keys[0], got[1].Node.Vals[0], got[1].Node.Lo} {
		if cap(p) != len(p) {
			t.Fatalf("%q: cap %d", p, cap(p))
		}
		_ = append(p, 'X')
	}
	if !bytes.Equal(enc, orig) {
		t.Fatal("append through a decoded slice wrote into the input")
	}
}

func TestFindPage(t *testing.T) {
	secs := sampleSections()
	enc := AppendSections(nil, secs)
	want := map[node.PageID]int{1: 4, 2: 3, 3: 5, 4: 6, math.MaxUint64: 11}
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
		"empty":             {},
		"count too big":     {2, byte(SecFree), 1, 0},
		"huge count":        {0xff, 0xff, 0xff, 0xff, 0x0f},
		"unknown kind 0":    {1, 0, 1, 0},
		"unknown kind 7":    {1, 7, 1, 0},
		"page 0 image":      {1, byte(SecFree), 0, 0},
		"drop with page":    {1, byte(SecTreeDrop), 1, 0},
		"free with body":    {1, byte(SecFree), 1, 1, 0},
		"body past end":     {1, byte(SecFree), 1, 9},
		"delta no body":     {1, byte(SecDelta), 1, 0},
		"delta image kind":  {1, byte(SecDelta), 1, 2, byte(node.DeltaImage), 0},
		"delete with value": {1, byte(SecDelta), 1, 3, byte(node.DeltaDel), 0, 'v'},
		"delta key too big": {1, byte(SecDelta), 1, 2, byte(node.DeltaSet), 5},
		"reserve trailing":  {1, byte(SecIDReserve), 0, 2, 1, 0},
		"reserve empty":     {1, byte(SecIDReserve), 0, 0},
		"reserve long form": {1, byte(SecIDReserve), 0, 2, 0x81, 0x00},
		"trailing byte":     {0, 0},
		"image bad node":    {1, byte(SecImage), 1, 1, 0},
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
	return node.NewIndex(uint8(1+r.IntN(255)), lo, hi, node.PageID(r.Uint64()), keys, kids, mark)
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
				if r.IntN(2) == 0 {
					d = node.Delta{Kind: node.DeltaSet, Key: d.Key, Val: bytes.Repeat([]byte("v"), r.IntN(200))}
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
	f.Add([]byte{1, byte(SecDelta), 1, 2, byte(node.DeltaSet), 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, data []byte) {
		// Whatever decodes re-encodes to the same bytes (the encoding is
		// canonical), and so decodes equal again.
		checkSectionsDecode(t, data)
		for _, id := range []node.PageID{0, 1, 2, 3} {
			_, _, _ = FindPage(data, id) // must not panic
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
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error does not wrap ErrCorrupt: %v", err)
			}
			return
		}
		enc := EncodeNode(nil, n)
		if !bytes.Equal(enc, data) {
			t.Fatalf("%+v re-encodes to %x, not %x", n, enc, data)
		}
		again, err := DecodeNode(enc)
		if err != nil || !reflect.DeepEqual(again, n) {
			t.Fatalf("round trip: %v %+v vs %+v", err, again, n)
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
