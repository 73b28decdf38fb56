package codec

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/sledgo/sled/internal/node"
)

func batchDelta() node.Delta {
	return node.Delta{Kind: node.DeltaBatch, Ops: []node.Delta{
		{Kind: node.DeltaSet, Key: []byte{}, Val: []byte{}},
		{Kind: node.DeltaDel, Key: []byte("b")},
		{Kind: node.DeltaSet, Key: []byte("c"), Val: []byte("value of c")},
		{Kind: node.DeltaSet, Key: []byte("d\x00"), Val: bytes.Repeat([]byte{7}, 300)},
	}}
}

func TestBatchDeltaRoundTrip(t *testing.T) {
	secs := []Section{
		{Kind: SecDelta, Page: 5, Delta: batchDelta()},
		{Kind: SecDelta, Page: 6, Delta: node.Delta{Kind: node.DeltaBatch, Ops: []node.Delta{{Kind: node.DeltaDel, Key: []byte("x")}}}},
	}
	enc := AppendSections(nil, secs)
	if SectionsSize(secs) != len(enc) {
		t.Fatalf("SectionsSize = %d, encoded %d bytes", SectionsSize(secs), len(enc))
	}
	got, err := DecodeSections(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, secs) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, secs)
	}
	sec, ok, err := FindPage(enc, 5)
	if err != nil || !ok || !reflect.DeepEqual(sec.Delta, secs[0].Delta) {
		t.Fatalf("FindPage: %+v %v %v", sec, ok, err)
	}
	// Applying the decoded batch equals applying its ops one by one.
	leaf := node.NewLeaf([]byte{}, nil, 0, [][]byte{[]byte("a"), []byte("b"), []byte("c")}, [][]byte{[]byte("1"), []byte("2"), []byte("3")})
	one := leaf
	for _, op := range secs[0].Delta.Ops {
		one = op.Apply(one)
	}
	batch := got[0].Delta.Apply(leaf)
	if !reflect.DeepEqual(batch.Keys(), one.Keys()) || !reflect.DeepEqual(batch.Vals(), one.Vals()) || batch.MemBytes() != one.MemBytes() {
		t.Fatalf("batch apply %q/%q, one by one %q/%q", batch.Keys(), batch.Vals(), one.Keys(), one.Vals())
	}
	sameNode(t, "batch apply vs one by one", batch, one)
}

func TestBatchDeltaRejectsBadBodies(t *testing.T) {
	good := AppendSections(nil, []Section{{Kind: SecDelta, Page: 5, Delta: batchDelta()}})
	if _, err := DecodeSections(good); err != nil {
		t.Fatal(err)
	}
	unsorted := node.Delta{Kind: node.DeltaBatch, Ops: []node.Delta{{Kind: node.DeltaDel, Key: []byte("b")}, {Kind: node.DeltaDel, Key: []byte("a")}}}
	dup := node.Delta{Kind: node.DeltaBatch, Ops: []node.Delta{{Kind: node.DeltaDel, Key: []byte("a")}, {Kind: node.DeltaDel, Key: []byte("a")}}}
	nested := node.Delta{Kind: node.DeltaBatch, Ops: []node.Delta{{Kind: node.DeltaBatch, Key: []byte("a")}}}
	for name, d := range map[string]node.Delta{"unsorted": unsorted, "duplicate": dup, "nested": nested, "empty": {Kind: node.DeltaBatch}} {
		enc := AppendSections(nil, []Section{{Kind: SecDelta, Page: 5, Delta: d}})
		if _, err := DecodeSections(enc); err == nil {
			t.Errorf("%s batch delta decoded without error", name)
		}
	}
	// Every truncation of the body is an error, never a panic.
	for cut := 1; cut < len(good); cut++ {
		if _, err := DecodeSections(good[:cut]); err == nil {
			t.Errorf("record cut to %d of %d bytes decoded", cut, len(good))
		}
	}
}
